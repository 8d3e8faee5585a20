"""Solvers: gradient descent as the notes teach it (and, later, faster ones).

Each solver takes X (n_x, m), Y (1, m) and a start (w, b) and returns a ``Fit``: the parameters
and the cost at every iteration. The mathematics of one step lives in ``neuron``; this module
only drives it: when to stop, what to record, what to do when training goes wrong.
"""

import itertools
import math
import os
import threading
from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace, device
from scipy.sparse import issparse

from logreg.core import arrays, neuron
from logreg.errors import InvalidInputError, TrainingDivergedError, warn
from logreg.solvers.record import Fit, Recorder, TrainingInterrupted  # noqa: F401 (re-exported)

RISING_STEPS = 10  # the cost, above its start, rose this many steps in a row
BLOW_UP = 10.0  # the cost stayed above this many times its start...
PATIENCE = 20  # ...for this many steps in a row
WINDOW = 100  # or, above its start, no lower over this many steps than over the ones before
NEAR = 1e-3  # "above its start J₀" means above (1 + NEAR) J₀: rounding and wobbles are not


class FeaturesTooLargeError(InvalidInputError, TrainingDivergedError):
    """A non-finite cost caused by the features' size, not by α: the data's fault (and still
    a ``TrainingDivergedError`` for code that catches that)."""


class DivergenceWarning(UserWarning):
    """Gradient descent diverged; the best parameters seen were kept."""


class Divergence:
    """The divergence rule of gradient descent, fed one cost at a time (``update``).

    On a convex cost, gradient descent with a small enough α lowers J at every step. A larger
    α may make J jump and oscillate for a while and still settle (the exercise's α = 0.01 on
    the cat images peaks near 4.6 × J₀ and is back below J₀ within 20 steps; separable data
    recover from larger jumps), and near the optimum J may wobble by 1e-5 for ever (α = 50 on
    four standardised breast-cancer columns): neither has diverged. Everything is judged
    against the start J₀ (the first cost), never against the lowest cost so far, so nothing
    below the start counts. Gradient descent has diverged when J
      - is not finite;
      - is above J₀ and rose ``RISING_STEPS`` steps in a row (a climb);
      - stayed above ``BLOW_UP`` × J₀ for ``PATIENCE`` steps in a row (a blow-up);
      - stayed above J₀ for 2 × ``WINDOW`` steps in a row or more, the lowest of the last
        ``WINDOW`` no lower than the lowest of the ``WINDOW`` before: an oscillation without
        progress (α = 50 on the playground's circles swings between 3.7 and 5.3 for ever; the
        cats at α = 0.05 stay above J₀ for over 100 steps, but lower and lower, and settle).
    "Above J₀" is above (1 + ``NEAR``) J₀. ``ended`` judges the end of a run too short for
    these (a fit; the playground never ends). Memory: a few numbers, whatever the run's length.

    Attributes
    ----------
    start, lowest : J₀ and the lowest cost so far (None and inf before the first)
    costs : how many costs were fed
    reason : why it diverged, in words ("the cost became inf"); None while it has not
    """

    def __init__(self):
        self.start, self.previous, self.lowest = None, None, math.inf
        self.costs, self.reason = 0, None
        self.rising = self.high = self.above = 0  # steps in a row of each kind
        # the lowest cost of the window of steps above J₀ under way, and of the one before it
        self.window_lowest = self.last_window_lowest = math.inf

    def update(self, cost):
        """Judge one more cost J (a float); True once gradient descent has diverged."""
        if self.start is None:
            self.start = cost
        above = cost > (1 + NEAR) * self.start
        climbing = above and self.previous is not None and cost > self.previous
        self.rising = self.rising + 1 if climbing else 0
        self.high = self.high + 1 if cost > BLOW_UP * self.start else 0
        stuck = False  # a window above J₀ no lower than the one before
        if above:
            self.above += 1
            self.window_lowest = min(self.window_lowest, cost)
            if self.above % WINDOW == 0:
                stuck = self.window_lowest >= self.last_window_lowest
                self.last_window_lowest, self.window_lowest = self.window_lowest, math.inf
        else:  # at or below the start: the windows start again
            self.above, self.window_lowest, self.last_window_lowest = 0, math.inf, math.inf
        self.previous, self.costs, self.lowest = cost, self.costs + 1, min(self.lowest, cost)
        if not math.isfinite(cost):
            self.reason = f"the cost became {cost}"
        elif self.rising >= RISING_STEPS:
            self.reason = (f"the cost rose {RISING_STEPS} steps in a row above its start "
                           f"{self.start:.6g}, to {cost:.6g}")
        elif self.high >= PATIENCE:
            self.reason = (f"the cost stayed above {BLOW_UP:g} times its start "
                           f"{self.start:.6g} for {PATIENCE} steps (now {cost:.6g})")
        elif stuck:
            self.reason = (f"the cost stayed above its start {self.start:.6g} for "
                           f"{self.above} steps, its lowest over the last {WINDOW} "
                           f"({self.last_window_lowest:.6g}) no lower than over the {WINDOW} "
                           f"before (now {cost:.6g})")
        return self.reason is not None

    def ended(self):
        """True when the run ended above ``BLOW_UP`` times its lowest cost and above its start
        (α too large, even when the run was too short for ``update``'s rules: α = 1e18 for 5
        steps; a run that jumps and settles below its start, as the cats at α = 0.01, is not).
        Sets ``reason``."""
        last = self.previous
        if self.costs > 1 and last > BLOW_UP * self.lowest and last > (1 + NEAR) * self.start:
            self.reason = (f"the cost ended at {last:.6g}, above {BLOW_UP:g} times its lowest "
                           f"value {self.lowest:.6g} and above its start {self.start:.6g}")
        return self.reason is not None


