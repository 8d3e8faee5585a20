"""Inputs a hostile user hands the command and the data library: none may crash logreg.

Every mistake is one line on stderr and exit status 2 (the library: a ``LogregError`` naming
the value, what was expected and the fix), never a traceback, never a warning. Truth comes
from outside the code under test: exact rational arithmetic (``fractions``) for μ and σ, a
model's w and b read back for its decisions, sizes computed here by hand.
"""

import collections
import io
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings
import zlib
from fractions import Fraction
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import logreg
from helpers import assert_user_error, run_cli
from helpers import run_quietly as quietly
from logreg.apps.cli import PIPE_CLOSED, build_parser
from logreg.data import Scaling, load_h5, load_image_folder, read_image, standardize
from logreg.data.images import MAX_PIXELS, list_images
from logreg.data import read_csv_table
from logreg.errors import DataFileError, InvalidInputError, LogregError

# --- helpers -----------------------------------------------------------------------------




def strict_cli(argv, capsys):
    """run_cli with every warning an error: a warning that would reach a user fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return run_cli(argv, capsys)




def write(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return path


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width, height):
    """A PNG of a few dozen bytes that declares width × height RGB pixels (and holds none)."""
    return (b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b""))


def image_folder(root, classes=("a", "b"), count=3, size=(8, 8)):
    """root/<class>/<i>.png: small RGB images, a different shade per class."""
    for k, name in enumerate(classes):
        for i in range(count):
            path = Path(root, name, f"{i}.png")
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", size, (40 + 150 * k, 10 * i, 90)).save(path)
    return Path(root)


def table_csv(path, header=("a", "b", "label"), rows=8):
    lines = [",".join(header)] + [f"{i},{(3 * i) % 5},{'xy'[i % 2]}" for i in range(rows)]
    return write(path, "\n".join(lines) + "\n")


# --- models trained once for the module -----------------------------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A table model (CSV: features a, b), an npz model (2 unnamed features) and an image
    model (8×8 RGB), each trained by the command in 5 iterations."""
    root = tmp_path_factory.mktemp("models")
    table = root / "table"
    assert quietly(["train", "--data", table_csv(root / "t.csv"), "--iterations", 5,
                    "--test-size", 0, "--out", table])[0] == 0
    rng = np.random.default_rng(0)
    np.savez(root / "two.npz", X=rng.normal(size=(20, 2)), y=np.arange(20) % 2)
    np.savez(root / "three.npz", X=rng.normal(size=(20, 3)), y=np.arange(20) % 2)
    npz = root / "npz"
    assert quietly(["train", "--data", root / "two.npz", "--iterations", 5, "--test-size", 0,
                    "--out", npz])[0] == 0
    images = image_folder(root / "images")
    picture = root / "picture"
    assert quietly(["train", "--data", images, "--image-size", 8, 8, "--iterations", 5,
                    "--test-size", 0, "--out", picture])[0] == 0
    return {"table": table / "model.safetensors", "npz": npz / "model.safetensors",
            "image": picture / "model.safetensors", "root": root, "images": images,
            "csv": root / "t.csv", "two.npz": root / "two.npz",
            "three.npz": root / "three.npz"}


# === .h5 files whose contents are not what they say ======================================


def h5_file(path, **items):
    """An .h5 whose items are arrays, or groups where the value is the string "group"."""
    with h5py.File(path, "w") as handle:
        for key, value in items.items():
            if isinstance(value, str) and value == "group":
                handle.create_group(key)
            else:
                handle[key] = value
    return path


IMAGES = np.zeros((2, 4, 4, 3), np.uint8)
LABELS = np.array([0, 1])

H5_CASES = {
    "train_set_x is a group": (dict(train_set_x="group", train_set_y=LABELS),
                               ["train_set_x", "group"]),
    "train_set_y is a group": (dict(train_set_x=IMAGES, train_set_y="group"),
                               ["train_set_y", "group"]),
    "list_classes is a group": (dict(train_set_x=IMAGES, train_set_y=LABELS,
                                     list_classes="group"), ["list_classes", "group"]),
    "images of strings": (dict(train_set_x=np.full((2, 4, 4, 3), b"ab"), train_set_y=LABELS),
                          ["train_set_x", "not numbers"]),
    "images of rank 1": (dict(train_set_x=np.arange(2), train_set_y=LABELS),
                         ["train_set_x", "(2,)", "(m, h, w, c)"]),
    "images a scalar": (dict(train_set_x=5, train_set_y=LABELS), ["train_set_x", "()"]),
    "labels of another length": (dict(train_set_x=np.zeros((3, 4, 4, 3), np.uint8),
                                      train_set_y=LABELS), ["(3, 4, 4, 3)", "(2,)"]),
    "no images": (dict(train_set_x=np.zeros((0, 4, 4, 3), np.uint8),
                       train_set_y=np.zeros(0)), ["(0, 4, 4, 3)", "no images"]),
    "images of no pixels": (dict(train_set_x=np.zeros((2, 0, 4, 3), np.uint8),
                                 train_set_y=LABELS), ["(2, 0, 4, 3)"]),
    "labels as text": (dict(train_set_x=IMAGES, train_set_y=np.array([b"cat", b"dog"])),
                       ["train_set_y", "cat", "0 and 1"]),
    "labels 0.5 and 1.5": (dict(train_set_x=IMAGES, train_set_y=np.array([0.5, 1.5])),
                           ["0.5", "0 and 1"]),
    "both classes named alike": (dict(train_set_x=IMAGES, train_set_y=LABELS,
                                      list_classes=np.array([b"cat", b"cat"])),
                                 ["list_classes", "'cat'", "two different names"]),
}


@pytest.mark.parametrize("case", sorted(H5_CASES))
def test_malformed_h5_is_one_line(case, tmp_path, capsys):
    items, fragments = H5_CASES[case]
    path = h5_file(tmp_path / "bad.h5", **items)
    assert_user_error(strict_cli(["train", "--data", path, "--test-size", 0, "--iterations", 2,
                                  "--out", tmp_path / "out"], capsys), "bad.h5", *fragments)
    with pytest.raises(LogregError):
        load_h5(path)
    assert not (tmp_path / "out" / "model.safetensors").exists()


def test_h5_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    # a few KiB on disk that declare 10⁶ images of 64 × 64 × 3 (12 GB as float64: 98 GB)
    with h5py.File(tmp_path / "huge.h5", "w") as handle:
        handle.create_dataset("train_set_x", shape=(10**6, 64, 64, 3), dtype=np.uint8,
                              chunks=(1, 64, 64, 3))
        handle["train_set_y"] = np.zeros(10**6, np.uint8)
    assert (tmp_path / "huge.h5").stat().st_size < 10**7
    monkeypatch.setattr("logreg.core.checks.available_memory", lambda: 2**30)
    with pytest.raises(InvalidInputError) as info:
        load_h5(tmp_path / "huge.h5")
    message = str(info.value)
    # 10⁶ · 64 · 64 · 3 values, 8 bytes each: 91.6 GiB, against the 1 GiB said to be free
    assert "train_set_x" in message and "91.6 GiB" in message and "1.0 GiB" in message


