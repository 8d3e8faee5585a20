"""logreg.data's images: images as columns, reading image files, a folder of images (one
sub-folder a class, two or more), and the exercise's .h5 files (two classes, or K named in the
file's order).

Truth comes from outside the code under test: hand-worked values, NumPy computed here, Pillow
and h5py read independently, and the figures published in the cat data's README.
"""


import h5py
import numpy as np
import pytest
from PIL import Image

from logreg.data import (
    Dataset,
    flatten_images,
    image_to_vector,
    load_h5,
    load_image_folder,
    read_image,
    read_images,
    vectors_to_images,
)
from logreg.errors import DataFileError, InvalidInputError, LogregError
from data_files import make_folder, save_rgb, small_h5, write_h5


RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


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


@pytest.mark.parametrize("K, counts, classes, Y", [
    (3, {"c": 1, "a": 2, "b": 1}, ["a", "b", "c"], [[0, 0, 1, 2]]),
    (4, {"owl": 2, "cat": 1, "dog": 3, "emu": 1}, ["cat", "dog", "emu", "owl"],
     [[0, 1, 1, 1, 2, 3, 3]]),
])
def test_load_image_folder_of_K_subfolders_is_K_classes(tmp_path, K, counts, classes, Y):
    root, _ = make_folder(tmp_path / "data", counts)
    data = load_image_folder(root, image_size=(4, 6))
    assert len(data.classes) == K
    assert data.classes == classes  # sorted sub-folders
    np.testing.assert_array_equal(data.Y, Y)


def test_image_folder_with_an_empty_class_is_refused(tmp_path):
    root, _ = make_folder(tmp_path / "data", {"a": 1, "b": 1}, size=(4, 4))
    (root / "c").mkdir()
    with pytest.raises(DataFileError, match=r"one class \('c'\) has no image files"):
        load_image_folder(root, image_size=(4, 4))


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


def h5_of(path, K):
    """A .h5 file of K classes, its images and labels and the classes it names: the exercise's
    two (four RGB 3×2 images, split "test"), or three in the file's own order (split "train")."""
    if K == 2:
        images, labels = small_h5(path, split="test")
        return images, labels, ["non-cat", "cat"]
    images, labels = np.zeros((4, 2, 2, 3), np.uint8), np.array([2, 0, 1, 2])
    write_h5(path, train_set_x=images, train_set_y=labels,
             list_classes=np.array([b"sea", b"sky", b"sand"]))
    return images, labels, ["sea", "sky", "sand"]


@pytest.mark.parametrize("K", [2, 3])
def test_load_h5_synthetic_layout(tmp_path, K):
    images, labels, classes = h5_of(tmp_path / "s.h5", K)
    data = load_h5(tmp_path / "s.h5")
    assert data.X.shape == ((18, 4) if K == 2 else (12, 4))
    assert data.classes == classes  # the file's order: label k is list_classes[k]
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
