"""Model files (``logreg.modelfile.io``): what a file holds. Safetensors W (n_x, K') and b (K',)
(K' = 1 column for two classes, K for K classes) with the JSON metadata, the estimator's
save/load, the cost history and the per-iteration record as tensors, and the files of every
earlier format version, still read as the binary models they are. What is refused and what a
failed write leaves: test_io_refusals.py.

Truth comes from outside the code under test: the safetensors layout read by hand, files
written the way logreg wrote them before (``write_version_2`` and ``_version_1_file`` below are
those writers' logic), NumPy's σ and softmax of the stored numbers, scikit-learn's fit.
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
from model_files import logreg_metadata, record, save_raw, save_record, temporaries  # noqa: E402
from logreg.errors import InvalidInputError, ModelFileError


def raw_header(path):
    """The safetensors header, parsed by hand: 8-byte little-endian length, then JSON."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def write_version_2(path, w, b, metadata):
    """A model file as logreg wrote it in format version 2 (before K classes): the tensors
    ``w`` (n_x, 1), ``b`` (1,) and ``costs``, the JSON without the costs."""
    training = dict(metadata.get("training", {}))
    costs = np.asarray(training.pop("costs", []), dtype=np.float64)
    text = json.dumps({"format": "logreg-model", "format_version": 2, "n_x": int(w.shape[0]),
                       **metadata, "training": training})
    tensors = {"w": np.ascontiguousarray(w).reshape(-1, 1),
               "b": np.asarray([b], dtype=w.dtype).reshape(1), "costs": costs}
    return save_record(path, tensors, json.loads(text))


# --- write_model / read_model: W (n_x, K'), b (K') -------------------------------------------


def test_round_trip_w_b_metadata(tmp_path):
    rng = np.random.default_rng(1)
    w, b = rng.normal(size=(5, 1)), -0.375
    metadata = {"classes": ["neg", "pos"], "note": "hello", "nested": {"x": [1, 2.5, None]},
                "numpy": {"scalar": np.float32(1.5), "array": np.arange(3)}}
    path = tmp_path / "model.safetensors"
    lio.write_model(path, w, b, metadata)
    w2, b2, meta2 = lio.read_model(path)
    assert np.array_equal(w2, w) and w2.shape == (5, 1) and w2.dtype == np.float64
    assert b2.shape == (1,) and b2[0] == b
    assert meta2["format"] == "logreg-model" and meta2["format_version"] == lio.FORMAT_VERSION
    assert meta2["n_x"] == 5
    assert meta2["classes"] == ["neg", "pos"]
    assert meta2["note"] == "hello" and meta2["nested"] == {"x": [1, 2.5, None]}
    assert meta2["numpy"] == {"scalar": 1.5, "array": [0, 1, 2]}
    assert not temporaries(tmp_path)


def layout(case):
    """W, b and the classes of a model: two classes (W one column; b a number or an array of
    one) or three (W (4, 3), b (3,))."""
    if case == "3":
        rng = np.random.default_rng(5)
        return rng.normal(size=(4, 3)), rng.normal(size=3), ["a", "b", "c"]
    if case == "2-b-array":
        return np.array([[1.0], [2.0]]), np.array([-0.5]), [0, 1]
    return np.array([[1.0], [-2.0], [0.5]]), 0.25, [0, 1]


@pytest.mark.parametrize("K, case", [(2, "2"), (2, "2-b-array"), (3, "3")],
                         ids=["2", "2-b-array", "3"])
