"""What a solver returns (``Fit``), what it records on the way (``Recorder``: the history,
early stopping, the callbacks), and what Ctrl-C during training raises: shared by
``logreg.solvers`` and ``logreg.solvers.trust_region`` (which solvers calls: the arrow points one way)."""

import math
import time
from array import array
from dataclasses import dataclass, field

import numpy as np

HISTORY_KEYS = ("iteration", "cost", "gradient_norm", "step", "elapsed")
VALIDATION_KEY = "validation_cost"


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; carries the last good parameters (``fit``)."""

    def __init__(self, fit):
        super().__init__("training interrupted")
        self.fit = fit


@dataclass
class Fit:
    """What a solver returns: parameters, the cost at each iteration, and how it ended."""

    w: object
    b: object
    costs: list = field(default_factory=list)
    iterations: int = None  # when it differs from len(costs), as for L-BFGS (costs[0]: start)
    history: dict = None  # Recorder.history(): one row per entry of costs
    converged: bool = True  # False: stopped at num_iterations short of the tolerance
    stopped_by: str = None  # "early_stopping", "callback" or "divergence" (warned, the lowest
    # cost's parameters kept) when one of them ended the fit
    best_iteration: int = None  # early stopping: the row whose parameters were kept
    best_validation_cost: float = None

    @property
    def n_iter(self):
        """Iterations run: len(costs) for gradient descent, the accepted iterations else."""
        return len(self.costs) if self.iterations is None else self.iterations


class Validation:
    """The held-out part of early stopping, in the notes' layout: X (n_x, m_val), Y, weights.

    ``cost(w, b)`` is the notes' cost on it, J = (1/m) Σ L(wᵀx + b, y), without the l2 term
    (the validation log loss), as a Python float.
    """

    def __init__(self, X, Y, sample_weight=None):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight

    def cost(self, w, b):
        """The validation log loss at (w, b): the notes' Z = wᵀX + b, then J from Z."""
        from logreg.core import neuron

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # Z = wᵀX + b on the held-out examples
            Z = w.T @ self.X + b
            return float(neuron.cost_from_z(Z, self.Y, self.sample_weight))


