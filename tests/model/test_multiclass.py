"""A layer of K neurons (softmax) in the estimator, against scikit-learn's solution of the same
convex problem, finite differences and the notes' binary neuron."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

from logreg import LogisticRegression
from logreg.core import neuron
from logreg.errors import InvalidInputError, InvalidParameterError

DATASETS = {"iris": load_iris, "wine": load_wine, "digits": load_digits}


def standardised(name):
    X, y = DATASETS[name](return_X_y=True)
    return StandardScaler().fit_transform(X), y


def sklearn_fit(X, y, C=1.0, **settings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning at tol=1e-12 is harmless
        return SkLogisticRegression(C=C, tol=1e-12, max_iter=20000, **settings).fit(X, y)


def ours_fit(X, y, C=1.0, **settings):
    return LogisticRegression(solver="lbfgs", l2=1 / C, tol=1e-10, num_iterations=20000,
                              **settings).fit(X, y)


EQUALITY_CASES = [("iris", 1.0), ("iris", 0.1), ("wine", 1.0), ("wine", 0.1),
                  ("digits", 0.1), ("digits", 0.01)]


@pytest.mark.parametrize("name, C", EQUALITY_CASES, ids=[f"{n}-C{c:g}" for n, c in
                                                          EQUALITY_CASES])
def test_equals_sklearn_multinomial(name, C):
    """With l2 = 1/C, the same minimum as scikit-learn's multinomial L-BFGS, to 1e-6.

    Digits at C = 1 is left out: there the cost is so flat along some directions that both
    L-BFGS runs stop (their relative-decrease test, at machine precision) about 1e-5 from the
    minimum — each as far from the true minimum (found to a gradient of 6e-11) as from the
    other — so no solver's answer can be the truth at 1e-6 there."""
    X, y = standardised(name)
    ours, theirs = ours_fit(X, y, C), sklearn_fit(X, y, C)
    assert ours.coef_.shape == theirs.coef_.shape == (len(np.unique(y)), X.shape[1])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)


@pytest.mark.parametrize("settings", [{"fit_intercept": False}, {"class_weight": "balanced"},
                                      {"class_weight": {0: 1.0, 1: 3.0, 2: 0.5}}],
                         ids=["no-intercept", "balanced", "dict"])
def test_settings_equal_sklearn(settings):
    X, y = standardised("wine")
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.2, 2.0, len(y))
    ours = LogisticRegression(solver="lbfgs", l2=1.0, tol=1e-10, num_iterations=20000,
                              **settings).fit(X, y, sample_weight=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SkLogisticRegression(tol=1e-12, max_iter=20000, **settings).fit(
            X, y, sample_weight=weights)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6, rtol=0)
    if not settings.get("fit_intercept", True):
        assert not ours.intercept_.any()


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_binary_equals_sklearn_and_keeps_one_row(fit_intercept):
    X, y = standardised("iris")
    y = (y == 2).astype(int)
    ours = ours_fit(X, y, 1.0, fit_intercept=fit_intercept)
    theirs = sklearn_fit(X, y, 1.0, fit_intercept=fit_intercept)
    assert ours.coef_.shape == (1, 4) and ours.intercept_.shape == (1,)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6, rtol=0)


def test_gradient_descent_without_intercept_keeps_b_zero_and_lowers_the_cost():
    X, y = standardised("iris")
    model = LogisticRegression(num_iterations=300, fit_intercept=False).fit(X, y)
    assert not model.intercept_.any()
    assert model.costs_[-1] < model.costs_[0] == pytest.approx(np.log(3))
    # the same steps by hand: W := W − α dW with b held at 0
    W, b, Y = np.zeros((4, 3)), np.zeros((3, 1)), (np.arange(3)[:, None] == y).astype(float)
    for _ in range(300):
        _, dW, _ = neuron.loss_and_gradient(W, b, X.T, Y)
        W = W - model.learning_rate_ * dW
    np.testing.assert_allclose(model.coef_, W.T, rtol=1e-10, atol=1e-12)


