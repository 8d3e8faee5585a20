"""logreg.data for K classes and sparse tables: digits10, class indices, sparse .npz with a
labels file, svmlight / LIBSVM files, max-abs scaling.

Truth comes from outside the code under test: scikit-learn's digits and MaxAbsScaler, SciPy's
own sparse matrices (``save_npz``), scikit-learn's ``dump_svmlight_file`` and hand-written
svmlight text.
"""

import gzip

import h5py
import numpy as np
import pytest
import scipy.sparse as sp
from PIL import Image
from sklearn.datasets import dump_svmlight_file, load_digits
from sklearn.preprocessing import MaxAbsScaler

from logreg.data import (
    BUILT_IN,
    Scaling,
    index_labels,
    load_dataset,
    load_digits10,
    load_digits_task,
    load_h5,
    load_image_folder,
    load_sparse_npz,
    load_svmlight,
    max_abs,
    read_labels,
    standardize,
)
from logreg.data import is_svmlight, source_kind, split_dataset
from logreg.errors import DataFileError, InvalidInputError


def sparse_rows(m=40, n=12, seed=0, density=0.25):
    """A random sparse matrix of examples (m, n), CSR, with one all-zero column."""
    rows = sp.random(m, n, density=density, format="csr", random_state=seed) * 10 - \
        sp.random(m, n, density=density / 2, format="csr", random_state=seed + 1) * 3
    rows = rows.tolil()
    rows[:, 5] = 0
    return rows.tocsr()


def same_matrix(a, b):
    return a.shape == b.shape and (abs(a - b) > 0).nnz == 0


# === the ten digits ==========================================================================


def test_digits10_is_all_ten_digits_as_images():
    train, test = load_digits10()
    digits = load_digits()
    assert "digits10" in BUILT_IN and source_kind("digits10") == "images"
    assert train.classes == test.classes == [str(k) for k in range(10)]
    assert train.m + test.m == len(digits.target) == 1797
    assert test.m == 450  # ⌈0.25 · 1797⌉
    assert train.image_shape == (8, 8, 1) and train.X.shape == (64, train.m)
    assert train.X.dtype == np.uint8  # pixels 0..255, as any picture; /255 comes later
    # every training column is one of scikit-learn's digits at 255/16 the intensity, its label
    # its class index
    pixels = np.round(digits.images.reshape(len(digits.target), -1) * (255 / 16))
    lookup = {tuple(row): target for row, target in zip(pixels.astype(np.uint8),
                                                           digits.target)}
    found = [lookup[tuple(column)] for column in train.X.T]
    np.testing.assert_array_equal(found, train.Y.ravel())
    # stratified: each class in the same share in both parts (±1 example)
    for k in range(10):
        share = np.sum(digits.target == k) * 0.25
        assert abs(np.sum(test.Y == k) - share) <= 1


def test_digits10_test_size_0_and_through_load_dataset():
    whole, none = load_digits10(test_size=0)
    assert none is None and whole.m == 1797
    np.testing.assert_array_equal(np.bincount(whole.Y.ravel().astype(int)),
                                  np.bincount(load_digits().target))
    held_out = load_dataset("digits10", split="test")
    np.testing.assert_array_equal(held_out.X, load_digits10()[1].X)


def test_binary_digits_task_is_unchanged():
    """The default built-in set: 3 against 8, labels 0/1 with 8 positive, as before."""
    train, test = load_digits_task()
    digits = load_digits()
    assert train.classes == ["3", "8"] and train.m + test.m == 357
    assert set(np.unique(train.Y)) == {0.0, 1.0}
    assert np.sum(train.Y) + np.sum(test.Y) == np.sum(digits.target == 8)


# === labels as class indices =================================================================


def test_index_labels_sorted_classes_and_indices():
    Y, classes = index_labels(np.array(["b", "c", "a", "c"]))
    assert classes.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(Y, [[1, 2, 0, 2]])
    assert Y.dtype == np.float64 and Y.shape == (1, 4)


def test_index_labels_against_a_models_classes_in_its_order():
    Y, classes = index_labels(np.array(["cat", "non-cat", "cat"]), ["non-cat", "cat"])
    assert classes.tolist() == ["non-cat", "cat"]
    np.testing.assert_array_equal(Y, [[1, 0, 1]])  # the notes' 0/1, "cat" positive


def test_index_labels_numbers_and_refusals():
    Y, classes = index_labels(np.array([-1, 1, 1, -1]))
    assert classes.tolist() == [-1, 1]
    np.testing.assert_array_equal(Y, [[0, 1, 1, 0]])
    with pytest.raises(InvalidInputError, match="one class only"):
        index_labels(np.array([2, 2, 2]))
    with pytest.raises(InvalidInputError, match="'d', which the model does not know"):
        index_labels(np.array(["a", "d"]), ["a", "b", "c"])


