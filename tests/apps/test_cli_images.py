"""The command on images, end to end: the exercise's cat / non-cat .h5 files, and folders of
images with one sub-folder per class (two classes, and three: a softmax layer).

Truth comes from outside the code under test: the exercise's published figures, scikit-learn's
fit of the same images (LogisticRegression with C = 1/λ) and its confusion_matrix and log_loss,
and probabilities recomputed with NumPy from a model file's numbers (σ for two classes,
softmax for K). Everything is written under pytest's tmp_path.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from cli_helpers import (COST_LINE, PNG_MAGIC, accuracies, binary_rows, evaluate_by_name,
                         model_wb, parse_evaluate, parse_predict, probabilities, run_script,
                         sigmoid, sklearn_fit, stored)
from helpers import run_cli, run_quietly
from PIL import Image
from sklearn.metrics import confusion_matrix, log_loss

import logreg


PUBLISHED_CAT_COSTS = [
    "0.693147", "0.584508", "0.466949", "0.376007", "0.331463", "0.303273", "0.279880",
    "0.260042", "0.242941", "0.228004", "0.214820", "0.203078", "0.192544", "0.183033",
    "0.174399", "0.166521", "0.159305", "0.152667", "0.146542", "0.140872"]


# --- the exercise's cat data ---------------------------------------------------------------


@pytest.fixture(scope="module")
def cat_dir(catvnoncat):
    """The exercise's cat / non-cat folder (conftest's ``catvnoncat``: skips where absent)."""
    return catvnoncat


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
    code, out, err = run_cli(["evaluate", cat_run.model, "--data",
                              cat_dir / "test_catvnoncat.h5"], capsys)
    assert code == 0, err
    assert "accuracy: 70.0 %" in out.splitlines()
    accuracy, log_loss, names, matrix = evaluate_by_name(out)
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
    code, out, err = run_cli(["predict", cat_run.model, *files], capsys)
    assert code == 0, err
    assert out.splitlines()[0].split()[1:3] == ["P(non-cat)", "P(cat)"]
    rows = binary_rows(out)
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
    code, out, err = run_cli(["predict", cat_run.model, tmp_path / "opaque.png",
                              tmp_path / "gray.png"], capsys)
    assert code == 0, err
    w, b, _ = model_wb(cat_run.model)
    rows = binary_rows(out)
    for (_, probability, _), pixels in zip(rows, (image, np.dstack([gray] * 3))):
        expected = float(sigmoid(w.T @ (pixels.reshape(-1, 1) / 255) + b)[0, 0])
        assert probability == pytest.approx(expected, abs=6e-7)


def test_cat_predict_console_script(cat_run, cat_test_set, tmp_path):
    from PIL import Image

    images, _ = cat_test_set
    Image.fromarray(images[7]).save(tmp_path / "seven.png")
    code, out, err = run_script(["predict", cat_run.model, "seven.png"], cwd=tmp_path)
    assert code == 0, err
    [(name, probability, label)] = binary_rows(out)
    w, b, _ = model_wb(cat_run.model)
    expected = float(sigmoid(w.T @ (images[7].reshape(-1, 1) / 255) + b)[0, 0])
    assert name == "seven.png"
    assert probability == pytest.approx(expected, abs=6e-7)
    assert label == ("cat" if expected > 0.5 else "non-cat")


# --- a folder of images of two classes -------------------------------------------------------


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


@pytest.fixture(scope="module")
def two_folder(tmp_path_factory):
    """make_image_folder's two classes (a: dark, b: bright) and the model `logreg train` makes
    of them (gradient descent, 300 steps, α = 0.05, 25 % held out)."""
    root = tmp_path_factory.mktemp("two")
    files = make_image_folder(root / "imgs")
    result = run_quietly(["train", "--data", root / "imgs", "--image-size", "8", "8",
                          "--iterations", "300", "--learning-rate", "0.05",
                          "--out", root / "out"])
    return SimpleNamespace(root=root, folder=root / "imgs",
                           model=root / "out" / "model.safetensors",
                           files=[(path, name, pixels) for name in "ab"
                                  for path, pixels in files[name]],
                           result=result)


def test_image_folder_of_two_classes_trains_a_sigmoid_neuron(two_folder):
    code, out, err = two_folder.result
    assert code == 0, err
    assert "train accuracy: 100.0 %" in out.splitlines()
    assert "test accuracy: 100.0 %" in out.splitlines()  # 25 % held out
    model = logreg.load(two_folder.model)
    assert model.classes_.tolist() == ["a", "b"]
    assert model.metadata_["preprocessing"]["image_shape"] == [8, 8, 3]
    assert model.n_features_in_ == 8 * 8 * 3


def test_image_folder_grayscale(tmp_path, capsys):
    files = make_image_folder(tmp_path / "imgs", gray=True)
    model_path = tmp_path / "g.safetensors"
    code, out, err = run_cli(["train", "--data", tmp_path / "imgs", "--image-size", "8",
                              "8", "--grayscale", "--test-size", "0", "--iterations",
                              "300", "--learning-rate", "0.05", "--out", model_path],
                             capsys)
    assert code == 0, err
    assert logreg.load(model_path).metadata_["preprocessing"]["image_shape"] == [8, 8, 1]
    path, pixels = files["b"][0]
    code, out, err = run_cli(["predict", model_path, path], capsys)
    assert code == 0, err
    w, b, _ = model_wb(model_path)
    expected = float(sigmoid(w.T @ (pixels[..., :1].reshape(-1, 1) / 255) + b)[0, 0])
    [(_, probability, label)] = binary_rows(out)
    assert probability == pytest.approx(expected, abs=6e-7)
    assert label == "b"


def test_predict_resizes_images_to_the_model_size(tmp_path, capsys):
    from PIL import Image

    make_image_folder(tmp_path / "imgs")
    model_path = tmp_path / "m.safetensors"
    assert run_cli(["train", "--data", tmp_path / "imgs", "--image-size", "8", "8",
                    "--iterations", "300", "--learning-rate", "0.05", "--out",
                    model_path], capsys)[0] == 0
    Image.fromarray(np.full((32, 24, 3), 240, np.uint8)).save(tmp_path / "big-bright.png")
    Image.fromarray(np.full((5, 5, 3), 10, np.uint8)).save(tmp_path / "small-dark.png")
    code, out, err = run_cli(["predict", model_path, tmp_path / "big-bright.png",
                              tmp_path / "small-dark.png"], capsys)
    assert code == 0, err
    w, b, _ = model_wb(model_path)
    rows = binary_rows(out)
    for (_, probability, label), value, name in zip(rows, (240, 10), ("b", "a")):
        # a uniform image stays uniform when resized
        expected = float(sigmoid(w.sum() * value / 255 + b))
        assert probability == pytest.approx(expected, abs=6e-7)
        assert label == name


# --- a folder of images of three classes -----------------------------------------------------


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


IMAGE_FOLDERS = {
    2: SimpleNamespace(fixture="two_folder", classes=["a", "b"], every=1),
    3: SimpleNamespace(fixture="three_folder", classes=["dawn", "dusk", "noon"], every=5),
}


@pytest.mark.parametrize("k", sorted(IMAGE_FOLDERS))
def test_predict_prints_one_probability_per_class(k, request, capsys):
    """`logreg predict` with a model of an image folder of K classes, on image files and on a
    class's sub-folder: P(class) for each class as σ (two) or softmax (three) of the model
    file's numbers says, the likeliest class as label, each image's own class."""
    case = IMAGE_FOLDERS[k]
    folder = request.getfixturevalue(case.fixture)
    chosen = folder.files[::case.every]
    inputs = [path for path, _, _ in chosen]
    code, out, err = run_cli(["predict", folder.model, *inputs], capsys)
    assert code == 0, err
    names, rows = parse_predict(out)
    assert names == case.classes
    assert len(rows) == len(inputs)
    for _, p, _ in rows:
        assert sum(p) == pytest.approx(1.0, abs=2e-6)
    W, b, _ = stored(folder.model)
    X_rows = np.array([pixels.reshape(-1) for _, _, pixels in chosen]) / 255
    expected = probabilities(W, b, X_rows)
    assert [name for name, _, _ in rows] == [str(p) for p in inputs]
    np.testing.assert_allclose([p for _, p, _ in rows], expected, atol=6e-7)
    assert [label for _, _, label in rows] == [names[j] for j in expected.argmax(axis=1)]
    assert [label for _, _, label in rows] == [name for _, name, _ in chosen]

    # a folder as input: its images, sorted, same answers
    first = case.classes[0]
    code, out_first, err = run_cli(["predict", folder.model, folder.folder / first], capsys)
    assert code == 0, err
    _, folder_rows = parse_predict(out_first)
    assert len(folder_rows) == sum(name == first for _, name, _ in folder.files)
    mine = sorted((row for row in rows if row[2] == first), key=lambda row: row[0])
    assert mine and [row for row in folder_rows if row[0] in map(str, inputs)] == mine


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
