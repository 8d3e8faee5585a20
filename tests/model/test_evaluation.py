"""Evaluation figures and pictures: `logreg.model.evaluation` and `logreg evaluate --json / --plots`.

Truth comes from outside the code under test: scikit-learn's metric functions (roc_auc_score,
average_precision_score, brier_score_loss, log_loss, precision_recall_fscore_support,
confusion_matrix, calibration_curve) applied to the probabilities and labels, NumPy's count of
the examples whose largest probability is not their class, and Pillow reading the pictures.
"""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_user_error, run_cli, run_quietly
from PIL import Image
from sklearn.calibration import calibration_curve
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    log_loss,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.preprocessing import StandardScaler, label_binarize

import logreg
from logreg.data import load_digits10, load_digits_task
from logreg.data.images import vectors_to_images
from logreg.errors import InvalidInputError, OutputError
from logreg.model.evaluation import evaluate
from logreg.model.pictures import misclassified_grid, picture_names, write_plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PICTURES = ["roc.png", "precision_recall.png", "calibration.png", "confusion_matrix.png"]


# --- data and models -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary():
    """Breast cancer, standardised, halved: a model fitted on one half, scored on the other."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.array(["benign", "malignant"])[1 - y]  # classes sorted: "malignant" positive
    model = logreg.LogisticRegression(solver="lbfgs", l2=1.0).fit(X[::2], names[::2])
    return model, X[1::2], names[1::2]


@pytest.fixture(scope="module")
def iris():
    """Three classes with string labels, a model that errs on a few held-out flowers."""
    data = load_iris()
    X = StandardScaler().fit_transform(data.data)
    names = data.target_names[data.target]
    rng = np.random.default_rng(0)
    test = rng.permutation(len(names))[:60]
    train = np.setdiff1d(np.arange(len(names)), test)
    model = logreg.LogisticRegression(solver="gd", num_iterations=30).fit(X[train],
                                                                            names[train])
    return model, X[test], names[test]


def indices(model, labels):
    return np.array([list(model.classes_).index(label) for label in labels])


def calibration_truth(positives, probabilities, bins):
    """scikit-learn's reliability curve against the non-empty bins of the report's."""
    fraction, mean = calibration_curve(positives, probabilities, n_bins=len(bins["count"]))
    kept = [i for i, count in enumerate(bins["count"]) if count]
    np.testing.assert_allclose([bins["fraction_positive"][i] for i in kept], fraction,
                               rtol=1e-12)
    np.testing.assert_allclose([bins["mean_predicted"][i] for i in kept], mean, rtol=1e-12)
    assert sum(bins["count"]) == len(probabilities)
    counts, _ = np.histogram(probabilities, bins=np.linspace(0, 1, len(bins["count"]) + 1))
    assert np.abs(counts - bins["count"]).sum() <= 2  # only ties at the edges may differ


# --- the figures against scikit-learn ---------------------------------------------------------



def _assert_per_class_equals_scikit_learn(report, y, predicted):
    """Precision, recall, F1 and support per class: scikit-learn's function's."""
    precision, recall, f1, support = precision_recall_fscore_support(y, predicted)
    np.testing.assert_allclose(report["per_class"]["precision"], precision, rtol=1e-12)
    np.testing.assert_allclose(report["per_class"]["recall"], recall, rtol=1e-12)
    np.testing.assert_allclose(report["per_class"]["f1"], f1, rtol=1e-12)
    assert report["per_class"]["support"] == support.tolist()

def test_binary_figures_equal_scikit_learns(binary):
    model, X, labels = binary
    report = evaluate(model, X, labels)
    y = indices(model, labels)
    P = model.predict_proba(X)
    predicted = indices(model, model.predict(X))
    assert report["classes"] == ["benign", "malignant"]
    assert report["positive_class"] == "malignant" and report["m"] == len(labels)
    assert report["roc_auc"] == pytest.approx(roc_auc_score(y, P[:, 1]), abs=1e-12)
    assert report["average_precision"] == pytest.approx(
        average_precision_score(y, P[:, 1]), abs=1e-12)
    assert report["brier_score"] == pytest.approx(brier_score_loss(y, P[:, 1]), abs=1e-12)
    assert report["log_loss"] == pytest.approx(log_loss(y, P), rel=1e-9)
    assert report["accuracy"] == pytest.approx(100 * np.mean(predicted == y), abs=1e-9)
    _assert_per_class_equals_scikit_learn(report, y, predicted)
    assert report["confusion_matrix"] == confusion_matrix(y, predicted).tolist()
    assert 0 < sum(map(sum, report["confusion_matrix"])) - np.trace(report["confusion_matrix"])
    [bins] = report["calibration"]
    assert bins["class"] == "malignant"
    calibration_truth(y == 1, P[:, 1], bins)
    assert report["notes"] == []
    assert json.loads(json.dumps(report)) == report  # JSON as it is


def test_three_class_figures_equal_scikit_learns(iris):
    model, X, labels = iris
    report = evaluate(model, X, labels)
    y = indices(model, labels)
    P = model.predict_proba(X)
    predicted = P.argmax(axis=1)
    one_hot = label_binarize(y, classes=[0, 1, 2])
    assert report["classes"] == ["setosa", "versicolor", "virginica"]
    assert "positive_class" not in report
    auc = report["roc_auc"]
    np.testing.assert_allclose(auc["per_class"], [roc_auc_score(one_hot[:, k], P[:, k])
                                                  for k in range(3)], rtol=1e-12)
    assert auc["macro"] == pytest.approx(roc_auc_score(y, P, multi_class="ovr",
                                                       average="macro"), abs=1e-12)
    assert auc["micro"] == pytest.approx(roc_auc_score(one_hot, P, average="micro"), abs=1e-12)
    ap = report["average_precision"]
    np.testing.assert_allclose(ap["per_class"], average_precision_score(one_hot, P,
                                                                        average=None))
    assert ap["macro"] == pytest.approx(average_precision_score(one_hot, P), abs=1e-12)
    assert ap["micro"] == pytest.approx(average_precision_score(one_hot, P, average="micro"),
                                        abs=1e-12)
    assert report["brier_score"] == pytest.approx(brier_score_loss(y, P, labels=[0, 1, 2]),
                                                  abs=1e-12)
    assert report["log_loss"] == pytest.approx(log_loss(y, P), rel=1e-9)
    assert report["accuracy"] == pytest.approx(100 * np.mean(predicted == y), abs=1e-9)
    _assert_per_class_equals_scikit_learn(report, y, predicted)
    matrix = confusion_matrix(y, predicted)
    assert report["confusion_matrix"] == matrix.tolist() and np.trace(matrix) < len(y)
    assert [bins["class"] for bins in report["calibration"]] == report["classes"]
    for k, bins in enumerate(report["calibration"]):
        calibration_truth(y == k, P[:, k], bins)


def test_one_class_in_the_data_makes_auc_null_with_a_reason(binary, tmp_path):
    model, X, labels = binary
    only = labels == "benign"  # the negative class alone: no AUC, no average precision
    report = evaluate(model, X[only], labels[only])
    assert report["roc_auc"] is None and report["average_precision"] is None
    assert any("ROC AUC undefined" in note and "'malignant'" in note
               for note in report["notes"])
    y = np.zeros(only.sum())
    P = model.predict_proba(X[only])
    assert report["brier_score"] == pytest.approx(brier_score_loss(y, P[:, 1], labels=[0, 1]))
    only = labels == "malignant"  # the positive alone: precision is defined, the AUC not
    report = evaluate(model, X[only], labels[only])
    assert report["roc_auc"] is None
    assert report["average_precision"] == pytest.approx(1.0)
    assert "the only class in the data" in " ".join(report["notes"])
    paths = write_plots(model, X[only], labels[only], tmp_path)  # drawn, saying why
    assert [p.name for p in paths] == PICTURES
    for path in paths:
        check_picture(path)


def test_absent_classes_leave_the_macro_average_over_the_others(iris):
    model, X, labels = iris
    kept = labels != "setosa"
    report = evaluate(model, X[kept], labels[kept])
    y = indices(model, labels[kept])
    P = model.predict_proba(X[kept])
    auc = report["roc_auc"]
    assert auc["per_class"][0] is None
    expected = [roc_auc_score(y == k, P[:, k]) for k in (1, 2)]
    assert auc["per_class"][1:] == pytest.approx(expected, abs=1e-12)
    assert auc["macro"] == pytest.approx(np.mean(expected), abs=1e-12)
    assert auc["micro"] == pytest.approx(roc_auc_score(label_binarize(y, classes=[0, 1, 2]),
                                                       P, average="micro"), abs=1e-12)
    assert any("'setosa'" in note and "2 of 3 classes" in note for note in report["notes"])


def test_labels_outside_the_models_classes_are_refused(iris):
    model, X, labels = iris
    with pytest.raises(InvalidInputError, match="'tulip'"):
        evaluate(model, X, np.where(labels == "setosa", "tulip", labels))
    with pytest.raises(InvalidInputError, match="one label per row"):
        evaluate(model, X, labels[:-1])


# --- the misclassified grid --------------------------------------------------------------------


def panels(figure):
    """The axes of a figure that show an image."""
    return [axes for axes in figure.axes if axes.images]


def test_the_grid_has_one_panel_per_misclassified_digit(tmp_path):
    """The binary digits model's mistakes, counted independently: the examples whose
    probability of their own class is under one half."""
    _, test = load_digits_task()
    X = test.X.T / 255
    model = logreg.LogisticRegression(num_iterations=40, learning_rate=0.005).fit(
        X, test.Y.ravel())  # a weak model: several mistakes
    P = model.predict_proba(X)
    y = test.Y.ravel().astype(int)
    wrong = np.flatnonzero(P[np.arange(y.size), y] < 0.5)
    assert wrong.size > 3
    images = vectors_to_images(test.X, test.image_shape)
    figure = misclassified_grid(images[wrong], [str(k) for k in y[wrong]],
                                [str(1 - k) for k in y[wrong]], 1 - P[wrong, y[wrong]],
                                total=y.size)
    assert len(panels(figure)) == wrong.size
    titles = [axes.get_title() for axes in panels(figure)]
    assert titles[0] == f"true: {y[wrong[0]]}\nP({1 - y[wrong[0]]}) = " \
        f"{1 - P[wrong[0], y[wrong[0]]]:.2f}"
    assert f"{wrong.size} of {y.size}" in figure.get_suptitle()
    paths = write_plots(model, X, y, tmp_path, images=images)
    assert paths[-1].name == "misclassified.png"
    with Image.open(paths[-1]) as picture:
        assert picture.size[0] >= 100 * min(wrong.size, 10)


def test_a_long_grid_is_capped_and_says_how_many_it_left_out():
    images = np.zeros((130, 8, 8), dtype=np.uint8)
    names = ["a"] * 130
    figure = misclassified_grid(images, names, names, np.full(130, 0.9), limit=100)
    assert len(panels(figure)) == 100
    assert "30 left out" in figure.get_suptitle()


def test_every_mistake_is_drawn_on_as_many_pages_as_it_takes(tmp_path):
    """More mistakes than one picture holds: further pages (misclassified-2, -3, ...), every
    mistake on exactly one; a later run with fewer pages leaves no stale page behind."""
    _, test = load_digits_task()
    X, y = test.X.T / 255, test.Y.ravel().astype(int)
    model = logreg.LogisticRegression(num_iterations=40, learning_rate=0.005).fit(X, y)
    P = model.predict_proba(X)
    wrong = np.flatnonzero(P[np.arange(y.size), y] < 0.5)  # counted independently
    images = vectors_to_images(test.X, test.image_shape)
    per_page = 2
    pages = -(-wrong.size // per_page)
    assert pages >= 2
    paths = write_plots(model, X, y, tmp_path, images=images, max_panels=per_page)
    grids = [tmp_path / "misclassified.png"] + [
        tmp_path / f"misclassified-{n}.png" for n in range(2, pages + 1)]
    assert paths[4:] == grids and all(path.is_file() for path in grids)
    assert not (tmp_path / f"misclassified-{pages + 1}.png").exists()
    write_plots(model, X, y, tmp_path, images=images)  # one page now: the others go
    assert sorted(p.name for p in tmp_path.glob("misclassified*")) == ["misclassified.png"]


def test_no_mistake_draws_a_grid_that_says_so():
    figure = misclassified_grid(np.zeros((0, 8, 8)), [], [], [], total=12)
    assert panels(figure) == []
    assert "none misclassified" in " ".join(text.get_text() for axes in figure.axes
                                            for text in axes.texts)


# --- the command ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`logreg train` on the built-in digits (two classes) and on digits10 (ten)."""
    root = tmp_path_factory.mktemp("evaluate")
    models = {}
    for name, options in (("digits", []), ("digits10", ["--solver", "lbfgs",
                                                        "--iterations", "100"])):
        code, _, err = run_quietly(["train", "--data", name, "--quiet", "--out", root / name,
                                    *options])
        assert code == 0, err
        models[name] = root / name / "model.safetensors"
    return models


