"""What ``LogisticRegression`` is handed, checked and turned into the notes' layout: X (rows
of examples, scikit-learn's validation with logreg's fixes added), y as targets Y, sample and
class weights as a (1, m) row, the labels ``score`` is given, and early stopping's held-out
split.

scikit-learn hands in X of shape (m, n_x), one row per example; the notes' neuron wants
(n_x, m), which the estimator takes as ``X.T`` (a view, never a copy).
"""

import math
import re

import numpy as np
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.utils.validation import check_is_fitted, validate_data

from logreg import engines
from logreg.core import arrays
from logreg.core.checks import check_sample_weight
from logreg.errors import InvalidInputError, InvalidTypeError, NotFittedError
from logreg.solvers.record import Validation

LAYOUT = "one row per example and one column per feature, shape (m, n_features)"
FIXES = [  # (a fragment of scikit-learn's message, the fix logreg adds)
    ("NaN", "Remove or impute missing values first (e.g. sklearn.impute.SimpleImputer)."),
    ("infinity", "Replace infinite values with finite numbers first."),
    ("Complex", "Pass the real part (X.real) or the magnitude (abs(X))."),
    ("argument must be", "X must hold numbers only: convert or drop other objects first."),
    ("string", "Encode text as numbers first (e.g. sklearn.preprocessing.OneHotEncoder)."),
    ("Expected 2D array, got 1D", f"X needs {LAYOUT}."),
    ("dim", f"Flatten each example into one row first: X.reshape(len(X), -1), giving {LAYOUT}."),
    ("inconsistent numbers of samples", "Give one label per row of X."),
    ("0 sample", "Pass at least one example."),
    ("0 feature", "Pass at least one feature."),
    ("features, but", "Pass the same features, in the same order, as at fit."),
    ("feature names", "Pass the same feature names, in the same order, as at fit."),
]


def _with_fix(error):
    """scikit-learn's message on one line, without its dump of the array, plus the fix."""
    message = re.sub(r"array=\[.*?\]\s*", "", str(error), flags=re.S)
    message = re.sub(r"(contains NaN\.).*", r"\1", message, flags=re.S)  # drop the ads
    message = " ".join(message.split()).replace(": .", ".")
    fix = next((fix for fragment, fix in FIXES if fragment in message), f"X needs {LAYOUT}.")
    return f"{message} {fix}"


def validated(estimator, X, y="no_validation", reset=True):
    """scikit-learn's own validation, its errors re-raised as logreg's with the fix added."""
    dtypes = {None: [np.float64, np.float32], "float32": np.float32, "float64": np.float64}
    dtype = dtypes.get(getattr(estimator, "dtype", None), [np.float64, np.float32])
    X = _refuse_text_and_dates(X)
    try:
        # its finiteness check sums X: finite values near 1.7e308 overflow there, harmlessly
        with np.errstate(over="ignore", invalid="ignore"):
            return validate_data(estimator, X, y, reset=reset, dtype=dtype,
                                 order="C",  # one memory layout: the same sums, bit for bit
                                 accept_sparse="csr",  # rows of examples; CSC, COO converted
                                 ensure_min_samples=1)
    except TypeError as error:
        raise InvalidTypeError(_with_fix(error)) from None
    except ValueError as error:
        raise InvalidInputError(_with_fix(error)) from None


TEXT_KINDS, DATE_KINDS = "USV", "Mm"  # dtype kinds scikit-learn would turn into numbers


def _refuse_text_and_dates(X):
    """Refuse, before scikit-learn converts them, strings ('0.5' would silently become 0.5),
    bytes, dates and durations in X; returns X (a list becomes the array it reads as)."""
    if engines.is_sparse(X):
        if X.dtype.kind in TEXT_KINDS + DATE_KINDS + "O":
            raise InvalidTypeError(f"X is a sparse matrix of {X.dtype}; expected numbers. "
                                   f"Convert it with X.astype(float).")
        return X
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # a DataFrame: its columns' kinds
        columns = [(name, dtype.kind, X.iloc[:, i])
                   for i, (name, dtype) in enumerate(X.dtypes.items())]
    else:
        if not hasattr(X, "dtype"):
            try:
                X = np.asarray(X)
            except (TypeError, ValueError):
                return X  # ragged or odd: scikit-learn's own error says what it is
        columns = [("", getattr(X.dtype, "kind", "f"), X)]
    for name, kind, values in columns:
        where = f" (column {name!r})" if name != "" else ""
        if kind in DATE_KINDS or (kind == "O" and _holds(values, (np.datetime64,
                                                                   np.timedelta64))):
            raise InvalidTypeError(
                f"X holds dates or durations{where}; expected numbers only. Encode them as "
                f"numbers first (e.g. days since a start date, or the day of the week).")
        if kind in TEXT_KINDS or (kind == "O" and _holds(values, (str, bytes))):
            # a ValueError, as float("0.5x") raises and scikit-learn's own refusal of text
            raise InvalidInputError(
                f"X holds strings{where}, such as {_first(values)!r}; expected numbers only, "
                f"never text. Encode them as numbers first (X.astype(float) for numbers "
                f"written as text, sklearn.preprocessing.OneHotEncoder for categories).")
    return X


