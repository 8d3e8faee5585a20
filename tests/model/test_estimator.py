"""logreg.LogisticRegression as a scikit-learn user meets it, checked against scikit-learn's
solution of the same convex problem and against hand-worked facts."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import logreg
from logreg import LogisticRegression
from logreg.errors import (
    InvalidInputError,
    InvalidTypeError,
    LogregError,
    NotFittedError,
    TrainingDivergedError,
)
from logreg.solvers import DivergenceWarning


@pytest.fixture(scope="module")
def two_features():
    """Breast cancer's mean radius and mean texture, standardised: one finite optimum."""
    data = load_breast_cancer()
    return StandardScaler().fit_transform(data.data[:, :2]), data.target


def test_matches_scikit_learn_unregularised(two_features):
    X, y = two_features
    ours = LogisticRegression(num_iterations=20000, tol=1e-15).fit(X, y)
    sk = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, sk.intercept_, rtol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-6)
    assert ours.coef_.shape == (1, 2) and ours.intercept_.shape == (1,)


def test_l2_is_one_over_C(two_features):
    X, y = two_features
    ours = LogisticRegression(l2=2.0, num_iterations=20000, tol=1e-15).fit(X, y)
    sk = SkLogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, sk.intercept_, rtol=1e-6)


def test_sample_weight_matches_scikit_learn(two_features):
    X, y = two_features
    weights = np.random.default_rng(0).uniform(0.2, 3.0, size=len(y))
    ours = LogisticRegression(num_iterations=20000, tol=1e-15).fit(X, y, sample_weight=weights)
    sk = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(
        X, y, sample_weight=weights)
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=1e-6)


def test_costs_every_iteration_and_n_iter(two_features):
    X, y = two_features
    clf = LogisticRegression(num_iterations=37).fit(X, y)
    assert clf.n_iter_ == 37 == len(clf.costs_)
    assert clf.costs_[0] == pytest.approx(np.log(2))  # w = 0, b = 0: σ(0) = 1/2 everywhere
    assert all(b <= a for a, b in zip(clf.costs_, clf.costs_[1:]))  # "auto" α only descends


def test_tol_stops_early(two_features):
    X, y = two_features
    clf = LogisticRegression(num_iterations=100_000, tol=1e-6).fit(X, y)
    assert clf.n_iter_ < 100_000
    assert clf.costs_[-2] - clf.costs_[-1] < 1e-6
    assert all(a - b >= 1e-6 for a, b in zip(clf.costs_[:-2], clf.costs_[1:-1]))


def test_exercise_learning_rate_reproduces_notes(two_features):
    """learning_rate=0.005 runs the notes' recipe: the same parameters as neuron.optimize."""
    from logreg.core import neuron

    X, y = two_features
    clf = LogisticRegression(learning_rate=0.005, num_iterations=300).fit(X, y)
    params, _, _ = neuron.optimize(np.zeros((2, 1)), 0.0, X.T, y.reshape(1, -1),
                                   num_iterations=300, learning_rate=0.005)
    np.testing.assert_array_equal(clf.coef_.ravel(), params["w"].ravel())
    assert clf.intercept_[0] == params["b"]


def test_warm_start_continues(two_features):
    X, y = two_features
    whole = LogisticRegression(num_iterations=200).fit(X, y)
    halves = LogisticRegression(num_iterations=100, warm_start=True).fit(X, y)
    halves.set_params(learning_rate=halves.learning_rate_).fit(X, y)
    np.testing.assert_allclose(halves.coef_, whole.coef_, rtol=1e-12)
    cold = LogisticRegression(num_iterations=100).fit(X, y)
    assert not np.allclose(cold.coef_, whole.coef_)


@pytest.mark.parametrize("labels", [
    np.array(["benign", "malignant"]), np.array([3, 7]), np.array([False, True]),
    np.array([-1.0, 1.0])])
def test_any_two_labels(two_features, labels):
    X, y = two_features
    clf = LogisticRegression(num_iterations=200).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, labels)
    reference = LogisticRegression(num_iterations=200).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), labels[reference.predict(X)])
    assert clf.predict(X).dtype == labels.dtype


def test_methods_agree(two_features):
    X, y = two_features
    clf = LogisticRegression(num_iterations=200).fit(X, y)
    z = clf.decision_function(X)
    np.testing.assert_allclose(z, X @ clf.coef_.ravel() + clf.intercept_[0], rtol=1e-12)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), (proba[:, 1] > 0.5).astype(int))
    assert clf.score(X, y) == pytest.approx(np.mean(clf.predict(X) == y))


