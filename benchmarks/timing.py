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
