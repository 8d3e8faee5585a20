"""Logistic regression trained on gradients from the computation graph, and `logreg graph`."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

import logreg
from logreg import graph
from logreg.core import neuron
from logreg.apps.cli import main


def random_problem(n_x=6, m=25, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n_x, 1)), float(rng.normal()), rng.normal(size=(n_x, m)),
            (rng.random((1, m)) < 0.5).astype(float), rng.uniform(0.1, 2.0, size=(1, m)))


@pytest.mark.parametrize("weighted, l2", [(False, 0.0), (True, 0.0), (False, 0.5), (True, 2.0)])
def test_graph_gradients_equal_the_closed_form(weighted, l2):
    w, b, X, Y, s = random_problem()
    s = s if weighted else None
    closed = neuron.loss_and_gradient(w, b, X, Y, s, l2)
    backprop = graph.loss_and_gradient(w, b, X, Y, s, l2)
    assert backprop[0] == pytest.approx(closed[0], rel=1e-12)
    np.testing.assert_allclose(backprop[1], closed[1], rtol=1e-10)
    assert backprop[2] == pytest.approx(closed[2], rel=1e-10)


def test_gradient_at_Z_is_A_minus_Y_over_m():
    w, b, X, Y, _ = random_problem()
    J, Z = graph.logistic_cost(graph.Value(w), graph.Value(b), X, Y)
    J.backward()
    A = 1 / (1 + np.exp(-(w.T @ X + b)))
    np.testing.assert_allclose(Z.grad * X.shape[1], A - Y, rtol=1e-12)


def test_estimator_trained_through_the_graph_reaches_the_same_model():
    data = load_breast_cancer()
    X, y = StandardScaler().fit_transform(data.data[:, :5]), data.target
    closed = logreg.LogisticRegression(num_iterations=500).fit(X, y)
    backprop = logreg.LogisticRegression(num_iterations=500, backprop="graph").fit(X, y)
    np.testing.assert_allclose(backprop.coef_, closed.coef_, rtol=1e-10)
    assert backprop.intercept_[0] == pytest.approx(closed.intercept_[0], rel=1e-10)
    np.testing.assert_allclose(backprop.costs_, closed.costs_, rtol=1e-12)


def test_estimator_trained_through_the_graph_in_float32_stays_float32():
    data = load_breast_cancer()
    X, y = StandardScaler().fit_transform(data.data[:, :5]), data.target
    closed = logreg.LogisticRegression(num_iterations=200, dtype="float32").fit(X, y)
    backprop = logreg.LogisticRegression(num_iterations=200, dtype="float32",
                                         backprop="graph").fit(X, y)
    assert backprop.coef_.dtype == np.float32
    np.testing.assert_allclose(backprop.coef_, closed.coef_, rtol=1e-4, atol=1e-6)


def test_train_command_with_graph_backprop(tmp_path):
    for backprop in ("closed-form", "graph"):
        assert main(["train", "--quiet", "--iterations", "300", "--backprop", backprop,
                     "--out", str(tmp_path / backprop)]) == 0
    closed = logreg.load(tmp_path / "closed-form" / "model.safetensors")
    backprop = logreg.load(tmp_path / "graph" / "model.safetensors")
    np.testing.assert_allclose(backprop.coef_, closed.coef_, rtol=1e-10)
    assert backprop.metadata_["training"]["backprop"] == "graph"


# --- the command -------------------------------------------------------------------------

def test_graph_command_prints_the_notes_values(capsys):
    assert main(["graph", "u = b*c; v = a + u; J = 3*v", "a=5", "b=3", "c=2"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[1:]}
    expected = {"a": (5, 3), "b": (3, 6), "c": (2, 9), "u": (6, 3), "v": (11, 3), "J": (33, 1)}
    assert {name: tuple(float(x) for x in row) for name, row in rows.items()} == expected


def test_graph_command_json(capsys):
    assert main(["graph", "J = 3*(a + b*c)", "a=5", "b=3", "c=2", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["output"] == "J"
    assert record["values"] == {"a": 5.0, "b": 3.0, "c": 2.0, "J": 33.0}
    assert record["gradients"] == {"a": 3.0, "b": 6.0, "c": 9.0, "J": 1.0}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<svg"), (".png", b"\x89PNG")])
def test_graph_command_draws(tmp_path, suffix, magic):
    picture = tmp_path / ("graph" + suffix)
    assert main(["graph", "J = 3*(a + b*c)", "a=5", "b=3", "c=2", "-o", str(picture)]) == 0
    assert magic in picture.read_bytes()[:400]


def test_graph_command_without_dot_writes_the_dot_file(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no dot on this PATH
    result = subprocess.run(
        [sys.executable, "-m", "logreg", "graph", "J = 3*(a + b*c)", "a=5", "b=3", "c=2",
         "-o", str(tmp_path / "graph.svg")], capture_output=True, text=True, env=env)
    assert result.returncode == 0
    assert "dot -Tsvg" in result.stderr and "graph.dot" in result.stderr
    assert "digraph" in (tmp_path / "graph.dot").read_text()
    assert not (tmp_path / "graph.svg").exists()


@pytest.mark.parametrize("expression", [
    "J = a.b", "J = a[0]", "J = print(a)", "J = (lambda: 1)()", "import os",
    "J = __import__('os').system('touch pwned')", "J = 'text'", "J = a < b"])
def test_graph_command_refuses_anything_else(tmp_path, expression, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["graph", expression, "a=1", "b=2"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "refused" in err
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("values, fragment", [
    (["a=5"], "no value for 'b'"), (["a=5", "b=1", "z=3"], "'z'"), (["a=x", "b=1"], "NAME=NUMBER")])
def test_graph_command_refuses_bad_values(values, fragment, capsys):
    assert main(["graph", "J = a*b", *values]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and fragment in err
