"""The command on tables, end to end: CSV files (named columns, string labels), sparse tables
(svmlight files, a sparse .npz with its labels) of two and of K classes, and model files of
format version 2.

Truth comes from outside the code under test: scikit-learn's fit of the same data
(LogisticRegression with C = 1/λ, MaxAbsScaler) and its confusion_matrix and log_loss, a plain
NumPy softmax gradient descent, the sparse data's dense twin, and probabilities recomputed with
NumPy from a model file's numbers. Everything is written under pytest's tmp_path.
"""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from cli_helpers import (accuracies, binary_rows, evaluate_by_name, model_wb, parse_evaluate,
                         parse_predict, probabilities, run_script, sigmoid, sklearn_fit,
                         softmax_gradient_descent, sparse_problem, stored, write_csv)
from helpers import assert_user_error, run_cli, run_quietly
from scipy.special import expit
from sklearn.datasets import dump_svmlight_file
from sklearn.metrics import confusion_matrix, log_loss
from sklearn.preprocessing import MaxAbsScaler

import logreg


# --- CSV tables ------------------------------------------------------------------------------


@pytest.fixture()
def table(tmp_path):
    """A noisy but mostly separable CSV: named features, string labels, label column 'outcome'."""
    rng = np.random.default_rng(7)
    m = 80
    height = rng.normal(170, 10, m)
    weight = rng.normal(70, 15, m)
    age = rng.integers(20, 60, m)
    score = 0.3 * (height - 170) - 0.2 * (weight - 70) + rng.normal(0, 1, m)
    outcome = np.where(score > 0, "yes", "no")
    rows = [(f"{h:.3f}", f"{w:.3f}", a, o) for h, w, a, o in zip(height, weight, age, outcome)]
    path = write_csv(tmp_path / "people.csv", ["height", "weight", "age", "outcome"], rows)
    X = np.array([[float(r[0]), float(r[1]), float(r[2])] for r in rows])
    return SimpleNamespace(path=path, rows=rows, X=X, y=outcome)


def test_csv_train_predict_by_column_name(table, tmp_path, capsys):
    model_path = tmp_path / "table.safetensors"
    code, out, err = run_cli(["train", "--data", table.path, "--label-column", "outcome",
                              "--test-size", "0", "--iterations", "400",
                              "--learning-rate", "0.1", "--out", model_path], capsys)
    assert code == 0, err
    assert set(accuracies(out)) == {"train"}
    model = logreg.load(model_path)
    assert model.classes_.tolist() == ["no", "yes"]
    assert model.metadata_["feature_names"] == ["height", "weight", "age"]

    # independent: standardise with the training rows' μ, σ; p = σ(w·x + b)
    w, b, _ = model_wb(model_path)
    mean, spread = table.X.mean(axis=0), table.X.std(axis=0)
    expected = sigmoid(((table.X - mean) / spread) @ w + b).ravel()
    y_hat = np.where(expected > 0.5, "yes", "no")
    assert accuracies(out)["train"] == pytest.approx(100 * np.mean(y_hat == table.y),
                                                     abs=1e-9)
    assert np.mean(y_hat == table.y) > 0.85  # it learned the rule

    code, out, err = run_cli(["predict", model_path, table.path], capsys)
    assert code == 0, err
    assert out.splitlines()[0].split()[1:3] == ["P(no)", "P(yes)"]
    rows = binary_rows(out)
    assert [name for name, _, _ in rows] == [f"row {i}" for i in range(1, len(table.rows) + 1)]
    np.testing.assert_allclose([p for _, p, _ in rows], expected, atol=6e-7)
    assert [label for _, _, label in rows] == y_hat.tolist()

    # the same rows, columns shuffled, label column dropped, an extra column added
    shuffled = write_csv(tmp_path / "shuffled.csv", ["id", "age", "height", "weight"],
                         [(i, r[2], r[0], r[1]) for i, r in enumerate(table.rows)])
    code, out2, err = run_cli(["predict", model_path, shuffled], capsys)
    assert code == 0, err
    assert [(p, label) for _, p, label in binary_rows(out2)] == \
        [(p, label) for _, p, label in rows]


def test_csv_predict_prints_no_warning(table, tmp_path):
    model_path = tmp_path / "m.safetensors"
    assert run_script(["train", "--data", table.path, "--label-column", "outcome",
                       "--iterations", "5", "--out", model_path], tmp_path)[0] == 0
    code, out, err = run_script(["predict", model_path, table.path, "--all-rows"], tmp_path,
                                module=True)
    assert code == 0
    assert len(binary_rows(out)) == len(table.rows)
    assert err == ""