def _holds(values, types):
    """Whether an object array or column holds any value of ``types`` (dates from pandas
    too)."""
    import datetime

    if types[0] is np.datetime64:
        types = types + (datetime.date, datetime.time, datetime.timedelta)
    return any(isinstance(value, types) for value in np.asarray(values, dtype=object).ravel())


def _first(values):
    """The first value of ``values``, bytes decoded, for a message."""
    value = np.asarray(values, dtype=object).ravel()[0]
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def check_same_namespace(X, estimator, method):
    """With scikit-learn's array_api_dispatch on: X in the namespace and on the device of
    fit's arrays (as scikit-learn's own estimators require)."""
    from sklearn import get_config

    if not get_config()["array_api_dispatch"] or not arrays.is_array_api_obj(X):
        return
    fitted = estimator.coef_
    if arrays.foreign(X) == arrays.foreign(fitted) and (
            not arrays.foreign(X) or (arrays.array_namespace(X) == arrays.array_namespace(
                fitted) and arrays.device(X) == arrays.device(fitted))):
        return
    raise InvalidInputError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the same namespace "
        f"and the same device as those passed to fit(). fit used "
        f"{arrays.array_namespace(fitted).__name__}, {method} got "
        f"{arrays.array_namespace(X).__name__}. Convert X to fit's library and device.")


def check_fitted(estimator):
    """scikit-learn's check that ``estimator`` is fitted, its error as logreg's with the fix."""
    try:
        check_is_fitted(estimator)
    except SkNotFittedError as error:
        raise NotFittedError(f"{error} Call fit(X, y) first, or logreg.load(path).") from None


def sample_weights(sample_weight, X, class_weight=None, y=None, classes=None):
    """Sample weights as a (1, m) row in X's library and dtype, or None (``checks``); with
    ``class_weight`` each example's weight is multiplied by its class's, as scikit-learn does
    (``"balanced"``: m / (K · count of the class), counts weighted by ``sample_weight``)."""
    if sample_weight is None and class_weight is None:
        return None
    s = (None if sample_weight is None
         else check_sample_weight(arrays.to_numpy(sample_weight), X.shape[0]))
    if class_weight is not None:
        s = _with_class_weight(s, class_weight, arrays.to_numpy(y), classes)
    return arrays.as_like(s, X) if arrays.foreign(X) else s.astype(X.dtype)


def _with_class_weight(s, class_weight, y, classes):
    """(1, m) weights: s (or ones) times the weight of each example's class."""
    from sklearn.utils.class_weight import compute_class_weight

    try:
        weights = compute_class_weight(class_weight, classes=classes, y=y,
                                       sample_weight=None if s is None else s.ravel())
    except (ValueError, TypeError) as error:
        raise InvalidInputError(
            f"class_weight={class_weight!r} does not fit the classes "
            f"{', '.join(map(repr, classes.tolist()))} ({' '.join(str(error).split())}). Give "
            f"'balanced', or a dict from class label to a weight ≥ 0.") from None
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise InvalidInputError(f"class_weight={class_weight!r} holds a weight that is "
                                f"negative or not finite; expected finite weights ≥ 0.")
    # each example weighs s · class_weight[its class]
    per_example = weights[np.searchsorted(classes, y)].reshape(1, -1)
    s = per_example if s is None else s * per_example
    if not s.sum() > 0:
        raise InvalidInputError(f"class_weight={class_weight!r} gives every example weight "
                                f"zero; expected a positive weight for some class present.")
    return s