def test_h5_with_one_split_is_taken_by_evaluate(tmp_path, models, capsys):
    """`evaluate` asks for the test split; a file holding only a train split gives that one
    (the command has no option to name a split)."""
    rng = np.random.default_rng(3)
    h5_file(tmp_path / "train_only.h5",
            train_set_x=rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8),
            train_set_y=np.array([0, 1, 0, 1]), list_classes=np.array([b"a", b"b"]))
    code, out, err = strict_cli(["evaluate", models["image"], "--data",
                                 tmp_path / "train_only.h5"], capsys)
    assert code == 0, err
    assert "4 examples" in out


# === images that are not what they say ===============================================


@pytest.mark.parametrize("side", [30000, 10000])
def test_decompression_bomb_is_one_error_and_no_warning(tmp_path, side, models, capsys):
    """30000² pixels is past Pillow's error threshold, 10000² past its warning threshold:
    both are one clear error, and no DecompressionBombWarning is printed."""
    bomb = write(tmp_path / "bomb.png", png_header_only(side, side))
    assert bomb.stat().st_size < 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataFileError) as info:
            read_image(bomb, (8, 8), 3)
    assert f"{side * side:,} pixels" in str(info.value)
    assert f"{MAX_PIXELS:,}" in str(info.value)
    assert_user_error(strict_cli(["predict", models["image"], bomb], capsys),
                      "bomb.png", f"{side * side:,} pixels", "decompression bomb")


def test_bomb_limit_holds_whatever_pillow_is_set_to(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # a program that turned Pillow's off
    bomb = write(tmp_path / "bomb.png", png_header_only(20000, 20000))
    with pytest.raises(DataFileError, match="400,000,000 pixels"):
        read_image(bomb, (8, 8), 3)


def test_bomb_in_a_training_folder(tmp_path, capsys):
    root = image_folder(tmp_path / "data")
    write(root / "a" / "bomb.png", png_header_only(30000, 30000))
    assert_user_error(strict_cli(["train", "--data", root, "--image-size", 8, 8,
                                  "--test-size", 0, "--out", tmp_path / "o"], capsys),
                      "bomb.png", "900,000,000 pixels")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_image(tmp_path, keep, models, capsys):
    rng = np.random.default_rng(4)
    whole = tmp_path / "whole.png"
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(whole)
    data = whole.read_bytes()
    cut = write(tmp_path / "cut.png", data[: int(len(data) * keep)])
    with pytest.raises(DataFileError, match="cut.png"):
        read_image(cut, (8, 8), 3)
    assert_user_error(strict_cli(["predict", models["image"], cut], capsys), "cut.png")


# === --image-size ======================================================================


@pytest.mark.parametrize("command", ["train", "rates"])
@pytest.mark.parametrize("size", [("0", "0"), ("-1", "5"), ("8", "0"), ("a", "8"),
                                  ("1.5", "8")])
def test_image_size_not_positive_is_refused_by_the_parser(command, size, tmp_path, capsys):
    assert_user_error(strict_cli([command, "--image-size", *size, "--out",
                                  tmp_path / ("o.png" if command == "rates" else "o")],
                                 capsys), "--image-size")


@pytest.mark.parametrize("command", ["train", "rates"])
def test_huge_image_size_is_refused_up_front_with_its_memory(command, tmp_path, capsys,
                                                             models):
    # 100000 × 100000 pixels, 3 channels, 8 bytes each: 223.5 GiB for one image
    line = assert_user_error(strict_cli(
        [command, "--data", models["images"], "--image-size", 100000, 100000, "--out",
         tmp_path / ("o.png" if command == "rates" else "o")], capsys),
        "--image-size", "100000 × 100000", "10,000,000,000 pixels", "223.5 GiB")
    assert f"{MAX_PIXELS:,}" in line


def test_image_size_checks_in_the_library(tmp_path):
    image = image_folder(tmp_path / "d") / "a" / "0.png"
    for size in [(0, 5), (5, -1), (2.5, 3), ("8", 8), (8,), None]:
        with pytest.raises(InvalidInputError, match="image size"):
            read_image(image, size, 3)
    with pytest.raises(InvalidInputError, match="pixels"):
        load_image_folder(tmp_path / "d", image_size=(100000, 100000))


def test_image_stack_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    root = image_folder(tmp_path / "d", count=2)
    monkeypatch.setattr("logreg.core.checks.available_memory", lambda: 10**6)
    opened = []
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or 1 / 0)
    # 4 images of 300 × 300 × 3 as float64: 8.64 MB = 8.2 MiB against 10⁶ bytes (976.6 KiB)
    with pytest.raises(InvalidInputError, match=r"8\.2 MiB.*976\.6 KiB"):
        load_image_folder(root, image_size=(300, 300))
    assert opened == []


# === folders =========================================================================


def test_unreadable_class_folder(tmp_path, monkeypatch, capsys):
    root = image_folder(tmp_path / "data")
    locked = str(root / "b")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DataFileError, match="Permission denied"):
        list_images(root / "b")
    line = assert_user_error(strict_cli(["train", "--data", root, "--image-size", 8, 8,
                                         "--out", tmp_path / "o"], capsys),
                             "permission denied", "permissions")
    assert locked in line


def test_unreadable_data_folder(tmp_path, monkeypatch, capsys):
    root = image_folder(tmp_path / "data")
    real_listdir = os.listdir

    def listdir(path="."):
        if os.fspath(path) == str(root):
            raise PermissionError(13, "Permission denied", str(root))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", listdir)
    assert_user_error(strict_cli(["train", "--data", root, "--image-size", 8, 8,
                                  "--out", tmp_path / "o"], capsys),
                      "cannot read the folder", "permission denied")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads folders whatever their mode (chmod 000 stops no read)")
def test_chmod_000_folder(tmp_path, capsys):
    root = image_folder(tmp_path / "data")
    (root / "b").chmod(0)
    try:
        assert_user_error(strict_cli(["train", "--data", root, "--image-size", 8, 8,
                                      "--out", tmp_path / "o"], capsys), "permission")
    finally:
        (root / "b").chmod(0o755)


FOLDER_CASES = {
    "images but no class sub-folders": (
        lambda root: [Image.new("RGB", (4, 4)).save(root / f"{i}.png") for i in range(3)],
        ["0 sub-folder(s)", "3 other file(s)", "two sub-folders or more"]),
    "one class only": (lambda root: image_folder(root, classes=("a",)),
                       ["1 sub-folder(s) ['a']", "two sub-folders or more"]),
    "a file where a class folder should be": (
        lambda root: (image_folder(root, classes=("a",)), write(root / "b", "not a folder")),
        ["1 sub-folder(s)", "'b'"]),
    "class folders without images": (
        lambda root: [write(root / c / "notes.txt", "x") for c in "ab"], ["no image files"]),
    "one class without images": (
        lambda root: (image_folder(root, classes=("a",)), (root / "b").mkdir()),
        ["one class"]),
}


