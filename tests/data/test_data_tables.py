"""logreg.data's tables: a CSV with a header and a label column, an .npz of X and y, and sparse
tables never densified (a SciPy sparse .npz with a labels file, svmlight / LIBSVM text).

Truth comes from outside the code under test: hand-worked values, NumPy computed here, SciPy's
own sparse matrices (``save_npz``), scikit-learn's ``dump_svmlight_file`` and hand-written
svmlight text.
"""

import gzip

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file

from logreg.data import (
    load_csv,
    load_dataset,
    load_npz,
    load_sparse_npz,
    load_svmlight,
    read_labels,
)
from logreg.data import is_svmlight, source_kind
from logreg.errors import DataFileError, InvalidInputError, LogregError
from data_files import same_matrix, sparse_rows, write_csv


# === CSV =================================================================================================


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
