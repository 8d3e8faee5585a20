"""The second derivatives Newton's method needs, as the engine table's "fused" row gives them:
numba kernels (``logreg.engines.newton_kernels``) on ``logreg.engines.threads``.

The same ``curvature.Problem`` (J, ∇J and the margins by BLAS and SciPy: the gradient
X dZᵀ is one pass over X already), with the second derivatives in one pass over X each:
H v (uᵢ = x̃ᵢᵀ v, its curvature times uᵢ, then its share x̃ᵢ rᵢ, while xᵢ is in cache, where
NumPy and SciPy read X twice), diag H, and H itself where ``curvature.formed`` says to form
it. Each kernel works on fixed chunks of examples, each with its own partial sums, added in
chunk order (the same bits on any number of threads); the softmax layer's sparse H v runs on
one thread. Needs the examples contiguous (dense X (n_x, m) whose transpose is C-contiguous,
or CSC X), which ``engines.resolve`` checks before it picks this row.
"""

import numpy as np

from logreg.engines import vectorized as curvature, fused, threads


def _kernels():
    from logreg.engines import newton_kernels as _newton_kernels

    return _newton_kernels


class Problem(curvature.Problem):
    """``curvature.Problem`` whose curvature comes from the numba kernels."""

    def __init__(self, X, Y, sample_weight, l2, fit_intercept):
        super().__init__(X, Y, sample_weight, l2, fit_intercept)
        if not self.sparse:
            self.rows = np.ascontiguousarray(self.rows)  # a view where resolve chose fused
        # the chunks: fixed by m (and K) alone, as the fused kernel's
        chunks = fused.chunk_count(self.m, 1 if self.outputs == 1 or self.sparse
                                   else self.outputs)
        self.bounds = np.array([self.m * c // chunks for c in range(chunks + 1)])

    def run(self, kernel, *arguments):
        """``kernel`` over every chunk on the kernels' threads (``threads.run``)."""
        threads.run(kernel, len(self.bounds) - 1, *arguments)

    def applied(self, A, scale):
        """The curvature at the point whose activations are A: H v and diag H in one pass."""
        return OnePassCurvature(self, A, scale)

    def formed_hessian(self, A, scale):
        """The curvature at the point whose activations are A, H formed in one pass."""
        return OnePassFormedCurvature(self, A, scale)


class OnePassCurvature(curvature.Curvature):
    """H v and diag H in one pass over X each."""

    def product(self, v):
        """(H v, u = X̃ᵀ v) in one pass: the neuron on dense or CSR rows, a softmax layer on
        dense rows (chunks on the kernels' threads) or CSR rows (one thread)."""
        problem, kernels = self.problem, _kernels()
        rows, K, bounds = problem.rows, problem.outputs, problem.bounds
        V, vb = problem.split(v)
        parts = np.zeros((len(bounds) - 1, problem.n_x) + ((K,) if K > 1 else ()))
        totals = np.zeros((len(bounds) - 1,) + ((K,) if K > 1 else ()))
        if K == 1:
            U = np.empty(problem.m)
            direction = np.ascontiguousarray(V[:, 0])
            if problem.sparse:
                problem.run(kernels.sparse_neuron_chunks, rows.data, rows.indices,
                            rows.indptr, bounds, self.D[0], direction, float(vb[0, 0]), parts,
                            U, totals)
            else:
                problem.run(kernels.dense_neuron_chunks, rows, bounds, self.D[0],
                            direction.astype(rows.dtype), float(vb[0, 0]), parts, U, totals)
            # the chunks' partial sums in chunk order: the same bits on any number of threads
            HV, total, U = parts.sum(axis=0), np.array([totals.sum()]), U.reshape(1, -1)
        else:
            U = np.empty((problem.m, K))
            if not hasattr(self, "_layer"):  # A and s/m example by example, made once
                self._layer = (np.ascontiguousarray(self.A.T),
                               np.ascontiguousarray(self.scale[0]))
            if problem.sparse:
                HV, total = np.zeros((problem.n_x, K)), np.zeros(K)
                kernels.layer_product(rows.data, rows.indices, rows.indptr, *self._layer,
                                      np.ascontiguousarray(V), np.ascontiguousarray(vb[:, 0]),
                                      HV, U, total)
            else:
                problem.run(kernels.dense_layer_chunks, rows, bounds, *self._layer,
                            np.ascontiguousarray(V), np.ascontiguousarray(vb[:, 0]), parts, U,
                            totals)
                HV, total = parts.sum(axis=0), totals.sum(axis=0)
            U = U.T
        HV = HV.ravel()
        HV += problem.lam * v[:problem.split_at]  # + (λ/m) v
        return (np.concatenate([HV, total]) if problem.fit_intercept else HV), U

    def squared_products(self, C):
        """(X ∘ X) Cᵀ, flattened as vec W, in one pass (chunks on the kernels' threads)."""
        problem, kernels = self.problem, _kernels()
        rows, bounds, K = problem.rows, problem.bounds, problem.outputs
        parts = np.zeros((len(bounds) - 1, problem.n_x) + ((K,) if K > 1 else ()))
        if K == 1:
            kernel = kernels.sparse_diagonal_chunks if problem.sparse else (
                kernels.dense_diagonal_chunks)
            weights = C[0]
        else:
            kernel = kernels.sparse_layer_diagonal_chunks if problem.sparse else (
                kernels.dense_layer_diagonal_chunks)
            weights = np.ascontiguousarray(C.T)  # (m, K)
        arguments = ((rows.data, rows.indices, rows.indptr) if problem.sparse else (rows,))
        problem.run(kernel, *arguments, bounds, weights, parts)
        return parts.sum(axis=0).ravel()  # in chunk order: the same bits on any thread count


class OnePassFormedCurvature(curvature.FormedCurvature):
    """H formed in one pass over X (chunks on the kernels' threads), for few parameters."""

    @staticmethod
    def formed(problem, A, scale):
        """X̃ D X̃ᵀ as (n1, K', n1, K'): each example's x̃ x̃ᵀ ⊗ Cᵢ, Cᵢ its curvature."""
        K, n1 = problem.outputs, problem.n_x + problem.fit_intercept
        s = np.broadcast_to(scale, (1, problem.m))[0]
        a = A.T  # (m, K')
        if K == 1:  # c = s·a(1 − a)
            C = (s * a[:, 0] * (1.0 - a[:, 0])).reshape(-1, 1, 1)
        else:  # softmax: s·a_k (δ_kq − a_q)
            C = s[:, None, None] * (a[:, :, None] * (np.eye(K) - a[:, None, :]))
        parts = np.zeros((len(problem.bounds) - 1, n1, K, n1, K))
        problem.run(_kernels().dense_hessian_chunks, problem.rows, problem.bounds,
                    np.ascontiguousarray(C), bool(problem.fit_intercept), parts)
        H = parts.sum(axis=0)  # the blocks j ≤ l, in chunk order; then H[j,k,l,q] = H[l,q,j,k]
        upper, lower = np.indices((n1, n1))
        return np.where((upper > lower)[:, None, :, None], H.transpose(2, 3, 0, 1), H)


def problem(X, Y, sample_weight=None, l2=0.0, fit_intercept=True):
    """The "fused" row's second derivatives for X (n_x, m), Y (K', m): a ``Problem``."""
    return Problem(X, Y, sample_weight, l2, fit_intercept)
