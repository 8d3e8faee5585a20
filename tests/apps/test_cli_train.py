"""The command on its built-in data sets, end to end: `logreg train / evaluate / rates` on
`digits` (two classes, '3' and '8') and `digits10` (all ten), `--version`, `--help`,
`logreg data synth`.

Truth comes from outside the code under test: a plain NumPy re-implementation of the notes'
gradient descent (one sigmoid neuron, or a softmax layer of K), scikit-learn's fit of the same
data (LogisticRegression with C = 1/λ) and its confusion_matrix and log_loss, and predictions
recomputed from a model file's numbers with NumPy. Everything is written under pytest's
tmp_path.
"""

import re
from types import SimpleNamespace

import numpy as np
import pytest
from cli_helpers import digits_run  # noqa: F401  (a fixture)
from cli_helpers import (ACCURACY_LINE, COST_LINE, PNG_MAGIC, accuracies, evaluate_by_name,
                         model_wb, parse_evaluate, printed_costs, probabilities,
                         reference_gradient_descent, run_script, sigmoid, sklearn_fit,
                         softmax_gradient_descent, stored)
from helpers import assert_user_error, run_cli, run_quietly
from sklearn.metrics import confusion_matrix, log_loss

import logreg
from logreg.data import load_digits10, load_digits_task


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_reference():
    """The built-in task, /255, trained by the plain NumPy reference."""
    train, test = load_digits_task()
    X_train, X_test = train.X / 255.0, test.X / 255.0
    w, b, costs = reference_gradient_descent(X_train, train.Y, 2000, 0.005)
    return SimpleNamespace(train=train, test=test, X_train=X_train, X_test=X_test, w=w, b=b,
                           costs=costs)


@pytest.fixture(scope="module")
def digits10_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits10")
    result = run_quietly(["train", "--data", "digits10", "--solver", "lbfgs", "--l2", 10,
                          "--tol", 1e-9, "--iterations", 2000, "--out", folder, "--quiet"])
    return SimpleNamespace(result=result, model=folder / "model.safetensors")


# --- train on the built-in data -------------------------------------------------------------


def test_train_default_prints_costs_every_100_iterations(digits_run):
    assert digits_run.code == 0, digits_run.err
    assert "Cost after iteration 0: 0.693147" in digits_run.out.splitlines()
    assert [i for i, _ in printed_costs(digits_run.out)] == list(range(0, 2000, 100))
    costs = [c for _, c in printed_costs(digits_run.out)]
    assert all(a > b for a, b in zip(costs, costs[1:])), "the cost should fall at every print"
    assert set(accuracies(digits_run.out)) == {"train", "test"}


def test_train_default_writes_model_and_png(digits_run):
    assert digits_run.model.read_bytes()[:8] != PNG_MAGIC
    assert digits_run.curve.read_bytes().startswith(PNG_MAGIC)
    assert f"Model written to {digits_run.model}" in digits_run.out
    assert f"Learning curve written to {digits_run.curve}" in digits_run.out
    assert sorted(p.name for p in digits_run.folder.iterdir()) == ["learning_curve.png",
                                                                 "model.safetensors"]


def test_train_default_matches_reference_gradient_descent(digits_run, digits_reference):
    w, b, model = model_wb(digits_run.model)
    assert w.shape == (64, 1)
    np.testing.assert_allclose(w, digits_reference.w, rtol=1e-9, atol=1e-12)
    assert b == pytest.approx(digits_reference.b, rel=1e-9, abs=1e-12)
    for i, cost in printed_costs(digits_run.out):
        assert cost == pytest.approx(digits_reference.costs[i], abs=1.5e-6)
    assert model.classes_.tolist() == ["3", "8"]
    assert len(model.costs_) == 2000


def test_train_default_accuracies_match_saved_model(digits_run, digits_reference):
    w, b, model = model_wb(digits_run.model)
    ref = digits_reference
    printed = accuracies(digits_run.out)
    for name, X, data in (("train", ref.X_train, ref.train), ("test", ref.X_test, ref.test)):
        Y_hat = (w.T @ X + b > 0).astype(float)
        assert np.array_equal(Y_hat, (ref.w.T @ X + ref.b > 0).astype(float))
        assert printed[name] == pytest.approx(100 * np.mean(Y_hat == data.Y), abs=1e-9)
        # the loaded estimator (rows = examples) predicts the same labels
        expected = np.where(Y_hat.ravel() == 1, "8", "3")
        assert model.predict(X.T).tolist() == expected.tolist()


