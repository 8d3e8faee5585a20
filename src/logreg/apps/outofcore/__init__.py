"""Out-of-core training on Dask: the notes' gradient descent over data larger than memory.

The data live in a Zarr store: ``X`` of shape (m, n_x), one row per example, chunked along the
rows, and ``y`` of shape (m,), the labels of two or more classes (``logreg data synth`` writes
one). They are read as dask arrays, never loaded whole; the notes' layout is the lazy transpose
X_rows.T, and Y ((1, m) of 0/1 for two classes, one-hot (K, m) for K ≥ 3) is built lazily from
y, chunk by chunk.

One gradient-descent step is one pass over the chunks: ``neuron.loss_and_gradient`` builds the
lazy cost, dw and db on the dask arrays, and the three are computed together in one
``dask.compute`` (as dask-glm does), so each chunk of X is read once, used for Z = wᵀX + b and
for its share of dw = X dZᵀ / m, then dropped (all K rows of Z at once for K classes, with
W (n_x, K) and b (K, 1)). w and b stay small NumPy arrays on the client;
``solvers.gradient_descent`` drives the steps as for NumPy. The (scaled) data are persisted in
the workers' memory only when they fit in half of it; otherwise every step streams them from
the store.

    with cluster(workers=2, worker_memory="1GiB"):
        X_rows, y = open_store("big.zarr")
        scaling = standardize(X_rows)
        clf = fit(scaled(X_rows, scaling), y, learning_rate=0.1, num_iterations=500)

Needs the ``[dask]`` extra: ``pip install 'logreg[dask]'`` (dask[array], distributed, zarr).
"""

import contextlib
import logging
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
from logreg.engines.dask_gradient import loss_and_gradient, one_blas_thread  # noqa: F401 (re-exported)
from logreg.data.scaling import Scaling
from logreg.errors import DataFileError, InvalidInputError, LogregError, OutputError
from logreg.core.arrays import check_foreign_X, class_labels, labels_at
from logreg.engines import Data
from logreg.core.checks import classes_of_labels
from logreg.model.estimator import LogisticRegression

X_NAME, Y_NAME = "X", "y"  # the store's two arrays
CHUNK_BYTES = 32 * 2**20  # default chunk of X written by synth: about 32 MiB
PERSIST_SHARE = 0.5  # persist the data when they take at most this share of the workers' memory
CONNECT_TIMEOUT = "10s"  # how long to try an existing cluster's --scheduler address
MAX_CHUNKS = 10**6  # synth: more chunks than this is a task graph too large to schedule
MAX_CLASSES = 256  # synth: labels 0 … K − 1 are stored as uint8


class ClusterError(LogregError, OSError):
    """A Dask cluster that cannot be reached or started."""


