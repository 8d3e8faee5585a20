"""Callbacks that watch and stop training (issue 13, item 2): the plain ``callback`` parameter
(called with the history row, a truthy return stops) and scikit-learn's callback API
(``set_callbacks``, one task per iteration whose end hook may stop the fit)."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import logreg
from logreg import LogisticRegression
from logreg.errors import ParameterNotSavedWarning

SOLVERS = ["gd", "lbfgs", "newton"]


def problem(m=120, n=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = (X @ rng.standard_normal(n) + rng.standard_normal(m) > 0).astype(int)
    return X, y


def fitted(X, y, **settings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(**settings).fit(X, y)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_plain_callable_stops_training_at_the_row_it_says(solver):
    """Stopped at row 3, the model holds the parameters of that row: θ₃, where a fit of
    three iterations ends."""
    X, y = problem()
    rows = []

    def stop_at_three(row):
        rows.append(row)
        return row["iteration"] == 3

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopping is not a failure
        clf = LogisticRegression(solver=solver, tol=1e-14, callback=stop_at_three).fit(X, y)
    assert len(rows) == 4 == len(clf.costs_)
    three = fitted(X, y, solver=solver, num_iterations=3, tol=1e-14)
    np.testing.assert_allclose(clf.coef_, three.coef_, rtol=1e-12)
    np.testing.assert_allclose(clf.intercept_, three.intercept_, rtol=1e-12)
    # each record is the history row
    for i, row in enumerate(rows):
        assert row == {key: (int(values[i]) if key == "iteration" else float(values[i]))
                       for key, values in clf.history_.items()}


def test_a_callable_that_returns_nothing_only_watches():
    X, y = problem()
    seen = []
    clf = LogisticRegression(num_iterations=30, callback=seen.append).fit(X, y)
    assert [row["cost"] for row in seen] == clf.costs_


def test_the_callable_survives_get_params_and_clone_and_is_not_saved(tmp_path):
    X, y = problem()

    def watch(row):
        return False

    clf = LogisticRegression(num_iterations=5, callback=watch).fit(X, y)
    assert clf.get_params()["callback"] is watch
    assert clone(clf).callback is watch
    with pytest.warns(ParameterNotSavedWarning, match="callback.*set_params"):
        clf.save(tmp_path / "m.safetensors")
    loaded = logreg.load(tmp_path / "m.safetensors")
    assert loaded.callback is None
    np.testing.assert_array_equal(loaded.coef_, clf.coef_)


def test_a_callable_is_checked_as_a_setting():
    from logreg.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="callback"):
        LogisticRegression(callback="print").fit(*problem())


class StopAfter:
    """A scikit-learn FitCallback: stops at iteration task ``last``, and keeps what each
    iteration's ``fitted_estimator`` predicts."""

    def __init__(self, last, X):
        self.last, self.X = last, X
        self.events, self.probabilities = [], []

    def setup(self, estimator, context):
        self.events.append("setup")

    def teardown(self, estimator, context):
        self.events.append("teardown")

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None):
        self.events.append(("begin", context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None, metadata=None):
        self.events.append(("end", context.task_name, context.task_id))
        if context.task_name == "iteration":
            self.probabilities.append(fitted_estimator.predict_proba(self.X))
            return context.task_id >= self.last
        return False


@pytest.mark.parametrize("solver", SOLVERS)
def test_scikit_learns_callback_api_watches_and_stops_a_fit(solver):
    pytest.importorskip("sklearn.callback")
    X, y = problem(seed=1)
    callback = StopAfter(2, X)
    clf = LogisticRegression(solver=solver, tol=1e-14).set_callbacks(callback).fit(X, y)
    assert len(clf.costs_) == 3
    assert callback.events[0] == "setup" and callback.events[-1] == "teardown"
    assert callback.events[1] == ("begin", "fit", 0)
    assert callback.events[-2] == ("end", "fit", 0)
    iterations = [event for event in callback.events[2:-2] if event[0] == "end"]
    assert iterations == [("end", "iteration", i) for i in range(3)]
    # each iteration's fitted_estimator predicts with that row's parameters
    for k, probabilities in enumerate(callback.probabilities[1:], 1):
        at_k = fitted(X, y, solver=solver, num_iterations=k, tol=1e-14)
        np.testing.assert_allclose(probabilities, at_k.predict_proba(X), rtol=1e-10)
    np.testing.assert_allclose(callback.probabilities[-1], clf.predict_proba(X), rtol=1e-12)


def test_scikit_learns_scoring_monitor_scores_every_iteration():
    callback_module = pytest.importorskip("sklearn.callback")
    X, y = problem(seed=2)
    monitor = callback_module.ScoringMonitor(scoring="accuracy")
    clf = LogisticRegression(num_iterations=5).set_callbacks(monitor).fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "iteration"]
    assert len(rows) == 5
    for k, row in enumerate(rows):
        expected = (fitted(X, y, num_iterations=k).score(X, y) if k
                    else np.mean(y == clf.classes_[0]))  # w = 0, b = 0: z = 0 predicts 0
        assert row["accuracy"] == pytest.approx(expected)
