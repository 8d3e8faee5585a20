"""logreg.data: the Dataset record and labels as class indices, scaling (images /255, tables
standardised, sparse tables by max|x|), scikit-learn's sets built in (the digits: 3 against 8,
or all ten), load_dataset's dispatch, and the one split. Images: test_data_images.py; tables,
dense and sparse: test_data_tables.py.

Truth comes from outside the code under test: hand-worked values, NumPy computed here, and
scikit-learn's digits, breast-cancer table and MaxAbsScaler.
"""

from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.preprocessing import MaxAbsScaler

from logreg.data import (
    BUILT_IN,
    Dataset,
    Scaling,
    image_scaling,
    index_labels,
    load_breast_cancer_table,
    load_dataset,
    load_digits10,
    load_digits_task,
    max_abs,
    no_scaling,
    standardize,
)
from logreg.data import source_kind, split_dataset
from logreg.errors import DataFileError, InvalidInputError, LogregError
from data_files import make_folder, same_matrix, small_h5, sparse_rows, write_csv


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
