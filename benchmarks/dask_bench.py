"""The dask engine, measured: one table, and benchmarks/RESULTS_dask.md (section "Dask").

    .venv/bin/python benchmarks/dask_bench.py

a. one gradient-descent step on data that fits (X of 1,048,576 × 64 float64, 512 MiB, in
   synth's default chunks of 65,536 rows = 32 MiB): NumPy in memory, and the dask
   engine's step (dask_engine.loss_and_gradient: one compute, one pass) with dask's threads
   scheduler reading the Zarr store, and on a LocalCluster of 2 worker processes, X streamed
   from the store each step or persisted in the workers' memory;
b. out of core: 2 worker processes × 256 MiB, a store of 4× their total memory (2 GiB of X,
   in chunks of 16,384 rows = 8 MiB):
   the standardisation pass and gradient steps streamed from the store, the workers' peak
   resident memory (VmHWM) and whether any worker was lost.

Every time is the median of at least 5 repeats (out of core: of 3 steps, each a pass over
2 GiB). logreg is imported inside the functions only: the worker processes that
multiprocessing spawns re-import this file, and should not carry scikit-learn for nothing.
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from timing import machine, median_seconds  # noqa: E402

ROWS = []
FEATURES, CHUNK_ROWS = 64, 16_384  # out of core: chunks of 8 MiB
FITS_ROWS = 1_048_576  # 512 MiB of X
WORKERS, WORKER_MEMORY = 2, 256 * 2**20


def row(section, what, seconds, ratio="", note=""):
    ROWS.append((section, what, f"{seconds * 1e3:.1f} ms" if seconds is not None else "—",
                 ratio, note))
    print(f"{section:<3} {what:<62} {ROWS[-1][2]:>12} {ratio:>14}  {note}", flush=True)


def fits(folder, repeats):
    import dask

    from logreg.apps import outofcore as dask_engine
    from logreg.core import neuron

    store = dask_engine.synth(folder / "fits.zarr", FITS_ROWS, FEATURES)  # 32 MiB chunks
    X_rows, y = dask_engine.open_store(store)
    X, Y, _ = dask_engine.notes_layout(X_rows, y)
    w, b = np.full((FEATURES, 1), 0.01), np.float64(0.1)
    X_numpy, Y_numpy = np.ascontiguousarray(X_rows.compute().T), Y.compute()
    label = f"step {FEATURES}×{FITS_ROWS:,} float64 ({X_rows.nbytes / 2**20:.0f} MiB, " \
            f"{len(X.chunks[1])} chunks)"
    numpy = median_seconds(lambda: neuron.loss_and_gradient(w, b, X_numpy, Y_numpy), repeats)
    row("a", f"{label}: NumPy in memory", numpy)
    with dask.config.set(scheduler="threads"):
        threads = median_seconds(lambda: dask_engine.loss_and_gradient(w, b, X, Y), repeats,
                                 warmup=1)
    row("a", "dask, threads scheduler, streamed from the Zarr store", threads,
        f"{threads / numpy:.1f}× NumPy")
    del X_numpy
    with dask_engine.cluster(workers=2, worker_memory="2GiB", threads_per_worker=1):
        streamed = median_seconds(lambda: dask_engine.loss_and_gradient(w, b, X, Y), repeats,
                                  warmup=1)
        row("a", "dask, LocalCluster 2 processes, streamed from the store", streamed,
            f"{streamed / numpy:.1f}× NumPy")
        Xp, Yp = dask.persist(X, Y)
        persisted = median_seconds(lambda: dask_engine.loss_and_gradient(w, b, Xp, Yp),
                                   repeats, warmup=1)
        row("a", "dask, LocalCluster 2 processes, X persisted in workers", persisted,
            f"{persisted / numpy:.1f}× NumPy")


def out_of_core(folder, steps):
    from logreg.apps import outofcore as dask_engine

    rows = 4 * WORKERS * WORKER_MEMORY // (8 * FEATURES)
    start = time.perf_counter()
    store = dask_engine.synth(folder / "big.zarr", rows, FEATURES, chunk_rows=CHUNK_ROWS)
    written = time.perf_counter() - start
    X_rows, y = dask_engine.open_store(store)
    size = f"{X_rows.nbytes / 2**30:.0f} GiB"
    row("b", f"logreg data synth: {rows:,} × {FEATURES} ({size} of X)", written)
    with dask_engine.cluster(workers=WORKERS, worker_memory=WORKER_MEMORY,
                             threads_per_worker=1) as client:
        workers = set(dask_engine.workers_of(client))
        at_start = dask_engine.workers_peak_memory(client)
        start = time.perf_counter()
        scaling = dask_engine.standardize(X_rows)
        row("b", f"standardisation pass (μ, σ) over {size}", time.perf_counter() - start)
        X, Y, _ = dask_engine.notes_layout(dask_engine.scaled(X_rows, scaling), y)
        w, b = np.zeros((FEATURES, 1)), np.float64(0)
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            cost, dw, db = dask_engine.loss_and_gradient(w, b, X, Y)
            times.append(time.perf_counter() - start)
            w, b = w - 0.1 * dw, b - 0.1 * db
        persisted = dask_engine.fits_in_workers(X, Y)
        peaks = dask_engine.workers_peak_memory(client)
        lost = workers - set(dask_engine.workers_of(client))
    total = WORKERS * WORKER_MEMORY
    row("b", f"gradient step over {size}, {WORKERS} workers × "
        f"{WORKER_MEMORY / 2**20:.0f} MiB (data {X_rows.nbytes / total:.0f}× their memory)",
        statistics.median(times), "",
        f"fit would persist: {persisted}; workers lost: {len(lost)}")
    row("b", "workers' peak resident memory (VmHWM), at start → after", None, "",
        "; ".join(f"{at_start[a] / 2**20:.0f} → {p / 2**20:.0f} MiB" for a, p in
                  sorted(peaks.items())) + f" (limit {WORKER_MEMORY / 2**20:.0f} MiB each)")
    return peaks


def write_results(path, description, started):
    lines = ["# Benchmark results: the dask engine", "", "## Dask", "",
             f"Measured {started:%Y-%m-%d %H:%M} UTC by `benchmarks/dask_bench.py`; every "
             f"figure in one run, each time the median of its repeats.", "",
             f"Machine: {description}", "",
             "| | what | time | ratio | note |", "| --- | --- | ---: | ---: | --- |"]
    lines += [f"| {' | '.join(r)} |" for r in ROWS]
    Path(path).write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats per figure (≥ 5)")
    parser.add_argument("--out", default=HERE / "RESULTS_dask.md")
    args = parser.parse_args()
    started = datetime.now(timezone.utc)
    description = machine()
    print(f"# {description}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="logreg-dask-bench-") as folder:
        fits(Path(folder), max(args.repeats, 5))
        out_of_core(Path(folder), steps=3)
    write_results(args.out, description, started)
    print(f"# {time.perf_counter() - start:.0f} s; written to {args.out}")


if __name__ == "__main__":
    main()
