"""The scikit-learn contract kept exactly, and the library off the happy path: settings that
survive a model file, the solvers' own tolerances, labels and weights that make no sense,
warnings that never reach a user as RuntimeWarnings, and arrows that point one way."""

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import logreg
from logreg import LogisticRegression
from logreg.errors import InvalidInputError, LogregError

SRC = Path(logreg.__file__).parent


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fitted_attributes(estimator):
    return {k for k in vars(estimator) if k.endswith("_") and not k.startswith("_")}


# --- a model file gives back the same estimator ----------------------------------------


@pytest.mark.parametrize("params", [
    {}, {"learning_rate": 0.05, "num_iterations": 30, "tol": 1e-9, "l2": 0.5},
    {"solver": "lbfgs", "num_iterations": 500, "dtype": "float32", "n_threads": 1},
    {"backprop": "graph", "num_iterations": 20, "on_divergence": "warn", "warm_start": True},
])
def test_load_gives_the_saved_params_and_fitted_attributes(tmp_path, cancer, params):
    X, y = cancer
    with warnings.catch_warnings():  # 30 steps at tol 1e-9 stop short, and say so: not tested here
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(**{"num_iterations": 50, **params}).fit(X, y)
    clf.save(tmp_path / "m.safetensors")
    back = logreg.load(tmp_path / "m.safetensors")
    assert back.get_params() == clf.get_params()
    assert fitted_attributes(back) == fitted_attributes(clf)
    assert back.learning_rate_ == clf.learning_rate_ and back.engine_ == clf.engine_
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))


def test_a_saved_auto_learning_rate_stays_auto(tmp_path, cancer):
    X, y = cancer
    clf = LogisticRegression(num_iterations=10).fit(X, y)
    clf.save(tmp_path / "m.safetensors")
    back = logreg.load(tmp_path / "m.safetensors")
    assert back.learning_rate == "auto" and back.learning_rate_ == clf.learning_rate_ > 0
    # and the loaded estimator refits as the saved one did
    np.testing.assert_array_equal(back.fit(X, y).coef_, clf.coef_)


def test_feature_names_survive(tmp_path, cancer):
    pd = pytest.importorskip("pandas")
    X, y = cancer
    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    clf = LogisticRegression(num_iterations=10).fit(frame, y)
    clf.save(tmp_path / "m.safetensors")
    back = logreg.load(tmp_path / "m.safetensors")
    assert fitted_attributes(back) == fitted_attributes(clf)
    assert back.feature_names_in_.tolist() == ["a", "b", "c"]


def test_metadata_is_there_after_load_and_not_a_fitted_attribute(tmp_path, cancer):
    X, y = cancer
    clf = LogisticRegression(num_iterations=5).fit(X, y)
    with pytest.raises(AttributeError, match="logreg.load"):
        clf.metadata_
    clf.save(tmp_path / "m.safetensors", data="cancer")
    assert logreg.load(tmp_path / "m.safetensors").metadata_["data"] == "cancer"


# --- tol suits the solver ----------------------------------------------------------------


def test_default_gd_runs_every_step(cancer):
    X, y = cancer
    assert LogisticRegression(num_iterations=300).fit(X, y).n_iter_ == 300


@pytest.mark.parametrize("load", [load_breast_cancer, load_iris])
def test_a_default_lbfgs_fit_converges_without_warning(load):
    X, y = load(return_X_y=True)
    X, y = StandardScaler().fit_transform(X), y == y.max()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = LogisticRegression(solver="lbfgs", l2=1.0).fit(X, y)
    # stopped at the gradient tolerance: the gradient there is below it (finite differences
    # of the cost are the independent truth)
    from logreg.solvers import SOLVERS

    LBFGS_TOL = SOLVERS["lbfgs"].tol

    w, b = clf.coef_.T, clf.intercept_[0]
    Y = y.reshape(1, -1).astype(float)
    h = 1e-6
    grad_b = (logreg.core.neuron.loss_and_gradient(w, b + h, X.T, Y, l2=1.0)[0]
              - logreg.core.neuron.loss_and_gradient(w, b - h, X.T, Y, l2=1.0)[0]) / (2 * h)
    assert abs(grad_b) < 10 * LBFGS_TOL


def test_the_lbfgs_convergence_warning_is_one_line():
    X, y = load_breast_cancer(return_X_y=True)  # unscaled: 2 iterations are not enough
    with pytest.warns(ConvergenceWarning) as caught:
        LogisticRegression(solver="lbfgs", num_iterations=2).fit(X, y)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert len(messages) == 1 and "\n" not in messages[0]
    assert "num_iterations=2" in messages[0] and "Raise num_iterations" in messages[0]


# --- labels and weights that make no sense ----------------------------------------------

X_SMALL = np.arange(20, dtype=float).reshape(10, 2)


