"""Model files: safetensors (w, b) + JSON metadata, atomic writes, refusals of bad files."""

import json
import os
import pickle
import stat
import struct
from pathlib import Path

import numpy as np
import pytest

import logreg
from logreg import io as lio
from logreg.errors import LogregError, ModelFileError, OutputError

CLASSES = {"a": ["a", "b"]}


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
    return [p for p in Path(folder).iterdir() if p.name.endswith(".part")]


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
    assert b2 == b
    assert meta2["format"] == "logreg-model" and meta2["format_version"] == 1
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
    assert set(header) == {"__metadata__", "w", "b"}
    assert header["w"]["dtype"] == "F64" and header["w"]["shape"] == [3, 1]
    assert header["b"]["dtype"] == "F64" and header["b"]["shape"] == [1]
    start, end = header["w"]["data_offsets"]
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
    assert np.array_equal(w2.ravel(), w) and b2 == np.float32(0.5)
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
    import safetensors.numpy

    path, before = existing
    seen = []

    def broken(tensors, filename, metadata=None):
        seen.append(Path(filename))
        Path(filename).write_bytes(before[: len(before) // 2])  # half a file, then fail
        raise failure

    monkeypatch.setattr(safetensors.numpy, "save_file", broken)
    with pytest.raises(type(failure)):
        lio.write_model(path, np.array([[9.0], [9.0]]), 9.0, {"classes": ["new", "one"]})
    assert seen and seen[0] != path and seen[0].parent == path.parent
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    w, b, meta = lio.read_model(path)
    assert w.ravel().tolist() == [1.0, 2.0] and b == 3.0 and meta["classes"] == ["old", "model"]


def test_failed_write_of_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    import safetensors.numpy

    def broken(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.numpy, "save_file", broken)
    with pytest.raises(OSError):
        lio.write_model(tmp_path / "m.safetensors", np.zeros((2, 1)), 0.0, CLASSES)
    assert list(tmp_path.iterdir()) == []


def test_write_goes_through_a_temporary_then_replaces(existing, monkeypatch):
    """While save_file runs, the target still holds the old model; afterwards the new one."""
    import safetensors.numpy

    path, before = existing
    real = safetensors.numpy.save_file
    during = []

    def watching(tensors, filename, metadata=None):
        during.append((Path(filename), path.read_bytes()))
        return real(tensors, filename, metadata=metadata)

    monkeypatch.setattr(safetensors.numpy, "save_file", watching)
    lio.write_model(path, np.array([[5.0], [6.0]]), 7.0, {"classes": ["new", "one"]})
    [(temporary, target_bytes)] = during
    assert temporary != path and temporary.parent == path.parent
    assert target_bytes == before
    assert not temporary.exists()
    assert lio.read_model(path)[2]["classes"] == ["new", "one"]


def test_learning_curve_write_is_atomic(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from logreg.plots import learning_curve

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
    ({"w": np.zeros((3, 1)), "b": np.zeros(1)}, {"classes": None}, "two labels"),
    ({"w": np.zeros((3, 1)), "b": np.zeros(1)}, {"n_x": "3"}, "n_x"),
], ids=["n_x-mismatch", "rank-1-w", "no-b", "no-w", "b-shape", "nan-w", "inf-b",
        "three-classes", "no-classes", "n_x-string"])
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
