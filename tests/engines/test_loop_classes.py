"""The notes' loops (``logreg.engines.loop``) for K classes against the closed form
``logreg.core.neuron.loss_and_gradient`` and SciPy's log-sum-exp: a loop over the classes too,
dz_k = a_k − y_k, with and without sample weights and L2."""

import warnings

import numpy as np
import pytest
import scipy.special

from logreg.engines import loop
from logreg.core import neuron

FUNCTIONS = {"loop": loop.loss_and_gradient_loops, "semi": loop.loss_and_gradient_semi}
SHAPES = [(1, 1), (1, 7), (5, 1), (3, 20), (17, 9)]


def relative_difference(a, b):
    """max|a − b| / max|b|: how far a is from b, relative to b's size."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


def random_layer(n_x, m, K, seed, dtype=np.float64):
    """W (n_x, K), b (K, 1), X (n_x, m) and one-hot Y (K, m)."""
    rng = np.random.default_rng(seed)
    Y = np.eye(K)[rng.integers(0, K, size=m)].T
    return (rng.normal(size=(n_x, K)).astype(dtype), rng.normal(size=(K, 1)).astype(dtype),
            rng.normal(size=(n_x, m)).astype(dtype), Y)


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("n_x, m", SHAPES, ids=[f"{n}x{m}" for n, m in SHAPES])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l2", [0.0, 0.7], ids=["l2=0", "l2=0.7"])
def test_three_classes_equal_the_closed_form(name, n_x, m, weighted, l2):
    W, b, X, Y = random_layer(n_x, m, 3, seed=n_x * 100 + m)
    s = np.random.default_rng(3).uniform(0.1, 3.0, size=(1, m)) if weighted else None
    J, dW, db = FUNCTIONS[name](W, b, X, Y, s, l2)
    J_v, dW_v, db_v = neuron.loss_and_gradient(W, b, X, Y, s, l2)
    assert isinstance(J, float)
    assert dW.shape == (n_x, 3) and db.shape == (3, 1)
    assert relative_difference(J, J_v) < 1e-12
    assert relative_difference(dW, dW_v) < 1e-12
    assert relative_difference(db, db_v) < 1e-12


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("K", [2, 5, 10])
def test_other_numbers_of_classes_equal_the_closed_form(name, K):
    W, b, X, Y = random_layer(4, 30, K, seed=K)
    s = np.random.default_rng(4).uniform(0.1, 3.0, size=(1, 30))
    J, dW, db = FUNCTIONS[name](W, b, X, Y, s, 0.2)
    J_v, dW_v, db_v = neuron.loss_and_gradient(W, b, X, Y, s, 0.2)
    assert relative_difference(J, J_v) < 1e-12
    assert relative_difference(dW, dW_v) < 1e-12
    assert relative_difference(db, db_v) < 1e-12


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_float32_keeps_its_dtype_and_agrees(name):
    W, b, X, Y = random_layer(5, 12, 3, seed=5, dtype=np.float32)
    J, dW, db = FUNCTIONS[name](W, b, X, Y)
    J_v, dW_v, db_v = neuron.loss_and_gradient(W, b, X, Y)
    assert dW.dtype == np.float32 and db.dtype == np.float32
    assert relative_difference(J, J_v) < 1e-5
    assert relative_difference(dW, dW_v) < 1e-5
    assert relative_difference(db, db_v) < 1e-5


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_cost_is_the_mean_log_sum_exp_minus_the_true_class_z(name):
    # L = log Σ_j e^{z_j} − z_true, by SciPy's logsumexp
    W, b, X, Y = random_layer(3, 15, 4, seed=6)
    Z = W.T @ X + b
    expected = np.mean(scipy.special.logsumexp(Z, axis=0) - np.sum(Y * Z, axis=0))
    assert FUNCTIONS[name](W, b, X, Y)[0] == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_certain_and_wrong_is_finite_and_exact(name):
    # z = (1000, −1000, 0) for one example of class 1: L = 1000 − (−1000), no overflow
    W = np.array([[1000.0, -1000.0, 0.0]])
    X, Y, b = np.ones((1, 1)), np.array([[0.0], [1.0], [0.0]]), np.zeros((3, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, dW, db = FUNCTIONS[name](W, b, X, Y)
    assert J == 2000.0
    # dz = a − y = (1, −1, 0)
    np.testing.assert_array_equal(db.ravel(), [1.0, -1.0, 0.0])
    np.testing.assert_array_equal(dW, [[1.0, -1.0, 0.0]])


def test_step_loops_updates_every_column():
    W, b, X, Y = random_layer(4, 10, 3, seed=7)
    new_W, new_b, _ = loop.step_loops(W, b, X, Y, 0.3)
    step_W, step_b, _ = neuron.gradient_step(W, b, X, Y, 0.3)
    assert new_W.shape == (4, 3) and new_b.shape == (3, 1)
    assert relative_difference(new_W, step_W) < 1e-12
    assert relative_difference(new_b, step_b) < 1e-12


def test_several_semi_steps_learn_like_the_closed_form():
    W0, b0, X, Y = random_layer(3, 25, 4, seed=8)
    paths = {}
    for name, gradient in (("semi", loop.loss_and_gradient_semi), ("vectorized", None)):
        W, b, costs = W0.copy(), b0.copy(), []
        for _ in range(20):
            W, b, (cost, _, _) = neuron.gradient_step(W, b, X, Y, 0.5, gradient=gradient)
            costs.append(cost)
        paths[name] = W, b, costs
    assert paths["vectorized"][2][-1] < paths["vectorized"][2][0]  # it learned something
    for truth, semi in zip(paths["vectorized"], paths["semi"]):
        assert relative_difference(semi, truth) < 1e-12


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_loops_leave_their_inputs_alone(name):
    W, b, X, Y = random_layer(3, 6, 3, seed=9)
    before = [a.copy() for a in (W, b, X, Y)]
    FUNCTIONS[name](W, b, X, Y, np.ones((1, 6)), 0.5)
    for kept, now in zip(before, (W, b, X, Y)):
        np.testing.assert_array_equal(kept, now)