def check_picture(path):
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), path
    assert len(data) > 5000, path
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.size[0] >= 300 and image.size[1] >= 150, (path, image.size)
        extrema = image.convert("L").getextrema()
        assert extrema[1] - extrema[0] > 100, path  # more than a blank page


@pytest.mark.parametrize("data", ["digits", "digits10"])
def test_plots_writes_every_picture(trained, tmp_path, data, capsys):
    folder = tmp_path / "new" / "pictures"  # created, parents too
    code, out, err = run_cli(["evaluate", trained[data], "--data", data, "--plots", folder],
                             capsys)
    assert code == 0, err
    assert err == ""
    written = sorted(p.name for p in folder.iterdir())
    assert written == sorted(PICTURES + ["misclassified.png"])
    for name in written:
        check_picture(folder / name)
    assert f"Pictures written to {folder}: " + ", ".join(PICTURES + ["misclassified.png"]) in out


def test_json_equals_the_python_api_and_the_text(trained, tmp_path, capsys):
    for data, loader in (("digits", load_digits_task), ("digits10", load_digits10)):
        code, out, err = run_cli(["evaluate", trained[data], "--data", data, "--json",
                                  "--plots", tmp_path / data], capsys)
        assert code == 0, err
        printed = json.loads(out)
        assert printed.pop("pictures") == [str(tmp_path / data / name) for name in
                                           picture_names(images=True)]
        model = logreg.load(trained[data])
        train, test = loader()
        # the model's own data: the part train held out (logreg.data.split), and it says so
        assert [printed.pop(key) for key in ("rows", "m_data", "m_trained_on")] == \
            ["held-out", train.m + test.m, train.m]
        labels = np.asarray(model.classes_)[test.Y.ravel().astype(int)]
        expected = evaluate(model, test.X.T / 255, labels)
        assert printed.keys() == expected.keys()
        assert_same(printed, expected)
        code, text, err = run_cli(["evaluate", trained[data], "--data", data], capsys)
        assert code == 0, err
        assert f"accuracy: {printed['accuracy']} %" in text.splitlines()
        assert f"log loss: {printed['log_loss']:.6f}" in text.splitlines()


