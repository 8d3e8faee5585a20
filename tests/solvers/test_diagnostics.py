"""Training diagnostics (issue 13, item 2): ``history_`` on every solver and engine, checked
against independent truth (the notes' ``neuron.loss_and_gradient`` at parameters reached by
shorter fits, finite differences of the cost), and the causes a ConvergenceWarning names."""

import warnings

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from logreg import LogisticRegression
from logreg.solvers import diagnostics
from logreg.core import neuron

KEYS = {"iteration", "cost", "gradient_norm", "step", "elapsed"}


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def scaled(cancer):
    X, y = cancer
    return StandardScaler().fit_transform(X), y


def small_problem(m=80, n=4, seed=0):
    """A small problem whose classes overlap (not separable)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = (X @ rng.standard_normal(n) + rng.standard_normal(m) > 0).astype(int)
    return X, y


def quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def theta(estimator):
    """θ = [w; b] of a fitted two-class estimator."""
    return np.concatenate([estimator.coef_.ravel(), estimator.intercept_.ravel()])


def notes_gradient_norm(X, y, parameters, l2=0.0):
    """‖(dw, db)‖ of the notes' lines at θ = [w; b] (X rows as examples)."""
    w, b = parameters[:-1].reshape(-1, 1), parameters[-1]
    _, dw, db = neuron.loss_and_gradient(w, b, X.T, y.reshape(1, -1).astype(float), l2=l2)
    return float(np.sqrt(np.sum(dw * dw) + float(db) ** 2))


def finite_difference_norm(X, y, parameters):
    """‖∇J‖ by central-ish finite differences of the notes' cost alone."""
    Y = y.reshape(1, -1).astype(float)

    def cost(p):
        return float(neuron.loss_and_gradient(p[:-1].reshape(-1, 1), p[-1], X.T, Y)[0])

    return float(np.linalg.norm(approx_fprime(parameters, cost, 1e-7)))


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
def test_history_has_one_row_per_cost_and_its_cost_is_costs_(solver, scaled):
    X, y = scaled
    clf = quietly(LogisticRegression(solver=solver, num_iterations=30), X, y)
    history = clf.history_
    assert set(history) == KEYS
    assert all(len(column) == len(clf.costs_) for column in history.values())
    np.testing.assert_array_equal(history["cost"], clf.costs_)
    np.testing.assert_array_equal(history["iteration"], np.arange(len(clf.costs_)))
    assert np.all(np.diff(history["elapsed"]) >= 0) and history["elapsed"][0] >= 0
    assert history["elapsed"][-1] > history["elapsed"][0]
    pandas = pytest.importorskip("pandas")
    assert list(pandas.DataFrame(history)["cost"]) == clf.costs_


def test_gradient_descent_rows_against_shorter_fits():
    """Row k of gradient descent: J, ‖∇J‖ at θ_k (the end of a k-step fit) and the step
    ‖θ_{k+1} − θ_k‖ it takes."""
    X, y = small_problem()
    long = LogisticRegression(learning_rate=0.5, num_iterations=12).fit(X, y)
    for k in (1, 4, 9):
        at_k = LogisticRegression(learning_rate=0.5, num_iterations=k).fit(X, y)
        after = LogisticRegression(learning_rate=0.5, num_iterations=k + 1).fit(X, y)
        expected = notes_gradient_norm(X, y, theta(at_k))
        assert long.history_["gradient_norm"][k] == pytest.approx(expected, rel=1e-10)
        assert long.history_["gradient_norm"][k] == pytest.approx(
            finite_difference_norm(X, y, theta(at_k)), rel=1e-5)
        assert long.history_["step"][k] == pytest.approx(
            np.linalg.norm(theta(after) - theta(at_k)), rel=1e-9)
    # row 0 is the start, w = 0 and b = 0
    assert long.history_["gradient_norm"][0] == pytest.approx(
        notes_gradient_norm(X, y, np.zeros(X.shape[1] + 1)), rel=1e-12)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_second_order_rows_against_shorter_fits(solver):
    """Row k of L-BFGS and Newton: the point after iteration k (the end of a k-iteration fit),
    ‖∇J‖ there and the step ‖θ_k − θ_{k−1}‖ that reached it; row 0 the start."""
    X, y = small_problem(seed=1)
    long = quietly(LogisticRegression(solver=solver, num_iterations=6, tol=1e-14), X, y)
    assert len(long.costs_) == long.n_iter_ + 1
    assert long.history_["step"][0] == 0.0
    before = np.zeros(X.shape[1] + 1)
    for k in range(1, 4):
        at_k = quietly(LogisticRegression(solver=solver, num_iterations=k, tol=1e-14), X, y)
        assert long.history_["cost"][k] == pytest.approx(at_k.costs_[-1], rel=1e-12)
        assert long.history_["gradient_norm"][k] == pytest.approx(
            notes_gradient_norm(X, y, theta(at_k)), rel=1e-6, abs=1e-12)
        assert long.history_["gradient_norm"][k] == pytest.approx(
            finite_difference_norm(X, y, theta(at_k)), rel=1e-4, abs=1e-7)
        assert long.history_["step"][k] == pytest.approx(
            np.linalg.norm(theta(at_k) - before), rel=1e-6)
        before = theta(at_k)


