"""solver="newton": a trust-region Newton method whose steps come from conjugate gradients.

The notes differentiate the loss once: dz = a − y. Once more gives the curvature
d²L/dz² = a(1 − a) (the softmax's: diag(a) − aaᵀ), and the Hessian H of the cost J
(``logreg.engines.vectorized``). With many parameters H is never formed: conjugate gradients need only
products H v, which the engine the table chose computes (``engines.resolve``: the
"vectorized" row's NumPy and SciPy products, ``logreg.engines.vectorized``, or the "fused" row's numba
kernels, ``logreg.engines.fused_curvature``); this module never picks them itself. The method is
LIBLINEAR's TRON (Lin, Weng & Keerthi, "Trust region Newton method for large-scale logistic
regression", JMLR 2008), with the diagonal preconditioner of Hsia, Chiang & Lin (ACML 2018):
each iteration solves
H s = −∇J by CG inside a trust region ‖s‖ ≤ Δ, takes the step if J fell enough against what
the quadratic model predicted, and grows or shrinks Δ by how well the model predicted it.

One thing beyond TRON: every CG product computes u = X̃ᵀ d for its direction d, and the step
s is a sum of those directions, so the margins at the trial point, Z + X̃ᵀ s, are a sum of
the u's too. J at the trial point therefore costs no pass over X; an accepted step costs one
(the gradient's X dZᵀ), each CG iteration two (one with the fused engine).
With few parameters H is formed instead (``curvature.formed``) and Newton's step solved for.

Works on the notes' neuron (Y of one row) and a softmax layer (Y one-hot (K, m); W (n_x, K),
b (K, 1)); dense NumPy X or SciPy sparse X; float32 or float64 X (the products in X's own
precision, the Newton algebra in float64).
"""

import math

import numpy as np

from logreg.core import arrays
from logreg.errors import InvalidInputError, TrainingDivergedError
from logreg.solvers.record import Fit, Recorder, TrainingInterrupted

# TRON's constants (LIBLINEAR, tron.cpp): accept a step when J fell by more than ETA0 of the
# predicted fall; shrink Δ below ETA1, keep it below ETA2, grow it above
ETA0, ETA1, ETA2 = 1e-4, 0.25, 0.75
SIGMA1, SIGMA2, SIGMA3 = 0.25, 0.5, 4.0
MOST_REJECTED = 60  # steps refused in a row (Δ halved or less each time) before it gives up
CG_TOLERANCE = 0.1  # CG stops when its residual is below this share of ‖∇J‖ (preconditioned),
# or below √(‖∇J‖ / ‖∇J₀‖) of it once that is smaller: a forcing sequence that makes the
# convergence superlinear (Nocedal & Wright, Theorem 7.2) where TRON's fixed 0.1 is linear
PRECONDITIONER_MIX = 0.01  # M = (1 − α) I + α diag(H), Hsia, Chiang & Lin (2018)


def _conjugate_gradients(curvature, gradient, radius, M, forcing=CG_TOLERANCE):
    """Steihaug's CG on H s = −∇J inside ‖s‖_M ≤ Δ (TRON's trcg, preconditioned by M):
    (s, r = −∇J − H s, u = X̃ᵀ s or None where H is formed, the iterations). Where H is
    formed, its Newton step serves whenever it lies inside the region."""
    if hasattr(curvature, "newton_step"):  # H formed
        s = curvature.newton_step(gradient)
        if s is not None and math.sqrt(s @ (M * s)) <= radius:
            return s, -gradient - curvature.H @ s, None, 0
    s = np.zeros_like(gradient)
    margins = 0.0
    r = -gradient
    z = r / M
    d = z.copy()
    zr = z @ r
    stop = forcing * math.sqrt(zr)
    iterations = 0
    while math.sqrt(max(zr, 0.0)) > stop:
        iterations += 1
        Hd, Ud = curvature.product(d)
        dHd = d @ Hd
        if dHd <= 0:  # no curvature along d (λ = 0 and a flat direction): go to the edge
            alpha = _to_boundary(s, d, M, radius)
            return s + alpha * d, r - alpha * Hd, _along(margins, alpha, Ud), iterations
        alpha = zr / dHd
        s_next = s + alpha * d
        if math.sqrt(s_next @ (M * s_next)) > radius:  # past the trust region: stop on its edge
            alpha = _to_boundary(s, d, M, radius)
            return s + alpha * d, r - alpha * Hd, _along(margins, alpha, Ud), iterations
        s, margins = s_next, _along(margins, alpha, Ud)
        r = r - alpha * Hd
        z = r / M
        zr_next = z @ r
        d = z + (zr_next / zr) * d
        zr = zr_next
    return s, r, margins, iterations