def test_file_is_plain_safetensors(tmp_path, K, case):
    """Checked against the safetensors layout itself, not through the library: W (n_x, K')
    row-major, one column for two classes, one per class for K; b (K',)."""
    W, b, classes = layout(case)
    n_x, columns = W.shape
    assert columns == (1 if K == 2 else K)
    path = tmp_path / "m.safetensors"
    lio.write_model(path, W, b, {"classes": classes})
    header, body = raw_header(path)
    assert set(header) == {"__metadata__", "W", "b"}
    assert header["W"]["dtype"] == "F64" and header["W"]["shape"] == [n_x, columns]
    assert header["b"]["dtype"] == "F64" and header["b"]["shape"] == [columns]
    start, end = header["W"]["data_offsets"]
    assert body[start:end] == W.astype("<f8").tobytes()  # row-major (n_x, K')
    start, end = header["b"]["data_offsets"]
    assert body[start:end] == np.asarray(b, "<f8").reshape(columns).tobytes()
    meta = json.loads(header["__metadata__"]["logreg"])
    assert meta["format_version"] == model_schema.FORMAT_VERSION == 4
    assert meta["n_x"] == n_x and meta["classes"] == classes
    assert not path.read_bytes().startswith(b"\x80")  # not a pickle
    W2, b2, meta2 = lio.read_model(path)
    assert W2.shape == (n_x, columns) and np.array_equal(W2, W)
    assert b2.shape == (columns,) and np.array_equal(b2, np.reshape(b, columns))
    assert meta2["classes"] == classes


def test_rank_one_w_and_float32(tmp_path):
    w = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    path = tmp_path / "m.safetensors"
    lio.write_model(path, w, np.float32(0.5), {"classes": ["x", "y"]})
    w2, b2, meta = lio.read_model(path)
    assert w2.shape == (4, 1) and w2.dtype == np.float32
    assert np.array_equal(w2.ravel(), w) and b2.dtype == np.float32 and b2.tolist() == [0.5]
    assert meta["n_x"] == 4


@pytest.mark.parametrize("labels", [("no", "yes"), (3, 8), (False, True), (-1, 1)],
                         ids=["strings", "ints", "bools", "signed"])
def test_save_load_same_predictions(fitted, tmp_path, labels):
    X, y = fitted
    y = np.where(y, labels[1], labels[0])
    clf = logreg.LogisticRegression(learning_rate=0.1, num_iterations=200).fit(X, y)
    path = tmp_path / "clf.safetensors"
    clf.save(path)
    loaded = logreg.load(path)
    assert loaded.classes_.tolist() == list(labels)
    assert [type(c) for c in loaded.classes_.tolist()] == [type(c) for c in
                                                           clf.classes_.tolist()]
    assert np.array_equal(loaded.coef_, clf.coef_)
    assert np.array_equal(loaded.intercept_, clf.intercept_)
    assert np.array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.predict(X).tolist() == clf.predict(X).tolist()
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert np.array_equal(loaded.decision_function(X), clf.decision_function(X))
    assert loaded.n_features_in_ == 5
    assert loaded.costs_ == clf.costs_ and loaded.n_iter_ == clf.n_iter_
    assert loaded.learning_rate == 0.1 and loaded.num_iterations == 200
    # and the labels are right, independently: classes_[1] where w·x + b > 0
    z = X @ clf.coef_.ravel() + clf.intercept_[0]
    assert loaded.predict(X).tolist() == [labels[1] if v > 0 else labels[0] for v in z]


def test_save_load_float32(fitted, tmp_path):
    X, y = fitted
    X = X.astype(np.float32)
    clf = logreg.LogisticRegression(learning_rate=0.1, num_iterations=50).fit(X, y)
    clf.save(tmp_path / "f.safetensors")
    loaded = logreg.load(tmp_path / "f.safetensors")
    assert loaded.coef_.dtype == clf.coef_.dtype
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_save_extra_metadata(fitted, tmp_path):
    X, y = fitted
    clf = logreg.LogisticRegression(num_iterations=5).fit(X, y)
    clf.save(tmp_path / "m.safetensors", data="somewhere", accuracy={"train": 90.0})
    meta = logreg.load(tmp_path / "m.safetensors").metadata_
    assert meta["data"] == "somewhere" and meta["accuracy"] == {"train": 90.0}
    assert meta["logreg_version"] == logreg.__version__