@pytest.mark.parametrize("case", sorted(FOLDER_CASES))
def test_malformed_image_folder(case, tmp_path, capsys):
    build, fragments = FOLDER_CASES[case]
    root = tmp_path / "data"
    root.mkdir()
    build(root)
    assert_user_error(strict_cli(["train", "--data", root, "--image-size", 8, 8,
                                  "--test-size", 0, "--out", tmp_path / "o"], capsys),
                      *fragments)


def test_symlink_loops_end_and_count_each_image_once(tmp_path, models, capsys):
    root = image_folder(tmp_path / "data")
    os.symlink(root / "a", root / "a" / "self")  # a/self → a
    os.symlink(root, root / "b" / "up")  # b/up → the data folder
    os.symlink(root / "c", root / "c")  # c → c: a link that names itself
    dataset = load_image_folder(root, image_size=(8, 8))
    assert dataset.m == 6 and dataset.classes == ["a", "b"]
    code, out, err = strict_cli(["predict", models["image"], root], capsys)
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1 + 6


def test_data_path_is_a_file_where_a_folder_was_expected(tmp_path, models, capsys):
    afile = write(tmp_path / "plain", "x")
    with pytest.raises(DataFileError, match="not a folder"):
        load_image_folder(afile)
    assert_user_error(strict_cli(["predict", models["image"], afile], capsys), "plain")
    assert_user_error(strict_cli(["train", "--data", afile, "--out", tmp_path / "o"], capsys),
                      "plain", "not a known data format")


# === a model given data of another kind or size ==========================================


def test_predict_table_model_on_images(models, capsys):
    image = models["images"] / "a" / "0.png"
    assert_user_error(strict_cli(["predict", models["table"], image], capsys),
                      "0.png", "a table of 2 features", "not images")


def test_predict_image_model_on_a_table(models, capsys):
    assert_user_error(strict_cli(["predict", models["image"], models["csv"]], capsys),
                      "t.csv", "is a table", "images of shape (8, 8, 3) (192 features)")


def test_predict_with_another_number_of_features(models, tmp_path, capsys):
    csv_file = write(tmp_path / "three.csv", "a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n")
    assert_user_error(strict_cli(["predict", models["npz"], csv_file], capsys),
                      "three.csv", "x of shape (3, 4)", "a table of 2 features",
                      "x of shape (2, m)")


@pytest.mark.parametrize("model, data, fragments", [
    ("table", "images", ["holds images", "a table of 2 features"]),
    ("table", "digits", ["digits holds images", "a table of 2 features"]),
    ("image", "csv", ["holds a table", "images of shape (8, 8, 3)"]),
    ("image", "two.npz", ["holds a table", "images of shape (8, 8, 3)"]),
    ("npz", "three.npz", ["x of shape (3, 20)", "a table of 3 features",
                          "a table of 2 features", "x of shape (2, m)"]),
    ("image", "digits", ["(8, 8, 1)", "(8, 8, 3)"]),
])
def test_evaluate_on_data_of_another_kind_names_both(models, model, data, fragments, capsys):
    source = models.get(data, data)
    assert_user_error(strict_cli(["evaluate", models[model], "--data", source], capsys),
                      *fragments)


@pytest.mark.parametrize("train, test, fragments", [
    ("two.npz", "three.npz", ["three.npz holds a table of 3 features", "x of shape (3, 20)",
                              "--data", "a table of 2 features"]),
    ("two.npz", "images", ["holds images", "a table of 2 features"]),
    ("images", "csv", ["holds a table", "images of shape (8, 8, 3)"]),
])
def test_test_data_of_another_kind(models, train, test, fragments, tmp_path, capsys):
    size = ["--image-size", 8, 8] if train == "images" else []  # it applies to a folder only
    assert_user_error(strict_cli(["train", "--data", models[train], "--test-data", models[test],
                                  *size, "--iterations", 2, "--out", tmp_path / "o"], capsys),
                      *fragments)


# === CSV values near the float64 limit ====================================================

HUGE_CSV = ("a,b,label\n1.7e308,1,x\n-1.7e308,2,y\n1.7e308,3,x\n-1.6e308,4,y\n"
            "1.5e308,5,x\n-1.7e308,6,y\n")


def exact_moments(values):
    """μ and σ (population) by exact rational arithmetic: no rounding, no overflow."""
    exact = [Fraction(v) for v in values]
    mean = sum(exact) / len(exact)
    variance = sum((v - mean) ** 2 for v in exact) / len(exact)
    return float(mean), math.sqrt(float(variance / Fraction(10**300) ** 2)) * 1e300


def test_standardize_near_the_float64_limit_is_exact_and_quiet():
    column = [1.7e308, -1.7e308, 1.7e308, -1.6e308, 1.5e308, -1.7e308]
    lopsided = [1.7e308] + [-1.7e308] * 5  # x − μ = 2.8e308 overflows for the first entry
    X = np.array([column, [1.0, 2, 3, 4, 5, 6], [1.7e308] * 6, lopsided])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaling = standardize(X)
        scaled = scaling.apply(X)
    assert scaling.spread[2, 0] == 1.0 and scaling.mean[2, 0] == 1.7e308  # constant feature
    assert np.isfinite(scaled).all()
    for row in (0, 3):
        mean, sigma = exact_moments(X[row])
        assert scaling.mean[row, 0] == pytest.approx(mean, rel=1e-12)
        assert scaling.spread[row, 0] == pytest.approx(sigma, rel=1e-12)
        expected = [(Fraction(v) - Fraction(mean)) / Fraction(sigma) for v in X[row]]
        np.testing.assert_allclose(scaled[row], [float(e) for e in expected], rtol=1e-12)
    # the ordinary path is unchanged: the same numbers as NumPy's, bit for bit
    small = standardize(X[1:2])
    assert small.mean[0, 0] == np.mean(X[1]) and small.spread[0, 0] == np.std(X[1])


def test_scaling_refuses_a_value_beyond_float64_after_scaling():
    scaling = Scaling("standardize", np.zeros((1, 1)), np.full((1, 1), 1e-10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidInputError, match=r"1e\+308.*too large"):
            scaling.apply(np.array([[1.0, 1e308]]))


def test_standardize_names_a_feature_that_is_not_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidInputError, match="feature 1 .*NaN or infinity"):
            standardize(np.array([[1.0, 2.0], [np.nan, 1.0]]))


def test_train_predict_evaluate_on_values_near_1e308_print_no_warning(tmp_path, capsys):
    data = write(tmp_path / "huge.csv", HUGE_CSV)
    code, out, err = strict_cli(["train", "--data", data, "--iterations", 5, "--test-size", 0,
                                 "--out", tmp_path / "o"], capsys)
    assert code == 0 and err == "", err
    assert "nan" not in (out + err).lower()
    model = tmp_path / "o" / "model.safetensors"
    code, out, err = strict_cli(["predict", model, data], capsys)
    assert code == 0 and err == "", err
    assert len(out.strip().splitlines()) == 7 and "nan" not in out.lower()
    code, out, err = strict_cli(["evaluate", model, "--data", data], capsys)
    assert code == 0 and err == "", err


