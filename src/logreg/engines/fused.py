"""The fused loss-and-gradient kernel: one pass over X per evaluation.

The notes' vectorised step reads X twice: Z = WᵀX + b streams it once, dW = X dZᵀ / m again.
Logistic regression on large data is bound by memory, so reading X once halves the time. Here
each example x⁽ⁱ⁾ is visited once while it sits in cache: z = Wᵀx + b, the activation, the
loss, dz = a − y, and its share x·dzᵀ of dW. The examples are cut into chunks, a number that
depends on the data alone (for dense X on m and K: up to 64, at least 256 examples each), each
with its own partial sums; threads take contiguous runs of chunks; the partial sums are added in
chunk order at the end, so the result does not depend on timing or on the number of threads.

Three kernels, compiled with numba (see docs/design.md for why), none of which calls BLAS. They
live in ``logreg.engines.fused_kernels``, imported on first use (numba stays optional), compiled once
per signature and loaded from numba's cache by every later process:

- the notes' neuron (Y of one row) on dense X: z = wᵀx + b, a = σ(z). Each chunk is read as
  four streams (its quarters side by side), one example of each a round: one pass over the
  features computes the next four's z = wᵀx from memory and, every other round, adds the last
  eight's x dz to dw from cache, so that memory is read all the time; the loss's log is taken
  once for 32 examples (log Π (1 + e^{−|z|}): a log costs three exps). What keeps it off the
  one-pass bound is that memory waits while the pass also loads and stores dw: z = wᵀx alone
  reads X at 1.03× the bound on one thread, with dw's loads and stores at 1.2×
  (benchmarks/neuron_kernel_bench.py). At (500, 200000) on a 2-core Xeon, two threads: 1.2×
  the bound in float64, 1.4× in float32 (four neighbouring examples at a time: 1.3×, 2.4×);
- a softmax layer (Y one-hot (K, m), W (n_x, K), b (K, 1)) on dense X: all K outputs in the
  same pass. A block of 32 examples at a time: Z = WᵀX + b, four examples and two classes per
  sweep over the features (each x and each column of W loaded once for eight products), the
  softmax with log-sum-exp, the loss, dZ = A − Y, and the block's share of dWᵀ = dZ Xᵀ while
  the block is still in cache (float32 X: summed in float32 over the block, then added to the
  float64 sums). Many features are cut into tiles that keep their slice of W in cache. BLAS is
  not used: at (200000, 500) float64, K = 10, OpenBLAS takes 0.18 s for X W and 0.20 s for
  Xᵀ dZ on one core, this kernel 0.23 s for both, and two threads each calling BLAS would need
  its own thread pool held to one thread;
- SciPy sparse X, binary or K classes: X (n_x, m) in CSC, whose transpose is CSR with each
  example a row (a view: data, indices and indptr are read as they are, never densified or
  copied). Per example: z = Σ_j x_j W[j] + b over its non-zeros, the loss, dz, then
  dW[j] += x_j dz over the same non-zeros. Each chunk's dW is as large as W, so the chunks are
  few: at most 8 (16 made the neuron's evaluation 10 % slower: more dW to clear and add up),
  and together at most a quarter of X's own bytes (memory O(nnz)); their bounds balance the
  non-zeros. The neuron takes two examples at a time.

It needs the examples contiguous in memory: dense X of shape (n_x, m) whose transpose is
C-contiguous, which is what ``LogisticRegression`` hands over (rows of the user's (m, n_x)
array, transposed as a view); ``wins`` says no to any other layout, which would need a copy.
X is read in its own dtype (float32 data is never copied to float64); the sums over examples
are float64, so float32 data loses little in accumulation (on dense float32 X, an example's
z = Wᵀx and a block's dZ Xᵀ are summed in float32, as BLAS would: converting each x to float64
cost the neuron more than reading it). The gradient comes back in X's dtype.

The threads and how many (``thread_limit``, ``threads``) are ``logreg.engines.threads``'s; the
chunks depend on the data alone, so any number of threads gives the same bits.
"""

