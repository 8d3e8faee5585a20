"""Where the time of the neuron's fused kernel goes, against the one-pass bound.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/neuron_kernel_bench.py

X (n_x, m) = (500, 200000) as the estimator hands it over (the rows (m, n_x) C-contiguous, X
their transposed view), float64 and float32, at 1 and 2 threads. Each round times, one after
the other:

- bound: X's bytes / the streaming rate of np.dot over two 1 GiB float64 vectors, on as many
  OpenBLAS threads (``benchmarks/run.py``'s one-pass bound);
- stream: a numba loop that only reads X (four rows at a time, summed in X's dtype), in the
  kernel's chunks on the kernel's threads: what one pass of numba code over X reaches here;
- ours: ``fused.loss_and_gradient`` (the kernel, its chunks and threads, the totals).

Each figure is the median over the rounds, and each ratio the median of the rounds' own
ratios (other people's work on the machine moves the bound and ours together). At 1 thread the
times are also read as CPU time (``time.process_time``), which does not count the time another
process held the core. Then, on one thread, the kernel over a block of examples that stays in
cache (L2), repeated to cover m examples: what its arithmetic costs when memory costs nothing
(CPU time), and so how much of it hides under the memory time.

Per example: bytes of X read, fused multiply-adds (n_x for z = wᵀx, n_x for dw += x dz), and
what each time achieves in GB/s of X and GFMA/s.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import problem  # noqa: E402 (run.py's logistic-model rows)
from timing import machine  # noqa: E402

from logreg.engines import fused  # noqa: E402

SPIN_SECONDS = 0.25  # OpenBLAS's threads wait spinning up to 2^28 cycles (0.1 s) for more work


@numba.njit(fastmath=True, nogil=True)
def stream_chunks(rows, sums, first, last):
    """Chunks ``first`` to ``last`` of X's rows summed, four rows at a time: a read of X."""
    m, n = rows.shape
    size = (m + sums.shape[0] - 1) // sums.shape[0]
    for c in range(first, last):
        t0 = t1 = t2 = t3 = rows[0, 0] - rows[0, 0]  # 0 in X's dtype
        stop = min(m, (c + 1) * size)
        for i in range(c * size, stop - 3, 4):
            x0, x1, x2, x3 = rows[i], rows[i + 1], rows[i + 2], rows[i + 3]
            for j in range(n):
                t0 += x0[j]
                t1 += x1[j]
                t2 += x2[j]
                t3 += x3[j]
        sums[c] = t0 + t1 + t2 + t3


def rounds(calls, repeats, clock):
    """Each call timed once a round, ``repeats`` rounds after one warm-up: their times.
    After np.dot, a pause: OpenBLAS's threads spin a while after a call, and would take the
    second core from the next call."""
    for call in calls.values():
        call()
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = clock()
            call()
            times[name].append(clock() - start)
            if name == "dot":
                time.sleep(SPIN_SECONDS)
    return times


def in_cache(rows, y, block):
    """The kernel alone over the first ``block`` examples, m / block times (one chunk, one
    thread): X's rows stay in cache from the second time on."""
    kernel, n = fused._compiled(), rows.shape[1]
    small, labels, w = rows[:block], y[:block], np.full(n, 0.01)
    dw_parts, sums, none = np.zeros((1, n)), np.zeros((1, 3)), np.empty(0)

    def run():
        for _ in range(rows.shape[0] // block):
            kernel(small, labels, none, w.astype(rows.dtype), 0.1, False,
                   rows.dtype != np.float64, dw_parts, sums, 0, 1)
    return run


def report(name, seconds, nbytes, fmas, ratios=None, spread=None):
    ratio = (f"{statistics.median(ratios):5.2f}× bound (rounds {min(ratios):.2f}–"
             f"{max(ratios):.2f})" if ratios else "")
    print(f"    {name:<30} {seconds * 1e3:8.2f} ms {nbytes / seconds / 1e9:6.1f} GB/s "
          f"{fmas / seconds / 1e9:6.1f} GFMA/s  {ratio}", flush=True)


def measure(rows, y, threads, repeats, a, b):
    """One thread count: bound, stream and ours, rounds interleaved; wall and CPU time."""
    X, Y = rows.T, y.reshape(1, -1).astype(rows.dtype)
    w = np.full((rows.shape[1], 1), 0.01, dtype=rows.dtype)
    sums = np.zeros(fused.chunk_count(rows.shape[0]))
    nbytes, fmas = rows.nbytes, 2 * rows.size
    with threadpool_limits(threads, user_api="blas"), fused.thread_limit(threads):
        calls = {"dot": lambda: np.dot(a, b),
                 "stream (numba, read only)": lambda: fused._run(stream_chunks, sums.shape[0],
                                                                 rows, sums),
                 "ours (fused.loss_and_gradient)": lambda: fused.loss_and_gradient(
                     w, np.float64(0.1), X, Y)}
        clocks = [("wall", time.perf_counter)] + (
            [("CPU", time.process_time)] if threads == 1 else [])
        for label, clock in clocks:
            times = rounds(calls, repeats, clock)
            bounds = [t * nbytes / (a.nbytes + b.nbytes) for t in times["dot"]]
            rate = (a.nbytes + b.nbytes) / statistics.median(times["dot"])
            print(f"  {threads} thread(s), {label} time: np.dot streams {rate / 1e9:.1f} GB/s, "
                  f"one-pass bound {statistics.median(bounds) * 1e3:.2f} ms")
            for name in list(calls)[1:]:
                report(name, statistics.median(times[name]), nbytes, fmas if "ours" in name
                       else 0, [t / bound for t, bound in zip(times[name], bounds)])
            ours = statistics.median(times["ours (fused.loss_and_gradient)"])
            print(f"    {'':<30} {ours / rows.shape[0] * 1e9 * threads:8.1f} ns an example a "
                  f"thread")
    return statistics.median(bounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=11, help="rounds per figure")
    parser.add_argument("--n", type=int, default=500, help="features n_x")
    parser.add_argument("--m", type=int, default=200_000, help="examples m")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--block", type=int, default=256,
                        help="examples of the in-cache run (their rows stay in L2)")
    args = parser.parse_args()
    n, m = args.n, args.m
    print(f"# {machine()}; numba {numba.__version__}")
    print(f"# X (n_x, m) = ({n}, {m}); each figure the median of {args.repeats} rounds; per "
          f"example 2·{n} = {2 * n} FMAs (z = wᵀx, dw += x dz)")
    a, b = np.ones(2**27), np.ones(2**27)
    for dtype in (np.float64, np.float32):
        rows, y = problem(m, n, dtype)
        assert fused.wins(rows.T)
        print(f"\n{np.dtype(dtype).name}: {rows.nbytes / 1e6:.0f} MB of X, "
              f"{n * rows.itemsize} bytes and {2 * n} FMAs an example")
        for threads in args.threads:
            bound = measure(rows, y, threads, args.repeats, a, b)  # 1 thread: in CPU time
            if threads == 1:
                times = rounds({"in cache": in_cache(rows, y, args.block)}, args.repeats,
                               time.process_time)["in cache"]
                seconds = statistics.median(times)
                report(f"in cache ({args.block} examples)", seconds, rows.nbytes, 2 * rows.size)
                print(f"    {'':<30} {seconds / m * 1e9:8.1f} ns an example: "
                      f"{seconds / bound:.2f}× the 1-thread bound (CPU time)")


if __name__ == "__main__":
    main()
