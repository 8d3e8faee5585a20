"""Solvers: gradient descent as the notes teach it (and, later, faster ones).

Each solver takes X (n_x, m), Y (1, m) and a start (w, b) and returns a ``Fit``: the parameters
and the cost at every iteration. The mathematics of one step lives in ``neuron``; this module
only drives it: when to stop, what to record, what to do when training goes wrong.
"""

import math
import warnings
from dataclasses import dataclass, field

from logreg import neuron
from logreg.errors import TrainingDivergedError

RISING_STEPS = 10  # the cost rose this many steps in a row: the learning rate is too large


class DivergenceWarning(UserWarning):
    """Gradient descent diverged; the best parameters seen were kept."""


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
    converged: bool = False

    @property
    def n_iter(self):
        return len(self.costs)


def _diverged(costs, rising):
    """The notes' gradient descent only ever lowers a convex cost when α is small enough."""
    return not math.isfinite(costs[-1]) or rising >= RISING_STEPS


def _divergence_message(costs, learning_rate):
    last = costs[-1]
    what = (f"the cost became {last}" if not math.isfinite(last) else
            f"the cost rose {RISING_STEPS} steps in a row, from {min(costs):.6g} to {last:.6g}")
    return (f"gradient descent diverged at iteration {len(costs) - 1}: {what} with learning "
            f"rate {learning_rate}. Expected a falling cost; try a smaller learning rate, such "
            f"as {learning_rate / 10:g}, or standardise the features.")


def gradient_descent(X, Y, w, b, *, learning_rate, num_iterations, tol=0.0,
                     sample_weight=None, l2=0.0, on_divergence="raise", callback=None):
    """The notes' gradient descent: w := w − α dw, b := b − α db, ``num_iterations`` times.

    Parameters
    ----------
    X, Y : the notes' layout, (n_x, m) and (1, m)
    w, b : the start, (n_x, 1) and a number
    learning_rate : α
    num_iterations : the most steps taken
    tol : stop early once a step lowers the cost by less than ``tol`` (0: run every step)
    sample_weight, l2 : passed to ``neuron.loss_and_gradient``
    on_divergence : "raise" (TrainingDivergedError) or "warn" (DivergenceWarning, and return
        the parameters with the lowest cost seen) when the cost turns non-finite or keeps rising
    callback : called as ``callback(i, cost)`` after each step's cost is known

    Ctrl-C raises ``TrainingInterrupted`` carrying the last parameters whose cost was finite.
    """
    costs = []
    best = (math.inf, w, b)
    rising = 0
    try:
        for i in range(num_iterations):
            new_w, new_b, (cost, _, _) = neuron.gradient_step(
                w, b, X, Y, learning_rate, sample_weight, l2)
            cost = float(cost)  # the one scalar that leaves the array's device per step
            costs.append(cost)
            rising = rising + 1 if len(costs) > 1 and cost > costs[-2] else 0
            if cost < best[0]:
                best = (cost, w, b)
            if callback is not None:
                callback(i, cost)
            if _diverged(costs, rising):
                message = _divergence_message(costs, learning_rate)
                if on_divergence == "raise":
                    raise TrainingDivergedError(message)
                warnings.warn(message + " Kept the parameters with the lowest cost.",
                              DivergenceWarning, stacklevel=2)
                return Fit(best[1], best[2], costs, converged=False)
            if tol > 0 and len(costs) > 1 and costs[-2] - cost < tol:
                return Fit(w, b, costs, converged=True)  # (w, b) has the lowest cost: keep it
            w, b = new_w, new_b
    except KeyboardInterrupt:
        raise TrainingInterrupted(Fit(best[1], best[2], costs)) from None
    return Fit(w, b, costs)


SOLVERS = {"gd": gradient_descent}