def test_save_before_fit_writes_nothing(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        logreg.LogisticRegression().save(tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


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


# --- format versions -----------------------------------------------------------------------


def test_newer_format_version_is_refused(tmp_path):
    path = save_raw(tmp_path / "new.safetensors", {"w": np.zeros((3, 1)), "b": np.zeros(1)},
                    logreg_metadata(format_version=999))
    with pytest.raises(ModelFileError, match="999") as caught:
        logreg.load(path)
    assert "newer" in str(caught.value) and "upgrade" in str(caught.value).lower()
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("version", [0, -1, "1", 1.5, None])
def test_invalid_format_version_is_refused(tmp_path, version):
    path = save_raw(tmp_path / "v.safetensors", {"w": np.zeros((3, 1)), "b": np.zeros(1)},
                    logreg_metadata(format_version=version))
    with pytest.raises(ModelFileError, match="format_version"):
        lio.read_model(path)


def test_current_version_written_by_hand_loads(tmp_path):
    """The contract, independently: a file made by safetensors itself with the metadata."""
    w = np.array([[1.0], [-1.0], [2.0]])
    path = save_raw(tmp_path / "hand.safetensors", {"w": w, "b": np.array([0.5])},
                    logreg_metadata())
    clf = logreg.load(path)
    X = np.array([[1.0, 1.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0]])
    z = X @ w.ravel() + 0.5
    assert np.allclose(clf.decision_function(X), z)
    assert clf.predict(X).tolist() == ["b", "a", "b"]
    assert np.allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)))