def test_feature_names_from_a_dataframe(two_features):
    pd = pytest.importorskip("pandas")
    X, y = two_features
    frame = pd.DataFrame(X, columns=["mean radius", "mean texture"])
    clf = LogisticRegression(num_iterations=50).fit(frame, y)
    assert list(clf.feature_names_in_) == ["mean radius", "mean texture"]
    with pytest.raises(LogregError, match="feature names"):
        clf.predict(frame[["mean texture", "mean radius"]])


def test_pipeline_gridsearch_cross_val():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(num_iterations=300))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.8
    search = GridSearchCV(pipe, {"logisticregression__l2": [0.0, 1.0, 10.0]}, cv=3).fit(X, y)
    assert search.best_params_["logisticregression__l2"] in (0.0, 1.0, 10.0)
    assert search.score(X, y) > 0.8


def test_multiclass_and_sparse_declared():
    tags = LogisticRegression().__sklearn_tags__()
    assert tags.classifier_tags.multi_class is True
    assert tags.input_tags.sparse is True


# --- training that cannot quietly go wrong ----------------------------------------------

def unscaled_breast_cancer():
    data = load_breast_cancer()
    return data.data, data.target  # features up to thousands: α = 0.005 is far too large


def test_too_large_learning_rate_raises_naming_it():
    X, y = unscaled_breast_cancer()
    with pytest.raises(TrainingDivergedError, match=r"learning rate 0\.005.*smaller.*0\.0005"):
        LogisticRegression(learning_rate=0.005).fit(X, y)


def test_too_large_learning_rate_can_warn_and_keep_the_best():
    X, y = unscaled_breast_cancer()
    with pytest.warns(DivergenceWarning, match="learning rate 0.005"):
        clf = LogisticRegression(learning_rate=0.005, on_divergence="warn").fit(X, y)
    assert np.isfinite(clf.coef_).all()
    # the kept parameters are the ones with the lowest cost seen
    Z = X @ clf.coef_.ravel() + clf.intercept_[0]
    cost = np.mean(np.logaddexp(0, Z) - y * Z)
    assert cost == pytest.approx(min(clf.costs_))


def test_auto_learning_rate_trains_unscaled_data():
    X, y = unscaled_breast_cancer()
    clf = LogisticRegression().fit(X, y)
    assert all(b <= a for a, b in zip(clf.costs_, clf.costs_[1:]))
    assert clf.score(X, y) > 0.85


def test_separable_data_keeps_a_finite_cost():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    clf = LogisticRegression(learning_rate=10.0, num_iterations=5000).fit(X, y)
    assert np.isfinite(clf.costs_).all() and clf.costs_[-1] < 1e-3
    assert clf.score(X, y) == 1.0


