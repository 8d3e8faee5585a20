"""Zarr stores of data larger than memory: ``synth`` writes one (``logreg data synth``),
``open_store`` reads one lazily, ``split`` holds out its last chunks.

A store holds ``X`` of shape (m, n_x), one row per example, chunked along the rows, and ``y``
of shape (m,), the labels of two or more classes; both are read as dask arrays, never loaded
whole.
"""

import contextlib
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import dask
import dask.array as da
import numpy as np

from logreg.core import neuron
from logreg.errors import DataFileError, InvalidInputError, OutputError

X_NAME, Y_NAME = "X", "y"  # the store's two arrays
CHUNK_BYTES = 32 * 2**20  # default chunk of X written by synth: about 32 MiB
MAX_CHUNKS = 10**6  # synth: more chunks than this is a task graph too large to schedule
MAX_CLASSES = 256  # synth: labels 0 … K − 1 are stored as uint8


def synth(path, rows, features, chunk_rows=None, seed=0, progress=False, classes=2):
    """Write a synthetic classification data set of ``classes`` classes to the Zarr store
    ``path``.

    X (rows, features), float64, chunked as (chunk_rows, features); y (rows,), uint8 labels
    drawn from a true model, so the optimum is finite: for two classes (the default) labels
    0/1 from the notes' neuron, y ~ Bernoulli(σ(sᵀw + b)) with s the standardised row; for
    K = ``classes`` ≥ 3 labels 0 … K − 1 from a softmax layer, y ~ Categorical(softmax(Wᵀs + b))
    with W (features, K) and b (K,). Features have their own offsets and spreads
    (standardising them matters). Each chunk comes from its own seed (``[seed, 1, chunk
    index]``): the same seed and chunk_rows give the same store on any scheduler. Its
    attributes record the truth.

    Written chunk by chunk with dask (one chunk per task, never the whole array), into a
    temporary store beside ``path`` that is renamed to ``path`` once complete: a failed or
    interrupted run leaves no half store under that name. An existing Zarr store at ``path``
    is replaced; anything else there is refused.
    """
    import zarr

    rows, features = whole_number(rows, "rows"), whole_number(features, "features")
    classes = _number_of_classes(classes)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed={seed!r}; expected a whole number ≥ 0.")
    chunk_rows = min(rows, whole_number(chunk_rows, "chunk_rows") if chunk_rows is not None
                     else max(1, CHUNK_BYTES // (8 * features)))
    path = Path(path)
    _check_replaceable(path)
    _check_room(path, rows, features, chunk_rows, classes)
    chunks = -(-rows // chunk_rows)
    if chunks > MAX_CHUNKS:  # one task, one file and one graph entry per chunk
        raise InvalidInputError(
            f"{rows:,} rows in chunks of {chunk_rows:,} make {chunks:,} chunks; expected at "
            f"most {MAX_CHUNKS:,}. Give --chunk-rows {-(-rows // MAX_CHUNKS):,} or more.")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=parent))
    except OSError as error:
        raise OutputError(f"cannot write {path} ({error.strerror}); choose another --out.") \
            from None
    truth = _truth(seed, features, classes)
    try:
        group = zarr.open_group(temporary, mode="w")
        group.attrs["logreg"] = {"generator": "logreg data synth", "seed": seed,
                                 **({} if classes == 2 else {"classes": classes}),
                                 **{k: np.ravel(v).tolist() if np.ndim(v) < 2
                                    else np.asarray(v).tolist() for k, v in truth.items()}}
        X_store = group.create_array(X_NAME, shape=(rows, features), chunks=(chunk_rows, features),
                                     dtype="float64", compressors=None)  # random: incompressible
        y_store = group.create_array(Y_NAME, shape=(rows,), chunks=(chunk_rows,), dtype="uint8")
        starts = range(0, rows, chunk_rows)
        parts = [dask.delayed(_synth_chunk, pure=True)(seed, i, min(chunk_rows, rows - start),
                                                       truth)
                 for i, start in enumerate(starts)]
        X = da.concatenate([da.from_delayed(part[0], (min(chunk_rows, rows - start), features),
                                            np.float64) for part, start in zip(parts, starts)])
        y = da.concatenate([da.from_delayed(part[1], (min(chunk_rows, rows - start),), np.uint8)
                            for part, start in zip(parts, starts)])
        bar = _progress_bar() if progress else contextlib.nullcontext()
        with bar:  # X and y in one compute: each chunk generated once, written, dropped
            da.store([X, y], [X_store, y_store], lock=False)
        _replace(temporary, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return path


def _truth(seed, features, classes):
    """The true model and the features' offsets and spreads: w (features,) and b = 0.25 for
    two classes; W (features, K) and b (K,) for K ≥ 3."""
    rng = np.random.default_rng([seed, 0])
    scale = 2.0 / math.sqrt(features)  # z = wᵀs has spread 2 for a standardised s
    if classes == 2:
        w, b = rng.normal(0.0, scale, features), 0.25
    else:
        w, b = rng.normal(0.0, scale, (features, classes)), rng.normal(0.0, 0.5, classes)
    return {"w": w, "b": b, "offset": rng.normal(0.0, 3.0, features),
            "spread": np.exp(rng.normal(0, 1, features))}


def _synth_chunk(seed, index, k, truth):
    """Chunk ``index``: k rows of X and their labels, from their own random stream."""
    rng = np.random.default_rng([seed, 1, index])
    s = rng.standard_normal((k, truth["w"].shape[0]))
    if truth["w"].ndim == 1:
        a = neuron.sigmoid(s @ truth["w"] + truth["b"])  # the true model's σ(z)
        y = (rng.random(k) < a).astype(np.uint8)
    else:
        # A = softmax(Z) with Z = Wᵀs + b, one row per example here (examples as rows)
        A = neuron.softmax((s @ truth["w"] + truth["b"]).T).T
        # y = the first class whose cumulative probability exceeds u ~ U(0, 1)
        y = (rng.random((k, 1)) >= np.cumsum(A, axis=1)[:, :-1]).sum(axis=1).astype(np.uint8)
    return truth["offset"] + truth["spread"] * s, y


def _number_of_classes(classes):
    if (isinstance(classes, bool) or not isinstance(classes, (int, np.integer))
            or not 2 <= classes <= MAX_CLASSES):
        raise InvalidInputError(f"classes={classes!r}; expected a whole number from 2 to "
                                f"{MAX_CLASSES}.")
    return int(classes)


def whole_number(value, name):
    """``value`` as an int ≥ 1 (a number of rows, features, chunk rows or workers), or the
    error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInputError(f"{name}={value!r}; expected a whole number ≥ 1.")
    return int(value)


def _is_zarr_store(path):
    return any((path / name).is_file() for name in ("zarr.json", ".zgroup", ".zarray"))


def _check_replaceable(path):
    try:
        replaceable = not path.exists() or (path.is_dir() and _is_zarr_store(path))
    except OSError as error:  # a name too long, a folder that cannot be searched
        raise OutputError(f"cannot write {path} ({error.strerror or error}); choose another "
                          f"--out.") from None
    if not replaceable:
        raise OutputError(f"--out {path} exists and is not a Zarr store; refusing to replace "
                          f"it. Choose another path (ending in .zarr).")


def _replace(temporary, path):
    """Put the finished store at ``path``; an old store there is moved aside, then removed
    (and put back if the new one cannot take its place)."""
    old = None
    try:
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old",
                                        dir=path.parent))
            os.replace(path, old / "store")
        os.replace(temporary, path)
    except OSError as error:
        if old is not None and (old / "store").exists() and not path.exists():
            os.replace(old / "store", path)
        raise OutputError(f"cannot put the store at {path} ({error.strerror or error}); "
                          f"choose another --out.") from None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _check_room(path, rows, features, chunk_rows, classes=2):
    """Refuse, before writing anything, a store larger than the free space of its disk, or
    chunks that cannot be generated in the memory available (s, σ·s and X of a chunk at once,
    and Z, A and their cumulative sums for K classes, one chunk per dask thread)."""
    from logreg.core.checks import check_memory, format_bytes

    store = rows * features * 8 + rows  # X as float64 (uncompressed), y as uint8
    existing = next(folder for folder in (path, *path.absolute().parents) if folder.exists())
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        free = None
    if free is not None and store > free:
        raise OutputError(
            f"the store of {rows:,} rows × {features:,} features would take "
            f"{format_bytes(store)} on disk, but {existing} has {format_bytes(free)} free; "
            f"choose fewer --rows or --features, or an --out on a larger disk.")
    at_once = min(-(-rows // chunk_rows), os.cpu_count() or 1)
    per_row = 3 * features + (3 * classes if classes > 2 else 0)
    check_memory(at_once * per_row * chunk_rows * 8 + (3 + classes) * features * 8,
                 f"generating {at_once} chunk(s) of {chunk_rows:,} rows × {features:,} "
                 f"features at once", "choose fewer --features, or a smaller --chunk-rows")


def _progress_bar():
    """dask's progress bar on stderr, where stderr is a terminal."""
    if not sys.stderr.isatty():
        return contextlib.nullcontext()
    from dask.diagnostics import ProgressBar

    return ProgressBar(out=sys.stderr)


def open_store(path):
    """(X_rows (m, n_x), y (m,)) of the Zarr store ``path``, as lazy dask arrays.

    X keeps the store's chunks; y is read in X's row chunks. Nothing is loaded.
    """
    import zarr

    path = Path(path)
    expected = (f"expected a Zarr store holding {X_NAME} (m, n_x), one row per example, and "
                f"{Y_NAME} (m,), the labels, as `logreg data synth` writes")
    if not path.exists():
        raise DataFileError(f"{path} does not exist; {expected}.")
    try:
        group = zarr.open_group(path, mode="r")
    except Exception as error:  # zarr's own errors: not a group, damaged metadata
        raise DataFileError(f"{path} is not a readable Zarr store ({error}); {expected}."
                            ) from None
    missing = [name for name in (X_NAME, Y_NAME) if name not in group]
    if missing:
        raise DataFileError(f"{path} has no {' or '.join(missing)} (it holds "
                            f"{sorted(group.keys()) or 'nothing'}); {expected}.")
    X, y = group[X_NAME], group[Y_NAME]
    if len(X.shape) != 2 or len(y.shape) != 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise DataFileError(f"{path}: {X_NAME} has shape {X.shape} and {Y_NAME} {y.shape}; "
                            f"expected (m, n_x) and (m,) with the same m ≥ 1.")
    for name, array in ((X_NAME, X), (Y_NAME, y)):
        if array.dtype.kind not in "biuf":
            raise DataFileError(f"{path}: {name} holds {array.dtype}; expected numbers.")
    X_rows = da.from_zarr(str(path), component=X_NAME)
    return X_rows, da.from_zarr(str(path), component=Y_NAME, chunks=(X_rows.chunks[0],))


def split(X_rows, y, test_size):
    """Hold out the last chunks (``test_size`` of the rows, rounded to whole chunks).

    No shuffling: a store whose rows are in random order (as synth writes) gives a fair
    held-out set; sort-ordered data need --test-data instead. A store of one chunk is split
    by rows. Returns ((X_train, y_train), (X_test, y_test) or None).
    """
    if not 0 <= test_size < 1:
        raise InvalidInputError(f"--test-size {test_size}; expected a share from 0 (hold out "
                                f"nothing) up to, not including, 1.")
    m = X_rows.shape[0]
    if test_size == 0:
        return (X_rows, y), None
    bounds = np.cumsum((0,) + X_rows.chunks[0])
    wanted = (1 - test_size) * m
    inner = bounds[1:-1]
    cut = int(inner[np.argmin(np.abs(inner - wanted))]) if inner.size else round(wanted)
    if not 0 < cut < m:
        raise InvalidInputError(f"--test-size {test_size} of {m} examples leaves no training "
                                f"or no test examples; choose another share.")
    return (X_rows[:cut], y[:cut]), (X_rows[cut:], y[cut:])