def _along(margins, alpha, U):
    """The margins' change X̃ᵀ s as s moves by α d (u = X̃ᵀ d); None where H is formed."""
    return None if U is None else margins + alpha * U


def _to_boundary(s, d, M, radius):
    """τ ≥ 0 with ‖s + τ d‖_M = Δ."""
    std, sts, dtd = s @ (M * d), s @ (M * s), d @ (M * d)
    room = max(radius * radius - sts, 0.0)
    root = math.sqrt(std * std + dtd * room)
    return room / (std + root) if std >= 0 else (root - std) / dtd


def newton(X, Y, w, b, *, num_iterations, tol=0.0, sample_weight=None, l2=0.0, callback=None,
           gradient=None, example_space=False, fit_intercept=True, recorder=None,
           curvature=None, **_):
    """Trust-region Newton-CG on the cost J: (w, b) that minimise it, in few iterations.

    ``num_iterations`` caps the Newton iterations (accepted steps); ``tol`` is the gradient
    tolerance: stop when max |∂J/∂θ| ≤ tol (0: go on while J can still fall at machine
    precision). ``costs`` holds the starting cost and the cost after each iteration. A run
    that stops at ``num_iterations`` with a larger gradient warns (ConvergenceWarning).
    ``curvature`` builds the products with X (J, ∇J, margins, H v, diag H: the engine's
    ``curvature`` entry, ``engines.Plan.curvature``); None is the "vectorized" row's,
    ``logreg.engines.vectorized.problem``. ``gradient`` (the engine's (J, dw, db)) is not used.
    ``recorder`` (a ``logreg.solvers.record.Recorder``; None records the history only) gets one row per
    entry of ``costs``: row 0 the start θ₀, row i the point θᵢ after the i-th accepted step,
    with J(θᵢ), ‖∇J(θᵢ)‖ (Euclidean, over θ; ``tol`` bounds its largest entry), the step
    ‖θᵢ − θᵢ₋₁‖ (0 at row 0; rejected trial steps are not steps) and the seconds since the
    solver began. When it says to stop (early stopping, a callback), the solver stops there.
    """
    if example_space:
        raise InvalidInputError("the Newton solver takes its own steps; the example-space "
                                "steps are gradient descent's. Use solver='gd'.")
    recorder = recorder or Recorder()
    if curvature is None:
        from logreg.engines.vectorized import problem as curvature
    problem = curvature(X, Y, sample_weight, l2, fit_intercept)
    host_w = arrays.to_numpy(w)
    dtype, shape = host_w.dtype, host_w.shape

    def parameters(theta):
        W, b_ = problem.split(theta)
        W = W.reshape(shape).astype(dtype)
        if problem.outputs == 1:
            return W, dtype.type(b_[0, 0])
        return W, b_.astype(dtype)

    theta = np.concatenate([host_w.ravel().astype(np.float64)]
                           + ([np.asarray(arrays.to_numpy(b), np.float64).ravel()]
                              if fit_intercept else []))
    recorder.watch(None if recorder.validation is None
                   else lambda state: recorder.validation.cost(*parameters(state)), parameters)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        Z = problem.forward(theta)
        cost = problem.cost(theta, Z)
        _check_finite(cost)
        costs = [cost]
        g, curvature = problem.gradient(theta, Z)
        iterations = 0
        try:
            if not recorder.record(cost, _norm(g), 0.0, theta):
                theta, iterations, g = _trust_region(problem, theta, Z, cost, g, curvature,
                                                     costs, num_iterations, tol, callback,
                                                     recorder)
        except KeyboardInterrupt:
            raise TrainingInterrupted(recorder.finish(
                Fit(*parameters(theta), costs, iterations=len(costs) - 1))) from None
    largest = float(np.max(np.abs(g))) if g.size else 0.0
    converged = not (iterations >= num_iterations and largest > tol)
    fit = recorder.finish(Fit(*parameters(theta), costs, iterations=iterations,
                              converged=converged or recorder.stopped_by is not None))
    if not fit.converged:
        from logreg.solvers import diagnostics

        diagnostics.warn_stopped_short(
            "the Newton solver", f"gradient max |dJ/dθ| {largest:.3g} > tol={tol:g}",
            "Raise num_iterations, or standardise the features.", X, Y, fit, costs,
            num_iterations=num_iterations, l2=l2, solver="newton")
    return fit


def _norm(vector):
    """‖v‖ of a NumPy vector."""
    return math.sqrt(float(vector @ vector)) if vector.size else 0.0


