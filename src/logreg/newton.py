"""solver="newton": a trust-region Newton method whose steps come from conjugate gradients.

The notes differentiate the loss once: dz = a − y. Once more gives the curvature
d²L/dz² = a(1 − a) (the softmax's: diag(a) − aaᵀ), and the Hessian of the cost
J = (1/m) Σ L + (λ/2m)‖w‖² in (w, b) is

    H = X̃ D X̃ᵀ / m + (λ/m) I_w,   X̃ = X with a row of ones (for b),  D = diag(s·a(1 − a)).

With many parameters H is never formed: conjugate gradients need only products H v, and each
is the notes' two products again: u = X̃ᵀ v (a forward pass, like Z = wᵀX + b), then
X̃ (D u) / m (a backward pass, like dw = X dZᵀ / m). The method is LIBLINEAR's TRON (Lin, Weng
& Keerthi, "Trust region Newton method for large-scale logistic regression", JMLR 2008), with
the diagonal preconditioner of Hsia, Chiang & Lin (ACML 2018): each iteration solves
H s = −∇J by CG inside a trust region ‖s‖ ≤ Δ, takes the step if J fell enough against what
the quadratic model predicted, and grows or shrinks Δ by how well the model predicted it.

One thing beyond TRON: every CG product computes u = X̃ᵀ d for its direction d, and the step
s is a sum of those directions, so the margins at the trial point, Z + X̃ᵀ s, are a sum of
the u's too. J at the trial point therefore costs no pass over X; an accepted step costs one
(the gradient's X dZᵀ), each CG iteration two (one on large X: ``logreg._newton_kernels``).
With few parameters H is formed instead (``_ExplicitCurvature``) and Newton's step solved for.

Works on the notes' neuron (Y of one row) and a softmax layer (Y one-hot (K, m); W (n_x, K),
b (K, 1)); dense NumPy X or SciPy sparse X; float32 or float64 X (the products in X's own
precision, the Newton algebra in float64).
"""

import math

import numpy as np

from logreg import arrays, neuron
from logreg.errors import InvalidInputError, TrainingDivergedError
from logreg.fit import Fit, Recorder, TrainingInterrupted

# TRON's constants (LIBLINEAR, tron.cpp): accept a step when J fell by more than ETA0 of the
# predicted fall; shrink Δ below ETA1, keep it below ETA2, grow it above
ETA0, ETA1, ETA2 = 1e-4, 0.25, 0.75
SIGMA1, SIGMA2, SIGMA3 = 0.25, 0.5, 4.0
MOST_REJECTED = 60  # steps refused in a row (Δ halved or less each time) before it gives up
CG_TOLERANCE = 0.1  # CG stops when its residual is below this share of ‖∇J‖ (preconditioned),
# or below √(‖∇J‖ / ‖∇J₀‖) of it once that is smaller: a forcing sequence that makes the
# convergence superlinear (Nocedal & Wright, Theorem 7.2) where TRON's fixed 0.1 is linear
PRECONDITIONER_MIX = 0.01  # M = (1 − α) I + α diag(H), Hsia, Chiang & Lin (2018)
EXPLICIT_PARAMETERS = 64  # form H when there are at most this many parameters p,
EXPLICIT_WORK = 1e8  # or forming it (m p² flops) is at most this much work
ONE_PASS_BYTES = 32 * 2**20  # dense X from this size: H v in one pass (fused.MIN_BYTES)
CHUNK_BYTES = 8 * 2**20  # dense X: diag(H) from blocks of examples of this many bytes


