"""Model files: safetensors (w, b) + JSON metadata, atomic writes, refusals of bad files."""

import errno
import json
import os
import pickle
import stat
import struct
from pathlib import Path

import numpy as np
import pytest

import logreg
from logreg.core import files
from logreg.modelfile import io as lio
from logreg.errors import InvalidInputError, LogregError, ModelFileError, OutputError

CLASSES = {"classes": ["a", "b"]}


def raw_header(path):
    """The safetensors header, parsed by hand: 8-byte little-endian length, then JSON."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length]), data[8 + length:]


def save_raw(path, tensors, metadata):
    from safetensors.numpy import save_file

    save_file(tensors, str(path), metadata=metadata)
    return path


def logreg_metadata(**changes):
    record = {"format": "logreg-model", "format_version": 1, "n_x": 3, "classes": ["a", "b"]}
    record.update(changes)
    return {"logreg": json.dumps(record)}


def temporaries(folder):
    """Temporary files (".<name>.<random><suffix>") left behind."""
    return [p for p in Path(folder).iterdir() if p.name.startswith(".")]


@pytest.fixture()
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + rng.normal(0, 0.5, 40) > 0)
    return X, y


# --- write_model / read_model --------------------------------------------------------------


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


def test_file_is_plain_safetensors(tmp_path):
    """Checked against the safetensors layout itself, not through the library."""
    w = np.array([[1.0], [-2.0], [0.5]])
    path = tmp_path / "m.safetensors"
    lio.write_model(path, w, 0.25, {"classes": [0, 1]})
    header, body = raw_header(path)
    assert set(header) == {"__metadata__", "W", "b"}
    assert header["W"]["dtype"] == "F64" and header["W"]["shape"] == [3, 1]
    assert header["b"]["dtype"] == "F64" and header["b"]["shape"] == [1]
    start, end = header["W"]["data_offsets"]
    assert body[start:end] == w.astype("<f8").tobytes()
    start, end = header["b"]["data_offsets"]
    assert body[start:end] == np.array([0.25], "<f8").tobytes()
    meta = json.loads(header["__metadata__"]["logreg"])
    assert meta["n_x"] == 3 and meta["classes"] == [0, 1]
    assert not path.read_bytes().startswith(b"\x80")  # not a pickle


def test_rank_one_w_and_float32(tmp_path):
    w = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    path = tmp_path / "m.safetensors"
    lio.write_model(path, w, np.float32(0.5), {"classes": ["x", "y"]})
    w2, b2, meta = lio.read_model(path)
    assert w2.shape == (4, 1) and w2.dtype == np.float32
    assert np.array_equal(w2.ravel(), w) and b2.dtype == np.float32 and b2.tolist() == [0.5]
    assert meta["n_x"] == 4


def test_unstorable_metadata_writes_nothing(tmp_path):
    path = tmp_path / "m.safetensors"
    with pytest.raises(TypeError):
        lio.write_model(path, np.zeros((2, 1)), 0.0, {"classes": ["a", "b"], "bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_write_into_missing_folder_is_output_error(tmp_path):
    with pytest.raises(OutputError) as caught:
        lio.write_model(tmp_path / "no" / "m.safetensors", np.zeros((2, 1)), 0.0, CLASSES)
    assert isinstance(caught.value, OSError) and isinstance(caught.value, LogregError)
    assert "no" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_write_under_a_regular_file_is_output_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError):
        lio.write_model(tmp_path / "file" / "m.safetensors", np.zeros((2, 1)), 0.0, CLASSES)
    assert (tmp_path / "file").read_text() == "x"


def test_write_onto_a_folder_is_output_error(tmp_path):
    (tmp_path / "m.safetensors").mkdir()
    with pytest.raises(OutputError, match="folder"):
        lio.write_model(tmp_path / "m.safetensors", np.zeros((2, 1)), 0.0, CLASSES)
    assert (tmp_path / "m.safetensors").is_dir() and not temporaries(tmp_path)


# --- atomic writes -------------------------------------------------------------------------


@pytest.fixture()
def existing(tmp_path):
    path = tmp_path / "model.safetensors"
    lio.write_model(path, np.array([[1.0], [2.0]]), 3.0, {"classes": ["old", "model"]})
    return path, path.read_bytes()


@pytest.mark.parametrize("failure", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failed_write_keeps_the_old_file(existing, monkeypatch, failure):
    path, before = existing
    seen = []

    def broken(self, data):
        seen.append(Path(self))
        with open(self, "wb") as handle:
            handle.write(data[: len(data) // 2])  # half a file, then fail
        raise failure

    monkeypatch.setattr(Path, "write_bytes", broken)
    with pytest.raises(type(failure)):
        lio.write_model(path, np.array([[9.0], [9.0]]), 9.0, {"classes": ["new", "one"]})
    assert seen and seen[0] != path and seen[0].parent == path.parent
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    monkeypatch.undo()
    w, b, meta = lio.read_model(path)
    assert w.ravel().tolist() == [1.0, 2.0] and b == 3.0 and meta["classes"] == ["old", "model"]


def test_failed_write_of_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    def broken(self, data):
        with open(self, "wb") as handle:
            handle.write(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_bytes", broken)
    with pytest.raises(OutputError) as caught:
        lio.write_model(tmp_path / "m.safetensors", np.zeros((2, 1)), 0.0, CLASSES)
    assert str(caught.value) == (f"cannot write {tmp_path / 'm.safetensors'}: No space left on "
                                 f"device; free space or choose another path.")
    assert list(tmp_path.iterdir()) == []


def test_write_goes_through_a_temporary_then_replaces(existing, monkeypatch):
    """While the bytes are written, the target still holds the old model; afterwards the new
    one, and the temporary file is gone."""
    path, before = existing
    real = Path.write_bytes
    during = []

    def watching(self, data):
        during.append((Path(self), path.read_bytes()))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", watching)
    lio.write_model(path, np.array([[5.0], [6.0]]), 7.0, {"classes": ["new", "one"]})
    [(temporary, target_bytes)] = during
    assert temporary != path and temporary.parent == path.parent
    assert temporary.name.startswith(".model.safetensors.")
    assert temporary.suffix == ".safetensors"  # the target's suffix, kept
    assert target_bytes == before
    assert not temporary.exists()
    assert lio.read_model(path)[2]["classes"] == ["new", "one"]


def test_learning_curve_write_is_atomic(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from logreg.model.plots import learning_curve

    path = tmp_path / "curve.png"
    learning_curve([0.7, 0.5, 0.4], path, 0.01)
    before = path.read_bytes()
    assert before.startswith(b"\x89PNG\r\n\x1a\n")

    def broken(self, target, *args, **kwargs):
        Path(target).write_bytes(b"\x89PNG half")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        learning_curve([0.7, 0.6], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]


def test_written_files_honour_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        lio.write_model(tmp_path / "m.safetensors", np.zeros((2, 1)), 0.0, CLASSES)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.safetensors").stat().st_mode) == 0o644


# --- the estimator's save / load -----------------------------------------------------------


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


# --- refusals ------------------------------------------------------------------------------


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


def test_missing_metadata_is_refused(tmp_path):
    path = save_raw(tmp_path / "plain.safetensors", {"w": np.zeros((3, 1)), "b": np.zeros(1)},
                    None)
    with pytest.raises(ModelFileError, match="logreg"):
        logreg.load(path)


@pytest.mark.parametrize("metadata", [
    {"other": "x"},
    {"logreg": "{not json"},
    {"logreg": json.dumps(["a", "list"])},
    {"logreg": json.dumps({"format": "something-else", "format_version": 1, "n_x": 3,
                           "classes": ["a", "b"]})},
], ids=["other-key", "not-json", "not-an-object", "other-format"])
def test_foreign_metadata_is_refused(tmp_path, metadata):
    path = save_raw(tmp_path / "f.safetensors", {"w": np.zeros((3, 1)), "b": np.zeros(1)},
                    metadata)
    with pytest.raises(ModelFileError):
        lio.read_model(path)


@pytest.mark.parametrize("tensors, changes, fragment", [
    ({"w": np.zeros((3, 1)), "b": np.zeros(1)}, {"n_x": 4}, "n_x = 4"),
    ({"w": np.zeros((3,)), "b": np.zeros(1)}, {}, "shape"),
    ({"w": np.zeros((3, 1))}, {}, "'b'"),
    ({"b": np.zeros(1)}, {}, "'w'"),
    ({"w": np.zeros((3, 1)), "b": np.zeros(2)}, {}, "b has shape"),
    ({"w": np.array([[0.0], [np.nan], [0.0]]), "b": np.zeros(1)}, {}, "NaN"),
    ({"w": np.zeros((3, 1)), "b": np.array([np.inf])}, {}, "infinity"),
    ({"w": np.zeros((3, 1)), "b": np.zeros(1)}, {"classes": ["a", "b", "c"]}, "two labels"),
    ({"w": np.zeros((3, 1), np.int64), "b": np.zeros(1)}, {}, "expected floats"),
    ({"w": np.zeros((3, 1), np.float32), "b": np.zeros(1, np.float32)}, {"dtype": "float64"},
     "metadata says float64"),
], ids=["n_x-mismatch", "rank-1-w", "no-b", "no-w", "b-shape", "nan-w", "inf-b",
        "three-classes", "integer-w", "dtype-mismatch"])
def test_inconsistent_model_is_refused(tmp_path, tensors, changes, fragment):
    path = save_raw(tmp_path / "bad.safetensors", tensors, logreg_metadata(**changes))
    with pytest.raises(ModelFileError, match="inconsistent") as caught:
        logreg.load(path)
    assert fragment in str(caught.value)


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        lio.read_model(tmp_path / "absent.safetensors")
    (tmp_path / "dir.safetensors").mkdir()
    with pytest.raises(ModelFileError):
        lio.read_model(tmp_path / "dir.safetensors")


def test_truncated_files_are_refused(existing, tmp_path):
    path, data = existing
    (header_length,) = struct.unpack("<Q", data[:8])
    cut = tmp_path / "cut.safetensors"
    for size in sorted({0, 1, 7, 8, 9, 8 + header_length // 2, 8 + header_length - 1,
                        8 + header_length, 8 + header_length + 1, len(data) // 2,
                        len(data) - 1}):
        cut.write_bytes(data[:size])
        with pytest.raises(ModelFileError, match="cut.safetensors"):
            logreg.load(cut)
    cut.write_bytes(data + b"trailing garbage")
    with pytest.raises(ModelFileError):
        logreg.load(cut)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_refused(tmp_path, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / "noise.safetensors"
    path.write_bytes(rng.bytes(int(rng.integers(1, 5000))))
    with pytest.raises(ModelFileError):
        logreg.load(path)
    # a plausible header length followed by noise
    path.write_bytes(struct.pack("<Q", 64) + rng.bytes(200))
    with pytest.raises(ModelFileError):
        logreg.load(path)


class _Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickle_payload_is_refused_and_never_run(tmp_path, protocol):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Payload(control), protocol=protocol)).close()
    assert control.exists(), "the payload must be live for this test to mean anything"

    marker = tmp_path / "PWNED"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_Payload(marker), protocol=protocol))
    with pytest.raises(ModelFileError):
        logreg.load(path)
    with pytest.raises(ModelFileError):
        lio.read_model(path)
    assert not marker.exists()


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


# --- atomic_paths: several files, all or none ----------------------------------------------


@pytest.fixture()
def old_pair(tmp_path):
    model, curve = tmp_path / "model.safetensors", tmp_path / "curve.png"
    model.write_bytes(b"old model")
    curve.write_bytes(b"old curve")
    return model, curve


def test_atomic_paths_replaces_both_after_both_are_written(old_pair):
    model, curve = old_pair
    with files.atomic_paths(model, curve) as (model_part, curve_part):
        assert model_part.parent == curve_part.parent == model.parent
        assert model_part.name.startswith(".model.safetensors.") and model_part.suffix == \
            ".safetensors"
        assert curve_part.name.startswith(".curve.png.") and curve_part.suffix == ".png"
        model_part.write_bytes(b"new model")
        curve_part.write_bytes(b"new curve")
        assert model.read_bytes() == b"old model"  # nothing replaced yet
    assert model.read_bytes() == b"new model" and curve.read_bytes() == b"new curve"
    assert sorted(p.name for p in model.parent.iterdir()) == ["curve.png", "model.safetensors"]


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     RuntimeError("crash"), KeyboardInterrupt()])
def test_atomic_paths_failure_in_the_second_file_keeps_the_old_pair(old_pair, failure):
    model, curve = old_pair
    with pytest.raises((type(failure), OutputError)):
        with files.atomic_paths(model, curve) as (model_part, curve_part):
            model_part.write_bytes(b"new model")
            curve_part.write_bytes(b"half a curve")
            raise failure
    assert model.read_bytes() == b"old model" and curve.read_bytes() == b"old curve"
    assert sorted(p.name for p in model.parent.iterdir()) == ["curve.png", "model.safetensors"]


def test_atomic_paths_rolls_back_when_the_second_rename_fails(old_pair, monkeypatch):
    """The first file already moved when the second move fails: the first is put back."""
    model, curve = old_pair
    (model.parent / "new.txt").unlink(missing_ok=True)
    real, calls = os.replace, []

    def second_fails(source, target):
        calls.append(Path(target))
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error", str(source))
        return real(source, target)

    monkeypatch.setattr(lio.os, "replace", second_fails)
    with pytest.raises(OutputError, match="Input/output error"):
        with files.atomic_paths(model, curve) as (model_part, curve_part):
            model_part.write_bytes(b"new model")
            curve_part.write_bytes(b"new curve")
    monkeypatch.undo()
    assert calls[:2] == [model, curve]
    assert model.read_bytes() == b"old model" and curve.read_bytes() == b"old curve"
    assert sorted(p.name for p in model.parent.iterdir()) == ["curve.png", "model.safetensors"]


def test_atomic_paths_rollback_removes_a_file_that_was_new(tmp_path, monkeypatch):
    model, curve = tmp_path / "m.safetensors", tmp_path / "c.png"
    curve.write_bytes(b"old curve")
    real = os.replace

    def curve_fails(source, target):
        if Path(target) == curve:
            raise OSError(errno.EIO, "Input/output error")
        return real(source, target)

    monkeypatch.setattr(lio.os, "replace", curve_fails)
    with pytest.raises(OutputError):
        with files.atomic_paths(model, curve) as (model_part, curve_part):
            model_part.write_bytes(b"new")
            curve_part.write_bytes(b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png"]


def test_writes_inside_atomic_paths_join_it(old_pair, fitted):
    """estimator.save and learning_curve to one of the paths write its temporary file; the
    targets change only when the block ends."""
    from logreg.model.plots import learning_curve

    X, y = fitted
    clf = logreg.LogisticRegression(num_iterations=5).fit(X, y)
    model, curve = old_pair
    with files.atomic_paths(model, curve):
        clf.save(model)
        learning_curve(clf.costs_, curve)
        assert model.read_bytes() == b"old model" and curve.read_bytes() == b"old curve"
        assert len(list(model.parent.iterdir())) == 4  # the two targets, two temporaries
    assert logreg.load(model).costs_ == clf.costs_
    assert curve.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in model.parent.iterdir()) == ["curve.png", "model.safetensors"]


@pytest.mark.parametrize("code, advice", [
    (errno.ENOSPC, "free space or choose another path"),
    (errno.EDQUOT, "disk quota"),
    (errno.EACCES, "choose another path you can write to"),
    (errno.EROFS, "read-only"),
])
def test_os_errors_while_writing_become_output_errors(tmp_path, monkeypatch, code, advice):
    def refused(self, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(Path, "write_bytes", refused)
    path = tmp_path / "m.safetensors"
    with pytest.raises(OutputError) as caught:
        lio.write_model(path, np.zeros((2, 1)), 0.0, CLASSES)
    message = str(caught.value)
    assert message.startswith(f"cannot write {path}: {os.strerror(code)}; ")
    assert advice in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("given", [123, None, 1.5, b"m.safetensors", ["m"], "", "a\0b"],
                         ids=["int", "None", "float", "bytes", "list", "empty", "nul"])
def test_write_to_a_path_of_the_wrong_kind_is_output_error(tmp_path, fitted, given):
    with pytest.raises(OutputError) as caught:
        lio.write_model(given, np.zeros((2, 1)), 0.0, CLASSES)
    assert repr(given) in str(caught.value) or repr(os.fspath(given)) in str(caught.value)
    X, y = fitted
    clf = logreg.LogisticRegression(num_iterations=2).fit(X, y)
    with pytest.raises(OutputError):
        clf.save(given)


def test_a_name_near_the_length_limit_is_written(tmp_path):
    """The temporary file's name is cut to fit where the target's name nearly fills 255."""
    path = tmp_path / ("m" * 240 + ".safetensors")
    lio.write_model(path, np.zeros((2, 1)), 0.0, CLASSES)
    assert lio.read_model(path)[2]["classes"] == ["a", "b"]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    with pytest.raises(OutputError, match="too long"):
        lio.write_model(tmp_path / ("m" * 300), np.zeros((2, 1)), 0.0, CLASSES)


# --- a target that exists and is not a regular file: refused, never replaced ---------------


def special_files(folder):
    """{name: (path, what the message calls it)}: a FIFO, a socket, a link to the FIFO."""
    import socket

    fifo = folder / "pipe.safetensors"
    os.mkfifo(fifo)
    sock = folder / "sock.safetensors"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    server.close()  # the socket file stays
    link = folder / "link.safetensors"
    link.symlink_to(fifo)
    return {"fifo": (fifo, "a FIFO (named pipe)"), "socket": (sock, "a socket"),
            "link-to-fifo": (link, "a FIFO (named pipe)")}


@pytest.mark.parametrize("kind", ["fifo", "socket", "link-to-fifo"])
def test_a_fifo_or_socket_target_is_refused_and_kept(tmp_path, fitted, kind):
    """Before: os.replace put a regular file where the FIFO was, without a word."""
    path, what = special_files(tmp_path)[kind]
    before = sorted((p.name, os.lstat(p).st_mode) for p in tmp_path.iterdir())
    X, y = fitted
    clf = logreg.LogisticRegression(num_iterations=2).fit(X, y)
    for write in (lambda: files.check_writable(path),
                  lambda: lio.write_model(path, np.zeros((2, 1)), 0.0, CLASSES),
                  lambda: clf.save(path)):
        with pytest.raises(OutputError) as caught:
            write()
        assert str(caught.value) == (f"cannot write {path}: it is {what}, not a regular file; "
                                     f"choose another path.")
    assert sorted((p.name, os.lstat(p).st_mode) for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full", "/dev/zero"])
def test_a_device_target_is_refused(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with pytest.raises(OutputError, match=f"^cannot write {device}: it is a character device, "
                                          f"not a regular file; choose another path.$"):
        files.check_writable(device)
    assert stat.S_ISCHR(os.stat(device).st_mode)  # (nothing here ever writes to /dev)


def test_regular_files_links_to_them_and_dangling_links_stay_writable(tmp_path):
    (tmp_path / "old.safetensors").write_bytes(b"old")
    (tmp_path / "link.safetensors").symlink_to(tmp_path / "old.safetensors")
    (tmp_path / "dangling.safetensors").symlink_to(tmp_path / "absent")
    for name in ("old.safetensors", "link.safetensors", "dangling.safetensors",
                 "new.safetensors"):
        lio.write_model(tmp_path / name, np.zeros((2, 1)), 0.0, CLASSES)
        assert lio.read_model(tmp_path / name)[2]["classes"] == ["a", "b"]
