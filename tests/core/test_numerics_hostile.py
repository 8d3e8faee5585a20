"""Hostile numbers and inputs to the library (issue 10, red-team items 2, 6, 8, 9).

Finite values near float64's limit (±1.7e308), absurd settings, labels and arrays of the wrong
kind: each is a ``LogregError`` whose message names the value, what was expected and the fix,
or it works; never a RuntimeWarning, never a raw TypeError/OverflowError/ValueError.
"""

import math
import warnings

import dask.array as da
import numpy as np
import pandas as pd
import pytest

import logreg
from logreg import LogisticRegression, engines, solvers
from logreg.apps import outofcore as dask_engine
from logreg.engines import loop
from logreg.core import neuron
from logreg.core.checks import classes_of_labels
from logreg.errors import (
    InvalidInputError,
    InvalidTypeError,
    LogregError,
    TrainingDivergedError,
)
from logreg.solvers import DivergenceWarning


@pytest.fixture(autouse=True)
def no_runtime_warnings():
    """Any warning (RuntimeWarning above all) is an error in these tests."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def small_problem(m=40, n=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    return X, (X[:, 0] + 0.5 * rng.normal(size=m) > 0).astype(int)


def huge_rows(m=40, n=3, seed=0):
    """Finite features up to ±1.7e308, the float64 limit."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(size=(m, n)), -1.7, 1.7) * 1e308


# --- item 2: finite values near the float64 limit ----------------------------------------

def test_auto_learning_rate_power_iteration_does_not_overflow():
    """Products vᵀX of features near 1.7e308 must not overflow (no RuntimeWarning); α then is
    below the smallest float, which is the data's fault and says so."""
    with pytest.raises(InvalidInputError, match=r"features are too large.*1\.7e\+?308"):
        solvers.auto_learning_rate(np.ascontiguousarray(huge_rows(n=200).T))


def test_auto_learning_rate_same_bits_on_ordinary_data():
    """The power-of-two shrinking is exact: ordinary data give the same α as before."""
    X, _ = small_problem(m=200, n=5)
    Xn = np.ascontiguousarray(X.T)
    rate = solvers.auto_learning_rate(Xn)
    # independent truth: 1/L with L = λ_max(X̃ X̃ᵀ)/(4m), X̃ = X with a row of ones
    Xt = np.vstack([Xn, np.ones((1, Xn.shape[1]))])
    L = np.linalg.eigvalsh(Xt @ Xt.T).max() / (4 * Xn.shape[1])
    assert rate == pytest.approx(1 / L, rel=1e-3)


@pytest.mark.parametrize("settings", [
    {},  # learning_rate="auto": α is smaller than the smallest float
    {"learning_rate": 0.1},
    {"learning_rate": 0.1, "implementation": "loop"},
    {"learning_rate": 0.1, "implementation": "semi"},
    {"learning_rate": 0.1, "implementation": "vectorized"},
    {"learning_rate": 0.1, "backprop": "graph"},
    {"learning_rate": 0.1, "on_divergence": "warn"},
])
def test_features_near_the_float_limit_blame_the_data(settings):
    X, y = huge_rows(), small_problem()[1]
    with pytest.raises(InvalidInputError, match=r"features are too large.*1\.7e\+?308"
                       r".*[Ss]tandardi[sz]e"):
        LogisticRegression(num_iterations=5, **settings).fit(X, y)


def test_lbfgs_on_features_near_the_float_limit_is_a_logreg_error():
    X, y = huge_rows(), small_problem()[1]
    with pytest.raises(LogregError, match=r"[Ss]tandardi[sz]e"):
        LogisticRegression(num_iterations=5, solver="lbfgs").fit(X, y)


def test_predicting_on_huge_features_warns_nothing():
    X, y = small_problem()
    clf = LogisticRegression(num_iterations=5).fit(X, y)
    Xh = np.abs(huge_rows()) * np.sign(clf.coef_)  # wᵀx = +inf for every row: certain
    proba = clf.predict_proba(Xh)
    assert np.array_equal(proba[:, 1], np.ones(len(Xh)))
    proba = clf.predict_proba(huge_rows())  # |wᵀx| up to ~1e308: σ saturates, no warning
    assert np.isfinite(proba).all() and ((proba == 0) | (proba == 1)).mean() > 0.5
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_labels_near_the_float_limit_are_two_classes():
    X, y = small_problem()
    labels = np.where(y, 1e308, -1e308)
    assert classes_of_labels(labels).tolist() == [-1e308, 1e308]
    clf = LogisticRegression(num_iterations=20).fit(X, labels)
    assert set(clf.predict(X).tolist()) <= {-1e308, 1e308}


