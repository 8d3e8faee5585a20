"""One gradient-descent step on a GPU against the CPU, at the sizes of benchmarks/run.py.

    python benchmarks/gpu_bench.py [--out FILE] [--small]

Run by scripts/gpu_check.sh on a lent GPU machine. CPU figures are measured on that machine in
the same run (ours: the fused kernel; plain NumPy); GPU figures with PyTorch and CuPy through
the same array-API code (``neuron.gradient_step``), synchronised before each clock reading.
Each figure is the median of its repeats.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from timing import median_seconds  # noqa: E402

from logreg.engines import fused  # noqa: E402
from logreg.core import neuron


def gpu_libraries():
    found = {}
    try:
        import torch

        if torch.cuda.is_available():
            found["PyTorch"] = (lambda a: torch.as_tensor(a, device="cuda"),
                                torch.cuda.synchronize, torch.cuda.get_device_name(0))
    except ImportError:
        pass
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
        found["CuPy"] = (cupy.asarray, cupy.cuda.Device().synchronize, "")
    except Exception:
        pass
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    parser.add_argument("--small", action="store_true", help="tiny sizes, for a dry run")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    sizes = ([((50, 2000), np.float64)] if args.small else
             [((500, 200_000), np.float64), ((500, 200_000), np.float32),
              ((12288, 209), np.float64)])
    libraries = gpu_libraries()
    device = next((lib[2] for lib in libraries.values() if lib[2]), "no GPU")
    lines = [f"GPU: {device}", "", "| step | CPU plain NumPy | CPU ours (fused) | "
             + " | ".join(f"GPU {name}" for name in libraries) + " | best GPU vs best CPU |",
             "| --- | ---: | ---: |" + " ---: |" * len(libraries) + " ---: |"]
    for (n, m), dtype in sizes:
        rng = np.random.default_rng(0)
        rows = rng.standard_normal((m, n)).astype(dtype)
        X, Y = rows.T, (rng.random((1, m)) < 0.5).astype(dtype)
        w, b = np.full((n, 1), 0.01, dtype=dtype), dtype(0.1)
        fused.loss_and_gradient(w, b, X, Y)
        plain = median_seconds(lambda: neuron.gradient_step(w, b, X, Y, 0.01), args.repeats)
        ours = median_seconds(lambda: neuron.gradient_step(
            w, b, X, Y, 0.01, gradient=fused.loss_and_gradient), args.repeats)
        gpu_times = []
        for name, (to_device, synchronize, _) in libraries.items():
            Xg, Yg, wg = to_device(X), to_device(Y), to_device(w)

            def step():
                new_w, new_b, (cost, _, _) = neuron.gradient_step(wg, float(b), Xg, Yg, 0.01)
                synchronize()

            gpu_times.append(median_seconds(step, args.repeats * 3, warmup=3))
        best = min(gpu_times) if gpu_times else None
        lines.append(f"| {n}×{m} {np.dtype(dtype).name} | {plain * 1e3:.2f} ms | "
                     f"{ours * 1e3:.2f} ms | "
                     + " | ".join(f"{t * 1e3:.3f} ms" for t in gpu_times)
                     + (f" | {best / min(ours, plain):.3f}× |" if best else " | — |"))
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
