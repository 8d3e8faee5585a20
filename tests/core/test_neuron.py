"""The notes' neuron against independent truth: the exercise's figures, finite differences,
scikit-learn's solution of the same convex problem, and the cat data's published accuracies."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

from logreg.core import neuron
from logreg.data import image_scaling, load_h5
from logreg.errors import InvalidInputError, LogregError


def random_problem(n_x=5, m=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    w = rng.normal(size=(n_x, 1))
    return w, float(rng.normal()), X, Y


def cost_by_definition(w, b, X, Y):
    """J = −(1/m) Σ [y log a + (1 − y) log(1 − a)], written the notes' way (errata's sign)."""
    A = 1 / (1 + np.exp(-(w.T @ X + b)))
    return -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))


# --- sigmoid -------------------------------------------------------------------------------

def test_sigmoid_values_and_limits():
    assert neuron.sigmoid(0) == 0.5
    assert neuron.sigmoid(2.0) == pytest.approx(1 / (1 + np.exp(-2.0)), rel=1e-15)
    z = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow would warn: turn any warning into a failure
        a = neuron.sigmoid(z)
    assert a[0] == 0.0 and a[-1] == 1.0 and a[2] == 0.5
    assert np.all(np.diff(a) >= 0)


def test_sigmoid_keeps_shape_and_dtype():
    z = np.zeros((3, 4), dtype=np.float32)
    assert neuron.sigmoid(z).shape == (3, 4)
    assert neuron.sigmoid(z).dtype == np.float32


# --- the exercise's published checks ----------------------------------------------------------

EXERCISE_W = np.array([[1.0], [2.0]])
EXERCISE_X = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
EXERCISE_Y = np.array([[1, 0, 1]])


def test_initialize_with_zeros():
    w, b = neuron.initialize_with_zeros(2)
    assert w.shape == (2, 1) and not w.any()
    assert b == 0.0 and isinstance(b, float)


def test_propagate_matches_the_exercise():
    grads, cost = neuron.propagate(EXERCISE_W, 2.0, EXERCISE_X, EXERCISE_Y)
    np.testing.assert_allclose(grads["dw"], [[0.99845601], [2.39507239]], rtol=1e-7)
    assert grads["db"] == pytest.approx(0.00145557813678, rel=1e-9)
    assert cost == pytest.approx(5.801545319394553, rel=1e-12)
    assert grads["dw"].shape == (2, 1)
    assert isinstance(grads["db"], float) and np.shape(cost) == ()


def test_optimize_matches_the_exercise():
    params, grads, costs = neuron.optimize(EXERCISE_W, 2.0, EXERCISE_X, EXERCISE_Y,
                                           num_iterations=100, learning_rate=0.009)
    np.testing.assert_allclose(params["w"], [[0.19033591], [0.12259159]], rtol=1e-7)
    assert params["b"] == pytest.approx(1.92535983008, rel=1e-9)
    np.testing.assert_allclose(grads["dw"], [[0.67752042], [1.41625495]], rtol=1e-7)
    assert grads["db"] == pytest.approx(0.219194504541, rel=1e-9)
    assert costs == [pytest.approx(5.801545319394553)]  # one entry: iteration 0


def test_optimize_records_every_100_and_prints_like_the_exercise(capsys):
    w, b, X, Y = random_problem()
    _, _, costs = neuron.optimize(np.zeros((5, 1)), 0.0, X, Y, num_iterations=301,
                                  learning_rate=0.1, print_cost=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(costs) == 4
    assert lines[0] == "Cost after iteration 0: 0.693147"
    assert [line.split(":")[0] for line in lines] == [
        f"Cost after iteration {i}" for i in (0, 100, 200, 300)]
    assert costs[0] == pytest.approx(np.log(2))
    assert costs == sorted(costs, reverse=True)  # a small step only lowers a convex cost


def test_predict_matches_the_exercise():
    w = np.array([[0.1124579], [0.23106775]])
    X = np.array([[1.0, -1.1, -3.2], [1.2, 2.0, 0.1]])
    Y_prediction = neuron.predict(w, -0.3, X)
    np.testing.assert_array_equal(Y_prediction, [[1.0, 1.0, 0.0]])
    assert Y_prediction.shape == (1, 3)


# --- gradients against finite differences --------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_gradients_equal_central_differences(seed):
    w, b, X, Y = random_problem(seed=seed)
    grads, cost = neuron.propagate(w, b, X, Y)
    assert cost == pytest.approx(cost_by_definition(w, b, X, Y), rel=1e-12)
    eps = 1e-6
    numeric = np.zeros_like(w)
    for j in range(w.shape[0]):
        step = np.zeros_like(w)
        step[j] = eps
        numeric[j] = (cost_by_definition(w + step, b, X, Y)
                      - cost_by_definition(w - step, b, X, Y)) / (2 * eps)
    numeric_db = (cost_by_definition(w, b + eps, X, Y)
                  - cost_by_definition(w, b - eps, X, Y)) / (2 * eps)
    np.testing.assert_allclose(grads["dw"], numeric, rtol=1e-7)
    assert grads["db"] == pytest.approx(numeric_db, rel=1e-7)


@pytest.mark.parametrize("y", [0.0, 1.0])
@pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 0.7, 4.0])
def test_dL_dz_is_a_minus_y(z, y):
    """The quiz answer: dL/dz = a − y, by central differences of L(σ(z), y)."""
    def loss(z):
        a = 1 / (1 + np.exp(-z))
        return -(y * np.log(a) + (1 - y) * np.log(1 - a))

    numeric = (loss(z + 1e-6) - loss(z - 1e-6)) / 2e-6
    a = 1 / (1 + np.exp(-z))
    assert numeric == pytest.approx(a - y, abs=1e-8)
    # one example, X = identity feature 1: dz equals db of propagate
    grads, _ = neuron.propagate(np.array([[1.0]]), 0.0, np.array([[z]]), np.array([[y]]))
    assert grads["db"] == pytest.approx(a - y, rel=1e-12, abs=1e-15)


def test_cost_is_finite_where_the_model_is_certain_and_wrong():
    X = np.array([[1.0, -1.0]])
    Y = np.array([[0.0, 1.0]])
    w = np.array([[1000.0]])  # z = ±1000: σ rounds to exactly 1 and 0, log would give inf
    grads, cost = neuron.propagate(w, 0.0, X, Y)
    assert np.isfinite(cost) and cost == pytest.approx(1000.0)
    np.testing.assert_allclose(grads["dw"], [[1.0]])  # dZ = [1, -1]: dw = (1·1 + (−1)(−1))/2


def test_weighted_cost_equals_duplicated_examples():
    w, b, X, Y = random_problem(m=6)
    weights = np.array([[1.0, 2.0, 1.0, 3.0, 1.0, 1.0]])
    repeat = np.repeat(np.arange(6), weights.ravel().astype(int))
    cost, dw, db = neuron.loss_and_gradient(w, b, X, Y, sample_weight=weights)
    cost2, dw2, db2 = neuron.loss_and_gradient(w, b, X[:, repeat], Y[:, repeat])
    assert cost == pytest.approx(cost2, rel=1e-12)
    np.testing.assert_allclose(dw, dw2, rtol=1e-12)
    assert db == pytest.approx(db2, rel=1e-12)


def test_l2_term_against_finite_differences():
    w, b, X, Y = random_problem(m=30)
    lam, m = 0.7, 30

    def cost(w):
        return cost_by_definition(w, b, X, Y) + lam / (2 * m) * np.sum(w * w)

    J, dw, _ = neuron.loss_and_gradient(w, b, X, Y, l2=lam)
    assert J == pytest.approx(cost(w), rel=1e-12)
    numeric = np.array([[(cost(w + e) - cost(w - e)) / 2e-6]
                        for e in np.eye(5)[:, :, None] * 1e-6])
    np.testing.assert_allclose(dw, numeric.reshape(5, 1), rtol=1e-7)


# --- convergence to the one minimum of a convex cost ----------------------------------------

def test_gradient_descent_reaches_scikit_learns_minimum():
    """Breast cancer's first two features, standardised: not separable, so one finite optimum."""
    data = load_breast_cancer()
    X = StandardScaler().fit_transform(data.data[:, :2])
    y = data.target
    sk = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    w, b = neuron.initialize_with_zeros(2)
    params, _, _ = neuron.optimize(w, b, X.T, y.reshape(1, -1), num_iterations=5000,
                                   learning_rate=1.0)
    np.testing.assert_allclose(params["w"].ravel(), sk.coef_.ravel(), rtol=1e-6)
    assert params["b"] == pytest.approx(sk.intercept_[0], rel=1e-6)


