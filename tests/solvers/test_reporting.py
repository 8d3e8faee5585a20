"""Every figure shown is true: the progress lines and the final line against the fit's record
(``history_``, ``n_iter_``), class names as plain values, no "-0", the ROC legend against
its title and scikit-learn's AUC."""

import math
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

import logreg
from helpers import run_cli
from logreg.model import evaluation, pictures
from logreg.core import text
from logreg.model.estimator import LogisticRegression

COST_LINE = re.compile(r"^Cost after iteration (\d+): (\S+)$", re.M)
FINAL_LINE = re.compile(r"^stopped after (\d+) iterations: cost (\S+), ‖∇J‖ (\S+) \((.*)\)$",
                        re.M)
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def check_lines(out, history, n_iter):
    """The progress lines and the one final line of ``out`` against the fit's record; the
    final line's reason."""
    printed = [(int(i), cost) for i, cost in COST_LINE.findall(out)]
    assert printed and [i for i, _ in printed] == list(range(0, len(history["cost"]), 100))
    for i, cost in printed:  # the cost of the row the line names, as "%f" rounds it
        assert cost == f"{history['cost'][i]:.6f}"
    (final,) = FINAL_LINE.findall(out)
    n, cost, norm, how = final
    assert int(n) == n_iter
    assert float(cost) == pytest.approx(history["cost"][-1], rel=1e-5, abs=1e-12)
    assert float(norm) == pytest.approx(history["gradient_norm"][-1], rel=5e-3)
    return how


def rows_for(solver, n_iter):
    """The rows of history_ after n_iter iterations: gd one per iteration (the cost before
    its update); lbfgs and newton the start, then one after each iteration."""
    return n_iter if solver == "gd" else n_iter + 1


@pytest.fixture(scope="module")
def cancer():
    data = load_breast_cancer()
    X = StandardScaler().fit_transform(data.data)
    return X, data.target_names[data.target]  # string classes: 'benign', 'malignant'


@pytest.mark.parametrize("solver, options", [
    ("gd", ["--iterations", "300"]), ("lbfgs", []), ("newton", [])])
def test_train_prints_the_saved_history(tmp_path, capsys, solver, options):
    code, out, err = run_cli(["train", "--solver", solver, *options, "--out", tmp_path], capsys)
    assert code == 0, err
    model = logreg.load(tmp_path / "model.safetensors")
    history = model.history_
    assert len(history["cost"]) == rows_for(solver, model.n_iter_)
    how = check_lines(out, history, model.n_iter_)
    # row 0 is the start w = 0, b = 0 for every solver: J = ln 2 (the notes' first cost)
    assert "Cost after iteration 0: 0.693147" in out.splitlines()
    assert history["cost"][0] == pytest.approx(math.log(2))
    if solver == "gd":  # tol = 0: every iteration runs
        assert model.n_iter_ == 300 and how == "the limit"
    else:
        assert model.n_iter_ < 2000 and how == "converged"
    assert "Early stopping:" not in out  # one message: the final line


def test_quiet_train_prints_no_progress(tmp_path, capsys):
    code, out, err = run_cli(["train", "--iterations", "5", "--quiet", "--out", tmp_path],
                             capsys)
    assert code == 0, err
    assert "Cost after" not in out and "stopped after" not in out


@pytest.mark.parametrize("solver, options", [
    ("gd", {"num_iterations": 250, "learning_rate": 0.1}),
    ("gd", {"num_iterations": 250, "learning_rate": 0.1, "implementation": "fused"}),
    ("gd", {"num_iterations": 250, "learning_rate": 0.1, "backprop": "graph"}),
    ("lbfgs", {}), ("newton", {}), ("lbfgs", {"dtype": "float32"})])
def test_verbose_estimator_prints_its_history(cancer, capsys, solver, options):
    X, y = cancer
    model = LogisticRegression(solver=solver, verbose=1, **options).fit(X, y)
    out = capsys.readouterr().out
    how = check_lines(out, model.history_, model.n_iter_)
    assert len(model.history_["cost"]) == rows_for(solver, model.n_iter_)
    if solver == "gd":
        assert how == "the limit" and model.n_iter_ == options["num_iterations"]
    else:
        assert how == "converged" and model.n_iter_ < model.num_iterations


@pytest.mark.parametrize("solver, limit", [("gd", 40), ("lbfgs", 3), ("newton", 2)])
def test_the_limit_is_named_when_iterations_run_out(cancer, capsys, solver, limit):
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the solver says so too
        model = LogisticRegression(solver=solver, num_iterations=limit, tol=1e-12, verbose=1,
                                   learning_rate=0.1).fit(X, y)
    out = capsys.readouterr().out
    assert model.n_iter_ == limit
    assert check_lines(out, model.history_, model.n_iter_) == "the limit"


