"""benchmarks/benchopt/ and benchmarks/benchopt_bench.py at a tiny size, through benchopt itself.

No timing is asserted. What is: benchopt runs our solver file (and skips, with its reason, a
solver this logreg lacks); the objective is the benchmark's formula; the data sets are what the
benchmark describes; our solvers end at scikit-learn's optimum; the table's times are those of
the result file; the section lands in RESULTS.md once, in the form run.py copies it in.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("benchopt", reason="benchopt is in the dev extra: pip install -e '.[dev]'")

ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = ROOT / "benchmarks" / "benchopt"
TINY = ["simulated[n_samples=150,n_features=30,random_state=3]",
        "sparse[n_samples=300,n_features=2000,nnz_per_row=10,random_state=4]"]
SOLVERS = ["sklearn[solver=lbfgs]", "sklearn[solver=liblinear]", "logreg[solver=lbfgs]",
           "logreg[solver=newton]"]


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(ROOT / "benchmarks"))
bench = load("benchopt_bench", ROOT / "benchmarks" / "benchopt_bench.py")


def has_newton():
    from logreg.solvers import SOLVERS as OURS

    return "newton" in OURS


def benchmark_class(kind, file, **parameters):
    """A class of the benchmark, loaded by benchopt as `benchopt run` loads it."""
    from benchopt.benchmark import Benchmark
    from benchopt.utils.dynamic_modules import _load_class_from_module

    Benchmark(BENCHMARK)  # makes benchmark_utils importable
    klass = _load_class_from_module(BENCHMARK, BENCHMARK / file, kind)
    return klass.get_instance(**parameters)


def hand_objective(X, y, beta, lmbd):
    """f(β) = Σᵢ log(1 + exp(−yᵢ xᵢᵀβ)) + (λ/2)‖β‖², term by term in plain Python."""
    X = X.toarray() if sp.issparse(X) else X
    total = 0.0
    for xi, yi in zip(X, y):
        t = -yi * sum(a * b for a, b in zip(xi, beta))
        total += t + np.log1p(np.exp(-t)) if t > 0 else np.log1p(np.exp(t))
    return total + lmbd / 2 * sum(b * b for b in beta)


def sklearn_optimum(X, y, lmbd):
    from sklearn.linear_model import LogisticRegression

    beta = LogisticRegression(C=1 / lmbd, fit_intercept=False, tol=1e-12,
                              max_iter=100_000).fit(X, y).coef_.ravel()
    margins = y * (X @ beta)
    return float(np.logaddexp(0, -margins).sum() + lmbd / 2 * beta @ beta)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One tiny run of the script (module-scoped): its files and its benchopt result files."""
    folder = tmp_path_factory.mktemp("benchopt-bench")
    results = folder / "RESULTS.md"
    results.write_text("# Benchmark results\n\nmain table\n\n## On a GPU\n\ngpu figures\n")
    argv = [a for d in TINY for a in ("-d", d)] + [a for s in SOLVERS for a in ("-s", s)]
    argv += ["--timeout", "30", "--outputs", str(folder / "outputs"),
             "--picture", str(folder / "picture.png"), "--out", str(folder / "table.md"),
             "--results-md", str(results)]
    assert bench.main(argv) == 0
    frame = bench.load(sorted((folder / "outputs").glob("*.parquet")))
    return {"folder": folder, "frame": frame, "table": (folder / "table.md").read_text(),
            "results": results.read_text()}


@pytest.mark.slow
def test_benchopt_runs_our_solver_file(run):
    solvers = set(run["frame"]["solver_name"])
    assert {"logreg[lbfgs]", "sklearn[lbfgs]", "sklearn[liblinear]"} <= solvers
    assert ("logreg[newton]" in solvers) == has_newton()
    if not has_newton():  # skipped, with its reason, in the table
        assert "- ours newton on" in run["table"] and "has no solver='newton'" in run["table"]
    # every curve starts at β = 0: f = n log 2
    start = run["frame"][run["frame"]["stop_val"] == 0]
    n = start["p_dataset_n_samples"].astype(float)
    assert np.allclose(start["objective_value"][start["solver_name"].str.startswith("logreg")],
                       (n * np.log(2))[start["solver_name"].str.startswith("logreg")])


