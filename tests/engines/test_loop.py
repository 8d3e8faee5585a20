"""The notes' three gradient-descent steps (``logreg.engines.loop``) give the same numbers.

Truth is ``neuron``'s vectorised step, itself checked against the exercise elsewhere; here the
loops must agree with it to the last few digits, on random data of several shapes (one feature,
one example included), over several steps, with sample weights and L2, and through the command.
For K classes (the softmax layer) the loops run over the classes too, dz_k = a_k − y_k, against
the same closed form and SciPy's log-sum-exp; a check that holds for both is one test over K.
"""

import contextlib
import io
import warnings

import numpy as np
import pytest
import scipy.special

from logreg.engines import loop
from logreg.core import neuron
from logreg.apps.cli import main
from logreg.model.estimator import load

STEPS = {"loops": loop.step_loops, "semi": loop.step_semi, "vectorized": loop.step_vectorized}
FUNCTIONS = {"loop": loop.loss_and_gradient_loops, "semi": loop.loss_and_gradient_semi}
SHAPES = [(1, 1), (1, 7), (5, 1), (3, 20), (17, 9)]


def relative_difference(a, b):
    """max|a − b| / max|b|: how far a is from b, relative to b's size."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


def random_problem(n_x, m, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    w = rng.normal(size=(n_x, 1))
    b = float(rng.normal())
    return w, b, X, Y


def random_layer(n_x, m, K, seed, dtype=np.float64):
    """W (n_x, K), b (K, 1), X (n_x, m) and one-hot Y (K, m)."""
    rng = np.random.default_rng(seed)
    Y = np.eye(K)[rng.integers(0, K, size=m)].T
    return (rng.normal(size=(n_x, K)).astype(dtype), rng.normal(size=(K, 1)).astype(dtype),
            rng.normal(size=(n_x, m)).astype(dtype), Y)


def random_classes(n_x, m, K, seed):
    """K = 2: the notes' single neuron (w (n_x, 1), b a number, Y (1, m) of 0/1); K ≥ 3: the
    softmax layer of ``random_layer``."""
    return random_problem(n_x, m, seed) if K == 2 else random_layer(n_x, m, K, seed)


def parameters(w, b):
    return np.append(np.ravel(w), np.ravel(b))


@pytest.mark.parametrize("n_x, m", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_one_step_agrees(n_x, m, seed):
    w, b, X, Y = random_problem(n_x, m, seed)
    results = {name: step(w.copy(), b, X, Y, 0.1) for name, step in STEPS.items()}
    new_w, new_b, (cost, dw, db) = results["vectorized"]
    for name in ("loops", "semi"):
        w_i, b_i, (cost_i, dw_i, db_i) = results[name]
        assert w_i.shape == (n_x, 1) and dw_i.shape == (n_x, 1), name
        assert relative_difference(parameters(w_i, b_i), parameters(new_w, new_b)) < 1e-12
        assert relative_difference(parameters(dw_i, db_i), parameters(dw, db)) < 1e-12
        assert relative_difference(cost_i, cost) < 1e-12


@pytest.mark.parametrize("n_x, m", [(1, 1), (4, 30), (12, 5)])
def test_several_steps_agree(n_x, m):
    start_w, start_b, X, Y = random_problem(n_x, m, seed=7)
    finals = {}
    for name, step in STEPS.items():
        w, b = start_w.copy(), start_b
        costs = []
        for _ in range(25):
            w, b, (cost, _, _) = step(w, b, X, Y, 0.5)
            costs.append(float(cost))
        finals[name] = parameters(w, b), costs
    truth, truth_costs = finals["vectorized"]
    assert truth_costs[-1] < truth_costs[0]  # it did learn something: not a trivial match
    for name in ("loops", "semi"):
        assert relative_difference(finals[name][0], truth) < 1e-12, name
        assert relative_difference(finals[name][1], truth_costs) < 1e-12, name


def test_steps_leave_their_inputs_alone():
    w, b, X, Y = random_problem(3, 4, seed=2)
    before = w.copy(), X.copy(), Y.copy()
    for step in STEPS.values():
        step(w, b, X, Y, 0.1)
    for kept, now in zip(before, (w, X, Y)):
        np.testing.assert_array_equal(kept, now)


@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("n_x, m", SHAPES, ids=[f"{n}x{m}" for n, m in SHAPES])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l2", [0.0, 0.7], ids=["l2=0", "l2=0.7"])
def test_loss_and_gradient_equals_neuron(K, name, n_x, m, weighted, l2):
    w, b, X, Y = random_classes(n_x, m, K, seed=n_x * 100 + m)
    sample_weight = (np.random.default_rng(3).uniform(0.1, 3.0, size=(1, m))
                     if weighted else None)
    cost, dw, db = loop.IMPLEMENTATIONS[name](w, b, X, Y, sample_weight, l2)
    cost_v, dw_v, db_v = neuron.loss_and_gradient(w, b, X, Y, sample_weight, l2)
    assert loop.IMPLEMENTATIONS[name] is FUNCTIONS[name]
    columns = 1 if K == 2 else K  # two classes: one neuron
    assert isinstance(cost, float)
    assert dw.shape == (n_x, columns) and np.shape(db) == ((K, 1) if K > 2 else ())
    assert relative_difference(cost, cost_v) < 1e-12
    assert relative_difference(parameters(dw, db), parameters(dw_v, db_v)) < 1e-12
    assert relative_difference(dw, dw_v) < 1e-12
    assert relative_difference(db, db_v) < 1e-12


def test_implementations_name_the_three():
    assert set(loop.IMPLEMENTATIONS) == {"loop", "semi", "vectorized"}
    assert loop.IMPLEMENTATIONS["vectorized"] is neuron.loss_and_gradient


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


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`logreg train --implementation X` on the default digits, a few steps each."""
    results = {}
    for implementation in ("vectorized", "semi", "loop"):
        out = tmp_path_factory.mktemp(implementation)
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
            code = main(["train", "--iterations", "4", "--implementation", implementation,
                         "--out", str(out)])
        assert code == 0, stdout.getvalue()
        model = load(out / "model.safetensors")
        results[implementation] = model.coef_, model.intercept_, model.metadata_, \
            stdout.getvalue()
    return results


@pytest.mark.parametrize("implementation", ["semi", "loop"])
def test_train_implementations_reach_the_same_model(trained, implementation):
    w, b, metadata, _ = trained[implementation]
    w_v, b_v, metadata_v, _ = trained["vectorized"]
    assert np.any(w_v != 0)
    np.testing.assert_allclose(w, w_v, rtol=1e-12, atol=0)
    np.testing.assert_allclose(b, b_v, rtol=1e-12, atol=0)
    np.testing.assert_allclose(metadata["training"]["costs"], metadata_v["training"]["costs"],
                               rtol=1e-12, atol=0)
    assert metadata["training"]["implementation"] == implementation


@pytest.mark.parametrize("implementation", ["semi", "loop"])
def test_train_says_loops_are_slow_on_purpose(trained, implementation):
    out = trained[implementation][3]
    assert f"Implementation {implementation!r}" in out
    assert "slow on purpose" in out
    assert "slow on purpose" not in trained["vectorized"][3]
