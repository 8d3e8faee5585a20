"""The threads logreg's numba kernels run on, and the limits they obey.

The kernels (``logreg.engines.fused``'s gradient, ``logreg.engines.fused_curvature``'s
second derivatives) cut the examples into fixed chunks, a number that depends on the data
alone, each with its own partial sums; ``run`` hands contiguous runs of chunks to threads and
the caller adds the partial sums in chunk order, so the result does not depend on timing or on
the number of threads.

How many threads (``threads()``), decided at every evaluation, in this order:

1. an explicit limit, ``with thread_limit(n):`` in this thread (the estimator's ``n_threads``):
   n threads, -1 for every CPU this process may use;
2. else the smallest limit of the thread pools this process already obeys: the ``num_threads``
   that threadpoolctl reads from each loaded BLAS and OpenMP library (so ``threadpool_limits(1)``
   gives one thread, and a joblib worker, whose OMP_NUM_THREADS/OPENBLAS_NUM_THREADS joblib
   sets to cpu_count // n_jobs, gets that many), and numba's (NUMBA_NUM_THREADS, or
   ``numba.get_num_threads()`` where numba's own threads were started). SciPy's private copy of
   OpenBLAS is left out: logreg holds it to one thread during L-BFGS
   (``scipy_blas_on_one_thread``);
3. never more than the CPUs this process may run on (``os.sched_getaffinity``), nor than chunks.

The threads are a small pool shared by every caller; a child made by ``fork`` drops its copy
(whose threads did not survive the fork) and starts its own on first use. SciPy's BLAS hold is
undone in a forked child too.
"""

import contextlib
import functools
import numbers
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from logreg.errors import InvalidInputError


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


def run(kernel, chunks, *arguments):
    """``kernel(*arguments, first, last)`` over chunks 0 to ``chunks``, split in contiguous
    ranges over ``threads()`` threads (one range when there is one chunk).

    Each chunk has its own partial sums, which the caller adds in chunk order: the same bits
    on any number of threads. Plain threads, not OpenMP: under a busy machine OpenMP's waiting
    threads made the kernel 10-20 times slower (spinning) or added milliseconds per call
    (sleeping)."""
    count = min(threads(), chunks) if chunks > 1 else 1
    if count == 1:
        kernel(*arguments, 0, chunks)
        return
    bounds = [chunks * t // count for t in range(count + 1)]
    futures = [_pool().submit(kernel, *arguments, first, last)
               for first, last in zip(bounds[:-1], bounds[1:])]
    for future in futures:
        future.result()


class scipy_blas_on_one_thread:
    """Hold SciPy's copy of OpenBLAS to one thread; NumPy's and numba's are left alone.

    L-BFGS (``logreg.solvers.lbfgs``) holds it while SciPy minimises, so that SciPy's BLAS
    does not fight the gradient's threads for the cores. Its threads are one pool for the
    whole process, so the hold is too: the first solve to enter sets one thread and the last
    to leave restores what the first found, whichever threads they run on (a count under a
    lock). Nested and concurrent L-BFGS fits therefore restore the user's setting, never
    another fit's one. A child made by fork starts free.
    """

    _lock, _holders, _saved, _libraries = threading.Lock(), 0, [], None

    def __enter__(self):
        cls = type(self)
        with cls._lock:
            if cls._holders == 0:
                cls._saved = [(lib, lib.num_threads) for lib in cls._scipy_blas()]
                cls._set(1)
            cls._holders += 1
        return self

    def __exit__(self, *exc):
        cls = type(self)
        with cls._lock:
            if cls._holders > 0:  # 0: a fork reset the count while this thread held
                cls._holders -= 1
                if cls._holders == 0:
                    cls._set(None)

    @classmethod
    def _scipy_blas(cls):
        """SciPy's copies of OpenBLAS, found once a process (threadpoolctl's search of the
        loaded libraries takes milliseconds: more than a small fit)."""
        if cls._libraries is None:
            from threadpoolctl import ThreadpoolController

            cls._libraries = [lib for lib in ThreadpoolController().lib_controllers
                              if lib.user_api == "blas" and "scipy.libs" in lib.filepath]
        return cls._libraries

    @classmethod
    def _set(cls, threads):
        """SciPy's BLAS to ``threads`` (None: what was saved). threadpoolctl lets one Python
        thread at a time control OpenBLAS; control is let go at once, so that the last holder,
        on another thread, can restore."""
        import threadpoolctl

        for lib, saved in cls._saved:
            lib.set_num_threads(saved if threads is None else threads)
        release = getattr(getattr(threadpoolctl, "OpenBLASController", None),
                          "clear_controlling_thread", None)  # threadpoolctl 3.8 on
        if release is not None:
            release()

    @classmethod
    def _after_fork_in_child(cls):
        """The parent's other threads are gone in the child: a fresh lock, and the hold undone."""
        cls._lock = threading.Lock()
        if cls._holders:
            cls._holders = 0
            cls._set(None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=scipy_blas_on_one_thread._after_fork_in_child)