@pytest.mark.parametrize("scale", [1e6, 1e50, 1e150])
def test_huge_feature_values_do_not_overflow(scale):
    X = np.array([[-1.0], [-0.1], [0.1], [1.0]]) * scale
    y = np.array([0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clf = LogisticRegression(num_iterations=50).fit(X, y)
        proba = clf.predict_proba(X)
    assert np.isfinite(clf.costs_).all() and np.isfinite(proba).all()
    assert clf.score(X, y) == 1.0


def test_features_too_large_for_any_step_are_refused_clearly():
    X = np.array([[-1.0], [-0.1], [0.1], [1.0]]) * 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(InvalidInputError, match="too large.*Standardise"):
            LogisticRegression().fit(X, [0, 0, 1, 1])


def test_overflow_with_a_fixed_rate_is_reported_as_divergence():
    X = np.array([[-1.0], [-0.1], [0.1], [1.0]]) * 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(TrainingDivergedError, match="learning rate 0.5"):
            LogisticRegression(learning_rate=0.5).fit(X, [0, 0, 1, 1])


# --- bad input, one by one ----------------------------------------------------------------

X_GOOD = np.random.default_rng(0).normal(size=(12, 3))
Y_GOOD = np.arange(12) % 2


@pytest.mark.parametrize("X, y, error, fragments", [
    (np.where(X_GOOD > 1, np.nan, X_GOOD), Y_GOOD, InvalidInputError, ["NaN", "impute"]),
    (np.where(X_GOOD > 1, np.inf, X_GOOD), Y_GOOD, InvalidInputError, ["infinity", "finite"]),
    (np.full((12, 3), "a"), Y_GOOD, InvalidInputError, ["string", "Encode"]),
    (X_GOOD + 1j, Y_GOOD, InvalidInputError, ["Complex", "real"]),
    (X_GOOD[:, 0], Y_GOOD, InvalidInputError, ["1D", "reshape"]),
    (X_GOOD.reshape(12, 3, 1), Y_GOOD, InvalidInputError, ["dim 3", "reshape"]),
    (X_GOOD, Y_GOOD[:11], InvalidInputError, ["inconsistent", r"\[12, 11\]", "one label"]),
    (X_GOOD, np.zeros(12), InvalidInputError, ["one class only", "two classes"]),
    (X_GOOD, np.array(["a"] * 11 + [None], dtype=object), InvalidInputError,
     ["Unknown label type", "no None"]),
    (np.empty((0, 3)), np.empty(0), InvalidInputError, ["0 sample", "at least one"]),
    (np.full((12, 3), {}, dtype=object), Y_GOOD, InvalidTypeError, ["dict", "numbers only"]),
])
def test_bad_input_to_fit(X, y, error, fragments):
    with pytest.raises(error) as raised:
        LogisticRegression(num_iterations=5).fit(X, y)
    assert isinstance(raised.value, LogregError)
    for fragment in fragments:
        assert __import__("re").search(fragment, str(raised.value)), fragment
    assert "\n" not in str(raised.value)


def test_wrong_number_of_features_at_predict():
    clf = LogisticRegression(num_iterations=5).fit(X_GOOD, Y_GOOD)
    with pytest.raises(InvalidInputError, match="X has 2 features, but LogisticRegression is "
                                                "expecting 3 features.*same features"):
        clf.predict(X_GOOD[:, :2])


def test_unfitted():
    with pytest.raises(NotFittedError, match="not fitted.*fit"):
        LogisticRegression().predict(X_GOOD)


@pytest.mark.parametrize("params", [
    {"learning_rate": -1}, {"learning_rate": "fast"}, {"learning_rate": float("inf")},
    {"num_iterations": 0}, {"num_iterations": 2.5}, {"tol": -1}, {"tol": float("nan")},
    {"l2": float("nan")}, {"l2": -0.5}, {"solver": "adam"}, {"on_divergence": "ignore"},
    {"verbose": "yes"}, {"verbose": -1}, {"warm_start": "no"}, {"dtype": "float16"},
    {"implementation": "gpu"}, {"backprop": "autograd"}, {"n_threads": 0},
    {"n_threads": 1.5},
])
def test_bad_parameters(params):
    """scikit-learn's parameter validation (_parameter_constraints), as logreg's error: it
    names the parameter, the value and what is accepted, and is scikit-learn's type too."""
    from sklearn.utils._param_validation import InvalidParameterError

    (name, value), = params.items()
    with pytest.raises(InvalidInputError, match=f"The '{name}' parameter of LogisticRegression "
                                                f"must be .* Got .* instead") as caught:
        LogisticRegression(**params).fit(X_GOOD, Y_GOOD)
    assert isinstance(caught.value, InvalidParameterError)
    assert repr(value)[:4] in str(caught.value) or str(value)[:4] in str(caught.value)


def test_minimum_scikit_learn_has_the_parameter_validation_we_use():
    """The one private import (scikit-learn's parameter constraints) is in every release from
    the minimum that pyproject.toml asks for; the installed one is at least that."""
    import importlib.metadata
    import re
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    minimum, = [re.search(r">=([\d.]+)", d).group(1)
                for d in pyproject["project"]["dependencies"] if d.startswith("scikit-learn")]
    installed = importlib.metadata.version("scikit-learn")
    as_tuple = lambda v: tuple(int(p) for p in v.split(".")[:2])  # noqa: E731
    assert as_tuple(installed) >= as_tuple(minimum) >= (1, 6)  # validate_data: 1.6
    from sklearn.utils._param_validation import Interval, Options, StrOptions  # noqa: F401


# --- model files ---------------------------------------------------------------------------

def test_save_load_round_trip(tmp_path, two_features):
    X, y = two_features
    labels = np.array(["malignant", "benign"])[y]
    clf = LogisticRegression(num_iterations=300).fit(X, labels)
    clf.save(tmp_path / "model.safetensors")
    back = logreg.load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(back.classes_, clf.classes_)
    assert back.costs_ == clf.costs_ and back.n_iter_ == 300


def test_loading_a_pickle_never_runs_it(tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(logreg.errors.ModelFileError, match="not a (readable )?model file"):
        logreg.load(path)
    assert not marker.exists()