def test_loop_engine_on_overflowing_weights_is_not_an_overflow_error():
    """Python floats raise OverflowError on ** ; the loops must give inf like NumPy."""
    w = np.array([[1e200], [1e200]])
    X = np.ones((2, 3))
    Y = np.array([[1.0, 0.0, 1.0]])
    cost, _, _ = loop.loss_and_gradient_loops(w, 0.0, X, Y, l2=1.0)
    assert math.isinf(cost) or math.isnan(cost)


def test_neuron_exercise_functions_on_huge_values_warn_nothing():
    X = huge_rows().T
    Y = (np.arange(40) % 2).reshape(1, -1).astype(float)
    w = np.ones((3, 1))
    neuron.predict(w, 0.0, X)
    neuron.decision_function(w, 0.0, X)
    neuron.accuracy(neuron.predict(w, 0.0, X), Y)


def test_dask_standardize_near_the_float_limit():
    rows = huge_rows(m=60, n=3)
    scaling = dask_engine.standardize(da.from_array(rows, chunks=(25, 3)))
    want = logreg.data.standardize(rows.T)  # the in-memory one, fixed for this
    np.testing.assert_allclose(scaling.mean, want.mean, rtol=1e-12)
    np.testing.assert_allclose(scaling.spread, want.spread, rtol=1e-12)
    scaled = dask_engine.scaled(da.from_array(rows, chunks=(25, 2)), scaling).compute()
    assert np.isfinite(scaled).all()
    np.testing.assert_allclose(scaled, want.apply(rows.T).T, rtol=1e-12, atol=1e-12)


def test_dask_standardize_ordinary_data_and_true_nan():
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(500, 3)) * [1, 1e-200, 1e5] + [3, 0, -1e6]
    scaling = dask_engine.standardize(da.from_array(rows, chunks=(70, 2)))
    np.testing.assert_allclose(scaling.mean.ravel(), rows.mean(axis=0), rtol=1e-12)
    # truth: NumPy's σ of each feature in its own unit (its squares of 1e-200 underflow)
    unit = np.abs(rows).max(axis=0)
    np.testing.assert_allclose(scaling.spread.ravel(), (rows / unit).std(axis=0) * unit,
                               rtol=1e-12)
    with pytest.raises(InvalidInputError, match=r"NaN or infinit.*feature 1"):
        dask_engine.standardize(da.from_array(np.array([[1.0, 2.0], [3.0, np.inf]])))


# --- item 6: absurd sizes -----------------------------------------------------------------

def test_num_iterations_whose_cost_history_cannot_fit_is_refused_up_front():
    X, y = small_problem()
    with pytest.raises(InvalidInputError, match=r"num_iterations=9223372036854775808.*memory"
                       r".*available.*fewer"):
        LogisticRegression(num_iterations=2 ** 63).fit(X, y)


@pytest.mark.parametrize("name, value", [("num_iterations", True), ("num_iterations", False),
                                         ("learning_rate", True), ("l2", True),
                                         ("tol", False), ("n_threads", True)])
def test_bool_settings_are_refused(name, value):
    X, y = small_problem()
    with pytest.raises(logreg.errors.InvalidParameterError, match=rf"{name}.*{value}"):
        LogisticRegression(**{name: value}).fit(X, y)


@pytest.mark.parametrize("name", ["learning_rate", "l2", "tol"])
def test_numbers_beyond_float_range_are_refused(name):
    X, y = small_problem()
    with pytest.raises(logreg.errors.InvalidParameterError, match=rf"{name}=.*float.*range"):
        LogisticRegression(**{name: 2 ** 1100}).fit(X, y)


# --- item 8: exceptions that must be LogregError --------------------------------------------

