"""The playground's features: the two raw coordinates, crossed or transformed.

x1, x2 (the coordinates), x1sq = x1², x2sq = x2², x1x2 = x1·x2, sin1 = sin(x1),
sin2 = sin(x2). With x1sq and x2sq a single neuron separates the circles (z = w₁x₁² + w₂x₂² + b
is a circle's equation); without them it cannot.
"""

import numpy as np

from logreg.errors import InvalidInputError

FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sin1", "sin2")

_FORMULAS = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1sq": lambda x1, x2: x1 * x1,
    "x2sq": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sin1": lambda x1, x2: np.sin(x1),
    "sin2": lambda x1, x2: np.sin(x2),
}


def check_features(names):
    """The chosen feature names in the playground's fixed order, or a one-line error.

    Parameters
    ----------
    names : sequence of str
        Names out of ``FEATURES``, in any order, each at most once.

    Returns
    -------
    list of str
        The same names, in the order of ``FEATURES``.
    """
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise InvalidInputError(f"features must be a list of names such as [\"x1\", \"x2\"], "
                                f"got {names!r:.60}; choose among {', '.join(FEATURES)}.")
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise InvalidInputError(f"unknown feature {unknown[0]!r:.40}; choose among "
                                f"{', '.join(FEATURES)}.")
    chosen = [name for name in FEATURES if name in names]
    if not chosen:
        raise InvalidInputError("no feature chosen; choose at least one, e.g. x1 and x2.")
    return chosen


def feature_matrix(points, names):
    """The features of each point, one row per point (the estimator's layout).

    Parameters
    ----------
    points : array_like of shape (m, 2)
        The raw coordinates x1, x2 of m points.
    names : sequence of str
        Feature names out of ``FEATURES``, in the order of the columns wanted.

    Returns
    -------
    ndarray of shape (m, len(names)), float64

    Examples
    --------
    >>> feature_matrix([[2.0, 3.0]], ["x1", "x1sq", "x1x2"]).tolist()
    [[2.0, 4.0, 6.0]]
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x1, x2 = points[:, 0], points[:, 1]
    columns = [_FORMULAS[name](x1, x2) for name in names]
    return np.ascontiguousarray(np.stack(columns, axis=1))


def standardisation(rows):
    """Mean and standard deviation of each feature (column) of the training rows.

    A constant feature gets a standard deviation of 1, so it is centred and left as it is.

    Parameters
    ----------
    rows : ndarray of shape (m, n)

    Returns
    -------
    mean, std : ndarray of shape (n,)
    """
    mean = rows.mean(axis=0)
    std = rows.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return mean, std
