"""The speed benchmarks, every figure measured in this one run: one table, and RESULTS.md.

    make bench        # = env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/run.py

(OPENBLAS_CORETYPE, set on some of these machines for older OpenBLAS builds, slows NumPy's
current one; the benchmark unsets it in its own command and records what it ran with.)

a. one gradient-descent step: ours (the fused one-pass kernel), plain NumPy (Z = wᵀX + b, then
   dw = X dZᵀ / m: two passes over X) and the one-pass bound (bytes of X / the streaming rate
   of np.dot measured here), at (500, 200000) float64 and float32 and at (12288, 209);
b. time to reach scikit-learn's final cost (within 1e-8 relative): ours (lbfgs) against
   LogisticRegression(C=np.inf, solver="lbfgs", tol=1e-6), float64 and float32;
c. one step against PyTorch CPU autograd (binary_cross_entropy_with_logits), where installed;
d. the exercise's recipe on the cat images (2000 steps at 0.005): ours (the estimator's default,
   which takes the steps in the span of the 209 examples) against the notes' NumPy steps;
e. one step through the computation graph against the closed form, at cat size.

Every time is the median of at least 5 repeats. Ratios are what to compare across machines.
"""

import argparse
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from graph_step import cat_sized_data  # noqa: E402
from timing import machine, median_seconds  # noqa: E402

from logreg import LogisticRegression, graph  # noqa: E402
from logreg.engines import fused
from logreg.core import neuron

ROWS = []


def row(section, what, seconds, ratio="", note=""):
    ROWS.append((section, what, f"{seconds * 1e3:.2f} ms" if seconds is not None else "—",
                 ratio, note))
    print(f"{section:<3} {what:<58} {ROWS[-1][2]:>12} {ratio:>16}  {note}", flush=True)


def problem(m, n, dtype, seed=0):
    """Rows (m, n) and labels from a true logistic model: a finite optimum, as real data has."""
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((m, n), dtype=np.float64)
    z = rows @ (rng.standard_normal(n) / np.sqrt(n)) + 0.25
    y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(np.float64)
    return rows.astype(dtype, copy=False), y


def streaming_rate(repeats):
    """Bytes per second np.dot reads from two 1 GiB float64 vectors."""
    a = np.ones(2**27)
    b = np.ones(2**27)
    seconds = median_seconds(lambda: np.dot(a, b), repeats)
    return 2 * a.nbytes / seconds


def steps(rate, repeats):
    for shape, dtype in (((500, 200_000), np.float64), ((500, 200_000), np.float32),
                         ((12288, 209), np.float64)):
        n, m = shape
        rows, y = problem(m, n, dtype)
        X, Y = rows.T, y.reshape(1, -1).astype(dtype)  # notes' layout, examples contiguous
        w, b = np.full((n, 1), 0.01, dtype=dtype), dtype(0.1)
        fused.loss_and_gradient(w, b, X, Y)  # compile outside the timing
        ours = median_seconds(lambda: neuron.gradient_step(
            w, b, X, Y, 0.01, gradient=fused.loss_and_gradient), 2 * repeats + 1)
        plain = median_seconds(lambda: neuron.gradient_step(w, b, X, Y, 0.01), 2 * repeats + 1)
        bound = X.nbytes / rate
        label = f"step {n}×{m} {np.dtype(dtype).name}"
        row("a", f"{label}: plain NumPy (two passes)", plain)
        row("a", f"{label}: one-pass bound ({X.nbytes / 1e6:.0f} MB / stream)", bound)
        row("a", f"{label}: ours (fused)", ours,
            f"{ours / plain:.2f}× NumPy", f"{ours / bound:.2f}× bound"
            + ("" if fused.wins(X) else "; in cache, so 'auto' steps with NumPy (and d)"))
        if dtype == np.float64 and m == 200_000:
            torch_step(X, Y, w, b, ours, repeats)


def torch_step(X, Y, w, b, ours, repeats):
    try:
        import torch
    except ImportError:
        row("c", "PyTorch CPU autograd step: torch not installed", None)
        return
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)  # no copy
    wt = torch.from_numpy(w.copy()).requires_grad_()
    bt = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)

    def step():
        wt.grad = bt.grad = None
        Z = wt.T @ Xt + bt
        loss = torch.nn.functional.binary_cross_entropy_with_logits(Z, Yt)
        loss.backward()
        with torch.no_grad():
            wt.sub_(0.01 * wt.grad)
            bt.sub_(0.01 * bt.grad)

    seconds = median_seconds(step, repeats)
    row("c", f"step 500×200000 float64: PyTorch {torch.__version__} autograd", seconds)
    row("c", "step 500×200000 float64: ours (fused)", ours, f"{ours / seconds:.2f}× PyTorch")