# --- the exercise's recipe on its own data ------------------------------------------------

def test_cat_recipe_reproduces_the_published_accuracies(catvnoncat, capsys):
    train = load_h5(catvnoncat / "train_catvnoncat.h5")
    test = load_h5(catvnoncat / "test_catvnoncat.h5")
    scale = image_scaling()
    d = neuron.model(scale.apply(train.X), train.Y, scale.apply(test.X), test.Y,
                     num_iterations=2000, learning_rate=0.005, print_cost=True)
    out = capsys.readouterr().out
    assert "Cost after iteration 0: 0.693147" in out
    assert "train accuracy: 99.04306220095694 %" in out
    assert "test accuracy: 70.0 %" in out
    assert neuron.accuracy(d["Y_prediction_train"], train.Y) == 99.04306220095694
    assert neuron.accuracy(d["Y_prediction_test"], test.Y) == 70.0
    assert len(d["costs"]) == 20 and d["num_iterations"] == 2000
    assert set(d) == {"costs", "Y_prediction_test", "Y_prediction_train", "w", "b",
                      "learning_rate", "num_iterations"}


def test_cat_layout_bug_is_caught(catvnoncat):
    """reshape(12288, m) mixes images within columns: the README's 91.39 % / 34 % result."""
    import h5py

    with h5py.File(catvnoncat / "train_catvnoncat.h5") as f:
        x, y = f["train_set_x"][()], f["train_set_y"][()].reshape(1, -1)
    with h5py.File(catvnoncat / "test_catvnoncat.h5") as f:
        xt, yt = f["test_set_x"][()], f["test_set_y"][()].reshape(1, -1)
    wrong = neuron.model(x.reshape(12288, -1) / 255, y, xt.reshape(12288, -1) / 255, yt,
                         num_iterations=2000, learning_rate=0.005)
    assert round(neuron.accuracy(wrong["Y_prediction_train"], y), 2) == 91.39
    assert round(neuron.accuracy(wrong["Y_prediction_test"], yt)) == 34


# --- the exercise's functions check their inputs once -------------------------------------

@pytest.mark.parametrize("X, Y, fragment", [
    (np.ones(3), np.ones((1, 3)), "rank-1"),
    (np.ones((2, 3)), np.array([[0, 1]]), "2 labels but X has 3 examples"),
    (np.array([[np.nan, 1.0, 2.0]]), np.array([[0, 1, 0]]), "nan"),
    (np.ones((2, 3)), np.array([[0, 1, 2]]), "expected 0 and 1"),
])
def test_model_refuses_bad_input(X, Y, fragment):
    with pytest.raises(LogregError, match=fragment):
        neuron.model(X, Y, X, Y, num_iterations=1)


def test_model_refuses_one_class():
    X = np.ones((2, 3))
    with pytest.raises(InvalidInputError, match="one class only"):
        neuron.model(X, np.ones((1, 3)), X, np.ones((1, 3)), num_iterations=1)
