"""benchmarks/classes_bench.py at a tiny size: it runs end to end and writes what it promises.

No timing is asserted (speed depends on the machine); what is: every solver's row is there,
the section lands in RESULTS.md once, the figures agree with each other and with scikit-learn
(the same convex problem gives the same final cost), and the pieces the figures rest on (the
data generators, the float64 objective, reading L-BFGS iterates) match independent truth.
"""

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "classes_bench.py"
SMALL = ["--dense-rows", "1500", "--dense-features", "12", "--classes", "4",
         "--sparse-rows", "2000", "--sparse-features", "300", "--nnz", "8",
         "--sparse-classes", "3", "--sparse-k-rows", "1500", "--repeats", "2",
         "--budget", "10", "--wait", "0"]
SOLVERS = {"dense 1500×12, K = 4, float64": {"ours lbfgs", "scikit-learn lbfgs"},
           "dense 1500×12, K = 4, float32": {"ours lbfgs", "scikit-learn lbfgs"},
           "binary": {"ours lbfgs", "scikit-learn lbfgs", "scikit-learn saga",
                      "scikit-learn liblinear"},
           "K = 3": {"ours lbfgs", "scikit-learn lbfgs", "scikit-learn saga"}}


def load_script():
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("classes_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_script()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One tiny run (module-scoped): its markdown, RESULTS.md copy, JSON and stdout."""
    folder = tmp_path_factory.mktemp("classes-bench")
    results = folder / "RESULTS.md"
    results.write_text("# Benchmark results\n\ntable\n\n## On a GPU\n\ngpu figures\n")
    out = folder / "RESULTS_classes.md"
    figures = folder / "figures.json"
    assert bench.main(SMALL + ["--out", str(out), "--results", str(results),
                               "--json", str(figures)]) == 0
    return {"section": out.read_text(), "results": results.read_text(),
            "figures": json.loads(figures.read_text())}


def table_rows(section, part="## Details"):
    """The rows of the table under ``part`` ("## Summary" or "## Details"), cells split."""
    text = section.split(part, 1)[1].split("\n## ", 1)[0]
    return [line.split(" | ") for line in text.splitlines()
            if line.startswith("| ") and not line.startswith(("| problem", "| ---"))]


@pytest.mark.slow  # the tiny run: about a minute
def test_every_solver_has_a_row(run):
    rows = table_rows(run["section"])
    found = {}
    for row in rows:
        problem, solver = row[0].lstrip("| "), row[1]
        key = next((k for k in SOLVERS if k in problem), problem)
        if "to scikit-learn's lowest final J" not in problem:
            found.setdefault(key, set()).add(solver)
    assert found == SOLVERS
    # the sparse problems at their own sizes (--sparse-k-rows)
    assert any(row[0].startswith("| sparse 2000×300, ") and row[0].endswith("binary")
               for row in rows)
    assert any(row[0].startswith("| sparse 1500×300, ") and row[0].endswith("K = 3")
               for row in rows)
    assert all(len(row) == 8 for row in rows)


@pytest.mark.slow  # the tiny run: about a minute
def test_the_section_names_its_command_and_machine(run):
    section = run["section"]
    assert "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python " \
           "benchmarks/classes_bench.py --dense-rows 1500" in section
    assert "Machine: " in section and " cores; Python " in section
    assert bench.HEADER in section


@pytest.mark.slow  # the tiny run: about a minute
def test_results_md_gains_the_section_once_after_the_others(run):
    text = run["results"]
    assert text.count(f"\n## {bench.TITLE}\n") == 1
    assert text.index("## On a GPU") < text.index(f"## {bench.TITLE}")
    assert text.startswith("# Benchmark results\n\ntable\n") and "gpu figures" in text
    assert run["section"] in text


def test_splice_replaces_its_own_section_and_keeps_the_rest(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\nrows\n")
    bench.splice(path, "# first\n\n## Summary\n\nold summary\n\n## Details\n\nold\n")
    path.write_text(path.read_text() + "\n## On Dask\n\ndask rows\n")
    bench.splice(path, "# second\n\n## Summary\n\nnew summary\n")
    text = path.read_text()
    assert "first" not in text and "old" not in text and text.count("second") == 1
    assert text.index("new summary") < text.index("## On Dask") and "dask rows" in text
    assert text.startswith("# Benchmark results\n\nrows\n")
    assert text.count(f"## {bench.TITLE}") == 1


@pytest.mark.slow  # the tiny run: about a minute
def test_summary_has_one_row_a_problem_with_its_ratio_and_goals(run):
    rows = table_rows(run["section"], "## Summary")
    problems = run["figures"]["problems"]
    assert len(rows) == len(problems)
    for row, problem in zip(rows, problems):
        assert row[0].lstrip("| ").startswith(problem["problem"])
        figures = problem if problem["sklearn_best"] else problem["to_sklearn_final"]
        ours = figures["solvers"]["ours lbfgs"]
        if "seconds" in ours and figures["sklearn_best"]:
            theirs = figures["solvers"][figures["sklearn_best"]]
            ratio = float(re.match(r"\**([\d.]+)×", row[3]).group(1))
            assert ratio == pytest.approx(ours["seconds"] / theirs["seconds"], abs=0.006)
            assert ("time met" in row[5]) == (ours["seconds"] / theirs["seconds"] <= 0.5)
            assert ("memory met" in row[5]) == (ours["peak"] <= theirs["peak"])


@pytest.mark.slow  # the tiny run: about a minute
def test_figures_agree(run):
    for problem in run["figures"]["problems"]:
        finals = {name: entry["final"] for name, entry in problem["solvers"].items()}
        assert problem["best"] == min(finals.values())
        assert problem["target"] == pytest.approx(problem["best"] * (1 + 1e-8), rel=1e-15)
        # the same convex problem: the two L-BFGS runs end at the same cost
        assert finals["ours lbfgs"] == pytest.approx(finals["scikit-learn lbfgs"], rel=1e-6)
        for name, entry in problem["solvers"].items():
            assert entry["gap"] >= 0
            assert entry["peak"] >= entry["before"] > 0, name
            assert entry["others"] >= 0 and entry["exact_peak"] in (True, False)
            # (tiny runs: CPU time counts in ticks, tiny data may fit in pages already there)
            assert entry["cores"] >= 0 and entry["data"] >= 0
            if "seconds" in entry:
                assert entry["final"] <= problem["target"] or "rungs" not in entry
                assert 0 < entry["seconds"] <= entry.get("total", entry["seconds"]) + 1e-9
            if "evaluations" in entry:  # L-BFGS: the target within the run, no later
                assert 1 <= entry["iterations"] <= entry["iterations_run"]
                assert entry["iterations"] <= entry["evaluations"] <= entry["evaluations_run"]
                assert 0 < entry["in_evaluations"] <= entry["first_run_seconds"]
                assert entry["setup"] + entry["in_evaluations"] < entry["first_run_seconds"]
        fastest = problem["sklearn_best"]
        if fastest is not None:
            assert problem["solvers"][fastest]["seconds"] == min(
                e["seconds"] for n, e in problem["solvers"].items()
                if n.startswith("scikit") and "seconds" in e)


@pytest.mark.slow  # the tiny run: about a minute
def test_sparse_costs_reported_by_lbfgs_are_the_objective(run):
    """Sparse runs time the costs L-BFGS-B reports: they must be the float64 objective."""
    for problem in run["figures"]["problems"]:
        if problem["problem"].startswith("sparse"):
            for name in ("ours lbfgs", "scikit-learn lbfgs"):
                entry = problem["solvers"][name]
                assert entry["reported_final"] == pytest.approx(entry["final"], rel=1e-10)


@pytest.mark.slow  # the tiny run: about a minute
def test_the_ratio_is_ours_over_the_fastest(run):
    problems = {p["problem"]: p for p in run["figures"]["problems"]}
    for row in table_rows(run["section"]):
        problem, solver, ratio = row[0].lstrip("| "), row[1], row[3]
        if solver == "ours lbfgs" and ratio and problem in problems:
            figures = problems[problem]
            fastest = figures["sklearn_best"]
            value = float(re.match(r"([\d.]+)×", ratio).group(1))
            expected = (figures["solvers"]["ours lbfgs"]["seconds"]
                        / figures["solvers"][fastest]["seconds"])
            assert value == pytest.approx(expected, abs=0.006)


def test_text_like_data_is_tf_idf_with_zipf_frequencies():
    X = bench.text_like(3000, 2000, 20, seed=3)
    assert sp.isspmatrix_csr(X) or X.format == "csr"
    assert 15 <= X.nnz / X.shape[0] <= 25
    assert np.allclose(sp.linalg.norm(X, axis=1), 1.0)  # rows L2-normalised
    assert X.data.min() > 0
    # document frequencies fall as a power law: the 10th word is in ~10× the docs of the 100th
    df = np.sort(np.diff(X.tocsc().indptr))[::-1]
    assert df[0] > 0.5 * X.shape[0]
    assert 4 < df[9] / df[99] < 20 and 4 < df[99] / df[999] < 20


@pytest.mark.parametrize("classes", [2, 5])
def test_planted_labels_are_learnable_not_separable(classes):
    from sklearn.linear_model import LogisticRegression

    X = bench.text_like(4000, 500, 20, seed=4)
    y = bench.planted_labels(X, classes, seed=5)
    assert set(np.unique(y)) == set(range(classes))
    score = LogisticRegression(C=10, max_iter=1000).fit(X, y).score(X, y)
    assert 1.5 / classes < score < 0.99


def test_blobs_overlap():
    from sklearn.linear_model import LogisticRegression

    X, y = bench.blobs(6000, 500, 10)
    assert set(np.unique(y)) == set(range(10))
    assert abs(X.std() - 1) < 0.05
    # held out: learnable, yet far from every example right (the blobs overlap)
    score = LogisticRegression(max_iter=300).fit(X[:4000], y[:4000]).score(X[4000:], y[4000:])
    assert 0.6 < score < 0.99


@pytest.mark.parametrize("classes", [2, 4])
def test_objective_by_hand(classes):
    rng = np.random.default_rng(0)
    m, n = 50, 6
    X, y = rng.standard_normal((m, n)), np.arange(50) % classes
    outputs = 1 if classes == 2 else classes
    W, b = rng.standard_normal((n, outputs)), rng.standard_normal(outputs)
    X_notes, Y = bench.notes_layout(X, y)
    Z = X @ W + b
    if classes == 2:
        loss = np.logaddexp(0, Z[:, 0]) - y * Z[:, 0]
        b = float(b[0])
    else:
        loss = logsumexp(Z, axis=1) - Z[np.arange(m), y]
        b = b.reshape(-1, 1)
    expected = loss.mean() + 0.7 / (2 * m) * np.sum(W ** 2)
    assert bench.objective(W, b, X_notes, Y, l2=0.7) == pytest.approx(expected, rel=1e-13)
    assert bench.objective(W, b, bench.notes_layout(sp.csr_matrix(X), y)[0], Y,
                           l2=0.7) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("library", ["ours", "scikit-learn"])
@pytest.mark.parametrize("classes", [2, 3])
def test_iterates_read_back_as_the_fitted_parameters(tmp_path, library, classes):
    """The probe's last iterate, read by theta_to_notes, is the estimator's coef_ and
    intercept_; its costs are the objective's."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 5))
    y = np.arange(300) % classes
    probe = bench.Probe()
    try:
        with open(tmp_path / "iterates.bin", "wb") as iterates:
            probe.reset(iterates)
            fitted = bench.estimator({"library": library, "solver": "lbfgs"}).fit(X, y)
    finally:
        import scipy.optimize

        scipy.optimize.minimize = probe.original
    outputs = 1 if classes == 2 else classes
    thetas = np.fromfile(tmp_path / "iterates.bin").reshape(len(probe.stamps), -1)
    W, b = bench.theta_to_notes(thetas[-1], library, 5, outputs)
    np.testing.assert_allclose(W, fitted.coef_.T, rtol=1e-12)
    np.testing.assert_allclose(np.ravel(b), fitted.intercept_, rtol=1e-12)
    X_notes, Y = bench.notes_layout(X, y)
    assert probe.costs[-1] == pytest.approx(bench.objective(W, b, X_notes, Y), rel=1e-12)
    assert len(probe.evaluations) == probe.calls[-1][3] and probe.costs == sorted(
        probe.costs, reverse=True)
