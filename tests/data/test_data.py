"""logreg.data: images as columns, reading image files, scaling, and the loaders.

Truth comes from outside the code under test: hand-worked values, NumPy computed here, Pillow,
h5py and scikit-learn read independently, and the figures published in the cat data's README.
"""

import csv
from collections import Counter

import h5py
import numpy as np
import pytest
from PIL import Image

from logreg.data import (
    Dataset,
    Scaling,
    flatten_images,
    image_scaling,
    image_to_vector,
    load_breast_cancer_table,
    load_csv,
    load_dataset,
    load_digits_task,
    load_h5,
    load_image_folder,
    load_npz,
    no_scaling,
    read_image,
    read_images,
    standardize,
    vectors_to_images,
)
from logreg.data import split_dataset
from logreg.errors import DataFileError, InvalidInputError, LogregError

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def save_rgb(path, colour, size=(6, 4)):
    """A uniform RGB image of Pillow size (width, height)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


# === images as columns ======================================================================


def test_image_to_vector_is_the_quiz_answer():
    img = np.random.default_rng(0).integers(0, 256, size=(32, 32, 3))
    v = image_to_vector(img)
    assert v.shape == (3072, 1)  # 32*32*3
    np.testing.assert_array_equal(v, img.reshape((32 * 32 * 3, 1)))


def test_image_to_vector_grayscale_and_order():
    img = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(image_to_vector(img).ravel(), [0, 1, 2, 3, 4, 5])


def test_image_to_vector_refuses_a_stack():
    with pytest.raises(InvalidInputError, match=r"shape \(2, 4, 4, 3\).*flatten_images"):
        image_to_vector(np.zeros((2, 4, 4, 3)))


def test_flatten_images_keeps_each_image_in_one_column():
    rng = np.random.default_rng(1)
    m, h, w, c = 5, 4, 3, 3
    stack = rng.integers(0, 256, size=(m, h, w, c), dtype=np.uint8)
    X = flatten_images(stack)
    assert X.shape == (h * w * c, m)
    for i in range(m):
        np.testing.assert_array_equal(X[:, i], stack[i].ravel())


def test_the_wrong_reshape_mixes_images_the_layout_bug():
    rng = np.random.default_rng(2)
    m, h, w, c = 5, 4, 3, 3
    stack = rng.integers(0, 256, size=(m, h, w, c), dtype=np.uint8)
    wrong = stack.reshape(h * w * c, m)
    # not one column of the wrong layout is an image
    assert not any(np.array_equal(wrong[:, i], stack[i].ravel()) for i in range(m))
    # and flatten_images is not that layout
    assert not np.array_equal(flatten_images(stack), wrong)


def test_flatten_images_grayscale_stack():
    stack = np.arange(2 * 2 * 3).reshape(2, 2, 3)
    X = flatten_images(stack)
    np.testing.assert_array_equal(X, [[0, 6], [1, 7], [2, 8], [3, 9], [4, 10], [5, 11]])


def test_flatten_images_refuses_rank2():
    with pytest.raises(InvalidInputError, match=r"shape \(4, 4\).*image_to_vector"):
        flatten_images(np.zeros((4, 4)))


def test_vectors_to_images_inverts_flatten_images():
    stack = np.random.default_rng(3).random((7, 5, 4, 3))
    back = vectors_to_images(flatten_images(stack), (5, 4, 3))
    assert back.shape == stack.shape
    np.testing.assert_array_equal(back, stack)


# === reading image files ======================================================================


def test_read_rgb_png_exact(tmp_path):
    pixels = np.random.default_rng(4).integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png", (4, 6), 3)
    assert out.dtype == np.uint8 and out.shape == (4, 6, 3)
    np.testing.assert_array_equal(out, pixels)


def test_read_image_size_is_height_width(tmp_path):
    # 10 wide, 4 high: left half red, right half blue; read without resizing as (h, w) = (4, 10)
    pixels = np.zeros((4, 10, 3), dtype=np.uint8)
    pixels[:, :5] = RED
    pixels[:, 5:] = BLUE
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    out = read_image(tmp_path / "wide.png", (4, 10), 3)
    np.testing.assert_array_equal(out, pixels)


def test_grayscale_L_as_one_and_three_channels(tmp_path):
    gray = np.arange(0, 240, 10, dtype=np.uint8).reshape(4, 6)
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    one = read_image(tmp_path / "g.png", (4, 6), 1)
    three = read_image(tmp_path / "g.png", (4, 6), 3)
    assert one.shape == (4, 6, 1) and three.shape == (4, 6, 3)
    np.testing.assert_array_equal(one[..., 0], gray)
    for channel in range(3):
        np.testing.assert_array_equal(three[..., channel], gray)


def test_rgb_as_one_channel_uses_luma(tmp_path):
    save_rgb(tmp_path / "red.png", RED)
    out = read_image(tmp_path / "red.png", (4, 6), 1)
    # ITU-R 601-2 luma: 0.299 * 255 = 76.2
    assert out.shape == (4, 6, 1)
    assert np.all(np.abs(out.astype(int) - 76) <= 1)


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (0, 0, 0, 0)          # fully transparent black → white
    rgba[0, 1] = (10, 20, 30, 255)     # opaque → itself
    rgba[1, 0] = (0, 0, 0, 128)        # half transparent black over white → 255 * (1 - 128/255)
    rgba[1, 1] = (200, 0, 0, 0)        # transparent red → white too
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    out = read_image(tmp_path / "t.png", (2, 2), 3).astype(int)
    np.testing.assert_array_equal(out[0, 0], (255, 255, 255))
    np.testing.assert_array_equal(out[0, 1], (10, 20, 30))
    assert np.all(np.abs(out[1, 0] - 127) <= 1)
    np.testing.assert_array_equal(out[1, 1], (255, 255, 255))


def test_palette_image_and_palette_transparency(tmp_path):
    image = Image.new("P", (3, 1))
    image.putpalette([255, 0, 0, 0, 0, 255, 0, 255, 0] + [0] * (256 * 3 - 9))
    image.putdata([0, 1, 2])
    image.save(tmp_path / "p.png")
    out = read_image(tmp_path / "p.png", (1, 3), 3)
    np.testing.assert_array_equal(out[0], [RED, BLUE, GREEN])

    image.save(tmp_path / "pt.png", transparency=1)  # palette entry 1 (blue) is transparent
    out = read_image(tmp_path / "pt.png", (1, 3), 3)
    np.testing.assert_array_equal(out[0], [RED, (255, 255, 255), GREEN])


def test_different_sizes_are_all_resized(tmp_path):
    paths = [save_rgb(tmp_path / "a.png", RED, (20, 10)),
             save_rgb(tmp_path / "b.png", BLUE, (3, 7)),
             save_rgb(tmp_path / "c.png", GREEN, (64, 64))]
    stack = read_images(paths, (8, 5), 3)
    assert stack.shape == (3, 8, 5, 3) and stack.dtype == np.uint8
    # resizing a uniform image keeps its colour
    for image, colour in zip(stack, (RED, BLUE, GREEN)):
        assert np.all(np.abs(image.astype(int) - colour) <= 1)


def test_jpeg(tmp_path):
    Image.new("RGB", (16, 16), (200, 100, 50)).save(tmp_path / "a.jpg", quality=95)
    out = read_image(tmp_path / "a.jpg", (16, 16), 3)
    assert out.shape == (16, 16, 3)
    assert np.all(np.abs(out.astype(int) - (200, 100, 50)) <= 4)  # lossy, but close


def test_corrupt_png_raises_data_file_error_naming_file(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(np.random.default_rng(5).integers(0, 256, 300, dtype=np.uint8).tobytes())
    with pytest.raises(DataFileError, match=r"broken\.png.*not a readable image"):
        read_image(path, (4, 4), 3)


def test_text_file_named_jpg_raises_data_file_error_naming_file(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n")
    with pytest.raises(DataFileError, match=r"notes\.jpg"):
        read_image(path, (4, 4), 3)


def test_truncated_png_raises_data_file_error(tmp_path):
    pixels = np.random.default_rng(6).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match=r"cut\.png"):
        read_image(tmp_path / "cut.png", (32, 32), 3)


def test_missing_image_raises_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match=r"nothere\.png.*does not exist"):
        read_image(tmp_path / "nothere.png", (4, 4), 3)


def test_unsupported_channel_count_is_a_package_error(tmp_path):
    save_rgb(tmp_path / "a.png", RED)
    with pytest.raises(LogregError, match=r"channels"):
        read_image(tmp_path / "a.png", (4, 6), 4)


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path):
    values = (np.arange(16, dtype=np.uint16) * 4369).reshape(4, 4)  # 0 .. 65535
    Image.fromarray(values).save(tmp_path / "g16.png")
    out = read_image(tmp_path / "g16.png", (4, 4), 1)[..., 0].astype(int)
    expected = np.round(values / 257).astype(int)  # 65535 / 257 = 255
    assert np.all(np.abs(out - expected) <= 1)


# === a folder of images ===========================================================================


def make_folder(root, counts, size=(6, 4)):
    """root/<class>/<i>.png, each class a uniform colour; returns root."""
    colours = {}
    for k, (name, count) in enumerate(counts.items()):
        colours[name] = ((k * 80) % 256, 255 - (k * 80) % 256, 30 * k % 256)
        for i in range(count):
            save_rgb(root / name / f"{i}.png", colours[name], size)
    return root, colours


def test_load_image_folder_classes_are_sorted_subfolders_and_Y_matches(tmp_path):
    root, colours = make_folder(tmp_path / "data", {"dog": 3, "cat": 2})
    data = load_image_folder(root, image_size=(4, 6), channels=3)
    assert isinstance(data, Dataset)
    assert data.classes == ["cat", "dog"]
    assert data.X.shape == (4 * 6 * 3, 5) and data.Y.shape == (1, 5)
    assert data.image_shape == (4, 6, 3)
    assert sorted(data.Y.ravel().tolist()) == [0, 0, 1, 1, 1]
    # each column's colour is its class's colour: label 1 is "dog"
    for i in range(data.m):
        name = data.classes[int(data.Y[0, i])]
        expected = np.tile(colours[name], 4 * 6)
        np.testing.assert_array_equal(data.X[:, i], expected)


def test_load_image_folder_resizes_and_channels(tmp_path):
    root = tmp_path / "data"
    save_rgb(root / "a" / "big.png", RED, (30, 20))
    save_rgb(root / "b" / "small.png", BLUE, (3, 2))
    data = load_image_folder(root, image_size=(5, 7), channels=1)
    assert data.X.shape == (5 * 7, 2)
    assert data.image_shape == (5, 7, 1)


def test_load_image_folder_ignores_hidden_and_non_image_files(tmp_path):
    root, _ = make_folder(tmp_path / "data", {"cat": 2, "dog": 2})
    (root / "cat" / ".hidden.png").write_bytes(b"not an image")  # e.g. macOS ._ files
    (root / "cat" / "._0.png").write_bytes(b"\x00\x05\x16\x07")
    (root / "dog" / "README.txt").write_text("about the dogs")
    (root / ".git").mkdir()  # a hidden folder is not a class
    save_rgb(root / ".git" / "x.png", RED)
    data = load_image_folder(root, image_size=(4, 6))
    assert data.m == 4
    assert data.classes == ["cat", "dog"]


def test_load_image_folder_ignores_files_in_hidden_subfolders(tmp_path):
    root, _ = make_folder(tmp_path / "data", {"cat": 2, "dog": 2})
    save_rgb(root / "cat" / ".ipynb_checkpoints" / "0-checkpoint.png", RED)
    data = load_image_folder(root, image_size=(4, 6))
    assert data.m == 4


def test_load_image_folder_needs_two_subfolders_or_more(tmp_path):
    root, _ = make_folder(tmp_path / "data", {"only": 1})
    with pytest.raises(DataFileError, match=r"1 sub-folder\(s\).*two sub-folders or more"):
        load_image_folder(root, image_size=(4, 6))


def test_load_image_folder_three_subfolders_are_three_classes(tmp_path):
    root, _ = make_folder(tmp_path / "data", {"c": 1, "a": 2, "b": 1})
    data = load_image_folder(root, image_size=(4, 6))
    assert data.classes == ["a", "b", "c"]  # sorted sub-folders
    np.testing.assert_array_equal(data.Y, [[0, 0, 1, 2]])


def test_load_image_folder_with_model_classes(tmp_path):
    root, _ = make_folder(tmp_path / "data", {"cat": 2})
    data = load_image_folder(root, image_size=(4, 6), classes=["non-cat", "cat"])
    np.testing.assert_array_equal(data.Y, [[1, 1]])
    root2, _ = make_folder(tmp_path / "data2", {"bird": 1})
    with pytest.raises(InvalidInputError, match="bird"):
        load_image_folder(root2, image_size=(4, 6), classes=["non-cat", "cat"])


def test_load_image_folder_bad_image_names_it(tmp_path):
    root, _ = make_folder(tmp_path / "data", {"cat": 1, "dog": 1})
    (root / "dog" / "bad.jpg").write_text("text")
    with pytest.raises(DataFileError, match=r"bad\.jpg"):
        load_image_folder(root, image_size=(4, 6))


def test_load_image_folder_without_images_or_not_a_folder(tmp_path):
    (tmp_path / "d" / "a").mkdir(parents=True)
    (tmp_path / "d" / "b").mkdir()
    with pytest.raises(DataFileError, match="no image files"):
        load_image_folder(tmp_path / "d")
    with pytest.raises(DataFileError, match="not a folder"):
        load_image_folder(tmp_path / "missing")


# === scaling =======================================================================================


def test_image_scaling_divides_by_255():
    X = np.array([[0, 255, 128], [51, 1, 254]], dtype=np.uint8)
    out = image_scaling().apply(X)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, X / 255.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(out[0, :2], [0.0, 1.0])


def test_no_scaling_is_identity():
    X = np.array([[1.5, -2.0]])
    np.testing.assert_array_equal(no_scaling().apply(X), X)


def test_standardize_gives_mean_0_std_1_on_training_data():
    rng = np.random.default_rng(7)
    X = rng.normal(loc=[[5.0], [-3.0], [100.0]], scale=[[2.0], [0.1], [30.0]], size=(3, 50))
    scaling = standardize(X)
    out = scaling.apply(X)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(scaling.mean.ravel(), X.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(scaling.spread.ravel(), X.std(axis=1), rtol=1e-12)


def test_standardize_hand_worked():
    X = np.array([[1.0, 3.0], [10.0, 10.0]])  # feature 0: mean 2, std 1; feature 1 constant
    scaling = standardize(X)
    np.testing.assert_array_equal(scaling.mean, [[2.0], [10.0]])
    np.testing.assert_array_equal(scaling.spread, [[1.0], [1.0]])
    np.testing.assert_array_equal(scaling.apply(X), [[-1.0, 1.0], [0.0, 0.0]])


def test_constant_feature_gets_spread_1_no_division_by_zero():
    X = np.vstack([np.full(6, 4.0), np.arange(6.0)])
    with np.errstate(all="raise"):
        scaling = standardize(X)
        out = scaling.apply(X)
    assert scaling.spread[0, 0] == 1.0
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[0], 0.0)


def test_test_data_uses_training_mean_and_spread():
    rng = np.random.default_rng(8)
    train = rng.normal(10.0, 2.0, size=(2, 40))
    test = rng.normal(20.0, 5.0, size=(2, 15))
    scaling = standardize(train)
    out = scaling.apply(test)
    expected = (test - train.mean(axis=1, keepdims=True)) / train.std(axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    # and not the test set's own statistics: test data sits far from 0 on train's scale
    assert np.all(out.mean(axis=1) > 2.0)


def test_scaling_dict_round_trip():
    X = np.random.default_rng(9).random((4, 10))
    for scaling in (standardize(X), image_scaling(), no_scaling()):
        record = scaling.to_dict()
        assert set(record) == {"kind", "mean", "spread"}
        back = Scaling.from_dict(record, n_x=4)
        assert back.kind == scaling.kind
        np.testing.assert_array_equal(back.apply(X), scaling.apply(X))


def test_from_dict_refuses_wrong_lengths():
    record = standardize(np.random.default_rng(10).random((3, 5))).to_dict()
    with pytest.raises(InvalidInputError, match=r"mean has 3 entries.*n_x = 2"):
        Scaling.from_dict(record, n_x=2)
    record["mean"] = [0.0, 0.0, 0.0, 0.0]
    with pytest.raises(InvalidInputError, match=r"mean has 4 entries"):
        Scaling.from_dict(record, n_x=3)


def test_from_dict_refuses_zero_spread_and_non_finite():
    for spread in ([1, 0], [1, -1], [-1e-300, 1]):  # x is divided by it: > 0 only
        with pytest.raises(InvalidInputError, match=r"spread holds a value ≤ 0"):
            Scaling.from_dict({"kind": "standardize", "mean": [0, 0], "spread": spread}, n_x=2)
    with pytest.raises(InvalidInputError, match=r"mean has 1 entries; expected 2"):  # no
        Scaling.from_dict({"kind": "standardize", "mean": [0], "spread": [1, 1]}, n_x=2)
    with pytest.raises(InvalidInputError, match=r"spread has 2 entries; expected 1"):
        Scaling.from_dict({"kind": "image", "mean": [0], "spread": [255, 255]}, n_x=2)
    with pytest.raises(InvalidInputError, match=r"spread"):
        Scaling.from_dict({"kind": "standardize", "mean": [0, 0], "spread": [1, np.nan]}, n_x=2)


def test_from_dict_refuses_unknown_kind():
    with pytest.raises(InvalidInputError, match=r"unknown scaling kind 'minmax'"):
        Scaling.from_dict({"kind": "minmax", "mean": [0], "spread": [1]}, n_x=1)


# === the exercise's .h5 files ==========================================================================


def test_load_h5_real_cat_data(catvnoncat):
    train = load_h5(catvnoncat / "train_catvnoncat.h5")
    test = load_h5(catvnoncat / "test_catvnoncat.h5")
    # the README's published figures
    assert train.X.shape == (12288, 209) and train.Y.shape == (1, 209)
    assert test.X.shape == (12288, 50) and test.Y.shape == (1, 50)
    assert int(train.Y.sum()) == 72 and int(test.Y.sum()) == 33
    assert int((train.Y == 0).sum()) == 137 and int((test.Y == 0).sum()) == 17
    assert train.classes == ["non-cat", "cat"] and test.classes == ["non-cat", "cat"]
    assert train.image_shape == (64, 64, 3)
    with h5py.File(catvnoncat / "train_catvnoncat.h5", "r") as f:
        raw = f["train_set_x"][()]
        raw_y = f["train_set_y"][()]
    np.testing.assert_array_equal(train.X[:, 0], raw[0].ravel())
    np.testing.assert_array_equal(train.X[:, 208], raw[208].ravel())
    np.testing.assert_array_equal(train.Y.ravel(), raw_y)


def write_h5(path, **arrays):
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value)
    return path


def small_h5(path, split="train", m=4, grayscale=False):
    rng = np.random.default_rng(11)
    shape = (m, 3, 2) if grayscale else (m, 3, 2, 3)
    images = rng.integers(0, 256, size=shape, dtype=np.uint8)
    labels = np.array([0, 1] * (m // 2))
    write_h5(path, **{f"{split}_set_x": images, f"{split}_set_y": labels,
                      "list_classes": np.array([b"non-cat", b"cat"])})
    return images, labels


def test_load_h5_synthetic_layout(tmp_path):
    images, labels = small_h5(tmp_path / "s.h5", split="test")
    data = load_h5(tmp_path / "s.h5")
    assert data.X.shape == (18, 4) and data.classes == ["non-cat", "cat"]
    for i in range(4):
        np.testing.assert_array_equal(data.X[:, i], images[i].ravel())
    np.testing.assert_array_equal(data.Y, labels.reshape(1, -1))


def test_load_h5_grayscale_stack_gets_one_channel(tmp_path):
    images, _ = small_h5(tmp_path / "g.h5", grayscale=True)
    data = load_h5(tmp_path / "g.h5")
    assert data.image_shape == (3, 2, 1)
    np.testing.assert_array_equal(data.X[:, 1], images[1].ravel())


def test_load_h5_without_expected_keys_lists_found_and_expected(tmp_path):
    write_h5(tmp_path / "other.h5", images=np.zeros((2, 3)), targets=np.zeros(2))
    with pytest.raises(DataFileError) as info:
        load_h5(tmp_path / "other.h5")
    message = str(info.value)
    assert "other.h5" in message
    assert "'images'" in message and "'targets'" in message  # found
    assert "train_set_x" in message and "train_set_y" in message  # expected


def test_load_h5_with_both_splits_needs_a_name(tmp_path):
    rng = np.random.default_rng(12)
    write_h5(tmp_path / "both.h5",
             train_set_x=rng.integers(0, 256, (2, 2, 2, 3), dtype=np.uint8),
             train_set_y=np.array([0, 1]),
             test_set_x=rng.integers(0, 256, (3, 2, 2, 3), dtype=np.uint8),
             test_set_y=np.array([1, 0, 1]))
    with pytest.raises(DataFileError, match=r"splits \['test', 'train'\]: name one"):
        load_h5(tmp_path / "both.h5")
    assert load_h5(tmp_path / "both.h5", split="test").m == 3
    assert load_h5(tmp_path / "both.h5", split="train").m == 2


@pytest.mark.parametrize("labels, shown", [([0, -1], r"\[-1, 0\]"),
                                           ([0.0, 1.5], r"\[0.0, 1.5\]")],
                         ids=["negative", "fraction"])
def test_load_h5_labels_not_class_indices(tmp_path, labels, shown):
    write_h5(tmp_path / "l.h5", train_set_x=np.zeros((2, 2, 2, 3), np.uint8),
             train_set_y=np.array(labels))
    with pytest.raises(DataFileError, match=shown + ".*indexing list_classes"):
        load_h5(tmp_path / "l.h5")


def test_load_h5_labels_beyond_list_classes(tmp_path):
    write_h5(tmp_path / "l.h5", train_set_x=np.zeros((2, 2, 2, 3), np.uint8),
             train_set_y=np.array([0, 2]), list_classes=np.array([b"a", b"b"]))
    with pytest.raises(DataFileError, match="label 2 but list_classes names 2 classes"):
        load_h5(tmp_path / "l.h5")


def test_load_h5_labels_0_2_without_list_classes_name_three_classes(tmp_path):
    write_h5(tmp_path / "l.h5", train_set_x=np.zeros((2, 2, 2, 3), np.uint8),
             train_set_y=np.array([0, 2]))
    data = load_h5(tmp_path / "l.h5")
    assert data.classes == ["0", "1", "2"]
    np.testing.assert_array_equal(data.Y, [[0, 2]])


def test_load_h5_count_mismatch(tmp_path):
    write_h5(tmp_path / "c.h5", train_set_x=np.zeros((3, 2, 2, 3), np.uint8),
             train_set_y=np.array([0, 1]))
    with pytest.raises(DataFileError, match=r"\(3, 2, 2, 3\).*\(2,\)"):
        load_h5(tmp_path / "c.h5")


def test_load_h5_non_hdf5_and_missing(tmp_path):
    (tmp_path / "fake.h5").write_text("just text, not HDF5")
    with pytest.raises(DataFileError, match=r"fake\.h5 is not a readable HDF5"):
        load_h5(tmp_path / "fake.h5")
    with pytest.raises(DataFileError, match=r"missing\.h5 does not exist"):
        load_h5(tmp_path / "missing.h5")


# === CSV =================================================================================================


def write_csv(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_load_csv_named_label_column_string_labels(tmp_path):
    path = write_csv(tmp_path / "t.csv", [
        ["radius", "diagnosis", "texture"],
        ["1.5", "malignant", "10"],
        ["2.25", "benign", "-3e2"],
        ["0", "malignant", " 7 "],
    ])
    data = load_csv(path, label_column="diagnosis")
    assert data.classes == ["benign", "malignant"]
    assert data.feature_names == ["radius", "texture"]
    assert data.label_column == "diagnosis"
    np.testing.assert_array_equal(data.X, [[1.5, 2.25, 0.0], [10.0, -300.0, 7.0]])
    np.testing.assert_array_equal(data.Y, [[1, 0, 1]])
    assert data.X.dtype == np.float64


def test_load_csv_numeric_labels_sorted_numerically(tmp_path):
    path = write_csv(tmp_path / "n.csv", [["x", "label"], ["1", "10"], ["2", "2"], ["3", "10"]])
    data = load_csv(path)
    assert data.classes == [2, 10]  # numerically; as text "10" < "2"
    np.testing.assert_array_equal(data.Y, [[1, 0, 1]])


def test_load_csv_feature_names_pick_and_order_columns(tmp_path):
    path = write_csv(tmp_path / "f.csv", [["a", "b", "c", "label"], ["1", "2", "3", "x"],
                                           ["4", "5", "6", "y"]])
    data = load_csv(path, feature_names=["c", "a"])
    np.testing.assert_array_equal(data.X, [[3, 6], [1, 4]])
    with pytest.raises(DataFileError, match=r"\['zz'\].*columns are"):
        load_csv(path, feature_names=["a", "zz"])


def test_load_csv_with_byte_order_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("label,x\nyes,1\nno,2\n", encoding="utf-8-sig")
    data = load_csv(path)
    assert data.classes == ["no", "yes"]
    np.testing.assert_array_equal(data.X, [[1, 2]])


def test_load_csv_missing_label_column_names_it_and_lists_columns(tmp_path):
    path = write_csv(tmp_path / "m.csv", [["x", "y", "target"], ["1", "2", "a"]])
    with pytest.raises(DataFileError, match=r"no column 'label'.*\['x', 'y', 'target'\]"):
        load_csv(path)


def test_load_csv_ragged_row_names_line(tmp_path):
    path = write_csv(tmp_path / "r.csv", [["x", "y", "label"], ["1", "2", "a"],
                                           ["3", "b"], ["4", "5", "a"]])
    with pytest.raises(DataFileError, match=r"r\.csv, line 3: 2 fields; expected 3"):
        load_csv(path)


def test_load_csv_line_numbers_count_blank_lines(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("x,label\n1,a\n\n2,b\n3\n")  # the ragged row is on line 5
    with pytest.raises(DataFileError, match=r"line 5:"):
        load_csv(path)


def test_load_csv_non_numeric_feature_names_line_and_column(tmp_path):
    path = write_csv(tmp_path / "s.csv", [["x", "y", "label"], ["1", "2", "a"],
                                           ["3", "4", "b"], ["5", "big", "a"]])
    with pytest.raises(DataFileError, match=r"line 4, column 'y': 'big' is not a number"):
        load_csv(path)


def test_load_csv_empty_cell_names_line(tmp_path):
    path = write_csv(tmp_path / "e.csv", [["x", "label"], ["", "a"], ["1", "b"]])
    with pytest.raises(DataFileError, match=r"line 2, column 'x': ''"):
        load_csv(path)


def test_load_csv_empty_file_and_header_only(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFileError, match=r"empty\.csv holds 0 non-empty"):
        load_csv(tmp_path / "empty.csv")
    (tmp_path / "head.csv").write_text("x,label\n")
    with pytest.raises(DataFileError, match=r"head\.csv holds 1 non-empty"):
        load_csv(tmp_path / "head.csv")


def test_load_csv_missing_file(tmp_path):
    with pytest.raises(DataFileError, match=r"nope\.csv does not exist"):
        load_csv(tmp_path / "nope.csv")


def test_load_csv_three_classes_are_class_indices(tmp_path):
    path = write_csv(tmp_path / "3.csv", [["x", "label"], ["1", "c"], ["2", "a"], ["3", "b"]])
    data = load_csv(path)
    assert data.classes == ["a", "b", "c"]
    np.testing.assert_array_equal(data.Y, [[2, 0, 1]])


def test_load_csv_one_class_refused(tmp_path):
    path = write_csv(tmp_path / "1.csv", [["x", "label"], ["1", "a"], ["2", "a"]])
    with pytest.raises(InvalidInputError, match="one class only"):
        load_csv(path)


# === NPZ ================================================================================================


def test_load_npz_rows_and_y(tmp_path):
    rows = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [0.0, 1.0, 0.0]])
    np.savez(tmp_path / "r.npz", X=rows, y=np.array(["b", "a", "b", "a"]))
    data = load_npz(tmp_path / "r.npz")
    np.testing.assert_array_equal(data.X, rows.T)
    assert data.classes == ["a", "b"]
    np.testing.assert_array_equal(data.Y, [[1, 0, 1, 0]])


def test_load_npz_notes_layout(tmp_path):
    X = np.arange(12.0).reshape(3, 4)  # (n_x, m)
    np.savez(tmp_path / "n.npz", X=X, Y=np.array([[0, 1, 1, 0]]))
    data = load_npz(tmp_path / "n.npz")
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.Y, [[0, 1, 1, 0]])
    assert data.classes == [0, 1]


def test_load_npz_missing_keys_lists_found(tmp_path):
    np.savez(tmp_path / "k.npz", features=np.zeros((2, 2)), labels=np.array([0, 1]))
    with pytest.raises(DataFileError, match=r"\['features', 'labels'\].*'X' and\s+'y'"):
        load_npz(tmp_path / "k.npz")


def test_load_npz_never_unpickles(tmp_path):
    np.savez(tmp_path / "o.npz", X=np.array([{"a": 1}, {"b": 2}], dtype=object),
             y=np.array([0, 1]))
    with pytest.raises(DataFileError, match=r"o\.npz is not a readable \.npz"):
        load_npz(tmp_path / "o.npz")


def test_load_npz_not_a_zip(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"garbage" * 10)
    with pytest.raises(DataFileError, match=r"bad\.npz"):
        load_npz(tmp_path / "bad.npz")


def test_load_npz_npy_content_is_a_data_file_error(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    (tmp_path / "a.npy").rename(tmp_path / "a.npz")
    with pytest.raises(DataFileError, match=r"a\.npz"):
        load_npz(tmp_path / "a.npz")


def test_load_npz_count_mismatch_refused(tmp_path):
    np.savez(tmp_path / "mm.npz", X=np.zeros((5, 3)), y=np.array([0, 1, 0, 1]))
    with pytest.raises(LogregError, match=r"\b5\b.*\b4\b|\b4\b.*\b5\b"):
        load_npz(tmp_path / "mm.npz")


# === scikit-learn's sets ==================================================================================


@pytest.fixture(scope="module")
def digits_task():
    return load_digits_task()


def test_digits_task_shapes_values_classes(digits_task):
    train, test = digits_task
    for part in (train, test):
        assert part.classes == ["3", "8"]
        assert part.image_shape == (8, 8, 1)
        assert part.X.shape[0] == 64 and part.Y.shape == (1, part.m)
        assert part.X.min() >= 0 and part.X.max() <= 255
        assert set(np.unique(part.Y)) <= {0.0, 1.0}
    assert train.X.max() == 255  # intensity 16 becomes 255
    assert train.m + test.m == 357  # 183 threes + 174 eights
    assert test.m == 90  # ceil(0.25 * 357)


def test_digits_task_is_stratified(digits_task):
    train, test = digits_task
    overall = 174 / 357
    assert abs(train.Y.mean() - overall) < 0.01
    assert abs(test.Y.mean() - overall) < 0.02


def test_digits_task_is_deterministic(digits_task):
    again = load_digits_task()
    for first, second in zip(digits_task, again):
        np.testing.assert_array_equal(first.X, second.X)
        np.testing.assert_array_equal(first.Y, second.Y)


def test_digits_columns_are_sklearn_images_scaled(digits_task):
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = np.flatnonzero(np.isin(digits.target, (3, 8)))
    by_pixels = {np.round(digits.images[k] * 255 / 16).astype(np.uint8).ravel().tobytes(): k
                 for k in keep}
    assert len(by_pixels) == len(keep)  # every example is distinct, so a match is unique
    seen = Counter()
    for part in digits_task:
        for i in range(part.m):
            column = part.X[:, i].astype(np.uint8)
            assert np.array_equal(column, part.X[:, i])  # whole numbers in 0..255
            k = by_pixels[column.tobytes()]  # KeyError: not a digits image
            assert digits.target[k] == (8 if part.Y[0, i] == 1 else 3)
            seen[k] += 1
    assert sorted(seen) == sorted(keep) and set(seen.values()) == {1}
    # one spelled out: the first training column against its digit, computed here
    train = digits_task[0]
    k = by_pixels[train.X[:, 0].astype(np.uint8).tobytes()]
    np.testing.assert_array_equal(train.X[:, 0], np.round(digits.images[k] * 255 / 16).ravel())


def test_digits_other_pair_and_seed():
    train, test = load_digits_task(negative=1, positive=7, test_size=0.5, random_state=3)
    assert train.classes == ["1", "7"]
    assert abs(train.m - test.m) <= 1


def test_breast_cancer_two_named_features():
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer_table(features=["mean radius", "mean texture"])
    truth = load_breast_cancer()
    names = list(truth.feature_names)
    assert data.X.shape == (2, 569) and data.Y.shape == (1, 569)
    np.testing.assert_array_equal(data.X[0], truth.data[:, names.index("mean radius")])
    np.testing.assert_array_equal(data.X[1], truth.data[:, names.index("mean texture")])
    np.testing.assert_array_equal(data.Y.ravel(), truth.target)
    assert data.classes == ["malignant", "benign"]
    assert data.feature_names == ["mean radius", "mean texture"]
    assert data.X.flags.c_contiguous or data.X.flags.f_contiguous


def test_breast_cancer_all_features():
    data = load_breast_cancer_table()
    assert data.X.shape == (30, 569)
    assert int(data.Y.sum()) == 357  # benign cases


def test_breast_cancer_unknown_feature_is_a_package_error():
    with pytest.raises(LogregError, match=r"mean radiu\b|'mean radiu'"):
        load_breast_cancer_table(features=["mean radiu"])


# === load_dataset dispatch ==================================================================================


def test_load_dataset_dispatches(tmp_path):
    small_h5(tmp_path / "d.h5")
    assert load_dataset(tmp_path / "d.h5").X.shape == (18, 4)

    write_csv(tmp_path / "d.csv", [["x", "cls"], ["1", "a"], ["2", "b"]])
    csv_data = load_dataset(str(tmp_path / "d.csv"), label_column="cls")
    assert csv_data.classes == ["a", "b"] and csv_data.label_column == "cls"

    write_csv(tmp_path / "UP.CSV", [["x", "label"], ["1", "a"], ["2", "b"]])
    assert load_dataset(tmp_path / "UP.CSV").m == 2

    np.savez(tmp_path / "d.npz", X=np.zeros((3, 2)), y=np.array([0, 1, 1]))
    assert load_dataset(tmp_path / "d.npz").X.shape == (2, 3)

    root, _ = make_folder(tmp_path / "imgs", {"a": 1, "b": 2})
    folder = load_dataset(root, image_size=(4, 6), channels=1)
    assert folder.X.shape == (24, 3) and folder.image_shape == (4, 6, 1)
    assert load_dataset(root).image_shape == (64, 64, 3)  # the default size

    bc = load_dataset("breast-cancer", feature_names=["mean area"])
    assert bc.X.shape == (1, 569)


def test_load_dataset_unknown_suffix_and_missing_path(tmp_path):
    (tmp_path / "data.txt").write_text("1 2 3")
    with pytest.raises(DataFileError, match=r"suffix \.txt is not a known data format"):
        load_dataset(tmp_path / "data.txt")
    (tmp_path / "noext").write_text("1 2 3")
    with pytest.raises(DataFileError, match=r"suffix \(none\)"):
        load_dataset(tmp_path / "noext")
    with pytest.raises(DataFileError, match=r"missing\.csv does not exist"):
        load_dataset(tmp_path / "missing.csv")


def test_load_dataset_h5_split(tmp_path, catvnoncat):
    data = load_dataset(catvnoncat / "test_catvnoncat.h5", split="test")
    assert data.X.shape == (12288, 50)


# === split_dataset ===============================================================================


def table(m=40, positives=8):
    X = np.arange(3 * m, dtype=float).reshape(3, m)
    Y = np.zeros((1, m))
    Y[0, :positives] = 1
    return Dataset(X, Y, ["no", "yes"], "table")


def test_split_dataset_stratified_deterministic_and_complete():
    data = table()
    train, test = split_dataset(data, 0.25, random_state=0)
    assert train.m == 30 and test.m == 10
    assert train.Y.sum() == 6 and test.Y.sum() == 2  # 8 positives in 40, a quarter held out
    # each column keeps its label, and together the parts are the whole
    columns = np.hstack([train.X, test.X])
    assert sorted(columns[0]) == sorted(data.X[0])
    for part in (train, test):
        for i in range(part.m):
            j = int(part.X[0, i])  # X[0] is 0..m-1, the original index
            assert part.Y[0, i] == data.Y[0, j]
            np.testing.assert_array_equal(part.X[:, i], data.X[:, j])
        assert part.classes == ["no", "yes"]
    again = split_dataset(data, 0.25, random_state=0)
    np.testing.assert_array_equal(again[0].X, train.X)
    np.testing.assert_array_equal(again[1].X, test.X)
    other = split_dataset(data, 0.25, random_state=1)
    assert not np.array_equal(other[1].X, test.X)


def test_split_dataset_too_few_of_a_class():
    with pytest.raises(InvalidInputError, match="too few examples"):
        split_dataset(table(m=10, positives=1), 0.3)
    with pytest.raises(InvalidInputError, match="too few examples"):
        split_dataset(table(m=10, positives=0), 0.3)
