"""The Newton solver's product H v in one pass over X (numba).

NumPy and SciPy compute H v = X̃ (D ∘ (X̃ᵀ v)) in two passes: u = X̃ᵀ v, then X̃ (D ∘ u).
Here each example (a row of Xᵀ: dense and contiguous, or a CSR row) is read once, while it is
in cache: uᵢ = xᵢᵀ v + v_b, its curvature times uᵢ, then its share xᵢ rᵢ of H v. The
neuron's kernels work on chunks ``first`` to ``last`` of examples, each chunk with its own
partial H v, which ``logreg.engines.threads`` runs and the caller adds up in chunk order (the
same bits on any number of threads). The softmax layer's sparse kernel runs on one thread.
Besides H v: diag H (the preconditioner's) and, for few parameters, H itself. Imported by
``logreg.engines.fused_curvature`` (the engine table's "fused" row, which needs numba);
``cache=True`` so that later processes load the compiled code.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, fastmath=True)
def dense_neuron_chunks(rows, bounds, D, v, vb, parts, U, totals, first, last):
    """The neuron on dense rows (m, n_x), chunks ``first`` to ``last``: uᵢ = xᵢᵀ v + v_b,
    rᵢ = Dᵢ uᵢ, parts[c] += xᵢ rᵢ, totals[c] += rᵢ; U gets every uᵢ."""
    n = rows.shape[1]
    for c in range(first, last):
        hv = parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            x = rows[i]
            u = 0.0
            for j in range(n):  # uᵢ = xᵢᵀ v
                u += x[j] * v[j]
            u += vb
            U[i] = u
            r = D[i] * u  # d²L/dz² · uᵢ
            totals[c] += r
            for j in range(n):  # H v += xᵢ rᵢ
                hv[j] += x[j] * r


@numba.njit(cache=True, nogil=True, fastmath=True)
def sparse_neuron_chunks(data, indices, indptr, bounds, D, v, vb, parts, U, totals, first,
                         last):
    """The neuron on CSR rows, chunks ``first`` to ``last`` (as ``dense_neuron_chunks``)."""
    for c in range(first, last):
        hv = parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            start, stop = indptr[i], indptr[i + 1]
            u = vb
            for p in range(start, stop):  # uᵢ = xᵢᵀ v + v_b
                u += data[p] * v[indices[p]]
            U[i] = u
            r = D[i] * u  # d²L/dz² · uᵢ
            totals[c] += r
            for p in range(start, stop):  # H v += xᵢ rᵢ
                hv[indices[p]] += data[p] * r


@numba.njit(cache=True, nogil=True, fastmath=True)
def dense_diagonal_chunks(rows, bounds, D, parts, first, last):
    """diag(X D Xᵀ) for the preconditioner: parts[c] += Dᵢ xᵢ ∘ xᵢ over chunk c's rows."""
    n = rows.shape[1]
    for c in range(first, last):
        total = parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            x, d = rows[i], D[i]
            for j in range(n):
                total[j] += d * x[j] * x[j]


@numba.njit(cache=True, nogil=True, fastmath=True)
def sparse_diagonal_chunks(data, indices, indptr, bounds, D, parts, first, last):
    """The same on CSR rows: parts[c][j] += Dᵢ x_ij² over the non-zeros."""
    for c in range(first, last):
        total = parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            d = D[i]
            for p in range(indptr[i], indptr[i + 1]):
                total[indices[p]] += d * data[p] * data[p]


@numba.njit(cache=True, nogil=True, fastmath=True)
def layer_product(data, indices, indptr, A, scale, V, vb, HV, U, total):
    """A softmax layer: uᵢ = Vᵀ xᵢ + v_b (K), rᵢ = sᵢ (aᵢ ∘ uᵢ − aᵢ (aᵢᵀ uᵢ)),
    H V += xᵢ rᵢᵀ (HV (n_x, K) zeroed by the caller); U (m, K) gets every uᵢ, total Σ rᵢ."""
    K = V.shape[1]
    r = np.empty(K)
    for i in range(indptr.shape[0] - 1):
        start, stop = indptr[i], indptr[i + 1]
        for k in range(K):
            U[i, k] = vb[k]
        for p in range(start, stop):  # uᵢ = Vᵀ xᵢ + v_b
            x, j = data[p], indices[p]
            for k in range(K):
                U[i, k] += x * V[j, k]
        au = 0.0
        for k in range(K):
            au += A[i, k] * U[i, k]
        for k in range(K):  # (diag(a) − aaᵀ) u = a ∘ u − a (aᵀ u)
            r[k] = scale[i] * A[i, k] * (U[i, k] - au)
            total[k] += r[k]
        for p in range(start, stop):  # H V += xᵢ rᵢᵀ
            x, j = data[p], indices[p]
            for k in range(K):
                HV[j, k] += x * r[k]


@numba.njit(cache=True, nogil=True, fastmath=True)
def dense_layer_chunks(rows, bounds, A, scale, V, vb, parts, U, totals, first, last):
    """A softmax layer on dense rows (m, n_x), chunks ``first`` to ``last``: uᵢ = Vᵀ xᵢ + v_b
    (K), rᵢ = sᵢ (aᵢ ∘ uᵢ − aᵢ (aᵢᵀ uᵢ)), parts[c] += xᵢ rᵢᵀ, totals[c] += rᵢ; U (m, K) gets
    every uᵢ."""
    n, K = rows.shape[1], V.shape[1]
    r = np.empty(K)
    for c in range(first, last):
        hv = parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            x = rows[i]
            for k in range(K):
                U[i, k] = vb[k]
            for j in range(n):  # uᵢ = Vᵀ xᵢ + v_b
                for k in range(K):
                    U[i, k] += x[j] * V[j, k]
            au = 0.0
            for k in range(K):
                au += A[i, k] * U[i, k]
            for k in range(K):  # (diag(a) − aaᵀ) u = a ∘ u − a (aᵀ u)
                r[k] = scale[i] * A[i, k] * (U[i, k] - au)
                totals[c, k] += r[k]
            for j in range(n):  # H V += xᵢ rᵢᵀ
                for k in range(K):
                    hv[j, k] += x[j] * r[k]


@numba.njit(cache=True, nogil=True, fastmath=True)
def dense_layer_diagonal_chunks(rows, bounds, C, parts, first, last):
    """diag(H) of a softmax layer: parts[c][j, k] += C[i, k] x_ij² over chunk c's rows."""
    n, K = rows.shape[1], C.shape[1]
    for c in range(first, last):
        total = parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            x = rows[i]
            for j in range(n):
                square = x[j] * x[j]
                for k in range(K):
                    total[j, k] += C[i, k] * square


@numba.njit(cache=True, nogil=True, fastmath=True)
def sparse_layer_diagonal_chunks(data, indices, indptr, bounds, C, parts, first, last):
    """The same on CSR rows: parts[c][j, k] += C[i, k] x_ij² over the non-zeros."""
    K = C.shape[1]
    for c in range(first, last):
        total = parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            for p in range(indptr[i], indptr[i + 1]):
                square = data[p] * data[p]
                for k in range(K):
                    total[indices[p], k] += C[i, k] * square


@numba.njit(cache=True, nogil=True, fastmath=True)
def dense_hessian_chunks(rows, bounds, C, intercept, parts, first, last):
    """H formed, for few parameters: parts[c][j, k, l, q] += x̃_ij x̃_il C[i, k, q] for j ≤ l
    (x̃ = x with a 1 appended for b when ``intercept``; C[i] the K' × K' curvature of example
    i: s·a(1 − a)/m, or s·(diag(a) − aaᵀ)/m); the caller mirrors the blocks j > l."""
    n = rows.shape[1]
    n1, K = n + (1 if intercept else 0), C.shape[1]
    x = np.empty(n1)
    for c in range(first, last):
        H = parts[c]
        for i in range(bounds[c], bounds[c + 1]):
            for j in range(n):
                x[j] = rows[i, j]
            if intercept:
                x[n] = 1.0
            for j in range(n1):
                for l in range(j, n1):
                    xx = x[j] * x[l]
                    for k in range(K):
                        for q in range(K):
                            H[j, k, l, q] += xx * C[i, k, q]