def divergence_message(reason, iteration, learning_rate,
                       also="(or learning_rate='auto'), or standardise the features"):
    """The words for a run that diverged at ``iteration`` for ``reason`` (``Divergence``'s),
    with what to do: a smaller α, and ``also`` (the other fixes where they apply)."""
    return (f"gradient descent diverged at iteration {iteration}: {reason}, with learning "
            f"rate {learning_rate:g}. Expected a falling cost: try a smaller learning rate, "
            f"such as {learning_rate / 10:g}{' ' + also if also else ''}.")


def auto_learning_rate(X, sample_weight=None, l2=0.0, iterations=50, rtol=1e-4, outputs=1,
                       fit_intercept=True):
    """α = 1 / L, with L the smoothness constant of the cost J(w, b): every step then lowers J.

    J's Hessian is X̃ diag(a(1 − a)·s) X̃ᵀ / Σs (+ λ/Σs for l2), X̃ = X with a row of ones for b;
    a(1 − a) ≤ 1/4, so L = λ_max(X̃ S X̃ᵀ) / (4 Σs) + λ/Σs. A softmax layer (``outputs`` = K > 1)
    has diag(a) − aaᵀ in place of a(1 − a), whose eigenvalues are ≤ 1/2: L = λ_max / (2 Σs) + λ/Σs.
    λ_max comes from power iteration (matrix-vector products only, one pass over X each way),
    on X̃ / max|X̃| so that no product overflows however large the features. Without an
    intercept (``fit_intercept=False``) X̃ is X. X may be a SciPy sparse matrix.
    """
    xp, on = _namespace_of(X)
    n_x, m = X.shape
    weights = (xp.ones((1, m), dtype=X.dtype, **on) if sample_weight is None
               else sample_weight)
    total = float(xp.sum(weights))
    scale = max(_largest_abs(X), 1.0)
    ones = 1.0 if fit_intercept else 0.0  # the row of ones that multiplies b, or none
    # powers of two ≥ Σ|v| and ≥ Σ|u|: v and u shrunk by them first, no product vᵀX or X uᵀ
    # exceeds max|X| (exact: the same bits as without them wherever nothing overflows)
    shrink_v = 2.0 ** math.ceil(math.log2(n_x + 1))
    shrink_u = 2.0 ** math.ceil(math.log2(total * (n_x + 1) + 1))
    v, b = xp.ones((n_x, 1), dtype=X.dtype, **on), ones
    eigenvalue = 0.0  # of X̃ S X̃ᵀ / scale²
    for _ in range(iterations):
        # S X̃ᵀ v / scale, as a row
        u = weights * (((v / shrink_v).T @ X) / scale * shrink_v + b / scale)
        # X̃ S X̃ᵀ v / scale
        v, row_sum = arrays.materialize((X @ (u / shrink_u).T) / scale * shrink_u, xp.sum(u))
        b = ones * float(row_sum) / scale
        previous, eigenvalue = eigenvalue, math.sqrt(float(xp.sum(v * v)) + b * b)
        if eigenvalue == 0:
            break
        v, b = v / eigenvalue, b / eigenvalue
        if abs(eigenvalue - previous) <= rtol * eigenvalue:
            break
    # the curvature of the loss in z: a(1 − a) ≤ 1/4 for σ, the softmax's ≤ 1/2
    curvature = 0.25 if outputs == 1 else 0.5
    smoothness_scaled = curvature * eigenvalue / total + l2 / total / scale / scale
    rate = 1.0 / smoothness_scaled / scale / scale if smoothness_scaled > 0 else 1.0
    if not rate > 0:
        raise InvalidInputError(
            f"the features are too large to train on: |x| up to {scale:g}, and the learning "
            f"rate they need ({1.0 / smoothness_scaled:g} / {scale:g}²) is smaller than the "
            f"smallest float. Expected features of moderate size: Standardise the features "
            f"(e.g. StandardScaler) first.")
    return rate


