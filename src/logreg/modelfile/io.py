"""Model files: safetensors for W, b and the costs, JSON metadata beside them; data, never code.

A model file (format version 4) is a safetensors file holding exactly the tensors ``W`` (n_x,
K'), ``b`` (K',) and, with a training record, ``costs`` (the cost history, float64) and the
rest of the per-iteration record, ``history.gradient_norm``, ``history.step``,
``history.elapsed`` and, after early stopping, ``history.validation_cost`` (float64, one entry
per cost), and one metadata entry, ``logreg``, a JSON object: the format name and version, n_x,
the class names, the preprocessing (scaling, image shape, feature names, label column) and the
training settings. K' is the number of output neurons: 1 for two classes (the notes' sigmoid
neuron, ``classes[1]`` positive), K for K ≥ 3 classes (softmax, column k for ``classes[k]``).

Older versions still load: version 3 had no history tensors (a loaded model's history is its
costs, the other columns NaN); version 2 held ``w`` (n_x, 1), ``b`` (1,) and ``costs``; version
1 kept the costs in the JSON, which cannot hold a long run (safetensors caps its header at 100
MB, about 5 million costs). ``read_model`` gives every version the same shapes: W (n_x, K'), b
(K',). Nothing is ever unpickled: safetensors parses a length-prefixed JSON header and raw
little-endian numbers, nothing else, and the metadata is checked against
``logreg.modelfile.schema`` before anything reads it.

Every write goes to a temporary file beside the target, then ``os.replace``: a failed or
interrupted run leaves either the old file or the new one, never half of one.
``atomic_paths`` does this for several files at once (a model and its picture): all of them
are replaced only once every one is written.
"""

import json
import os
import stat
import struct

import numpy as np

from logreg.modelfile import schema as model_schema
from logreg.core.files import as_path, atomic_path, output_path
from logreg.errors import InvalidInputError, InvalidTypeError, ModelFileError
from logreg.modelfile.schema import FORMAT, FORMAT_VERSION

METADATA_KEY = "logreg"
HEADER_LIMIT = 100_000_000  # bytes: safetensors refuses a longer header


# --- model files ---------------------------------------------------------------------------

HISTORY_PREFIX = "history."  # format 4: the per-iteration record beside the costs
HISTORY_COLUMNS = ("gradient_norm", "step", "elapsed", "validation_cost")


def write_model(path, W, b, metadata):
    """Write W (n_x, K'), b (K',) and ``metadata`` (a JSON-serialisable dict) to ``path``,
    atomically, in the current format version.

    K' = 1 for two classes (W may also be a vector of n_x weights, b a number), K' = K for
    K ≥ 3 classes: ``metadata["classes"]`` names them, one per column of W.
    ``metadata["training"]["costs"]`` (a list) is stored as the float64 tensor ``costs``, not
    in the JSON, and ``metadata["training"]["history"]`` (a dict of ``HISTORY_COLUMNS``, each
    one entry per cost) as the tensors ``history.<column>``; ``read_model`` puts them back. The
    metadata and the shapes are checked first, as a reader will check them, so that every file
    written here can be read back.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import save

    target = output_path(path)
    if not isinstance(metadata, dict):
        raise InvalidTypeError(f"model metadata is a {type(metadata).__name__}; expected a "
                               f"dict.")
    W = np.ascontiguousarray(W)
    W = W.reshape(-1, 1) if W.ndim == 1 else W
    b = np.asarray(b, dtype=W.dtype).reshape(-1)
    if W.ndim != 2 or b.shape != (W.shape[1],):
        raise InvalidInputError(f"cannot write {target}: W has shape {W.shape} and b "
                                f"{b.shape}; expected W (n_x, K') and b (K',), one column "
                                f"and one intercept per output.")
    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "n_x": int(W.shape[0]),
              **metadata}
    problem = _outputs_problem(W.shape[1], record.get("classes"))
    if problem is not None:
        raise InvalidInputError(f"cannot write {target}: {problem}.")
    tensors = {"W": np.ascontiguousarray(W), "b": b}
    training = record.get("training")
    if isinstance(training, dict):  # a training record always has its costs tensor
        record["training"] = {k: v for k, v in training.items() if k not in ("costs", "history")}
        tensors["costs"] = _costs_tensor(training.get("costs") or [])
        for column, values in _history_tensors(training.get("history"),
                                               tensors["costs"].size).items():
            tensors[HISTORY_PREFIX + column] = values
    text = _metadata_text(record)
    n_iter = record.get("training", {}).get("n_iter") if "costs" in tensors else None
    if isinstance(n_iter, int) and n_iter > 0 and tensors["costs"].size == 0:
        raise InvalidInputError(f"cannot write {target}: training.n_iter is {n_iter} but there "
                                f"are no costs; expected the cost history (training.costs) of "
                                f"a run of {n_iter} steps, as a reader requires.")
    try:
        data = save(tensors, metadata={METADATA_KEY: text})
    except SafetensorError as error:  # the header would be over safetensors' limit
        raise InvalidInputError(f"cannot write {target}: the model's metadata takes "
                                f"{len(text.encode()):,} bytes ({error}); a model file's "
                                f"header holds at most {HEADER_LIMIT:,}.") from None
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)


def outputs_for(n_classes):
    """K', the output neurons of a model of ``n_classes`` classes: 1 for two (the sigmoid
    neuron), K for K ≥ 3 (softmax)."""
    return 1 if n_classes == 2 else n_classes


def _outputs_problem(outputs, classes):
    """Why W's ``outputs`` columns do not fit ``classes`` (a list), or None where they do."""
    if not isinstance(classes, list) or len(classes) < 2:
        return None  # the schema names what is wrong with the classes themselves
    if outputs == outputs_for(len(classes)):
        return None
    expected = ("1 column (two classes: the sigmoid neuron, the second class positive)"
                if len(classes) == 2 else f"{len(classes)} columns, one per class")
    return (f"W has {outputs} column(s) but the metadata names {len(classes)} classes "
            f"({model_schema.describe(classes)}); expected {expected}")


