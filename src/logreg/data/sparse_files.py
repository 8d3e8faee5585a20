"""Sparse tables, never densified: a SciPy sparse matrix written by ``scipy.sparse.save_npz``
with its labels in a file beside it, and the svmlight / LIBSVM text format.

X comes out as the CSC matrix (n_x, m) whose transpose is the CSR rows the estimator reads.
"""

import math
import warnings
import zipfile
from pathlib import Path

import numpy as np

from logreg.core.checks import check_input_file, check_memory
from logreg.data.dataset import Dataset, labels_for
from logreg.data.tables import is_sparse_archive, npz_bytes, typed_labels
from logreg.errors import DataFileError, LogregError


SVMLIGHT_SUFFIXES = (".svm", ".svmlight", ".libsvm")  # each may end in .gz or .bz2
LABEL_SUFFIXES = (".npy", ".txt")


def is_svmlight(source):
    """Whether ``source`` names an svmlight / LIBSVM file: .svm, .svmlight or .libsvm, each
    also compressed (.svm.gz, .svm.bz2), as scikit-learn's loader reads them."""
    suffixes = [suffix.lower() for suffix in Path(str(source)).suffixes[-2:]]
    if suffixes and suffixes[-1] in (".gz", ".bz2"):
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in SVMLIGHT_SUFFIXES


def load_sparse_npz(path, labels, classes=None):
    """A SciPy sparse matrix written by ``scipy.sparse.save_npz``, one row per example (m, n)
    (CSR, CSC, COO, ...), and its labels in the file ``labels`` (see ``read_labels``).

    Never densified: X is the CSC matrix (n_x, m) whose transpose is the CSR rows. Never
    unpickles (SciPy's reader refuses pickles).
    """
    rows = read_sparse_npz(path)
    labels_found = read_labels(labels)
    if labels_found.size != rows.shape[0]:
        raise DataFileError(f"{path} holds {rows.shape[0]} examples (rows) but {labels} holds "
                            f"{labels_found.size} labels; expected one label per row, in the "
                            f"same order.")
    Y, found = labels_for(labels_found, classes, labels)
    return Dataset(rows.T, Y, found, str(path))


