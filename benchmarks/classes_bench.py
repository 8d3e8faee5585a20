"""K classes and sparse data against scikit-learn: time to the best final cost, and peak memory.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/classes_bench.py

a. dense, K = 10 classes, X (200000, 500), float64 and float32: ours (``solver="lbfgs"``,
   ``l2 = 1/C``) against scikit-learn's ``LogisticRegression(C=C)`` (multinomial, lbfgs);
b. sparse, text-like: X (500000, 100000) CSR, ~50 non-zeros a row, word frequencies of Zipf's
   law, sublinear tf-idf values, rows L2-normalised (scikit-learn's TfidfTransformer); labels
   from a planted sparse linear model with noise, binary and K = 20. Ours (lbfgs) against
   scikit-learn's lbfgs, saga and (binary only: it fits one-vs-rest for K classes, another
   problem) liblinear. K = 20 runs on 100000 of the documents by default (the same vocabulary
   and law): at 500000 an evaluation takes about a second in either library and the solvers
   take hundreds, some 7 minutes a fit; ``--sparse-k-rows 0`` runs it at full size.

The same convex problem for every solver: J = (1/m) Σ loss + (λ/2m)‖W‖², λ = 1/C (the intercept
not penalised), C = 1 (scikit-learn's default). Every solver runs from zero to convergence
(L-BFGS: gtol 1e-10, ftol 64 ε in both libraries); the best final cost of all, J*, is the
target, and each solver's figure is its time to reach J*·(1 + 1e-8):

- L-BFGS (ours and scikit-learn's): both call scipy.optimize.minimize, which this script wraps
  to time-stamp every iteration and every evaluation. Dense: every iterate is written to a file
  and its cost computed afterwards in float64 by ``logreg.core.neuron`` (float32 solvers report
  float32-accurate costs); sparse (float64): the cost L-BFGS-B reports, checked against
  ``logreg.core.neuron`` at the end. Time = from ``fit`` being called to the end of that iteration.
- saga and liblinear have no callback: fits with max_iter = 1, 2, 4, ... until one reaches the
  target, then bisection to within 10 % of the iterations; the time of the smallest such fit.
  liblinear penalises the intercept (a feature of value ``intercept_scaling``); it runs with
  ``intercept_scaling=100``, so that penalty is (b/100)²/2, below the tolerance.

Each solver runs in its own process (a fresh interpreter; one warm-up fit on a few rows first,
so numba's compiled kernels are loaded) that reads the data from a file. Its peak RSS is the
process's VmHWM during the fits (reset through /proc/self/clear_refs after loading the data and
the warm-up), the data included: X is the same bytes for every solver. Times are the median of
``--repeats`` fits. The machine may be shared: before each fit the process waits until other
processes leave the CPUs idle, and a fit during which they took more than 5 % of the CPUs
(from /proc/stat) runs again (the table says where that still happened).
Writes benchmarks/RESULTS_classes.md and its section of RESULTS.md.
"""

import argparse
import contextlib
import gc
import inspect
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from timing import machine, splice_section  # noqa: E402

TITLE = "On K classes and sparse data"
RESULTS_NAME = "RESULTS_classes.md"
C = 1.0  # scikit-learn's default; λ = 1/C
GTOL = 1e-10  # L-BFGS's gradient tolerance, both libraries: they stop at ftol = 64 ε first
MAX_ITER = 10_000
RELATIVE = 1e-8  # "reached": J ≤ J*·(1 + 1e-8)
WARMUP_ROWS = 2000
LIBLINEAR_INTERCEPT_SCALING = 100.0
TRIES, CALM = 5, 3  # a fit disturbed by other processes: tries in all; quiet seconds before


# ----------------------------------------------------------------------------- the data