# === images and .h5 with K classes ===========================================================


def make_folder(root, counts):
    for k, (name, count) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (4, 4), (40 * k, 255 - 40 * k, 7 * i)).save(root / name / f"{i}.png")
    return root


def test_image_folder_of_four_classes(tmp_path):
    root = make_folder(tmp_path / "data", {"owl": 2, "cat": 1, "dog": 3, "emu": 1})
    data = load_image_folder(root, image_size=(4, 4))
    assert data.classes == ["cat", "dog", "emu", "owl"]
    np.testing.assert_array_equal(data.Y, [[0, 1, 1, 1, 2, 3, 3]])


def test_image_folder_with_an_empty_class_is_refused(tmp_path):
    root = make_folder(tmp_path / "data", {"a": 1, "b": 1})
    (root / "c").mkdir()
    with pytest.raises(DataFileError, match=r"one class \('c'\) has no image files"):
        load_image_folder(root, image_size=(4, 4))


def test_h5_of_three_classes(tmp_path):
    path = tmp_path / "k.h5"
    with h5py.File(path, "w") as handle:
        handle["train_set_x"] = np.zeros((4, 2, 2, 3), np.uint8)
        handle["train_set_y"] = np.array([2, 0, 1, 2])
        handle["list_classes"] = np.array([b"sea", b"sky", b"sand"])
    data = load_h5(path)
    assert data.classes == ["sea", "sky", "sand"]  # the file's order: label k is list_classes[k]
    np.testing.assert_array_equal(data.Y, [[2, 0, 1, 2]])


# === sparse .npz with a labels file ==========================================================


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("labels_kind", ["npy", "txt"])
def test_sparse_npz_with_labels_stays_sparse(tmp_path, fmt, labels_kind):
    rows = sparse_rows()
    y = np.random.default_rng(1).integers(1, 4, rows.shape[0])
    sp.save_npz(tmp_path / "X.npz", rows.asformat(fmt))
    labels = tmp_path / f"y.{labels_kind}"
    if labels_kind == "npy":
        np.save(labels, y)
    else:
        labels.write_text("\n".join(map(str, y)) + "\n")
    data = load_dataset(tmp_path / "X.npz", labels=labels)
    assert sp.issparse(data.X) and data.X.format == "csc" and data.sparse
    assert same_matrix(data.X.T, rows)  # (n_x, m): the notes' layout
    assert data.X.dtype == np.float64
    assert data.classes == [1, 2, 3]
    np.testing.assert_array_equal(data.Y.ravel(), y - 1)


def test_sparse_npz_string_labels_and_a_models_classes(tmp_path):
    rows = sparse_rows(m=6)
    sp.save_npz(tmp_path / "X.npz", rows)
    (tmp_path / "y.txt").write_text("spam\nham\nspam\nham\nham\nspam\n")
    data = load_sparse_npz(tmp_path / "X.npz", tmp_path / "y.txt", classes=["spam", "ham"])
    assert data.classes == ["spam", "ham"]
    np.testing.assert_array_equal(data.Y, [[0, 1, 0, 1, 1, 0]])


def test_sparse_npz_of_a_sparse_array_and_float32(tmp_path):
    rows = sp.csr_array(sparse_rows().astype(np.float32))
    sp.save_npz(tmp_path / "X.npz", rows)
    np.save(tmp_path / "y.npy", np.arange(rows.shape[0]) % 2)
    data = load_sparse_npz(tmp_path / "X.npz", tmp_path / "y.npy")
    assert sp.issparse(data.X) and data.X.dtype == np.float64
    assert np.array_equal(data.X.T.toarray(), rows.toarray().astype(np.float64))


