"""The fused kernel on K classes and on sparse data, against the notes' NumPy/SciPy lines.

    env -u OPENBLAS_CORETYPE .venv/bin/python benchmarks/fused_classes_bench.py [--repeats 5]
        [--only dense|sparse] [--small]

One loss-and-gradient evaluation (what L-BFGS asks for at every step), timed three ways on the
same data in the same run, the repeats interleaved so that a busy machine slows all alike:

- fused: ``logreg.engines.fused.loss_and_gradient`` on its default threads, and on one thread;
- notes: ``logreg.core.neuron.loss_and_gradient`` (Z = WᵀX + b by BLAS or SciPy's sparse product,
  then dW = X dZᵀ: two passes over X);
- scikit-learn: the loss and gradient its lbfgs solver evaluates at every step
  (``LinearModelLoss.loss_gradient``, multinomial for K classes), on the same data in its own
  layout (rows of examples).

a. dense (200000, 500), K = 10, float64 and float32 (the issue's multiclass benchmark size);
b. sparse 500000 × 100000, about 50 non-zeros a row, feature frequencies following a power
   law (as words in text), K = 20 and binary, float64 (``--small``: a tenth of the examples).

Every time is the median of 3 rounds of the repeats. Ratios are what to compare across machines.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from timing import machine  # noqa: E402

from logreg.engines import fused  # noqa: E402
from logreg.core import neuron


def interleaved_medians(functions, repeats, rounds=3):
    """{name: median seconds}: ``rounds`` rounds in which each function runs once untimed and
    then ``repeats`` times timed, so that load from elsewhere falls on all of them alike. (The
    untimed run lets the BLAS threads of the function before stop spinning: timed right after
    a BLAS call, the kernel shares a core with them.)"""
    times = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            function()
            for _ in range(repeats):
                start = time.perf_counter()
                function()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def sklearn_evaluation(X_rows, y, classes, dtype):
    """scikit-learn's own loss and gradient at a fixed point, as its lbfgs solver calls it."""
    from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss

    base = HalfBinomialLoss() if classes == 2 else HalfMultinomialLoss(n_classes=classes)
    loss = LinearModelLoss(base_loss=base, fit_intercept=True)
    n = X_rows.shape[1]
    coef = np.full(n + 1, 0.01, dtype=dtype) if classes == 2 else np.full(
        (classes, n + 1), 0.01, dtype=dtype)
    y = y.astype(dtype)
    weights = np.ones_like(y)
    return lambda: loss.loss_gradient(coef, X_rows, y, sample_weight=weights, l2_reg_strength=1e-4)


def report(title, medians):
    fused_time = medians["fused"]
    print(f"\n{title}")
    for name, seconds in medians.items():
        print(f"  {name:<22} {seconds * 1e3:9.1f} ms   fused / this = {fused_time / seconds:5.2f}")


def dense(repeats, dtype, m=200_000, n=500, K=10):
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((m, n)).astype(dtype)
    y = (rows[:, :K] @ rng.standard_normal((K, K)) + rng.gumbel(size=(m, K))).argmax(axis=1)
    X, Y = rows.T, (np.arange(K)[:, None] == y).astype(dtype)
    W = (rng.standard_normal((n, K)) * 0.05).astype(dtype)
    b = np.linspace(-1, 1, K, dtype=dtype).reshape(-1, 1)
    with fused.thread_limit(1):
        one = fused.loss_and_gradient(W, b, X, Y)
    want = neuron.loss_and_gradient(W, b, X, Y)
    print(f"dense {dtype.__name__}: |J − J_notes| = {abs(one[0] - want[0]):.1e}, "
          f"max |dW − dW_notes| = {np.max(np.abs(one[1] - want[1])):.1e}")

    def one_thread():
        with fused.thread_limit(1):
            fused.loss_and_gradient(W, b, X, Y)

    medians = interleaved_medians({
        "fused": lambda: fused.loss_and_gradient(W, b, X, Y),
        "fused, 1 thread": one_thread,
        "notes (neuron)": lambda: neuron.loss_and_gradient(W, b, X, Y),
        "scikit-learn": sklearn_evaluation(rows, y, K, dtype),
    }, repeats)
    report(f"a. dense ({m}, {n}) {dtype.__name__}, K = {K}, {fused.threads()} threads", medians)


def power_law_rows(m, n, per_row, seed=0):
    """CSR rows (m, n) with about ``per_row`` non-zeros each, feature j drawn with probability
    ∝ 1/(j + 10)^1.1 (a Zipf-like vocabulary), values like tf-idf weights."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(per_row, m)
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)  # as scikit-learn's
    p = 1.0 / (np.arange(n) + 10.0) ** 1.1
    indices = rng.choice(n, size=int(indptr[-1]), p=p / p.sum()).astype(np.int32)
    data = rng.uniform(0.1, 1.0, indices.shape[0])
    rows = sp.csr_array((data, indices, indptr), shape=(m, n))
    rows.sum_duplicates()
    return rows


def sparse(repeats, m, n=100_000, per_row=50):
    rows = power_law_rows(m, n, per_row)
    X = rows.T  # CSC (n_x, m): the estimator's layout, examples as CSR rows of X.T
    rng = np.random.default_rng(1)
    print(f"\nsparse X: {m} × {n}, {rows.nnz} non-zeros, "
          f"{(rows.data.nbytes + rows.indices.nbytes + rows.indptr.nbytes) / 2**20:.0f} MiB")
    for K in (20, 2):
        truth = rng.standard_normal((n, K))
        y = (rows @ truth + rng.gumbel(size=(m, K))).argmax(axis=1)
        Y = (np.arange(K)[:, None] == y).astype(float) if K > 2 else y.reshape(1, -1).astype(
            float)
        W = rng.standard_normal((n, Y.shape[0])) * 0.01
        b = rng.standard_normal((K, 1)) * 0.1 if K > 2 else 0.1
        with fused.thread_limit(1):
            one = fused.loss_and_gradient(W, b, X, Y)
        want = neuron.loss_and_gradient(W, b, X, Y)
        print(f"sparse K = {K}: |J − J_notes| = {abs(one[0] - want[0]):.1e}, "
              f"max |dW − dW_notes| = {np.max(np.abs(one[1] - want[1])):.1e}")

        def one_thread():
            with fused.thread_limit(1):
                fused.loss_and_gradient(W, b, X, Y)

        medians = interleaved_medians({
            "fused": lambda: fused.loss_and_gradient(W, b, X, Y),
            "fused, 1 thread": one_thread,
            "notes (neuron)": lambda: neuron.loss_and_gradient(W, b, X, Y),
            "scikit-learn": sklearn_evaluation(rows, y, K, np.float64),
        }, repeats)
        report(f"b. sparse {m} × {n}, K = {K}, {fused.threads()} threads", medians)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs a round (3 rounds)")
    parser.add_argument("--only", choices=["dense", "sparse"])
    parser.add_argument("--small", action="store_true", help="sparse: 50000 examples")
    args = parser.parse_args()
    print(machine())
    if args.only in (None, "dense"):
        for dtype in (np.float64, np.float32):
            dense(args.repeats, dtype)
    if args.only in (None, "sparse"):
        sparse(args.repeats, 50_000 if args.small else 500_000)


if __name__ == "__main__":
    main()
