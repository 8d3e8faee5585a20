"""Model files of format version 3: W (n_x, K'), b (K',) and the class names; files of the
versions before still read, as the binary models they are, and predict as before.

Truth comes from outside the code under test: the safetensors layout read by hand, files
written the way logreg wrote them before version 3 (``write_version_2`` below is that writer's
logic), NumPy's σ and softmax of the stored numbers, scikit-learn's fit.
"""

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, softmax

import logreg
from logreg.modelfile import io as lio
from logreg.modelfile import schema as model_schema
from logreg.errors import InvalidInputError, ModelFileError

RNG = np.random.default_rng(5)


def raw_header(path):
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def save_raw(path, tensors, record):
    from safetensors.numpy import save_file

    save_file(tensors, str(path), metadata={"logreg": json.dumps(record)})
    return path


def record(**changes):
    base = {"format": "logreg-model", "format_version": 3, "n_x": 4, "classes": ["a", "b", "c"]}
    return {**base, **changes}


def write_version_2(path, w, b, metadata):
    """A model file as logreg wrote it in format version 2 (before K classes): the tensors
    ``w`` (n_x, 1), ``b`` (1,) and ``costs``, the JSON without the costs."""
    training = dict(metadata.get("training", {}))
    costs = np.asarray(training.pop("costs", []), dtype=np.float64)
    text = json.dumps({"format": "logreg-model", "format_version": 2, "n_x": int(w.shape[0]),
                       **metadata, "training": training})
    tensors = {"w": np.ascontiguousarray(w).reshape(-1, 1),
               "b": np.asarray([b], dtype=w.dtype).reshape(1), "costs": costs}
    return save_raw(path, tensors, json.loads(text))


# --- version 3: W (n_x, K'), b (K',) ---------------------------------------------------------


def test_three_classes_round_trip_and_layout(tmp_path):
    W, b = RNG.normal(size=(4, 3)), RNG.normal(size=3)
    path = tmp_path / "m.safetensors"
    lio.write_model(path, W, b, {"classes": ["a", "b", "c"]})
    header, body = raw_header(path)  # the layout, read by hand
    assert set(header) == {"__metadata__", "W", "b"}
    assert header["W"]["shape"] == [4, 3] and header["b"]["shape"] == [3]
    start, end = header["W"]["data_offsets"]
    assert body[start:end] == W.astype("<f8").tobytes()  # row-major (n_x, K)
    meta = json.loads(header["__metadata__"]["logreg"])
    assert meta["format_version"] == model_schema.FORMAT_VERSION == 4
    assert meta["classes"] == ["a", "b", "c"] and meta["n_x"] == 4
    W2, b2, meta2 = lio.read_model(path)
    assert np.array_equal(W2, W) and np.array_equal(b2, b) and b2.shape == (3,)
    assert meta2["classes"] == ["a", "b", "c"]


def test_binary_model_is_one_column(tmp_path):
    path = tmp_path / "m.safetensors"
    lio.write_model(path, np.array([[1.0], [2.0]]), np.array([-0.5]), {"classes": [0, 1]})
    header, _ = raw_header(path)
    assert header["W"]["shape"] == [2, 1] and header["b"]["shape"] == [1]
    W, b, meta = lio.read_model(path)
    assert W.shape == (2, 1) and b.tolist() == [-0.5] and meta["classes"] == [0, 1]


@pytest.mark.parametrize("columns, classes, fragment", [
    (3, ["a", "b"], "W has 3 column(s) but the metadata names 2 classes"),
    (2, ["a", "b"], "expected 1 column (two classes"),
    (1, ["a", "b", "c"], "expected 3 columns, one per class"),
    (3, ["a", "b", "c", "d"], "W has 3 column(s) but the metadata names 4 classes"),
], ids=["3-for-2", "2-for-2", "1-for-3", "3-for-4"])
def test_writing_columns_that_disagree_with_the_classes_is_refused(tmp_path, columns, classes,
                                                                   fragment):
    with pytest.raises(InvalidInputError) as caught:
        lio.write_model(tmp_path / "m.safetensors", np.zeros((4, columns)), np.zeros(columns),
                        {"classes": classes})
    assert fragment in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_writing_a_b_of_the_wrong_length_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match=r"W has shape \(4, 3\) and b \(2,\)"):
        lio.write_model(tmp_path / "m.safetensors", np.zeros((4, 3)), np.zeros(2),
                        {"classes": ["a", "b", "c"]})


CRAFTED = [
    ({"W": np.zeros((4, 3)), "b": np.zeros(3)}, {"classes": ["a", "b"]},
     "W has 3 column(s) but the metadata names 2 classes"),
    ({"W": np.zeros((4, 2)), "b": np.zeros(2)}, {"classes": ["a", "b"]},
     "W has 2 column(s) but the metadata names 2 classes"),
    ({"W": np.zeros((4, 3)), "b": np.zeros(3)}, {"classes": ["a", "b", "c", "d"]},
     "W has 3 column(s) but the metadata names 4 classes"),
    ({"W": np.zeros((4, 1)), "b": np.zeros(1)}, {},
     "W has 1 column(s) but the metadata names 3 classes"),
    ({"W": np.zeros((4, 3)), "b": np.zeros(2)}, {}, "b has shape (2,), expected (3,)"),
    ({"W": np.zeros((5, 3)), "b": np.zeros(3)}, {}, "W has shape (5, 3)"),
    ({"W": np.zeros(12), "b": np.zeros(3)}, {}, "W has shape (12,)"),
    ({"w": np.zeros((4, 3)), "b": np.zeros(3)}, {}, "expected exactly 'W', 'b'"),
    ({"W": np.zeros((4, 3), np.int64), "b": np.zeros(3)}, {}, "expected floats"),
    ({"W": np.full((4, 3), np.inf), "b": np.zeros(3)}, {}, "NaN or infinity"),
    ({"W": np.zeros((4, 3)), "b": np.zeros(3)}, {"format_version": 2},
     "format version 2 holds binary models only"),
]


