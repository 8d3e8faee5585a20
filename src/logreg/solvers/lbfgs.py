"""solver="lbfgs": SciPy's L-BFGS-B on the notes' cost and gradient, a quasi-Newton method.

The engine's (J, dw, db) is called at the points SciPy asks about; θ = [vec w; b] travels as
SciPy's float64 vector on the host and comes back as (w, b) in X's library and dtype. SciPy's
own BLAS is held to one thread meanwhile (``logreg.engines.threads.scipy_blas_on_one_thread``).
"""

import math

import numpy as np

from logreg.core import arrays, neuron
from logreg.engines import threads
from logreg.errors import InvalidInputError, TrainingDivergedError
from logreg.solvers.record import Fit, Recorder, TrainingInterrupted


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
    theta0, parameters = _parameters_of(X, w, b, fit_intercept)
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
        with threads.scipy_blas_on_one_thread(), np.errstate(over="ignore", invalid="ignore"):
            result = minimize(cost_and_gradient, theta0, jac=True,
                              method="L-BFGS-B", callback=record,
                              options={"maxiter": int(num_iterations), "gtol": tol,
                                       "ftol": 64 * np.finfo(float).eps})
    except KeyboardInterrupt:
        raise TrainingInterrupted(recorder.finish(Fit(*last, costs, iterations=len(costs) - 1),
                                                  parameters)) from None
    except _Stopped:  # told to stop at the start: θ₀
        return recorder.finish(Fit(*parameters(theta0), costs, iterations=0), parameters)
    return _finished(result, previous[0], parameters, recorder, costs, X, Y,
                     num_iterations=num_iterations, tol=tol, l2=l2)


def _finished(result, last_theta, parameters, recorder, costs, X, Y, *, num_iterations, tol, l2):
    """The ``Fit`` of a minimisation SciPy ended (``result``): at ``last_theta``, the θ of the
    history's last row, where a recorder stopped it; a warning (ConvergenceWarning) where it
    reached ``num_iterations`` first; ``TrainingDivergedError`` for a non-finite cost."""
    if not math.isfinite(result.fun):
        raise TrainingDivergedError(f"L-BFGS reached a non-finite cost ({result.fun}); expected "
                                    f"finite features of moderate size: standardise them.")
    stopped = recorder.stopped_by is not None
    # stopped by a callback: θ of the last row, which SciPy's result may not hold
    end = last_theta if stopped else result.x
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


def _parameters_of(X, w, b, fit_intercept):
    """θ₀ = [vec w; b] (b left out without an intercept) as SciPy's float64 vector on the host,
    and the function that turns a θ back into (w, b) in X's library and dtype."""
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

    theta0 = np.concatenate([host_w.ravel()] + ([b0] if fit_intercept else [])).astype(
        np.float64)
    return theta0, parameters
