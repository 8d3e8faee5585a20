"""The boundary: what a user hands in becomes clean arrays in the notes' layout, or a clear error.

Notes' layout ("Binary Classification"): X is (n_x, m), one column per example, Y is (1, m) with
labels 0 and 1. Every check runs once, before training starts, never inside the hot loop.
Each message says what was received, what was expected and how to fix it.
"""

import os
import stat
from pathlib import Path

import numpy as np

from logreg.errors import DataFileError, InvalidInputError, InvalidTypeError

LAYOUT = "(n_x, m): one column per example, as in the notes"


def _describe(values, limit=5):
    """A short, readable list of some values, for messages."""
    values = list(values)
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def as_numeric_array(X, name="X"):
    """X as a NumPy array of real numbers (bool and int become float64; float32 stays float32).

    Refuses strings and complex numbers (``InvalidInputError``, a ValueError, as ``float("a")``
    raises one) and other objects (``InvalidTypeError``).
    """
    try:
        array = np.asarray(X)
    except (ValueError, TypeError) as error:
        raise InvalidInputError(
            f"{name} could not be read as one array of numbers ({error}); expected a "
            f"rectangular array of numbers: check that every row has the same length.") from None
    kind = array.dtype.kind
    if kind in "fiub":
        return array if kind == "f" else array.astype(np.float64)
    if kind == "c":
        raise InvalidInputError(
            f"{name} holds complex numbers (dtype {array.dtype}); logistic regression needs "
            f"real features. Pass {name}.real, or abs({name}), whichever your data means.")
    if kind in "USO":
        flat = array.ravel()
        text = [v for v in flat[:1000] if isinstance(v, (str, bytes))] if kind == "O" else flat
        if len(text):
            raise InvalidInputError(
                f"{name} holds values that are not numbers ({_describe(text)}): text; expected "
                f"numbers only. Encode categories as numbers and drop text columns first.")
        try:
            return array.astype(np.float64)
        except (ValueError, TypeError):
            sample = [v for v in flat[:1000] if not _is_number(v)]
            raise InvalidTypeError(
                f"{name} holds values that are not numbers ({_describe(sample)}); expected "
                f"numbers only.") from None
    raise InvalidTypeError(
        f"{name} has dtype {array.dtype}; expected real numbers (float or int).")


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, complex)


def check_finite(X, name="X"):
    """Refuse NaN and ±Inf, saying where the first one is."""
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        value = X[tuple(bad)]
        raise InvalidInputError(
            f"{name} contains {value} at index {tuple(int(i) for i in bad)} (and maybe more); "
            f"expected finite numbers only. Remove or impute missing values (NaN) and "
            f"infinities before training.")
    return X


def check_features(X, n_x=None, name="X"):
    """X as a clean (n_x, m) float array: 2-D, non-empty, numeric, finite, n_x rows if given."""
    X = as_numeric_array(X, name)
    if X.ndim != 2:
        fix = (f"for one feature use {name}.reshape(1, -1); for one example use "
               f"{name}.reshape(-1, 1)") if X.ndim == 1 else (
               f"for a stack of images (m, h, w, c) use logreg.data.flatten_images({name})")
        kind = "a rank-1 array" if X.ndim == 1 else f"a {X.ndim}-D array"
        raise InvalidInputError(
            f"{name} has shape {X.shape}: {kind}; expected a 2-D array of shape {LAYOUT}. "
            f"Fix: {fix}.")
    n_rows, m = X.shape
    if n_rows == 0 or m == 0:
        raise InvalidInputError(
            f"{name} has shape {X.shape}: it is empty; expected at least one feature and one "
            f"example in shape {LAYOUT}.")
    if n_x is not None and n_rows != n_x:
        raise InvalidInputError(
            f"{name} has {n_rows} features (rows) but the model expects {n_x}; expected shape "
            f"({n_x}, m). Fix: pass data with the same features as the training data, "
            f"one column per example (transpose with {name}.T if rows are examples).")
    return check_finite(X, name)