def test_values_near_1e308_as_a_real_process_print_nothing_on_stderr(tmp_path):
    data = write(tmp_path / "huge.csv", HUGE_CSV)
    done = subprocess.run([sys.executable, "-W", "error", "-m", "logreg", "train",
                           "--data", data, "--iterations", "5", "--test-size", "0", "--quiet",
                           "--out", tmp_path / "o"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr


# === CSV files =======================================================================

CSV_CASES = {
    "duplicate feature names": ("x,x,label\n1,1,a\n2,2,b\n3,1,a\n4,2,b\n",
                                ["column 'x' 2 times", "rename"]),
    "a feature named like the label": ("a,label,label\n1,a,a\n2,b,b\n3,a,a\n4,b,b\n",
                                       ["'label' 2 times", "label column"]),
    "an unnamed column": (",b,label\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n",
                          ["column 1 of the header has no name"]),
    "empty": ("", ["0 non-empty line(s)"]),
    "blank lines only": ("\n\n  \n", ["0 non-empty line(s)"]),
    "header only": ("a,b,label\n", ["1 non-empty line(s)", "at least one row"]),
    "the label column only": ("label\na\nb\na\nb\n", ["no feature columns"]),
    "one class": ("a,b,label\n1,2,a\n3,4,a\n5,6,a\n7,8,a\n", ["one class only"]),
    "a word among numbers": ("a,b,label\n1,2,a\n3,four,b\n5,6,a\n7,8,b\n",
                             ["line 3", "column 'b'", "'four' is not a number"]),
    "an empty cell": ("a,b,label\n1,2,a\n3,,b\n5,6,a\n7,8,b\n",
                      ["line 3", "column 'b'", "'' is not a number"]),
    "NaN": ("a,b,label\n1,2,a\n3,nan,b\n5,6,a\n7,8,b\n",
            ["line 3", "column 'b'", "'nan' is not a finite number"]),
    "1e400": ("a,b,label\n1,2,a\n3,4,b\n5,1e400,a\n7,8,b\n",
              ["line 4", "'1e400' is not a finite number"]),
    "a missing label": ("a,b,label\n1,2,a\n3,4,\n5,6,a\n7,8,b\n",
                        ["line 3", "column 'label'", "label is missing"]),
    "a label NaN": ("a,b,label\n1,2,0\n3,4,NaN\n5,6,1\n7,8,1\n", ["line 3", "missing"]),
    "an unterminated quote": ('a,b,label\n1,2,a\n3,4,"b\n5,6,a\n7,8,b\n',
                              ["unexpected end of data", "balanced quotes"]),
    "text after a quote": ('a,b,label\n1,2,a\n3,"4"x,b\n5,6,a\n7,8,b\n',
                           ["after line 2", "balanced quotes"]),
    "a ragged row": ("a,b,label\n1,2,a\n3,b\n5,6,a\n7,8,b\n", ["line 3", "2 fields"]),
    "a NUL byte": ("a,b,label\n1,2,a\n3,\0,b\n5,6,a\n", ["line 3", "is not a number"]),
    "Latin-1, not UTF-8": ("a,b,label\n1,2,\xe9\n3,4,b\n".encode("latin-1"),
                           ["not a readable csv", "utf-8"]),
    "no label column": ("a,b,kind\n1,2,a\n3,4,b\n", ["no column 'label'", "--label-column"]),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_malformed_csv_is_one_line(case, tmp_path, capsys):
    text, fragments = CSV_CASES[case]
    data = write(tmp_path / "bad.csv", text)
    assert_user_error(strict_cli(["train", "--data", data, "--iterations", 2, "--test-size", 0,
                                  "--out", tmp_path / "o"], capsys), "bad.csv", *fragments)


def test_bom_crlf_and_quoted_fields_are_read_as_written(tmp_path, capsys):
    text = ('\ufeff"a",b,"the label"\r\n1,"2.5",x\r\n3,4,"y"\r\n5,"6",x\r\n"7",8,y\r\n')
    data = write(tmp_path / "dos.csv", text.encode("utf-8"))
    features, labels, names = read_csv_table(data, "the label")
    assert names == ["a", "b"]
    np.testing.assert_array_equal(features, [[1, 2.5], [3, 4], [5, 6], [7, 8]])
    assert labels.tolist() == ["x", "y", "x", "y"]
    code, out, err = strict_cli(["train", "--data", data, "--label-column", "the label",
                                 "--iterations", 2, "--test-size", 0, "--out",
                                 tmp_path / "o"], capsys)
    assert code == 0, err


@pytest.mark.parametrize("cells, expected", [
    # 1e400 is no finite number: the labels stay the text they were
    (["1e300", "1", "1e400"], ["1e300", "1", "1e400"]),
    # 2⁵³ + 1 has no float64: as a float it would become 2⁵³, another class's label
    (["5", "9007199254740993", "9007199254740992"], [5, 9007199254740993, 9007199254740992]),
    (["1e300", "1", "9007199254740993"], ["1e300", "1", "9007199254740993"]),
    (["1", "99999999999999999999"], ["1", "99999999999999999999"]),  # beyond int64
    (["1e300", "1"], ["1e300", "1"]),  # a class name beyond 2⁵³: kept as written
    (["1.0", "2e3", "-4"], [1, 2000, -4]),
    (["0.5", "1.5"], [0.5, 1.5]),
])
def test_csv_labels_keep_their_values_exactly_and_quietly(cells, expected, tmp_path):
    data = write(tmp_path / "l.csv", "a,label\n" + "".join(f"{i},{c}\n"
                                                            for i, c in enumerate(cells)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, labels, _ = read_csv_table(data, "label")
    assert labels.tolist() == expected
    assert [type(v) for v in labels.tolist()] == [type(v) for v in expected]


# === bench and synth sizes ==============================================================

DiskUsage = collections.namedtuple("DiskUsage", "total used free")


@pytest.mark.parametrize("argv, fragments", [
    (["--size", 10**12], ["size 1,000,000,000,000", "14.6 tib", "available"]),
    (["--features", 10**6, "--examples", 10**6], ["1,000,000 features", "7.3 tib"]),
])
def test_bench_absurd_sizes_are_refused_before_allocating(argv, fragments, capsys,
                                                          monkeypatch):
    allocated = []
    monkeypatch.setattr(np.random, "default_rng", lambda *a: allocated.append(a) or 1 / 0)
    # 8 · (2 · 10¹² + 100 · 500 + 4 · 600) bytes = 14.6 TiB; 8 · 10¹² (X) ... = 7.3 TiB
    assert_user_error(strict_cli(["bench", "vectorize", *argv], capsys), *fragments)
    assert allocated == []


def test_bench_memory_check_against_what_is_available(monkeypatch):
    from logreg.lessons import bench

    monkeypatch.setattr("logreg.core.checks.available_memory", lambda: 10**6)
    # defaults: 8 · (2 · 10⁶ + 100 · 500 + 4 · 600) = 16,419,200 bytes = 15.7 MiB
    with pytest.raises(InvalidInputError, match=r"15\.7 MiB of memory, but 976\.6 KiB"):
        bench.vectorize()


def test_synth_larger_than_the_disk_is_refused_naming_both(tmp_path, capsys, monkeypatch):
    pytest.importorskip("zarr")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: DiskUsage(100 * 2**30, 90 * 2**30,
                                                                     10 * 2**30))
    # 10¹² rows × 10⁶ features × 8 bytes + 10¹² label bytes = 7105.4 PiB; 10 GiB free
    assert_user_error(strict_cli(["data", "synth", "--rows", 10**12, "--features", 10**6,
                                  "--out", tmp_path / "x.zarr"], capsys),
                      "7105.4 pib", "10.0 gib free", "--rows")
    assert list(tmp_path.iterdir()) == []


def test_synth_chunk_larger_than_memory_is_refused(tmp_path, capsys, monkeypatch):
    pytest.importorskip("zarr")
    monkeypatch.setattr("logreg.core.checks.available_memory", lambda: 2**30)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: DiskUsage(2**50, 0, 2**50))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    # 2 chunks of 1000 rows × 100000 features at once, 3 arrays of float64 each: 4.5 GiB
    assert_user_error(strict_cli(["data", "synth", "--rows", 5000, "--features", 100000,
                                  "--chunk-rows", 1000, "--out", tmp_path / "x.zarr"], capsys),
                      "2 chunk(s) of 1,000 rows × 100,000 features", "4.5 gib", "1.0 gib",
                      "--chunk-rows")
    assert list(tmp_path.iterdir()) == []


def test_synth_refuses_to_replace_a_file(tmp_path, capsys):
    pytest.importorskip("zarr")
    afile = write(tmp_path / "keep.zarr", "precious")
    assert_user_error(strict_cli(["data", "synth", "--rows", 10, "--features", 2, "--out",
                                  afile], capsys), "keep.zarr", "not a zarr store")
    assert afile.read_text() == "precious"


# === a reader that leaves: `| head -1` ===================================================


def logreg_command():
    script = Path(sys.executable).with_name("logreg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "logreg"]


def run_into_closed_pipe(argv, cwd):
    """Run logreg with stdout a pipe whose reading end is already closed: every write fails
    with EPIPE, deterministically. (status, stderr)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(logreg_command() + [str(a) for a in argv], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=300)
    finally:
        os.close(write_end)
    return done.returncode, done.stderr


def test_predict_into_head_ends_quietly(models, tmp_path):
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(40000, 2))
    data = write(tmp_path / "many.csv", "a,b\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in rows))
    command = " ".join(logreg_command() + ["predict", str(models["table"]), str(data)])
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {command} 2>{tmp_path}/err.txt "
                           f"| head -1; echo \"status ${{PIPESTATUS[0]}}\""],
                          capture_output=True, text=True, timeout=300)
    lines = done.stdout.splitlines()
    assert lines[0].split()[0] == "input"  # head's one line: the header
    assert lines[-1] == f"status {PIPE_CLOSED}"  # the ~1 MB output could not all be written
    assert (tmp_path / "err.txt").read_text() == ""  # no traceback, no "Exception ignored"


@pytest.mark.parametrize("argv", [
    lambda m, t: ["train", "--data", m["csv"], "--iterations", 300, "--out", t / "o"],
    lambda m, t: ["predict", m["image"], m["images"]],
    lambda m, t: ["evaluate", m["table"], "--data", m["csv"]],
    lambda m, t: ["quiz", "--answers"],
    lambda m, t: ["graph", "J = a*b", "a=1", "b=2"],
    lambda m, t: ["rates", "--rates", "0.1", "--iterations", 10, "--out", t / "r.png"],
    lambda m, t: ["bench", "vectorize", "--size", 1000, "--features", 3, "--examples", 5,
                  "--repeats", 1],
], ids=["train", "predict", "evaluate", "quiz", "graph", "rates", "bench"])
def test_closed_pipe_ends_quietly(argv, models, tmp_path):
    status, err = run_into_closed_pipe(argv(models, tmp_path), tmp_path)
    assert err == "", err
    assert status == PIPE_CLOSED


# === one road for each job ===============================================================


def test_predict_uses_the_estimators_decision_z_above_0(models, tmp_path, capsys):
    """b = 1e-20, w = 0: z > 0 although σ(z) rounds to exactly 0.5. The estimator's rule
    (z > 0) says the positive class; a threshold on the rounded probability would not."""
    model = logreg.load(models["table"])
    del model.feature_names_in_  # plain arrays below; the names go to the file as metadata
    model.coef_ = np.zeros_like(model.coef_)
    model.intercept_ = np.array([1e-20])
    assert model.predict_proba(np.zeros((1, 2)))[0, 1] == 0.5
    crafted = tmp_path / "tiny.safetensors"
    model.save(crafted, **{k: v for k, v in model.metadata_.items()
                           if k in ("feature_names", "preprocessing", "data")})
    code, out, err = strict_cli(["predict", crafted, models["csv"]], capsys)
    assert code == 0, err
    rows = [line.split() for line in out.strip().splitlines()[1:]]
    assert rows and all(row[-2] == "0.500000" and row[-1] == "y" for row in rows)


def test_predict_labels_and_probabilities_match_w_and_b(models, capsys):
    model = logreg.load(models["table"])
    w, b = model.coef_.ravel(), float(model.intercept_[0])
    scaling = model.metadata_["preprocessing"]["scaling"]
    features, _, _ = read_csv_table(models["csv"], "label")
    z = ((features - scaling["mean"]) / scaling["spread"]) @ w + b
    code, out, _ = strict_cli(["predict", models["table"], models["csv"]], capsys)
    assert code == 0
    rows = [line.split() for line in out.strip().splitlines()[1:]]
    assert [float(r[-2]) for r in rows] == pytest.approx(1 / (1 + np.exp(-z)), abs=6e-7)
    assert [r[-1] for r in rows] == [model.classes_[1] if zi > 0 else model.classes_[0]
                                     for zi in z]


DATA_OPTIONS = ("--data", "--test-data", "--test-size", "--label-column", "--image-size",
                "--grayscale")


def test_train_and_rates_share_their_data_options():
    commands = build_parser()._subparsers._group_actions[0].choices

    def options(name):
        return {option: (action.dest, action.default, action.nargs, action.type, action.help)
                for action in commands[name]._actions for option in action.option_strings
                if option in DATA_OPTIONS}

    assert set(options("train")) == set(DATA_OPTIONS)
    assert options("train") == options("rates")
    argv = ["--data", "d.csv", "--test-data", "t.csv", "--test-size", "0.3", "--label-column",
            "y", "--image-size", "5", "7", "--grayscale"]
    train = vars(build_parser().parse_args(["train", *argv]))
    rates = vars(build_parser().parse_args(["rates", *argv]))
    assert {k: train[k] for k in ("data", "test_data", "test_size", "label_column",
                                  "image_size", "grayscale")} == {
        k: rates[k] for k in ("data", "test_data", "test_size", "label_column", "image_size",
                              "grayscale")} == {
        "data": "d.csv", "test_data": "t.csv", "test_size": 0.3, "label_column": "y",
        "image_size": [5, 7], "grayscale": True}


# === fuzz: whatever the bytes, exit 0 or 2, one line, no traceback ==========================

FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def assert_survived(result):
    code, out, err = result
    assert code in (0, 2), (code, err)
    assert "Traceback" not in out + err
    assert len(err.splitlines()) <= 1, err
    if code == 2:
        assert err.startswith("logreg ") and ": error: " in err


CELLS = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True).map(repr),
                  st.sampled_from(["", "nan", "inf", "-inf", "1e400", "-1.7e308", "1.7e308",
                                   "x", "y", '"', '""', "label", "a", "b", " ", "0x10",
                                   "1_000", "١٢", "\ufeff", "\r", "NaN", "None"]),
                  st.text(max_size=4))
CSV_TEXT = st.lists(st.lists(CELLS, min_size=0, max_size=4), min_size=0, max_size=8).map(
    lambda rows: "\n".join(",".join(row) for row in rows))


NUMBER = st.one_of(st.integers(-1000, 1000).map(str),
                   st.floats(allow_nan=False, allow_infinity=False).map(repr))
NEARLY_VALID = st.lists(st.tuples(st.one_of(NUMBER, CELLS), NUMBER,
                                  st.sampled_from(["x", "y", "x", "y", "", "z"])),
                        min_size=1, max_size=12).map(
    lambda rows: "a,b,label\n" + "\n".join(",".join(row) for row in rows) + "\n")


@FUZZ
@given(text=st.one_of(CSV_TEXT, NEARLY_VALID, st.just("a,b,label\n").flatmap(
    lambda head: CSV_TEXT.map(lambda body: head + body))))
def test_fuzz_csv_text_for_predict_and_train(text, models, capsys):
    with tempfile.TemporaryDirectory() as folder:
        data = write(Path(folder, "fuzz.csv"), text.encode("utf-8", "surrogatepass"))
        assert_survived(strict_cli(["predict", models["table"], data], capsys))
        assert_survived(strict_cli(["train", "--data", data, "--iterations", 2, "--out",
                                    Path(folder, "o")], capsys))


@FUZZ
@given(data=st.binary(max_size=300))
def test_fuzz_random_bytes_as_csv(data, models, capsys):
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder, "fuzz.csv"), data)
        assert_survived(strict_cli(["predict", models["table"], path], capsys))
        assert_survived(strict_cli(["train", "--data", path, "--iterations", 2, "--out",
                                    Path(folder, "o")], capsys))


def small_image_bytes(kind):
    rng = np.random.default_rng(len(kind))
    buffer = io.BytesIO()
    try:
        Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).save(buffer, kind)
    except (KeyError, OSError):  # a format this Pillow was built without
        return None
    return buffer.getvalue()


SEEDS = {kind: data for kind in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")
         if (data := small_image_bytes(kind)) is not None}


@FUZZ
@given(kind=st.sampled_from(sorted(SEEDS)), cut=st.integers(0, 400),
       flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
       suffix=st.sampled_from([".png", ".jpg", ".gif", ".bmp", ".tif", ".webp"]))
def test_fuzz_damaged_images_for_predict(kind, cut, flips, suffix, models, capsys):
    data = bytearray(SEEDS[kind][: max(cut, 8)])
    for position, value in flips:
        if position < len(data):
            data[position] = value
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder, "fuzz" + suffix), bytes(data))
        assert_survived(strict_cli(["predict", models["image"], path], capsys))


# === paths the system refuses to look up =============================================

LONG = "a" * 300  # longer than any file name the system allows (255 bytes)


@pytest.mark.parametrize("argv", [
    lambda m, t: ["train", "--data", t / f"{LONG}.csv", "--out", t / "o"],
    lambda m, t: ["train", "--data", t / LONG, "--out", t / "o"],
    lambda m, t: ["train", "--data", m["csv"], "--test-data", t / f"{LONG}.csv", "--out",
                  t / "o"],
    lambda m, t: ["predict", m["image"], t / f"{LONG}.png"],
    lambda m, t: ["predict", m["image"], t / LONG],
    lambda m, t: ["evaluate", m["image"], "--data", t / LONG],
    lambda m, t: ["train", "--data", m["csv"], "--out", t / LONG],
    lambda m, t: ["data", "synth", "--rows", 10, "--features", 2, "--out", t / f"{LONG}.zarr"],
], ids=["train csv", "train folder", "test data", "predict image", "predict folder",
        "evaluate folder", "train out", "synth out"])
def test_a_name_too_long_is_one_line(argv, models, tmp_path, capsys):
    if "synth" in argv(models, tmp_path):
        pytest.importorskip("zarr")
    assert_user_error(strict_cli(argv(models, tmp_path), capsys), LONG, "name too long")


# === .npz tables ========================================================================


def npz_file(path, **arrays):
    np.savez(path, **arrays)
    return path


NPZ_CASES = {
    "labels of shape (2, 2)": (lambda p: npz_file(p, X=np.zeros((4, 2)),
                                                  y=np.array([[0, 1], [1, 0]])),
                               ["(2, 2)", "one label per example"]),
    "X of rank 1": (lambda p: npz_file(p, X=np.arange(5.0), y=np.arange(5) % 2),
                    ["shape (5,)", "2-d array"]),
    "X of text": (lambda p: npz_file(p, X=np.array([["a", "b"], ["c", "d"]]), y=[0, 1]),
                  ["not numbers"]),
    "X of objects": (lambda p: npz_file(p, X=np.array([[1, 2], [3, 4]], dtype=object),
                                        y=[0, 1]), ["allow_pickle"]),
    "fewer labels than rows": (lambda p: npz_file(p, X=np.zeros((4, 2)), y=[0, 1]),
                               ["4 examples in x but 2 labels"]),
    "no examples": (lambda p: npz_file(p, X=np.zeros((0, 2)), y=np.zeros(0)), ["empty"]),
    "one .npy, not named arrays": (lambda p: (np.save(p.with_suffix(".npy"), np.zeros(3)),
                                              p.with_suffix(".npy").rename(p))[1],
                                   ["not named arrays"]),
    "not a zip": (lambda p: write(p, b"PK\x03\x04garbage"), ["not a zip file"]),
    "truncated": (lambda p: write(p, npz_file(p, X=np.zeros((50, 2)), y=np.arange(50) % 2)
                                  .read_bytes()[:300]), ["not a readable .npz"]),
    "other names": (lambda p: npz_file(p, features=np.zeros((4, 2)), labels=[0, 1, 0, 1]),
                    ["'features'", "'labels'", "expected 'x' and 'y'"]),
}


@pytest.mark.parametrize("case", sorted(NPZ_CASES))
def test_malformed_npz_is_one_line(case, tmp_path, capsys):
    build, fragments = NPZ_CASES[case]
    data = build(tmp_path / "bad.npz")
    assert_user_error(strict_cli(["train", "--data", data, "--iterations", 2, "--test-size", 0,
                                  "--out", tmp_path / "o"], capsys), "bad.npz", *fragments)


def test_npz_too_large_for_memory_is_refused_before_unpacking(tmp_path, monkeypatch):
    from logreg.data import load_npz

    np.savez_compressed(tmp_path / "zeros.npz", X=np.zeros((1000, 1000), np.uint8),
                        y=np.zeros(1000))
    assert (tmp_path / "zeros.npz").stat().st_size < 10**5  # 10⁶ values declared
    monkeypatch.setattr("logreg.core.checks.available_memory", lambda: 10**6)
    # 10⁶ values as float64: 8 · 10⁶ bytes = 7.6 MiB, against 10⁶ bytes (976.6 KiB)
    with pytest.raises(InvalidInputError, match=r"zeros\.npz: X would need 7\.6 MiB.*976\.6 KiB"):
        load_npz(tmp_path / "zeros.npz")


# --- files that are not regular files --------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".h5", ".npz"])
def test_a_fifo_is_refused_not_read_forever(tmp_path, capsys, suffix):
    """Reading a named pipe nobody writes to waits forever: it is refused by what it is."""
    fifo = tmp_path / f"data{suffix}"
    os.mkfifo(fifo)
    code, out, err = run_cli(["train", "--data", fifo, "--iterations", 2,
                              "--out", tmp_path / "out"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "FIFO" in err and "not a regular file" in err


def test_a_fifo_among_the_images_to_predict_is_refused(tmp_path, capsys):
    assert run_cli(["train", "--iterations", 2, "--quiet", "--out", tmp_path], capsys)[0] == 0
    os.mkfifo(tmp_path / "cat.png")
    code, out, err = run_cli(["predict", tmp_path / "model.safetensors", tmp_path / "cat.png"],
                             capsys)
    assert code == 2 and "FIFO" in err and len(err.strip().splitlines()) == 1, err


def test_a_device_is_refused(tmp_path, capsys):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    os.symlink("/dev/zero", tmp_path / "zero.csv")
    code, out, err = run_cli(["train", "--data", tmp_path / "zero.csv", "--out",
                              tmp_path / "out"], capsys)
    assert code == 2 and "a device or socket, not a regular file" in err


# === --test-size that a stratified split cannot honour =====================================


def labelled_csv(path, m):
    """m rows, labels alternating x, y (both classes as even as can be)."""
    return write(path, "a,label\n" + "".join(f"{i},{'xy'[i % 2]}\n" for i in range(m)))


@pytest.mark.parametrize("command, m, share, held_out, trained", [
    # ⌈0.99 · 60⌉ = ⌈59.4⌉ = 60 held out, ⌊0.01 · 60⌋ = ⌊0.6⌋ = 0 to train on
    ("train", 60, "0.99", 60, 0),
    # ⌈0.0001 · 60⌉ = 1 held out: fewer than the 2 classes
    ("train", 60, "0.0001", 1, 59),
    ("train", 60, "1e-320", 1, 60),
    # four rows at the default 0.25: ⌈1⌉ = 1 held out
    ("train", 4, None, 1, 3),
    ("rates", 60, "0.99", 60, 0),
])
def test_test_size_the_split_cannot_honour_is_one_line(command, m, share, held_out, trained,
                                                       tmp_path, capsys):
    data = labelled_csv(tmp_path / "d.csv", m)
    out = ["--out", tmp_path / ("r.png" if command == "rates" else "o")]
    size = [] if share is None else ["--test-size", share]
    line = assert_user_error(strict_cli([command, "--data", data, *size, "--iterations", 2,
                                         *out], capsys),
                             f"holds out {held_out} and trains on {trained}", "--test-data")
    # the shares offered, 3 digits: ⌈t·60⌉ ≥ 2 from t = 2/60 = 0.0333; ⌊(1 − t)·60⌋ ≥ 2 up to
    # t = 58/60 = 0.96667, so 0.966 (0.967 trains on ⌊1.98⌋ = 1); 4 rows: only 2 and 2
    assert ("from 0.0333 to 0.966" if m == 60 else "choose --test-size 0.5,") in line
    assert not (tmp_path / "o").exists() and not (tmp_path / "r.png").exists()


def test_test_size_of_the_digits_that_leaves_no_training_set(tmp_path, capsys):
    # 357 digits (3 against 8): ⌈0.999 · 357⌉ = 357 held out, none to train on
    assert_user_error(strict_cli(["train", "--test-size", "0.999", "--out", tmp_path / "o"],
                                 capsys), "357 examples", "holds out 357 and trains on 0")


@settings(max_examples=200, deadline=None)
@given(m=st.integers(4, 400), share=st.floats(1e-320, 1, exclude_max=True))
def test_split_sizes_are_refused_exactly_where_scikit_learn_refuses(m, share):
    """Truth: scikit-learn's own stratified split, run on the same m and share; and the shares
    a refusal offers are ones scikit-learn then accepts."""
    from sklearn.model_selection import train_test_split

    from logreg.data import check_split_sizes

    labels = np.arange(m) % 2
    try:
        train_test_split(np.arange(m), test_size=share, stratify=labels, random_state=0)
        sklearn_ok = True
    except ValueError:
        sklearn_ok = False
    try:
        check_split_sizes(m, share, "data")
        ours_ok = True
    except InvalidInputError as error:
        ours_ok = False
        choose = re.search(r"choose (.*?), give", str(error))  # m ≥ 4: shares are offered
        offered = [float(v) for v in re.findall(r"(?:from|to|--test-size) ([0-9.e-]+)",
                                                choose.group(1))]
        assert offered
        for offer in offered:
            train_test_split(np.arange(m), test_size=offer, stratify=labels, random_state=0)
    assert ours_ok == sklearn_ok


# === options that do not apply to the data given ==========================================


@pytest.mark.parametrize("argv, fragments", [
    (lambda m, t: ["predict", m["table"], m["csv"], "--label-column", "nope"],
     ["--label-column 'nope'", "no such column", "a, b, label"]),
    (lambda m, t: ["predict", m["image"], m["images"], "--label-column", "label"],
     ["--label-column 'label'", "images"]),
    (lambda m, t: ["evaluate", m["image"], "--data", m["h5"], "--label-column", "label"],
     ["--label-column", "no csv"]),
    (lambda m, t: ["train", "--data", m["csv"], "--image-size", 8, 8, "--out", t / "o"],
     ["--image-size", "is a table"]),
    (lambda m, t: ["train", "--data", m["h5"], "--image-size", 8, 8, "--out", t / "o"],
     ["--image-size", "own size"]),
    (lambda m, t: ["rates", "--data", m["csv"], "--grayscale", "--out", t / "r.png"],
     ["--grayscale", "is a table"]),
    (lambda m, t: ["train", "--data", m["h5"], "--grayscale", "--out", t / "o"],
     ["--grayscale", "own size"]),
    (lambda m, t: ["train", "--data", "digits", "--image-size", 8, 8, "--out", t / "o"],
     ["--image-size", "digits"]),
    (lambda m, t: ["train", "--data", m["h5"], "--label-column", "y", "--out", t / "o"],
     ["--label-column 'y'", "no csv"]),
    (lambda m, t: ["train", "--data", m["images"], "--label-column", "y", "--out", t / "o"],
     ["--label-column 'y'", "no csv"]),
    (lambda m, t: ["rates", "--data", m["two.npz"], "--label-column", "y", "--out",
                   t / "r.png"], ["--label-column 'y'", "no csv"]),
], ids=["predict-csv-no-column", "predict-images", "evaluate-h5", "train-csv-size",
        "train-h5-size", "rates-csv-gray", "train-h5-gray", "train-digits-size",
        "train-h5-label", "train-folder-label", "rates-npz-label"])
def test_options_that_do_not_apply_are_refused_not_ignored(argv, fragments, models,
                                                           tmp_path, capsys):
    h5 = h5_file(tmp_path / "eight.h5", train_set_x=np.zeros((4, 8, 8, 3), np.uint8),
                 train_set_y=np.array([0, 1, 0, 1]), list_classes=np.array([b"a", b"b"]))
    assert_user_error(strict_cli(argv({**models, "h5": h5}, tmp_path), capsys), *fragments)
    assert not (tmp_path / "o").exists() and not (tmp_path / "r.png").exists()


def test_predict_label_column_that_exists_is_accepted_and_changes_nothing(models, capsys):
    plain = run_cli(["predict", models["table"], models["csv"]], capsys)
    named = run_cli(["predict", models["table"], models["csv"], "--label-column", "label"],
                    capsys)
    assert plain[0] == named[0] == 0 and plain[1] == named[1] and named[2] == ""


# === a failed train leaves no folder it created ============================================


@pytest.mark.parametrize("out", ["new", "new/deeper/still"])
def test_failed_train_removes_the_empty_folders_it_created(out, tmp_path, capsys):
    data = write(tmp_path / "empty.csv", "")
    assert_user_error(strict_cli(["train", "--data", data, "--out", tmp_path / out], capsys),
                      "empty.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv"]


def test_failed_train_keeps_a_folder_that_was_there(tmp_path, capsys):
    data = write(tmp_path / "empty.csv", "")
    (tmp_path / "mine").mkdir()
    kept = write(tmp_path / "kept" / "notes.txt", "precious")
    for out in ("mine", "kept"):
        assert_user_error(strict_cli(["train", "--data", data, "--out", tmp_path / out],
                                     capsys), "empty.csv")
    assert (tmp_path / "mine").is_dir() and list((tmp_path / "mine").iterdir()) == []
    assert kept.read_text() == "precious"


# === absurd sizes, refused before any work ==================================================


@pytest.mark.parametrize("command", ["train", "rates"])
@pytest.mark.parametrize("iterations", ["99999999999999999999999", "1000000001"])
def test_absurd_iterations_are_refused_by_the_parser(command, iterations, tmp_path, capsys,
                                                     monkeypatch):
    # no data, no run
    monkeypatch.setattr(f"logreg.apps.cli.{command}.training_sets", lambda args: 1 / 0)
    assert_user_error(strict_cli([command, "--iterations", iterations, "--out",
                                  tmp_path / "x.png"], capsys), iterations, "1,000,000,000")


def test_a_billion_iterations_pass_the_parser():
    args = build_parser().parse_args(["train", "--iterations", "1000000000"])
    assert args.iterations == 10**9


def test_bench_repeats_that_would_run_for_days_are_refused(capsys, monkeypatch):
    allocated = []
    monkeypatch.setattr(np.random, "default_rng", lambda *a: allocated.append(a) or 1 / 0)
    # 10⁹ · (10⁶ + 100 · 500 + 2 · 500) = 1.05e15 loop iterations: 10⁷ s at 10⁸ a second
    assert_user_error(strict_cli(["bench", "vectorize", "--repeats", 10**9], capsys),
                      "1.1e+15", "more than an hour")
    assert allocated == []


def test_synth_with_too_many_chunks_is_refused(tmp_path, capsys, monkeypatch):
    pytest.importorskip("zarr")
    import dask

    monkeypatch.setattr(dask, "delayed", lambda *a, **k: 1 / 0)  # refused before any task
    # ⌈2·10⁹ / 1⌉ chunks; at most 10⁶, so chunks of ⌈2·10⁹ / 10⁶⌉ = 2000 rows
    assert_user_error(strict_cli(["data", "synth", "--rows", 2 * 10**9, "--features", 1,
                                  "--chunk-rows", 1, "--out", tmp_path / "x.zarr"], capsys),
                      "2,000,000,000 chunks", "--chunk-rows 2,000")
    assert list(tmp_path.iterdir()) == []


def test_synth_chunk_limit_is_exact(tmp_path, monkeypatch):
    zarr = pytest.importorskip("zarr")
    from logreg.apps import outofcore as dask_engine

    monkeypatch.setattr(dask_engine.store, "MAX_CHUNKS", 3)
    with pytest.raises(InvalidInputError, match="4 chunks"):
        dask_engine.synth(tmp_path / "four.zarr", 4, 2, chunk_rows=1)
    path = dask_engine.synth(tmp_path / "three.zarr", 3, 2, chunk_rows=1)
    assert zarr.open_group(path, mode="r")["X"].nchunks == 3


# === stdout that cannot take the output ===================================================


@pytest.mark.parametrize("argv", [
    lambda m, t: ["predict", m["table"], m["csv"]],
    lambda m, t: ["train", "--data", m["csv"], "--iterations", 3, "--out", t / "o"],
    lambda m, t: ["quiz", "--answers"],
    lambda m, t: ["bench", "vectorize", "--size", 1000, "--features", 3, "--examples", 5,
                  "--repeats", 1],
], ids=["predict", "train", "quiz", "bench"])
def test_a_full_disk_on_stdout_is_one_line(argv, models, tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = subprocess.run(logreg_command() + [str(a) for a in argv(models, tmp_path)],
                              stdout=full, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                              timeout=300)
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "No space left on device" in lines[0], done.stderr
    assert lines[0].startswith("logreg ") and ": error: cannot write the output" in lines[0]
    assert not (tmp_path / "o").exists()  # train printed first, wrote nothing, left nothing


def test_stdout_error_in_process_is_told_apart(capsys, monkeypatch):
    import errno

    class Full(io.StringIO):
        def write(self, text):
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(sys, "stdout", Full())
    code = logreg.apps.cli.main(["graph", "J = a*2", "a=1"])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and os.strerror(errno.EIO) in err