def test_gd_that_reaches_tol_says_converged(cancer, capsys):
    X, y = cancer
    model = LogisticRegression(num_iterations=5000, tol=1e-4, learning_rate=0.1,
                               verbose=1).fit(X, y)
    out = capsys.readouterr().out
    costs = model.history_["cost"]
    assert model.n_iter_ < 5000 and 0 <= costs[-2] - costs[-1] < 1e-4  # the solver's signal
    assert check_lines(out, model.history_, model.n_iter_) == "converged"


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
def test_early_stopping_names_the_kept_row_once(cancer, capsys, solver):
    X, y = cancer
    model = LogisticRegression(solver=solver, early_stopping=True, n_iter_no_change=3,
                               random_state=0, learning_rate=0.5, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    how = check_lines(out, model.history_, model.n_iter_)
    held_out = model.history_["validation_cost"]
    assert model.best_iteration_ == int(np.argmin(held_out))
    assert how.startswith("early stopping; ") or how.startswith("the limit; ")
    kept = re.fullmatch(r".*; kept iteration (\d+), held-out cost (\S+)", how)
    assert int(kept[1]) == model.best_iteration_
    assert float(kept[2]) == pytest.approx(np.min(held_out), rel=1e-5)


def test_a_callback_that_stops_is_named(cancer, capsys):
    X, y = cancer
    model = LogisticRegression(num_iterations=500, verbose=1,
                               callback=lambda row: row["iteration"] == 120).fit(X, y)
    out = capsys.readouterr().out
    assert model.n_iter_ == 121
    assert check_lines(out, model.history_, model.n_iter_) == "stopped by a callback"


def test_divergence_kept_under_warn_is_named(cancer, capsys):
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(num_iterations=300, learning_rate=1e4, verbose=1,
                                   on_divergence="warn").fit(X * 100, y)
    out = capsys.readouterr().out
    assert "diverged" in check_lines(out, model.history_, model.n_iter_)


def test_text_rounds_for_people_and_never_prints_minus_zero():
    assert text.number(-0.0) == "0" and text.fixed(-1e-9) == "0.000000"
    assert text.fixed(-4e-5, 4) == "0.0000" and text.fixed(-6e-5, 4) == "-0.0001"
    assert text.number(-1e-9) == "-1e-09"  # not zero to 6 significant digits: kept
    assert text.number(2 / 3) == "0.666667" and text.fixed(2 / 3) == "%f" % (2 / 3)
    assert text.number(float("nan")) == "nan" and text.number(-math.inf) == "-inf"
    assert text.quoted(np.str_("malignant")) == "'malignant'"
    assert text.quoted(np.int64(3)) == "3" and text.quoted("a") == "'a'"
    assert text.quoted_list(np.array(["a", "b", "c"]), limit=2) == "'a', 'b' and 1 more"


def assert_for_people(output):
    assert "np." not in output and "numpy" not in output, output
    negative_zeros = [n for n in NUMBER.findall(output)
                      if n.startswith("-") and float(n) == 0]
    assert not negative_zeros, (negative_zeros, output)


def test_breast_cancer_outputs_read_as_plain_names_and_numbers(tmp_path, capsys):
    data = load_breast_cancer(as_frame=True)
    csv = tmp_path / "rows.csv"
    data.frame.drop(columns="target").head(20).to_csv(csv, index=False)
    model = tmp_path / "m" / "model.safetensors"
    outputs = []
    for argv in (["train", "--data", "breast-cancer", "--solver", "lbfgs", "--out",
                  model.parent],
                 ["predict", model, csv],
                 ["evaluate", model, "--data", "breast-cancer"],
                 ["evaluate", model, "--data", "breast-cancer", "--json"],
                 ["summary", model, "--data", "breast-cancer"]):
        code, out, err = run_cli(argv, capsys)
        # summary refuses a fit that separates the classes, in one line
        assert code == 0 or (argv[0] == "summary" and code == 2), err
        outputs.append(out + err)
    assert "classes 'benign' (0) and 'malignant' (1)" in outputs[0] or \
        "classes 'malignant' (0) and 'benign' (1)" in outputs[0]
    for output in outputs:
        assert_for_people(output)


def test_summary_text_names_classes_plainly(cancer):
    X, y = cancer
    model = LogisticRegression(solver="newton").fit(X[:, :3], y)
    summary = str(model.summary())
    assert "log-odds of 'malignant' (against 'benign')" in summary
    assert_for_people(summary)


def roc_axes(model, X, y):
    figure = pictures._roc_figure(evaluation.Scores(model, X, y))
    (axes,) = figure.axes
    legend = axes.get_legend() or figure.legends[0]
    return axes.get_title(), [entry.get_text() for entry in legend.get_texts()]


def test_the_roc_legend_shows_the_titles_auc(cancer):
    X, y = cancer
    model = LogisticRegression(num_iterations=50, learning_rate=0.1).fit(X[:, :2], y)
    title, legend = roc_axes(model, X[:, :2], y)
    auc = roc_auc_score(y == model.classes_[1], model.decision_function(X[:, :2]))
    shown = f"{auc:.4f}"
    assert title.endswith(f"AUC = {shown}") and legend == [f"malignant (AUC = {shown})"]
    assert evaluation.evaluate(model, X[:, :2], y)["roc_auc"] == pytest.approx(auc)


def test_the_roc_legend_shows_each_classes_auc_and_the_micro_average():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :2]
    model = LogisticRegression(num_iterations=30, learning_rate=0.1).fit(X, y)
    title, legend = roc_axes(model, X, y)
    P = model.predict_proba(X)
    per_class = [roc_auc_score(y == k, P[:, k]) for k in range(3)]
    micro = roc_auc_score(np.eye(3)[y], P, average="micro")
    assert legend == [f"{k} vs rest (AUC = {a:.4f})" for k, a in enumerate(per_class)] + [
        f"micro-average (AUC = {micro:.4f})"]
    assert f"macro AUC = {np.mean(per_class):.4f}, micro AUC = {micro:.4f}" in title


def test_graph_prints_a_zero_product_as_0(capsys):
    # J = a·b at a = 0, b = −1 is −0.0 in IEEE arithmetic: people read 0
    code, out, err = run_cli(["graph", "J = a*b", "a=0", "b=-1"], capsys)
    assert code == 0, err
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert rows["J"] == ["0", "1"] and rows["a"] == ["0", "-1"] and rows["b"] == ["-1", "0"]
    assert_for_people(out)