def _history_tensors(history, n):
    """The per-iteration record's columns as float64 tensors of ``n`` entries (one per cost)."""
    if history is None:
        return {}
    if not isinstance(history, dict) or not set(history) <= set(HISTORY_COLUMNS):
        raise InvalidInputError(f"training history is {model_schema.describe(history)}; "
                                f"expected a dict of some of {list(HISTORY_COLUMNS)}.")
    tensors = {}
    for column, values in history.items():
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            array = None
        if array is None or array.shape != (n,):
            raise InvalidInputError(f"training history {column!r} is "
                                    f"{model_schema.describe(values)}; expected {n} numbers, "
                                    f"one per cost.")
        tensors[column] = array
    return tensors


def _checked_history(path, history, n):
    """The history tensors of a format-4 file as lists, each one float per cost; else why not."""
    columns = {}
    for name, values in sorted(history.items()):
        column = name[len(HISTORY_PREFIX):]
        if column not in HISTORY_COLUMNS:
            raise ModelFileError(f"{path} holds the tensor {name!r}; a model file's history "
                                 f"tensors are {[HISTORY_PREFIX + c for c in HISTORY_COLUMNS]}. "
                                 f"The file was edited or damaged; train again.")
        if values.shape != (n,) or values.dtype.kind != "f":
            raise ModelFileError(f"{path}: the tensor {name!r} has shape {values.shape} and "
                                 f"dtype {values.dtype}; expected {n} floats, one per cost. The "
                                 f"file was edited or damaged; train again.")
        columns[column] = values.astype(np.float64).tolist()
    return columns