def _namespace_of(X):
    """X's array namespace and the keyword that puts new arrays on its device; NumPy for
    SciPy sparse X."""
    if issparse(X):
        return np, {}
    return array_namespace(X), {"device": device(X)}


def _largest_abs(X):
    """max |x| over X (dense or SciPy sparse), as a float; inf where it overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        if issparse(X):
            return float(abs(X).max()) if X.nnz else 0.0
        xp = array_namespace(X)
        return float(xp.max(xp.abs(X)))


def gradient_descent(X, Y, w, b, *, learning_rate, num_iterations, tol=0.0,
                     sample_weight=None, l2=0.0, on_divergence="raise", callback=None,
                     gradient=None, example_space=False, fit_intercept=True, recorder=None,
                     curvature=None):
    """The notes' gradient descent: w := w − α dw, b := b − α db, ``num_iterations`` times
    (the steps of ``gradient_descent_steps``, or of ``_example_space_steps``, each judged by
    ``Divergence``).

    Parameters
    ----------
    X, Y : the notes' layout, (n_x, m) and (1, m); or Y one-hot (K, m) for a softmax layer
    w, b : the start, (n_x, 1) and a number; or W (n_x, K) and b (K, 1)
    learning_rate : α
    num_iterations : the most steps taken
    tol : stop early once a step lowers the cost by less than ``tol`` (0: run every step); a
        run with ``tol`` > 0 that never got there warns (ConvergenceWarning) with the causes
        it sees (``logreg.solvers.diagnostics``)
    sample_weight, l2 : passed to ``neuron.loss_and_gradient``
    on_divergence : "raise" (TrainingDivergedError) or "warn" (DivergenceWarning, and return
        the parameters with the lowest cost seen) when the steps diverge (``Divergence``)
    callback : called as ``callback(i, cost)`` after each step's cost is known
    gradient : computes (cost, dw, db): the engine ``logreg.engines.resolve`` chose; None is
        the notes' lines, ``neuron.loss_and_gradient``.
    curvature : the engine's builder of second derivatives (``engines.Plan.curvature``), for
        solver="newton"; gradient descent needs the gradient only, and ignores it
    example_space : take the same steps in the span of the examples (``_example_space_steps``:
        the same iterates without reading X at each step; NumPy, no l2), as the engine
        "example-space" of the table does for far more features than examples.
    recorder : a ``logreg.solvers.record.Recorder`` (the history, early stopping, callbacks that stop);
        None records the history only. Row i of the history is iteration i: J(θᵢ) (the cost
        of ``costs``), ‖∇J(θᵢ)‖ = ‖(dw, db)‖ (db left out without an intercept), the step
        it takes, ‖θᵢ₊₁ − θᵢ‖ = α‖∇J(θᵢ)‖, and the seconds since the solver began.

    Ctrl-C raises ``TrainingInterrupted`` carrying the last parameters whose cost was finite.
    """
    recorder = recorder or Recorder()
    gradient = gradient or neuron.loss_and_gradient
    if not fit_intercept:
        gradient = _without_intercept(gradient)
    rule = Divergence()
    if example_space:
        steps, parameters, validation_cost = _example_space_steps(
            X, Y, w, b, learning_rate, sample_weight, fit_intercept, recorder.validation)
        steps = _judged(steps, rule)
    else:
        steps = gradient_descent_steps(X, Y, w, b, learning_rate, sample_weight, l2, gradient,
                                       rule)
        parameters = _same
        validation_cost = (None if recorder.validation is None
                           else lambda state: recorder.validation.cost(*state))
    recorder.watch(validation_cost, parameters)
    record = recorder.record
    costs = []
    best = (math.inf, (w, b))
    after = (w, b)
    converged = tol == 0
    try:
        # overflow makes the cost non-finite, which is reported below as divergence
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for step in itertools.islice(steps, num_iterations):
                i, cost, before, after = step.iteration, step.cost, step.before, step.after
                costs.append(cost)
                if cost < best[0]:
                    best = (cost, before)
                if callback is not None:
                    callback(i, cost)
                norm = math.sqrt(step.squared_norm)
                stop = record(cost, norm, learning_rate * norm, before)
                if step.diverged:
                    if not math.isfinite(cost):
                        _check_not_too_large(X, cost, i, learning_rate)
                    recorder.validation = None  # no best by validation: the lowest cost's
                    return recorder.finish(_diverged_fit(
                        rule, costs, learning_rate, on_divergence, parameters(best[1])))
                if stop:
                    end = parameters(before)  # the parameters this row describes
                    converged = True
                    break
                # converged: the last step lowered the cost by less than tol (a rise is not)
                if tol > 0 and len(costs) > 1 and 0 <= costs[-2] - cost < tol:
                    # the parameters this cost was measured at
                    end = parameters(before)
                    converged = True
                    break
            else:
                end = parameters(after)
    except KeyboardInterrupt:
        raise TrainingInterrupted(recorder.finish(Fit(*parameters(best[1]), costs))) from None
    if rule.ended():  # a few huge steps: too few for the rules of its update
        recorder.validation = None
        return recorder.finish(_diverged_fit(rule, costs, learning_rate, on_divergence,
                                             parameters(best[1])))
    fit = recorder.finish(Fit(*end, costs, converged=converged))
    if not converged and costs:
        from logreg.solvers import diagnostics

        drop = costs[-2] - costs[-1] if len(costs) > 1 else 0.0
        diagnostics.warn_stopped_short(
            "gradient descent", f"the last step changed the cost by {-drop:+.3g}, not a fall "
            f"below tol={tol:g}", "Raise num_iterations, or raise tol.", X, Y, fit, costs,
            num_iterations=num_iterations, l2=l2, learning_rate=learning_rate)
    return fit


def _squared_norm(array):
    """Σ a² over an array of any library (or a number), as a Python float."""
    if isinstance(array, np.ndarray):
        return float(np.vdot(array, array))
    if isinstance(array, (np.generic, float, int)):
        return float(array) * float(array)
    xp = array_namespace(array)
    return float(xp.sum(array * array))


def _diverged_fit(rule, costs, learning_rate, on_divergence, best):
    """Raise ``TrainingDivergedError``, or warn and return the lowest cost's parameters."""
    message = divergence_message(rule.reason, len(costs) - 1, learning_rate)
    if on_divergence == "raise":
        raise TrainingDivergedError(message)
    warn(message + " Kept the parameters with the lowest cost.", DivergenceWarning)
    return Fit(*best, costs, stopped_by="divergence")