def blobs(m, n, classes, seed=0):
    """K Gaussian blobs: centres μ_k ~ N(0, 0.15² I), x = μ_y + N(0, I). Overlapping (the Bayes
    rule is right on about 94 %), unit-variance features: well conditioned, not separable."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=0.15, size=(classes, n))
    y = rng.integers(0, classes, size=m)
    X = rng.standard_normal((m, n))
    X += centres[y]
    return X, y


def zipf_probabilities(n, shift=2.7):
    """Zipf–Mandelbrot: the r-th most frequent word has probability ∝ 1 / (r + 2.7)."""
    p = 1.0 / (np.arange(1, n + 1) + shift)
    return p / p.sum()


def tokens_for(nnz, p):
    """Draws per document such that about ``nnz`` distinct words remain: Σ_j 1 − (1 − p_j)^T."""
    low, high = nnz, 100 * nnz
    while high - low > 1:
        mid = (low + high) // 2
        distinct = np.sum(-np.expm1(mid * np.log1p(-p)))
        low, high = (mid, high) if distinct < nnz else (low, mid)
    return high


def text_like(m, n, nnz, seed=0):
    """Documents as rows: Poisson lengths, words drawn by Zipf's law (column ids shuffled),
    counts → sublinear tf-idf, rows L2-normalised. CSR float64 (m, n) with ~``nnz`` a row."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer

    rng = np.random.default_rng(seed)
    p = zipf_probabilities(n)
    lengths = np.maximum(1, rng.poisson(tokens_for(nnz, p), size=m))
    words = rng.permutation(n)[rng.choice(n, size=int(lengths.sum()), p=p)]
    rows = np.repeat(np.arange(m, dtype=np.int32), lengths)
    counts = sp.csr_matrix((np.ones(len(words)), (rows, words.astype(np.int32))), shape=(m, n))
    del words, rows
    counts.sum_duplicates()
    X = TfidfTransformer(sublinear_tf=True).fit_transform(counts).tocsr()
    X.sort_indices()
    return X


