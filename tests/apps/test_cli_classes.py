"""The command with K classes and sparse tables: `logreg train / predict / evaluate / rates`.

Truth comes from outside the code under test: scikit-learn's fit of the same data
(LogisticRegression with C = 1/λ, MaxAbsScaler), scikit-learn's confusion_matrix and log_loss,
NumPy's softmax of the numbers a model file holds, a plain NumPy softmax gradient descent, and
the sparse data's dense twin.
"""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import assert_user_error, run_cli, run_quietly
from PIL import Image
from scipy.special import expit, logsumexp, softmax
from sklearn.datasets import dump_svmlight_file
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.metrics import confusion_matrix, log_loss
from sklearn.preprocessing import MaxAbsScaler

import logreg
from logreg.data import load_digits10

ACCURACY_LINE = re.compile(r"^(train|test) accuracy: (\S+) %$", re.MULTILINE)


# --- helpers -----------------------------------------------------------------------------------


def parse_predict(out):
    """(class names, [(input, [P(class) ...], label)]) from `logreg predict`'s output."""
    lines = out.strip().splitlines()
    header = lines[0].split()
    assert header[0] == "input" and header[-1] == "label"
    names = [re.fullmatch(r"P\((.*)\)", h).group(1) for h in header[1:-1]]
    rows = []
    for line in lines[1:]:
        tokens = line.split()
        k = len(names)
        rows.append((" ".join(tokens[:-1 - k]), [float(p) for p in tokens[-1 - k:-1]],
                     tokens[-1]))
    return names, rows


def parse_evaluate(out):
    """(accuracy, log loss, class names, K×K matrix) from `logreg evaluate`'s output."""
    accuracy = float(re.search(r"^accuracy: (\S+) %$", out, re.MULTILINE).group(1))
    loss = float(re.search(r"^log loss: (\S+)$", out, re.MULTILINE).group(1))
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("confusion matrix"))
    names = lines[start + 1].split()
    matrix = [[int(c) for c in line.split()[1:]]
              for line in lines[start + 2:start + 2 + len(names)]]
    assert [line.split()[0] for line in lines[start + 2:start + 2 + len(names)]] == names
    return accuracy, loss, names, np.array(matrix)


def accuracies(out):
    return {name: float(value) for name, value in ACCURACY_LINE.findall(out)}


def stored(path):
    """(W (n_x, K'), b (K',), the loaded estimator) of a model file."""
    model = logreg.load(path)
    return model.coef_.T.astype(np.float64), model.intercept_.astype(np.float64), model


def probabilities(W, b, X_rows):
    """P(class) per row: softmax(XW + b) for K classes, [1 − σ, σ] for one output."""
    Z = X_rows @ W + b
    if W.shape[1] == 1:
        return np.column_stack([1 - expit(Z[:, 0]), expit(Z[:, 0])])
    return softmax(Z, axis=1)


def sparse_problem(m=240, n=30, k=3, seed=0, labels=None):
    """Rows (m, n) CSR with about 6 non-zeros each on features of unequal scale, and labels
    drawn from a true softmax model (``labels``: the names of the k classes)."""
    rng = np.random.default_rng(seed)
    rows = sp.random(m, n, density=0.2, format="csr", random_state=seed,
                     data_rvs=lambda size: rng.uniform(-1, 1, size))
    rows = rows @ sp.diags(rng.uniform(0.5, 20, n))  # features of unequal scales
    rows = sp.csr_matrix(rows)
    W = rng.normal(0, 1.5, (n, k)) / np.abs(rows).max(axis=0).toarray().T
    index = np.array([rng.choice(k, p=p) for p in softmax(rows @ W, axis=1)])
    names = np.asarray(labels if labels is not None else np.arange(1, k + 1))
    return rows, names[index]


def sklearn_fit(X_rows, y, l2):
    """scikit-learn's minimiser of the same cost: mean loss + λ/(2m)‖W‖² is C = 1/λ."""
    return SkLogisticRegression(C=1 / l2, tol=1e-12, max_iter=10_000).fit(X_rows, y)