def test_the_gradient_norm_includes_the_penalty_and_leaves_out_a_missing_intercept():
    X, y = small_problem(seed=2)
    clf = LogisticRegression(learning_rate=0.3, num_iterations=5, l2=3.0,
                             fit_intercept=False).fit(X, y)
    Y = y.reshape(1, -1).astype(float)
    _, dw, _ = neuron.loss_and_gradient(np.zeros((X.shape[1], 1)), 0.0, X.T, Y, l2=3.0)
    assert clf.history_["gradient_norm"][0] == pytest.approx(np.linalg.norm(dw), rel=1e-12)


def softmax_problem(m=90, n=3, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    return X, np.argmax(X @ rng.standard_normal((n, 3)) + rng.standard_normal((m, 3)), axis=1)


def test_softmax_layer_rows_against_the_notes():
    X, y = softmax_problem()
    long = LogisticRegression(learning_rate=0.5, num_iterations=6).fit(X, y)
    at_3 = LogisticRegression(learning_rate=0.5, num_iterations=3).fit(X, y)
    Y = (np.arange(3)[:, None] == y[None, :]).astype(float)
    _, dW, db = neuron.loss_and_gradient(at_3.coef_.T, at_3.intercept_.reshape(-1, 1), X.T, Y)
    expected = np.sqrt(np.sum(dW * dW) + np.sum(db * db))
    assert long.history_["gradient_norm"][3] == pytest.approx(expected, rel=1e-10)


ENGINE_SETTINGS = [dict(implementation="vectorized"), dict(implementation="fused"),
                   dict(implementation="semi"), dict(implementation="loop"),
                   dict(backprop="graph")]


@pytest.mark.parametrize("settings", ENGINE_SETTINGS, ids=lambda s: "-".join(s.values()))
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_every_engine_records_the_same_history(settings, solver):
    X, y = small_problem(m=60, seed=4)
    reference = quietly(LogisticRegression(solver=solver, num_iterations=8,
                                           implementation="vectorized"), X, y)
    clf = quietly(LogisticRegression(solver=solver, num_iterations=8, **settings), X, y)
    for key in ("cost", "gradient_norm", "step"):
        np.testing.assert_allclose(clf.history_[key], reference.history_[key], rtol=1e-8,
                                   atol=1e-12)


def test_example_space_gradient_norms_are_the_plain_steps():
    """Far more features than examples: "auto" takes the steps in the span of the examples;
    ‖dw‖ comes from dZ G dZᵀ / m² there, and equals the plain steps' ‖X dZᵀ‖ / m."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((30, 400)), rng.integers(0, 2, 30)
    fast = LogisticRegression(learning_rate=0.01, num_iterations=40).fit(X, y)
    assert fast.engine_["name"] == "example-space"
    plain = LogisticRegression(learning_rate=0.01, num_iterations=40,
                               implementation="vectorized").fit(X, y)
    for key in ("cost", "gradient_norm", "step"):
        np.testing.assert_allclose(fast.history_[key], plain.history_[key], rtol=1e-9)


def test_torch_and_dask_record_the_numpy_history():
    torch = pytest.importorskip("torch")
    da = pytest.importorskip("dask.array")
    X, y = small_problem(m=60, seed=6)
    reference = LogisticRegression(learning_rate=0.5, num_iterations=6).fit(X, y)
    on_torch = LogisticRegression(learning_rate=0.5, num_iterations=6).fit(
        torch.from_numpy(X), torch.from_numpy(y))
    on_dask = LogisticRegression(learning_rate=0.5, num_iterations=6).fit(
        da.from_array(X, chunks=(20, 4)), da.from_array(y, chunks=20))
    for clf in (on_torch, on_dask):
        for key in ("cost", "gradient_norm", "step"):
            np.testing.assert_allclose(clf.history_[key], reference.history_[key], rtol=1e-10)


# --- why a fit did not converge -------------------------------------------------------------


def convergence_messages(estimator, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y)
    return [str(w.message) for w in caught if w.category is ConvergenceWarning]


def causes(found):
    return {finding.cause for finding in found}


def test_unscaled_features_are_named_with_their_fix(cancer):
    X, y = cancer  # column norms from 0.1 to 25 000
    messages = convergence_messages(LogisticRegression(solver="lbfgs", num_iterations=3), X, y)
    assert len(messages) == 1 and "\n" not in messages[0]
    assert "unscaled features" in messages[0] and "standardise" in messages[0]
    norms = np.linalg.norm(X, axis=0)
    assert f"{norms.max() / norms.min():.3g}" in messages[0]


def test_scaled_features_are_not_called_unscaled(scaled):
    X, y = scaled
    clf = quietly(LogisticRegression(solver="lbfgs", num_iterations=3), X, y)
    assert "unscaled features" not in causes(diagnostics.diagnose(clf, X, y))


def test_too_few_iterations_named_for_a_cost_still_falling(scaled):
    X, y = scaled
    messages = convergence_messages(
        LogisticRegression(solver="lbfgs", num_iterations=4, l2=1.0), X, y)
    assert len(messages) == 1 and "too few iterations" in messages[0]
    assert "raise num_iterations (e.g. 40)" in messages[0]
    assert "separable" not in messages[0] and "unscaled" not in messages[0]


def test_gradient_descent_with_a_tolerance_it_never_reached_warns(scaled):
    X, y = scaled
    messages = convergence_messages(
        LogisticRegression(num_iterations=20, tol=1e-9, l2=1.0), X, y)
    assert len(messages) == 1 and "gradient descent stopped at num_iterations=20" in messages[0]
    assert "too few iterations" in messages[0]
    # tol=0 (the default) asks for every step: no warning
    assert convergence_messages(LogisticRegression(num_iterations=20), X, y) == []


def test_a_learning_rate_too_large_is_named_from_the_oscillating_cost():
    X, y = small_problem(m=200, seed=7)
    clf = LogisticRegression(learning_rate=60.0, num_iterations=60, l2=1.0,
                             on_divergence="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    costs = np.asarray(clf.costs_)
    assert np.sum(np.diff(costs[30:]) > 0) >= 3  # it does oscillate
    found = diagnostics.diagnose(clf, X, y)
    assert "learning rate too large" in causes(found)
    assert "learning_rate='auto'" in str(found)
    calm = LogisticRegression(num_iterations=60, l2=1.0).fit(X, y)  # α = 1/L
    assert "learning rate too large" not in causes(diagnostics.diagnose(calm, X, y))


def separable(m=60, seed=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    X[y == 1] += 0.5  # a margin
    return X, y


def test_separable_data_without_a_penalty_is_named():
    X, y = separable()
    messages = convergence_messages(LogisticRegression(solver="newton", num_iterations=8), X, y)
    assert len(messages) == 1 and "separable data" in messages[0] and "l2 > 0" in messages[0]
    penalised = quietly(LogisticRegression(solver="newton", num_iterations=8, l2=1.0), X, y)
    assert "separable data" not in causes(diagnostics.diagnose(penalised, X, y))


def test_a_clean_fit_has_no_findings_and_no_warning(scaled):
    X, y = scaled
    for solver in ("lbfgs", "newton"):
        clf = LogisticRegression(solver=solver, l2=1.0)
        assert convergence_messages(clf, X, y) == []
        assert diagnostics.diagnose(clf, X, y) == []


def test_the_warning_points_at_the_callers_line(cancer):
    X, y = cancer
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LogisticRegression(solver="lbfgs", num_iterations=2).fit(X, y)
    warning, = [w for w in caught if w.category is ConvergenceWarning]
    assert warning.filename == __file__


def test_diagnose_needs_a_fitted_estimator():
    from logreg.errors import NotFittedError

    with pytest.raises(NotFittedError, match="fit"):
        diagnostics.diagnose(LogisticRegression(), np.eye(3), [0, 1, 0])


def test_a_history_too_large_for_memory_is_refused_before_any_work():
    from logreg.errors import InvalidInputError
    from logreg.model.parameters import ITERATION_BYTES

    X, y = np.random.default_rng(0).random((10, 2)), np.arange(10) % 2
    # 10¹⁵ iterations of costs_ and history_ cannot fit: refused, naming both and the fix
    with pytest.raises(InvalidInputError, match=f"history_, {ITERATION_BYTES} bytes.*fewer"):
        LogisticRegression(num_iterations=10**15).fit(X, y)


def test_a_rising_cost_is_not_convergence_under_tol():
    """With tol > 0, gradient descent stops when a step lowers the cost by less than tol; a
    step that raises it (α too large) is no such step: training goes on, and ends with the
    warning naming the learning rate."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match="learning rate too large"):
        model = LogisticRegression(learning_rate=30, tol=1e-9, num_iterations=300).fit(X, y)
    assert model.costs_[1] > model.costs_[0]  # the first step rose: not taken as converged
    assert model.n_iter_ == 300


def test_warnings_point_at_the_users_line():
    """A DivergenceWarning (on_divergence="warn") and a ConvergenceWarning name the line that
    called fit, whatever stands between (scikit-learn's callback wrapper, by version)."""
    import inspect

    from logreg.solvers import DivergenceWarning

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] + 0.5 * rng.standard_normal(200) > 0).astype(int)
    for settings, category in [
            (dict(learning_rate=1e3, num_iterations=200, on_divergence="warn"),
             DivergenceWarning),
            (dict(solver="lbfgs", num_iterations=1), ConvergenceWarning)]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            line = inspect.currentframe().f_lineno + 1
            LogisticRegression(**settings).fit(X, y)
        ours = [w for w in caught if issubclass(w.category, category)]
        assert ours and all((w.filename, w.lineno) == (__file__, line) for w in ours), \
            [(w.filename, w.lineno) for w in ours]