class Recorder:
    """The per-iteration record of a fit, early stopping and the callbacks' say in stopping.

    A solver calls ``record(cost, gradient_norm, step, state)`` once per entry of its cost
    history (row i: the parameters θᵢ at which cost i was measured, the norm of ∇J there, a
    step ‖Δθ‖ (each solver's docstring says which) and the seconds since the solver began) and
    stops when it returns True. ``state``
    is the solver's own description of θᵢ; ``watch(cost_of_state, parameters)`` tells the
    recorder how to find the validation cost and (w, b) from it.

    Parameters
    ----------
    observers : callables ``observer(row, parameters)`` → truthy to stop; ``row`` is the
        history row as a dict, ``parameters()`` gives (w, b) at it.
    validation : a ``Validation``, or None (no early stopping)
    patience : early stopping's ``n_iter_no_change``
    threshold : an iteration improves when its validation cost is below the best so far by
        more than this
    """

    def __init__(self, observers=(), validation=None, patience=10, threshold=0.0):
        self.observers = [observer for observer in observers if observer is not None]
        self.validation = validation
        self.patience, self.threshold = int(patience), float(threshold)
        # 8 bytes an entry (array of C doubles), not a list of Python floats (32)
        self.columns = {key: array("d") for key in HISTORY_KEYS[1:]}
        if validation is not None:
            self.columns[VALIDATION_KEY] = array("d")
        self.best = (math.inf, None, None)  # (validation cost, row, state)
        self.without_improvement = 0
        self.stopped_by = None
        self._cost_of_state = self._parameters_of_state = None
        self.started = time.perf_counter()

    def watch(self, cost_of_state, parameters_of_state):
        """How to get the validation cost and (w, b) from a solver's state."""
        self._cost_of_state, self._parameters_of_state = cost_of_state, parameters_of_state

    def record(self, cost, gradient_norm, step, state=None):
        """Add row i; True when early stopping or a callback says to stop after it."""
        columns = self.columns
        columns["cost"].append(cost)
        columns["gradient_norm"].append(gradient_norm)
        columns["step"].append(step)
        columns["elapsed"].append(time.perf_counter() - self.started)
        stop = False
        if self.validation is not None:
            stop = self._validate(state)
        if self.observers:
            row = self.row(-1)
            for observer in self.observers:
                if observer(row, lambda: self._parameters_of_state(state)):
                    self.stopped_by = self.stopped_by or "callback"
                    stop = True
        return stop

    def _validate(self, state):
        """Early stopping: the validation cost at θᵢ, the best seen, and patience."""
        if self._cost_of_state is not None:
            value = self._cost_of_state(state)
        else:
            value = self.validation.cost(*self._parameters_of_state(state))
        self.columns[VALIDATION_KEY].append(value)
        row = len(self.columns["cost"]) - 1
        if value < self.best[0] - self.threshold:
            self.without_improvement = 0
        else:
            self.without_improvement += 1
        if value < self.best[0]:  # the best parameters seen, improvement or not
            self.best = (value, row, state)
        if self.without_improvement >= self.patience:
            self.stopped_by = "early_stopping"
            return True
        return False

    def row(self, i):
        """History row i as a dict of floats (and the iteration as an int)."""
        i = i % len(self.columns["cost"])
        row = {"iteration": i}
        row.update((key, float(values[i])) for key, values in self.columns.items())
        return row

    @property
    def best_state(self):
        """The state with the lowest validation cost (None without early stopping)."""
        return self.best[2]

    def history(self):
        """The columns as equal-length 1-D arrays: "iteration" (row i: i, int64) first, the
        others float64."""
        n = len(self.columns["cost"])
        history = {"iteration": np.arange(n, dtype=np.int64)}
        # views of the recorded doubles, no copy (nothing is recorded after this)
        history.update((key, np.frombuffer(values, dtype=np.float64))
                       for key, values in self.columns.items())
        return history

    def finish(self, fit, parameters_of_state=None):
        """``fit`` with the history, and, under early stopping, the best parameters seen."""
        fit.history = self.history()
        fit.stopped_by = self.stopped_by or fit.stopped_by  # the solver's own: "divergence"
        if self.validation is not None and self.best[2] is not None:
            to_parameters = parameters_of_state or self._parameters_of_state
            fit.w, fit.b = to_parameters(self.best[2])
            fit.best_iteration = int(self.best[1])
            fit.best_validation_cost = float(self.best[0])
        return fit


def ending(fit, num_iterations, tol):
    """How ``fit`` ended, as one line for people: "stopped after N iterations: cost J, ‖∇J‖ g
    (converged)", or "(the limit)" (``num_iterations`` ran out: every gradient-descent run
    with ``tol`` = 0, or a solver that says it stopped short of ``tol``), "(early stopping)",
    "(stopped by a callback)", "(diverged: kept the lowest cost's parameters)"; early
    stopping adds the row whose parameters were kept and its held-out cost.

    N is ``fit.n_iter`` (``n_iter_``). J and ‖∇J‖ are the last row of the history, the last
    ones measured: for gradient descent row N − 1 (θ before its update), for L-BFGS and
    Newton row N (θ after iteration N; row 0 is the start).
    """
    from logreg.core import text

    history = fit.history
    cost, norm = history["cost"][-1], history["gradient_norm"][-1]
    if fit.stopped_by is not None:
        how = {"early_stopping": "early stopping", "callback": "stopped by a callback",
               "divergence": "diverged: kept the lowest cost's parameters"}[fit.stopped_by]
    elif not fit.converged or (tol == 0 and fit.n_iter >= num_iterations):
        how = "the limit"
    else:
        how = "converged"
    if fit.best_iteration is not None:
        how += (f"; kept iteration {fit.best_iteration}, held-out cost "
                f"{text.number(fit.best_validation_cost)}")
    return (f"stopped after {fit.n_iter} iterations: cost {text.number(cost)}, ‖∇J‖ "
            f"{text.number(norm, 3)} ({how})")