import functools
import importlib.util

import numpy as np

from logreg.engines import threads
from logreg.errors import InvalidInputError

CHUNKS = 64  # at most; fixed by the data alone, so the sums never depend on the threads
CHUNK_EXAMPLES = 256  # at least this many examples a chunk: each chunk has its own dw
MIN_BYTES = 32 * 2**20  # smaller X stays in cache between NumPy's two passes: NumPy wins
TILE_BYTES = 2**16  # K classes: a tile of features holds this much of W (float32: half)
SPARSE_CHUNKS = 8  # sparse X: at most this many chunks, each with a dW as large as W
SPARSE_SHARE = 4  # sparse X: the chunks' dW together take at most 1/4 of X's bytes


def available():
    """Whether numba is installed (it is a dependency; without it the NumPy path serves)."""
    return importlib.util.find_spec("numba") is not None


def _is_sparse(X):
    import scipy.sparse

    return scipy.sparse.issparse(X)


def wins(X):
    """Whether the fused kernel should serve this X: NumPy floats, too large for the cache
    (where NumPy's second pass over X is nearly free), or SciPy sparse in CSC (n_x, m) (its
    one pass over the non-zeros beats SciPy's two), and numba present."""
    if _is_sparse(X):
        return X.format == "csc" and X.dtype in (np.float32, np.float64) and available()
    return (isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64) and X.ndim == 2
            and X.T.flags.c_contiguous and X.nbytes >= MIN_BYTES and available())