def _without_intercept(gradient):
    """The engine's (J, dw, db) with db = 0: b stays where it started (no intercept)."""
    def loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0):
        cost, dw, db = gradient(w, b, X, Y, sample_weight, l2)
        return cost, dw, db * 0

    return loss_and_gradient


def _check_not_too_large(X, cost, i, learning_rate):
    """A non-finite cost on features beyond √(largest float) is the data's fault: wᵀx
    overflows after a step of any useful size. Says so, rather than blaming α."""
    largest = _largest_abs(X)
    limit = math.sqrt(float(np.finfo(np.dtype(str(X.dtype).rpartition(".")[2])).max))
    if largest > limit:
        raise FeaturesTooLargeError(
            f"the features are too large: |x| up to {largest:g} makes wᵀx overflow (the cost "
            f"became {cost} at iteration {i}, with learning rate {learning_rate:g}); expected "
            f"features of moderate size (at most about {limit:.1g}). Standardise the "
            f"features (e.g. StandardScaler) first.")


def _same(state):
    return state


@dataclass(frozen=True)
class Step:
    """One step of gradient descent, as ``gradient_descent_steps`` yields it."""

    iteration: int
    cost: float  # J at ``before``
    squared_norm: float  # ‖(dw, db)‖² at ``before``
    before: tuple  # the parameters the step starts from: (w, b); (c, b) in example space
    after: tuple  # the parameters it reaches
    diverged: bool  # the divergence rule's verdict, cost included (its ``reason`` says why)


