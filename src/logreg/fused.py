"""The fused loss-and-gradient kernel: one pass over X per evaluation.

The notes' vectorised step reads X twice: Z = wᵀX + b streams it once, dw = X dZᵀ / m again.
Logistic regression on large data is bound by memory, so reading X once halves the time. Here
each example x⁽ⁱ⁾ is visited once while it sits in cache: z = wᵀx + b, a = σ(z), the loss,
dz = a − y, and its share x·dz of dw. The examples are cut into chunks (up to 64, at least 256
examples each, a number that depends on m alone), each with its own partial sums; threads take
contiguous runs of chunks; the partial sums are added in chunk order at the end, so the result
does not depend on timing or on the number of threads.

Compiled with numba (see docs/design.md for why). It needs the examples contiguous in memory:
X of shape (n_x, m) whose transpose is C-contiguous, which is what ``LogisticRegression`` hands
over (rows of the user's (m, n_x) array, transposed as a view); ``wins`` says no to any other
layout, which would need a copy. X is read in its own dtype (float32 data is never copied to
float64); the sums are float64, so float32 data loses nothing in accumulation. The gradient
comes back in X's dtype.

How many threads (``threads()``), decided at every evaluation, in this order:

1. an explicit limit, ``with thread_limit(n):`` in this thread (the estimator's ``n_threads``):
   n threads, -1 for every CPU this process may use;
2. else the smallest limit of the thread pools this process already obeys: the ``num_threads``
   that threadpoolctl reads from each loaded BLAS and OpenMP library (so ``threadpool_limits(1)``
   gives one thread, and a joblib worker, whose OMP_NUM_THREADS/OPENBLAS_NUM_THREADS joblib
   sets to cpu_count // n_jobs, gets that many), and numba's (NUMBA_NUM_THREADS, or
   ``numba.get_num_threads()`` where numba's own threads were started). SciPy's private copy of
   OpenBLAS is left out: logreg holds it to one thread during L-BFGS (``solvers.lbfgs``);
3. never more than the CPUs this process may run on (``os.sched_getaffinity``), nor than chunks.

The chunks depend on m alone, so any number of threads gives the same bits. The threads are a
small pool shared by every caller; a child made by ``fork`` drops its copy (whose threads did
not survive the fork) and starts its own on first use.
"""

import contextlib
import functools
import importlib.util
import math
import numbers
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from logreg.errors import InvalidInputError

CHUNKS = 64  # at most; fixed by m alone, so the sums never depend on the number of threads
CHUNK_EXAMPLES = 256  # at least this many examples a chunk: each chunk has its own dw
MIN_BYTES = 32 * 2**20  # smaller X stays in cache between NumPy's two passes: NumPy wins


def available():
    """Whether numba is installed (it is a dependency; without it the NumPy path serves)."""
    return importlib.util.find_spec("numba") is not None


def wins(X):
    """Whether the fused kernel should serve this X: NumPy floats, too large for the cache
    (where NumPy's second pass over X is nearly free), and numba present."""
    return (isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64) and X.ndim == 2
            and X.T.flags.c_contiguous and X.nbytes >= MIN_BYTES and available())


def chunk_count(m):
    """How many chunks m examples are cut into: a function of m only."""
    return max(1, min(CHUNKS, m // CHUNK_EXAMPLES))


def _build():
    """The chunk kernel, compiled by numba on first use (then cached beside this module). It
    releases the GIL, so Python threads run chunks side by side on every core."""
    import numba

    @numba.njit(inline="always")
    def terms(z, y, weight):
        """One example's share of the sums: its loss and its dz, from z."""
        # L = log(1 + eᶻ) − y z (the logistic loss from z), a = σ(z)
        e = math.exp(-abs(z))
        loss = max(z, 0.0) + math.log1p(e) - y * z
        a = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
        # dz = a − y
        return weight * loss, weight * (a - y)

    @numba.njit(fastmath={"contract", "reassoc"}, cache=True, nogil=True)
    def chunks(rows, y, s, w, b, weighted, dw_parts, sums, first, last):
        """Chunks ``first`` to ``last`` (exclusive): their partial sums, in place."""
        m, n = rows.shape
        size = (m + dw_parts.shape[0] - 1) // dw_parts.shape[0]
        for c in range(first, last):
            dw = dw_parts[c]
            i, stop = c * size, min(m, (c + 1) * size)
            while i + 4 <= stop:  # four examples at once: w and dw are read once for four
                x0, x1, x2, x3 = rows[i], rows[i + 1], rows[i + 2], rows[i + 3]
                # z = wᵀx + b
                z0 = z1 = z2 = z3 = b
                for j in range(n):
                    z0 += w[j] * x0[j]
                    z1 += w[j] * x1[j]
                    z2 += w[j] * x2[j]
                    z3 += w[j] * x3[j]
                loss0, d0 = terms(z0, y[i], s[i] if weighted else 1.0)
                loss1, d1 = terms(z1, y[i + 1], s[i + 1] if weighted else 1.0)
                loss2, d2 = terms(z2, y[i + 2], s[i + 2] if weighted else 1.0)
                loss3, d3 = terms(z3, y[i + 3], s[i + 3] if weighted else 1.0)
                # dw += x dz
                for j in range(n):
                    dw[j] += x0[j] * d0 + x1[j] * d1 + x2[j] * d2 + x3[j] * d3
                sums[c, 0] += loss0 + loss1 + loss2 + loss3
                sums[c, 1] += d0 + d1 + d2 + d3
                sums[c, 2] += (s[i] + s[i + 1] + s[i + 2] + s[i + 3]) if weighted else 4.0
                i += 4
            for i in range(i, stop):  # the last few, one at a time
                x = rows[i]
                z = b
                for j in range(n):
                    z += w[j] * x[j]
                loss, dz = terms(z, y[i], s[i] if weighted else 1.0)
                for j in range(n):
                    dw[j] += x[j] * dz
                sums[c, 0] += loss
                sums[c, 1] += dz
                sums[c, 2] += s[i] if weighted else 1.0

    return chunks


_compiled = functools.cache(_build)


def _cpus():
    """The CPUs this process may run on (its affinity, which may be fewer than the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class _Limits(threading.local):
    n = None  # the innermost thread_limit(n) of this thread (None: none)


_limits = _Limits()


def thread_limit(n):
    """A context in which this thread's fused evaluations use at most ``n`` threads (-1: every
    CPU this process may use; None: no cap of its own, the enclosing one or threadpoolctl's
    rule). Other threads keep their own limits. Raises InvalidInputError for anything else."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral)
                          or not (n >= 1 or n == -1)):
        raise InvalidInputError(
            f"n_threads={n!r}; expected a whole number of threads ≥ 1, -1 for all {_cpus()} "
            f"CPUs, or None to follow threadpoolctl's limit. Pass e.g. n_threads=1.")
    return _limited(None if n is None else int(n))