@pytest.mark.parametrize("labels, match", [
    (lambda y: np.where(y, b"a", b"b"), r"bytes.*astype\(str\)"),
    (lambda y: np.where(y, b"a", b"b").astype(object), r"bytes.*astype\(str\)"),
    (lambda y: np.array([2 ** 70 if v else 0 for v in y], dtype=object),
     r"1180591620717411303424.*64"),
])
def test_labels_of_an_unusable_kind(labels, match):
    X, y = small_problem()
    with pytest.raises(LogregError, match=match):
        LogisticRegression(num_iterations=5).fit(X, labels(y))


def test_score_validates_y_like_fit():
    X, y = small_problem()
    clf = LogisticRegression(num_iterations=50).fit(X, y)
    with pytest.raises(InvalidInputError, match=r"'a'.*expected.*0, 1"):
        clf.score(X, ["a", "b"] * 20)
    with pytest.raises(InvalidInputError, match=r"5 labels.*40"):
        clf.score(X, y[:5])
    with pytest.raises(InvalidInputError, match=r"7.*expected.*0, 1"):
        clf.score(X, np.where(y, 7, 0))
    # the score itself: scikit-learn's accuracy_score, weighted too
    from sklearn.metrics import accuracy_score

    assert clf.score(X, y) == accuracy_score(y, clf.predict(X))
    weights = np.arange(1.0, 41.0)
    assert clf.score(X, y, sample_weight=weights) == pytest.approx(
        accuracy_score(y, clf.predict(X), sample_weight=weights))
    strings = LogisticRegression(num_iterations=50).fit(X, np.where(y, "cat", "dog"))
    assert strings.score(X, np.where(y, "cat", "dog")) == clf.score(X, y)


@pytest.mark.parametrize("bad", [None, [[1.0]], np.ones(3), "X", np.ones((2, 2, 2))])
def test_resolve_refuses_what_is_not_a_2d_array(bad):
    with pytest.raises(InvalidInputError, match=r"2-D array.*\(n_x, m\)"):
        engines.resolve(bad)


def dask_problem():
    X, y = small_problem()
    return da.from_array(X, chunks=(20, 3)), da.from_array(y, chunks=20)


def test_dask_fit_refuses_unknown_settings_and_estimators():
    Xd, yd = dask_problem()
    with pytest.raises(logreg.errors.InvalidParameterError, match=r"bogus.*expected.*"
                       r"learning_rate"):
        dask_engine.fit(Xd, yd, bogus=1)
    with pytest.raises(InvalidTypeError, match=r"estimator='x'.*LogisticRegression"):
        dask_engine.fit(Xd, yd, estimator="x")
    with pytest.raises(logreg.errors.InvalidParameterError, match=r"persist='maybe'.*auto"):
        dask_engine.fit(Xd, yd, learning_rate=0.1, persist="maybe")


def test_dask_fit_refuses_other_libraries_arrays():
    torch = pytest.importorskip("torch")
    X, y = small_problem()
    with pytest.raises(InvalidTypeError, match=r"torch.*dask.*NumPy"):
        dask_engine.fit(torch.as_tensor(X), torch.as_tensor(y), learning_rate=0.1)


def test_dask_fit_takes_sample_weights():
    Xd, yd = dask_problem()
    X, y = small_problem()
    weights = np.linspace(0.5, 2.0, len(y))
    clf = dask_engine.fit(Xd, yd, learning_rate=0.1, num_iterations=30, persist=False,
                          sample_weight=weights)
    want = LogisticRegression(learning_rate=0.1, num_iterations=30).fit(
        X, y, sample_weight=weights)
    np.testing.assert_allclose(clf.coef_, want.coef_, rtol=1e-10)


# --- item 9: input that must not be accepted silently ----------------------------------------

@pytest.mark.parametrize("make", [
    lambda X: X.astype(str),
    lambda X: X.astype(str).astype(object),
    lambda X: X.astype(bytes),
    lambda X: pd.DataFrame({"a": X[:, 0].astype(str), "b": X[:, 1]}),
])
def test_numeric_strings_in_X_are_refused(make):
    X, y = small_problem()
    with pytest.raises(InvalidInputError,
                       match=r"(?i)X holds (strings|text).*encode them as numbers"):
        LogisticRegression(num_iterations=5).fit(make(X), y)
    clf = LogisticRegression(num_iterations=5).fit(X if not isinstance(make(X), pd.DataFrame)
                                                   else make(X).astype(float), y)
    with pytest.raises(InvalidInputError, match=r"X holds (strings|text)"):
        clf.predict(make(X))