def gradient_descent_steps(X, Y, w, b, learning_rate, sample_weight=None, l2=0.0,
                           gradient=None, rule=None, iteration=0):
    """The notes' gradient descent as an iterator without end, each step judged.

    Yields a ``Step`` per w := w − α dw, b := b − α db from (w, b), numbered from
    ``iteration``; ``rule`` (a ``Divergence``, a new one by default; pass one to carry its
    state across calls) judges each cost, and the caller stops where it says so.
    ``gradient_descent`` takes these steps; the playground drives them a frame at a time.
    """
    steps = _parameter_space_steps(X, Y, w, b, learning_rate, sample_weight, l2,
                                   gradient or neuron.loss_and_gradient)
    return _judged(steps, rule or Divergence(), iteration)


def _judged(steps, rule, iteration=0):
    """Each raw step (cost, ‖∇J‖², before, after) as a ``Step`` with ``rule``'s verdict."""
    for i, (cost, squared_norm, before, after) in enumerate(steps, iteration):
        cost = float(cost)  # the one scalar that leaves the array's device per step
        yield Step(i, cost, squared_norm, before, after, rule.update(cost))


def _parameter_space_steps(X, Y, w, b, learning_rate, sample_weight, l2, gradient):
    """Each step: (its cost, ‖(dw, db)‖², (w, b) before it, (w, b) after it), as the notes
    take it."""
    while True:
        new_w, new_b, (cost, dw, db) = neuron.gradient_step(
            w, b, X, Y, learning_rate, sample_weight, l2, gradient)
        yield cost, _squared_norm(dw) + _squared_norm(db), (w, b), (new_w, new_b)
        w, b = new_w, new_b