def sparse_case(tmp_path, name):
    """(X path, labels path, message fragment) of one bad sparse input."""
    rows = sparse_rows(m=10)
    X, y = tmp_path / "X.npz", tmp_path / "y.npy"
    sp.save_npz(X, rows)
    np.save(y, np.arange(10) % 2)
    if name == "count":
        np.save(y, np.arange(9) % 2)
        return X, y, "holds 10 examples (rows) but"
    if name == "plain npz":
        np.savez(X, X=np.zeros((3, 2)), y=[0, 1, 0])
        return X, y, "not a SciPy sparse matrix"
    if name == "not a zip":
        X.write_text("not an archive")
        return X, y, "not an .npz archive"
    if name == "labels 2-D":
        np.save(y, np.zeros((10, 2)))
        return X, y, "shape (10, 2)"
    if name == "labels suffix":
        labels = tmp_path / "y.json"
        labels.write_text("[0, 1]")
        return X, labels, "not a labels format"
    if name == "labels missing":
        return X, tmp_path / "absent.txt", "does not exist"
    if name == "nan":
        bad = rows.copy()
        bad.data[3] = np.nan
        sp.save_npz(X, bad)
        return X, y, "is nan; expected finite numbers"
    if name == "one class":
        np.save(y, np.zeros(10))
        return X, y, "one class only"
    if name == "complex":
        sp.save_npz(X, rows.astype(np.complex128))
        return X, y, "expected real numbers"
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["count", "plain npz", "not a zip", "labels 2-D",
                                  "labels suffix", "labels missing", "nan", "one class",
                                  "complex"])
def test_bad_sparse_npz_is_a_clear_error(tmp_path, name):
    X, y, fragment = sparse_case(tmp_path, name)
    with pytest.raises((DataFileError, InvalidInputError)) as caught:
        load_dataset(X, labels=y)
    assert fragment in str(caught.value)


def test_sparse_npz_without_labels_asks_for_them(tmp_path):
    sp.save_npz(tmp_path / "X.npz", sparse_rows())
    with pytest.raises(DataFileError, match="--labels FILE"):
        load_dataset(tmp_path / "X.npz")


def test_read_labels_txt_numbers_and_text(tmp_path):
    (tmp_path / "n.txt").write_text("1\n-1\n\n1\n")
    assert read_labels(tmp_path / "n.txt").tolist() == [1, -1, 1]  # blank lines skipped
    (tmp_path / "s.txt").write_text("a\nb\n")
    assert read_labels(tmp_path / "s.txt").tolist() == ["a", "b"]


# === svmlight / LIBSVM =======================================================================


@pytest.mark.parametrize("zero_based", [False, True], ids=["one-based", "zero-based"])
def test_svmlight_matches_scikit_learns_writer(tmp_path, zero_based):
    rows = sparse_rows().tolil()
    rows[:, 0] = 0
    if zero_based:
        rows[0, 0] = 1.5  # an index 0 in the file tells a zero-based one
    rows = rows.tocsr()
    rows.eliminate_zeros()
    y = np.random.default_rng(3).integers(1, 5, rows.shape[0])
    dump_svmlight_file(rows, y, str(tmp_path / "d.svm"), zero_based=zero_based)
    data = load_svmlight(tmp_path / "d.svm")
    assert data.zero_based is zero_based
    assert sp.issparse(data.X) and data.X.format == "csc"
    # the highest index written is the last column holding a value
    last = int(rows.nonzero()[1].max())
    np.testing.assert_allclose(data.X.T.toarray(), rows[:, :last + 1].toarray(), rtol=1e-15)
    assert data.classes == sorted(set(y.tolist()))
    np.testing.assert_array_equal(data.Y.ravel(), np.searchsorted(data.classes, y))


def test_svmlight_hand_written_libsvm_text(tmp_path):
    path = tmp_path / "a.libsvm"
    path.write_text("+1 1:0.5 3:-2\n-1 2:1\n# a comment line\n+1 3:4 # trailing comment\n")
    data = load_dataset(path)
    assert data.classes == [-1, 1] and data.zero_based is False
    np.testing.assert_array_equal(data.X.T.toarray(), [[0.5, 0, -2], [0, 1, 0], [0, 0, 4]])
    np.testing.assert_array_equal(data.Y, [[1, 0, 1]])


def test_svmlight_float_labels_stay_floats(tmp_path):
    path = tmp_path / "f.svm"
    path.write_text("0.5 1:1\n2.5 1:2\n0.5 1:3\n")
    assert load_svmlight(path).classes == [0.5, 2.5]


def test_svmlight_compressed(tmp_path):
    with gzip.open(tmp_path / "d.svm.gz", "wt") as handle:
        handle.write("1 1:1 2:2\n2 2:3\n3 1:4\n")
    assert is_svmlight(tmp_path / "d.svm.gz") and source_kind(str(tmp_path / "d.svm.gz")) \
        == "table"
    data = load_dataset(tmp_path / "d.svm.gz")
    np.testing.assert_array_equal(data.X.T.toarray(), [[1, 2], [0, 3], [4, 0]])
    assert data.classes == [1, 2, 3]