@pytest.mark.parametrize("y, fragment", [
    (np.array([0.5, 1.5] * 5), "continuous.*round or threshold"),
    (np.array([None, 1] * 5, dtype=object), "unknown.*no None"),
    (np.array([None] * 10, dtype=object), "unknown"),
    (np.array([1, "a"] * 5, dtype=object), "unknown.*no mixture"),
    (np.zeros(10), "one class only"),
    (np.arange(10) + 0.5, "continuous"),
    (np.ones(9), "inconsistent numbers of samples"),
    (np.ones((10, 2)), "y"),
])
def test_labels_that_are_not_classes(y, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        LogisticRegression(num_iterations=2).fit(X_SMALL, y)


def test_y_none():
    with pytest.raises(LogregError, match="y"):
        LogisticRegression().fit(X_SMALL, None)


@pytest.mark.parametrize("weights, fragment", [
    (-np.ones(10), "negative"), (np.zeros(10), "all weights are zero"),
    (np.full(10, np.nan), "NaN"), (np.full(10, np.inf), "infinity"),
    (np.ones(3), r"shape \(3,\).*\(10,\)"), (np.ones((10, 2)), "1D|shape"),
    (np.array(["a"] * 10), "string|convert"), (np.full(10, 1e308), "infinity"),
])
def test_sample_weights_that_make_no_sense(weights, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        LogisticRegression(num_iterations=2).fit(X_SMALL, np.arange(10) % 2, sample_weight=weights)


def test_a_scalar_weight_weighs_every_example_alike():
    y = np.arange(10) % 2
    one = LogisticRegression(num_iterations=20).fit(X_SMALL, y)
    three = LogisticRegression(num_iterations=20).fit(X_SMALL, y, sample_weight=3.0)
    np.testing.assert_allclose(three.coef_, one.coef_, rtol=1e-12)


@pytest.mark.parametrize("method", ["save", "load"])
@pytest.mark.parametrize("path", [123, None, 4.5, ["a"]])
def test_save_and_load_refuse_what_is_not_a_path(cancer, method, path):
    X, y = cancer
    clf = LogisticRegression(num_iterations=2).fit(X, y)
    with pytest.raises(LogregError, match="path|file"):
        clf.save(path) if method == "save" else logreg.load(path)


# --- no RuntimeWarning ever reaches a user -----------------------------------------------


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_extreme_features_give_an_answer_or_an_error_never_a_runtime_warning(solver):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)) * np.array([1e300, 1.0, 1e-300])
    y = (X[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            clf = LogisticRegression(solver=solver, num_iterations=20).fit(X, y)
        except LogregError:
            return
        probabilities = clf.predict_proba(X * 1e8)
    assert np.isfinite(probabilities).all()


def test_predicting_on_huge_values_warns_nothing(cancer):
    X, y = cancer
    clf = LogisticRegression(num_iterations=20).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probabilities = clf.predict_proba(np.full((2, X.shape[1]), 1.7e308))
        labels = clf.predict(np.full((2, X.shape[1]), -1.7e308))
    assert np.isfinite(probabilities).all() and len(labels) == 2


# --- arrows point one way ------------------------------------------------------------------


def _imports(path):
    """The logreg modules that ``path`` imports anywhere (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("logreg"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("logreg"))
    return found


def _module_graph():
    modules = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return {name: {m for m in _imports(path) if m in modules and m != name
                   and not name.startswith(m + ".")}  # a package's own __init__ is no arrow
            for name, path in modules.items()}


def test_no_import_cycles_in_the_package():
    """Every import, lazy ones included: the estimator never reaches the dask engine."""
    graph = _module_graph()
    assert "logreg.apps.outofcore" not in graph["logreg.model.estimator"]
    state = {}

    def visit(name, path):
        state[name] = "open"
        for target in graph.get(name, ()):
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " → ".join([*path, target]))
            if target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])


# --- the command -------------------------------------------------------------------------


def test_the_command_prints_a_warning_on_one_line(tmp_path, capsys):
    from helpers import run_cli

    code, out, err = run_cli(["train", "--solver", "lbfgs", "--iterations", 3, "--quiet",
                              "--out", tmp_path], capsys)
    assert code == 0
    assert err.splitlines() == [err.strip()] and err.startswith(
        "logreg train: warning: L-BFGS stopped at num_iterations=3")
    assert "train accuracy" in out


@pytest.mark.parametrize("options, fragment", [
    (["--tol", "-1"], "not a tolerance"), (["--tol", "nan"], "not a tolerance"),
    (["--l2", "-1"], "'l2' parameter"), (["--l2", "inf"], "'l2' parameter"),
    (["--threads", "0"], "not a whole number"),
])
def test_the_command_refuses_bad_settings_before_any_work(tmp_path, capsys, options, fragment):
    from helpers import run_cli

    code, out, err = run_cli(["train", *options, "--out", tmp_path / "out"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and fragment in err, err
    assert not (tmp_path / "out").exists()  # refused before the output folder was made


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("argv", [
    ["graph", "J = 3*a", "a=1", "-o", "/proc/g.svg"],
    ["train", "--iterations", 2, "--out", "/proc/m.safetensors"],
])
def test_an_unwritable_place_is_refused_before_any_work(capsys, argv):
    """Even as root, where permissions say yes: the folder is tried, not only asked."""
    from helpers import run_cli

    code, out, err = run_cli(argv, capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "cannot write /proc/" in err