def _example_space_steps(X, Y, w0, b, learning_rate, sample_weight, fit_intercept=True,
                         validation=None):
    """The same gradient-descent steps, taken in the span of the examples.

    Every dw = (1/m) X dZᵀ is a combination of the columns of X, so after t steps
    w = w₀ + X c for an m-vector c, and Z = wᵀX + b = w₀ᵀX + (G c)ᵀ + b with G = XᵀX.
    One pass over X builds G (m × m) and w₀ᵀX; each step then costs O(m²) instead of O(n_x·m):
        dZ = A − Y,   c := c − α dZᵀ / m,   Gc := Gc − α G dZᵀ / m,   b := b − α db.
    The iterates are the notes' (only the rounding differs); w = w₀ + X c is formed once, at
    the end. ‖dw‖² = dZ G dZᵀ / m² comes from G dZᵀ, already formed for Gc.
    Returns the steps, the function that turns a state (c, b) into (w, b), and, with a
    held-out ``validation`` (early stopping), its cost at a state: Z_val = w₀ᵀX_val +
    (X_valᵀ X c)ᵀ + b, from X_valᵀ X (m_val × m) formed once (None without one).
    """
    G = X.T @ X
    Z0 = w0.T @ X
    m, outputs = X.shape[1], Y.shape[0]  # one column of c per output (K for a softmax layer)
    c, Gc = np.zeros((m, outputs), dtype=X.dtype), np.zeros((m, outputs), dtype=X.dtype)

    def steps(c, Gc, b):
        while True:
            # Z = wᵀX + b, with wᵀX = w₀ᵀX + (G c)ᵀ
            cost, dZ, db, count = neuron.backward_from_z(Z0 + Gc.T + b, Y, sample_weight)
            # w := w − α dw, dw = (1/m) X dZᵀ, kept as the coefficients c of X's columns
            GdZ = G @ dZ.T
            new_c, new_Gc = c - learning_rate * dZ.T / count, Gc - learning_rate * GdZ / count
            new_b = b - learning_rate * db if fit_intercept else b
            # ‖dw‖² = ‖X dZᵀ‖² / m² = dZ G dZᵀ / m² (+ db² with an intercept)
            squared_norm = float(np.vdot(dZ.T, GdZ)) / float(count) ** 2
            if fit_intercept:
                squared_norm += _squared_norm(db)
            yield cost, squared_norm, (c, b), (new_c, new_b)
            c, Gc, b = new_c, new_Gc, new_b

    def parameters(state):
        c, b = state
        return w0 + X @ c, b

    validation_cost = None
    if validation is not None:
        G_val, Z0_val = validation.X.T @ X, w0.T @ validation.X

        def validation_cost(state):
            c, b = state
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                # Z_val = w₀ᵀX_val + (X_valᵀ X c)ᵀ + b
                Z = Z0_val + (G_val @ c).T + b
                return float(neuron.cost_from_z(Z, validation.Y, validation.sample_weight))

    return steps(c, Gc, b), parameters, validation_cost


