"""The playground's sessions against independent truth: the notes' steps computed here with
logreg.core.neuron's formulas, scikit-learn's generators, finite differences, logreg.load."""

import ast
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_circles, make_moons

import logreg
from logreg.errors import InvalidInputError, TrainingDivergedError
from logreg.apps.playground import Session, feature_matrix
from logreg.apps.playground import datasets
from logreg.apps.playground.export import model_bytes, snippet
from logreg.apps.playground.features import check_features


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def independent_features(points, names):
    """The features written out again, one formula each."""
    x1, x2 = points[:, 0], points[:, 1]
    formulas = {"x1": x1, "x2": x2, "x1sq": x1 ** 2, "x2sq": x2 ** 2, "x1x2": x1 * x2,
                "sin1": np.sin(x1), "sin2": np.sin(x2)}
    return np.stack([formulas[name] for name in names], axis=1)


def standardised_train(session):
    """The session's training features standardised here from its raw points."""
    rows = independent_features(session.raw["train"], session.feature_names)
    std = rows.std(axis=0)
    return ((rows - rows.mean(axis=0)) / np.where(std > 0, std, 1.0)).T


# -- data and features -------------------------------------------------------------------------


def test_features_are_the_formulas_in_a_fixed_order():
    points = np.array([[0.5, -2.0], [3.0, 1.5]])
    names = check_features(["x1x2", "sin2", "x1", "x2sq"])
    assert names == ["x1", "x2sq", "x1x2", "sin2"]
    assert np.array_equal(feature_matrix(points, names), independent_features(points, names))
    for bad in ([], ["x3"], "x1", [1]):
        with pytest.raises(InvalidInputError, match="feature"):
            check_features(bad)


@pytest.mark.parametrize("name, generator", [
    ("circles", lambda: make_circles(n_samples=300, noise=0.2, factor=0.5, random_state=3)),
    ("moons", lambda: make_moons(n_samples=300, noise=0.2, random_state=3))])
def test_circles_and_moons_are_scikit_learns(name, generator):
    X, y = datasets.make_points(name, 300, 0.2, 3)
    expected_X, expected_y = generator()
    assert np.array_equal(X, expected_X) and np.array_equal(y, expected_y)