def test_a_newer_version_names_the_one_this_logreg_reads(tmp_path):
    path = save_record(tmp_path / "new.safetensors", {"W": np.zeros((4, 3)), "b": np.zeros(3)},
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


# --- the cost history: a float64 tensor, not JSON (format version 2) -----------------------


def test_costs_are_a_tensor_and_come_back_as_a_list(tmp_path):
    costs = [0.6931471805599453, 0.5, 0.25, 1e-300]
    path = tmp_path / "m.safetensors"
    lio.write_model(path, np.zeros((2, 1)), 0.0,
                    {"classes": ["a", "b"], "training": {"solver": "gd", "costs": costs}})
    header, body = raw_header(path)  # the layout, read by hand
    assert header["costs"]["dtype"] == "F64" and header["costs"]["shape"] == [4]
    start, end = header["costs"]["data_offsets"]
    assert np.frombuffer(body[start:end], "<f8").tolist() == costs
    meta = json.loads(header["__metadata__"]["logreg"])
    assert meta["format_version"] == lio.FORMAT_VERSION and meta["training"] == {"solver": "gd"}
    w, b, read = lio.read_model(path)
    assert read["training"] == {"solver": "gd", "costs": costs}
    assert all(type(c) is float for c in read["training"]["costs"])


# --- the rest of the per-iteration record: history.* tensors (format version 4) -------------


def _history_file(path, history, costs=(1.0, 0.5, 0.25)):
    lio.write_model(path, np.zeros((2, 1)), 0.0,
                    {"classes": ["a", "b"],
                     "training": {"costs": list(costs), "history": history}})
    return path


def test_history_columns_are_tensors_beside_the_costs(tmp_path):
    history = {"gradient_norm": [0.3, 0.2, float("nan")], "step": [0.1, 0.05, 0.0],
               "elapsed": [0.0, 1e-3, 2e-3]}
    path = _history_file(tmp_path / "m.safetensors", history)
    header, body = raw_header(path)  # the layout, read by hand
    assert {name for name in header if name.startswith("history.")} == {
        "history.gradient_norm", "history.step", "history.elapsed"}
    start, end = header["history.step"]["data_offsets"]
    assert np.frombuffer(body[start:end], "<f8").tolist() == history["step"]
    assert "history" not in json.loads(header["__metadata__"]["logreg"])["training"]
    read = lio.read_model(path)[2]["training"]["history"]
    np.testing.assert_array_equal(read["gradient_norm"], history["gradient_norm"])
    assert read["step"] == history["step"] and read["elapsed"] == history["elapsed"]


@pytest.mark.parametrize("history, expected", [
    ({"gradient_norm": [1.0, 2.0]}, "expected 3 numbers"),
    ({"weights": [1.0, 2.0, 3.0]}, "expected a dict of some of"),
    ({"step": "abc"}, "expected 3 numbers"),
    ([1.0, 2.0, 3.0], "expected a dict"),
])
def test_a_history_that_does_not_match_the_costs_is_not_written(tmp_path, history, expected):
    path = tmp_path / "m.safetensors"
    with pytest.raises(InvalidInputError, match=expected):
        _history_file(path, history)
    assert not path.exists()


def _edited(path, tensors=None, training=None, version=None):
    """The file at ``path`` rewritten with its tensors and metadata changed, as by hand."""
    from safetensors.numpy import load_file, save_file

    held = load_file(path)
    header, _ = raw_header(path)
    meta = json.loads(header["__metadata__"]["logreg"])
    held.update(tensors or {})
    meta["training"].update(training or {})
    meta["format_version"] = version or meta["format_version"]
    save_file(held, path, metadata={"logreg": json.dumps(meta)})
    return path


@pytest.mark.parametrize("change, expected", [
    (dict(tensors={"history.weights": np.zeros(3)}), "history tensors are"),
    (dict(tensors={"history.step": np.zeros(2)}), "expected 3 floats"),
    (dict(tensors={"history.step": np.zeros((3, 1))}), "expected 3 floats"),
    (dict(tensors={"history.step": np.arange(3)}), "expected 3 floats"),
    (dict(training={"history": {"step": [1, 2, 3]}}), "history twice"),
    (dict(version=3), "expected exactly"),  # format 3 had no history tensors
])
def test_edited_history_tensors_are_refused_by_name(tmp_path, change, expected):
    path = _history_file(tmp_path / "m.safetensors", {"step": [0.1, 0.2, 0.3]})
    _edited(path, **change)
    with pytest.raises(ModelFileError, match=expected):
        lio.read_model(path)


def test_a_format_3_model_loads_with_its_costs_and_nan_for_the_rest(fitted, tmp_path):
    X, y = fitted
    clf = logreg.LogisticRegression(num_iterations=5).fit(X, y)
    path = tmp_path / "m.safetensors"
    clf.save(path)
    from safetensors.numpy import load_file, save_file

    held = {k: v for k, v in load_file(path).items() if not k.startswith("history.")}
    header, _ = raw_header(path)
    meta = json.loads(header["__metadata__"]["logreg"])
    meta["format_version"] = 3
    save_file(held, path, metadata={"logreg": json.dumps(meta)})
    loaded = logreg.load(path)
    np.testing.assert_array_equal(loaded.history_["cost"], clf.costs_)
    assert np.isnan(loaded.history_["gradient_norm"]).all()
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_writing_leaves_the_callers_metadata_alone(tmp_path):
    metadata = {"classes": ["a", "b"], "training": {"costs": [1.0, 0.5]}}
    lio.write_model(tmp_path / "m.safetensors", np.zeros((2, 1)), 0.0, metadata)
    assert metadata == {"classes": ["a", "b"], "training": {"costs": [1.0, 0.5]}}


def test_five_million_costs_save_and_load(fitted, tmp_path):
    """A run of 5 M iterations: as JSON its costs would pass safetensors' 100 MB header."""
    X, y = fitted
    clf = logreg.LogisticRegression(num_iterations=3).fit(X, y)
    rng = np.random.default_rng(2)
    # a cost falling towards 0, as on separable data
    costs = 0.7 * np.exp(-np.linspace(0, 15, 5_000_000)) * (1 + rng.uniform(0, 1e-3, 5_000_000))
    sample = json.dumps(costs[::50].tolist())  # every 50th: the JSON's length / 50
    assert len(sample) * 50 > lio.HEADER_LIMIT  # so this test means something
    clf.costs_, clf.n_iter_ = costs.tolist(), 5_000_000
    path = tmp_path / "long.safetensors"
    clf.save(path)
    header, _ = raw_header(path)
    assert len(header["__metadata__"]["logreg"]) < 10_000
    loaded = logreg.load(path)
    assert loaded.n_iter_ == 5_000_000 and len(loaded.costs_) == 5_000_000
    assert np.array_equal(np.asarray(loaded.costs_), costs)
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def _version_1_file(path, costs_json):
    """A model file as logreg wrote it before format version 2: the costs inside the JSON."""
    text = ('{"format": "logreg-model", "format_version": 1, "n_x": 3, "logreg_version": '
            '"0.1.0", "classes": ["no", "yes"], "dtype": "float64", "feature_names": null, '
            '"training": {"solver": "gd", "learning_rate": 0.1, "num_iterations": 4, "tol": '
            '0.0, "backprop": "closed-form", "implementation": "auto", "l2": 0.0, "n_iter": 4, '
            '"costs": ' + costs_json + '}}')
    w = np.array([[1.0], [-2.0], [0.5]])
    return save_raw(path, {"w": w, "b": np.array([0.25])}, {"logreg": text}), w


def test_version_1_files_still_load(tmp_path):
    path, w = _version_1_file(tmp_path / "v1.safetensors", "[0.6931, 0.6, 0.55, 0.5]")
    clf = logreg.load(path)
    assert clf.costs_ == [0.6931, 0.6, 0.55, 0.5] and clf.n_iter_ == 4
    assert clf.metadata_["format_version"] == 1
    X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert np.allclose(clf.decision_function(X), X @ w.ravel() + 0.25)
    assert clf.predict(X).tolist() == ["yes", "no"]


def test_version_1_costs_of_a_diverged_run_load(tmp_path):
    """Before version 2, a run kept with on_divergence="warn" wrote NaN and Infinity into the
    costs (Python's json.dumps does); those files load, their costs as they were."""
    path, _ = _version_1_file(tmp_path / "v1.safetensors", "[0.69, 5.0, Infinity, NaN]")
    costs = logreg.load(path).costs_
    assert costs[:3] == [0.69, 5.0, float("inf")] and np.isnan(costs[3])


def test_non_finite_costs_round_trip_as_a_tensor(tmp_path):
    costs = [0.69, 40.0, float("inf"), float("nan")]
    lio.write_model(tmp_path / "m.safetensors", np.zeros((2, 1)), 0.0,
                    {"classes": [0, 1], "training": {"costs": costs}})
    read = lio.read_model(tmp_path / "m.safetensors")[2]["training"]["costs"]
    assert read[:3] == costs[:3] and np.isnan(read[3])


@pytest.mark.parametrize("tensor, changes, fragment", [
    (np.zeros((2, 2)), {}, "costs tensor has shape (2, 2)"),
    (np.zeros(3, np.int32), {}, "dtype int32"),
    (np.zeros(3), {"training": {"costs": [1.0]}}, "costs twice"),
], ids=["matrix", "integers", "twice"])
def test_bad_costs_tensor_is_refused(tmp_path, tensor, changes, fragment):
    path = save_raw(tmp_path / "c.safetensors",
                    {"w": np.zeros((3, 1)), "b": np.zeros(1), "costs": tensor},
                    logreg_metadata(format_version=2, **changes))
    with pytest.raises(ModelFileError, match="costs") as caught:
        logreg.load(path)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("costs", ["abc", [[1.0, 2.0]], ["x", 1.0], {"a": 1.0}, 5])
def test_costs_that_are_not_numbers_are_refused_before_writing(tmp_path, costs):
    with pytest.raises(InvalidInputError, match="expected a list of numbers"):
        lio.write_model(tmp_path / "m.safetensors", np.zeros((2, 1)), 0.0,
                        {"classes": [0, 1], "training": {"costs": costs}})
    assert list(tmp_path.iterdir()) == []


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