class _Problem:
    """J, ∇J and H v for X (n_x, m), Y (K', m), as functions of θ = [vec W; b] (float64)."""

    def __init__(self, X, Y, sample_weight, l2, fit_intercept):
        self.X, self.Y = X, Y
        self.sparse = _sparse(X)
        self.rows = X.T  # (m, n_x): each example a row (a view; CSR for CSC X)
        if self.sparse and self.rows.format != "csr":
            self.rows = self.rows.tocsr()
        self.n_x, self.m = X.shape
        self.outputs = Y.shape[0]  # K' = 1 for the notes' neuron, K for a softmax layer
        self.weights = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        self.total = float(self.m if sample_weight is None else np.sum(self.weights))
        self.lam = l2 / self.total  # the penalty's (λ/m)
        self.fit_intercept = fit_intercept
        # one pass over X per H v on large X: sparse, or the neuron on dense rows (smaller X
        # stays in cache, where SciPy's or NumPy's two passes cost as little, and start faster)
        self.one_pass = (self.rows.data.nbytes >= ONE_PASS_BYTES if self.sparse else (
            self.outputs == 1 and isinstance(self.rows, np.ndarray)
            and self.rows.flags.c_contiguous and X.nbytes >= ONE_PASS_BYTES))
        if self.one_pass and self.outputs == 1:
            from logreg.fused import chunk_count

            chunks = chunk_count(self.m)  # fixed by m alone, as the fused kernel's
            self.bounds = np.array([self.m * c // chunks for c in range(chunks + 1)])
        self.split_at = self.n_x * self.outputs
        self.size = self.split_at + (self.outputs if fit_intercept else 0)
        self._squares = None

    def split(self, theta):
        """θ as (W (n_x, K'), b (K', 1)) views; b zeros without an intercept."""
        W = theta[:self.split_at].reshape(self.n_x, self.outputs)
        b = (theta[self.split_at:] if self.fit_intercept
             else np.zeros(self.outputs)).reshape(-1, 1)
        return W, b

    def forward(self, theta):
        """Z = Wᵀ X + b (K', m), in float64; the product in X's precision."""
        W, b = self.split(theta)
        W = W.astype(self.X.dtype, copy=False)
        if self.outputs == 1:
            return np.asarray(self.rows @ W[:, 0], dtype=np.float64).reshape(1, -1) + b
        return np.asarray(self.rows @ W, dtype=np.float64).T + b

    def backward(self, R):
        """[X Rᵀ; Σ R] for R (K', m): the gradient's and H v's product with X, flattened."""
        R_x = R.astype(self.X.dtype, copy=False)
        if self.outputs == 1:
            product = self.X @ R_x[0]
        else:
            product = self.X @ R_x.T
        product = np.asarray(product, dtype=np.float64).ravel()
        if not self.fit_intercept:
            return product
        return np.concatenate([product, R.sum(axis=1)])

    def cost(self, theta, Z):
        """J = (1/m) Σ L + (λ/2m)‖W‖² at θ, whose margins are Z."""
        W = theta[:self.split_at]
        return float(neuron.cost_from_z(Z, self.Y, self.weights)) + 0.5 * self.lam * (W @ W)

    def gradient(self, theta, Z):
        """∇J at θ and the curvature there: dZ = s(A − Y)/m, ∇J = [X dZᵀ + (λ/m) W; Σ dZ]."""
        A = neuron.activation(Z)
        dZ = A - self.Y  # dZ = A − Y
        scale = (1.0 / self.total if self.weights is None else self.weights / self.total)
        gradient = self.backward(dZ * scale)
        gradient[:self.split_at] += self.lam * theta[:self.split_at]  # + (λ/m) w
        kind = _ExplicitCurvature if self.explicit else _Curvature
        return gradient, kind(self, A, scale)

    @property
    def explicit(self):
        """Whether to form H (p × p, p parameters) rather than apply it, on dense X: with few
        parameters, or where forming it is little work (m p² flops, EXPLICIT_WORK). Then the
        Newton step is exact (one LAPACK solve) and CG needs no pass over X. Measured at
        (100000, 400): forming H each iteration took 4.5 s to the minimum, CG's products H v
        (one pass each) 2.7 s: CG. Wide data (p > m) too: H is then nearly singular (rank m
        plus λ/m), and CG needs few cheap products."""
        p = self.size
        return not self.sparse and (p <= EXPLICIT_PARAMETERS
                                    or (p <= self.m and self.m * p * p <= EXPLICIT_WORK))


def _kernels():
    """``logreg._newton_kernels`` where numba is installed, else None (SciPy's products)."""
    global _KERNELS
    if _KERNELS is None:
        try:
            from logreg import _newton_kernels as module
        except ImportError:
            module = False
        _KERNELS = module
    return _KERNELS or None


_KERNELS = None


def _sparse(X):
    import scipy.sparse

    return scipy.sparse.issparse(X)


class _Curvature:
    """The Hessian at one point: products H v and its diagonal, from A there."""

    def __init__(self, problem, A, scale):
        self.problem, self.A = problem, A
        if problem.outputs == 1:
            # D = s·a(1 − a)/m: the neuron's d²L/dz², weighted and averaged
            self.D = A * (1.0 - A) * scale
        else:
            self.scale = scale * np.ones((1, A.shape[1]))

    def product(self, v):
        """(H v, u = X̃ᵀ v): H v = X̃ (D ∘ u) + (λ/m) v_w; u, the margins' change along v."""
        problem = self.problem
        if problem.one_pass and _kernels() is not None:
            return self._one_pass(v)
        U = problem.forward(v)
        if problem.outputs == 1:
            R = self.D * U  # D u
        else:
            # (diag(a) − aaᵀ) u = a ∘ u − a (aᵀ u), example by example
            AU = self.A * U
            R = (AU - self.A * AU.sum(axis=0, keepdims=True)) * self.scale
        Hv = problem.backward(R)
        Hv[:problem.split_at] += problem.lam * v[:problem.split_at]
        return Hv, U

    def _one_pass(self, v):
        """The same H v in one pass over X (``_newton_kernels``): the neuron on dense rows or
        CSR rows, on ``logreg.fused``'s threads; a softmax layer on CSR rows."""
        from logreg import fused

        problem, kernels = self.problem, _kernels()
        rows, K = problem.rows, problem.outputs
        V, vb = problem.split(v)
        if K == 1:
            bounds = problem.bounds
            chunks = len(bounds) - 1
            parts, totals = np.zeros((chunks, problem.n_x)), np.zeros(chunks)
            U = np.empty(problem.m)
            direction = np.ascontiguousarray(V[:, 0])
            if problem.sparse:
                fused._run(kernels.sparse_neuron_chunks, chunks, rows.data, rows.indices,
                           rows.indptr, bounds, self.D[0], direction, float(vb[0, 0]), parts,
                           U, totals)
            else:
                fused._run(kernels.dense_neuron_chunks, chunks, rows, bounds, self.D[0],
                           direction.astype(rows.dtype), float(vb[0, 0]), parts, U, totals)
            # the chunks' partial sums in chunk order: the same bits on any number of threads
            HV, total, U = parts.sum(axis=0), np.array([totals.sum()]), U.reshape(1, -1)
        else:
            HV, total = np.zeros((problem.n_x, K)), np.zeros(K)
            U = np.empty((problem.m, K))
            if not hasattr(self, "_layer"):  # A and s/m example by example, made once
                self._layer = (np.ascontiguousarray(self.A.T),
                               np.ascontiguousarray(self.scale[0]))
            kernels.layer_product(rows.data, rows.indices, rows.indptr, *self._layer,
                                  np.ascontiguousarray(V), np.ascontiguousarray(vb[:, 0]), HV,
                                  U, total)
            U = U.T
        HV = HV.ravel()
        HV += problem.lam * v[:problem.split_at]  # + (λ/m) v
        return (np.concatenate([HV, total]) if problem.fit_intercept else HV), U

    def diagonal(self):
        """diag(H): Σᵢ cᵢ x_ij² + λ/m for each weight (cᵢ the curvature of example i in that
        output), Σᵢ cᵢ for each intercept."""
        problem = self.problem
        if problem.outputs == 1:
            C = self.D
        else:
            C = self.A * (1.0 - self.A) * self.scale  # the diagonal of diag(a) − aaᵀ
        squares = _squared_products(problem, C)
        squares[:problem.split_at] += problem.lam
        if problem.fit_intercept:
            squares = np.concatenate([squares, C.sum(axis=1)])
        return squares


class _ExplicitCurvature:
    """The Hessian formed, for few parameters: H = Σ_k,l X̃ diag(c_kl) X̃ᵀ in θ's order, with
    c = s·a(1 − a)/m for the neuron, s·(a_k δ_kl − a_k a_l)/m for a softmax layer. Newton's
    step −H⁻¹∇J is then one LAPACK solve, and CG (only when the step leaves the trust region)
    costs no pass over X."""

    def __init__(self, problem, A, scale):
        self.problem, self.A = problem, A
        K, n1 = problem.outputs, problem.n_x + problem.fit_intercept
        weights = np.broadcast_to(scale, (1, problem.m))[0]
        H = np.zeros((n1, K, n1, K))
        for start, rows in _float64_blocks(problem):  # X̃'s examples, a block at a time
            a, s = A[:, start:start + rows.shape[1]], weights[start:start + rows.shape[1]]
            if K == 1:
                # X̃ diag(c) X̃ᵀ = S Sᵀ with S = X̃ √c, c = s·a(1 − a) ≥ 0 (BLAS's syrk)
                S = rows * np.sqrt(s * a[0] * (1.0 - a[0]))
                H[:, 0, :, 0] += S @ S.T
                continue
            for k in range(K):
                for j in range(k, K):
                    c = s * a[k] * ((k == j) - a[j])  # softmax: a_k (δ_kj − a_j)
                    block = (rows * c) @ rows.T
                    H[:, k, :, j] += block
                    if j != k:
                        H[:, j, :, k] += block.T
        self.H = H.reshape(problem.size, problem.size)
        self.H[range(problem.split_at), range(problem.split_at)] += problem.lam  # + (λ/m) I_w

    def product(self, v):
        return self.H @ v, None

    def diagonal(self):
        return np.diagonal(self.H).copy()

    def newton_step(self, gradient):
        """s = −H⁻¹∇J, or None where H is singular (λ = 0, a flat direction). NumPy's LAPACK,
        not SciPy's: SciPy's own OpenBLAS threads would fight NumPy's for the cores (a
        500 × 500 Cholesky took 170 ms so, 2 ms alone)."""
        try:
            step = -np.linalg.solve(self.H, gradient)
        except np.linalg.LinAlgError:
            return None
        return step if np.all(np.isfinite(step)) else None


def _float64_blocks(problem):
    """(first example, X̃ of a block of examples in float64 (n_x + 1 with the row of ones for
    b, block)), blocks of about CHUNK_BYTES: no copy of the whole of X is ever made."""
    X = problem.X
    step = max(1, CHUNK_BYTES // (8 * (problem.n_x + 1)))
    for start in range(0, problem.m, step):
        rows = np.asarray(X[:, start:start + step], dtype=np.float64)
        if problem.fit_intercept:  # X̃ = X with a row of ones for b
            rows = np.vstack([rows, np.ones((1, rows.shape[1]))])
        yield start, rows


def _squared_products(problem, C):
    """(X ∘ X) Cᵀ, flattened as vec W: one pass over X (the neuron's: a kernel on fused's
    threads where H v has one; SciPy or NumPy in blocks of examples else)."""
    X = problem.X
    if problem.one_pass and problem.outputs == 1 and _kernels() is not None:
        from logreg import fused

        rows, bounds, kernels = problem.rows, problem.bounds, _kernels()
        parts = np.zeros((len(bounds) - 1, problem.n_x))
        if problem.sparse:
            fused._run(kernels.sparse_diagonal_chunks, len(bounds) - 1, rows.data,
                       rows.indices, rows.indptr, bounds, C[0], parts)
        else:
            fused._run(kernels.dense_diagonal_chunks, len(bounds) - 1, rows, bounds, C[0],
                       parts)
        return parts.sum(axis=0)  # in chunk order: the same bits on any number of threads
    if problem.sparse:
        if problem._squares is None:
            problem._squares = X.multiply(X).tocsc()
        return np.asarray(problem._squares @ C.T.astype(X.dtype), dtype=np.float64).ravel()
    step = max(1, CHUNK_BYTES // max(1, X.shape[0] * X.itemsize))
    total = np.zeros((problem.n_x, problem.outputs))
    for start in range(0, problem.m, step):
        block = X[:, start:start + step]
        total += (block * block) @ C[:, start:start + step].T.astype(X.dtype)
    return total.ravel()


def _conjugate_gradients(curvature, gradient, radius, M, forcing=CG_TOLERANCE):
    """Steihaug's CG on H s = −∇J inside ‖s‖_M ≤ Δ (TRON's trcg, preconditioned by M):
    (s, r = −∇J − H s, u = X̃ᵀ s or None where H is formed, the iterations). Where H is
    formed, its Newton step serves whenever it lies inside the region."""
    if isinstance(curvature, _ExplicitCurvature):
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
           gradient=None, example_space=False, fit_intercept=True, recorder=None, **_):
    """Trust-region Newton-CG on the cost J: (w, b) that minimise it, in few iterations.

    ``num_iterations`` caps the Newton iterations (accepted steps); ``tol`` is the gradient
    tolerance: stop when max |∂J/∂θ| ≤ tol (0: go on while J can still fall at machine
    precision). ``costs`` holds the starting cost and the cost after each iteration. A run
    that stops at ``num_iterations`` with a larger gradient warns (ConvergenceWarning).
    ``gradient`` (the engine) is not used: the method computes its own products with X.
    ``recorder`` (a ``logreg.fit.Recorder``; None records the history only) gets one row per
    entry of ``costs``: row 0 the start θ₀, row i the point θᵢ after the i-th accepted step,
    with J(θᵢ), ‖∇J(θᵢ)‖ (Euclidean, over θ; ``tol`` bounds its largest entry), the step
    ‖θᵢ − θᵢ₋₁‖ (0 at row 0; rejected trial steps are not steps) and the seconds since the
    solver began. When it says to stop (early stopping, a callback), the solver stops there.
    """
    if example_space:
        raise InvalidInputError("the Newton solver takes its own steps; the example-space "
                                "steps are gradient descent's. Use solver='gd'.")
    recorder = recorder or Recorder()
    problem = _Problem(X, Y, sample_weight, l2, fit_intercept)
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
        from logreg import diagnostics

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
        rejected = 0 if actual > ETA0 * predicted else rejected + 1
        if actual > ETA0 * predicted:  # accepted
            theta, Z, cost = trial, Z_trial, cost_trial
            g, curvature = problem.gradient(theta, Z)
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
        if abs(actual) <= 1e-12 * abs(cost) and abs(predicted) <= 1e-12 * abs(cost):
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