def softmax_gradient_descent(X, y, k, steps, alpha):
    """The notes' recipe for a layer of k neurons, written out plainly: W = 0, b = 0,
    Z = WᵀX + b, A = softmax(Z), dZ = A − Y; the cost before each step."""
    n, m = X.shape
    Y = np.eye(k)[y].T
    W, b, costs = np.zeros((n, k)), np.zeros((k, 1)), []
    for _ in range(steps):
        Z = W.T @ X + b
        costs.append(float(np.mean(logsumexp(Z, axis=0) - np.sum(Y * Z, axis=0))))
        dZ = softmax(Z, axis=0) - Y
        W, b = W - alpha * X @ dZ.T / m, b - alpha * dZ.mean(axis=1, keepdims=True)
    return W, b, costs


# --- an image folder of three classes -------------------------------------------------------


@pytest.fixture(scope="module")
def three_folder(tmp_path_factory):
    """Three classes of 8×8 images (dark, middle, bright, each with noise), 12 of each, and
    the model `logreg train` makes of them (L-BFGS, λ = 1, every example for training)."""
    root = tmp_path_factory.mktemp("three")
    rng = np.random.default_rng(4)
    files = []
    for name, centre in (("dusk", 50), ("noon", 200), ("dawn", 125)):
        (root / "imgs" / name).mkdir(parents=True)
        for i in range(12):
            pixels = np.clip(rng.normal(centre, 40, (8, 8, 3)), 0, 255).astype(np.uint8)
            path = root / "imgs" / name / f"{i}.png"
            Image.fromarray(pixels).save(path)
            files.append((path, name, pixels))
    model = root / "three.safetensors"
    result = run_quietly(["train", "--data", root / "imgs", "--image-size", 8, 8,
                          "--test-size", 0, "--solver", "lbfgs", "--l2", 1, "--tol", 1e-10,
                          "--iterations", 1000, "--out", model])
    return SimpleNamespace(root=root, folder=root / "imgs", files=files, model=model,
                           result=result)


def test_folder_of_three_classes_trains_a_softmax_layer(three_folder):
    code, out, err = three_folder.result
    assert code == 0, err
    assert "3 classes 'dawn' (0), 'dusk' (1), 'noon' (2)" in out
    W, b, model = stored(three_folder.model)
    assert model.classes_.tolist() == ["dawn", "dusk", "noon"]  # sorted sub-folders
    assert W.shape == (8 * 8 * 3, 3) and b.shape == (3,)
    # scikit-learn's fit of the same images, scaled as the exercise scales them (/255)
    order = sorted(three_folder.files, key=lambda f: (f[1], f[0].name))
    X_rows = np.array([pixels.reshape(-1) for _, _, pixels in order]) / 255
    y = [name for _, name, _ in order]
    reference = sklearn_fit(X_rows, y, l2=1.0)
    assert reference.classes_.tolist() == ["dawn", "dusk", "noon"]
    np.testing.assert_allclose(W.T, reference.coef_, atol=2e-5)
    np.testing.assert_allclose(b, reference.intercept_, atol=2e-5)
    assert accuracies(out) == {"train": 100 * np.mean(reference.predict(X_rows) == y)}


def test_predict_prints_one_probability_per_class(three_folder, capsys):
    inputs = [path for path, _, _ in three_folder.files[::5]]
    code, out, err = run_cli(["predict", three_folder.model, *inputs], capsys)
    assert code == 0, err
    names, rows = parse_predict(out)
    assert names == ["dawn", "dusk", "noon"]
    W, b, _ = stored(three_folder.model)
    X_rows = np.array([pixels.reshape(-1) for _, _, pixels in three_folder.files[::5]]) / 255
    expected = probabilities(W, b, X_rows)
    assert [name for name, _, _ in rows] == [str(p) for p in inputs]
    np.testing.assert_allclose([p for _, p, _ in rows], expected, atol=6e-7)
    assert [label for _, _, label in rows] == [names[k] for k in expected.argmax(axis=1)]
    assert [label for _, _, label in rows] == [name for _, name, _ in three_folder.files[::5]]


def test_evaluate_prints_the_three_by_three_confusion_matrix(three_folder, capsys):
    code, out, err = run_cli(["evaluate", three_folder.model, "--data", three_folder.folder],
                             capsys)
    assert code == 0, err
    accuracy, loss, names, matrix = parse_evaluate(out)
    assert names == ["dawn", "dusk", "noon"]
    W, b, _ = stored(three_folder.model)
    order = sorted(three_folder.files, key=lambda f: (f[1], f[0].name))
    X_rows = np.array([pixels.reshape(-1) for _, _, pixels in order]) / 255
    y_true = [names.index(name) for _, name, _ in order]
    P = probabilities(W, b, X_rows)
    np.testing.assert_array_equal(matrix, confusion_matrix(y_true, P.argmax(axis=1)))
    assert accuracy == pytest.approx(100 * np.mean(P.argmax(axis=1) == y_true), abs=1e-12)
    assert loss == pytest.approx(log_loss(y_true, P, labels=[0, 1, 2]), abs=1e-6)