def test_our_solver_file_skips_a_solver_logreg_lacks():
    X, y = np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([1.0, -1.0])
    skip, reason = benchmark_class("Solver", "solvers/logreg.py", solver="qn").skip(
        X=X, y=y, lmbd=1.0)
    assert skip and "has no solver='qn'" in reason and "solver" in reason
    assert benchmark_class("Solver", "solvers/logreg.py", solver="lbfgs").skip(
        X=X, y=y, lmbd=1.0) == (False, None)


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_objective_is_the_formula(kind):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    if kind == "sparse":
        X = sp.csr_matrix(np.where(rng.random(X.shape) < 0.3, X, 0.0))
    y = np.where(rng.random(40) < 0.5, -1.0, 1.0)
    beta = 3 * rng.standard_normal(6)  # margins up to ~±20: the stable form matters
    objective = benchmark_class("Objective", "objective.py", lmbd=0.7)
    objective.set_data(X=X, y=y)
    assert objective.evaluate_result(beta=beta)["value"] == pytest.approx(
        hand_objective(X, y, beta, 0.7), rel=1e-12)
    zero = objective.evaluate_result(**objective.get_one_result())["value"]
    assert zero == pytest.approx(40 * np.log(2), rel=1e-14)
    assert objective.get_objective()["lmbd"] == 0.7


@pytest.mark.parametrize("file, shape", [("simulated.py", (50, 8)), ("wide.py", (20, 300))])
def test_simulated_data_as_described(file, shape):
    n, p = shape
    data = benchmark_class("Dataset", f"datasets/{file}", n_samples=n, n_features=p,
                           random_state=5).get_data()
    X, y = data["X"], data["y"]
    rng = np.random.RandomState(5)  # X standard normal, then β standard normal
    expected_X = rng.randn(n, p)
    beta = rng.randn(p)
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, np.sign(expected_X @ beta))
    assert set(np.unique(y)) == {-1.0, 1.0}


def test_sparse_data_as_described():
    from scipy.optimize import linprog

    data = benchmark_class("Dataset", "datasets/sparse.py", n_samples=200, n_features=1000,
                           nnz_per_row=12, random_state=1).get_data()
    X, y = data["X"], data["y"]
    assert sp.issparse(X) and X.format == "csr" and X.shape == (200, 1000)
    assert 8 <= X.nnz / 200 <= 12  # ~12 words a document, fewer distinct ones
    assert X.min() >= 0 and np.allclose(sp.linalg.norm(X, axis=1), 1)  # tf-idf rows
    assert set(np.unique(y)) == {-1.0, 1.0}
    # y = sign(Xβ) for some β: the labels are separable through the origin, yᵢ xᵢᵀβ ≥ 1
    A = -(sp.diags(y) @ X)
    feasible = linprog(np.zeros(1000), A_ub=A, b_ub=-np.ones(200), bounds=(None, None))
    assert feasible.status == 0
    flipped = y.copy()
    flipped[0] = -flipped[0]
    duplicate = sp.vstack([X, X[0]])  # a document with both labels is never separable
    infeasible = linprog(np.zeros(1000), A_ub=-(sp.diags(np.r_[y, flipped[0]]) @ duplicate),
                         b_ub=-np.ones(201), bounds=(None, None))
    assert infeasible.status == 2


@pytest.mark.slow
def test_our_solvers_end_at_sklearn_optimum(run):
    frame = run["frame"]
    ours = [s for s in ("logreg[lbfgs]", "logreg[newton]") if s in set(frame["solver_name"])]
    for data in TINY:
        name, params = data.rstrip("]").split("[")
        dataset = next(d for d in set(frame["dataset_name"]) if d.startswith(name + "["))
        values = {k: int(v) for k, v in (p.split("=") for p in params.split(","))}
        X_y = benchmark_class("Dataset", f"datasets/{name}.py", **values).get_data()
        for lmbd in (1.0, 0.01):
            optimum = sklearn_optimum(X_y["X"], X_y["y"], lmbd)
            rows = frame[(frame["dataset_name"] == dataset) & (frame["lmbd"] == lmbd)]
            for solver in ours:
                final = rows[rows["solver_name"] == solver].sort_values("stop_val")
                assert final["objective_value"].iloc[-1] == pytest.approx(optimum, rel=1e-8), (
                    dataset, lmbd, solver)


def cell_seconds(cell):
    number, unit = cell.split()
    return float(number) * (1e-3 if unit == "ms" else 1.0)