def test_csv_evaluate(table, tmp_path, capsys):
    model_path = tmp_path / "m.safetensors"
    assert run_cli(["train", "--data", table.path, "--label-column", "outcome",
                    "--iterations", "200", "--learning-rate", "0.1", "--out",
                    model_path], capsys)[0] == 0
    code, out, err = run_cli(["evaluate", model_path, "--data", table.path,
                              "--all-rows"], capsys)  # its own data: all 80 rows
    assert code == 0, err  # the model remembers its label column
    accuracy, _, names, matrix = evaluate_by_name(out)
    assert names == ["no", "yes"]
    w, b, model = model_wb(model_path)
    scaling = model.metadata_["preprocessing"]["scaling"]
    Z = ((table.X - np.array(scaling["mean"])) / np.array(scaling["spread"])) @ w + b
    y_hat = np.where(Z.ravel() > 0, "yes", "no")
    assert accuracy == pytest.approx(100 * np.mean(y_hat == table.y), abs=1e-9)
    assert sum(matrix["yes"]) == int(np.sum(table.y == "yes"))
    assert sum(map(sum, matrix.values())) == len(table.rows)


def test_csv_predict_missing_feature_column(table, tmp_path, capsys):
    model_path = tmp_path / "m.safetensors"
    assert run_cli(["train", "--data", table.path, "--label-column", "outcome",
                    "--iterations", "5", "--out", model_path], capsys)[0] == 0
    partial = write_csv(tmp_path / "partial.csv", ["height", "age"],
                        [(r[0], r[2]) for r in table.rows])
    assert_user_error(run_cli(["predict", model_path, partial], capsys), "weight")


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


@pytest.fixture(scope="module")
def plus_minus_set(tmp_path_factory):
    """A sparse problem of two classes labelled -1 and +1 as an svmlight file, and the model
    `logreg train` makes of it (L-BFGS, λ = 1, every example for training)."""
    root = tmp_path_factory.mktemp("pm")
    rows, y = sparse_problem(k=2, labels=[-1, 1], seed=3)
    dump_svmlight_file(rows, y, str(root / "pm.svm"), zero_based=False)
    result = run_quietly(["train", "--data", root / "pm.svm", "--test-size", 0,
                          "--solver", "lbfgs", "--l2", 1, "--tol", 1e-10,
                          "--out", root / "pm.safetensors"])
    return SimpleNamespace(rows=rows, y=y, result=result, data=root / "pm.svm",
                           model=root / "pm.safetensors")


SVMLIGHT_SETS = {
    2: SimpleNamespace(fixture="plus_minus_set", classes=[-1, 1],
                       says="classes -1 (0) and 1 (1)"),
    3: SimpleNamespace(fixture="sparse_set", classes=[1, 2, 3], says=None),
}


@pytest.mark.parametrize("k", sorted(SVMLIGHT_SETS))
def test_sparse_svmlight_trains_what_scikit_learn_fits(k, request, capsys):
    """An svmlight file of K classes (two: -1 and +1, one σ neuron; three: 1, 2, 3, a softmax
    layer): scaled by MaxAbsScaler, trained to scikit-learn's fit, predicted as the file's
    numbers say."""
    case = SVMLIGHT_SETS[k]
    data = request.getfixturevalue(case.fixture)
    if k == 2:
        code, out, err = data.result
        svm, model_path = data.data, data.model
    else:
        (code, out, err), svm, model_path = data.runs["svm"], data.root / "train.svm", data.svm
    assert code == 0, err
    if case.says:
        assert case.says in out
    W, b, model = stored(model_path)
    assert model.classes_.tolist() == case.classes
    assert W.shape == (30, 1 if k == 2 else k)
    scaling = model.metadata_["preprocessing"]["scaling"]
    assert scaling["kind"] == "maxabs" and scaling["mean"] == [0]
    scaler = MaxAbsScaler().fit(data.rows)
    np.testing.assert_allclose(scaling["spread"], scaler.scale_, rtol=1e-15)
    assert model.metadata_["preprocessing"]["sparse"] is True
    assert model.metadata_["preprocessing"]["zero_based"] is False
    scaled = scaler.transform(data.rows)
    reference = sklearn_fit(scaled, data.y, l2=1.0)
    np.testing.assert_allclose(W.T, reference.coef_, atol=1e-5)
    np.testing.assert_allclose(b, reference.intercept_, atol=1e-5)
    code, out, err = run_cli(["predict", model_path, svm], capsys)
    assert code == 0, err
    names, rows_out = parse_predict(out)
    assert names == [str(c) for c in case.classes]
    expected = probabilities(W, b, scaled.toarray())
    np.testing.assert_allclose([p for _, p, _ in rows_out], expected, atol=6e-7)


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


# --- files of format version 2 still work ------------------------------------------------------


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