def test_evaluate_on_a_folder_holding_some_of_the_classes(three_folder, tmp_path, capsys):
    """Held-out images of two of the three classes: rows for all three, by name."""
    for name in ("noon", "dusk"):
        (tmp_path / name).mkdir()
        for path, label, _ in three_folder.files:
            if label == name:
                (tmp_path / name / path.name).write_bytes(path.read_bytes())
    code, out, err = run_cli(["evaluate", three_folder.model, "--data", tmp_path], capsys)
    assert code == 0, err
    _, _, names, matrix = parse_evaluate(out)
    assert names == ["dawn", "dusk", "noon"]
    assert matrix.sum(axis=1).tolist() == [0, 12, 12]


# --- the ten digits ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits10_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits10")
    result = run_quietly(["train", "--data", "digits10", "--solver", "lbfgs", "--l2", 10,
                          "--tol", 1e-9, "--iterations", 2000, "--out", folder, "--quiet"])
    return SimpleNamespace(result=result, model=folder / "model.safetensors")


def test_digits10_equals_scikit_learns_fit(digits10_run):
    code, out, err = digits10_run.result
    assert code == 0, err
    train, test = load_digits10()
    W, b, model = stored(digits10_run.model)
    assert model.classes_.tolist() == [str(k) for k in range(10)]
    assert W.shape == (64, 10)
    reference = sklearn_fit(train.X.T / 255, train.Y.ravel(), l2=10.0)
    np.testing.assert_allclose(W.T, reference.coef_, atol=1e-5)
    np.testing.assert_allclose(b, reference.intercept_, atol=1e-4)
    found = accuracies(out)
    assert found["train"] == pytest.approx(
        100 * reference.score(train.X.T / 255, train.Y.ravel()), abs=0.2)
    assert found["test"] == pytest.approx(
        100 * reference.score(test.X.T / 255, test.Y.ravel()), abs=0.5)


def test_digits10_evaluate_matches_sklearn_metrics(digits10_run, capsys):
    code, out, err = run_cli(["evaluate", digits10_run.model, "--data", "digits10"], capsys)
    assert code == 0, err
    assert out.startswith("Evaluated on 450 held-out examples of scikit-learn digits, all ten "
                          "(train kept the other 1347; --all-rows scores all 1797)")
    accuracy, loss, names, matrix = parse_evaluate(out)
    assert names == [str(k) for k in range(10)] and matrix.shape == (10, 10)
    _, test = load_digits10()
    W, b, _ = stored(digits10_run.model)
    P = probabilities(W, b, test.X.T / 255)
    y_true = test.Y.ravel().astype(int)
    np.testing.assert_array_equal(matrix, confusion_matrix(y_true, P.argmax(axis=1)))
    assert matrix.sum() == 450
    assert accuracy == pytest.approx(100 * np.mean(P.argmax(axis=1) == y_true), abs=1e-12)
    assert loss == pytest.approx(log_loss(y_true, P, labels=list(range(10))), abs=1e-6)


def test_digits10_model_evaluated_on_the_binary_digits_names_classes(digits10_run, capsys):
    """The binary set's classes "3" and "8" are rows 3 and 8 of the ten; the set is not the
    model's training data, so it is scored whole: its 183 threes and 174 eights."""
    code, out, err = run_cli(["evaluate", digits10_run.model, "--data", "digits"], capsys)
    assert code == 0, err
    _, _, names, matrix = parse_evaluate(out)
    assert names == [str(k) for k in range(10)]
    counts = matrix.sum(axis=1)
    assert (counts[3], counts[8], counts.sum()) == (183, 174, 357)