def _costs_tensor(costs):
    try:
        array = np.asarray(costs, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        array = None
    if array is None or array.ndim != 1 or isinstance(costs, (str, bytes)):
        raise InvalidInputError(f"training costs are {model_schema.describe(costs)}; expected "
                                f"a list of numbers.")
    return array


def _metadata_text(record):
    """The record as JSON text, after checking it as a reader will (schema, finite numbers)."""
    try:
        text = json.dumps(record, default=_jsonable, allow_nan=False)
    except ValueError:  # a NaN or an infinity: name where
        where = model_schema.non_finite(json.loads(json.dumps(record, default=_jsonable)),
                                        skip=())
        raise InvalidInputError(f"model metadata {where} is not finite; expected a finite "
                                f"number (JSON holds no NaN or infinity).") from None
    problem = model_schema.problem(json.loads(text))
    if problem is not None:
        raise InvalidInputError(f"cannot write this model's metadata: {problem}.")
    return text


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise InvalidTypeError(f"cannot store {type(value).__name__!r} values in model metadata; "
                           f"expected JSON values (str, numbers, bool, None, lists and dicts "
                           f"of them).")


def read_model(path):
    """(W, b, metadata) from a model file of any format version, after checking that it is
    whole and consistent: W (n_x, K'), b (K',), K' = 1 for two classes, K for K ≥ 3.

    Raises ModelFileError for a missing, unreadable, truncated or foreign file, one from a
    newer format version, one whose metadata breaks the schema (``logreg.modelfile.schema``), or
    one whose weights do not match its metadata.
    """
    path = _model_path(path)
    header, tensors = _read_safetensors(path)
    metadata = _parse_metadata(path, header)
    costs = tensors.pop("costs", None) if metadata["format_version"] >= 2 else None
    history = ({name: tensors.pop(name) for name in list(tensors)
                if name.startswith(HISTORY_PREFIX)} if metadata["format_version"] >= 4 else {})
    W, b = _check_weights(path, tensors, metadata, costs is not None)
    _check_costs_present(path, costs, metadata)
    if history and costs is None:
        raise ModelFileError(f"{path} holds history tensors but no costs; the file was edited "
                             f"or damaged. Train again.")
    if costs is not None:
        training = metadata.setdefault("training", {})
        for held in ("costs", "history"):
            if held in training:
                raise ModelFileError(f"{path} holds the {held} twice (in the metadata and as "
                                     f"tensors); the file was edited. Train again.")
        if costs.ndim != 1 or costs.dtype.kind != "f":
            raise ModelFileError(f"{path}: the costs tensor has shape {costs.shape} and dtype "
                                 f"{costs.dtype}; expected a list of floats. The file is "
                                 f"damaged or was edited.")
        training["costs"] = costs.astype(np.float64).tolist()
        if history:
            training["history"] = _checked_history(path, history, costs.size)
    return W, b, metadata


def _model_path(path):
    return as_path(path, ModelFileError, "model path", "the path of a .safetensors file")


def _read_safetensors(path):
    """(header metadata, tensors) of a safetensors file, or a ModelFileError saying why not."""
    from safetensors import safe_open

    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise ModelFileError(f"{path} is a folder; expected a model file (.safetensors) "
                                 f"written by `logreg train` or estimator.save().")
        if not stat.S_ISREG(mode):  # a pipe would block the read, a device never end
            raise ModelFileError(f"{path} is not a regular file (a pipe, socket or device); "
                                 f"expected a model file (.safetensors).")
        with open(path, "rb") as handle:
            prefix = handle.read(8)
    except FileNotFoundError:
        raise ModelFileError(f"model file {path} does not exist; expected a .safetensors file "
                             f"written by `logreg train` or estimator.save().") from None
    except OSError as error:
        raise ModelFileError(f"cannot read the model file {path}: {error.strerror or error}; "
                             f"check its permissions or choose another file.") from None
    if len(prefix) == 8 and struct.unpack("<Q", prefix)[0] > HEADER_LIMIT:
        raise ModelFileError(f"{path} declares a header of {struct.unpack('<Q', prefix)[0]:,} "
                             f"bytes; a model file's header is at most {HEADER_LIMIT:,}. It is "
                             f"damaged or not a model file.")
    try:
        with safe_open(str(path), framework="numpy") as handle:
            header = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as error:  # safetensors raises its own error types, and OSError
        raise ModelFileError(
            f"{path} is not a readable model file ({type(error).__name__}: {error}); expected "
            f"a safetensors file written by logreg. It may be truncated or of another "
            f"format; train again or restore a good copy.") from None
    return header, tensors


def _parse_metadata(path, header):
    if METADATA_KEY not in header:
        raise ModelFileError(f"{path} is a safetensors file but not a logreg model (no "
                             f"'{METADATA_KEY}' metadata); expected a file written by logreg.")
    metadata = _parse_json(path, header[METADATA_KEY])
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path}: the metadata does not name the format {FORMAT!r}; "
                             f"expected a file written by logreg.")
    version = metadata.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path}: format_version {version!r} is not valid; expected an "
                             f"integer from 1 to {FORMAT_VERSION}.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format version {version}, newer than this logreg reads "
            f"(up to {FORMAT_VERSION}). Upgrade logreg (pip install -U logreg) to read it.")
    where = model_schema.non_finite(metadata)
    if where is not None:
        raise ModelFileError(f"{path}: the metadata's {where} is not a finite number; expected "
                             f"a finite number. The file is damaged or was edited.")
    try:
        problem = model_schema.problem(metadata)
    except RecursionError:
        problem = "it is nested too deeply"
    if problem is not None:
        raise ModelFileError(f"{path}: the model's metadata is not valid: {problem}. The file "
                             f"is damaged or was edited; train again or restore a good copy.")
    return metadata


