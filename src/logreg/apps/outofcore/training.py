"""Training on dask arrays: standardisation in one pass over the chunks, and ``fit`` through
the estimator (the engine table's "dask" row), with the data persisted in the workers'
memory where they fit."""

import dask
import dask.array as da
import numpy as np

from logreg.apps.outofcore.clusters import cluster_memory
from logreg.core.arrays import check_foreign_X, class_labels
from logreg.core.checks import classes_of_labels
from logreg.data.scaling import Scaling
from logreg.engines import Data
from logreg.errors import InvalidInputError
from logreg.model.estimator import LogisticRegression
from logreg.model.parameters import check_params
from logreg.solvers import SOLVERS

PERSIST_SHARE = 0.5  # persist the data when they take at most this share of the workers' memory


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
    check_params(estimator)
    estimator.plan(Data("dask", estimator.dtype or dtype or "float64"))
    if SOLVERS[estimator.solver].takes_learning_rate and estimator.learning_rate == "auto":
        raise InvalidInputError(
            "learning_rate='auto' is not available on the dask engine (its power iteration "
            "would re-read the data about 100 times); give a number, such as 0.1 for "
            "standardised features.")


def notes_layout(X_rows, y, dtype=None):
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
