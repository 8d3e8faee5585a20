"""The fused kernel's threads behave: they survive fork, follow threadpoolctl, joblib and an
explicit limit, and fits in several threads at once give the same bits as one after another.

A hang must fail, not stall the suite: every fork is guarded by a 60 s timeout (a
multiprocessing result's ``get(timeout=60)``, a subprocess's ``timeout=60``, an alarm in each
forked child)."""

import multiprocessing
import os
import subprocess
import sys
import contextlib
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logreg.engines import fused
from logreg.engines import threads as kernel_threads
from logreg.errors import InvalidInputError

pytestmark = pytest.mark.skipif(not fused.available(), reason="numba is not installed")

GUARD = 60  # seconds: a regression that hangs fails after this long

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


def problem(m=20000, n=20, seed=0):
    """A C-ordered (m, n) array of examples (the estimator's layout) and 0/1 labels."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(m, n))
    z = rows @ (rng.normal(size=n) / np.sqrt(n)) + 0.3
    return rows, (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float)


def evaluate(rows, y):
    """One fused evaluation at a fixed (w, b); rows (m, n) is handed over as the notes' X."""
    w = np.linspace(-0.2, 0.2, rows.shape[1]).reshape(-1, 1)
    return fused.loss_and_gradient(w, 0.1, rows.T, y.reshape(1, -1))


def assert_same_bits(first, second):
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.fixture
def many_cpus(monkeypatch):
    """Pretend this process may use 8 CPUs, so that limits up to 8 take effect on any machine
    (the kernel's results do not depend on the number of threads, and a pool thread more than
    the cores only waits its turn)."""
    monkeypatch.setattr(kernel_threads, "_cpus", lambda: 8)


@pytest.fixture
def ranges(monkeypatch):
    """A spy on the kernel: the (first, last) range of chunks of every call, in any thread."""
    calls, kernel = [], fused._compiled()

    def spy(*arguments):
        calls.append(arguments[-2:])
        return kernel(*arguments)

    monkeypatch.setattr(fused, "_compiled", lambda: spy)
    return calls


# --- thread_limit: its argument ---------------------------------------------------------------

REFUSED = [0, -2, -100, 2.0, 1.5, float("nan"), True, False, "2", [2], np.float64(2), 1j]


@pytest.mark.parametrize("n", REFUSED, ids=repr)
def test_thread_limit_refuses_what_is_not_a_thread_count(n):
    with pytest.raises(InvalidInputError, match=r"n_threads=.*expected a whole number.*-1.*None"):
        kernel_threads.thread_limit(n)  # at the call, before any work


@given(st.integers(min_value=-10**6, max_value=10**6))
def test_thread_limit_accepts_exactly_positive_counts_and_minus_one(n):
    cpus = kernel_threads._cpus()
    if n >= 1 or n == -1:
        with kernel_threads.thread_limit(n):
            assert kernel_threads.threads() == (cpus if n == -1 else min(n, cpus))
    else:
        with pytest.raises(InvalidInputError, match=f"n_threads={n}"):
            kernel_threads.thread_limit(n)


def test_thread_limit_takes_numpy_integers(many_cpus):
    with kernel_threads.thread_limit(np.int64(3)):
        assert kernel_threads.threads() == 3
        assert type(kernel_threads.threads()) is int


# --- threads(): the rule ----------------------------------------------------------------------

def test_explicit_limits_nest_and_end_with_their_block(many_cpus):
    default = kernel_threads.threads()
    with kernel_threads.thread_limit(3):
        assert kernel_threads.threads() == 3
        with kernel_threads.thread_limit(None):  # no cap of its own: the enclosing one holds
            assert kernel_threads.threads() == 3
        with kernel_threads.thread_limit(5):
            assert kernel_threads.threads() == 5
        with kernel_threads.thread_limit(-1):
            assert kernel_threads.threads() == 8
        assert kernel_threads.threads() == 3
    assert kernel_threads.threads() == default
    with pytest.raises(KeyError), kernel_threads.thread_limit(2):
        raise KeyError  # an error inside the block still ends it
    assert kernel_threads.threads() == default


def test_never_more_threads_than_cpus_this_process_may_use(monkeypatch):
    monkeypatch.setattr(kernel_threads, "_cpus", lambda: 2)
    with kernel_threads.thread_limit(64):
        assert kernel_threads.threads() == 2
    assert kernel_threads.threads() <= 2


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_cpus_are_the_affinity_not_the_machine():
    assert kernel_threads._cpus() == len(os.sched_getaffinity(0))


def test_the_limit_belongs_to_the_thread_that_set_it(many_cpus):
    """Two threads inside their own limits at the same moment each see their own."""
    both_inside = threading.Barrier(2, timeout=GUARD)

    def under(n):
        with kernel_threads.thread_limit(n):
            both_inside.wait()
            seen = kernel_threads.threads()
            both_inside.wait()
            return seen

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(under, [1, 3])) == [1, 3]