def test_svmlight_test_file_read_as_the_training_file(tmp_path):
    """A held-out file with a lower highest index is padded to the model's features; a
    higher index, or an index 0 in a one-based set, is refused."""
    (tmp_path / "train.svm").write_text("1 1:1 4:2\n2 2:1\n")
    train = load_svmlight(tmp_path / "train.svm")
    assert train.X.shape == (4, 2) and train.zero_based is False
    (tmp_path / "test.svm").write_text("1 2:5\n2 1:1\n")
    test = load_svmlight(tmp_path / "test.svm", classes=train.classes, n_features=4,
                         zero_based=False)
    np.testing.assert_array_equal(test.X.T.toarray(), [[0, 5, 0, 0], [1, 0, 0, 0]])
    (tmp_path / "wide.svm").write_text("1 5:1\n2 1:1\n")
    with pytest.raises(DataFileError, match="feature index 5; the model has 4 features, "
                                            "indices 1 to 4"):
        load_svmlight(tmp_path / "wide.svm", train.classes, 4, False)
    (tmp_path / "zero.svm").write_text("1 0:1\n2 1:1\n")
    with pytest.raises(DataFileError, match="feature index 0"):
        load_svmlight(tmp_path / "zero.svm", train.classes, 4, False)
    (tmp_path / "new.svm").write_text("7 1:1\n")
    with pytest.raises(InvalidInputError, match="7, which the model does not know"):
        load_svmlight(tmp_path / "new.svm", train.classes, 4, False)


@pytest.mark.parametrize("text, fragment", [
    ("1 1:2 3:x\n2 2:1\n", "not a readable svmlight"),
    ("a 1:2\n", "not a readable svmlight"),
    ("1,2 1:2\n2 1:1\n", "not a readable svmlight"),
    ("1 2:1 1:2\n0 1:1\n", "sorted and unique"),
    ("1 1:nan\n2 1:1\n", "is nan; expected finite numbers"),
    ("1 1:1\n1 2:1\n", "one class only"),
    ("", "shape (0, 0)"),
], ids=["bad-value", "bad-label", "multilabel", "unsorted", "nan", "one-class", "empty"])
def test_malformed_svmlight_is_a_data_file_error(tmp_path, text, fragment):
    (tmp_path / "bad.svm").write_text(text)
    with pytest.raises((DataFileError, InvalidInputError)) as caught:
        load_dataset(tmp_path / "bad.svm")
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


# === max-abs scaling of sparse tables ========================================================


def test_max_abs_equals_scikit_learns_and_keeps_x_sparse():
    rows = sparse_rows()
    X = rows.T.tocsc()  # the notes' layout
    scaling = max_abs(X)
    scaler = MaxAbsScaler().fit(rows)
    assert scaling.kind == "maxabs"
    np.testing.assert_array_equal(scaling.spread.ravel(), scaler.scale_)
    assert scaling.spread[5, 0] == 1.0  # the all-zero column: divided by 1
    scaled = scaling.apply(X)
    assert sp.issparse(scaled) and scaled.nnz == X.nnz  # no zero filled in
    assert same_matrix(scaled.T, scaler.transform(rows))  # bit for bit
    np.testing.assert_array_equal(scaling.apply(X.toarray()), scaler.transform(rows.toarray()).T)
    assert abs(scaled).max() == 1.0
    # the model file's record gives back the same scaling
    again = Scaling.from_dict(scaling.to_dict(), X.shape[0])
    assert same_matrix(again.apply(X), scaled)


def test_max_abs_record_is_checked():
    with pytest.raises(InvalidInputError, match="spread has 2 entries; expected 3"):
        Scaling.from_dict({"kind": "maxabs", "mean": [0], "spread": [1.0, 2.0]}, 3)


def test_centring_scalings_refuse_sparse_data():
    X = sparse_rows().T.tocsc()
    with pytest.raises(InvalidInputError, match="densify"):
        standardize(np.ones((12, 3))).apply(X)


def test_split_of_a_sparse_set_of_three_classes_stays_sparse(tmp_path):
    rows = sparse_rows(m=60)
    y = np.arange(60) % 3
    sp.save_npz(tmp_path / "X.npz", rows)
    np.save(tmp_path / "y.npy", y)
    data = load_dataset(tmp_path / "X.npz", labels=tmp_path / "y.npy")
    train, test = split_dataset(data, 0.25)
    assert sp.issparse(train.X) and sp.issparse(test.X)
    assert train.m == 45 and test.m == 15
    assert np.bincount(test.Y.ravel().astype(int)).tolist() == [5, 5, 5]  # stratified
    # the columns are the original examples, labels along
    dense = rows.toarray()
    for X, Y in ((train.X, train.Y), (test.X, test.Y)):
        for column, label in zip(X.T.toarray(), Y.ravel()):
            matches = np.flatnonzero((dense == column).all(axis=1))
            assert matches.size and y[matches[0]] == label