def test_probabilities_logs_and_decisions_are_consistent():
    X, y = standardised("digits")
    model = LogisticRegression(num_iterations=100).fit(X, y)
    Z = model.decision_function(X)
    P = model.predict_proba(X)
    assert Z.shape == P.shape == (len(X), 10)
    # softmax by hand: e^{z_k} / Σ_j e^{z_j}
    np.testing.assert_allclose(P, np.exp(Z - logsumexp(Z, axis=1, keepdims=True)), rtol=1e-12)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(P), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(P, axis=1)])
    np.testing.assert_allclose(Z, X @ model.coef_.T + model.intercept_, rtol=1e-12)


def test_log_proba_finite_where_probabilities_round_to_zero():
    X, y = standardised("iris")
    model = ours_fit(X, y, 1e6)
    far = X[:3] * 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logs = model.predict_log_proba(far)
    assert np.isfinite(logs).all() and (logs.min() < -1000)
    binary = ours_fit(X, (y == 0).astype(int), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logs = binary.predict_log_proba(far)
    assert np.isfinite(logs).all()
    np.testing.assert_allclose(np.exp(logs).sum(axis=1), 1.0)


def test_string_labels_and_their_order():
    X, y = standardised("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model = LogisticRegression(num_iterations=200).fit(X, names)
    np.testing.assert_array_equal(model.classes_, ["setosa", "versicolor", "virginica"])
    assert model.score(X, names) > 0.9
    assert set(model.predict(X)) <= set(model.classes_)


def test_binary_stays_the_notes_neuron():
    """Two classes: one w, σ, the notes' numbers; the probabilities [1 − ŷ, ŷ]."""
    X, y = standardised("wine")
    keep = y < 2
    X, y = X[keep], y[keep]
    model = LogisticRegression(num_iterations=50).fit(X, y)
    w, b = np.zeros((X.shape[1], 1)), 0.0
    for _ in range(50):
        w, b, _ = neuron.gradient_step(w, b, X.T, y.reshape(1, -1).astype(float),
                                       model.learning_rate_)
    np.testing.assert_array_equal(model.coef_, w.T)
    np.testing.assert_array_equal(model.intercept_, [b])
    a = neuron.sigmoid(X @ w + b).ravel()
    np.testing.assert_array_equal(model.predict_proba(X), np.stack([1 - a, a], axis=1))
    assert model.decision_function(X).shape == (len(X),)


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("classes", [2, 3])
def test_sparse_equals_dense(solver, dtype, fmt, classes):
    rng = np.random.default_rng(1)
    dense = rng.normal(size=(200, 30)) * (rng.uniform(size=(200, 30)) < 0.2)
    dense[:, 3] = 0.0  # an all-zero column
    dense[5] = 0.0  # an all-zero row
    y = rng.integers(0, classes, 200)
    settings = dict(solver=solver, num_iterations=60, l2=0.5, dtype=dtype)
    sparse = LogisticRegression(**settings).fit(sp.coo_matrix(dense).asformat(fmt), y)
    plain = LogisticRegression(**settings).fit(dense, y)
    # float32: each gradient differs in its last bits (another summation order); gradient
    # descent's steps stay within 2e-5, L-BFGS's line searches let them drift to ~3e-4
    tolerance = 1e-10 if dtype == "float64" else 2e-5 if solver == "gd" else 1e-3
    np.testing.assert_allclose(sparse.coef_, plain.coef_, atol=tolerance, rtol=tolerance)
    np.testing.assert_allclose(sparse.intercept_, plain.intercept_, atol=tolerance,
                               rtol=tolerance)
    sparse_X = sp.csr_array(dense)
    np.testing.assert_allclose(sparse.predict_proba(sparse_X), plain.predict_proba(dense),
                               atol=tolerance)
    np.testing.assert_array_equal(sparse.predict(sparse_X), sparse.predict(dense))


def test_sparse_is_never_densified():
    """10⁶ features of which a few are used: dense, X would be 16 GB."""
    rng = np.random.default_rng(2)
    m, n = 2000, 10**6
    rows = np.repeat(np.arange(m), 5)
    cols = rng.integers(0, n, m * 5)
    X = sp.csr_matrix((rng.normal(size=m * 5), (rows, cols)), shape=(m, n))
    y = rng.integers(0, 3, m)
    model = LogisticRegression(solver="lbfgs", num_iterations=20, tol=1e-3, l2=1.0).fit(X, y)
    assert model.coef_.shape == (3, n)
    assert model.predict_proba(X).shape == (m, 3)


def test_warm_start_continues_a_layer():
    X, y = standardised("iris")
    model = LogisticRegression(num_iterations=50, warm_start=True).fit(X, y)
    first = model.costs_[-1]
    model.fit(X, y)
    assert model.costs_[0] <= first + 1e-12


@pytest.mark.parametrize("class_weight, fragment", [
    ({"x": 1.0}, "class_weight"), ({0: -1.0, 1: 1.0, 2: 1.0}, "negative"),
    ({0: 0.0, 1: 0.0, 2: 0.0}, "weight zero"),
], ids=["unknown-class", "negative", "all-zero"])
def test_bad_class_weight_is_named(class_weight, fragment):
    X, y = standardised("iris")
    with pytest.raises(InvalidInputError, match=fragment):
        LogisticRegression(num_iterations=5, class_weight=class_weight).fit(X, y)


def test_bad_settings_named():
    X, y = standardised("iris")
    with pytest.raises(InvalidParameterError, match="class_weight"):
        LogisticRegression(class_weight="heavy").fit(X, y)
    with pytest.raises(InvalidParameterError, match="fit_intercept"):
        LogisticRegression(fit_intercept="yes").fit(X, y)


def test_softmax_cost_by_hand_and_by_finite_differences():
    rng = np.random.default_rng(3)
    X, W, b = rng.normal(size=(4, 9)), rng.normal(size=(4, 3)), rng.normal(size=(3, 1))
    y = rng.integers(0, 3, 9)
    Y = (np.arange(3)[:, None] == y).astype(float)
    cost, dW, db = neuron.loss_and_gradient(W, b, X, Y, l2=0.3)
    Z = W.T @ X + b
    # J = (1/m) Σ (log Σ_j e^{z_j} − z_y) + λ/(2m)‖W‖²
    by_hand = np.mean(logsumexp(Z, axis=0) - Z[y, np.arange(9)]) + 0.3 / 18 * np.sum(W * W)
    assert cost == pytest.approx(by_hand, rel=1e-14)
    step = 1e-6
    for (i, k) in [(0, 0), (2, 1), (3, 2)]:
        Wp, Wm = W.copy(), W.copy()
        Wp[i, k] += step
        Wm[i, k] -= step
        numeric = (neuron.loss_and_gradient(Wp, b, X, Y, l2=0.3)[0]
                   - neuron.loss_and_gradient(Wm, b, X, Y, l2=0.3)[0]) / (2 * step)
        assert dW[i, k] == pytest.approx(numeric, abs=1e-8)
    for k in range(3):
        bp, bm = b.copy(), b.copy()
        bp[k] += step
        bm[k] -= step
        numeric = (neuron.loss_and_gradient(W, bp, X, Y, l2=0.3)[0]
                   - neuron.loss_and_gradient(W, bm, X, Y, l2=0.3)[0]) / (2 * step)
        assert db[k, 0] == pytest.approx(numeric, abs=1e-8)


def test_softmax_cost_is_finite_for_huge_z_without_warnings():
    Z = np.array([[1e300, -1e300, 0.0], [-1e300, 1e300, 0.0], [0.0, 0.0, 1e300]])
    Y = np.eye(3)[:, [1, 1, 2]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost = neuron.softmax_cost_from_z(Z, Y)
        A = neuron.softmax(Z)
    assert np.isfinite(cost) and cost == pytest.approx(2e300 / 3)
    np.testing.assert_allclose(A.sum(axis=0), 1.0)


def test_auto_learning_rate_lowers_the_cost_at_every_step_of_a_layer():
    """α = 1/L with the softmax's curvature (≤ 1/2): every step lowers J, scaled or not."""
    X, y = load_digits(return_X_y=True)  # pixels 0..16, unscaled
    for fit_intercept in (True, False):
        model = LogisticRegression(num_iterations=200, fit_intercept=fit_intercept).fit(X, y)
        assert np.all(np.diff(model.costs_) < 0)


@pytest.mark.parametrize("seed", range(5))
def test_auto_learning_rate_bounds_the_softmax_curvature(seed):
    """L from power iteration bounds the largest second derivative along random directions
    (a finite-difference check of the smoothness constant the step size relies on)."""
    from logreg.solvers import auto_learning_rate

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, 40)) * rng.uniform(0.1, 10, size=(6, 1))
    Y = (np.arange(4)[:, None] == rng.integers(0, 4, 40)).astype(float)
    L = 1 / auto_learning_rate(X, outputs=4)
    W, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 1))
    for _ in range(20):
        dW, db = rng.normal(size=W.shape), rng.normal(size=b.shape)
        norm = np.sqrt(np.sum(dW**2) + np.sum(db**2))
        dW, db = dW / norm, db / norm
        h = 1e-4
        g = [neuron.loss_and_gradient(W + t * dW, b + t * db, X, Y)[0] for t in (-h, 0, h)]
        assert (g[0] - 2 * g[1] + g[2]) / h**2 <= L * (1 + 1e-4)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), K=st.integers(2, 6), m=st.integers(6, 40), n=st.integers(1, 5),
       scale=st.sampled_from([1e-6, 1.0, 1e3]))
