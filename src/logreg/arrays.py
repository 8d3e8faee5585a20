"""Arrays from other libraries (PyTorch, CuPy, Dask, any array-API library) at the boundary.

The notes' mathematics in ``neuron`` is array-API generic: it runs on whatever library X comes
from, on X's device. This module is what the estimator needs around it for such arrays: which
library an array belongs to, checks that do not copy X to the host (only a few numbers come
back: the shape, whether everything is finite), and the labels — m numbers — brought to NumPy
once, for finding the two classes.
"""

import numpy as np
from array_api_compat import (
    array_namespace,
    device,
    is_array_api_obj,
    is_dask_array,
    is_numpy_array,
)

from logreg.errors import InvalidInputError

__all__ = ["array_namespace", "device", "foreign", "to_numpy", "check_foreign_X", "as_like",
           "is_dask_array", "materialize"]


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
    """NumPy ``values`` as an array of X's library, on X's device (and dtype, if given)."""
    xp = array_namespace(X)
    if is_dask_array(X):
        import dask.array as da

        return da.from_array(np.asarray(values, dtype=dtype or X.dtype))
    return xp.asarray(np.asarray(values), dtype=dtype or X.dtype, device=device(X))


def check_foreign_X(X, n_features=None):
    """A 2-D array of real floating numbers, all finite, with ``n_features`` columns if given.

    Integers become the library's default float. Returns X (no copy when already floating).
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
    if xp.isdtype(X.dtype, "complex floating"):
        raise InvalidInputError("Complex data not supported: pass the real part or the "
                                "magnitude.")
    if not xp.isdtype(X.dtype, "real floating"):
        X = xp.astype(X, xp.float64 if hasattr(xp, "float64") else xp.float32)
    if not bool(xp.all(xp.isfinite(X))):
        raise InvalidInputError("Input X contains NaN or infinity. Remove or impute missing "
                                "values first, and replace infinite values.")
    return X