def planted_labels(X, classes, seed=1, signal=2.5):
    """Labels from a planted sparse model: each class's weights on 2 % of the words (of ranks
    100 to 20000: topic words, not stop words), z = Xw scaled to a spread of ``signal``, then
    y drawn from σ(z) (binary) or softmax(z) (K classes, by the Gumbel trick)."""
    rng = np.random.default_rng(seed)
    m, n = X.shape
    outputs = 1 if classes == 2 else classes
    candidates = np.arange(min(100, n // 10), min(20_000, n))
    W = np.zeros((n, outputs))
    for k in range(outputs):
        support = rng.choice(candidates, size=max(1, n // 50), replace=False)
        W[support, k] = rng.standard_normal(len(support))
    Z = np.asarray(X @ W)
    Z *= signal / Z.std()
    if classes == 2:
        return (rng.random(m) < 1 / (1 + np.exp(-Z[:, 0]))).astype(np.int64)
    return np.argmax(Z + rng.gumbel(size=Z.shape), axis=1)


# ----------------------------------------------------------------------------- one solver run

def rss(field="VmRSS"):
    """This process's VmRSS or VmHWM (peak) in bytes, from /proc/self/status."""
    with open("/proc/self/status") as status:
        return 1024 * int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.M).group(1))


def reset_peak():
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class Probe:
    """Wraps scipy.optimize.minimize, which both libraries' L-BFGS call: the time at the end of
    every iteration, the cost L-BFGS-B reports there, every evaluation's start and end, and
    (when a file is given) every iterate θ, appended to the file as float64."""

    def __init__(self):
        import scipy.optimize

        self.original = scipy.optimize.minimize
        scipy.optimize.minimize = self.minimize
        self.reset()

    def reset(self, iterates=None):
        self.stamps, self.costs, self.evaluations, self.calls = [], [], [], []
        self.iterates = iterates

    def minimize(self, fun, x0, args=(), method=None, jac=None, callback=None, **kwargs):
        by_result = callback is not None and set(
            inspect.signature(callback).parameters) == {"intermediate_result"}

        def timed(theta, *more):
            start = time.perf_counter()
            out = fun(theta, *more)
            self.evaluations.append((start, time.perf_counter()))
            return out

        def record(intermediate_result):
            self.stamps.append(time.perf_counter())
            self.costs.append(float(intermediate_result.fun))
            if self.iterates is not None:
                self.iterates.write(np.asarray(intermediate_result.x, np.float64).tobytes())
            if callback is not None:  # the caller's own, as SciPy would call it
                callback(intermediate_result if by_result else intermediate_result.x)

        start = time.perf_counter()
        result = self.original(timed, x0, args=args, method=method, jac=jac, callback=record,
                               **kwargs)
        self.calls.append((start, time.perf_counter(), int(result.nit), int(result.nfev)))
        return result


def estimator(spec, max_iter=MAX_ITER):
    if spec["library"] == "ours":
        from logreg import LogisticRegression

        return LogisticRegression(solver="lbfgs", l2=1 / C, tol=GTOL, num_iterations=max_iter,
                                  implementation=spec.get("implementation", "auto"))
    from sklearn.linear_model import LogisticRegression

    solver = spec["solver"]
    tol = {"lbfgs": GTOL, "saga": 1e-15, "liblinear": 1e-15}[solver]
    extra = {"intercept_scaling": LIBLINEAR_INTERCEPT_SCALING} if solver == "liblinear" else {}
    return LogisticRegression(C=C, solver=solver, tol=tol, max_iter=max_iter, random_state=0,
                              **extra)


def load(spec):
    import scipy.sparse as sp

    X = sp.load_npz(spec["X"]) if spec["X"].endswith(".npz") else np.load(spec["X"])
    return X, np.load(spec["y"])


def warm_up(spec, X, y):
    """One fit on the first rows (all classes among them): imports, numba's kernels loaded."""
    rows = min(X.shape[0], WARMUP_ROWS)
    warm = dict(spec, implementation="fused") if spec["library"] == "ours" else spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator(warm, max_iter=5).fit(X[:rows], y[:rows])


def cpu_seconds():
    """(CPU seconds the whole machine has been busy, CPU seconds of this process's threads)."""
    with open("/proc/stat") as stat:
        ticks = [int(t) for t in stat.readline().split()[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    own = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system


def others_share(since, seconds):
    """The share of the machine's CPUs that other processes used since ``since``."""
    busy, own = cpu_seconds()
    return max(0.0, (busy - since[0]) - (own - since[1])) / (seconds * len(os.sched_getaffinity(0)))


def wait_for_quiet(spec):
    """Wait (at most spec["wait"] seconds) until other processes use under spec["quiet"] of the
    CPUs for CALM seconds running; whether they did."""
    deadline, calm = time.monotonic() + spec["wait"], 0
    while time.monotonic() < deadline:
        since = cpu_seconds()
        time.sleep(1.0)
        calm = calm + 1 if others_share(since, 1.0) < spec["quiet"] else 0
        if calm >= CALM:
            return True
    return spec["wait"] <= 0


def timed_fit(spec, X, y, max_iter=MAX_ITER, prepare=None):
    """One fit, timed: a dict of the fitted estimator, its start and seconds, the peak RSS
    during it and the RSS before it, and the share of the CPUs other processes took meanwhile.
    The machine is shared: a fit during which others took more than spec["quiet"] of the CPUs
    runs again (TRIES in all at most), after waiting for quiet. ``prepare()`` runs first."""
    for attempt in range(TRIES if spec["wait"] > 0 else 1):
        wait_for_quiet(spec)
        if prepare is not None:
            prepare()
        gc.collect()
        before = rss()
        exact = reset_peak()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning of short saga/liblinear fits
            since = cpu_seconds()
            start = time.perf_counter()
            fitted = estimator(spec, max_iter).fit(X, y)
            seconds = time.perf_counter() - start
        cores = (cpu_seconds()[1] - since[1]) / seconds  # CPU seconds of ours per second
        others = others_share(since, seconds)
        if others <= spec["quiet"]:
            break
    return {"fitted": fitted, "start": start, "seconds": seconds, "peak": rss("VmHWM"),
            "before": before, "exact_peak": exact, "others": others, "tries": attempt + 1,
            "cores": cores}


def fitted_parameters(fitted):
    return {"coef": fitted.coef_.astype(np.float64), "intercept":
            np.asarray(fitted.intercept_, np.float64)}


def trajectory_child(spec, X, y):
    """L-BFGS: ``repeats`` fits, each with its iterations' time stamps and costs."""
    probe = Probe()
    warm_up(spec, X, y)
    runs = []
    for repeat in range(spec["repeats"]):
        if sum(run["seconds"] for run in runs) > spec["budget"]:
            break  # fewer repeats of a long fit: the table says how many
        write = spec.get("iterates") and repeat == 0
        with open(spec["iterates"], "wb") if write else contextlib.nullcontext() as iterates:

            def prepare():
                if iterates is not None:
                    iterates.seek(0)
                    iterates.truncate()
                probe.reset(iterates)

            fit = timed_fit(spec, X, y, prepare=prepare)
        start = fit["start"]
        begin, end, nit, nfev = probe.calls[-1]
        runs.append({key: fit[key] for key in ("seconds", "peak", "before", "exact_peak",
                                               "others", "tries", "cores")})
        runs[-1].update(stamps=[s - start for s in probe.stamps], costs=probe.costs,
                        evaluations=[(a - start, b - start) for a, b in probe.evaluations],
                        minimize=(begin - start, end - start), nit=nit, nfev=nfev)
        if repeat == 0:
            np.savez(spec["parameters"], **fitted_parameters(fit["fitted"]))
            engine = getattr(fit["fitted"], "engine_",
                             {"name": f"scikit-learn {spec['solver']}"})
    return {"runs": runs, "engine": engine}


def objective(W, b, X_notes, Y, l2=1 / C):
    """J = (1/m) Σ loss + (λ/2m)‖W‖² in float64, by ``logreg.core.neuron`` for every solver alike:
    W (n_x, K'), b a number or (K', 1), X (n_x, m) float64, Y (1, m) or one-hot (K, m)."""
    from logreg.core import neuron

    Z = neuron.decision_function(W, b, X_notes)
    return float(neuron.cost_from_z(Z, Y)) + l2 / (2 * Y.shape[1]) * float(np.sum(W * W))


def notes_layout(X, y):
    """X (n_x, m) in float64 (sparse: CSC, a view of the CSR rows when already float64) and Y
    (1, m) of 0/1 for two classes, one-hot (K, m) for more."""
    classes = np.unique(y)
    X = X.astype(np.float64, copy=False).T
    if len(classes) == 2:
        return X, (y == classes[1]).reshape(1, -1).astype(np.float64)
    return X, (classes.reshape(-1, 1) == y.reshape(1, -1)).astype(np.float64)


def as_notes(coef, intercept):
    """(W (n_x, K'), b) from coef_ (K', n_x) and intercept_ (K',)."""
    W = np.asarray(coef, np.float64).T
    b = np.asarray(intercept, np.float64)
    return W, (float(b[0]) if W.shape[1] == 1 else b.reshape(-1, 1))


def ladder_child(spec, X, y):
    """saga / liblinear: fits with max_iter = 1, 2, 4, ... until one reaches the target (or the
    solver converges, or the budget is spent), then bisection of max_iter to within 10 %; the
    smallest reaching fit is then repeated for the median."""
    X_notes, Y = notes_layout(X, y)
    target, budget = spec["target"], spec["budget"]
    warm_up(spec, X, y)
    rungs, spent = {}, 0.0

    def rung(k):
        nonlocal spent
        fit = timed_fit(spec, X, y, max_iter=k)
        spent += fit["seconds"]
        fitted = fit["fitted"]
        cost = objective(*as_notes(fitted.coef_, fitted.intercept_), X_notes, Y)
        n_iter = int(np.max(fitted.n_iter_))
        rungs[k] = {key: fit[key] for key in ("peak", "before", "exact_peak", "tries", "cores")}
        rungs[k].update(seconds=[fit["seconds"]], others=[fit["others"]], cost=cost,
                        n_iter=n_iter)
        if k == max(rungs):
            np.savez(spec["parameters"], **fitted_parameters(fitted))
        return cost <= target, n_iter < k

    k, reached, converged = 1, False, False
    while True:
        reached, converged = rung(k)
        if reached or converged or spent > budget or k >= MAX_ITER:
            break
        k *= 2
    if reached:
        low, high = k // 2, k
        while high - low > max(1, 0.1 * low) and spent <= budget:
            middle = (low + high) // 2
            low, high = (low, middle) if rung(middle)[0] else (middle, high)
        for _ in range(spec["repeats"] - 1):
            if spent > budget:
                break
            fit = timed_fit(spec, X, y, max_iter=high)
            spent += fit["seconds"]
            rungs[high]["seconds"].append(fit["seconds"])
            rungs[high]["others"].append(fit["others"])
    return {"rungs": {str(k): v for k, v in sorted(rungs.items())}, "spent": spent,
            "converged": converged}


def child(spec_path):
    spec = json.loads(Path(spec_path).read_text())
    estimator(spec)  # its library imported
    empty = rss()
    X, y = load(spec)
    data = rss() - empty  # the RSS of the data loaded (X and y)
    work = ladder_child if spec["solver"] in ("saga", "liblinear") else trajectory_child
    result = dict(work(spec, X, y), data=data)
    Path(spec["out"]).write_text(json.dumps(result))


# ----------------------------------------------------------------------------- the parent

class Bench:
    def __init__(self, folder, repeats, budget, quiet, wait):
        self.folder, self.repeats, self.budget = folder, repeats, budget
        self.quiet, self.wait = quiet, wait
        self.rows, self.figures, self.count = [], [], 0

    def run(self, spec):
        """Run one solver in its own process; its result (the child's JSON)."""
        self.count += 1
        stem = self.folder / f"run{self.count}"
        spec = dict(spec, out=f"{stem}.json", parameters=f"{stem}-parameters.npz",
                    repeats=self.repeats, budget=self.budget, quiet=self.quiet,
                    wait=self.wait)
        if spec.get("iterates"):
            spec["iterates"] = f"{stem}-iterates.bin"
        Path(f"{stem}-spec.json").write_text(json.dumps(spec))
        what = f"{spec['library']} {spec['solver']}"
        print(f"#   {what} ...", flush=True)
        done = subprocess.run([sys.executable, __file__, "--child", f"{stem}-spec.json"],
                              cwd=HERE.parent)
        if done.returncode != 0:
            raise RuntimeError(f"{what} failed (exit status {done.returncode})")
        result = json.loads(Path(spec["out"]).read_text())
        with np.load(spec["parameters"]) as saved:
            result["final"] = as_notes(saved["coef"], saved["intercept"])
        return dict(result, spec=spec)


def theta_to_notes(theta, library, n, outputs):
    """An L-BFGS iterate θ as (W (n_x, K'), b): ours is [W row-major; b], scikit-learn's
    binary [w; b] and multinomial (K, n_x + 1) in Fortran order, b its last column."""
    if library == "ours" or outputs == 1:
        W = theta[:n * outputs].reshape(n, outputs)
        b = theta[n * outputs:]
    else:
        M = theta.reshape(outputs, n + 1, order="F")
        W, b = M[:, :n].T, M[:, n]
    return W, (float(b[0]) if outputs == 1 else b.reshape(-1, 1))


def first_reaching(result, target, X_notes, Y):
    """The first iteration whose iterate's cost is ≤ target, or None. From the stored
    iterates (costs by ``objective``, bisection: L-BFGS's costs only go down) when there are,
    else from the costs L-BFGS-B reported."""
    spec = result["spec"]
    if not spec.get("iterates"):
        costs = result["runs"][0]["costs"]
        return next((i for i, cost in enumerate(costs) if cost <= target), None)
    n, outputs = X_notes.shape[0], Y.shape[0]
    size = n * outputs + outputs
    thetas = np.fromfile(spec["iterates"], dtype=np.float64).reshape(-1, size)

    def cost(i):
        return objective(*theta_to_notes(thetas[i], spec["library"], n, outputs), X_notes, Y)

    low, high = -1, len(thetas) - 1  # cost(low) > target (low = -1: the start), cost(high)?
    if cost(high) > target:
        return None
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if cost(middle) <= target else (middle, high)
    return high


def trajectory_figures(result, index):
    """Time to the end of iteration ``index`` (median over the repeats), evaluations to it,
    and where the time went."""
    runs = [run for run in result["runs"] if len(run["stamps"]) > index]
    first = runs[0]
    stamp = first["stamps"][index]
    evaluations = [e for e in first["evaluations"] if e[1] <= stamp]
    per_evaluation = statistics.median(b - a for a, b in first["evaluations"])
    in_evaluations = sum(b - a for a, b in evaluations)
    return {"seconds": statistics.median(run["stamps"][index] for run in runs),
            "iterations": index + 1, "evaluations": len(evaluations),
            "per_evaluation": per_evaluation, "setup": first["minimize"][0],
            "in_evaluations": in_evaluations,
            "in_lbfgs": stamp - first["minimize"][0] - in_evaluations,
            "first_run_seconds": stamp, "repeats": len(runs)}


def memory_of(result):
    """(peak RSS, RSS before the fit, whether VmHWM could be reset) of one fit: L-BFGS's first
    timed fit (a later one starts on the heap the earlier left), the ladder's longest; the
    largest share of the CPUs other processes took during any fit; every fit's peak."""
    entries = result["runs"] if "runs" in result else list(result["rungs"].values())
    fit = entries[0] if "runs" in result else max(entries, key=lambda e: max(e["seconds"]))
    others = float(max(np.max(e["others"]) for e in entries))
    return fit["peak"], fit["before"], fit["exact_peak"], others, [e["peak"] for e in entries]


def mib(nbytes):
    return f"{nbytes / 2**20:,.0f} MiB"


def compare(bench, problem, X, y, data_files, ladders, sizes):
    """Every solver on one problem; its rows in the table."""
    X_notes, Y = notes_layout(X, y)
    dense = not data_files["X"].endswith(".npz")
    runs = {}
    for library in ("ours", "scikit-learn"):
        runs[f"{library} lbfgs"] = bench.run(dict(data_files, library=library, solver="lbfgs",
                                                  iterates=dense))
    finals = {name: objective(*r["final"], X_notes, Y) for name, r in runs.items()}
    best = min(finals.values())
    for solver in ladders:
        runs[f"scikit-learn {solver}"] = result = bench.run(dict(
            data_files, library="scikit-learn", solver=solver,
            target=best * (1 + RELATIVE)))
        finals[f"scikit-learn {solver}"] = min(r["cost"] for r in result["rungs"].values())
    best = min(finals.values())  # a ladder's final below the L-BFGS ones moves the target
    target = best * (1 + RELATIVE)
    figures = {name: timing(result, finals[name], best, target, X_notes, Y)
               for name, result in runs.items()}
    record = {"problem": problem, "sizes": sizes, "best": best, "target": target,
              "solvers": figures, "sklearn_best": fastest_sklearn(figures)}
    bench.figures.append(record)
    rows(bench, problem, figures)
    if record["sklearn_best"] is None:  # none of scikit-learn's solvers got to J*·(1 + 1e-8)
        sklearn_final = min(cost for name, cost in finals.items() if name.startswith("scikit"))
        target = sklearn_final * (1 + RELATIVE)
        figures = {name: timing(result, finals[name], best, target, X_notes, Y)
                   for name, result in runs.items()}
        record["to_sklearn_final"] = {"target": target, "solvers": figures,
                                      "sklearn_best": fastest_sklearn(figures)}
        rows(bench, f"{problem}, to scikit-learn's lowest final J (its runs stop short of J*)",
             figures)


def timing(result, final, best, target, X_notes, Y):
    """One solver's figures on one problem: time to ``target`` (where reached), iterations,
    where the time went, peak memory."""
    entry = {"final": final, "gap": (final - best) / abs(best)}
    (entry["peak"], entry["before"], entry["exact_peak"], entry["others"],
     entry["peaks"]) = memory_of(result)
    entry["data"] = result["data"]
    entries = result["runs"] if "runs" in result else list(result["rungs"].values())
    entry["cores"] = statistics.median(e["cores"] for e in entries)
    if "runs" in result:
        index = first_reaching(result, target, X_notes, Y)
        entry["engine"] = result["engine"]["name"]
        entry["reported_final"] = result["runs"][0]["costs"][-1]
        entry["total"] = statistics.median(run["seconds"] for run in result["runs"])
        entry["iterations_run"] = result["runs"][0]["nit"]
        entry["evaluations_run"] = result["runs"][0]["nfev"]
        if index is not None:
            entry.update(trajectory_figures(result, index))
        return entry
    reaching = [(int(k), r) for k, r in result["rungs"].items() if r["cost"] <= target]
    entry["rungs"] = len(result["rungs"])
    entry["spent"] = result["spent"]
    if reaching:
        k, r = min(reaching)
        entry.update(seconds=statistics.median(r["seconds"]), iterations=k,
                     repeats=len(r["seconds"]))
    else:
        k = max(int(k) for k in result["rungs"])
        entry.update(iterations_run=k, total=result["rungs"][str(k)]["seconds"][0])
    return entry


def fastest_sklearn(figures):
    """The name of scikit-learn's solver that reached the target first, or None."""
    times = [(e["seconds"], name) for name, e in figures.items()
             if name.startswith("scikit-learn") and "seconds" in e]
    return min(times)[1] if times else None


def rows(bench, problem, figures):
    fastest = fastest_sklearn(figures)
    for name, entry in figures.items():
        bench.rows.append(table_row(problem, name, entry, fastest, figures, bench.repeats,
                                    bench.quiet))


def table_row(problem, name, entry, fastest, figures, repeats, quiet):
    reached = "seconds" in entry
    time_text = f"{entry['seconds']:.2f} s" if reached else \
        f"not reached ({entry.get('total', 0):.1f} s run)"
    if reached and entry["repeats"] < repeats:
        time_text += f" (of {entry['repeats']} fit{'s' * (entry['repeats'] > 1)})"
    ratio = ""
    if reached and fastest and name == "ours lbfgs":
        ratio = f"{entry['seconds'] / figures[fastest]['seconds']:.2f}× {fastest.split()[1]}"
    elif reached and name == fastest:
        ratio = "(fastest)"
    if "evaluations" in entry:
        work = (f"{entry['iterations']} it / {entry['evaluations']} ev "
                f"({entry['iterations_run']} / {entry['evaluations_run']} run)")
        where = (f"{entry['per_evaluation'] * 1e3:.0f} ms/ev; setup {entry['setup']:.2f} s, "
                 f"evaluations {entry['in_evaluations']:.2f} s, L-BFGS-B "
                 f"{entry['in_lbfgs']:.2f} s")
    elif "rungs" in entry:
        work = (f"max_iter {entry['iterations']}" if reached else
                f"max_iter {entry['iterations_run']}") + f" ({entry['rungs']} fits)"
        where = f"ladder of fits took {entry['spent']:.0f} s"
        if reached:
            where = (f"{entry['seconds'] / entry['iterations'] * 1e3:.0f} ms per iteration "
                     f"(epoch); " + where)
    else:
        work = f"({entry['iterations_run']} / {entry['evaluations_run']} run)"
        where = ""
    peak = (f"{mib(entry['peak'])} (runtime {mib(entry['before'] - entry['data'])}, "
            f"fit +{mib(entry['peak'] - entry['before'])})")
    ours = figures.get("ours lbfgs")
    if name != "ours lbfgs" and ours:
        peak += f"; ours {ours['peak'] / entry['peak']:.2f}×"
    engine = f"engine {entry['engine']}; " if name == "ours lbfgs" else ""
    engine += f"{entry['cores']:.1f} cores busy; "
    if entry["others"] > quiet:
        where += f"; other processes took up to {entry['others']:.0%} of the CPUs meanwhile"
    if not entry["exact_peak"]:
        peak += " (VmHWM not resettable: the process's whole life)"
    return (problem, name, time_text, ratio, work, peak, f"{entry['gap']:.1e}",
            (engine + where).strip("; "))


def dense_problems(bench, args):
    m, n, classes = args.dense_rows, args.dense_features, args.classes
    X64, y = blobs(m, n, classes)
    for dtype in (np.float64, np.float32):
        X = X64.astype(dtype, copy=False)
        files = {"X": str(bench.folder / f"dense-{np.dtype(dtype).name}.npy"),
                 "y": str(bench.folder / "dense-y.npy")}
        np.save(files["X"], X)
        np.save(files["y"], y)
        name = f"dense {m}×{n}, K = {classes}, {np.dtype(dtype).name}"
        print(f"# {name}", flush=True)
        compare(bench, name, X, y, files, ladders=(),
                sizes={"m": m, "n": n, "classes": classes, "dtype": np.dtype(dtype).name,
                       "X_bytes": X.nbytes})
        Path(files["X"]).unlink()


def sparse_problems(bench, args):
    """The binary problem, then K classes (on the same X, or on one of their own size)."""
    binary = (args.sparse_rows, args.sparse_features)
    several = (args.sparse_k_rows or binary[0], args.sparse_k_features or binary[1])
    X = None
    for classes, (m, n) in ((2, binary), (args.sparse_classes, several)):
        if X is None or X.shape != (m, n):
            X = None  # one sparse X in memory at a time
            X, files = sparse_data(bench, m, n, args.nnz)
        y = planted_labels(X, classes)
        files["y"] = str(bench.folder / f"sparse-y{classes}.npy")
        np.save(files["y"], y)
        nnz = X.nnz / m
        kind = "binary" if classes == 2 else f"K = {classes}"
        name = f"sparse {m}×{n}, {nnz:.0f} nnz/row, {kind}"
        print(f"# {name}", flush=True)
        compare(bench, name, X, y, files,
                ladders=("saga", "liblinear") if classes == 2 else ("saga",),
                sizes={"m": m, "n": n, "classes": classes, "nnz_per_row": nnz,
                       "X_bytes": X.data.nbytes + X.indices.nbytes + X.indptr.nbytes})


def sparse_data(bench, m, n, nnz):
    import scipy.sparse as sp

    start = time.perf_counter()
    X = text_like(m, n, nnz)
    files = {"X": str(bench.folder / f"sparse-{m}x{n}.npz")}
    sp.save_npz(files["X"], X, compressed=False)
    print(f"# sparse {m}×{n}: {X.nnz / m:.1f} non-zeros a row, built in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    return X, files


HEADER = ("| problem | solver | time to J*·(1 + 1e-8) | ratio | iterations / evaluations "
          "| peak RSS | final J − J* (rel.) | where the time goes |")


def summary_rows(records):
    """One row a problem: ours, scikit-learn's fastest, the ratio, peak RSS, the goals."""
    rows = []
    for record in records:
        problem, figures = record["problem"], record
        if record["sklearn_best"] is None and "to_sklearn_final" in record:
            problem += " (to scikit-learn's lowest J: none of its runs gets to J*)"
            figures = record["to_sklearn_final"]
        solvers, fastest = figures["solvers"], figures["sklearn_best"]
        ours = solvers["ours lbfgs"]
        if fastest is None or "seconds" not in ours:
            rows.append((problem, time_of(ours), "—", "—", "—", "—"))
            continue
        theirs = solvers[fastest]
        ratio = ours["seconds"] / theirs["seconds"]
        ratio_text = f"**{ratio:.2f}×**" if ratio <= 0.5 else f"{ratio:.2f}×"
        lbfgs = solvers.get("scikit-learn lbfgs", {})
        if fastest != "scikit-learn lbfgs" and "seconds" in lbfgs:
            ratio_text += f" ({ours['seconds'] / lbfgs['seconds']:.2f}× lbfgs)"
        memory = ours["peak"] / theirs["peak"]
        goals = (f"time {'met' if ratio <= 0.5 else 'not met'}, "
                 f"memory {'met' if memory <= 1 else 'not met'}")
        rows.append((problem, time_of(ours),
                     f"{time_of(theirs)} ({fastest.split()[1]})", ratio_text,
                     f"{mib(ours['peak'])} / {mib(theirs['peak'])} ({memory:.2f}×)", goals))
    return rows


def time_of(entry):
    return f"{entry['seconds']:.2f} s" if "seconds" in entry else "not reached"


def section(bench, description, started, args, seconds):
    """RESULTS_classes.md: a summary table, then every solver's figures."""
    command = ("env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python "
               "benchmarks/classes_bench.py" + "".join(f" {a}" for a in args.argv))
    lines = ["# K classes and sparse data against scikit-learn", "", "## Summary", "",
             f"Measured {started:%Y-%m-%d %H:%M} UTC by `{command}` ({seconds / 60:.0f} min); "
             f"every figure in one run; times the median of {args.repeats} "
             f"fit{'s' * (args.repeats > 1)} unless the details say fewer.", "",
             f"Machine: {description}", "",
             "Time to the best final cost of all solvers, J*·(1 + 1e-8); peak RSS of the "
             "solver's process, X included (theirs: scikit-learn's fastest solver's). The "
             "goals: at most 0.5× scikit-learn's time, at most its memory.", "",
             "| problem | ours (lbfgs) | scikit-learn's fastest | ratio | peak RSS ours / "
             "theirs | goals |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    lines += [f"| {' | '.join(row)} |" for row in summary_rows(bench.figures)]
    lines += ["", "## Details", "",
              f"The problem: J = (1/m) Σ loss + (λ/2m)‖W‖², λ = 1/C = {1 / C:g} (scikit-learn "
              f"C = {C:g}), the intercept unpenalised; J* the lowest final cost of all solvers "
              f"(each run from zero to convergence), every cost computed in float64 by "
              f"logreg.core.neuron. Ratio: ours over scikit-learn's fastest solver to "
              f"J*·(1 + 1e-8). Peak RSS: the solver's process during its fits (VmHWM), X and "
              f"y included, of the first timed fit (saga, liblinear: the longest); runtime: "
              f"the process before that fit less the data (the interpreter, the libraries, "
              f"numba's compiled kernels, what the warm-up fit left); fit: what the fit added; "
              f"for scikit-learn, ours as a share of its peak. "
              f"Iterations / evaluations: to the target (and in the whole run); cores busy: "
              f"the process's CPU seconds per second of the fit. "
              f"Method: benchmarks/classes_bench.py's docstring.", "",
              HEADER, "| " + " | ".join(["---"] * 8) + " |"]
    lines += [f"| {' | '.join(row)} |" for row in bench.rows]
    return "\n".join(lines) + "\n"


def splice(path, text):
    """This benchmark's section into RESULTS.md (``timing.splice_section``)."""
    splice_section(path, TITLE, "benchmarks/classes_bench.py", RESULTS_NAME, text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help="fits per time (median)")
    parser.add_argument("--only", choices=("dense", "sparse"))
    parser.add_argument("--dense-rows", type=int, default=200_000)
    parser.add_argument("--dense-features", type=int, default=500)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--sparse-rows", type=int, default=500_000)
    parser.add_argument("--sparse-features", type=int, default=100_000)
    parser.add_argument("--nnz", type=int, default=50, help="non-zeros a row, about")
    parser.add_argument("--sparse-classes", type=int, default=20)
    parser.add_argument("--sparse-k-rows", type=int, default=100_000,
                        help="K classes' rows (0: as many as the binary problem's)")
    parser.add_argument("--sparse-k-features", type=int,
                        help="K classes' features (default: the same)")
    parser.add_argument("--budget", type=float, default=300,
                        help="seconds of saga/liblinear fits per problem, at most about")
    parser.add_argument("--quiet", type=float, default=0.05,
                        help="a fit runs again where other processes took more than this "
                        "share of the CPUs during it")
    parser.add_argument("--wait", type=float, default=600,
                        help="seconds to wait for a quiet machine before a fit (0: no "
                        "waiting, no second tries)")
    parser.add_argument("--out", default=HERE / RESULTS_NAME)
    parser.add_argument("--results", default=HERE / "RESULTS.md",
                        help="the file whose section is replaced ('' for none)")
    parser.add_argument("--json", help="also write every figure here")
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    started = datetime.now(timezone.utc)
    description = machine()
    print(f"# {description}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="logreg-classes-bench-") as folder:
        bench = Bench(Path(folder), args.repeats, args.budget, args.quiet, args.wait)
        if args.only in (None, "dense"):
            dense_problems(bench, args)
        if args.only in (None, "sparse"):
            sparse_problems(bench, args)
    seconds = time.perf_counter() - start
    text = section(bench, description, started, args, seconds)
    print(text)
    Path(args.out).write_text(text)
    if args.results:
        splice(args.results, text)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": description, "C": C,
                                               "relative": RELATIVE, "problems": bench.figures},
                                              indent=1, default=float))
    print(f"# {seconds:.0f} s; written to {args.out}" +
          (f" and {args.results}" if args.results else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