def test_rates_on_ten_classes_against_plain_gradient_descent(tmp_path, capsys):
    code, out, err = run_cli(["rates", "--data", "digits10", "--rates", "0.5", "0.05",
                              "--iterations", 15, "--out", tmp_path / "r.png"], capsys)
    assert code == 0, err
    assert "1347 examples of 10 classes, testing on 450" in out
    assert (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")
    train, test = load_digits10()
    table = [line.split() for line in out.splitlines()
             if re.match(r"^(0\.5|0\.05)\s", line)]
    assert [row[0] for row in table] == ["0.5", "0.05"]
    for row, alpha in zip(table, (0.5, 0.05)):
        W, b, costs = softmax_gradient_descent(train.X / 255, train.Y.ravel().astype(int), 10,
                                               15, alpha)
        assert float(row[1]) == pytest.approx(100 * np.mean(
            (W.T @ (train.X / 255) + b).argmax(axis=0) == train.Y.ravel()), abs=1e-9)
        assert float(row[2]) == pytest.approx(100 * np.mean(
            (W.T @ (test.X / 255) + b).argmax(axis=0) == test.Y.ravel()), abs=1e-9)
        assert float(row[3]) == pytest.approx(costs[-1], rel=1e-5)  # printed as %.6g
        assert row[4] == "ok"


# --- sparse tables: svmlight and a sparse .npz with its labels --------------------------------


@pytest.fixture(scope="module")
def sparse_set(tmp_path_factory):
    """One sparse problem of three classes (labels 1, 2, 3) as an svmlight file (one-based,
    LIBSVM's way) and as a sparse .npz with a labels file; the model trained on each."""
    root = tmp_path_factory.mktemp("sparse")
    rows, y = sparse_problem()
    dump_svmlight_file(rows, y, str(root / "train.svm"), zero_based=False)
    sp.save_npz(root / "train.npz", rows)
    np.save(root / "labels.npy", y)
    common = ["--test-size", 0, "--solver", "lbfgs", "--l2", 1, "--tol", 1e-10,
              "--iterations", 2000, "--quiet"]
    runs = {kind: run_quietly(["train", "--data", root / f"train.{kind}", *extra, *common,
                               "--out", root / f"{kind}.safetensors"])
            for kind, extra in (("svm", []), ("npz", ["--labels", root / "labels.npy"]))}
    return SimpleNamespace(root=root, rows=rows, y=y, runs=runs,
                           svm=root / "svm.safetensors", npz=root / "npz.safetensors")


def test_sparse_svmlight_trains_what_scikit_learn_fits(sparse_set):
    code, _, err = sparse_set.runs["svm"]
    assert code == 0, err
    W, b, model = stored(sparse_set.svm)
    assert model.classes_.tolist() == [1, 2, 3]
    scaling = model.metadata_["preprocessing"]["scaling"]
    assert scaling["kind"] == "maxabs" and scaling["mean"] == [0]
    scaler = MaxAbsScaler().fit(sparse_set.rows)
    np.testing.assert_allclose(scaling["spread"], scaler.scale_, rtol=1e-15)
    assert model.metadata_["preprocessing"]["sparse"] is True
    assert model.metadata_["preprocessing"]["zero_based"] is False
    reference = sklearn_fit(scaler.transform(sparse_set.rows), sparse_set.y, l2=1.0)
    np.testing.assert_allclose(W.T, reference.coef_, atol=1e-5)
    np.testing.assert_allclose(b, reference.intercept_, atol=1e-5)


def test_sparse_npz_with_labels_gives_the_same_model(sparse_set):
    code, _, err = sparse_set.runs["npz"]
    assert code == 0, err
    W_svm, b_svm, _ = stored(sparse_set.svm)
    W_npz, b_npz, model = stored(sparse_set.npz)
    assert model.classes_.tolist() == [1, 2, 3]
    # the svmlight text rounds values at 17 digits: the same model to rounding
    np.testing.assert_allclose(W_npz, W_svm, atol=1e-8)
    np.testing.assert_allclose(b_npz, b_svm, atol=1e-8)
    assert model.metadata_["preprocessing"].get("zero_based") is None


def test_sparse_model_equals_the_dense_fit_of_the_same_scaled_data(sparse_set):
    """The estimator's fit of the dense twin of what the command trained on."""
    W, b, _ = stored(sparse_set.npz)
    dense = MaxAbsScaler().fit_transform(sparse_set.rows).toarray()
    twin = logreg.LogisticRegression(solver="lbfgs", l2=1.0, tol=1e-10,
                                     num_iterations=2000).fit(dense, sparse_set.y)
    np.testing.assert_allclose(W.T, twin.coef_, atol=1e-8)
    np.testing.assert_allclose(b, twin.intercept_, atol=1e-8)


def test_predict_and_evaluate_on_sparse_tables(sparse_set, capsys):
    W, b, _ = stored(sparse_set.svm)
    scaled = MaxAbsScaler().fit_transform(sparse_set.rows)
    expected = probabilities(W, b, scaled.toarray())
    for data in (sparse_set.root / "train.svm", sparse_set.root / "train.npz"):
        code, out, err = run_cli(["predict", sparse_set.svm, data], capsys)
        assert code == 0, err
        names, rows = parse_predict(out)
        assert names == ["1", "2", "3"] and len(rows) == 240
        assert rows[0][0] == "row 1" and rows[-1][0] == "row 240"
        np.testing.assert_allclose([p for _, p, _ in rows], expected, atol=6e-7)
        assert [int(label) for _, _, label in rows] == (expected.argmax(axis=1) + 1).tolist()
    code, out, err = run_cli(["evaluate", sparse_set.svm, "--data",
                              sparse_set.root / "train.npz", "--labels",
                              sparse_set.root / "labels.npy"], capsys)
    assert code == 0, err
    accuracy, loss, names, matrix = parse_evaluate(out)
    assert names == ["1", "2", "3"]
    y_true = sparse_set.y - 1
    np.testing.assert_array_equal(matrix, confusion_matrix(y_true, expected.argmax(axis=1)))
    assert accuracy == pytest.approx(100 * np.mean(expected.argmax(axis=1) == y_true),
                                     abs=1e-12)
    assert loss == pytest.approx(log_loss(y_true, expected), abs=1e-6)


def test_held_out_svmlight_file_is_read_as_the_training_file(sparse_set, tmp_path, capsys):
    """A test file whose highest index is lower than the training file's: padded."""
    rows = sparse_set.rows[:20].tolil()
    rows[:, 25:] = 0
    rows = rows.tocsr()
    rows.eliminate_zeros()
    dump_svmlight_file(rows, sparse_set.y[:20], str(tmp_path / "few.svm"), zero_based=False)
    assert "30:" not in (tmp_path / "few.svm").read_text()
    code, out, err = run_cli(["evaluate", sparse_set.svm, "--data", tmp_path / "few.svm"],
                             capsys)
    assert code == 0, err
    W, b, model = stored(sparse_set.svm)
    spread = np.array(model.metadata_["preprocessing"]["scaling"]["spread"])
    P = probabilities(W, b, rows.toarray() / spread)
    _, _, _, matrix = parse_evaluate(out)
    np.testing.assert_array_equal(matrix, confusion_matrix(sparse_set.y[:20] - 1,
                                                           P.argmax(axis=1), labels=[0, 1, 2]))


def test_train_with_held_out_sparse_data(sparse_set, tmp_path, capsys):
    root = sparse_set.root
    code, out, err = run_cli(["train", "--data", root / "train.npz", "--labels",
                              root / "labels.npy", "--test-data", root / "train.svm",
                              "--iterations", 50, "--out", tmp_path / "m.safetensors"],
                             capsys)
    assert code == 0, err
    assert "240 examples of 30 sparse features, testing on 240" in out
    found = accuracies(out)
    assert found["train"] == found["test"]  # the same examples


def test_rates_on_a_sparse_table_against_plain_gradient_descent(sparse_set, tmp_path, capsys):
    code, out, err = run_cli(["rates", "--data", sparse_set.root / "train.svm", "--test-size",
                              0, "--rates", "2", "--iterations", 30, "--out",
                              tmp_path / "r.png"], capsys)
    assert code == 0, err
    [row] = [line.split() for line in out.splitlines() if line.startswith("2 ")]
    X = MaxAbsScaler().fit_transform(sparse_set.rows).toarray().T  # the dense twin, scaled
    y = sparse_set.y - 1
    W, b, costs = softmax_gradient_descent(X, y, 3, 30, 2.0)
    assert float(row[1]) == pytest.approx(100 * np.mean((W.T @ X + b).argmax(axis=0) == y),
                                          abs=1e-9)
    assert row[2] == "-"  # no test data
    assert float(row[3]) == pytest.approx(costs[-1], rel=1e-5)


def test_binary_svmlight_of_plus_and_minus_one(tmp_path, capsys):
    rows, y = sparse_problem(k=2, labels=[-1, 1], seed=3)
    dump_svmlight_file(rows, y, str(tmp_path / "pm.svm"), zero_based=False)
    code, out, err = run_cli(["train", "--data", tmp_path / "pm.svm", "--test-size", 0,
                              "--solver", "lbfgs", "--l2", 1, "--tol", 1e-10,
                              "--out", tmp_path / "pm.safetensors"], capsys)
    assert code == 0, err
    assert "classes -1 (0) and 1 (1)" in out
    W, b, model = stored(tmp_path / "pm.safetensors")
    assert model.classes_.tolist() == [-1, 1] and W.shape == (30, 1)
    scaled = MaxAbsScaler().fit_transform(rows)
    reference = sklearn_fit(scaled, y, l2=1.0)
    np.testing.assert_allclose(W.T, reference.coef_, atol=1e-5)
    code, out, err = run_cli(["predict", tmp_path / "pm.safetensors", tmp_path / "pm.svm"],
                             capsys)
    names, rows_out = parse_predict(out)
    assert names == ["-1", "1"]
    expected = probabilities(W, b, scaled.toarray())
    np.testing.assert_allclose([p for _, p, _ in rows_out], expected, atol=6e-7)


# --- the binary command stays as it was; files of format version 2 still work --------------


def test_default_demo_figures_are_unchanged(tmp_path, capsys):
    code, out, err = run_cli(["train", "--out", tmp_path / "demo"], capsys)
    assert code == 0, err
    assert "train accuracy: 97.37827715355806 %" in out.splitlines()
    assert "test accuracy: 94.44444444444444 %" in out.splitlines()
    assert "classes '3' (0) and '8' (1)." in out


def rewrite_as_version_2(source, target):
    """The same model as logreg wrote it in format version 2: tensors w, b, costs."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    with safe_open(str(source), framework="numpy") as handle:
        metadata = json.loads(handle.metadata()["logreg"])
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    assert tensors["W"].shape[1] == 1
    metadata["format_version"] = 2
    save_file({"w": tensors["W"], "b": tensors["b"], "costs": tensors["costs"]}, str(target),
              metadata={"logreg": json.dumps(metadata)})
    return target


def test_version_2_model_files_predict_and_evaluate_as_before(tmp_path, capsys):
    table = tmp_path / "t.csv"
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 3)) * [1, 10, 100]
    y = np.where(X @ [1.0, 0.1, -0.01] > 0, "up", "down")
    table.write_text("a,b,c,label\n" + "".join(f"{r[0]},{r[1]},{r[2]},{t}\n"
                                              for r, t in zip(X, y)))
    new = tmp_path / "v3.safetensors"
    assert run_cli(["train", "--data", table, "--iterations", 100, "--learning-rate", 0.1,
                    "--out", new], capsys)[0] == 0
    old = rewrite_as_version_2(new, tmp_path / "v2.safetensors")
    assert logreg.load(old).metadata_["format_version"] == 2
    outputs = {}
    for path in (new, old):
        outputs[path] = [run_cli(["predict", path, table, "--all-rows"], capsys),
                         run_cli(["evaluate", path, "--data", table, "--all-rows"], capsys)]
    assert outputs[new] == outputs[old]
    assert outputs[old][0][0] == 0 and outputs[old][1][0] == 0
    # and what they print is what σ of the file's numbers says
    w, b, model = stored(old)
    scaling = model.metadata_["preprocessing"]["scaling"]
    z = ((X - scaling["mean"]) / scaling["spread"]) @ w[:, 0] + b[0]
    names, rows = parse_predict(outputs[old][0][1])
    assert names == ["down", "up"]
    np.testing.assert_allclose([p[1] for _, p, _ in rows], expit(z), atol=6e-7)


def test_crafted_model_whose_columns_disagree_with_its_classes(tmp_path, capsys):
    from safetensors.numpy import save_file

    record = {"format": "logreg-model", "format_version": 3, "n_x": 2,
              "classes": ["a", "b", "c"],
              "preprocessing": {"scaling": {"kind": "none", "mean": [0], "spread": [1]}}}
    save_file({"W": np.zeros((2, 2)), "b": np.zeros(2)}, str(tmp_path / "m.safetensors"),
              metadata={"logreg": json.dumps(record)})
    (tmp_path / "x.csv").write_text("f0,f1\n1,2\n")
    assert_user_error(run_cli(["predict", tmp_path / "m.safetensors", tmp_path / "x.csv"],
                              capsys),
                      "W has 2 column(s) but the metadata names 3 classes")


# --- help ---------------------------------------------------------------------------------------


def test_help_documents_classes_and_sparse_tables(capsys):
    code, out, _ = run_cli(["train", "--help"], capsys)
    assert code == 0
    text = " ".join(out.split())
    for fragment in ("digits10", "--labels FILE", ".svm", ".libsvm", "scipy.sparse.save_npz",
                     "MaxAbsScaler", "softmax", "--test-labels FILE", ".npy", ".txt"):
        assert fragment in text, fragment
    code, out, _ = run_cli(["predict", "--help"], capsys)
    assert "P(class) for every class" in " ".join(out.split())
    code, out, _ = run_cli(["evaluate", "--help"], capsys)
    assert "K×K confusion matrix" in " ".join(out.split())
    assert "--labels FILE" in out


# --- user mistakes: one line, exit 2 ------------------------------------------------------------


def mistake(name, root):
    """(argv, fragments) of one mistake, its files made under ``root``."""
    rows, y = sparse_problem(m=30, n=6)
    sp.save_npz(root / "x.npz", rows)
    np.save(root / "y.npy", y)
    np.save(root / "y29.npy", y[:29])
    dump_svmlight_file(rows, y, str(root / "d.svm"), zero_based=False)
    np.savez(root / "plain.npz", X=rows.toarray(), y=y)
    out = ["--out", root / "o"]
    if name == "labels with svmlight":
        return ["train", "--data", root / "d.svm", "--labels", root / "y.npy", *out], \
            ["--labels", "svmlight file holds its labels"]
    if name == "labels with the built-in set":
        return ["train", "--labels", root / "y.npy", *out], ["--labels", "no .npz"]
    if name == "sparse npz without labels":
        return ["train", "--data", root / "x.npz", *out], ["sparse matrix", "--labels FILE"]
    if name == "labels count":
        return ["train", "--data", root / "x.npz", "--labels", root / "y29.npy", *out], \
            ["30 examples (rows)", "29 labels"]
    if name == "plain npz with labels":
        return ["train", "--data", root / "plain.npz", "--labels", root / "y.npy", *out], \
            ["not a SciPy sparse matrix", "leave --labels out"]
    if name == "malformed svmlight":
        (root / "bad.svm").write_text("1 1:2 2:x\n2 1:1\n")
        return ["train", "--data", root / "bad.svm", *out], ["not a readable svmlight"]
    if name == "test labels without test data":
        return ["train", "--data", root / "x.npz", "--labels", root / "y.npy",
                "--test-labels", root / "y.npy", *out], ["--test-labels", "no --test-data"]
    if name == "dense test data for sparse training":
        (root / "t.csv").write_text("a,b,label\n1,2,1\n3,4,2\n")
        return ["train", "--data", root / "d.svm", "--test-data", root / "t.csv", *out], \
            ["t.csv is no sparse table", "a sparse table of 6 features"]
    if name == "image size for svmlight":
        return ["train", "--data", root / "d.svm", "--image-size", 8, 8, *out], \
            ["--image-size", "is a table"]
    if name == "class without examples":
        import h5py

        with h5py.File(root / "k.h5", "w") as handle:
            handle["train_set_x"] = np.zeros((4, 2, 2, 3), np.uint8)
            handle["train_set_y"] = np.array([0, 1, 0, 1])
            handle["list_classes"] = np.array([b"a", b"b", b"c"])
        return ["train", "--data", root / "k.h5", "--test-size", 0, *out], \
            ["no training example of 'c'"]
    if name == "empty class folder":
        for label in "ab":
            (root / "imgs" / label).mkdir(parents=True)
            Image.new("RGB", (4, 4)).save(root / "imgs" / label / "0.png")
        (root / "imgs" / "c").mkdir()
        return ["train", "--data", root / "imgs", *out], ["one class ('c') has no image"]
    raise AssertionError(name)


MISTAKES = ["labels with svmlight", "labels with the built-in set",
            "sparse npz without labels", "labels count", "plain npz with labels",
            "malformed svmlight", "test labels without test data",
            "dense test data for sparse training", "image size for svmlight",
            "class without examples", "empty class folder"]


@pytest.mark.parametrize("name", MISTAKES)
def test_training_mistakes_are_one_line(tmp_path, capsys, name):
    argv, fragments = mistake(name, tmp_path)
    assert_user_error(run_cli(argv, capsys), *fragments)
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def sparse_and_dense_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("kinds")
    rows, y = sparse_problem(m=30, n=6)
    dump_svmlight_file(rows, y, str(root / "d.svm"), zero_based=False)
    sp.save_npz(root / "x.npz", rows)
    np.save(root / "y.npy", y)
    (root / "t.csv").write_text("a,b,label\n1,2,x\n3,4,y\n5,1,x\n0,3,y\n")
    for data, model in ((root / "d.svm", "sparse"), (root / "t.csv", "dense")):
        code, _, err = run_quietly(["train", "--data", data, "--iterations", 5, "--test-size",
                                    0, "--out", root / f"{model}.safetensors"])
        assert code == 0, err
    return root


@pytest.mark.parametrize("argv, fragments", [
    (["predict", "{sparse}", "{root}/t.csv"], ["trained on a sparse table of 6 features",
                                               "one svmlight file"]),
    (["predict", "{sparse}", "{root}/d.svm", "{root}/d.svm"], ["not 2 input(s)"]),
    (["predict", "{dense}", "{root}/d.svm"], ["trained on a table of 2 features",
                                              "one CSV"]),
    (["evaluate", "{sparse}", "--data", "{root}/t.csv"], ["t.csv is no sparse table",
                                                          "a sparse table of 6 features"]),
    (["evaluate", "{dense}", "--data", "{root}/d.svm"], ["d.svm is a sparse table",
                                                         "a table of 2 features"]),
    (["evaluate", "{sparse}", "--data", "{root}/x.npz"], ["--labels FILE"]),
    (["evaluate", "{sparse}", "--data", "{root}/d.svm", "--labels", "{root}/y.npy"],
     ["svmlight file holds its labels"]),
    (["evaluate", "{dense}", "--data", "digits10"], ["holds images"]),
], ids=["sparse-model-csv", "sparse-model-two-inputs", "dense-model-svm",
        "sparse-model-csv-evaluate", "dense-model-svm-evaluate", "npz-without-labels",
        "svm-with-labels", "table-model-on-digits10"])
def test_data_of_another_kind_than_the_models(sparse_and_dense_models, capsys, argv,
                                              fragments):
    root = sparse_and_dense_models
    argv = [a.format(root=root, sparse=root / "sparse.safetensors",
                     dense=root / "dense.safetensors") for a in argv]
    assert_user_error(run_cli(argv, capsys), *fragments)


def test_dense_model_refuses_sparse_test_data(sparse_and_dense_models, capsys):
    root = sparse_and_dense_models
    assert_user_error(run_cli(["evaluate", root / "dense.safetensors", "--data",
                               root / "x.npz", "--labels", root / "y.npy"], capsys),
                      "x.npz is a sparse table", "a table of 2 features")


def test_sparse_model_refuses_a_dense_npz(sparse_and_dense_models, capsys):
    """An .npz of plain arrays X, y: its content tells, once read."""
    root = sparse_and_dense_models
    np.savez(root / "plain.npz", X=np.ones((4, 6)), y=[1, 2, 3, 1])
    assert_user_error(run_cli(["evaluate", root / "sparse.safetensors", "--data",
                               root / "plain.npz"], capsys),
                      "plain.npz holds a dense table or images",
                      "a sparse table (svmlight, or a sparse .npz with --labels)")


def test_sparse_model_files_are_small(sparse_and_dense_models):
    """A model of a sparse table records its scaling (n_x spreads) and numbering."""
    model = logreg.load(sparse_and_dense_models / "sparse.safetensors")
    preprocessing = model.metadata_["preprocessing"]
    assert preprocessing["sparse"] is True and preprocessing["zero_based"] is False
    assert len(preprocessing["scaling"]["spread"]) == 6
    assert Path(sparse_and_dense_models / "sparse.safetensors").stat().st_size < 10_000


def test_data_synth_writes_k_classes_from_a_softmax_layer(tmp_path, capsys):
    pytest.importorskip("zarr")
    import zarr

    code, out, _ = run_cli(["data", "synth", "--rows", 3000, "--features", 4, "--classes", 4,
                            "--out", tmp_path / "k4.zarr"], capsys)
    assert code == 0 and "of 4 classes" in out
    y = np.asarray(zarr.open(str(tmp_path / "k4.zarr"), mode="r")["y"])
    assert sorted(np.unique(y).tolist()) == [0, 1, 2, 3]
    for bad in (1, 1000):
        assert_user_error(run_cli(["data", "synth", "--rows", 30, "--features", 2, "--classes",
                                   bad, "--out", tmp_path / "bad.zarr"], capsys),
                          f"classes={bad}", "2 to 256")
    assert not (tmp_path / "bad.zarr").exists()