def assert_same(found, expected, where="report"):
    """Equal, numbers to 1e-12 (the JSON's X was scaled by the model file's own record)."""
    if isinstance(expected, dict):
        assert found.keys() == expected.keys(), where
        for key in expected:
            assert_same(found[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, list):
        assert len(found) == len(expected), where
        for i, (a, b) in enumerate(zip(found, expected)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert found == pytest.approx(expected, rel=1e-12, abs=1e-15), where
    else:
        assert found == expected, where


def test_text_output_keeps_its_lines_and_adds_after_them(trained, tmp_path, capsys):
    """The lines of before, in order, then the AUC; --plots adds only the files line."""
    model = logreg.load(trained["digits"])
    _, test = load_digits_task()
    y = test.Y.ravel().astype(int)
    P = model.predict_proba(test.X.T / 255)
    matrix = confusion_matrix(y, P.argmax(axis=1))
    code, out, err = run_cli(["evaluate", trained["digits"], "--data", "digits"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == ("Evaluated on 90 held-out examples of scikit-learn digits, 3 against 8 "
                        "(train kept the other 267; --all-rows scores all 357)")
    assert lines[1].startswith("accuracy: ") and lines[2].startswith("log loss: ")
    assert lines[3:7] == ["confusion matrix (rows: true class, columns: predicted class):",
                          "     3  8",
                          f"3  {matrix[0, 0]:>3}{matrix[0, 1]:>3}",
                          f"8  {matrix[1, 0]:>3}{matrix[1, 1]:>3}"]
    assert lines[7] == f"ROC AUC: {roc_auc_score(y, P[:, 1]):.6f}"
    assert len(lines) == 8
    code, with_plots, err = run_cli(["evaluate", trained["digits"], "--data", "digits",
                                     "--plots", tmp_path], capsys)
    assert with_plots.splitlines()[:8] == lines and len(with_plots.splitlines()) == 9


def test_svg_format(trained, tmp_path, capsys):
    code, out, err = run_cli(["evaluate", trained["digits10"], "--data", "digits10",
                              "--plots", tmp_path, "--format", "svg"], capsys)
    assert code == 0, err
    for name in picture_names(images=True, format="svg"):
        assert (tmp_path / name).read_text().lstrip().startswith("<?xml"), name


def test_an_existing_picture_is_replaced_and_a_failure_writes_none(binary, tmp_path,
                                                                   monkeypatch):
    model, X, labels = binary
    (tmp_path / "roc.png").write_bytes(b"old")
    write_plots(model, X, labels, tmp_path)
    assert (tmp_path / "roc.png").read_bytes().startswith(PNG_MAGIC)
    other = tmp_path / "other"
    other.mkdir()
    (other / "roc.png").write_bytes(b"old")
    from matplotlib.figure import Figure

    calls = []
    original = Figure.savefig

    def savefig(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    with pytest.raises(OutputError, match="No space left"):
        write_plots(model, X, labels, other)
    assert sorted(p.name for p in other.iterdir()) == ["roc.png"]  # no temporary left
    assert (other / "roc.png").read_bytes() == b"old"


def test_user_mistakes_exit_2_with_one_line(trained, tmp_path, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    model = trained["digits"]
    assert_user_error(run_cli(["evaluate", model, "--data", "digits", "--plots", a_file],
                              capsys), "a-file is a file", "folder")
    assert_user_error(run_cli(["evaluate", model, "--data", "digits", "--plots",
                               a_file / "sub"], capsys), "cannot create the folder")
    assert_user_error(run_cli(["evaluate", model, "--data", "digits", "--plots", tmp_path,
                               "--format", "bmp"], capsys), "--format", "bmp")
    assert_user_error(run_cli(["evaluate", model, "--data", "digits", "--format", "svg"],
                              capsys), "--format svg", "--plots")
    assert not (tmp_path / "roc.png").exists()
    with pytest.raises(InvalidInputError, match="format"):
        picture_names(format="jpeg")


def test_drawing_keeps_the_users_backend_and_opens_no_pyplot_figure(tmp_path):
    """scikit-learn's displays import pyplot; no figure is opened there, the backend stays."""
    code = f"""
import json, sys, matplotlib
matplotlib.use("svg")
import numpy as np, logreg
from logreg.model.pictures import write_plots
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3)); y = np.array(["a", "b", "c"])[rng.integers(0, 3, 60)]
model = logreg.LogisticRegression(num_iterations=20).fit(X, y)
write_plots(model, X, y, {str(tmp_path)!r}, images=rng.integers(0, 255, (60, 4, 4, 3)))
pyplot = sys.modules.get("matplotlib.pyplot")
print(json.dumps([matplotlib.get_backend(), pyplot.get_fignums() if pyplot else []]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["svg", []]
    assert len(list(Path(tmp_path).glob("*.png"))) == 5


def test_float_images_on_0_to_255_are_drawn_as_their_uint8_selves():
    """An image rebuilt from a column of X keeps its 0..255 pixel values as floats: drawn
    as the same image in uint8, never clipped to white."""
    from logreg.model.pictures import misclassified_grid

    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(2, 4, 4, 3)).astype(np.uint8)
    drawn = []
    for given in (images, images.astype(np.float64)):
        figure = misclassified_grid(given, ["a", "b"], ["b", "a"], [0.6, 0.7])
        drawn.append([axes.get_images()[0].get_array() for axes in figure.axes[:2]])
    for as_uint8, as_float in zip(*drawn):
        np.testing.assert_allclose(np.asarray(as_float, dtype=np.float64),
                                   np.asarray(as_uint8, dtype=np.float64) / 255.0)


def test_a_confident_models_curves_rank_by_z_not_by_its_saturated_probabilities():
    """Beyond |z| ≈ 37 a probability is exactly 0 or 1: ranked by P, examples tie and the
    ROC AUC and average precision come out low. Ranked by z = wᵀx + b (the same order where
    P differs), they are scikit-learn's on the decision function."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from logreg import LogisticRegression
    from logreg.model.evaluation import evaluate

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    model = LogisticRegression(solver="lbfgs", num_iterations=5000)
    with warnings.catch_warnings():  # separable: L-BFGS runs on towards ‖w‖ → ∞
        warnings.simplefilter("ignore")
        model.fit(X_train, y_train)
    P = model.predict_proba(X_test)[:, 1]
    assert np.mean((P == 0) | (P == 1)) > 0.5  # saturated: the case this test is about
    z = model.decision_function(X_test)
    assert roc_auc_score(y_test, P) < roc_auc_score(y_test, z)  # ties do cost something
    report = evaluate(model, X_test, y_test)
    assert report["roc_auc"] == roc_auc_score(y_test, z)
    assert report["average_precision"] == average_precision_score(y_test, z)
