"""The command, end to end: `logreg train / predict / evaluate`.

Truth comes from outside the code under test: the exercise's published figures, a plain NumPy
re-implementation of the notes' gradient descent, and predictions recomputed from a model
file's w and b with NumPy. Everything is written under pytest's tmp_path.
"""

import os
import pickle
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import logreg
from logreg.data import load_digits_task

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COST_LINE = re.compile(r"^Cost after iteration (\d+): (\d+\.\d{6})$", re.M)
ACCURACY_LINE = re.compile(r"^(train|test) accuracy: (\S+) %$", re.M)

# The exercise's published costs on the cat data (2000 iterations, learning rate 0.005).
PUBLISHED_CAT_COSTS = [
    "0.693147", "0.584508", "0.466949", "0.376007", "0.331463", "0.303273", "0.279880",
    "0.260042", "0.242941", "0.228004", "0.214820", "0.203078", "0.192544", "0.183033",
    "0.174399", "0.166521", "0.159305", "0.152667", "0.146542", "0.140872"]


# --- helpers -----------------------------------------------------------------------------


from helpers import run_cli as run_in_process  # noqa: E402
from helpers import assert_user_error, run_quietly  # noqa: E402




def console_script():
    script = Path(sys.executable).with_name("logreg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "logreg"]


def run_script(argv, cwd, module=False):
    command = [sys.executable, "-m", "logreg"] if module else console_script()
    done = subprocess.run(command + [str(a) for a in argv], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr




def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def reference_gradient_descent(X, Y, num_iterations, learning_rate):
    """The notes' recipe written out plainly: w = 0, b = 0, batch gradient descent."""
    n_x, m = X.shape
    w, b, costs = np.zeros((n_x, 1)), 0.0, []
    for _ in range(num_iterations):
        A = sigmoid(w.T @ X + b)
        costs.append(float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))))
        dZ = A - Y
        w = w - learning_rate * (X @ dZ.T) / m
        b = b - learning_rate * float(np.mean(dZ))
    return w, b, costs


def model_wb(path):
    model = logreg.load(path)
    return model.coef_.T.astype(np.float64), float(model.intercept_[0]), model


def printed_costs(out):
    return [(int(i), float(c)) for i, c in COST_LINE.findall(out)]


def printed_accuracies(out):
    return {name: float(value) for name, value in ACCURACY_LINE.findall(out)}


def parse_predict(out):
    """[(input, P(positive class), label)] from `logreg predict` output (header line skipped):
    one probability per class, the positive class (the second) last; they sum to 1."""
    lines = out.strip().splitlines()
    header = lines[0].split()
    assert header[0] == "input" and header[-1] == "label"
    k = len(header) - 2  # one column P(class) per class
    rows = []
    for line in lines[1:]:
        tokens = line.split()
        probabilities = [float(p) for p in tokens[-1 - k:-1]]
        assert sum(probabilities) == pytest.approx(1.0, abs=2e-6)
        rows.append((" ".join(tokens[:-1 - k]), probabilities[-1], tokens[-1]))
    return rows


def parse_evaluate(out):
    accuracy = float(re.search(r"^accuracy: (\S+) %$", out, re.M).group(1))
    log_loss = float(re.search(r"^log loss: (\S+)$", out, re.M).group(1))
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("confusion matrix"))
    names = lines[start + 1].split()
    matrix = {}
    for line in lines[start + 2: start + 2 + len(names)]:
        name, *counts = line.split()
        matrix[name] = [int(c) for c in counts]
    return accuracy, log_loss, names, matrix


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows])
                    + "\n")
    return path


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cat_dir(catvnoncat):
    """The exercise's cat / non-cat folder (conftest's ``catvnoncat``: skips where absent)."""
    return catvnoncat


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """`logreg train` with no data arguments, in-process, defaults (2000 steps, α = 0.005)."""
    folder = tmp_path_factory.mktemp("digits") / "out"
    code, out, err = run_quietly(["train", "--out", folder])
    return SimpleNamespace(code=code, out=out, err=err, folder=folder,
                           model=folder / "model.safetensors",
                           curve=folder / "learning_curve.png")


