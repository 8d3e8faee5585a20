"""Model files: safetensors for w and b, JSON metadata beside them; data, never code.

A model file is a safetensors file holding two tensors, ``w`` (n_x, 1) and ``b`` (1,), and one
metadata entry, ``logreg``, a JSON object: the format name and version, n_x, the class names,
the preprocessing (scaling, image shape, feature names, label column), the training settings
and the cost history. Nothing is ever unpickled: safetensors parses a length-prefixed JSON
header and raw little-endian numbers, nothing else.

Every write goes to a temporary file beside the target, then ``os.replace``: a failed or
interrupted run leaves either the old file or the new one, never half of one.
"""

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from logreg.errors import ModelFileError, OutputError

FORMAT = "logreg-model"
FORMAT_VERSION = 1
METADATA_KEY = "logreg"


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step."""
    path = Path(path)
    check_writable(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                         dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, _mode_for(path))  # mkstemp makes 0600: as a plain write would
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _mode_for(path):
    """The mode an ordinary write would leave: the old file's, or 0666 less the umask."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def check_writable(path):
    """Refuse, before any work is done, an output path whose folder cannot be written."""
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise OutputError(f"{path} is a folder; expected a file path to write to.")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write {path}: {folder} is a file, not a folder. Choose "
                          f"another path.")
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: the folder {folder} does not exist. Create "
                          f"it first or choose another path.")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists()
                                                    and not os.access(path, os.W_OK)):
        raise OutputError(f"cannot write {path}: permission denied. Choose a path you can "
                          f"write to.")


def write_model(path, w, b, metadata):
    """Write w, b and ``metadata`` (a JSON-serialisable dict) to ``path``, atomically."""
    from safetensors.numpy import save_file

    w = np.ascontiguousarray(w)
    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "n_x": int(w.shape[0]),
              **metadata}
    tensors = {"w": w.reshape(-1, 1), "b": np.asarray([b], dtype=w.dtype).reshape(1)}
    text = json.dumps(record, default=_jsonable)
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary), metadata={METADATA_KEY: text})


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in model metadata")


def read_model(path):
    """(w, b, metadata) from a model file, after checking that it is whole and consistent.

    Raises ModelFileError for a missing, truncated or foreign file, one from a newer format
    version, or one whose weights do not match its metadata.
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist; expected a .safetensors file "
                             f"written by `logreg train` or estimator.save().")
    try:
        with safe_open(str(path), framework="numpy") as handle:
            header = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as error:  # safetensors raises its own error types, and OSError
        raise ModelFileError(
            f"{path} is not a readable model file ({type(error).__name__}: {error}); expected "
            f"a safetensors file written by logreg. It may be truncated or of another "
            f"format; train again or restore a good copy.") from None
    metadata = _parse_metadata(path, header)
    return (*_check_weights(path, tensors, metadata), metadata)


def _parse_metadata(path, header):
    if METADATA_KEY not in header:
        raise ModelFileError(f"{path} is a safetensors file but not a logreg model (no "
                             f"'{METADATA_KEY}' metadata); expected a file written by logreg.")
    try:
        metadata = json.loads(header[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path}: the model's metadata is not valid JSON ({error}); "
                             f"the file is damaged.") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path}: the metadata does not name the format {FORMAT!r}; "
                             f"expected a file written by logreg.")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: format_version {version!r} is not valid; expected an "
                             f"integer from 1 to {FORMAT_VERSION}.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format version {version}, newer than this logreg reads "
            f"(up to {FORMAT_VERSION}). Upgrade logreg (pip install -U logreg) to read it.")
    return metadata


def _check_weights(path, tensors, metadata):
    n_x = metadata.get("n_x")
    w, b = tensors.get("w"), tensors.get("b")
    problems = []
    if w is None or b is None:
        problems.append(f"it holds the tensors {sorted(tensors)}, expected 'w' and 'b'")
    else:
        if not isinstance(n_x, int) or w.shape != (n_x, 1):
            problems.append(f"w has shape {w.shape} but the metadata says n_x = {n_x}, "
                            f"expected w of shape ({n_x}, 1)")
        if b.shape != (1,):
            problems.append(f"b has shape {b.shape}, expected (1,)")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            problems.append("w or b holds NaN or infinity")
    classes = metadata.get("classes")
    if not isinstance(classes, list) or len(classes) != 2:
        problems.append(f"the classes are {classes!r}, expected a list of two labels")
    if problems:
        raise ModelFileError(f"{path} is inconsistent: {'; '.join(problems)}. The file is "
                             f"damaged or was edited; train again or restore a good copy.")
    return w, b[0]