@pytest.mark.parametrize("classes", [2, 3, 4])
def test_blobs_have_the_classes_asked_and_are_separable(classes):
    X, y = datasets.make_points("blobs", 400, 0.1, 0, classes)
    assert X.shape == (400, 2) and sorted(np.unique(y)) == list(range(classes))
    centres = np.array([X[y == k].mean(axis=0) for k in range(classes)])
    nearest = np.argmin(((X[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(nearest == y) > 0.97


def test_the_split_is_seeded_stratified_and_disjoint():
    session = Session(settings={"data": "xor", "points": 500, "test_fraction": 0.2,
                                "seed": 7})
    m_train, m_test = len(session.labels["train"]), len(session.labels["test"])
    assert (m_train, m_test) == (400, 100)
    assert abs(session.labels["test"].mean() - session.labels["train"].mean()) < 0.02
    again = Session(settings={"data": "xor", "points": 500, "test_fraction": 0.2, "seed": 7})
    assert np.array_equal(again.raw["test"], session.raw["test"])
    assert not {tuple(p) for p in session.raw["train"]} & {tuple(p) for p in
                                                            session.raw["test"]}


def test_features_are_standardised_with_the_training_parts_mean_and_std():
    session = Session(settings={"data": "moons", "features": ["x1", "x2", "x1x2", "sin1"]})
    assert np.allclose(session.X["train"], standardised_train(session), rtol=0, atol=1e-13)
    assert np.allclose(session.X["train"].mean(axis=1), 0, atol=1e-12)
    assert np.allclose(session.X["train"].std(axis=1), 1)
    rows = independent_features(session.raw["train"], session.feature_names)
    test = independent_features(session.raw["test"], session.feature_names)
    expected = ((test - rows.mean(axis=0)) / rows.std(axis=0)).T
    assert np.allclose(session.X["test"], expected, rtol=0, atol=1e-13)


# -- training ----------------------------------------------------------------------------------


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_steps_are_the_notes_gradient_descent_from_zeros(l2):
    alpha = 0.7
    session = Session(settings={"data": "circles", "features": ["x1", "x2", "x1sq", "x2sq"],
                                "learning_rate": alpha, "l2": l2})
    X = standardised_train(session)
    Y = session.labels["train"].reshape(1, -1).astype(float)
    m = X.shape[1]
    w, b, costs = np.zeros((X.shape[0], 1)), 0.0, []
    for _ in range(150):
        Z = w.T @ X + b  # Z = wᵀX + b
        A = sigmoid(Z)
        costs.append(float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
                           + l2 / (2 * m) * np.sum(w * w)))
        dZ = A - Y
        dw, db = X @ dZ.T / m + (l2 / m) * w, np.sum(dZ) / m
        w, b = w - alpha * dw, b - alpha * db  # w := w − α dw
    for _ in range(3):
        session.step(50)
    assert session.iteration == 150
    assert np.allclose(session.w, w, rtol=0, atol=1e-12)
    assert abs(session.b - b) < 1e-12
    assert np.allclose(session.costs["train"], costs, rtol=0, atol=1e-12)
    assert costs[-1] < 0.2  # one neuron separates the circles given x1², x2²


def test_three_blobs_train_a_softmax_layer():
    alpha = 0.5
    session = Session(settings={"data": "blobs", "classes": 3, "learning_rate": alpha})
    X = standardised_train(session)
    y = session.labels["train"]
    Y = np.eye(3)[:, y]
    m = X.shape[1]
    W, b = np.zeros((X.shape[0], 3)), np.zeros((3, 1))
    for _ in range(80):
        A = softmax(W.T @ X + b)  # A = softmax(WᵀX + b)
        dZ = A - Y
        W, b = W - alpha * X @ dZ.T / m, b - alpha * dZ.sum(axis=1, keepdims=True) / m
    session.step(80)
    assert session.K == 3 and session.w.shape == (2, 3)
    assert np.allclose(session.w, W, rtol=0, atol=1e-12)
    assert np.allclose(session.b, b, rtol=0, atol=1e-12)
    state = session.state()
    assert state["K"] == 3 and state["classes"] == ["0", "1", "2"]
    assert state["accuracy"]["train"] > 95
    grid = state["grid"]
    assert len(grid["classes"]) == len(grid["values"]) == 64 * 64
    assert set(grid["classes"]) == {0, 1, 2}


def test_the_circles_fail_without_squares():
    session = Session(settings={"data": "circles", "features": ["x1", "x2"]})
    session.step(300)
    assert session.state()["accuracy"]["train"] < 70


def test_a_diverging_learning_rate_stops_keeps_finite_parameters_and_recovers():
    session = Session(settings={"data": "overlap", "learning_rate": 1e6})
    taken = session.step(1000)
    state = session.state()
    assert state["diverged"] and taken < 1000
    message = state["diverged"]["message"]
    assert message.startswith(f"gradient descent diverged at iteration {taken}:")
    assert "learning rate 1e+06" in message and "such as 100000." in message
    assert "\n" not in message
    assert np.isfinite(session.w).all() and np.isfinite(session.b)
    assert all(c is None or math.isfinite(c) for c in state["costs"]["train"])
    assert session.step(10) == 0  # stopped until the settings change
    state = session.handle({"type": "config", "learning_rate": 0.1})
    assert state["diverged"] is False
    assert len(state["costs"]["train"]) == session.iteration
    session.handle({"type": "reset"})
    assert session.iteration == 0 and not session.diverged and not session.w.any()


def test_circles_on_x1_x2_at_learning_rate_50_are_reported_diverged():
    """The page's /?data=circles&features=x1,x2&learning_rate=50 swings between costs 3.7 and
    5.3 for ever, far above J₀ = ln 2 (w = 0): diverged, in the words ``fit`` uses on the same
    standardised points."""
    settings = {"data": "circles", "features": ["x1", "x2"], "learning_rate": 50}
    session = Session(settings=settings)
    taken = session.step(1000)
    state = session.state()
    assert state["diverged"] and taken < 1000 and session.step(10) == 0
    costs = state["costs"]["train"]
    assert costs[0] == pytest.approx(math.log(2))
    # never back to its start, and swinging far above it at the end
    assert min(costs[1:]) > math.log(2) and max(costs[-10:]) > 5 * math.log(2)
    message = state["diverged"]["message"]
    assert message.startswith(f"gradient descent diverged at iteration {taken}:")
    with pytest.raises(TrainingDivergedError) as info:
        logreg.LogisticRegression(learning_rate=50, num_iterations=1000).fit(
            standardised_train(session).T, session.labels["train"])
    library = str(info.value)
    assert library.startswith(message[:-1])  # fit's message, plus "or standardise..."
    # a smaller rate on the same page does not diverge
    session.handle({"type": "config", "learning_rate": 0.5})
    assert session.step(1000) == 1000 and not session.diverged


def test_state_reports_the_notes_equations_and_the_grid():
    session = Session(settings={"data": "moons", "features": ["x1", "x2", "x1x2"], "l2": 0.2})
    session.step(40)
    state = session.handle({"type": "state"})
    X = standardised_train(session)
    Y = session.labels["train"].reshape(1, -1)
    w, b, m = session.w, session.b, X.shape[1]
    cost, dw, db = logreg.core.neuron.loss_and_gradient(w, b, X, Y, l2=0.2)
    eq = state["equations"]
    assert eq["m"] == m and eq["learning_rate"] == 0.5 and eq["l2"] == 0.2
    assert np.allclose(eq["Z"], (w.T @ X + b)[0, :3])
    assert np.allclose(eq["dZ"], (sigmoid(w.T @ X + b) - Y)[0, :3])
    assert np.allclose(eq["dw"], dw) and np.isclose(eq["db"][0], db)
    assert np.isclose(state["train_cost"], cost)
    assert len(state["costs"]["train"]) == len(state["costs"]["test"]) == 40
    grid = state["grid"]
    g1, g2 = np.linspace(*grid["x1"], 64), np.linspace(*grid["x2"], 64)
    rows = independent_features(np.array([[g1[5], g2[9]]]), session.feature_names)
    raw = independent_features(session.raw["train"], session.feature_names)
    z = ((rows - raw.mean(axis=0)) / raw.std(axis=0)) @ w + b
    assert abs(grid["values"][9 * 64 + 5] - sigmoid(z[0, 0])) < 1e-5
    assert len(state["points"]["train"]) == m


def test_bad_settings_are_one_line_errors_and_change_nothing():
    session = Session()
    before = dict(session.settings)
    for message, fragment in [({"points": 3}, "points"), ({"learning_rate": -1},
                              "learning_rate"), ({"data": "mnist"}, "data"),
                              ({"colour": 1}, "colour"), ({"features": ["z"]}, "feature"),
                              ({"data": "upload"}, "upload")]:
        with pytest.raises(InvalidInputError, match=fragment) as error:
            session.configure({"type": "config", **message})
        assert "\n" not in str(error.value)
        assert session.settings == before


# -- the clicked point's graph ---------------------------------------------------------------


def point_loss(x, y, w, b):
    """L of one example, from the notes' formulas (two classes or softmax)."""
    z = w.T @ x + np.reshape(b, -1)
    if w.shape[1] == 1:
        a = sigmoid(z[0])
        return -(y * np.log(a) + (1 - y) * np.log(1 - a))
    return -np.log(softmax(z.reshape(-1, 1))[y, 0])


@pytest.mark.parametrize("settings", [
    {"data": "moons", "features": ["x1", "x2", "x1sq"]},
    {"data": "blobs", "classes": 3}])
def test_graph_nodes_grads_are_finite_differences_and_the_notes_dz(settings):
    session = Session(settings=settings)
    session.step(30)
    message = session.handle({"type": "graph", "index": 4, "split": "test"})
    x, y = session.X["test"][:, 4], int(session.labels["test"][4])
    w, b = session.w.copy(), np.array(session.b, dtype=float)
    nodes = {node["name"]: node for node in message["nodes"]}
    assert message["x"] == x.tolist() and message["y"] == y
    assert np.isclose(nodes["L"]["value"], point_loss(x, y, w, b))
    eps = 1e-6
    n, K = len(x), session.K
    for j, name in enumerate(session.feature_names):  # dL/dx_j
        up, down = x.copy(), x.copy()
        up[j] += eps
        down[j] -= eps
        expected = (point_loss(up, y, w, b) - point_loss(down, y, w, b)) / (2 * eps)
        assert abs(nodes[name]["grad"] - expected) < 1e-6
    for j in range(n):  # dL/dw
        for k in range(w.shape[1]):
            up, down = w.copy(), w.copy()
            up[j, k] += eps
            down[j, k] -= eps
            expected = (point_loss(x, y, up, b) - point_loss(x, y, down, b)) / (2 * eps)
            name = f"w{j + 1}" if K == 2 else f"w{j + 1}_{k + 1}"
            assert abs(nodes[name]["grad"] - expected) < 1e-6
    if K == 2:
        a = sigmoid(w[:, 0] @ x + float(b))
        dz = a - y  # the notes: dz = a − y, dw_j = x_j dz, db = dz
        assert abs(nodes["z"]["grad"] - dz) < 1e-12 and abs(nodes["b"]["grad"] - dz) < 1e-12
        for j in range(n):
            assert abs(nodes[f"w{j + 1}"]["grad"] - x[j] * dz) < 1e-12
        assert ["a", "L"] in message["edges"] and ["z", "a"] in message["edges"]
    else:
        a = softmax((w.T @ x + b.ravel()).reshape(-1, 1))[:, 0]
        for k in range(K):
            dz = a[k] - (k == y)
            assert abs(nodes[f"z{k + 1}"]["grad"] - dz) < 1e-12
            for j in range(n):
                assert abs(nodes[f"w{j + 1}_{k + 1}"]["grad"] - x[j] * dz) < 1e-12


def test_graph_of_a_bad_index_is_an_error():
    session = Session()
    for index in (-1, 10 ** 6, "3", None):
        with pytest.raises(InvalidInputError, match="index"):
            session.handle({"type": "graph", "index": index})


# -- uploads -----------------------------------------------------------------------------------


def csv_bytes(rows, header="a,b,kind"):
    return (header + "\n" + "\n".join(",".join(map(str, row)) for row in rows)).encode()


def good_rows(m=60, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.where(np.arange(m) % 2, "yes", "no")
    X = rng.normal(size=(m, 2)) + np.where(labels == "yes", 2.0, -2.0)[:, None]
    return [[f"{x1!r}", f"{x2!r}", label] for (x1, x2), label in zip(X.tolist(), labels)]


def test_a_good_csv_trains_with_its_own_class_names():
    session = Session()
    reply = session.upload(csv_bytes(good_rows()))
    assert reply == {"columns": ["a", "b", "kind"], "rows": 60, "numeric": ["a", "b"]}
    state = session.configure({"data": "upload",
                               "columns": {"x1": "a", "x2": "b", "label": "kind"}})
    assert state["classes"] == ["no", "yes"] and len(state["points"]["train"]) == 48
    session.step(100)
    assert session.state()["accuracy"]["test"] == 100.0


@pytest.mark.parametrize("content, fragment", [
    (csv_bytes([["x", "y", "no"]] * 20), "numeric feature columns"),
    (csv_bytes([[1.0, "nan", "no"]] + [[1.0, 2.0, "yes"]] * 20), "not a finite number"),
    (csv_bytes([[1.0, "inf", "no"]] + [[1.0, 2.0, "yes"]] * 20), "not a finite number"),
    (b"a,b,c\n" + b"1,2,3\n" * (datasets.MAX_ROWS + 1), "at most 5000"),
    (b"a,b,c\n" + b"1,2,3\n" * 400_000, "at most 2097152"),
    (bytes(range(256)) * 20, "not text"),
    (b"\xff\xfe" + "a,b,c\n1,2,3\n".encode("utf-16-le") * 3, "not"),
    (b"1,2,3\n" * 30, "header"),
    (b"a,b\n" + b"1,2\n" * 30, "at least three"),
    (csv_bytes([[1, 2, "x"]] * 5), "at least 10"),
    (csv_bytes([[1, 2]] * 20), "values"),
])
def test_bad_csvs_are_refused_in_one_line_with_the_fix(content, fragment):
    session = Session()
    with pytest.raises(InvalidInputError, match=fragment) as error:
        session.upload(content)
    assert "\n" not in str(error.value)
    assert session.table is None


@pytest.mark.parametrize("columns, fragment", [
    ({"x1": "a", "x2": "nope", "label": "kind"}, "not a column"),
    ({"x1": "a", "x2": "kind", "label": "b"}, "does not hold a finite number"),
    ({"x1": "a", "x2": "b", "label": "same"}, "1 distinct value"),
    ({"x1": "a", "x2": "b", "label": "a"}, "60 distinct values")])
def test_bad_column_choices_are_errors_and_the_session_stays_usable(columns, fragment):
    rows = [row + ["one"] for row in good_rows()]
    session = Session()
    session.upload(csv_bytes(rows, header="a,b,kind,same"))
    session.step(7)
    w = session.w.copy()
    with pytest.raises(InvalidInputError, match=fragment):
        session.handle({"type": "config", "data": "upload", "columns": columns})
    assert session.settings["data"] == "circles" and session.iteration == 7
    assert np.array_equal(session.w, w)  # the training in progress is kept
    assert session.handle({"type": "step", "steps": 5})["iteration"] == 12


# -- exports -----------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [
    {"data": "circles", "features": ["x1", "x2", "x1sq", "x2sq"]},
    {"data": "blobs", "classes": 4, "l2": 0.5}])
def test_the_exported_model_loads_and_predicts_the_pages_probabilities(settings, tmp_path):
    session = Session(settings=settings)
    session.step(120)
    path = tmp_path / "playground-model.safetensors"
    path.write_bytes(model_bytes(session))
    model = logreg.load(path)
    for part in ("train", "test"):
        rows = pd.DataFrame(session.feature_rows(part), columns=session.feature_names)
        assert np.allclose(model.predict_proba(rows), session.probabilities(part),
                           rtol=0, atol=1e-12)
    assert model.n_iter_ == 120 and list(model.feature_names_in_) == session.feature_names
    assert np.allclose(model.costs_, session.costs["train"])
    assert model.metadata_["playground"]["standardisation"]["folded"] is True


def test_a_model_before_any_step_is_w_zero(tmp_path):
    session = Session()
    path = tmp_path / "m.safetensors"
    path.write_bytes(model_bytes(session))
    model = logreg.load(path)
    rows = pd.DataFrame(session.feature_rows(), columns=session.feature_names)
    assert np.allclose(model.predict_proba(rows), 0.5)


def run_snippet(session, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(snippet(session))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    values = dict(line.split(" = ", 1) for line in done.stdout.splitlines() if " = " in line)
    return (np.array(ast.literal_eval(values["coef_"])),
            np.array(ast.literal_eval(values["intercept_"])), script.read_text())


@pytest.mark.parametrize("settings", [
    {"data": "xor", "features": ["x1", "x2", "x1x2"], "learning_rate": 1.0},
    {"data": "blobs", "classes": 3, "noise": 0.3, "seed": 5, "l2": 0.1},
    {"data": "overlap", "test_fraction": 0.0, "features": ["x1", "sin2"]}])
def test_the_snippet_reproduces_the_run(settings, tmp_path):
    session = Session(settings=settings)
    session.step(90)
    coef, intercept, _ = run_snippet(session, tmp_path)
    assert np.allclose(coef, session.w.T, rtol=0, atol=1e-10)
    assert np.allclose(intercept, np.reshape(session.b, -1), rtol=0, atol=1e-10)


def test_the_snippet_of_an_upload_embeds_the_data_and_reproduces_the_run(tmp_path):
    session = Session()
    session.upload(csv_bytes(good_rows(80, seed=2)))
    session.configure({"data": "upload", "features": ["x1", "x2", "x1x2"]})
    session.step(60)
    coef, intercept, text = run_snippet(session, tmp_path)
    assert np.allclose(coef, session.w.T, rtol=0, atol=1e-10)
    assert np.allclose(intercept, np.reshape(session.b, -1), rtol=0, atol=1e-10)
    assert "'kind' (the label)" in text


def test_the_snippet_says_which_settings_changed_mid_run():
    session = Session()
    session.step(10)
    session.configure({"learning_rate": 0.1})
    session.step(10)
    assert "learning_rate changed from 0.5 to 0.1 at iteration 10" in snippet(session)


def test_a_new_upload_that_does_not_fit_keeps_the_table_in_use():
    session = Session()
    session.upload(csv_bytes(good_rows()))
    session.configure({"data": "upload"})
    session.step(5)
    one_class = [row[:2] + ["same"] for row in good_rows()]
    with pytest.raises(InvalidInputError, match="distinct value"):
        session.upload(csv_bytes(one_class))
    assert session.table.column("kind")[:2] == ["no", "yes"] and session.iteration == 5
    assert session.settings["columns"] == {"x1": "a", "x2": "b", "label": "kind"}


def test_a_session_stops_at_its_iteration_limit_with_a_message(monkeypatch):
    """A tab left playing stops at MAX_ITERATIONS (its costs are kept in memory), saying
    what to do; Reset starts again."""
    from logreg.apps.playground import session as session_module

    monkeypatch.setattr(session_module, "MAX_ITERATIONS", 25)
    s = Session(settings={"data": "blobs", "points": 40})
    assert s.step(20) == 20 and s.step(20) == 5  # the last 5 up to the limit
    with pytest.raises(InvalidInputError, match="limit; press Reset"):
        s.step(1)
    assert s.iteration == 25 and len(s.costs["train"]) == 25
    s.handle({"type": "reset"})
    assert s.step(3) == 3


def test_an_upload_with_values_whose_square_overflows_is_refused():
    from logreg.apps.playground.datasets import read_csv

    rows = "\n".join(f"{i},{i % 3},{i % 2}" for i in range(20))
    with pytest.raises(InvalidInputError, match="line 4, column 'x1'.*too large.*rescale"):
        read_csv(("x1,x2,label\n0,0,0\n1,1,1\n1e300,0,0\n" + rows).encode())


def test_a_certain_and_wrong_points_graph_takes_l_from_z():
    """z = 60, y = 0: a rounds to 1, log(1 − a) would be −inf. L comes from z instead,
    log(1 + e^z) − y z = 60 (to 1e-12), dL/dz = a − y = 1, and the graph's edge into L
    comes from z, the node L was computed from."""
    from logreg.apps.playground.graphs import point_graph

    graph = point_graph([2.0], 0, np.array([[30.0]]), 0.0, ["x1"], 2)
    nodes = {node["name"]: node for node in graph["nodes"]}
    assert nodes["L"]["value"] == pytest.approx(60.0, rel=1e-12)
    assert nodes["z"]["grad"] == pytest.approx(1.0, rel=1e-12)
    assert graph["note"] and ["z", "L"] in graph["edges"] and ["a", "L"] not in graph["edges"]