@pytest.mark.parametrize("make", [
    lambda m: np.arange(m).astype("datetime64[D]").reshape(-1, 1),
    lambda m: np.arange(m).astype("timedelta64[s]").reshape(-1, 1),
    lambda m: pd.DataFrame({"a": pd.date_range("2020", periods=m)}),
    lambda m: pd.DataFrame({"a": pd.date_range("2020", periods=m, tz="UTC"), "b": range(m)}),
    lambda m: pd.DataFrame({"a": pd.timedelta_range("1s", periods=m)}),
])
def test_dates_and_times_in_X_are_refused(make):
    _, y = small_problem()
    with pytest.raises(InvalidTypeError, match=r"(?i)X holds dates.*encode them as numbers"):
        LogisticRegression(num_iterations=5).fit(make(len(y)), y)


def test_dates_refused_at_predict():
    X, y = small_problem(n=1)
    clf = LogisticRegression(num_iterations=5).fit(X, y)
    with pytest.raises(InvalidTypeError, match=r"X holds dates"):
        clf.predict(np.arange(40).astype("datetime64[D]").reshape(-1, 1))


def test_a_few_huge_steps_are_divergence():
    X, y = small_problem()
    with pytest.raises(TrainingDivergedError, match=r"learning rate 1e\+18.*smaller"):
        LogisticRegression(learning_rate=1e18, num_iterations=5).fit(X, y)
    with pytest.warns(DivergenceWarning, match=r"learning rate 1e\+18"):
        clf = LogisticRegression(learning_rate=1e18, num_iterations=5,
                                 on_divergence="warn").fit(X, y)
    # the kept parameters are the lowest cost's: the start, w = 0, b = 0
    assert np.array_equal(clf.coef_, np.zeros((1, 3))) and clf.intercept_[0] == 0


def scripted(costs):
    """An engine whose cost follows ``costs``, one per evaluation (the rule sees only J)."""
    sequence = iter(costs)

    def loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0):
        return next(sequence), np.zeros_like(w), 0.0

    return loss_and_gradient


@pytest.mark.parametrize("costs, diverged", [
    ([0.69, 3.2, 2.0, 0.5, 0.4], False),  # jumps (4.6 J₀ on the cats) and settles below J₀
    ([0.69, 5e16, 9.9e16, 1.5e17, 5e17], True),  # α = 1e18: 5 steps, too few for the others
    ([0.69, 0.05, 0.9], True),  # ends 18× its lowest and above its start
    ([0.69, 1e-9, 1e-7], False),  # separable data's tiny wobble: still far below J₀
    ([0.69, 0.5, 0.4], False),
])
def test_the_end_of_training_is_judged_too(costs, diverged):
    X, Y = np.ones((2, 3)), np.array([[0.0, 1.0, 1.0]])
    def run(on):
        return solvers.gradient_descent(
            X, Y, np.zeros((2, 1)), 0.0, learning_rate=1.0, num_iterations=len(costs),
            gradient=scripted(costs), on_divergence=on)

    if not diverged:
        assert run("raise").costs == costs
        return
    with pytest.raises(TrainingDivergedError, match=r"ended at .* above 10 times its lowest"):
        run("raise")
    with pytest.warns(DivergenceWarning):
        assert run("warn").costs == costs


@pytest.mark.parametrize("dtype", ["U8", "datetime64[D]"])
def test_dask_arrays_of_text_or_dates_are_refused(dtype):
    _, y = small_problem()
    Xd = da.from_array(np.arange(120).reshape(40, 3).astype(dtype), chunks=(20, 3))
    with pytest.raises(InvalidTypeError, match=r"X holds .*(U8|datetime64).*numbers"):
        LogisticRegression(learning_rate=0.1, num_iterations=5).fit(Xd, y)
