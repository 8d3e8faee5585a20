"""Shared by the benchmarks: medians of repeats, and a description of the machine."""

import os
import platform
import statistics
import time


def median_seconds(function, repeats=15, warmup=2):
    """The median wall time of ``function()`` over ``repeats`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine():
    """One line: processor, cores, Python, NumPy and its BLAS."""
    import numpy as np
    from threadpoolctl import threadpool_info

    blas = ", ".join(sorted({f"{i['internal_api']} {i.get('version', '')} "
                             f"({i.get('num_threads')} threads)"
                             for i in threadpool_info() if i["user_api"] == "blas"}))
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"NumPy {np.__version__}, BLAS: {blas}; "
            f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")


def splice_section(path, title, source, results_name, text):
    """Put a benchmark's section into RESULTS.md: replace the one there (up to the next
    "## On ..." section, or the end), else add it at the end. The form is run.py's for the
    sections it copies in (other_results), so `make bench` keeps it."""
    from pathlib import Path

    path = Path(path)
    heading = f"\n## {title}\n"
    block = f"{heading}\nFrom `{source}` ({results_name}):\n\n{text}"
    old = path.read_text() if path.is_file() else "# Benchmark results\n"
    if heading not in old:
        path.write_text(old.rstrip("\n") + "\n" + block)
        return
    start = old.index(heading)
    end = old.find("\n## On ", start + len(heading))
    path.write_text(old[:start] + block.rstrip("\n") + "\n" + (old[end:] if end >= 0 else ""))