def chunk_count(m, classes=1):
    """How many chunks m examples are cut into: a function of m (and of the number of classes
    K: each chunk's dW holds n_x·K float64, so a chunk has at least 16 K examples and the
    chunks' dW stay under an eighth of X's bytes)."""
    return max(1, min(CHUNKS, m // max(CHUNK_EXAMPLES, 16 * classes)))


def feature_tile(classes, itemsize):
    """K classes: how many features a tile holds, so that its slice of Wᵀ (K, tile) stays in
    cache while a block of examples streams past (a multiple of 16, for vector loads)."""
    return max(16, TILE_BYTES // (itemsize * classes) // 16 * 16)


def sparse_bounds(indptr, n_x, classes, nbytes):
    """Sparse X: the first example of each chunk and the end, (chunks + 1,). The chunks are few
    (each has a dW of n_x·K float64: together at most 1/SPARSE_SHARE of X's bytes, at most
    SPARSE_CHUNKS) and hold about as many non-zeros each. A function of the data alone."""
    m = indptr.shape[0] - 1
    room = nbytes // SPARSE_SHARE // max(1, 8 * n_x * classes)
    chunks = max(1, min(SPARSE_CHUNKS, m // CHUNK_EXAMPLES, room))
    nnz = int(indptr[-1]) - int(indptr[0])
    targets = int(indptr[0]) + nnz * np.arange(1, chunks) // chunks
    inner = np.searchsorted(indptr, targets, side="left")
    return np.concatenate(([0], inner, [m])).astype(np.int64)


@functools.cache
def _kernels():
    """The compiled kernels (``logreg.engines.fused_kernels``), imported on first use: numba loads
    only then, and each kernel compiles once per signature, then loads from numba's cache."""
    from logreg.engines import fused_kernels as _fused_kernels

    return _fused_kernels


def _compiled():
    """The neuron's kernel on dense X."""
    return _kernels().neuron_chunks


def _run_chunks(*arguments):
    """The neuron's dense kernel over every chunk (``arguments[7]`` holds one dw per chunk)."""
    threads.run(_compiled(), arguments[7].shape[0], *arguments)


def loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0):
    """(J, dw, db) in one pass over X: the same contract and numbers as
    ``neuron.loss_and_gradient`` (only the order of summation differs).

    Y of one row: the notes' neuron (w (n_x, 1), b a number, db a number). Y of K rows
    (one-hot): the softmax layer (W (n_x, K), b (K, 1), db (K, 1)). X is a NumPy array, or a
    SciPy sparse matrix or array in CSC whose transpose is CSR rows (never densified)."""
    weighted = sample_weight is not None
    s = np.ravel(sample_weight).astype(np.float64) if weighted else np.empty(0)
    Y = _labels(Y)
    _check_shapes(w, b, X, Y, s, weighted)
    if _is_sparse(X):
        return _sparse(w, b, X, Y, s, weighted, l2)
    rows = X.T
    if not rows.flags.c_contiguous:
        rows = np.ascontiguousarray(rows)  # a copy: "auto" never picks fused for such X
    if Y.shape[0] > 1:
        return _layer(w, b, X.dtype, rows, Y, s, weighted, l2)
    chunks = chunk_count(rows.shape[0])
    dw_parts, sums = np.zeros((chunks, rows.shape[1])), np.zeros((chunks, 3))
    # w in X's dtype: float32 X sums z = wᵀx and a block's x dz in float32, as BLAS would
    _run_chunks(rows, np.ravel(Y).astype(np.float64, copy=False), s,
                np.ravel(w).astype(rows.dtype), float(b), weighted, rows.dtype != np.float64,
                dw_parts, sums)
    # the chunks' partial sums, added in a fixed order: the same bits on any number of threads
    total_loss, total_dz, m = sums.sum(axis=0)
    dw = dw_parts.sum(axis=0)
    # J = (1/m) Σ L, dw = (1/m) X dZᵀ, db = (1/m) Σ dZ
    cost, dw, db = total_loss / m, dw.reshape(-1, 1) / m, total_dz / m
    if l2:
        # J += (λ/2m)‖w‖²,  dw += (λ/m) w
        cost += l2 / (2 * m) * float(np.sum(np.square(w, dtype=np.float64)))
        dw = dw + (l2 / m) * w
    return np.float64(cost), dw.astype(X.dtype, copy=False), X.dtype.type(db)


def _check_shapes(w, b, X, Y, s, weighted):
    """The kernels read without bounds checks: shapes that disagree are refused here."""
    n_x, m = X.shape
    K = Y.shape[0]
    shapes = {"Y": (Y.shape[1], m), "w": (np.size(w), n_x * K), "b": (np.size(b), K)}
    if weighted:
        shapes["sample_weight"] = (s.shape[0], m)
    for name, (got, want) in shapes.items():
        if got != want:
            raise InvalidInputError(
                f"the fused kernel got X of shape {X.shape}, Y of shape {Y.shape}, w of shape "
                f"{np.shape(w)}, b of shape {np.shape(b)}: {name} does not fit. Expected Y "
                f"(K, m), w (n_x, K), b a number (K = 1) or (K, 1), sample_weight (1, m).")


def _labels(Y):
    """Y as the kernels read it, (1, m) or (K, m): a float array as it is (no copy), anything
    else as float64; labels of one dimension are the notes' neuron's (1, m)."""
    Y = np.asarray(Y)
    Y = Y if Y.dtype in (np.float32, np.float64) else Y.astype(np.float64)
    return Y.reshape(1, -1) if Y.ndim == 1 else Y


def _layer(W, b, dtype, rows, Y, s, weighted, l2):
    """K classes on dense rows (m, n_x): (J, dW (n_x, K), db (K, 1))."""
    K = Y.shape[0]
    chunks = chunk_count(rows.shape[0], K)
    dW_parts, sums = np.zeros((chunks, K, rows.shape[1])), np.zeros((chunks, 2 + K))
    # Wᵀ (K, n_x) in X's dtype: each class's weights contiguous, each x read in its own dtype
    Wt = np.ascontiguousarray(np.asarray(W).T, dtype=dtype)
    threads.run(_kernels().layer_chunks, chunks, rows, Y, s, weighted, Wt,
         np.ravel(b).astype(np.float64), dtype.type(0), feature_tile(K, dtype.itemsize),
         dtype != np.float64, dW_parts, sums)
    return _totals(W, dW_parts.sum(axis=0).T, sums, dtype, l2)


def _sparse(W, b, X, Y, s, weighted, l2):
    """Sparse X (n_x, m) in CSC: (J, dW, db) for the neuron (Y of one row) or K classes."""
    if X.format != "csc" or X.ndim != 2:
        raise InvalidInputError(
            f"the fused kernel got a sparse X in {X.format.upper()} format; it reads each "
            f"example as a CSR row of Xᵀ, so it needs X (n_x, m) in CSC format. Pass "
            f"scipy.sparse.csr_array(X_rows).T for rows of examples, or X.tocsc().")
    if X.dtype not in (np.float32, np.float64):
        raise InvalidInputError(
            f"the fused kernel got a sparse X of {X.dtype}; it computes in float32 or "
            f"float64. Pass X.astype(np.float64).")
    rows = X.T  # CSR (m, n_x): a view of X's own arrays
    data, indices, indptr = rows.data, rows.indices, rows.indptr
    if indptr[0] < 0 or indptr[-1] > min(data.shape[0], indices.shape[0]) or np.any(
            indptr[1:] < indptr[:-1]):
        raise InvalidInputError(
            "the sparse X has an invalid indptr (decreasing, or beyond its data); rebuild it "
            "with scipy.sparse.csc_array(X) or call X.check_format().")
    n_x, K = X.shape[0], Y.shape[0]
    nbytes = data.nbytes + indices.nbytes + indptr.nbytes
    bounds = sparse_bounds(indptr, n_x, K, nbytes)
    chunks = bounds.shape[0] - 1
    dW_parts, sums = np.zeros((chunks, n_x, K)), np.zeros((chunks, 2 + K))
    outside = np.zeros(chunks, dtype=np.int64)
    kernels = _kernels()
    kernel = kernels.sparse_neuron_chunks if K == 1 else kernels.sparse_layer_chunks
    threads.run(kernel, chunks, data, indices, indptr, bounds, Y, s, weighted,
         np.ascontiguousarray(np.reshape(W, (n_x, K)), dtype=np.float64),
         np.ravel(b).astype(np.float64), dW_parts, sums, outside)
    if outside.any():
        raise InvalidInputError(
            f"the sparse X has {int(outside.sum())} column indices outside 0..{n_x - 1}; "
            f"rebuild it with scipy.sparse.csc_array(X) or call X.check_format().")
    cost, dW, db = _totals(W, dW_parts.sum(axis=0), sums, X.dtype, l2)
    if K == 1:  # the notes' neuron: db a number
        return cost, dW, X.dtype.type(db[0, 0])
    return cost, dW, db


def _totals(W, dW, sums, dtype, l2):
    """(J, dW, db) from the sums of the chunks (added in chunk order: the same bits on any
    number of threads): sums[:, 0] the loss, sums[:, 1] Σ s, sums[:, 2:] Σ dz."""
    total = sums.sum(axis=0)
    loss, m, dz = total[0], total[1], total[2:]
    # J = (1/m) Σ L, dW = (1/m) X dZᵀ, db = (1/m) Σ dZ  (dW is the caller's fresh sum: in place)
    cost, db = loss / m, (dz / m).reshape(-1, 1)
    dW /= m
    if l2:
        # J += (λ/2m)‖W‖²,  dW += (λ/m) W
        W = np.asarray(W, dtype=np.float64).reshape(dW.shape)
        cost += l2 / (2 * m) * float(np.sum(np.square(W)))
        dW += (l2 / m) * W
    return (np.float64(cost), np.ascontiguousarray(dW, dtype=dtype),
            db.astype(dtype, copy=False))