def lbfgs(X, Y, w, b, *, num_iterations, tol=0.0, sample_weight=None, l2=0.0, callback=None,
          gradient=None, example_space=False, fit_intercept=True, recorder=None, **_):
    """L-BFGS-B (SciPy) on the same cost and gradient: a quasi-Newton method that reaches the
    minimum in tens of evaluations where gradient descent takes thousands.

    ``num_iterations`` caps L-BFGS iterations; ``tol`` is the gradient tolerance (0: stop only
    when the cost stops changing at machine precision). ``costs`` holds the starting cost and
    the cost after each iteration. A run that stops at ``num_iterations`` before converging
    warns (ConvergenceWarning) and says what to do. SciPy's own BLAS is held to one thread
    meanwhile, so that it does not fight the gradient's threads for the cores. The same for a
    softmax layer (W (n_x, K), b (K, 1)); ``fit_intercept=False`` leaves b out of θ.

    ``recorder`` (a ``logreg.solvers.record.Recorder``; None records the history only) gets one row per
    entry of ``costs``: row 0 the start θ₀, row i the point θᵢ after iteration i, with J(θᵢ),
    the Euclidean norm of ∇J(θᵢ) over θ (``tol`` bounds its largest entry instead), the step
    ‖θᵢ − θᵢ₋₁‖ (0 at row 0) and the seconds since the solver began. When it says to stop
    (early stopping, a callback), the callback raises StopIteration, which SciPy ≥ 1.11 honours.
    """
    from scipy.optimize import minimize

    if example_space:
        raise InvalidInputError("L-BFGS evaluates the cost at points of its own choosing; the "
                                "example-space steps are gradient descent's. Use solver='gd'.")
    gradient = gradient or neuron.loss_and_gradient
    host_w = arrays.to_numpy(w)
    dtype, shape = host_w.dtype, host_w.shape
    outputs = shape[1]  # 1 for the notes' neuron, K for a softmax layer
    b0 = np.asarray(arrays.to_numpy(b), dtype=np.float64).ravel()
    split = host_w.size

    def parameters(theta):
        """θ = [w; b] (SciPy's float64 vector on the host) as (w, b) in X's library and dtype."""
        w = theta[:split].reshape(shape).astype(dtype, copy=False)
        b = theta[split:] if fit_intercept else b0
        on_device = arrays.foreign(X) and not arrays.is_dask_array(X)  # dask's stay NumPy
        if outputs == 1:
            b = float(b[0]) if on_device else dtype.type(b[0])
        else:
            b = b.reshape(-1, 1).astype(dtype, copy=False)
        if on_device:
            return arrays.as_like(w, X), (b if outputs == 1 else arrays.as_like(b, X))
        return w, b

    recorder = recorder or Recorder()
    recorder.watch(None if recorder.validation is None
                   else lambda theta: recorder.validation.cost(*parameters(theta)), parameters)
    costs = []  # the starting cost (SciPy's first evaluation), then one per iteration
    last = [w, b]  # the parameters after the latest iteration, for Ctrl-C
    evaluated = [None, None]  # the latest θ SciPy asked about and ∇J there

    def cost_and_gradient(theta):
        cost, dw, db = gradient(*parameters(theta), X, Y, sample_weight, l2)
        pieces = [arrays.to_numpy(dw).ravel()]
        if fit_intercept:
            pieces.append(np.asarray(arrays.to_numpy(db), dtype=np.float64).ravel())
        grad = np.concatenate(pieces).astype(np.float64)
        evaluated[:] = theta.copy(), grad
        if not costs:
            costs.append(float(cost))
            if recorder.record(costs[0], _norm(grad), 0.0, theta.copy()):
                raise _Stopped
        return float(cost), grad

    theta0 = np.concatenate([host_w.ravel()] + ([b0] if fit_intercept else [])).astype(
        np.float64)
    previous = [theta0]

    def record(intermediate_result):
        theta = np.array(intermediate_result.x, dtype=np.float64)
        costs.append(float(intermediate_result.fun))
        last[:] = parameters(theta)
        if callback is not None:
            callback(len(costs) - 1, costs[-1])  # row i of the history: after iteration i
        # ∇J at θ: SciPy's last evaluation was there (the line search's accepted point)
        grad = (evaluated[1] if evaluated[0] is not None and np.array_equal(evaluated[0], theta)
                else cost_and_gradient(theta)[1])
        step, previous[0] = _norm(theta - previous[0]), theta
        if recorder.record(costs[-1], _norm(grad), step, theta):
            raise StopIteration  # SciPy ≥ 1.11 ends the minimisation here

    try:
        # overflow makes the cost non-finite, which is reported below as divergence
        with _scipy_blas_on_one_thread(), np.errstate(over="ignore", invalid="ignore"):
            result = minimize(cost_and_gradient, theta0, jac=True,
                              method="L-BFGS-B", callback=record,
                              options={"maxiter": int(num_iterations), "gtol": tol,
                                       "ftol": 64 * np.finfo(float).eps})
    except KeyboardInterrupt:
        raise TrainingInterrupted(recorder.finish(Fit(*last, costs, iterations=len(costs) - 1),
                                                  parameters)) from None
    except _Stopped:  # told to stop at the start: θ₀
        return recorder.finish(Fit(*parameters(theta0), costs, iterations=0), parameters)
    if not math.isfinite(result.fun):
        raise TrainingDivergedError(f"L-BFGS reached a non-finite cost ({result.fun}); expected "
                                    f"finite features of moderate size: standardise them.")
    stopped = recorder.stopped_by is not None
    # stopped by a callback: θ of the last row, which SciPy's result may not hold
    end = previous[0] if stopped else result.x
    fit = recorder.finish(Fit(*parameters(end), costs, iterations=len(costs) - 1 if stopped
                              else int(result.nit), converged=result.status != 1), parameters)
    if result.status == 1 and not stopped:  # the iteration limit
        from logreg.solvers import diagnostics

        diagnostics.warn_stopped_short(
            "L-BFGS", f"gradient norm {np.max(np.abs(result.jac)):.3g} > tol={tol:g}",
            "Raise num_iterations, or standardise the features.", X, Y, fit, costs,
            num_iterations=num_iterations, l2=l2, solver="lbfgs")
    return fit