def read_sparse_npz(path):
    """The examples (m, n) of a file written by ``scipy.sparse.save_npz``, as float64 CSR."""
    from scipy import sparse

    path = check_input_file(path, "an .npz file written by scipy.sparse.save_npz")
    if not zipfile.is_zipfile(path):
        raise DataFileError(f"{path} is not an .npz archive (a zip file); expected a sparse "
                            f"matrix written by scipy.sparse.save_npz.")
    try:
        with open(path, "rb") as handle:
            archive = np.load(handle, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("it holds one array (.npy), not a sparse matrix")
            with archive:
                if not is_sparse_archive(archive.files):
                    raise DataFileError(
                        f"{path} holds the arrays {sorted(archive.files)}, not a SciPy sparse "
                        f"matrix; expected a file written by scipy.sparse.save_npz with "
                        f"--labels. A table of the arrays 'X' and 'y' holds its labels: leave "
                        f"--labels out.")
                for key in archive.files:  # sizes from the headers, before unpacking
                    check_memory(npz_bytes(archive, key), f"{path}: {key}",
                                 "use a smaller data set")
        rows = sparse.load_npz(path)
    except LogregError:
        raise
    except (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile) as error:
        raise DataFileError(f"{path} is not a readable sparse matrix ({_one_line(error)}); "
                            f"expected a file written by scipy.sparse.save_npz.") from None
    return _checked_rows(rows, path)


def read_labels(path):
    """One label per example from a file: a .npy array (m,) written by ``np.save``, or a .txt
    file with one label per line (numbers where every label is one, else text)."""
    path = check_input_file(path, "a labels file (.npy, or .txt with one label per line)")
    suffix = path.suffix.lower()
    if suffix not in LABEL_SUFFIXES:
        raise DataFileError(f"{path}: the suffix {suffix or '(none)'} is not a labels format; "
                            f"expected a .npy array written by np.save, or a .txt file with "
                            f"one label per line.")
    if suffix == ".txt":
        cells = _text_lines(path)
        if not cells:
            raise DataFileError(f"{path} holds no labels; expected one label per line.")
        return typed_labels(cells, path, list(range(1, len(cells) + 1)), "label")
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            shape, _, dtype = (np.lib.format.read_array_header_1_0 if version == (1, 0) else
                               np.lib.format.read_array_header_2_0)(handle)
        check_memory(math.prod(shape) * max(dtype.itemsize, 8), f"{path}", "use fewer labels")
        labels = np.load(path, allow_pickle=False)
    except LogregError:
        raise
    except (OSError, ValueError, EOFError) as error:
        raise DataFileError(f"{path} is not a readable .npy array of labels "
                            f"({_one_line(error)}); expected an array of numbers or strings "
                            f"written by np.save.") from None
    if labels.ndim == 2 and 1 in labels.shape:
        labels = labels.ravel()
    if labels.ndim != 1 or labels.dtype.kind not in "biufU":
        raise DataFileError(f"{path} holds an array of shape {labels.shape} and dtype "
                            f"{labels.dtype}; expected one label per example, shape (m,), of "
                            f"numbers, booleans or strings.")
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise DataFileError(f"{path}: label {int(np.flatnonzero(~np.isfinite(labels))[0])} is "
                            f"not a finite number; expected a class in every position.")
    return labels


def _text_lines(path):
    """The non-empty lines of a UTF-8 text file, stripped."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return [line.strip() for line in handle if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(f"{path} is not a readable text file ({_one_line(error)}); "
                            f"expected UTF-8 text, one label per line.") from None


def load_svmlight(path, classes=None, n_features=None, zero_based=None):
    """An svmlight / LIBSVM file (``label index:value ...``, one example a line) through
    scikit-learn's ``load_svmlight_file``; never densified.

    The labels may be any numbers (±1, 1..K, ...): whole numbers become integers. Feature
    indices start at 1 in LIBSVM's format and at 0 in what scikit-learn writes: ``zero_based``
    None (training) decides from the file, as scikit-learn's "auto" does (no index 0: they start
    at 1); a model's files are read as its training file was. ``n_features`` (a model's) pads
    a file whose highest index is lower, and refuses one whose index is higher.
    """
    rows, y, zero_based = read_svmlight(path, n_features, zero_based)
    Y, found = labels_for(_whole_as_integers(y), classes, path)
    return Dataset(rows.T, Y, found, str(path), zero_based=zero_based)


def read_svmlight(path, n_features=None, zero_based=None):
    """(examples (m, n) as float64 CSR, labels (m,) float64, zero_based) of an svmlight /
    LIBSVM file; ``n_features`` and ``zero_based`` as ``load_svmlight`` takes them."""
    from scipy import sparse
    from sklearn.datasets import load_svmlight_file

    path = check_input_file(path, "an svmlight / LIBSVM file")
    size = path.stat().st_size
    # each non-zero takes 4 characters or more ("1:1 ") and 12 bytes in memory
    check_memory(3 * size, f"{path} ({size:,} bytes)", "use a smaller data set")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows, y = load_svmlight_file(str(path), dtype=np.float64, zero_based=True)
    except (ValueError, OSError, EOFError, UnicodeError, IndexError, TypeError,
            OverflowError) as error:
        raise DataFileError(f"{path} is not a readable svmlight / LIBSVM file "
                            f"({_one_line(error)}); expected one example a line: "
                            f"'label index:value index:value ...'.") from None
    has_zero = bool(rows.nnz) and bool((rows.indices == 0).any())
    zero_based = has_zero if zero_based is None else zero_based
    if has_zero and not zero_based:
        raise DataFileError(f"{path} holds the feature index 0, but the model's training file "
                            f"numbered its features from 1 (LIBSVM's convention); expected "
                            f"indices 1 to {n_features}, numbered as in the training file.")
    first = 0 if zero_based else 1  # the file's index of feature 0
    if n_features is not None:
        if rows.shape[1] > n_features + first:
            raise DataFileError(
                f"{path} holds the feature index {rows.shape[1] - 1}; the model has "
                f"{n_features} features, indices {first} to {n_features - 1 + first}. Give "
                f"data with the model's features.")
        rows = sparse.csr_matrix((rows.data, rows.indices, rows.indptr),
                                 shape=(rows.shape[0], n_features + first))
    if not zero_based:
        rows = rows[:, 1:]  # LIBSVM's index 1 is feature 0
    return _checked_rows(rows, path), y, zero_based


def _whole_as_integers(y):
    """Labels read as floats: int64 where every one is a whole number an int64 holds."""
    if y.size and np.isfinite(y).all() and (np.floor(y) == y).all() \
            and (np.abs(y) < 2**53).all():
        return y.astype(np.int64)
    return y


def _checked_rows(rows, path):
    """A SciPy sparse matrix of examples (m, n) as float64 CSR, at least one example and one
    feature, every stored value a finite number; else the error naming the first bad entry."""
    if rows.ndim != 2:
        raise DataFileError(f"{path} holds a sparse array of shape {rows.shape}; expected a "
                            f"matrix of one row per example and one column per feature.")
    if rows.shape[0] == 0 or rows.shape[1] == 0:
        raise DataFileError(f"{path} holds a matrix of shape {rows.shape}; expected at least "
                            f"one example (row) and one feature (column).")
    if rows.dtype.kind not in "biuf":
        raise DataFileError(f"{path} holds values of dtype {rows.dtype}; expected real "
                            f"numbers.")
    rows = rows.tocsr().astype(np.float64, copy=False)
    bad = np.flatnonzero(~np.isfinite(rows.data))
    if bad.size:
        row = int(np.searchsorted(rows.indptr, bad[0], side="right") - 1)
        raise DataFileError(f"{path}: example {row}, feature {int(rows.indices[bad[0]])} is "
                            f"{rows.data[bad[0]]}; expected finite numbers (no NaN or "
                            f"infinity). Fix or drop that example.")
    return rows


def _one_line(error):
    return " ".join(str(error).split()) or type(error).__name__
