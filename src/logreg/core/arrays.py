"""Arrays from other libraries (PyTorch, CuPy, Dask, any array-API library) at the boundary.

The notes' mathematics in ``neuron`` is array-API generic: it runs on whatever library X comes
from, on X's device. This module is what the estimator needs around it for such arrays: which
library an array belongs to, checks that do not copy X to the host (only a few numbers come
back: the shape, whether everything is finite), and the labels — m numbers — brought to NumPy
once, for finding the classes (two, or K ≥ 3 for a softmax layer).
"""

import numpy as np
from array_api_compat import (
    array_namespace,
    device,
    is_array_api_obj,
    is_dask_array,
    is_numpy_array,
)

from logreg.errors import InvalidInputError, InvalidTypeError

__all__ = ["array_namespace", "device", "foreign", "to_numpy", "check_foreign_X", "as_like",
           "is_dask_array", "is_array_api_obj", "materialize", "class_labels", "binary_labels",
           "labels_at"]


def foreign(X):
    """True for an array of another library than NumPy (torch, cupy, dask, array-api-strict)."""
    return is_array_api_obj(X) and not is_numpy_array(X)


def materialize(*values):
    """Dask values computed together (one pass over their chunks); anything else as it is."""
    if any(is_dask_array(v) for v in values):
        import dask

        return dask.compute(*values)
    return values


def to_numpy(a):
    """A small array (labels, parameters) brought to the host as NumPy."""
    if is_numpy_array(a) or not is_array_api_obj(a):
        return np.asarray(a)
    if is_dask_array(a):
        return np.asarray(a.compute())
    if hasattr(a, "detach"):  # torch, on any device
        return a.detach().cpu().numpy()
    if hasattr(a, "get"):  # cupy
        return a.get()
    return np.from_dlpack(a)  # any other array-API library on the CPU


def as_like(values, X, dtype=None):
    """NumPy ``values`` as an array of X's library, on X's device (and dtype, if given).

    Dask: values as long as X's first axis (sample weights beside rows) are chunked as it."""
    xp = array_namespace(X)
    if is_dask_array(X):
        import dask.array as da

        values = np.asarray(values, dtype=dtype or X.dtype)
        along = values.ndim and values.shape[0] == X.shape[0]
        return da.from_array(values, chunks=(X.chunks[0], *values.shape[1:]) if along
                             else values.shape)
    return xp.asarray(np.asarray(values), dtype=dtype or X.dtype, device=device(X))


def check_foreign_X(X, n_features=None, dtype=None):
    """A 2-D array of real floating numbers, all finite, with ``n_features`` columns if given.

    ``dtype`` ("float32" or "float64") converts X on its device when it differs; without it,
    integers become the library's default float. Returns X (no copy when nothing changes).
    Dask arrays are not read for the finiteness check (a whole pass over data that may not
    fit in memory): a NaN or infinity among them makes the first cost non-finite, which
    training reports.
    """
    xp = array_namespace(X)
    if X.ndim != 2:
        raise InvalidInputError(
            f"X has shape {tuple(X.shape)}: expected a 2-D array (m, n_features), one row per "
            f"example. Reshape it, e.g. X.reshape(-1, 1) for one feature.")
    m, n = X.shape
    if m is None or n is None or m != m or n != n:  # unknown dask chunk sizes are nan
        raise InvalidInputError("X has unknown dimensions (dask chunks of unknown size); call "
                                "X.compute_chunk_sizes() first.")
    if m == 0 or n == 0:
        raise InvalidInputError(f"X has shape {tuple(X.shape)}: it is empty; expected at least "
                                f"one example and one feature.")
    if n_features is not None and n != n_features:
        raise InvalidInputError(
            f"X has {n} features, but LogisticRegression is expecting {n_features} features as "
            f"input. Pass the same features, in the same order, as at fit.")
    if getattr(X.dtype, "kind", "f") in "USOVMm":  # a dask array of text, objects or dates
        raise InvalidTypeError(
            f"X holds {X.dtype} values; expected numbers only. Encode them as numbers first "
            f"(X.astype(float) for numbers written as text).")
    if xp.isdtype(X.dtype, "complex floating"):
        raise InvalidInputError("Complex data not supported: pass the real part or the "
                                "magnitude.")
    if dtype is not None and X.dtype != getattr(xp, dtype):
        X = xp.astype(X, getattr(xp, dtype))
    elif not xp.isdtype(X.dtype, "real floating"):
        X = xp.astype(X, xp.float64 if hasattr(xp, "float64") else xp.float32)
    if not is_dask_array(X) and not bool(xp.all(xp.isfinite(X))):
        raise InvalidInputError("Input X contains NaN or infinity. Remove or impute missing "
                                "values first, and replace infinite values.")
    return X


def class_labels(y, X, describe):
    """(classes, Y): the labels' classes, sorted (``describe`` checks them, on NumPy), and Y in
    X's library, device and dtype: (1, m) of 0/1 (1 for ``classes[1]``) for two classes, the
    notes' neuron; one-hot (K, m) for K ≥ 3 classes, row k being 1 where y == classes[k].

    Dask labels stay lazy (one pass over y finds the classes; Y is built chunk by chunk,
    chunked along m as X's rows); other libraries' m labels come to the host once.
    """
    m = X.shape[0]
    if is_dask_array(X):
        import dask.array as da

        y = y if is_dask_array(y) else da.asarray(np.asarray(y))
        if y.ndim == 2 and 1 in y.shape:
            y = y.reshape(-1)
        _check_length(y.shape, m)
        y = y.rechunk((X.chunks[0],))
        classes = describe(np.unique(da.unique(y).compute()))
        return classes, _indicators(y, classes).astype(X.dtype)
    labels = to_numpy(y)
    labels = labels.ravel() if labels.ndim == 2 and 1 in labels.shape else labels
    _check_length(labels.shape, m)
    classes = describe(labels)
    return classes, as_like(_indicators(labels, classes), X)


def binary_labels(y, X, describe):
    """``class_labels`` for callers of two classes: (classes, Y (1, m) of 0/1)."""
    return class_labels(y, X, describe)


def _indicators(y, classes):
    """Y from the labels y (m,) (NumPy or Dask, lazily): (1, m), y == classes[1], for two
    classes; one-hot (K, m), row k = (y == classes[k]), for K ≥ 3."""
    if len(classes) == 2:
        # y = 1 for classes[1]
        return (y == classes[1]).reshape(1, -1)
    # Y[k, i] = 1 where y⁽ⁱ⁾ == classes[k]: one-hot, one column per example
    return y.reshape(1, -1) == np.asarray(classes).reshape(-1, 1)


def labels_at(classes, index):
    """classes[index]: the labels at class positions ``index`` (e.g. argmax of Z), in index's
    library and device where the classes are numbers (Dask: lazily), else NumPy labels."""
    classes = np.asarray(classes)
    if is_dask_array(index):
        return index.map_blocks(lambda block: classes[block], dtype=classes.dtype)
    if foreign(index) and classes.dtype.kind in "biuf":
        xp = array_namespace(index)
        return xp.take(xp.asarray(classes, device=device(index)), index, axis=0)
    return classes[to_numpy(index).astype(np.intp)]


def _check_length(shape, m):
    if tuple(shape) != (m,):
        raise InvalidInputError(f"Found input variables with inconsistent numbers of samples: "
                                f"y has shape {tuple(shape)}, X has {m} rows. Give one label "
                                f"per row of X.")