def _trust_region(problem, theta, Z, cost, g, curvature, costs, num_iterations, tol, callback,
                  recorder):
    """TRON's outer loop from θ: (θ, the accepted iterations, ∇J there); each accepted step
    is a row of ``recorder``, which may stop it."""
    M = _preconditioner(curvature)
    radius = first = math.sqrt(g @ (g / M))  # Δ₀ = ‖∇J₀‖ in M⁻¹'s norm
    if not (math.isfinite(first) and np.all(np.isfinite(M))):
        raise InvalidInputError(
            f"the features are too large for the Newton solver: |x| up to "
            f"{_largest(problem.X):g} makes the gradient or the second derivatives overflow. "
            f"Expected features of moderate size: standardise them (e.g. StandardScaler).")
    iterations = rejected = 0
    while iterations < num_iterations and not _small(g, tol):
        forcing = min(CG_TOLERANCE, math.sqrt(math.sqrt(g @ (g / M)) / max(first, 1e-300)))
        s, r, margins, _ = _conjugate_gradients(curvature, g, radius, M, forcing)
        gs = g @ s
        predicted = -0.5 * (gs - s @ r)  # the model's fall: −(∇Jᵀs + ½ sᵀHs)
        if margins is None:  # H formed: X̃ᵀ s from X (small here)
            margins = problem.forward(s)
        trial, Z_trial = theta + s, Z + margins  # Z at θ + s = Z + X̃ᵀ s
        cost_trial = problem.cost(trial, Z_trial)
        actual = cost - cost_trial
        step = math.sqrt(s @ (M * s))
        if iterations == 0:  # TRON: the first step bounds the first radius
            radius = min(radius, step)
        if math.isfinite(actual) and math.isfinite(predicted):
            radius = _new_radius(radius, step, actual, predicted, cost_trial - cost - gs, gs)
        else:  # a step into overflow (or NaN): refused, and a much smaller region
            radius = SIGMA1 * min(radius, step) if math.isfinite(step) else SIGMA1 * radius
        accepted, at_trial = actual > ETA0 * predicted, None
        flat = abs(actual) <= 1e-12 * abs(cost) and abs(predicted) <= 1e-12 * abs(cost)
        if not accepted and flat and math.isfinite(cost_trial):
            # J's fall is below its rounding, so J cannot judge the step: ∇J can
            at_trial = problem.gradient(trial, Z_trial)
            accepted = _norm(at_trial[0]) < _norm(g)
        rejected = 0 if accepted else rejected + 1
        if accepted:
            theta, Z, cost = trial, Z_trial, cost_trial
            g, curvature = at_trial or problem.gradient(theta, Z)
            M = _preconditioner(curvature)
            iterations += 1
            costs.append(cost)
            if callback is not None:
                callback(iterations, cost)  # row i of the history: after iteration i
            if recorder.record(cost, _norm(g), _norm(s), theta):
                break
        if not math.isfinite(cost_trial) and not math.isfinite(cost):
            _check_finite(cost_trial)
        if actual <= 0 and predicted <= 0:  # the model sees no fall left: at the minimum
            break
        if flat:
            break  # J no longer changes at machine precision
        if rejected >= MOST_REJECTED or not radius > 0:
            break  # Δ shrank by 2^MOST_REJECTED and more without a step J accepts: no progress
    return theta, iterations, g


def _new_radius(radius, step, actual, predicted, curvature_left, gs):
    """TRON's update of Δ from how well the quadratic model predicted J's fall."""
    if curvature_left <= 0:
        alpha = SIGMA3
    else:
        alpha = max(SIGMA1, -0.5 * (gs / curvature_left))
    if actual < ETA0 * predicted:
        return min(alpha * step, SIGMA2 * radius)
    if actual < ETA1 * predicted:
        return max(SIGMA1 * radius, min(alpha * step, SIGMA2 * radius))
    if actual < ETA2 * predicted:
        return max(SIGMA1 * radius, min(alpha * step, SIGMA3 * radius))
    return max(radius, min(alpha * step, SIGMA3 * radius))


def _preconditioner(curvature):
    """M = (1 − α) I + α diag(H) (Hsia, Chiang & Lin 2018), on LIBLINEAR's scale: its f is
    J·m/λ, so its I is (λ/m) I here. Floored above 0 (λ = 0 and saturated examples)."""
    diagonal = curvature.diagonal()
    M = (1.0 - PRECONDITIONER_MIX) * curvature.problem.lam + PRECONDITIONER_MIX * diagonal
    floor = 1e-12 * float(np.max(M)) if M.size and np.max(M) > 0 else 1.0
    return np.maximum(M, floor)


def _largest(X):
    with np.errstate(over="ignore", invalid="ignore"):
        return float(abs(X).max()) if X.shape[0] * X.shape[1] else 0.0


def _small(g, tol):
    return g.size == 0 or float(np.max(np.abs(g))) <= tol


def _check_finite(cost):
    if not math.isfinite(cost):
        raise TrainingDivergedError(f"the Newton solver reached a non-finite cost ({cost}); "
                                    f"expected finite features of moderate size: standardise "
                                    f"them.")