def check_labels(Y, m, name="Y"):
    """Y as a (1, m) array of 0/1 labels; a rank-1 label vector is reshaped to (1, m)."""
    Y = as_numeric_array(Y, name)
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)  # a label vector is unambiguous: it becomes the notes' (1, m) row
    if Y.ndim != 2 or Y.shape[0] != 1:
        fix = f" Fix: {name}.T" if Y.ndim == 2 and Y.shape[1] == 1 else ""
        raise InvalidInputError(
            f"{name} has shape {Y.shape}; expected (1, m): one row of labels, one per "
            f"example.{fix}")
    if Y.shape[1] != m:
        raise InvalidInputError(
            f"{name} has {Y.shape[1]} labels but X has {m} examples (columns); expected one "
            f"label per example. Check that X is {LAYOUT} and that X and {name} come from the "
            f"same data.")
    check_finite(Y, name)
    values = np.unique(Y)
    if not np.isin(values, (0, 1)).all():
        raise InvalidInputError(
            f"{name} holds the labels {_describe(values)}; expected 0 and 1. Map your two "
            f"classes to 0 and 1 first (logreg.data.encode_labels does it).")
    return Y


def require_both_classes(Y, name="Y"):
    """Refuse training labels that hold one class only."""
    values = np.unique(Y)
    if values.size < 2:
        raise InvalidInputError(
            f"{name} holds one class only ({_describe(values)}); expected both 0 and 1 "
            f"among the training labels. A classifier needs examples of each class.")
    return Y


def check_training_data(X, Y, allow_one_class=False):
    """(X, Y) for training: X (n_x, m) finite floats, Y (1, m) of 0/1 in X's dtype."""
    X = check_features(X)
    Y = check_labels(Y, X.shape[1])
    if not allow_one_class:
        require_both_classes(Y)
    return X, Y.astype(X.dtype, copy=False)


def check_test_data(X, Y, n_x):
    """(X, Y) for evaluation: like training data, with n_x features; one class is allowed."""
    X = check_features(X, n_x)
    return X, check_labels(Y, X.shape[1]).astype(X.dtype, copy=False)


def label_vector(labels):
    """``labels`` as one label per example, shape (m,), from (m,), (1, m) or (m, 1); at least
    one, or a clear error."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and 1 in labels.shape:
        labels = labels.ravel()
    if labels.ndim != 1:
        raise InvalidInputError(
            f"labels have shape {labels.shape}; expected one label per example, shape (m,) or "
            f"(1, m).")
    if labels.size == 0:
        raise InvalidInputError("there are no labels (0 examples); expected at least one.")
    return labels


def encode_labels(labels, classes=None):
    """Any two labels (strings, ints, bools) → Y of 0/1 of shape (1, m), and the classes.

    ``classes`` sorted as ``np.unique`` sorts them: classes[0] becomes 0, classes[1] becomes 1.
    Given ``classes`` (a model's), labels outside them are refused.
    """
    labels = label_vector(labels)
    found = np.unique(labels)
    if classes is None:
        if found.size != 2:
            count = "one class only" if found.size == 1 else f"{found.size} classes"
            raise InvalidInputError(
                f"the labels hold {count} ({_describe(found)}); expected exactly two classes "
                f"for binary classification. Keep two of them, or relabel as one against "
                f"the rest.")
        classes = found
    classes = np.asarray(classes)
    unknown = found[~np.isin(found, classes)]
    if unknown.size:
        raise InvalidInputError(
            f"the labels hold {_describe(unknown)}, which the model does not know; expected "
            f"only {_describe(classes)}.")
    Y = (labels == classes[1]).astype(np.float64).reshape(1, -1)
    return Y, classes


# --- sizes that must fit before any work starts ----------------------------------------------


def format_bytes(n):
    """A byte count for people: ``format_bytes(3 * 2**30)`` is '3.0 GiB'."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def available_memory():
    """Bytes of memory a new allocation can use now (psutil's "available"; Linux's
    MemAvailable without it), or None where the system does not say."""
    try:
        import psutil
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().available)
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(nbytes, what, fix):
    """Refuse, before allocating, ``what`` that needs ``nbytes`` when less memory is free."""
    available = available_memory()
    if available is not None and nbytes > available:
        raise InvalidInputError(
            f"{what} would need {format_bytes(nbytes)} of memory, but {format_bytes(available)} "
            f"is available. Fix: {fix}.")
    return nbytes


