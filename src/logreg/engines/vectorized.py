"""The second derivatives Newton's method needs, as the engine table's "vectorized" row gives
them: NumPy and SciPy products (the "fused" row's, numba kernels: ``logreg.engines.fused_curvature``).

The notes differentiate the loss once: dz = a − y. Once more gives the curvature
d²L/dz² = a(1 − a) (the softmax's: diag(a) − aaᵀ), and the Hessian of the cost
J = (1/m) Σ L + (λ/2m)‖w‖² in (w, b) is

    H = X̃ D X̃ᵀ / m + (λ/m) I_w,   X̃ = X with a row of ones (for b),  D = diag(s·a(1 − a)).

With many parameters H is never formed: conjugate gradients need only products H v, and each
is the notes' two products again: u = X̃ᵀ v (a forward pass, like Z = wᵀX + b), then
X̃ (D u) / m (a backward pass, like dw = X dZᵀ / m). With few parameters H is formed instead
(``FormedCurvature``; the rule is ``formed``) and Newton's step solved for.

An engine row's ``curvature`` entry names a builder ``problem(X, Y, sample_weight, l2,
fit_intercept)`` → a ``Problem``: J, ∇J and the margins Z at θ = [vec W; b], and at each
point (``Problem.gradient``) the curvature there, whose ``product`` is H v and ``diagonal``
diag H. Works on the notes' neuron (Y of one row) and a softmax layer (Y one-hot (K, m)),
dense NumPy X or SciPy sparse X, float32 or float64 X (the products in X's own precision,
the Newton algebra in float64).
"""

import numpy as np

from logreg.core import neuron

EXPLICIT_PARAMETERS = 64  # form H when there are at most this many parameters p,
EXPLICIT_WORK = 1e8  # or forming it (m p² flops) is at most this much work
CHUNK_BYTES = 8 * 2**20  # dense X: diag(H) and the formed H from blocks of this many bytes


def formed(n_x, m, outputs, fit_intercept, sparse):
    """Whether to form H (p × p, p parameters) rather than apply it, on dense X: with few
    parameters, or where forming it is little work (m p² flops, EXPLICIT_WORK). Then the
    Newton step is exact (one LAPACK solve) and CG needs no pass over X. Measured at
    (100000, 400): forming H each iteration took 4.5 s to the minimum, CG's products H v
    (one pass each) 2.7 s: CG. Wide data (p > m) too: H is then nearly singular (rank m
    plus λ/m), and CG needs few cheap products. The one rule: ``engines`` asks it too."""
    p = n_x * outputs + (outputs if fit_intercept else 0)
    return not sparse and (p <= EXPLICIT_PARAMETERS or (p <= m and m * p * p <= EXPLICIT_WORK))


class Problem:
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
        self.split_at = self.n_x * self.outputs
        self.size = self.split_at + (self.outputs if fit_intercept else 0)
        self.explicit = formed(self.n_x, self.m, self.outputs, fit_intercept, self.sparse)
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
        return gradient, (self.formed_hessian if self.explicit else self.applied)(A, scale)

    def applied(self, A, scale):
        """The curvature at the point whose activations are A, applied: H v and diag H."""
        return Curvature(self, A, scale)

    def formed_hessian(self, A, scale):
        """The curvature at the point whose activations are A, H formed (few parameters)."""
        return FormedCurvature(self, A, scale)

    def curvatures(self, A, scale):
        """C (K', m): each example's d²L/dz² in each output, weighted and averaged (the
        diagonal of diag(a) − aaᵀ for a softmax layer): diag(H)'s weights."""
        if self.outputs == 1:
            return A * (1.0 - A) * scale  # D = s·a(1 − a)/m
        return A * (1.0 - A) * (scale * np.ones((1, A.shape[1])))


def _sparse(X):
    import scipy.sparse

    return scipy.sparse.issparse(X)


class Curvature:
    """The Hessian at one point: products H v and its diagonal, from A there (NumPy, SciPy:
    two passes over X a product)."""

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

    def diagonal(self):
        """diag(H): Σᵢ cᵢ x_ij² + λ/m for each weight (cᵢ the curvature of example i in that
        output), Σᵢ cᵢ for each intercept."""
        problem = self.problem
        C = self.D if problem.outputs == 1 else problem.curvatures(self.A, self.scale)
        squares = self.squared_products(C)
        squares[:problem.split_at] += problem.lam
        if problem.fit_intercept:
            squares = np.concatenate([squares, C.sum(axis=1)])
        return squares

    def squared_products(self, C):
        """(X ∘ X) Cᵀ, flattened as vec W: SciPy, or NumPy in blocks of examples."""
        problem = self.problem
        X = problem.X
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


class FormedCurvature:
    """The Hessian formed, for few parameters: H = Σ_k,l X̃ diag(c_kl) X̃ᵀ in θ's order, with
    c = s·a(1 − a)/m for the neuron, s·(a_k δ_kl − a_k a_l)/m for a softmax layer. Newton's
    step −H⁻¹∇J is then one LAPACK solve, and CG (only when the step leaves the trust region)
    costs no pass over X."""

    def __init__(self, problem, A, scale):
        self.problem, self.A = problem, A
        self.H = self.formed(problem, A, scale).reshape(problem.size, problem.size)
        self.H[range(problem.split_at), range(problem.split_at)] += problem.lam  # + (λ/m) I_w

    @staticmethod
    def formed(problem, A, scale):
        """X̃ D X̃ᵀ as (n1, K', n1, K') from blocks of examples (BLAS)."""
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
        return H

    def product(self, v):
        """(H v, None): the product with the formed H (no pass over X, so no X̃ᵀ v)."""
        return self.H @ v, None

    def diagonal(self):
        """diag(H), read off the formed H."""
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


def problem(X, Y, sample_weight=None, l2=0.0, fit_intercept=True):
    """The "vectorized" row's second derivatives for X (n_x, m), Y (K', m): a ``Problem``."""
    return Problem(X, Y, sample_weight, l2, fit_intercept)
