"""Gradient descent as the notes teach it: w := w − α dw, b := b − α db, each step judged by
the divergence rule (``logreg.solvers.divergence``).

``auto_learning_rate`` finds α = 1 / L, with L the cost's smoothness constant;
``gradient_descent_steps`` is the notes' loop as an iterator without end (the playground
drives it a frame at a time); ``example_space_steps`` the same iterates taken in the span of
the examples, for far more features than examples; ``gradient_descent`` drives either to a
``Fit``: when to stop, what to record, what to do when training goes wrong. The mathematics of
one step lives in ``logreg.core.neuron``.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace, device
from scipy.sparse import issparse

from logreg.core import arrays, neuron
from logreg.errors import InvalidInputError, TrainingDivergedError, warn
from logreg.solvers.divergence import (Divergence, DivergenceWarning, FeaturesTooLargeError,
                                       divergence_message)
from logreg.solvers.record import Fit, Recorder, TrainingInterrupted


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
    (the steps of ``gradient_descent_steps``, or of ``example_space_steps``, each judged by
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
    example_space : take the same steps in the span of the examples (``example_space_steps``:
        the same iterates without reading X at each step; NumPy, no l2), as the engine
        "example-space" of the table does for far more features than examples.
    recorder : a ``logreg.solvers.record.Recorder`` (the history, early stopping, callbacks that stop);
        None records the history only. Row i of the history is iteration i: J(θᵢ) (the cost
        of ``costs``), ‖∇J(θᵢ)‖ = ‖(dw, db)‖ (db left out without an intercept), the step
        it takes, ‖θᵢ₊₁ − θᵢ‖ = α‖∇J(θᵢ)‖, and the seconds since the solver began.

    Ctrl-C raises ``TrainingInterrupted`` carrying the last parameters whose cost was finite.
    """
    recorder = recorder or Recorder()
    rule = Divergence()
    steps, parameters = _steps(X, Y, w, b, learning_rate, sample_weight, l2, gradient,
                               example_space, fit_intercept, recorder, rule)
    costs = []
    best = [math.inf, (w, b)]  # the lowest cost so far, and the state it was measured at
    try:
        # overflow makes the cost non-finite, which is reported below as divergence
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            outcome = _descend(X, steps, parameters, (w, b), num_iterations, tol, learning_rate,
                               on_divergence, callback, recorder, rule, costs, best)
    except KeyboardInterrupt:
        raise TrainingInterrupted(recorder.finish(Fit(*parameters(best[1]), costs))) from None
    if isinstance(outcome, Fit):  # diverged
        return outcome
    end, converged = outcome
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


def _steps(X, Y, w, b, learning_rate, sample_weight, l2, gradient, example_space,
           fit_intercept, recorder, rule):
    """The judged steps from (w, b) and the function that turns a step's state into (w, b):
    the notes' steps with the engine's ``gradient``, or the example-space steps; ``recorder``
    is told how to measure the held-out cost at a state."""
    gradient = gradient or neuron.loss_and_gradient
    if not fit_intercept:
        gradient = _without_intercept(gradient)
    if example_space:
        steps, parameters, validation_cost = example_space_steps(
            X, Y, w, b, learning_rate, sample_weight, fit_intercept, recorder.validation)
        steps = _judged(steps, rule)
    else:
        steps = gradient_descent_steps(X, Y, w, b, learning_rate, sample_weight, l2, gradient,
                                       rule)
        parameters = _same
        validation_cost = (None if recorder.validation is None
                           else lambda state: recorder.validation.cost(*state))
    recorder.watch(validation_cost, parameters)
    return steps, parameters


def _descend(X, steps, parameters, start, num_iterations, tol, learning_rate, on_divergence,
             callback, recorder, rule, costs, best):
    """Take up to ``num_iterations`` of ``steps``, recording each (``costs`` and ``best`` are
    filled in place, for Ctrl-C). Returns (the parameters it ends at, whether it converged),
    or the ``Fit`` of a run that diverged (or raises ``TrainingDivergedError``)."""
    record = recorder.record
    after = start
    converged = tol == 0
    for step in itertools.islice(steps, num_iterations):
        i, cost, before, after = step.iteration, step.cost, step.before, step.after
        costs.append(cost)
        if cost < best[0]:
            best[:] = cost, before
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
            return parameters(before), True  # the parameters this row describes
        # converged: the last step lowered the cost by less than tol (a rise is not)
        if tol > 0 and len(costs) > 1 and 0 <= costs[-2] - cost < tol:
            return parameters(before), True  # the parameters this cost was measured at
    return parameters(after), converged


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


def example_space_steps(X, Y, w0, b, learning_rate, sample_weight, fit_intercept=True,
                         validation=None):
    """The same gradient-descent steps, taken in the span of the examples.

    Every dw = (1/m) X dZᵀ is a combination of the columns of X, so after t steps
    w = w₀ + X c for an m-vector c, and Z = wᵀX + b = w₀ᵀX + (G c)ᵀ + b with G = XᵀX.
    One pass over X builds G (m × m) and w₀ᵀX; each step then costs O(m²) instead of O(n_x·m)::

        dZ = A − Y,   c := c − α dZᵀ / m,   Gc := Gc − α G dZᵀ / m,   b := b − α db

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