@pytest.fixture(scope="module")
def digits_reference():
    """The built-in task, /255, trained by the plain NumPy reference."""
    train, test = load_digits_task()
    X_train, X_test = train.X / 255.0, test.X / 255.0
    w, b, costs = reference_gradient_descent(X_train, train.Y, 2000, 0.005)
    return SimpleNamespace(train=train, test=test, X_train=X_train, X_test=X_test, w=w, b=b,
                           costs=costs)


@pytest.fixture(scope="module")
def cat_run(cat_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cat") / "cat"
    code, out, err = run_quietly(["train", "--data", cat_dir / "train_catvnoncat.h5",
                                  "--test-data", cat_dir / "test_catvnoncat.h5",
                                  "--out", folder])
    return SimpleNamespace(code=code, out=out, err=err, model=folder / "model.safetensors",
                           curve=folder / "learning_curve.png")


@pytest.fixture(scope="module")
def cat_test_set(cat_dir):
    import h5py

    with h5py.File(cat_dir / "test_catvnoncat.h5", "r") as handle:
        return np.asarray(handle["test_set_x"][()]), np.asarray(handle["test_set_y"][()])


# --- train on the built-in data -------------------------------------------------------------


def test_train_default_prints_costs_every_100_iterations(digits_run):
    assert digits_run.code == 0, digits_run.err
    assert "Cost after iteration 0: 0.693147" in digits_run.out.splitlines()
    assert [i for i, _ in printed_costs(digits_run.out)] == list(range(0, 2000, 100))
    costs = [c for _, c in printed_costs(digits_run.out)]
    assert all(a > b for a, b in zip(costs, costs[1:])), "the cost should fall at every print"
    assert set(printed_accuracies(digits_run.out)) == {"train", "test"}


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
    accuracies = printed_accuracies(digits_run.out)
    for name, X, data in (("train", ref.X_train, ref.train), ("test", ref.X_test, ref.test)):
        Y_hat = (w.T @ X + b > 0).astype(float)
        assert np.array_equal(Y_hat, (ref.w.T @ X + ref.b > 0).astype(float))
        assert accuracies[name] == pytest.approx(100 * np.mean(Y_hat == data.Y), abs=1e-9)
        # the loaded estimator (rows = examples) predicts the same labels
        expected = np.where(Y_hat.ravel() == 1, "8", "3")
        assert model.predict(X.T).tolist() == expected.tolist()


def test_evaluate_digits_agrees_with_train_and_numpy(digits_run, digits_reference, capsys):
    code, out, err = run_in_process(["evaluate", digits_run.model, "--data", "digits"],
                                    capsys)
    assert code == 0, err
    accuracy, log_loss, names, matrix = parse_evaluate(out)
    assert accuracy == printed_accuracies(digits_run.out)["test"]
    w, b, _ = model_wb(digits_run.model)
    X, Y = digits_reference.X_test, digits_reference.test.Y
    A = sigmoid(w.T @ X + b)
    Y_hat = (A > 0.5).astype(float)
    assert accuracy == pytest.approx(100 * np.mean(Y_hat == Y), abs=1e-9)
    assert log_loss == pytest.approx(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)),
                                     abs=1e-6)
    assert names == ["3", "8"]
    y, p = Y.ravel(), Y_hat.ravel()
    assert matrix == {"3": [int(np.sum((y == 0) & (p == 0))), int(np.sum((y == 0) & (p == 1)))],
                      "8": [int(np.sum((y == 1) & (p == 0))), int(np.sum((y == 1) & (p == 1)))]}
    assert sum(map(sum, matrix.values())) == digits_reference.test.m


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
    assert set(printed_accuracies(out)) == {"train", "test"}
    assert (tmp_path / "logreg-output" / "model.safetensors").is_file()
    assert (tmp_path / "logreg-output" / "learning_curve.png").read_bytes()[:8] == PNG_MAGIC