def check_input_file(path, what):
    """``path`` as a Path to a regular file, or a DataFileError that says what it is instead:
    missing, a folder, a FIFO or a device (reading one would wait forever or never end), or a
    name the system refuses. ``what`` names the file expected ("a CSV file")."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataFileError(f"{path} does not exist; expected {what}.") from None
    except (OSError, ValueError) as error:  # a name too long, a loop of links, a NUL byte
        reason = getattr(error, "strerror", None) or error
        raise DataFileError(f"{path}: {reason}; expected {what}.") from None
    if stat.S_ISDIR(mode):
        raise DataFileError(f"{path} is a folder; expected {what}.")
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"
        raise DataFileError(f"{path} is {kind}, not a regular file; expected {what}. Save the "
                            f"data to a file first.")
    return Path(path)


def classes_of_labels(y):
    """The classes of the labels y (NumPy, 1-D), sorted: two or more, or the error that says
    what y holds."""
    from sklearn.utils.multiclass import type_of_target

    _refuse_unusable_labels(y)
    try:
        # it casts floats to int to see whether they are whole: ±1e308 overflows, harmlessly
        with np.errstate(over="ignore", invalid="ignore"):
            kind = type_of_target(y, input_name="y") if _plain_labels(y) else "unknown"
    except (TypeError, ValueError, OverflowError) as error:
        raise InvalidInputError(f"y could not be read as class labels ({error}); expected one "
                                f"label per example, all integers, all strings or all "
                                f"booleans.") from None
    if kind.startswith("continuous") and _whole_floats(y):
        kind = "binary" if np.unique(y).size <= 2 else "multiclass"
    if kind not in ("binary", "multiclass"):
        shown = ", ".join(map(repr, np.asarray(y, dtype=object).ravel()[:3].tolist()))
        fix = ("They are real numbers, not classes: round or threshold them first (e.g. "
               "y > 0.5)." if kind.startswith("continuous") else
               "Give one class label per example, all integers, all strings or all booleans "
               "(no None, no mixture).")
        raise InvalidInputError(f"Unknown label type: {kind}. y holds {shown}, ...; expected "
                                f"class labels (two or more classes). {fix}")
    classes = np.unique(y)
    if classes.size < 2:
        raise InvalidInputError(
            f"y holds one class only ({', '.join(map(str, classes[:5]))}); expected at least "
            f"two classes to tell apart. Add examples of another class.")
    return classes


def _refuse_unusable_labels(y):
    """Bytes (scikit-learn refuses them) and integers beyond 64 bits (no NumPy integer holds
    them) as labels: the error says how to make them usable."""
    values = np.asarray(y, dtype=object).ravel() if y.dtype.kind == "O" else None
    if y.dtype.kind == "S" or (values is not None and any(isinstance(v, bytes)
                                                          for v in values)):
        shown = ", ".join(map(repr, np.unique(np.asarray(y).astype(object))[:3].tolist()))
        raise InvalidTypeError(
            f"y holds bytes ({shown}); expected class labels as strings or integers. Decode "
            f"them first: y.astype(str), or [label.decode() for label in y].")
    if values is not None:
        huge = [v for v in values if isinstance(v, int) and not isinstance(v, bool)
                and not -2 ** 63 <= v < 2 ** 63]
        if huge:
            raise InvalidInputError(
                f"y holds the integer {huge[0]}, beyond 64 bits; expected class labels that "
                f"fit in int64 (or strings). Map the classes to small integers, or to strings "
                f"with y.astype(str).")


def _whole_floats(y):
    """Finite floats that are all whole numbers (±1e308 is, though no int64 holds it)."""
    if y.dtype.kind != "f" or y.ndim != 1:
        return False
    return bool(np.isfinite(y).all() and (np.floor(y) == y).all())


def _plain_labels(y):
    """Numbers, or object labels all of one plain kind (all strings, or all integers)."""
    if y.dtype.kind != "O":
        return True
    kinds = {type(v) for v in y.ravel()}
    return kinds <= {str} or kinds <= {int, bool, np.int64, np.bool_}


def check_sample_weight(sample_weight, m):
    """Sample weights as a (1, m) float64 row (a single number weighs every example alike), or
    the error: one finite weight ≥ 0 per example, with a positive sum."""
    from sklearn.utils import check_array

    try:
        s = check_array(sample_weight, ensure_2d=False, dtype=np.float64,
                        input_name="sample_weight", ensure_min_samples=0)
    except (TypeError, ValueError) as error:
        message = " ".join(str(error).split())
        raise InvalidInputError(f"{message} Give one finite weight ≥ 0 per example.") from None
    if s.ndim == 0:
        s = np.full(m, float(s))
    with np.errstate(over="ignore"):  # a sum that overflows is reported below
        total = s.sum() if s.shape == (m,) else 0.0
    problem = (f"has shape {s.shape}" if s.shape != (m,) else
               "holds negative weights" if (s < 0).any() else
               "is zero for every example (all weights are zero)" if not total > 0 else
               "sums to infinity" if not np.isfinite(total) else None)
    if problem:
        raise InvalidInputError(f"sample_weight {problem}; expected one finite weight ≥ 0 per "
                                f"example (shape ({m},)) with a positive sum.")
    return s.reshape(1, -1)