def test_default_demo_figures_are_unchanged(digits_run):
    code, out, err = digits_run.code, digits_run.out, digits_run.err
    assert code == 0, err
    assert "train accuracy: 97.37827715355806 %" in out.splitlines()
    assert "test accuracy: 94.44444444444444 %" in out.splitlines()
    assert "classes '3' (0) and '8' (1)." in out


def test_train_console_script_end_to_end(tmp_path, digits_run):
    """The installed command, as a real process, in a temporary working folder."""
    code, out, err = run_script(["train", "--out", tmp_path / "out"], cwd=tmp_path)
    assert code == 0, err
    assert "Traceback" not in err
    assert "Cost after iteration 0: 0.693147" in out.splitlines()
    assert [i for i, _ in printed_costs(out)] == list(range(0, 2000, 100))
    assert COST_LINE.findall(out) == COST_LINE.findall(digits_run.out)
    assert ACCURACY_LINE.findall(out) == ACCURACY_LINE.findall(digits_run.out)
    assert (tmp_path / "out" / "learning_curve.png").read_bytes().startswith(PNG_MAGIC)
    # deterministic: bit-identical weights to the in-process run
    w1, b1, _ = model_wb(tmp_path / "out" / "model.safetensors")
    w2, b2, _ = model_wb(digits_run.model)
    assert np.array_equal(w1, w2) and b1 == b2


def test_train_default_out_folder_in_working_directory(tmp_path):
    code, out, err = run_script(["train", "--iterations", "20", "--quiet"], cwd=tmp_path,
                                module=True)
    assert code == 0, err
    assert "Cost after" not in out
    assert set(accuracies(out)) == {"train", "test"}
    assert (tmp_path / "logreg-output" / "model.safetensors").is_file()
    assert (tmp_path / "logreg-output" / "learning_curve.png").read_bytes()[:8] == PNG_MAGIC


def test_train_iterations_and_learning_rate_options(tmp_path, capsys, digits_reference,
                                                     digits_run):
    code, out, err = run_cli(["train", "--iterations", "300", "--learning-rate", "0.01",
                              "--out", tmp_path / "out"], capsys)
    assert code == 0, err
    assert [i for i, _ in printed_costs(out)] == [0, 100, 200]
    w_ref, b_ref, costs_ref = reference_gradient_descent(digits_reference.X_train,
                                                         digits_reference.train.Y, 300, 0.01)
    for i, cost in printed_costs(out):
        assert cost == pytest.approx(costs_ref[i], abs=1.5e-6)
    # α = 0.01 falls faster than the default 0.005 by iteration 100
    assert printed_costs(out)[1][1] < printed_costs(digits_run.out)[1][1]
    w, b, model = model_wb(tmp_path / "out" / "model.safetensors")
    np.testing.assert_allclose(w, w_ref, rtol=1e-9, atol=1e-12)
    assert model.metadata_["training"]["num_iterations"] == 300
    assert model.metadata_["training"]["learning_rate"] == 0.01
    assert len(model.costs_) == 300
    train_acc = 100 * np.mean((w_ref.T @ digits_reference.X_train + b_ref > 0)
                              == digits_reference.train.Y)
    assert accuracies(out)["train"] == pytest.approx(train_acc, abs=1e-9)


def test_train_out_path_ending_in_safetensors(tmp_path, capsys):
    target = tmp_path / "models" / "digits-3v8.safetensors"
    target.parent.mkdir()
    code, out, err = run_cli(["train", "--iterations", "10", "--out", target], capsys)
    assert code == 0, err
    assert sorted(p.name for p in target.parent.iterdir()) == ["digits-3v8.png",
                                                               "digits-3v8.safetensors"]
    assert target.with_suffix(".png").read_bytes().startswith(PNG_MAGIC)
    assert logreg.load(target).n_features_in_ == 64
    assert not (tmp_path / "models" / "model.safetensors").exists()


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


