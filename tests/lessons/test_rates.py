"""`logreg rates`: the exercise's learning-rate comparison (cost curves and accuracies).

Truth for the accuracies: ``LogisticRegression`` trained here, independently of the command, on
the same data with the same settings, scored with the exercise's formula written out in NumPy.
"""

import contextlib
import csv
import io
import os
import re
import sys

import numpy as np
import pytest

from logreg import LogisticRegression
from logreg.lessons import rates
from logreg.apps.cli import main
from logreg.data import image_scaling, load_digits_task
from logreg.model.plots import learning_rate_comparison

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ITERATIONS = 40
ROW = re.compile(r"^(\S+) +(\S+) +(\S+) +(\S+) +(ok|diverged after \d+ iterations)$", re.M)


from helpers import run_cli as run  # noqa: E402


def table(out):
    """{rate text: (train accuracy, test accuracy, final cost, status)} from the table."""
    return {match[0]: match[1:] for match in ROW.findall(out)}


def exercise_accuracy(estimator, X, Y):
    """100 − mean|Ŷ − Y|·100 with Ŷ = 1 where wᵀx + b > 0, X (n_x, m)."""
    Y_prediction = (X.T @ estimator.coef_.T + estimator.intercept_[0] > 0).astype(float).T
    return 100 - np.mean(np.abs(Y_prediction - Y)) * 100


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rates") / "curves.png"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["rates", "--iterations", str(ITERATIONS), "--out", str(out)])
    return code, stdout.getvalue(), stderr.getvalue(), out


def test_default_rates_write_the_picture(default_run):
    code, out, err, path = default_run
    assert code == 0, err
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert f"Cost curves written to {path}" in out
    assert not [p for p in os.listdir(path.parent) if p != path.name]  # no temporary left


def test_default_rates_table_one_row_per_rate(default_run):
    _, out, err, _ = default_run
    rows = table(out)
    assert list(rows) == ["0.01", "0.001", "0.0001"]
    assert all(row[3] == "ok" for row in rows.values())
    # progress: one line per rate as it finishes
    assert [line.split(":")[0] for line in err.strip().splitlines()] == [
        "learning rate 0.01", "learning rate 0.001", "learning rate 0.0001"]


def test_accuracies_equal_an_independent_training(default_run):
    _, out, _, _ = default_run
    rows = table(out)
    train, test = load_digits_task(test_size=0.25)
    scaling = image_scaling()
    X_train, X_test = scaling.apply(train.X), scaling.apply(test.X)
    for rate in rates.RATES:
        estimator = LogisticRegression(learning_rate=rate, num_iterations=ITERATIONS,
                                       on_divergence="warn").fit(X_train.T, train.Y.ravel())
        train_accuracy, test_accuracy, final_cost, _ = rows[f"{rate:g}"]
        assert float(train_accuracy) == exercise_accuracy(estimator, X_train, train.Y)
        assert float(test_accuracy) == exercise_accuracy(estimator, X_test, test.Y)
        assert float(final_cost) == pytest.approx(estimator.costs_[-1], rel=1e-5)
        assert len(estimator.costs_) == ITERATIONS


def test_a_list_of_rates(tmp_path, capsys):
    out = tmp_path / "mine.svg"
    code, stdout, err = run(["rates", "--rates", "0.5", "0.05", "2", "--iterations", "10",
                             "--test-size", "0", "--out", out], capsys)
    assert code == 0, err
    rows = table(stdout)
    assert list(rows) == ["0.5", "0.05", "2"]
    assert all(row[1] == "-" for row in rows.values())  # no test data
    assert out.read_bytes().lstrip().startswith((b"<?xml", b"<svg"))


def test_default_out_is_learning_rates_png(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["rates", "--iterations", "3", "--rates", "0.01"], capsys)
    assert code == 0, err
    assert (tmp_path / "learning_rates.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize("rate", ["0", "-0.01", "nan", "inf", "fast", "auto"])
def test_a_rate_not_above_zero_is_refused(tmp_path, capsys, rate):
    out = tmp_path / "curves.png"
    code, stdout, err = run(["rates", "--rates", "0.01", rate, "--out", out], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "--rates" in err
    assert stdout == "" and not out.exists()


def test_a_rate_twice_is_refused(tmp_path, capsys):
    code, _, err = run(["rates", "--rates", "0.01", "0.01", "--out", tmp_path / "c.png"],
                       capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "twice" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("iterations", ["0", "-5", "many"])
def test_iterations_must_be_a_whole_number(tmp_path, capsys, iterations):
    code, _, err = run(["rates", "--iterations", iterations, "--out", tmp_path / "c.png"],
                       capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_an_out_in_a_missing_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "nowhere" / "curves.png"
    code, stdout, err = run(["rates", "--out", out], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "does not exist" in err
    assert "Training" not in stdout and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_an_out_that_cannot_be_a_file_is_refused(tmp_path, capsys, where):
    if where == "a folder":
        out = tmp_path / "curves.png"
        out.mkdir()
    else:
        (tmp_path / "plain").write_text("not a folder")
        out = tmp_path / "plain" / "curves.png"
    before = sorted(tmp_path.rglob("*"))
    code, stdout, err = run(["rates", "--out", out], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "Training" not in stdout and sorted(tmp_path.rglob("*")) == before


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="permissions do not stop root (or Windows)")
def test_an_unwritable_out_is_refused_and_nothing_written(tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, stdout, err = run(["rates", "--out", folder / "curves.png"], capsys)
        assert code == 2
        assert len(err.strip().splitlines()) == 1 and "permission denied" in err
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("out", ["curves.txt", "curves"])
def test_an_out_that_is_not_a_picture_is_refused(tmp_path, capsys, out):
    code, _, err = run(["rates", "--out", tmp_path / out], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and ".png" in err
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def noisy_csv(tmp_path):
    """Overlapping classes: far too large a learning rate makes the cost blow up."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(scale=2, size=200) > 0).astype(int)
    path = tmp_path / "noisy.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "c", "label"])
        writer.writerows([*row, label] for row, label in zip(X.tolist(), y))
    return path


def test_a_diverging_rate_is_reported_and_the_comparison_goes_on(tmp_path, capsys, noisy_csv):
    out = tmp_path / "curves.png"
    code, stdout, err = run(["rates", "--data", noisy_csv, "--rates", "1000", "0.1",
                             "--iterations", "200", "--out", out], capsys)
    assert code == 0, err
    rows = table(stdout)
    assert rows["1000"][3].startswith("diverged after")
    assert rows["0.1"][3] == "ok"
    assert "learning rate 1000: diverged" in err
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_compare_in_the_library(noisy_csv):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2, 50))
    Y = (X[:1] + rng.normal(size=(1, 50)) > 0).astype(float)
    seen = []
    runs = rates.compare(X, Y, rates=[0.1, 1e4], num_iterations=100, progress=seen.append)
    assert seen == runs and [run.learning_rate for run in runs] == [0.1, 1e4]
    assert runs[0].diverged is None and len(runs[0].costs) == 100
    assert runs[1].diverged and runs[1].test_accuracy is None
    with pytest.raises(ValueError, match="expected a number > 0"):
        rates.compare(X, Y, rates=[0.1, 0])


def test_learning_rate_comparison_picture(tmp_path):
    curves = {0.01: [0.69, 0.5, 0.4], 0.001: [0.69, 0.68, 0.67], 5.0: [0.69, 40.0, np.inf]}
    path = learning_rate_comparison(curves, tmp_path / "c.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["c.png"]