class _Stopped(Exception):
    """A recorder said to stop at the starting point (before SciPy's first iteration)."""


def _norm(vector):
    """‖v‖ of a NumPy vector."""
    return math.sqrt(float(np.dot(vector, vector)))


class _scipy_blas_on_one_thread:
    """Hold SciPy's copy of OpenBLAS to one thread; NumPy's and numba's are left alone.

    Its threads are one pool for the whole process, so the hold is too: the first solve to
    enter sets one thread and the last to leave restores what the first found, whichever
    threads they run on (a count under a lock). Nested and concurrent L-BFGS fits therefore
    restore the user's setting, never another fit's one. A child made by fork starts free.
    """

    _lock, _holders, _saved, _libraries = threading.Lock(), 0, [], None

    def __enter__(self):
        cls = type(self)
        with cls._lock:
            if cls._holders == 0:
                cls._saved = [(lib, lib.num_threads) for lib in cls._scipy_blas()]
                cls._set(1)
            cls._holders += 1
        return self

    def __exit__(self, *exc):
        cls = type(self)
        with cls._lock:
            if cls._holders > 0:  # 0: a fork reset the count while this thread held
                cls._holders -= 1
                if cls._holders == 0:
                    cls._set(None)

    @classmethod
    def _scipy_blas(cls):
        """SciPy's copies of OpenBLAS, found once a process (threadpoolctl's search of the
        loaded libraries takes milliseconds: more than a small fit)."""
        if cls._libraries is None:
            from threadpoolctl import ThreadpoolController

            cls._libraries = [lib for lib in ThreadpoolController().lib_controllers
                              if lib.user_api == "blas" and "scipy.libs" in lib.filepath]
        return cls._libraries

    @classmethod
    def _set(cls, threads):
        """SciPy's BLAS to ``threads`` (None: what was saved). threadpoolctl lets one Python
        thread at a time control OpenBLAS; control is let go at once, so that the last holder,
        on another thread, can restore."""
        import threadpoolctl

        for lib, saved in cls._saved:
            lib.set_num_threads(saved if threads is None else threads)
        release = getattr(getattr(threadpoolctl, "OpenBLASController", None),
                          "clear_controlling_thread", None)  # threadpoolctl 3.8 on
        if release is not None:
            release()

    @classmethod
    def _after_fork_in_child(cls):
        """The parent's other threads are gone in the child: a fresh lock, and the hold undone."""
        cls._lock = threading.Lock()
        if cls._holders:
            cls._holders = 0
            cls._set(None)



if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_scipy_blas_on_one_thread._after_fork_in_child)



def newton(X, Y, w, b, **options):
    """Trust-region Newton-CG (``logreg.solvers.trust_region``): few iterations to a tight minimum."""
    from logreg.solvers.trust_region import newton as trust_region_newton

    return trust_region_newton(X, Y, w, b, **options)


SOLVERS = {"gd": gradient_descent, "lbfgs": lbfgs, "newton": newton}
