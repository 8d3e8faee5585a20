"""The notes' three gradient-descent steps (``logreg.engines.loop``) give the same numbers.

Truth is ``neuron``'s vectorised step, itself checked against the exercise elsewhere; here the
loops must agree with it to the last few digits, on random data of several shapes (one feature,
one example included), over several steps, with sample weights and L2, and through the command.
"""

import contextlib
import io

import numpy as np
import pytest

from logreg.engines import loop
from logreg.core import neuron
from logreg.apps.cli import main
from logreg.model.estimator import load

STEPS = {"loops": loop.step_loops, "semi": loop.step_semi, "vectorized": loop.step_vectorized}
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


def parameters(w, b):
    return np.append(np.ravel(w), float(b))


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


@pytest.mark.parametrize("name", ["loop", "semi"])
@pytest.mark.parametrize("n_x, m", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_loss_and_gradient_equals_neuron(name, n_x, m, weighted, l2):
    w, b, X, Y = random_problem(n_x, m, seed=n_x * 100 + m)
    sample_weight = (np.random.default_rng(3).uniform(0.1, 3.0, size=(1, m))
                     if weighted else None)
    cost, dw, db = loop.IMPLEMENTATIONS[name](w, b, X, Y, sample_weight, l2)
    cost_v, dw_v, db_v = neuron.loss_and_gradient(w, b, X, Y, sample_weight, l2)
    assert dw.shape == (n_x, 1)
    assert relative_difference(cost, cost_v) < 1e-12
    assert relative_difference(parameters(dw, db), parameters(dw_v, db_v)) < 1e-12


def test_implementations_name_the_three():
    assert set(loop.IMPLEMENTATIONS) == {"loop", "semi", "vectorized"}
    assert loop.IMPLEMENTATIONS["vectorized"] is neuron.loss_and_gradient


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