@pytest.mark.parametrize("tensors, changes, fragment", CRAFTED, ids=[
    "3-columns-2-classes", "2-columns-2-classes", "3-columns-4-classes", "1-column-3-classes",
    "b-too-short", "n_x", "W-vector", "lower-case-w", "integer-W", "infinite-W",
    "three-classes-in-version-2"])
def test_crafted_files_whose_weights_disagree_are_refused(tmp_path, tensors, changes,
                                                          fragment):
    path = save_raw(tmp_path / "bad.safetensors", tensors, record(**changes))
    for read in (lio.read_model, logreg.load):
        with pytest.raises(ModelFileError) as caught:
            read(path)
        assert fragment in str(caught.value) and "inconsistent" in str(caught.value)


def test_a_newer_version_names_the_one_this_logreg_reads(tmp_path):
    path = save_raw(tmp_path / "new.safetensors", {"W": np.zeros((4, 3)), "b": np.zeros(3)},
                    record(format_version=5))
    with pytest.raises(ModelFileError, match=r"version 5, newer than this logreg reads "
                                             r"\(up to 4\)"):
        lio.read_model(path)


# --- files of version 2 (today's before this change) still read and predict as before -------


def test_version_2_file_reads_with_b_as_a_one_entry_array(tmp_path):
    w = np.array([[1.0], [-2.0], [0.5]])
    path = write_version_2(tmp_path / "v2.safetensors", w, 0.25, {
        "classes": ["no", "yes"], "training": {"solver": "gd", "n_iter": 2,
                                               "costs": [0.69, 0.5]}})
    W, b, meta = lio.read_model(path)
    assert meta["format_version"] == 2
    assert W.shape == (3, 1) and np.array_equal(W, w)
    assert b.shape == (1,) and b.tolist() == [0.25]
    assert meta["training"]["costs"] == [0.69, 0.5]


def test_version_2_model_predicts_as_its_w_and_b_say(tmp_path):
    """A fitted binary model, written the way version 2 wrote it: it loads and predicts what
    σ(wᵀx + b) of its numbers says, label classes[1] where z > 0."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = np.where(X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) > 0, "pos", "neg")
    fitted = logreg.LogisticRegression(num_iterations=50).fit(X, y)
    w, b = fitted.coef_.T.copy(), float(fitted.intercept_[0])
    path = write_version_2(tmp_path / "v2.safetensors", w, b, {
        "classes": ["neg", "pos"], "dtype": "float64",
        "params": {"learning_rate": "auto", "num_iterations": 50, "solver": "gd"},
        "training": {"solver": "gd", "n_iter": 50, "costs": fitted.costs_}})
    loaded = logreg.load(path)
    z = X @ w.ravel() + b
    assert loaded.coef_.shape == (1, 5) and loaded.intercept_.shape == (1,)
    np.testing.assert_array_equal(loaded.decision_function(X), z)
    np.testing.assert_allclose(loaded.predict_proba(X)[:, 1], expit(z), rtol=1e-12)
    np.testing.assert_allclose(loaded.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)
    assert loaded.predict(X).tolist() == np.where(z > 0, "pos", "neg").tolist()
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    assert loaded.costs_ == list(fitted.costs_)


# --- the estimator's files: K classes -----------------------------------------------------------


def test_estimator_of_three_classes_saves_and_loads(tmp_path):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    fitted = logreg.LogisticRegression(solver="lbfgs").fit(X, names)
    path = tmp_path / "iris.safetensors"
    fitted.save(path)
    header, _ = raw_header(path)
    assert header["W"]["shape"] == [4, 3] and header["b"]["shape"] == [3]
    W, b, meta = lio.read_model(path)
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(W, fitted.coef_.T)
    loaded = logreg.load(path)
    np.testing.assert_array_equal(loaded.coef_, fitted.coef_)
    np.testing.assert_array_equal(loaded.intercept_, fitted.intercept_)
    Z = X @ W + b  # softmax of the stored numbers
    np.testing.assert_allclose(loaded.predict_proba(X), softmax(Z, axis=1), rtol=1e-10)
    expected = np.asarray(meta["classes"])[Z.argmax(axis=1)]
    assert loaded.predict(X).tolist() == expected.tolist()


# --- the schema: max-abs scaling of sparse tables -------------------------------------------


def maxabs(**changes):
    scaling = {"kind": "maxabs", "mean": [0], "spread": [1.0, 2.0, 0.5, 4.0]}
    scaling.update(changes)
    return record(preprocessing={"scaling": scaling, "image_shape": None, "sparse": True,
                                 "zero_based": False})


@pytest.mark.parametrize("metadata, fragment", [
    (maxabs(), None),
    (maxabs(mean=[1.0]), 'preprocessing.scaling.mean is [1.0]; expected [0] for kind "maxabs"'),
    (maxabs(spread=[1.0, 2.0]), "expected a list of n_x = 4 finite numbers > 0 (one max|x|"),
    (maxabs(spread=[1.0, 0.0, 1.0, 1.0]), "preprocessing.scaling.spread[1] is 0"),
    ({**maxabs(), "preprocessing": {"sparse": "yes"}}, "preprocessing.sparse is a string; expected a boolean"),
    ({**maxabs(), "preprocessing": {"zero_based": 0}}, "preprocessing.zero_based is 0"),
], ids=["valid", "centred", "short", "zero-spread", "sparse-text", "zero-based-number"])
def test_schema_of_the_sparse_preprocessing(metadata, fragment):
    problem = model_schema.problem(metadata)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem
