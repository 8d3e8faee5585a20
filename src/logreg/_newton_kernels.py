"""The Newton solver's product H v in one pass over X (numba).

NumPy and SciPy compute H v = X̃ (D ∘ (X̃ᵀ v)) in two passes: u = X̃ᵀ v, then X̃ (D ∘ u).
Here each example (a row of Xᵀ: dense and contiguous, or a CSR row) is read once, while it is
in cache: uᵢ = xᵢᵀ v + v_b, its curvature times uᵢ, then its share xᵢ rᵢ of H v. The
neuron's kernels work on chunks ``first`` to ``last`` of examples, each chunk with its own
partial H v, which ``logreg.fused``'s threads run and the caller adds up in chunk order (the
same bits on any number of threads). The softmax layer's sparse kernel runs on one thread.
Imported by ``logreg.newton`` only where numba is installed; ``cache=True`` so that later
processes load the compiled code.
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