def time_to_sklearn_cost(repeats):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    for dtype in (np.float64, np.float32):
        rows, y = problem(200_000, 500, dtype)
        name = np.dtype(dtype).name
        sk = SkLogisticRegression(C=np.inf, solver="lbfgs", tol=1e-6, max_iter=1000)
        sk_seconds = median_seconds(lambda: sk.fit(rows, y), repeats, warmup=1)
        Z = rows.astype(np.float64) @ sk.coef_.ravel() + sk.intercept_[0]
        target = float(np.mean(np.logaddexp(0, Z) - y * Z))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours = LogisticRegression(solver="lbfgs", dtype=name, num_iterations=200).fit(rows, y)
        # costs_[i] is the cost after i iterations: the fewest that reach scikit-learn's cost
        needed = next((i for i, cost in enumerate(ours.costs_) if cost <= target * (1 + 1e-8)),
                      None)
        if needed is None:
            row("b", f"lbfgs {name}: did not reach scikit-learn's cost {target:.10f}", None)
            continue
        clf = LogisticRegression(solver="lbfgs", dtype=name, num_iterations=needed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds = median_seconds(lambda: clf.fit(rows, y), repeats, warmup=1)
        row("b", f"to scikit-learn's cost, {name}: scikit-learn lbfgs ({sk.n_iter_[0]} it)",
            sk_seconds, "", f"cost {target:.10f}")
        row("b", f"to scikit-learn's cost, {name}: ours lbfgs ({needed} it)", seconds,
            f"{seconds / sk_seconds:.2f}× sklearn", f"cost {clf.costs_[-1]:.10f}")


def cat_recipe(repeats):
    X, Y, what = cat_sized_data()
    rows, y = np.ascontiguousarray(X.T), Y.ravel()  # examples as rows, as the command has them
    times, accuracies = {}, {}
    for implementation in ("vectorized", "auto"):  # the notes' two-pass steps; our default
        clf = LogisticRegression(learning_rate=0.005, num_iterations=2000,
                                 implementation=implementation)
        times[implementation] = median_seconds(lambda: clf.fit(rows, y), repeats, warmup=1)
        accuracies[implementation] = neuron.accuracy(clf.predict(rows).reshape(1, -1), Y)
    row("d", f"exercise recipe, 2000 steps ({what}): plain NumPy", times["vectorized"], "",
        f"train accuracy {accuracies['vectorized']} %")
    row("d", f"exercise recipe, 2000 steps ({what}): ours (auto: example space)",
        times["auto"], f"{times['auto'] / times['vectorized']:.2f}× NumPy",
        f"train accuracy {accuracies['auto']} %")
    w, b = np.full((X.shape[0], 1), 1e-4), 0.0
    closed = median_seconds(lambda: neuron.gradient_step(w, b, X, Y, 0.005), repeats * 4)
    through = median_seconds(lambda: neuron.gradient_step(
        w, b, X, Y, 0.005, gradient=graph.loss_and_gradient), repeats * 4)
    row("e", "step 12288×209 through the graph vs the closed form", through,
        f"{through / closed:.2f}× closed", f"closed form {closed * 1e3:.3f} ms")


def write_results(path, description, rate, started):
    lines = ["# Benchmark results", "",
             f"Measured {started:%Y-%m-%d %H:%M} UTC by `make bench` (benchmarks/run.py); "
             f"every figure in one run, each the median of its repeats.", "",
             f"Machine: {description}", "",
             f"Streaming rate (np.dot over two 1 GiB float64 vectors): {rate / 1e9:.1f} GB/s", "",
             "| | what | time | ratio | note |", "| --- | --- | ---: | ---: | --- |"]
    lines += [f"| {' | '.join(r)} |" for r in ROWS]
    Path(path).write_text("\n".join(lines) + "\n" + other_results())


def other_results():
    """The sections measured elsewhere (a lent GPU machine; the Dask benchmark), kept as their
    own files by their own commands and copied in here, so RESULTS.md holds every figure."""
    sections = [("On a GPU", "RESULTS_gpu.md", "scripts/gpu_check.sh on a lent GPU machine; its "
                 "CPU columns are that machine's 16 cores, measured in the same run"),
                ("On Dask", "RESULTS_dask.md", "benchmarks/dask_bench.py"),
                ("On K classes and sparse data", "RESULTS_classes.md",
                 "benchmarks/classes_bench.py"),
                ("On the field's benchmark (benchopt)", "RESULTS_benchopt.md",
                 "benchmarks/benchopt_bench.py")]
    text = ""
    for title, name, source in sections:
        if (HERE / name).is_file():
            text += f"\n## {title}\n\nFrom `{source}` ({name}):\n\n{(HERE / name).read_text()}"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats per figure (≥ 5)")
    parser.add_argument("--out", default=HERE / "RESULTS.md")
    args = parser.parse_args()
    started = datetime.now(timezone.utc)
    description = machine()
    print(f"# {description}")
    rate = streaming_rate(args.repeats)
    print(f"# streaming rate: {rate / 1e9:.1f} GB/s")
    start = time.perf_counter()
    steps(rate, args.repeats)
    time_to_sklearn_cost(args.repeats)
    cat_recipe(args.repeats)
    write_results(args.out, description, rate, started)
    print(f"# {time.perf_counter() - start:.0f} s; written to {args.out}")


if __name__ == "__main__":
    main()