# --- the store --------------------------------------------------------------------------


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

    rows, features = _whole(rows, "rows"), _whole(features, "features")
    classes = _number_of_classes(classes)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed={seed!r}; expected a whole number ≥ 0.")
    chunk_rows = min(rows, _whole(chunk_rows, "chunk_rows") if chunk_rows is not None
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


def _whole(value, name):
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


# --- preprocessing ----------------------------------------------------------------------


def standardize(X_rows):
    """Per-feature mean and spread of X_rows (m, n_x), by dask in one pass: a ``Scaling``.

    As ``logreg.data.standardize``: population σ; a constant feature keeps spread 1. Refuses
    data holding NaN or infinity (found in the same pass). Overflow-safe: each chunk's moments
    are taken on its values divided by its largest |x| (so finite features near ±1.7e308 give
    finite μ and σ), then merged (Chan et al.'s pairwise update) on the client.
    """
    X_rows = X_rows if isinstance(X_rows, da.Array) else da.asarray(X_rows)
    row_chunks = len(X_rows.chunks[0])
    moments = X_rows.map_blocks(_chunk_moments, dtype=np.float64,
                                chunks=((len(MOMENTS),) * row_chunks, X_rows.chunks[1]))
    stats = moments.compute().reshape(row_chunks, len(MOMENTS), -1)
    count, finite, largest, mean, m2 = (stats[:, k] for k in range(len(MOMENTS)))
    bad = np.flatnonzero(~finite.all(axis=0))
    if bad.size:
        raise InvalidInputError(
            f"X holds NaN or infinite values (feature {int(bad[0])}"
            f"{' and others' if bad.size > 1 else ''}); expected finite numbers to "
            f"standardise. Remove or impute them first.")
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        scale = largest.max(axis=0)  # each feature's largest |x|: the common unit
        share = largest / scale
        mean, m2 = mean * share, m2 * share * share  # each chunk's moments in that unit
        m = count.sum(axis=0)
        # μ = Σ nᵢ μᵢ / m;  M₂ = Σ M₂ᵢ + Σ nᵢ (μᵢ − μ)²;  σ = √(M₂ / m)
        total_mean = (count * mean).sum(axis=0) / m
        total_m2 = m2.sum(axis=0) + (count * (mean - total_mean) ** 2).sum(axis=0)
        mean, spread = total_mean * scale, np.sqrt(total_m2 / m) * scale
    spread[spread == 0] = 1.0  # a constant feature: centre it, do not divide by 0
    return Scaling("standardize", mean.reshape(-1, 1), spread.reshape(-1, 1))


MOMENTS = ("count", "finite", "largest", "mean", "m2")  # of each chunk, per feature


def _chunk_moments(block):
    """One chunk's (count, all finite, largest |x|, mean, M₂ = Σ(x − mean)²) per feature, the
    last two in units of its largest |x| (values in [−1, 1]: no sum overflows)."""
    block = np.asarray(block, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        finite = np.isfinite(block).all(axis=0)
        largest = np.where(finite, np.abs(block).max(axis=0, initial=0.0), 1.0)
        largest[largest == 0] = 1.0
        unit = block / largest
        mean = unit.mean(axis=0) if len(block) else np.zeros(block.shape[1])
        m2 = ((unit - mean) ** 2).sum(axis=0)
    return np.stack([np.full(block.shape[1], float(len(block))), finite, largest, mean, m2])


def scaled(X_rows, scaling):
    """(X_rows − mean) / spread, lazily, float64 (the notes' layout is its transpose); finite
    values near ±1.7e308 are scaled without overflow, as ``Scaling.apply`` does."""
    columns = (1,), X_rows.chunks[1]  # μ and σ chunked as X's columns, block by block
    mean = da.from_array(np.asarray(scaling.mean, dtype=np.float64).reshape(1, -1), columns)
    spread = da.from_array(np.asarray(scaling.spread, dtype=np.float64).reshape(1, -1), columns)
    return da.map_blocks(_scale_chunk, X_rows, mean, spread, dtype=np.float64)


def _scale_chunk(block, mean, spread):
    block = np.asarray(block, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        out = (block - mean) / spread
        if not np.isfinite(out).all():  # x − μ overflowed: halve both first, the same result
            out = (block / 2 - mean / 2) / (spread / 2)
    return out


# --- training ---------------------------------------------------------------------------


def fit(X, y, estimator=None, *, persist="auto", sample_weight=None, **params):
    """Train a ``LogisticRegression`` on dask arrays (or anything dask can wrap); returns it.

    X is (m, n_x), one row per example, as for the estimator; y (m,) holds two classes
    (``classes_[1]`` is the positive one: the notes' neuron) or K ≥ 3 (a softmax layer of K
    neurons; Y one-hot (K, m) is built lazily, chunk by chunk, never held whole). Give a
    ``LogisticRegression`` whose parameters say how to train, or its parameters as keywords.
    The estimator's own ``fit`` trains it, on the same road as any dask array handed to it
    (the engine table's "dask" row: one pass over the chunks a step); this adds where the data
    live and refuses a ``learning_rate="auto"`` whose power iteration would re-read data that
    may not fit in memory.

    ``sample_weight``: one weight per example (NumPy or dask), passed to the estimator's
    ``fit``. ``persist``: True keeps X and y in the workers' memory (read once from their source);
    False streams them every step; "auto" persists when they take at most half of the
    cluster's memory limit (and never without a dask.distributed client). ``engine_`` records
    what was done. Ctrl-C leaves the last good parameters in the estimator, then re-raises.
    """
    estimator = _estimator(estimator, params)
    if not (isinstance(persist, (bool, np.bool_)) or (isinstance(persist, str)
                                                       and persist == "auto")):
        from logreg.errors import InvalidParameterError

        raise InvalidParameterError(f"persist={persist!r}; expected True, False or 'auto'. "
                                    f"Pass one of those.")
    check_estimator(estimator)
    X, y = (_dask_or_numpy(values, name) for values, name in ((X, "X"), (y, "y")))
    X, y, persisted = _persisted(X, y, persist)
    estimator.fit(X, y, sample_weight=sample_weight)
    estimator.engine_.update(persisted=persisted, chunks=len(X.chunks[0]), m=int(X.shape[0]),
                             n_x=int(X.shape[1]))
    return estimator


def _estimator(estimator, params):
    """The estimator to train: a new one with ``params``, or the one given with them set;
    unknown parameters and other objects are refused with what is expected."""
    from logreg.errors import InvalidParameterError, InvalidTypeError

    known = LogisticRegression().get_params()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise InvalidParameterError(
            f"dask_engine.fit got the parameter(s) {', '.join(unknown)}; expected "
            f"LogisticRegression's parameters ({', '.join(known)}), persist or "
            f"sample_weight. Check the spelling.")
    if estimator is None:
        return LogisticRegression(**params)
    if not isinstance(estimator, LogisticRegression):
        raise InvalidTypeError(
            f"estimator={estimator!r:.60}, a {type(estimator).__name__}; expected a "
            f"logreg.LogisticRegression (or None, with its parameters as keywords).")
    return estimator.set_params(**params)


def _dask_or_numpy(values, name):
    """``values`` as a dask array; other array libraries (PyTorch, CuPy...) are refused: the
    dask engine reads dask arrays, or NumPy arrays it wraps."""
    from logreg.core.arrays import foreign
    from logreg.errors import InvalidTypeError

    if isinstance(values, da.Array):
        return values
    if foreign(values):
        kind = f"{type(values).__module__}.{type(values).__name__}"
        raise InvalidTypeError(
            f"{name} is a {kind}; the dask engine takes dask arrays or NumPy arrays. Pass "
            f"da.from_array({name}.numpy()) (or {name}.cpu().numpy()), or train on it with "
            f"LogisticRegression().fit directly.")
    return da.asarray(values)


def check_estimator(estimator, dtype=None):
    """Refuse, before any work, settings the dask engine cannot honour: the engine table's
    answer for dask arrays, and ``learning_rate="auto"`` (its power iteration would re-read
    the data about 100 times)."""
    estimator._check_params()
    estimator.plan(Data("dask", estimator.dtype or dtype or "float64"))
    if estimator.solver == "gd" and estimator.learning_rate == "auto":
        raise InvalidInputError(
            "learning_rate='auto' is not available on the dask engine (its power iteration "
            "would re-read the data about 100 times); give a number, such as 0.1 for "
            "standardised features.")


def _notes_layout(X_rows, y, dtype=None):
    """X (n_x, m) = X_rows.T and Y, lazily ((1, m) of 0/1 for two classes, one-hot (K, m) for
    K ≥ 3); the classes (reads y once)."""
    X_rows = X_rows if isinstance(X_rows, da.Array) else da.asarray(X_rows)
    X_rows = check_foreign_X(X_rows, dtype=dtype)
    classes, Y = class_labels(y, X_rows, describe=classes_of_labels)
    return X_rows.T, Y, classes


def classes_of(y):
    """The classes of the labels y, sorted (a pass over y only): two or more; refuses one."""
    return classes_of_labels(np.unique(da.unique(y if isinstance(y, da.Array)
                                                 else da.asarray(y)).compute()))


def _persisted(X, Y, persist):
    """(X, Y, whether they were persisted): kept in the workers' memory where they fit."""
    if persist == "auto":
        persist = fits_in_workers(X, Y)
    if persist:
        X, Y = dask.persist(X, Y)
    return X, Y, bool(persist)


def fits_in_workers(*arrays):
    """Whether the arrays take at most ``PERSIST_SHARE`` of the cluster's memory limit (False
    without a dask.distributed client)."""
    memory = cluster_memory()
    return memory is not None and sum(a.nbytes for a in arrays) <= PERSIST_SHARE * memory


def decision(estimator, X_rows):
    """Z = WᵀX + b of a fitted estimator on X_rows (m, n_x), lazily: (1, m) for two classes
    (the notes' z = wᵀx + b), (K, m) for K ≥ 3, one row per class."""
    from logreg.core.arrays import to_numpy

    coef, intercept = to_numpy(estimator.coef_), to_numpy(estimator.intercept_)
    # Z = WᵀX + b, with W = coef_ᵀ (n_x, K) and b = intercept_ as a column (K, 1)
    b = intercept[0] if coef.shape[0] == 1 else intercept.reshape(-1, 1)
    return neuron.decision_function(coef.T, b, X_rows.T)


def predicted_positions(Z):
    """k̂, the predicted class's position in ``classes_`` (m,), lazily: 1 where z > 0 for
    two classes (ŷ = σ(z) > 0.5), argmaxₖ zₖ for K classes (the largest softmax aₖ)."""
    if Z.shape[0] == 1:
        return (Z[0] > 0).astype(np.intp)
    return da.argmax(Z, axis=0)


def predict(estimator, X_rows):
    """The labels ``classes_[k̂]`` of a fitted estimator on X_rows (m, n_x), lazily (m,):
    computed chunk by chunk when asked, as the estimator's ``predict``."""
    return labels_at(estimator.classes_, predicted_positions(decision(estimator, X_rows)))


def accuracies(estimator, sets):
    """The accuracy (%) of a fitted estimator on each (X_rows, y) of the dict ``sets``
    (X_rows scaled as for training), all in one compute: one pass over every set.

    Two classes: the exercise's 100 − mean|Ŷ − Y|·100. K classes: 100 − mean(ŷ ≠ y)·100, the
    share of labels predicted right (the same figure, for two classes)."""
    lazy = {name: _accuracy(estimator, X_rows, y) for name, (X_rows, y) in sets.items()}
    return {name: float(value) for name, value in zip(lazy, dask.compute(*lazy.values()))}


def evaluate(estimator, sets):
    """{name: {"accuracy": %, "confusion": (K, K) counts}} of a fitted estimator on each
    (X_rows, y) of ``sets``, all in one compute (one pass over every set). The confusion
    matrix's rows are the true classes, its columns the predicted ones, in ``classes_``'s
    order, as scikit-learn's ``confusion_matrix(y, ŷ, labels=classes_)``."""
    lazy = {name: (_accuracy(estimator, X_rows, y), _confusion(estimator, X_rows, y))
            for name, (X_rows, y) in sets.items()}
    done = dask.compute(*lazy.values())
    return {name: {"accuracy": float(accuracy), "confusion": confusion}
            for name, (accuracy, confusion) in zip(lazy, done)}


def _labels(y, X_rows):
    """y as a dask array chunked as X_rows' rows."""
    y = y if isinstance(y, da.Array) else da.asarray(np.asarray(y))
    return y.reshape(-1).rechunk((X_rows.chunks[0],))


def _accuracy(estimator, X_rows, y):
    Z, y = decision(estimator, X_rows), _labels(y, X_rows)
    if Z.shape[0] == 1:
        # Ŷ = 1 where z = wᵀx + b > 0, as the estimator's predict; Y = 1 for classes_[1]
        Y_prediction = (Z > 0).astype(X_rows.dtype)
        Y = (y == estimator.classes_[1]).astype(X_rows.dtype).reshape(1, -1)
        return neuron.accuracy(Y_prediction, Y)
    wrong = labels_at(estimator.classes_, predicted_positions(Z)) != y
    return 100 - da.mean(wrong.astype(np.float64)) * 100  # 100 − mean(ŷ ≠ y)·100


def _confusion(estimator, X_rows, y):
    """The confusion matrix, lazily: each chunk's counts (scikit-learn's), summed."""
    classes = np.asarray(estimator.classes_)
    predicted, y = predict(estimator, X_rows), _labels(y, X_rows)
    K = len(classes)
    counts = da.map_blocks(_chunk_confusion, y, predicted, classes=classes, dtype=np.int64,
                           new_axis=[1, 2], chunks=((1,) * len(y.chunks[0]), (K,), (K,)))
    return counts.sum(axis=0)


def _chunk_confusion(y, predicted, classes):
    from sklearn.metrics import confusion_matrix

    if not len(y):
        return np.zeros((1, len(classes), len(classes)), dtype=np.int64)
    return confusion_matrix(y, predicted, labels=classes)[np.newaxis].astype(np.int64)


# --- the cluster ------------------------------------------------------------------------


@contextlib.contextmanager
def cluster(scheduler=None, workers=2, worker_memory="1GiB", processes=True,
            threads_per_worker=None, timeout=None):
    """A dask.distributed ``Client``, the scheduler of dask.compute inside the ``with`` block.

    ``scheduler``: an existing cluster's address (e.g. tcp://10.0.0.5:8786). Without it a
    LocalCluster is started for the block: ``workers`` processes on loopback (threads with
    ``processes=False``), each held to ``worker_memory`` (e.g. "1GiB") and sharing the cores;
    no dashboard. Unreachable or malformed addresses raise ``ClusterError``, before any wait
    longer than ``timeout`` (default ``CONNECT_TIMEOUT``); sizes the machine cannot hold are
    refused (``check_local_cluster``) before anything starts.
    """
    with _quiet_distributed():
        if scheduler is not None:
            client = _connect(scheduler, timeout or CONNECT_TIMEOUT)
            with client, client.as_current():
                yield client
            return
        workers, limit = check_local_cluster(workers, worker_memory)
        yield from _local_cluster(workers, limit, processes, threads_per_worker)


def _local_cluster(workers, limit, processes, threads_per_worker):
    from distributed import Client, LocalCluster

    threads = threads_per_worker or max(1, _usable_cpus() // workers)
    try:
        network = {"host": "127.0.0.1"} if processes else {}  # threads talk in-process
        # no dashboard, and its HTTP server (always started) on a free port: a port 8787 in
        # use elsewhere gives no "Port 8787 is already in use" warning
        local = LocalCluster(n_workers=workers, threads_per_worker=threads,
                             memory_limit=limit, processes=processes,
                             dashboard_address=None,
                             scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, **network)
    except (OSError, RuntimeError) as error:
        raise ClusterError(f"cannot start a local Dask cluster of {workers} workers "
                           f"({error}).") from None
    with local, Client(local, set_as_default=False) as client, client.as_current():
        yield client


MIN_WORKER_MEMORY = 128 * 2**20  # a worker process alone takes about 100 MiB
WORKERS_PER_CPU = 4  # the most local workers per usable CPU


def _usable_cpus():
    """The CPUs this process may run on (its affinity), not every CPU of the machine."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def check_local_cluster(workers, worker_memory):
    """(workers, memory limit in bytes) of a local cluster, refused before anything starts
    when the machine cannot hold it: more than ``WORKERS_PER_CPU`` workers per usable CPU, a
    worker memory that is not a size, below ``MIN_WORKER_MEMORY`` or above the machine's
    memory, or workers × worker memory above the machine's memory."""
    import psutil
    from dask.utils import parse_bytes

    workers = _whole(workers, "workers")
    expected = (f"expected a size such as 1GiB or 512MiB, from "
                f"{format_bytes(MIN_WORKER_MEMORY)} (a worker alone takes about 100 MiB)")
    try:
        limit = int(parse_bytes(worker_memory) if isinstance(worker_memory, str)
                    else worker_memory)
    except (ValueError, TypeError, OverflowError):
        raise InvalidInputError(f"worker memory {worker_memory!r:.80}; {expected}.") from None
    total = psutil.virtual_memory().total
    if not MIN_WORKER_MEMORY <= limit <= total:
        raise InvalidInputError(f"worker memory {worker_memory!r:.80} is "
                                f"{format_bytes(max(limit, 0))}; {expected} up to this "
                                f"machine's memory, {format_bytes(total)}.")
    cpus = _usable_cpus()
    if workers > WORKERS_PER_CPU * cpus:
        raise InvalidInputError(f"{workers} workers: this process may use {cpus} CPUs; "
                                f"expected at most {WORKERS_PER_CPU * cpus} local workers "
                                f"({WORKERS_PER_CPU} per CPU), such as {min(cpus, 2)}.")
    if workers * limit > total:
        raise InvalidInputError(
            f"{workers} workers × worker memory {format_bytes(limit)} is "
            f"{format_bytes(workers * limit)}, more than this machine's memory "
            f"({format_bytes(total)}); choose fewer workers or less memory each.")
    return workers, limit


SCHEDULER_SCHEMES = ("tcp", "tls")  # the addresses a scheduler in another process listens on


def _connect(scheduler, timeout):
    """A Client of the running scheduler at ``scheduler``, or a ClusterError at once: the
    address is parsed first, then a plain TCP connection is tried (a closed port answers at
    once); only then does distributed connect, within ``timeout``."""
    import socket

    from dask.utils import parse_timedelta
    from distributed import Client
    from distributed.comm import parse_address, parse_host_port

    def refuse(why):
        return ClusterError(f"cannot reach the Dask scheduler at {scheduler!r:.100} ({why}); "
                            f"expected the address of a running scheduler, such as "
                            f"tcp://127.0.0.1:8786.")

    try:
        scheme, location = parse_address(str(scheduler))
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as error:
        raise refuse(" ".join(str(error).split()) or "not an address") from None
    if scheme not in SCHEDULER_SCHEMES or not host or not 0 < port < 2**16:
        raise refuse(f"expected {' or '.join(f'{s}://HOST:PORT' for s in SCHEDULER_SCHEMES)}, "
                     f"PORT from 1 to 65535")
    seconds = parse_timedelta(timeout)
    try:
        socket.create_connection((host, port), timeout=seconds).close()
    except (OSError, OverflowError) as error:  # refused, unreachable, timed out, bad port
        raise refuse(" ".join(str(error).split()) or type(error).__name__) from None
    client = Client.__new__(Client)
    try:
        client.__init__(str(scheduler), timeout=seconds, set_as_default=False)
    except Exception as error:  # noqa: BLE001 (timeouts, and a server that is no scheduler:
        _abandon(client)        # distributed reads its reply as a message, any error may come)
        raise refuse(" ".join(str(error).split()) or type(error).__name__) from None
    return client


def _abandon(client):
    """A Client whose constructor failed: stop its event loop and mark it closed, so that its
    ``__del__`` does not wait 20 s to close it and print "Exception ignored"."""
    with contextlib.suppress(Exception):
        client._loop_runner.stop()
    with contextlib.suppress(Exception):
        client.status = "closed"


@contextlib.contextmanager
def _quiet_distributed():
    """distributed's informational logs stay out of the command's output."""
    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.worker",
                                                     "distributed.scheduler",
                                                     "distributed.nanny")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _client():
    try:
        from distributed import default_client
        return default_client()
    except (ImportError, ValueError):
        return None


def workers_of(client):
    """{address: the scheduler's record of that worker}, every worker."""
    try:
        info = client.scheduler_info(n_workers=-1)  # recent versions list only a few by default
    except TypeError:
        info = client.scheduler_info()
    return info["workers"]


def cluster_memory():
    """The workers' total memory limit in bytes, or None without a dask.distributed client.

    A worker without a limit counts as the machine's memory.
    """
    client = _client()
    if client is None:
        return None
    import psutil

    workers = workers_of(client).values()
    return sum(w.get("memory_limit") or psutil.virtual_memory().total for w in workers) or None


def describe(client):
    """One line: the cluster's workers, their memory limit, the scheduler's address."""
    workers = workers_of(client).values()
    limits = sorted({w.get("memory_limit") or 0 for w in workers})
    each = " × " + "/".join(format_bytes(limit) for limit in limits) if any(limits) else ""
    return f"{len(workers)} workers{each} at {client.scheduler.address}"


def format_bytes(n):
    """A number of bytes as Dask writes it ("1.50 GiB")."""
    from dask.utils import format_bytes as dask_format

    return dask_format(int(n))


def workers_peak_memory(client=None):
    """{worker address: peak resident memory in bytes}: each worker process's high-water mark
    since it started (Linux's VmHWM; elsewhere its resident memory now).

    The probe is sent by value and imports nothing of logreg, so that measuring does not
    itself raise the peak.
    """
    def peak():
        try:
            with open("/proc/self/status") as status:
                line = next(line for line in status if line.startswith("VmHWM:"))
            return int(line.split()[1]) * 1024  # kB
        except (OSError, StopIteration):
            import psutil
            return psutil.Process().memory_info().rss

    return (client or _client()).run(peak)