@pytest.mark.slow
def test_table_times_are_the_result_files(run):
    frame = run["frame"]
    lines = [line for line in run["table"].splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[1:]]
    assert len(rows) == 4  # 2 data sets × 2 λ
    checked = 0
    for cells in rows:
        row = dict(zip(header, cells))
        dataset = next(d for d in set(frame["dataset_name"])
                       if bench.label(d) == row["data set"])
        runs = frame[(frame["dataset_name"] == dataset) & (frame["lmbd"] == float(row["λ"]))]
        medians = runs.groupby(["solver_name", "stop_val"])[["time", "objective_value"]].median()
        f_star = medians["objective_value"].min()
        assert float(row["f*"]) == pytest.approx(f_star, rel=1e-5)
        expected = {}
        for solver, curve in medians.groupby(level="solver_name"):
            suboptimal = (curve["objective_value"] - f_star) / f_star
            first = curve[suboptimal <= 1e-6]  # in the order of iterations
            column = solver.replace("logreg[", "ours ").replace("sklearn[", "sklearn ")[:-1]
            expected[column] = first["time"].iloc[0] if len(first) else None
            if expected[column] is None:
                assert row[column].startswith("> ")
            else:
                assert cell_seconds(row[column]) == pytest.approx(expected[column], rel=5e-3)
                checked += 1
        fastest = min(t for c, t in expected.items() if c.startswith("sklearn") and t)
        met = []
        for solver in ("newton", "lbfgs"):
            ours = expected.get(f"ours {solver}")
            cell = row[f"ours {solver} / fastest sklearn"]
            if ours is None:
                assert cell == "—"
                continue
            assert float(cell.rstrip("×")) == pytest.approx(ours / fastest, abs=0.006)
            met += [solver] if ours / fastest <= 0.4 else []
        assert row["goal ≤ 0.4×"] == (f"yes ({', '.join(met)})" if met else "no")
    assert checked >= 8
    assert "sklearn newton-cg" in header and row["sklearn newton-cg"] == "not run"


@pytest.mark.slow
def test_picture_and_sections_written(run):
    from PIL import Image

    with Image.open(run["folder"] / "picture.png") as image:
        assert image.format == "PNG" and image.width > 800 and image.height > 500
    results = run["results"]
    assert results.startswith("# Benchmark results\n\nmain table\n\n## On a GPU\n\ngpu figures")
    assert results.count(f"## {bench.TITLE}") == 1
    assert run["table"] in results


@pytest.mark.slow
def test_results_read_again_give_the_same_table(run, tmp_path):
    files = sorted(str(p) for p in (run["folder"] / "outputs").glob("*.parquet"))
    assert len(files) == 2 and all(Path(f).with_suffix(".status.json").is_file() for f in files)
    assert bench.main(["--results", *files, "--picture", str(tmp_path / "p.png"),
                       "--out", str(tmp_path / "t.md"),
                       "--results-md", str(tmp_path / "R.md")]) == 0
    again = (tmp_path / "t.md").read_text()

    def table(text):
        return [line for line in text.splitlines() if line.startswith(("| ", "- "))]

    assert table(again) == table(run["table"]) and "(read from earlier result files)" in again


def test_splice_twice_leaves_one_section(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\nmain\n\n## On a GPU\n\ngpu\n\n## On Dask\n\ndask\n")
    bench.splice(path, "# first\n\nold figures\n")
    bench.splice(path, "# second\n\nnew figures\n")
    text = path.read_text()
    assert text.count(f"## {bench.TITLE}") == 1
    assert "old figures" not in text and "new figures" in text
    assert text.startswith(
        "# Benchmark results\n\nmain\n\n## On a GPU\n\ngpu\n\n## On Dask\n\ndask")
    # in the middle, the section is replaced and what follows it stays
    path.write_text(text + "\n## On K classes and sparse data\n\nclasses\n")
    bench.splice(path, "# third\n\nnewest\n")
    text = path.read_text()
    assert text.count(f"## {bench.TITLE}") == 1 and "new figures" not in text
    assert text.endswith("## On K classes and sparse data\n\nclasses\n") and "newest" in text


def test_run_py_copies_the_section_in_the_same_form(tmp_path, monkeypatch):
    """`make bench` rewrites RESULTS.md from run.py's other_results: the same block."""
    run_py = load("bench_run", ROOT / "benchmarks" / "run.py")
    (tmp_path / bench.RESULTS_NAME).write_text("# table\n\nfigures\n")
    monkeypatch.setattr(run_py, "HERE", tmp_path)
    spliced = tmp_path / "RESULTS.md"
    spliced.write_text("# Benchmark results\n")
    bench.splice(spliced, "# table\n\nfigures\n")
    assert run_py.other_results() in spliced.read_text()
    assert spliced.read_text().endswith(run_py.other_results())