@contextlib.contextmanager
def _limited(n):
    outer = _limits.n
    _limits.n = outer if n is None else n
    try:
        yield
    finally:
        _limits.n = outer


_found = (None, [])  # (len(sys.modules) when searched, threadpoolctl's controllers)


def _thread_pools():
    """threadpoolctl's controllers of the loaded BLAS and OpenMP libraries but SciPy's private
    OpenBLAS. Finding them takes milliseconds, reading a limit half a microsecond: they are
    searched again only when a module was imported since (which is how libraries load)."""
    global _found
    if _found[0] != len(sys.modules):
        from threadpoolctl import ThreadpoolController

        _found = (len(sys.modules), [library for library in ThreadpoolController().lib_controllers
                                     if "scipy.libs" not in library.filepath])
    return _found[1]


def _numba_threads():
    """numba's thread count: numba.get_num_threads() once its threads run (asking earlier
    would start them), else NUMBA_NUM_THREADS; None when neither says."""
    numba = sys.modules.get("numba")
    if numba is not None:
        if getattr(sys.modules.get("numba.np.ufunc.parallel"), "_is_initialized", False):
            return numba.get_num_threads()
        return numba.config.NUMBA_NUM_THREADS
    value = os.environ.get("NUMBA_NUM_THREADS", "")
    return int(value) if value.isdigit() else None


def threads():
    """How many threads this thread's next evaluation uses (the rule is the module's
    docstring): an explicit ``thread_limit``, else the smallest of threadpoolctl's and numba's
    limits, never more than the CPUs this process may use."""
    cpus, explicit = _cpus(), _limits.n
    if explicit is not None:
        return cpus if explicit == -1 else min(explicit, cpus)
    limits = [library.num_threads for library in _thread_pools()]
    limits.append(_numba_threads())
    return min([cpus] + [n for n in limits if isinstance(n, int) and n >= 1])


@functools.cache
def _pool():
    # threads start only when work waits and none is idle; max_workers is just a ceiling
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="logreg-fused")


# A child made by fork has the pool's object but none of its threads (fork copies only the
# thread that called it): work handed to it would wait forever. The child starts its own.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool.cache_clear)


def _run_chunks(*arguments):
    """Every chunk, split in contiguous ranges over ``threads()`` threads (one range when X is
    small). Plain threads, not OpenMP: under a busy machine OpenMP's waiting threads made the
    kernel 10-20 times slower (spinning) or added milliseconds per call (sleeping)."""
    kernel = _compiled()
    chunks = arguments[6].shape[0]
    count = min(threads(), chunks) if chunks > 1 else 1
    if count == 1:
        kernel(*arguments, 0, chunks)
        return
    bounds = [chunks * t // count for t in range(count + 1)]
    futures = [_pool().submit(kernel, *arguments, first, last)
               for first, last in zip(bounds[:-1], bounds[1:])]
    for future in futures:
        future.result()


def loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0):
    """(J, dw, db) in one pass over X: the same contract and numbers as
    ``neuron.loss_and_gradient`` (only the order of summation differs)."""
    rows = X.T
    if not rows.flags.c_contiguous:
        rows = np.ascontiguousarray(rows)  # a copy: "auto" never picks fused for such X
    weighted = sample_weight is not None
    s = np.ravel(sample_weight).astype(np.float64) if weighted else np.empty(0)
    chunks = chunk_count(rows.shape[0])
    dw_parts, sums = np.zeros((chunks, rows.shape[1])), np.zeros((chunks, 3))
    _run_chunks(rows, np.ravel(Y).astype(np.float64, copy=False), s,
                np.ravel(w).astype(np.float64), float(b), weighted, dw_parts, sums)
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