def test_train_iterations_and_learning_rate_options(tmp_path, capsys, digits_reference,
                                                     digits_run):
    code, out, err = run_in_process(["train", "--iterations", "300", "--learning-rate", "0.01",
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
    assert printed_accuracies(out)["train"] == pytest.approx(train_acc, abs=1e-9)


def test_train_out_path_ending_in_safetensors(tmp_path, capsys):
    target = tmp_path / "models" / "digits-3v8.safetensors"
    target.parent.mkdir()
    code, out, err = run_in_process(["train", "--iterations", "10", "--out", target], capsys)
    assert code == 0, err
    assert sorted(p.name for p in target.parent.iterdir()) == ["digits-3v8.png",
                                                               "digits-3v8.safetensors"]
    assert target.with_suffix(".png").read_bytes().startswith(PNG_MAGIC)
    assert logreg.load(target).n_features_in_ == 64
    assert not (tmp_path / "models" / "model.safetensors").exists()


def test_version(capsys):
    code, out, _ = run_in_process(["--version"], capsys)
    assert code == 0 and out.strip() == f"logreg {logreg.__version__}"


# --- the exercise's cat data ---------------------------------------------------------------


def test_cat_train_reproduces_published_figures(cat_run):
    assert cat_run.code == 0, cat_run.err
    lines = cat_run.out.splitlines()
    assert "train accuracy: 99.04306220095694 %" in lines
    assert "test accuracy: 70.0 %" in lines
    assert [c for _, c in COST_LINE.findall(cat_run.out)] == PUBLISHED_CAT_COSTS
    assert cat_run.curve.read_bytes().startswith(PNG_MAGIC)
    model = logreg.load(cat_run.model)
    assert model.classes_.tolist() == ["non-cat", "cat"]
    assert model.metadata_["preprocessing"]["image_shape"] == [64, 64, 3]


def test_cat_evaluate(cat_run, cat_dir, cat_test_set, capsys):
    code, out, err = run_in_process(["evaluate", cat_run.model, "--data",
                                     cat_dir / "test_catvnoncat.h5"], capsys)
    assert code == 0, err
    assert "accuracy: 70.0 %" in out.splitlines()
    accuracy, log_loss, names, matrix = parse_evaluate(out)
    assert names == ["non-cat", "cat"]
    assert sum(map(sum, matrix.values())) == 50
    assert sum(matrix["cat"]) == 33 and sum(matrix["non-cat"]) == 17
    # independent: the model's w, b on the exercise's flattening
    images, y = cat_test_set
    w, b, _ = model_wb(cat_run.model)
    A = sigmoid(w.T @ (images.reshape(len(images), -1).T / 255) + b).ravel()
    p = (A > 0.5).astype(int)
    assert matrix == {"non-cat": [int(np.sum((y == 0) & (p == 0))),
                                  int(np.sum((y == 0) & (p == 1)))],
                      "cat": [int(np.sum((y == 1) & (p == 0))), int(np.sum((y == 1) & (p == 1)))]}
    assert matrix["non-cat"][0] + matrix["cat"][1] == 35  # 70 % of 50
    assert log_loss == pytest.approx(-np.mean(y * np.log(A) + (1 - y) * np.log(1 - A)),
                                     abs=1e-6)


def test_cat_predict_png_files(cat_run, cat_test_set, tmp_path, capsys):
    from PIL import Image

    images, _ = cat_test_set
    indices = [0, 1, 5, 6, 13, 14, 16, 44]
    files = []
    for i in indices:
        files.append(tmp_path / f"test{i}.png")
        Image.fromarray(images[i]).save(files[-1])
    code, out, err = run_in_process(["predict", cat_run.model, *files], capsys)
    assert code == 0, err
    assert out.splitlines()[0].split()[1:3] == ["P(non-cat)", "P(cat)"]
    rows = parse_predict(out)
    assert [name for name, _, _ in rows] == [str(f) for f in files]
    w, b, _ = model_wb(cat_run.model)
    for (name, probability, label), i in zip(rows, indices):
        expected = float(sigmoid(w.T @ (images[i].reshape(-1, 1) / 255) + b)[0, 0])
        assert 0 <= probability <= 1
        assert probability == pytest.approx(expected, abs=6e-7)
        assert label == ("cat" if expected > 0.5 else "non-cat")
    assert {label for _, _, label in rows} == {"cat", "non-cat"}  # both answers appear


def test_cat_predict_converts_rgba_and_grayscale(cat_run, cat_test_set, tmp_path, capsys):
    from PIL import Image

    image = cat_test_set[0][3]
    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "opaque.png")
    gray = image[..., 0]
    Image.fromarray(gray, "L").save(tmp_path / "gray.png")
    code, out, err = run_in_process(["predict", cat_run.model, tmp_path / "opaque.png",
                                     tmp_path / "gray.png"], capsys)
    assert code == 0, err
    w, b, _ = model_wb(cat_run.model)
    rows = parse_predict(out)
    for (_, probability, _), pixels in zip(rows, (image, np.dstack([gray] * 3))):
        expected = float(sigmoid(w.T @ (pixels.reshape(-1, 1) / 255) + b)[0, 0])
        assert probability == pytest.approx(expected, abs=6e-7)


def test_cat_predict_console_script(cat_run, cat_test_set, tmp_path):
    from PIL import Image

    images, _ = cat_test_set
    Image.fromarray(images[7]).save(tmp_path / "seven.png")
    code, out, err = run_script(["predict", cat_run.model, "seven.png"], cwd=tmp_path)
    assert code == 0, err
    [(name, probability, label)] = parse_predict(out)
    w, b, _ = model_wb(cat_run.model)
    expected = float(sigmoid(w.T @ (images[7].reshape(-1, 1) / 255) + b)[0, 0])
    assert name == "seven.png"
    assert probability == pytest.approx(expected, abs=6e-7)
    assert label == ("cat" if expected > 0.5 else "non-cat")


def test_evaluate_refuses_images_of_another_shape(cat_dir, digits_run, capsys):
    assert_user_error(run_in_process(["evaluate", digits_run.model, "--data",
                                      cat_dir / "test_catvnoncat.h5"], capsys),
                      "(64, 64, 3)", "(8, 8, 1)")


# --- tables ----------------------------------------------------------------------------


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
    code, out, err = run_in_process(["train", "--data", table.path, "--label-column", "outcome",
                                     "--test-size", "0", "--iterations", "400",
                                     "--learning-rate", "0.1", "--out", model_path], capsys)
    assert code == 0, err
    assert set(printed_accuracies(out)) == {"train"}
    model = logreg.load(model_path)
    assert model.classes_.tolist() == ["no", "yes"]
    assert model.metadata_["feature_names"] == ["height", "weight", "age"]

    # independent: standardise with the training rows' μ, σ; p = σ(w·x + b)
    w, b, _ = model_wb(model_path)
    mean, spread = table.X.mean(axis=0), table.X.std(axis=0)
    expected = sigmoid(((table.X - mean) / spread) @ w + b).ravel()
    y_hat = np.where(expected > 0.5, "yes", "no")
    assert printed_accuracies(out)["train"] == pytest.approx(100 * np.mean(y_hat == table.y),
                                                             abs=1e-9)
    assert np.mean(y_hat == table.y) > 0.85  # it learned the rule

    code, out, err = run_in_process(["predict", model_path, table.path], capsys)
    assert code == 0, err
    assert out.splitlines()[0].split()[1:3] == ["P(no)", "P(yes)"]
    rows = parse_predict(out)
    assert [name for name, _, _ in rows] == [f"row {i}" for i in range(1, len(table.rows) + 1)]
    np.testing.assert_allclose([p for _, p, _ in rows], expected, atol=6e-7)
    assert [label for _, _, label in rows] == y_hat.tolist()

    # the same rows, columns shuffled, label column dropped, an extra column added
    shuffled = write_csv(tmp_path / "shuffled.csv", ["id", "age", "height", "weight"],
                         [(i, r[2], r[0], r[1]) for i, r in enumerate(table.rows)])
    code, out2, err = run_in_process(["predict", model_path, shuffled], capsys)
    assert code == 0, err
    assert [(p, label) for _, p, label in parse_predict(out2)] == \
        [(p, label) for _, p, label in rows]


def test_csv_predict_prints_no_warning(table, tmp_path):
    model_path = tmp_path / "m.safetensors"
    assert run_script(["train", "--data", table.path, "--label-column", "outcome",
                       "--iterations", "5", "--out", model_path], tmp_path)[0] == 0
    code, out, err = run_script(["predict", model_path, table.path, "--all-rows"], tmp_path,
                                module=True)
    assert code == 0
    assert len(parse_predict(out)) == len(table.rows)
    assert err == ""


def test_csv_evaluate(table, tmp_path, capsys):
    model_path = tmp_path / "m.safetensors"
    assert run_in_process(["train", "--data", table.path, "--label-column", "outcome",
                           "--iterations", "200", "--learning-rate", "0.1", "--out",
                           model_path], capsys)[0] == 0
    code, out, err = run_in_process(["evaluate", model_path, "--data", table.path,
                                     "--all-rows"], capsys)  # its own data: all 80 rows
    assert code == 0, err  # the model remembers its label column
    accuracy, _, names, matrix = parse_evaluate(out)
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
    assert run_in_process(["train", "--data", table.path, "--label-column", "outcome",
                           "--iterations", "5", "--out", model_path], capsys)[0] == 0
    partial = write_csv(tmp_path / "partial.csv", ["height", "age"],
                        [(r[0], r[2]) for r in table.rows])
    assert_user_error(run_in_process(["predict", model_path, partial], capsys), "weight")


# --- a folder of images --------------------------------------------------------------------


def make_image_folder(root, n=8, size=8, gray=False):
    """root/a: dark images, root/b: bright ones; every image distinct."""
    from PIL import Image

    rng = np.random.default_rng(3)
    files = {"a": [], "b": []}
    for name, (low, high) in (("a", (0, 90)), ("b", (165, 256))):
        (root / name).mkdir(parents=True)
        for i in range(n):
            shape = (size, size) if gray else (size, size, 3)
            pixels = rng.integers(low, high, shape, dtype=np.uint8)
            if gray:
                pixels = np.dstack([pixels] * 3)
            path = root / name / f"{name}{i}.png"
            Image.fromarray(pixels).save(path)
            files[name].append((path, pixels))
    return files


def test_image_folder_train_and_predict(tmp_path, capsys):
    files = make_image_folder(tmp_path / "imgs")
    model_path = tmp_path / "out" / "model.safetensors"
    code, out, err = run_in_process(["train", "--data", tmp_path / "imgs", "--image-size", "8",
                                     "8", "--iterations", "300", "--learning-rate", "0.05",
                                     "--out", tmp_path / "out"], capsys)
    assert code == 0, err
    assert "train accuracy: 100.0 %" in out.splitlines()
    assert "test accuracy: 100.0 %" in out.splitlines()  # 25 % held out
    model = logreg.load(model_path)
    assert model.classes_.tolist() == ["a", "b"]
    assert model.metadata_["preprocessing"]["image_shape"] == [8, 8, 3]
    assert model.n_features_in_ == 8 * 8 * 3

    inputs = [path for name in "ab" for path, _ in files[name]]
    code, out, err = run_in_process(["predict", model_path, *inputs], capsys)
    assert code == 0, err
    rows = parse_predict(out)
    assert len(rows) == len(inputs)
    w, b, _ = model_wb(model_path)
    for (name, probability, label), (path, pixels) in zip(rows, files["a"] + files["b"]):
        expected = float(sigmoid(w.T @ (pixels.reshape(-1, 1) / 255) + b)[0, 0])
        assert name == str(path)
        assert probability == pytest.approx(expected, abs=6e-7)
        assert label == path.parent.name

    # a folder as input: its images, sorted, same answers
    code, out_a, err = run_in_process(["predict", model_path, tmp_path / "imgs" / "a"], capsys)
    assert code == 0, err
    assert parse_predict(out_a) == rows[:len(files["a"])]


def test_image_folder_grayscale(tmp_path, capsys):
    files = make_image_folder(tmp_path / "imgs", gray=True)
    model_path = tmp_path / "g.safetensors"
    code, out, err = run_in_process(["train", "--data", tmp_path / "imgs", "--image-size", "8",
                                     "8", "--grayscale", "--test-size", "0", "--iterations",
                                     "300", "--learning-rate", "0.05", "--out", model_path],
                                    capsys)
    assert code == 0, err
    assert logreg.load(model_path).metadata_["preprocessing"]["image_shape"] == [8, 8, 1]
    path, pixels = files["b"][0]
    code, out, err = run_in_process(["predict", model_path, path], capsys)
    assert code == 0, err
    w, b, _ = model_wb(model_path)
    expected = float(sigmoid(w.T @ (pixels[..., :1].reshape(-1, 1) / 255) + b)[0, 0])
    [(_, probability, label)] = parse_predict(out)
    assert probability == pytest.approx(expected, abs=6e-7)
    assert label == "b"


def test_predict_resizes_images_to_the_model_size(tmp_path, capsys):
    from PIL import Image

    make_image_folder(tmp_path / "imgs")
    model_path = tmp_path / "m.safetensors"
    assert run_in_process(["train", "--data", tmp_path / "imgs", "--image-size", "8", "8",
                           "--iterations", "300", "--learning-rate", "0.05", "--out",
                           model_path], capsys)[0] == 0
    Image.fromarray(np.full((32, 24, 3), 240, np.uint8)).save(tmp_path / "big-bright.png")
    Image.fromarray(np.full((5, 5, 3), 10, np.uint8)).save(tmp_path / "small-dark.png")
    code, out, err = run_in_process(["predict", model_path, tmp_path / "big-bright.png",
                                     tmp_path / "small-dark.png"], capsys)
    assert code == 0, err
    w, b, _ = model_wb(model_path)
    rows = parse_predict(out)
    for (_, probability, label), value, name in zip(rows, (240, 10), ("b", "a")):
        # a uniform image stays uniform when resized
        expected = float(sigmoid(w.sum() * value / 255 + b))
        assert probability == pytest.approx(expected, abs=6e-7)
        assert label == name


# --- a user's mistakes: exit 2, one line on stderr, no traceback -------------------------------


@pytest.fixture()
def small_csv(tmp_path):
    return write_csv(tmp_path / "ok.csv", ["a", "b", "label"],
                     [(1, 2, "x"), (3, 1, "y"), (5, 6, "x"), (7, 3, "y"), (2, 2, "x"),
                      (6, 1, "y"), (0, 4, "x"), (8, 2, "y")])


def _h5_without_keys(tmp_path):
    import h5py

    with h5py.File(tmp_path / "odd.h5", "w") as handle:
        handle["pictures"] = np.zeros((2, 4, 4, 3), np.uint8)
        handle["answers"] = np.array([0, 1])
    return tmp_path / "odd.h5"


def _model_file(tmp_path, w, meta):
    import json

    from safetensors.numpy import save_file

    path = tmp_path / "crafted.safetensors"
    save_file({"w": w, "b": np.zeros(1)}, str(path), metadata={"logreg": json.dumps(meta)})
    return path


MISTAKES = {
    "missing --data path": (
        lambda t, m: ["train", "--data", t / "nope.h5", "--out", t / "o"],
        ["nope.h5", "does not exist"]),
    "unknown suffix": (
        lambda t, m: ["train", "--data", _touch(t / "data.txt", b"1,2\n"), "--out", t / "o"],
        ["data.txt", ".txt"]),
    "corrupt image to predict": (
        lambda t, m: ["predict", m, _touch(t / "broken.png", PNG_MAGIC + os.urandom(200))],
        ["broken.png", "image"]),
    "h5 without the expected keys": (
        lambda t, m: ["train", "--data", _h5_without_keys(t), "--out", t / "o"],
        ["odd.h5", "train_set_x"]),
    "csv without the label column": (
        lambda t, m: ["train", "--data", write_csv(t / "nolabel.csv", ["a", "b", "kind"],
                                                   [(1, 2, "x"), (3, 4, "y")]),
                      "--out", t / "o"],
        ["nolabel.csv", "'label'"]),
    "csv with ragged rows": (
        lambda t, m: ["train", "--data", _touch(t / "ragged.csv",
                                                b"a,b,label\n1,2,x\n3,4\n5,6,y\n"),
                      "--out", t / "o"],
        ["ragged.csv", "line 3"]),
    "csv with NaN": (
        lambda t, m: ["train", "--data", _touch(t / "nan.csv",
                                                b"a,b,label\n1,2,x\n3,nan,y\n5,6,x\n7,8,y\n"),
                      "--test-size", "0", "--out", t / "o"],
        ["nan"]),
    "one class only": (
        lambda t, m: ["train", "--data", _touch(t / "one.csv",
                                                b"a,b,label\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n"),
                      "--test-size", "0", "--out", t / "o"],
        ["one class"]),
    "truncated model file": (
        lambda t, m: ["predict", _touch(t / "cut.safetensors",
                                        m.read_bytes()[: len(m.read_bytes()) // 2]),
                      _touch(t / "x.png", b"")],
        ["cut.safetensors", "truncated"]),
    "random bytes as model": (
        lambda t, m: ["predict", _touch(t / "noise.safetensors",
                                        np.random.default_rng(0).bytes(4096)),
                      _touch(t / "x.png", b"")],
        ["noise.safetensors", "model file"]),
    "model from a newer format": (
        lambda t, m: ["predict", _model_file(t, np.zeros((4, 1)), {
            "format": "logreg-model", "format_version": 999, "n_x": 4,
            "classes": ["a", "b"]}), _touch(t / "x.csv", b"a,b,c,d\n1,2,3,4\n")],
        ["999", "newer"]),
    "weights not matching metadata": (
        lambda t, m: ["predict", _model_file(t, np.zeros((3, 1)), {
            "format": "logreg-model", "format_version": 1, "n_x": 4,
            "classes": ["a", "b"]}), _touch(t / "x.csv", b"a,b,c,d\n1,2,3,4\n")],
        ["(3, 1)", "n_x = 4"]),
    "missing model file": (
        lambda t, m: ["predict", t / "absent.safetensors", _touch(t / "x.png", b"")],
        ["absent.safetensors", "does not exist"]),
    "out under a regular file (.safetensors)": (
        lambda t, m: ["train", "--iterations", "1", "--out",
                      _touch(t / "afile", b"x") / "model.safetensors"],
        ["afile"]),
    "out under a regular file (folder)": (
        lambda t, m: ["train", "--iterations", "1", "--out", _touch(t / "afile", b"x") / "sub"],
        ["afile"]),
    "out is a regular file": (
        lambda t, m: ["train", "--iterations", "1", "--out", _touch(t / "afile", b"x")],
        ["afile", "is a file"]),
    "out under a missing folder": (
        lambda t, m: ["train", "--iterations", "1", "--out", t / "no" / "where.safetensors"],
        ["where.safetensors", "does not exist"]),
    "unknown option": (
        lambda t, m: ["train", "--bogus"], ["--bogus"]),
    "unknown command": (
        lambda t, m: ["fly"], ["fly"]),
    "test-size out of range (csv)": (
        lambda t, m: ["train", "--data", t / "ok.csv", "--test-size", "1.5", "--out", t / "o"],
        ["--test-size", "1.5"]),
    "zero iterations": (
        lambda t, m: ["train", "--iterations", "0", "--out", t / "o"], ["iterations"]),
    "negative learning rate": (
        lambda t, m: ["train", "--learning-rate", "-1", "--out", t / "o"], ["learning"]),
    "image model given a folder without images": (
        lambda t, m: ["predict", m, _mkdir(t / "empty")], ["no image files"]),
    "table model given images": (
        lambda t, m: ["predict", _table_model(t), _touch(t / "x.png", b"")], ["table"]),
}


def _touch(path, data):
    path.write_bytes(data)
    return path


def _mkdir(path):
    path.mkdir()
    return path


def _table_model(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["a", "label"], [(1, "x"), (2, "y"), (3, "x"),
                                                         (4, "y")])
    run_quietly(["train", "--data", path, "--test-size", "0", "--iterations", "3", "--out",
                 tmp_path / "t.safetensors"])
    return tmp_path / "t.safetensors"


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_user_mistake_is_one_line_exit_2(case, tmp_path, small_csv, digits_run, capsys):
    build, fragments = MISTAKES[case]
    argv = build(tmp_path, digits_run.model)
    assert_user_error(run_in_process(argv, capsys), *fragments)


def test_test_size_out_of_range_with_default_data(tmp_path, capsys):
    assert_user_error(run_in_process(["train", "--test-size", "1.5", "--iterations", "1",
                                      "--out", tmp_path / "o"], capsys), "--test-size")


def test_test_data_missing_with_default_data(tmp_path, capsys):
    assert_user_error(run_in_process(["train", "--test-data", tmp_path / "absent.csv",
                                      "--iterations", "1", "--out", tmp_path / "o"], capsys),
                      "absent.csv")


def test_out_under_regular_file_names_the_real_problem(tmp_path, capsys):
    parent = _touch(tmp_path / "afile", b"x")
    line = assert_user_error(run_in_process(["train", "--iterations", "1", "--out",
                                             parent / "m.safetensors"], capsys), "afile")
    assert "does not exist" not in line
    assert "not a folder" in line or "is a file" in line


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can write to read-only folders")
def test_out_in_read_only_folder(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert_user_error(run_in_process(["train", "--iterations", "1", "--out",
                                          folder / "m.safetensors"], capsys), "permission")
    finally:
        folder.chmod(0o755)


def test_user_mistakes_as_real_processes(tmp_path):
    assert_user_error(run_script(["train", "--data", "missing.h5", "--out", "o"], tmp_path),
                      "missing.h5")
    assert_user_error(run_script(["predict", "--nope", "m.safetensors", "x.png"], tmp_path),
                      "--nope")
    assert_user_error(run_script(["evaluate", "m.safetensors"], tmp_path, module=True),
                      "--data")


class _Payload:
    """A pickle that, if ever unpickled, creates a file: proof of code execution."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_payload_is_never_unpickled(tmp_path, capsys):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Payload(control))).close()
    assert control.exists(), "the payload must be live for this test to mean anything"

    marker = tmp_path / "PWNED"
    evil = _touch(tmp_path / "model.safetensors", pickle.dumps(_Payload(marker)))
    with pytest.raises(logreg.LogregError):
        logreg.load(evil)
    assert_user_error(run_in_process(["predict", evil, _touch(tmp_path / "x.png", b"")],
                                     capsys), "model.safetensors")
    assert_user_error(run_script(["evaluate", evil, "--data", "digits"], tmp_path),
                      "model.safetensors")
    assert not marker.exists()


# --- a failed run writes nothing -----------------------------------------------------------


def _no_temporaries(folder):
    """Temporary files (".<name>.<random><suffix>") left behind."""
    return [p for p in Path(folder).rglob(".*")]


@pytest.mark.parametrize("bad_test_data", ["absent.csv", "wrong-columns.csv", "ragged.csv"])
def test_failed_train_leaves_existing_files(tmp_path, small_csv, capsys, bad_test_data):
    out = tmp_path / "out"
    out.mkdir()
    sentinel_model, sentinel_curve = b"sentinel model bytes", PNG_MAGIC + b"old curve"
    (out / "model.safetensors").write_bytes(sentinel_model)
    (out / "learning_curve.png").write_bytes(sentinel_curve)
    write_csv(tmp_path / "wrong-columns.csv", ["a", "c", "label"], [(1, 2, "x"), (3, 4, "y")])
    _touch(tmp_path / "ragged.csv", b"a,b,label\n1,2,x\n3\n")
    assert_user_error(run_in_process(["train", "--data", small_csv, "--test-data",
                                      tmp_path / bad_test_data, "--iterations", "5",
                                      "--out", out], capsys), bad_test_data)
    assert (out / "model.safetensors").read_bytes() == sentinel_model
    assert (out / "learning_curve.png").read_bytes() == sentinel_curve
    assert sorted(p.name for p in out.iterdir()) == ["learning_curve.png", "model.safetensors"]
    assert not _no_temporaries(tmp_path)


def test_failed_train_on_bad_settings_leaves_existing_model(tmp_path, small_csv, capsys):
    target = _touch(tmp_path / "keep.safetensors", b"do not touch")
    assert_user_error(run_in_process(["train", "--data", small_csv, "--learning-rate", "0",
                                      "--out", target], capsys), "learning")
    assert target.read_bytes() == b"do not touch"
    assert not (tmp_path / "keep.png").exists()
    assert not _no_temporaries(tmp_path)


def test_interrupted_train_writes_nothing(tmp_path, small_csv, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    _touch(out / "model.safetensors", b"old")

    def interrupted(self, X, y, sample_weight=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(logreg.LogisticRegression, "fit", interrupted)
    code, _, err = run_in_process(["train", "--data", small_csv, "--out", out], capsys)
    assert code == 130
    assert "nothing was written" in err and "Traceback" not in err
    assert (out / "model.safetensors").read_bytes() == b"old"
    assert not (out / "learning_curve.png").exists()
    assert not _no_temporaries(tmp_path)


def test_successful_train_replaces_existing_model(tmp_path, small_csv, capsys):
    out = tmp_path / "out"
    out.mkdir()
    _touch(out / "model.safetensors", b"old")
    code, _, err = run_in_process(["train", "--data", small_csv, "--iterations", "5",
                                   "--out", out], capsys)
    assert code == 0, err
    assert logreg.load(out / "model.safetensors").classes_.tolist() == ["x", "y"]
    assert not _no_temporaries(tmp_path)