def targets(y, classes, dtype):
    """Y in the notes' layout: (1, m) of 0/1 for two classes (y = 1 for ``classes[1]``), the
    one-hot (K, m) for K ≥ 3 (row k is 1 where y is ``classes[k]``)."""
    if len(classes) == 2:
        return (y == classes[1]).reshape(1, -1).astype(dtype)
    return (np.asarray(classes).reshape(-1, 1) == y.reshape(1, -1)).astype(dtype)


def outputs(classes):
    """How many neurons: one (the notes' σ) for two classes, K (softmax) for K ≥ 3."""
    return 1 if len(classes) == 2 else len(classes)


def take(array, index, axis):
    """The examples ``index`` (a sorted NumPy array) of ``array`` along ``axis``, in its own
    library: NumPy, SciPy sparse and Dask by indexing, other array libraries by ``take``."""
    if arrays.foreign(array) and not arrays.is_dask_array(array):
        xp = arrays.array_namespace(array)
        return xp.take(array, xp.asarray(index, device=arrays.device(array)), axis=axis)
    return array[index] if axis == 0 else array[:, index]


def labels_of_the_model(y, classes, m):
    """y (NumPy, 1-D) of m labels, each one of ``classes``, or the error that says which are
    not."""
    try:
        labels = arrays.to_numpy(y)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"y could not be read as labels ({error}); expected one label "
                                f"per row of X.") from None
    if labels.ndim == 2 and 1 in labels.shape:
        labels = labels.ravel()
    if labels.ndim != 1 or len(labels) != m:
        raise InvalidInputError(
            f"y has {labels.size} labels (shape {labels.shape}) but X has {m} rows; expected "
            f"one label per row of X.")
    known = set(classes.tolist())
    unknown = [label for label in dict.fromkeys(labels.tolist()) if not _among(label, known)]
    if unknown:
        shown = ", ".join(map(repr, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        raise InvalidInputError(
            f"y holds {shown}, which the model does not know; expected only its classes "
            f"{', '.join(map(repr, classes.tolist()))}. Pass labels of the same kind as at fit.")
    return labels


def _among(label, known):
    """Whether ``label`` is one of ``known``; an unhashable label never is."""
    try:
        return label in known
    except TypeError:  # an unhashable label
        return False


def held_out(X, y, Y, sample_weight, validation_fraction, random_state):
    """Early stopping's split, stratified by class (scikit-learn's ``train_test_split``
    on the example indices, ``random_state``): the training part (X, y, Y, weights) and
    the held-out part as a ``fit.Validation`` in the notes' layout."""
    from sklearn.model_selection import train_test_split

    host_Y = arrays.to_numpy(Y)
    labels = host_Y[0] if host_Y.shape[0] == 1 else np.argmax(host_Y, axis=0)
    m, K = len(labels), len(np.unique(labels))
    # at least one example of each class held out (scikit-learn's split needs as many)
    n_held = max(math.ceil(validation_fraction * m), K)
    try:
        train, held = train_test_split(np.arange(m), test_size=n_held,
                                       random_state=random_state, stratify=labels)
    except ValueError as error:
        raise InvalidInputError(
            f"early_stopping cannot hold out validation_fraction={validation_fraction:g}"
            f" of {m} examples with every class on both sides "
            f"({' '.join(str(error).split())}). Give more examples per class, raise "
            f"validation_fraction, or set early_stopping=False.") from None
    train, held = np.sort(train), np.sort(held)
    s_train = None if sample_weight is None else take(sample_weight, train, 1)
    s_held = None if sample_weight is None else take(sample_weight, held, 1)
    y_train = take(y if hasattr(y, "shape") else np.asarray(y), train, 0)
    validation = Validation(take(X, held, 0).T, take(Y, held, 1), s_held)
    return take(X, train, 0), y_train, take(Y, train, 1), s_train, validation


def coef_and_intercept(w, b):
    """scikit-learn's ``coef_`` = wᵀ (K', n_x) and ``intercept_`` = b (K',), from the notes'
    w (n_x, K') and b (a number, (K', 1) or (K',)), in w's library."""
    if arrays.foreign(w):
        xp = arrays.array_namespace(w)
        return (xp.reshape(w.T, (w.shape[1], -1)),
                xp.reshape(xp.asarray(b, dtype=w.dtype, device=arrays.device(w)), (-1,)))
    w = np.asarray(w)
    coef = w.T.reshape(w.shape[1], -1).copy()
    return coef, np.asarray(b, dtype=coef.dtype).reshape(-1)
