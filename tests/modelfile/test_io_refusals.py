"""Model files (``logreg.modelfile.io``) refused, and writes that fail: files that are not a
model of this format (foreign or missing metadata, weights that disagree with it for two
classes or K, truncated, random or pickled bytes: a ModelFileError, nothing run), writes that
fail part way (through a temporary file, the old file or pair of files kept), and targets
that are not regular files (an OutputError saying what to do). What a file holds:
test_io.py."""

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
from model_files import logreg_metadata, record, save_raw, save_record, temporaries  # noqa: E402
from logreg.errors import InvalidInputError, LogregError, ModelFileError, OutputError

CLASSES = {"classes": ["a", "b"]}


# --- writes refused ------------------------------------------------------------------------


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


# --- files refused -------------------------------------------------------------------------


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


TWO_CLASS_INCONSISTENT = [
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
]
TWO_CLASS_IDS = ["n_x-mismatch", "rank-1-w", "no-b", "no-w", "b-shape", "nan-w", "inf-b",
                 "three-classes", "integer-w", "dtype-mismatch"]

THREE_CLASS_INCONSISTENT = [
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
THREE_CLASS_IDS = [
    "3-columns-2-classes", "2-columns-2-classes", "3-columns-4-classes", "1-column-3-classes",
    "b-too-short", "n_x", "W-vector", "lower-case-w", "integer-W", "infinite-W",
    "three-classes-in-version-2"]


@pytest.mark.parametrize(
    "K, tensors, changes, fragment",
    [(2, *case) for case in TWO_CLASS_INCONSISTENT]
    + [(3, *case) for case in THREE_CLASS_INCONSISTENT],
    ids=[f"2-{name}" for name in TWO_CLASS_IDS] + [f"3-{name}" for name in THREE_CLASS_IDS])
def test_inconsistent_model_is_refused(tmp_path, K, tensors, changes, fragment):
    """Tensors that disagree with the metadata: K = 2 against a two-class record of format
    version 1 (w (3, 1), b (1,)), K = 3 against a three-class one of version 3 (W (4, 3),
    b (3,))."""
    if K == 2:
        path = save_raw(tmp_path / "bad.safetensors", tensors, logreg_metadata(**changes))
    else:
        path = save_record(tmp_path / "bad.safetensors", tensors, record(**changes))
    for read in (lio.read_model, logreg.load):
        with pytest.raises(ModelFileError, match="inconsistent") as caught:
            read(path)
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