def _parse_json(path, text):
    """Strict JSON: no duplicate keys, no nesting deeper than Python can follow."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError, MemoryError) as error:
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise ModelFileError(f"{path}: the model's metadata is not valid JSON ({reason}); "
                             f"the file is damaged.") from None


def _no_duplicates(pairs):
    record = dict(pairs)
    if len(record) != len(pairs):
        seen = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"the key {key!r} appears twice in one object")
    return record


def _check_costs_present(path, costs, metadata):
    """Format 2 keeps the cost history of a training record as a tensor: it must be there, and
    hold a cost for a run of one step or more."""
    training = metadata.get("training")
    if metadata["format_version"] < 2 or not isinstance(training, dict) or "costs" in training:
        return  # version 1 keeps them in the JSON; "costs" twice is refused by the caller
    if costs is None:
        raise ModelFileError(f"{path} has a training record but no costs tensor; expected the "
                             f"tensors {_names(metadata['format_version'], costs=True)} in "
                             f"a model of format version "
                             f"{metadata['format_version']}. The file was edited or damaged; "
                             f"train again or restore a good copy.")
    if costs.size == 0 and training.get("n_iter", 0) > 0:
        raise ModelFileError(f"{path}: the costs tensor is empty but training.n_iter is "
                             f"{training['n_iter']}; expected at least one cost. The file was "
                             f"edited or damaged; train again or restore a good copy.")


def _names(version, costs=False):
    """The tensors of a format version, in words: 'W' and 'b' from 3 ('w' and 'b' before),
    with 'costs' from 2."""
    names = ["'W'" if version >= 3 else "'w'", "'b'"] + (["'costs'"] if costs else [])
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def _check_weights(path, tensors, metadata, costs_held=False):
    """(W (n_x, K'), b (K',)) of a file whose tensors and metadata agree; else why not."""
    version, n_x, classes = metadata["format_version"], metadata["n_x"], metadata["classes"]
    name = "W" if version >= 3 else "w"
    outputs = outputs_for(len(classes)) if version >= 3 else 1
    W, b = tensors.get(name), tensors.get("b")
    problems = []
    if set(tensors) != {name, "b"}:  # format 2's costs are taken out before: exactly W, b
        held = sorted(tensors) + (["costs"] if version >= 2 and costs_held else [])
        expected = _names(version, costs=version >= 2)
        problems.append(f"it holds the tensors {sorted(held)}, expected exactly {expected}")
    else:
        if W.ndim == 2 and W.shape[0] == n_x and version >= 3:
            problem = _outputs_problem(W.shape[1], classes)
            if problem is not None:
                problems.append(problem)
        if not problems and W.shape != (n_x, outputs):
            problems.append(f"{name} has shape {W.shape} but the metadata says n_x = {n_x} "
                            f"and {len(classes)} classes, expected {name} of shape ({n_x}, "
                            f"{outputs})")
        if b.shape != (outputs,):
            problems.append(f"b has shape {b.shape}, expected ({outputs},)")
        if W.dtype.kind != "f" or b.dtype.kind != "f":
            problems.append(f"{name} and b have dtypes {W.dtype} and {b.dtype}, expected "
                            f"floats")
        elif not (np.isfinite(W).all() and np.isfinite(b).all()):
            problems.append(f"{name} or b holds NaN or infinity")
        elif metadata.get("dtype") not in (None, str(W.dtype)):
            problems.append(f"{name} has dtype {W.dtype} but the metadata says "
                            f"{metadata['dtype']}")
    if version < 3 and len(classes) != 2:
        problems.append(f"the classes are {model_schema.describe(classes)}, expected a list "
                        f"of two labels (format version {version} holds binary models only)")
    if problems:
        raise ModelFileError(f"{path} is inconsistent: {'; '.join(problems)}. The file is "
                             f"damaged or was edited; train again or restore a good copy.")
    return W, b