def test_any_labels_any_k_fit_and_predict(data, K, m, n, scale):
    """Any K ≥ 2 labels of any kind: fit never crashes, probabilities are rows summing to 1,
    and predict returns the class of the largest probability."""
    kind = data.draw(st.sampled_from(["int", "str", "float"]))
    labels = {"int": np.arange(K) * 7 - 3, "str": np.array([f"c{k}" for k in range(K)]),
              "float": np.arange(K) * 2.0 - 1}[kind]  # whole floats (0.5 is no class)
    index = np.concatenate([np.arange(K), data.draw(st.lists(st.integers(0, K - 1),
                                                            min_size=m, max_size=m))])
    y = labels[index]
    X = np.random.default_rng(m * n).normal(size=(len(y), n)) * scale
    model = LogisticRegression(num_iterations=20).fit(X, y)
    np.testing.assert_array_equal(model.classes_, np.unique(y))
    P = model.predict_proba(X)
    assert P.shape == (len(y), K) and np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(P, axis=1)])
    assert model.coef_.shape == ((1 if K == 2 else K), n)


@pytest.mark.parametrize("labels", [np.array([3, 5, 9]), np.array(["a", "b", "c"])],
                         ids=["ints", "strings"])
def test_save_and_load_a_layer(tmp_path, labels):
    import logreg

    X, y = standardised("iris")
    weights = {labels[0]: 2.0, labels[2]: 0.5}
    model = LogisticRegression(num_iterations=30, class_weight=weights,
                               fit_intercept=False).fit(X, labels[y])
    model.save(tmp_path / "m.safetensors")
    loaded = logreg.load(tmp_path / "m.safetensors")
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    np.testing.assert_array_equal(loaded.intercept_, model.intercept_)
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    loaded.fit(X, labels[y])  # the restored class_weight fits the same classes
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
