"""The fused loss-and-gradient kernel: one pass over X per evaluation.

The notes' vectorised step reads X twice: Z = wᵀX + b streams it once, dw = X dZᵀ / m again.
Logistic regression on large data is bound by memory, so reading X once halves the time. Here
each example x⁽ⁱ⁾ is visited once while it sits in cache: z = wᵀx + b, a = σ(z), the loss,
dz = a − y, and its share x·dz of dw. Threads take fixed chunks of examples with their own
partial sums, added in a fixed order at the end, so the result does not depend on timing.

Compiled with numba (see docs/design.md for why). It needs the examples contiguous in memory:
X of shape (n_x, m) whose transpose is C-contiguous, which is what ``LogisticRegression`` hands
over (rows of the user's (m, n_x) array, transposed as a view). ``prepare`` makes that layout
once for any other array. X is read in its own dtype (float32 data is never copied to
float64); the sums are float64, so float32 data loses nothing in accumulation. The gradient
comes back in X's dtype.
"""

import functools
import importlib.util
import math
import os

import numpy as np

CHUNKS = 64  # fixed, so the order of summation never depends on the number of threads
MIN_SIZE = 50_000  # below this many numbers in X, the plain NumPy path is as fast


def available():
    """Whether numba is installed (it is a dependency; without it the NumPy path serves)."""
    return importlib.util.find_spec("numba") is not None


def wins(X):
    """Whether the fused kernel should serve this X: NumPy floats, large enough, numba present."""
    return (isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64) and X.ndim == 2
            and X.size >= MIN_SIZE and available())


def prepare(X):
    """X (n_x, m) with each example contiguous: a view when it already is, else one copy."""
    return np.ascontiguousarray(X.T).T


def _kernel(rows, y, s, w, b, weighted):
    m, n = rows.shape
    chunk = (m + CHUNKS - 1) // CHUNKS
    dw_parts = np.zeros((CHUNKS, n))
    sums = np.zeros((CHUNKS, 3))  # per chunk: Σ s·L, Σ s·dz, Σ s
    for c in prange(CHUNKS):
        dw = dw_parts[c]
        for i in range(c * chunk, min(m, (c + 1) * chunk)):
            x = rows[i]
            # z = wᵀx + b
            z = b
            for j in range(n):
                z += w[j] * x[j]
            weight = s[i] if weighted else 1.0
            # L = log(1 + eᶻ) − y z (the logistic loss from z), a = σ(z)
            e = math.exp(-abs(z))
            loss = max(z, 0.0) + math.log1p(e) - y[i] * z
            a = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
            # dz = a − y
            dz = weight * (a - y[i])
            # dw += x dz
            for j in range(n):
                dw[j] += x[j] * dz
            sums[c, 0] += weight * loss
            sums[c, 1] += dz
            sums[c, 2] += weight
    dw_total = np.zeros(n)
    totals = np.zeros(3)
    for c in range(CHUNKS):  # a fixed order: the same sums, bit for bit, on any machine
        for j in range(n):
            dw_total[j] += dw_parts[c, j]
        totals += sums[c]
    return totals[0], dw_total, totals[1], totals[2]


prange = range  # numba.prange once compiled


@functools.cache
def _compiled():
    """The kernel compiled by numba, on first use (importing numba takes a moment).

    OpenMP threads that wait by spinning make a parallel kernel 10-20 times slower when another
    process holds a core (measured: 25 ms → 600-900 ms on a shared 2-core machine); waiting
    passively costs nothing measurable here. The default is set before numba loads OpenMP, and
    only where the user has not chosen.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numba

    globals()["prange"] = numba.prange
    return numba.njit(parallel=True, fastmath={"contract", "reassoc"}, cache=True,
                      nogil=True)(_kernel)


def loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0):
    """(J, dw, db) in one pass over X: the same contract and numbers as
    ``neuron.loss_and_gradient`` (only the order of summation differs)."""
    rows = X.T
    if not rows.flags.c_contiguous:
        rows = np.ascontiguousarray(rows)  # callers on the hot path pass ``prepare``d X
    weighted = sample_weight is not None
    s = np.ravel(sample_weight).astype(np.float64) if weighted else np.empty(0)
    total_loss, dw, total_dz, m = _compiled()(rows, np.ravel(Y).astype(np.float64, copy=False), s,
                                         np.ravel(w).astype(np.float64), float(b), weighted)
    # J = (1/m) Σ L, dw = (1/m) X dZᵀ, db = (1/m) Σ dZ
    cost, dw, db = total_loss / m, dw.reshape(-1, 1) / m, total_dz / m
    if l2:
        # J += (λ/2m)‖w‖²,  dw += (λ/m) w
        cost += l2 / (2 * m) * float(np.sum(np.square(w, dtype=np.float64)))
        dw = dw + (l2 / m) * w
    return np.float64(cost), dw.astype(X.dtype, copy=False), X.dtype.type(db)