# --- evaluate on the built-in data ----------------------------------------------------------


BUILT_IN_SETS = {
    "digits": SimpleNamespace(
        run="digits_run", load=load_digits_task, names=["3", "8"],
        header="Evaluated on 90 held-out examples of scikit-learn digits, 3 against 8 (train "
               "kept the other 267; --all-rows scores all 357)"),
    "digits10": SimpleNamespace(
        run="digits10_run", load=load_digits10, names=[str(k) for k in range(10)],
        header="Evaluated on 450 held-out examples of scikit-learn digits, all ten (train kept "
               "the other 1347; --all-rows scores all 1797)"),
}


@pytest.mark.parametrize("data", sorted(BUILT_IN_SETS))
def test_evaluate_built_in_set_agrees_with_train_numpy_and_sklearn(data, request, capsys):
    """`logreg evaluate MODEL --data SET` of the model trained on SET (2 classes: the default
    run's σ neuron; 10: the digits10 run's softmax layer), on the held-out examples train
    tested on: what train printed, and the model file's numbers scored by scikit-learn."""
    case = BUILT_IN_SETS[data]
    run = request.getfixturevalue(case.run)
    train_out = run.out if case.run == "digits_run" else run.result[1]
    code, out, err = run_cli(["evaluate", run.model, "--data", data], capsys)
    assert code == 0, err
    assert out.startswith(case.header)
    accuracy, loss, names, matrix = parse_evaluate(out)
    k = len(case.names)
    assert names == case.names and matrix.shape == (k, k)
    assert accuracy == accuracies(train_out)["test"]
    _, test = case.load()
    W, b, _ = stored(run.model)
    P = probabilities(W, b, test.X.T / 255)  # [1 − σ, σ] or softmax of the file's numbers
    y_true = test.Y.ravel().astype(int)
    np.testing.assert_array_equal(matrix, confusion_matrix(y_true, P.argmax(axis=1),
                                                           labels=list(range(k))))
    assert matrix.sum() == test.m
    assert accuracy == pytest.approx(100 * np.mean(P.argmax(axis=1) == y_true), abs=1e-12)
    assert loss == pytest.approx(log_loss(y_true, P, labels=list(range(k))), abs=1e-6)
    if k == 2:  # the notes' σ neuron and its cross-entropy, written out
        w, b, _ = model_wb(run.model)
        A = sigmoid(w.T @ (test.X / 255) + b)
        Y_hat, Y = (A > 0.5).astype(float), test.Y
        assert accuracy == pytest.approx(100 * np.mean(Y_hat == Y), abs=1e-9)
        assert loss == pytest.approx(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)),
                                     abs=1e-6)
        y, p = Y.ravel(), Y_hat.ravel()
        assert evaluate_by_name(out)[3] == {
            "3": [int(np.sum((y == 0) & (p == 0))), int(np.sum((y == 0) & (p == 1)))],
            "8": [int(np.sum((y == 1) & (p == 0))), int(np.sum((y == 1) & (p == 1)))]}


def test_digits10_model_evaluated_on_the_binary_digits_names_classes(digits10_run, capsys):
    """The binary set's classes "3" and "8" are rows 3 and 8 of the ten; the set is not the
    model's training data, so it is scored whole: its 183 threes and 174 eights."""
    code, out, err = run_cli(["evaluate", digits10_run.model, "--data", "digits"], capsys)
    assert code == 0, err
    _, _, names, matrix = parse_evaluate(out)
    assert names == [str(k) for k in range(10)]
    counts = matrix.sum(axis=1)
    assert (counts[3], counts[8], counts.sum()) == (183, 174, 357)


def test_evaluate_refuses_images_of_another_shape(catvnoncat, digits_run, capsys):
    assert_user_error(run_cli(["evaluate", digits_run.model, "--data",
                               catvnoncat / "test_catvnoncat.h5"], capsys),
                      "(64, 64, 3)", "(8, 8, 1)")


# --- rates, version, help, data synth ---------------------------------------------------------


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


def test_version(capsys):
    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and out.strip() == f"logreg {logreg.__version__}"


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