def test_threadpoolctl_limit_gives_one_thread(many_cpus, ranges):
    from threadpoolctl import threadpool_limits

    rows, y = problem()
    chunks = fused.chunk_count(rows.shape[0])
    with kernel_threads.thread_limit(2):  # the control: two ranges of chunks, on two threads
        evaluate(rows, y)
    assert sorted(ranges) == [(0, chunks // 2), (chunks // 2, chunks)]
    ranges.clear()
    with threadpool_limits(1):
        assert kernel_threads.threads() == 1
        evaluate(rows, y)
        assert ranges == [(0, chunks)]  # one range: the kernel ran once, in this thread
        with kernel_threads.thread_limit(2):  # an explicit limit comes first
            assert kernel_threads.threads() == 2
    with threadpool_limits(3):
        assert kernel_threads.threads() <= 3


def test_numba_thread_count_is_obeyed(many_cpus, monkeypatch):
    import numba

    if getattr(sys.modules.get("numba.np.ufunc.parallel"), "_is_initialized", False):
        before = numba.get_num_threads()  # numba's threads run: its own setting counts
        numba.set_num_threads(1)
        try:
            assert kernel_threads.threads() == 1
        finally:
            numba.set_num_threads(before)
    else:  # asking numba would start its threads: NUMBA_NUM_THREADS counts
        monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 1)
        assert kernel_threads.threads() == 1
        assert not numba.np.ufunc.parallel._is_initialized  # and they were not started


def test_scipy_blas_held_for_lbfgs_does_not_cut_the_kernel_threads(many_cpus):
    before = kernel_threads.threads()
    with kernel_threads.scipy_blas_on_one_thread():
        assert kernel_threads.threads() == before


def scipy_blas_threads():
    from threadpoolctl import threadpool_info

    return [info["num_threads"] for info in threadpool_info()
            if info["user_api"] == "blas" and "scipy.libs" in info["filepath"]]


def test_joblib_workers_get_their_share_of_the_cores():
    """joblib's loky workers default to cpu_count // n_jobs threads (inner_max_num_threads)."""
    from joblib import Parallel, cpu_count, delayed

    shares = Parallel(n_jobs=2, backend="loky")(delayed(kernel_threads.threads)() for _ in range(2))
    assert shares == [max(1, cpu_count() // 2)] * 2
    if cpu_count() <= 3:
        assert shares == [1, 1]


# --- results do not depend on the number of threads -------------------------------------------

@pytest.mark.parametrize("threads", [1, 2, 3])
def test_same_bits_on_any_number_of_threads(threads, many_cpus, ranges):
    rows, y = problem(m=30000, n=13)
    with kernel_threads.thread_limit(1):
        reference = evaluate(rows, y)
    ranges.clear()
    with kernel_threads.thread_limit(threads):
        result = evaluate(rows, y)
    assert len(ranges) == threads
    assert_same_bits(result, reference)


# --- SciPy's BLAS held to one thread during L-BFGS: nested and concurrent holds ----------------

needs_scipy_blas = pytest.mark.skipif(
    not scipy_blas_threads() or 1 in scipy_blas_threads(),
    reason="SciPy has no private OpenBLAS here, or it already runs on one thread")


@needs_scipy_blas
def test_nested_holds_restore_the_setting_found():
    original = scipy_blas_threads()
    hold = kernel_threads.scipy_blas_on_one_thread
    outer, inner = hold(), hold()
    outer.__enter__()
    inner.__enter__()
    seen = [scipy_blas_threads()]
    outer.__exit__(None, None, None)  # the other hold is still on
    seen.append(scipy_blas_threads())
    inner.__exit__(None, None, None)
    seen.append(scipy_blas_threads())
    held = [1] * len(original)
    assert seen == [held, held, original]


@contextlib.contextmanager
def held_in_another_thread():
    """SciPy's BLAS held by a fit in another thread; yields (leave, done): set ``leave`` to
    let that fit end, ``done`` is its future."""
    entered, leave = threading.Event(), threading.Event()

    def other_fit():
        with kernel_threads.scipy_blas_on_one_thread():
            entered.set()
            assert leave.wait(GUARD)

    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(other_fit)
        assert entered.wait(GUARD)
        try:
            yield leave, done
        finally:
            leave.set()


@needs_scipy_blas
def test_holds_in_two_threads_restore_the_setting_found():
    """The first hold starts in another thread and ends first; the last one, here, restores."""
    original = scipy_blas_threads()
    with held_in_another_thread() as (leave, done):
        with kernel_threads.scipy_blas_on_one_thread():
            leave.set()
            done.result(timeout=GUARD)
            assert set(scipy_blas_threads()) == {1}  # still held: this fit runs on
        assert scipy_blas_threads() == original


# --- fork -------------------------------------------------------------------------------------

def _fork_context():
    return multiprocessing.get_context("fork")


def _child_evaluation(m, n):
    """In a forked child: one evaluation on two threads (the parent's pool threads are gone)."""
    rows, y = problem(m, n)
    with kernel_threads.thread_limit(2):
        assert kernel_threads.threads() == 2
        return evaluate(rows, y)


def _child_fit(solver):
    from logreg import LogisticRegression

    rows, y = problem()
    with kernel_threads.thread_limit(2):
        clf = LogisticRegression(implementation="fused", solver=solver, num_iterations=30)
        return clf.fit(rows, y).coef_


def _child_scipy_hold():
    """In a child forked while another thread of the parent held SciPy's BLAS."""
    free = scipy_blas_threads()
    with kernel_threads.scipy_blas_on_one_thread():  # the lock and the count were not inherited held
        held = scipy_blas_threads()
    return free, held, scipy_blas_threads()


def run_in_fork(function, *arguments):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python ≥ 3.12: fork with threads
        pool = _fork_context().Pool(1)
    try:
        return pool.apply_async(function, arguments).get(timeout=GUARD)
    finally:
        pool.terminate()
        pool.join()


@needs_fork
def test_evaluation_in_a_child_forked_after_the_pool_ran(many_cpus):
    with kernel_threads.thread_limit(2):
        reference = evaluate(*problem(20000, 20))  # the parent's pool threads now exist
    assert_same_bits(run_in_fork(_child_evaluation, 20000, 20), reference)
    assert_same_bits(evaluate(*problem(20000, 20)), reference)  # and the parent's pool still works


@needs_fork
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_fit_in_a_child_forked_after_the_pool_ran(solver, many_cpus):
    from logreg import LogisticRegression

    rows, y = problem()
    with kernel_threads.thread_limit(2):
        reference = LogisticRegression(implementation="fused", solver=solver,
                                       num_iterations=30).fit(rows, y).coef_
    np.testing.assert_array_equal(run_in_fork(_child_fit, solver), reference)


@needs_fork
@needs_scipy_blas
def test_child_forked_during_a_hold_starts_free():
    original = scipy_blas_threads()
    with held_in_another_thread() as (leave, done):
        free, held, after = run_in_fork(_child_scipy_hold)
        leave.set()
        done.result(timeout=GUARD)
    assert free == original and set(held) == {1} and after == original
    assert scipy_blas_threads() == original


FORK_SCRIPT = """
import os, signal
import numpy as np
from logreg.engines import fused
from logreg.engines import threads as kernel_threads

kernel_threads._cpus = lambda: 4  # several threads on any machine
rng = np.random.default_rng(0)
X = rng.normal(size=(20000, 20)).T  # examples contiguous
Y = (rng.random((1, 20000)) < 0.5).astype(float)
w = np.linspace(-0.2, 0.2, 20).reshape(-1, 1)

def evaluate(threads):
    with kernel_threads.thread_limit(threads):
        return fused.loss_and_gradient(w, 0.1, X, Y)

def in_child(reference):
    pid = os.fork()
    if pid == 0:
        signal.alarm({guard})  # a hang ends the child instead of the test
        cost, dw, db = evaluate(2)
        same = cost == reference[0] and np.array_equal(dw, reference[1]) and db == reference[2]
        os._exit(0 if same else 3)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

reference = evaluate(1)  # in this thread: the pool is not started
before = in_child(reference)
evaluate(2)  # the pool's threads start
after = in_child(reference)
print(before, after)
"""


@needs_fork
def test_os_fork_before_and_after_the_pool_ran():
    done = subprocess.run([sys.executable, "-c", FORK_SCRIPT.format(guard=GUARD - 10)],
                          capture_output=True, text=True, timeout=GUARD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0"]  # each child: finished, and the same bits


# --- two fits at once -------------------------------------------------------------------------

@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_two_fits_at_once_equal_one_after_the_other(solver, many_cpus):
    from logreg import LogisticRegression

    problems = [problem(seed=1), problem(m=24000, n=15, seed=2)]
    assert all(rows.flags.c_contiguous for rows, _ in problems)

    def fit(index, threads=None):
        rows, y = problems[index]
        with kernel_threads.thread_limit(threads):
            clf = LogisticRegression(implementation="fused", solver=solver, num_iterations=60)
            return clf.fit(rows, y)

    sequential = [fit(0), fit(1)]
    with ThreadPoolExecutor(2) as pool:  # and with different thread limits in the two threads
        concurrent = list(pool.map(fit, [0, 1], [1, 3]))
    for alone, together in zip(sequential, concurrent):
        assert np.array_equal(alone.coef_, together.coef_)
        assert np.array_equal(alone.intercept_, together.intercept_)
        assert alone.costs_ == together.costs_
