"""Tables: a CSV with a header and a label column, and an .npz of the arrays X and y.

Every cell is checked: a malformed quote, an unnamed or repeated column, a cell that is not a
finite number and a missing label are refused with their line. Labels are typed as the text
says (whole numbers as integers, so 2 < 10); an .npz is never unpickled, and its arrays' sizes
are read from their headers before they are unpacked.
"""

import csv
import math
import re
import zipfile

import numpy as np

from logreg.core.checks import check_features, check_input_file, check_memory
from logreg.data.dataset import Dataset, labels_for
from logreg.errors import DataFileError, LogregError


def read_csv_table(path, label_column=None, feature_names=None):
    """A CSV with a header row: (features (m, n) float, labels or None, feature names).

    ``feature_names`` (a model's) picks and orders the feature columns by name; otherwise every
    column but ``label_column`` is a feature. A byte-order mark, CRLF line ends and quoted
    fields are read as the csv module reads them; a malformed quote, an unnamed or repeated
    column, a cell that is not a finite number and a missing label are refused with their line.
    """
    path = check_input_file(path, "a CSV file")
    numbered = _csv_rows(path)
    if len(numbered) < 2:
        raise DataFileError(f"{path} holds {len(numbered)} non-empty line(s); expected a "
                            f"header line and at least one row of data.")
    line_numbers = [number for number, _ in numbered[1:]]
    rows = [row for _, row in numbered]
    header = _csv_header(path, rows[0], label_column)
    for number, row in zip(line_numbers, rows[1:]):
        if len(row) != len(header):
            raise DataFileError(
                f"{path}, line {number}: {len(row)} fields; expected {len(header)} as in the "
                f"header. Every row needs one value per column.")
    names = feature_names or [name for name in header if name != label_column]
    missing = [name for name in names if name not in header]
    if missing:
        raise DataFileError(f"{path} lacks the feature columns {missing} that the model "
                            f"needs; its columns are {header}.")
    if not names:
        raise DataFileError(f"{path} has no feature columns, only {header}; expected at least "
                            f"one column of numbers besides the label column.")
    columns = [header.index(name) for name in names]
    body = np.array(rows[1:], dtype=object)
    features = np.empty((len(body), len(columns)))
    for j, column in enumerate(columns):
        try:
            features[:, j] = body[:, column].astype(float)
        except ValueError:  # some cell is no number: NaN there, found and named just below
            features[:, j] = [float(cell) if _is_float(cell) else np.nan
                              for cell in body[:, column]]
        bad = np.flatnonzero(~np.isfinite(features[:, j]))
        if bad.size:
            cell = body[bad[0], column]
            kind = "is not a number" if not _is_float(cell) else "is not a finite number"
            raise DataFileError(
                f"{path}, line {line_numbers[bad[0]]}, column {names[j]!r}: {cell!r} {kind}; "
                f"expected finite numbers in every feature column (no NaN, empty cells or "
                f"infinities). Fix or drop that row.")
    labels = None
    if label_column is not None:
        labels = typed_labels([cell.strip() for cell in body[:, header.index(label_column)]],
                               path, line_numbers, label_column)
    return features, labels, names


def _csv_rows(path, header_only=False):
    """[(line number, cells)] of a CSV's non-empty lines (only the first if ``header_only``)."""
    rows, line = [], 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            for row in reader:
                line = reader.line_num
                if any(cell.strip() for cell in row):
                    rows.append((line, row))
                    if header_only:
                        break
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        where = f", after line {line}," if isinstance(error, csv.Error) else ""
        raise DataFileError(f"{path}{where} is not a readable CSV file ({error}); expected "
                            f"UTF-8 text, comma-separated, with balanced quotes.") from None
    return rows


def csv_columns(path):
    """The column names of a CSV's header line, checked as ``read_csv_table`` checks them."""
    rows = _csv_rows(check_input_file(path, "a CSV file"), header_only=True)
    if not rows:
        raise DataFileError(f"{path} holds no header line; expected a CSV with a header line "
                            f"naming its columns.")
    return _csv_header(path, rows[0][1], None)


def _csv_header(path, cells, label_column):
    """The column names: each named, none repeated, the label column among them."""
    header = [name.strip() for name in cells]
    unnamed = [i + 1 for i, name in enumerate(header) if not name]
    if unnamed:
        raise DataFileError(f"{path}: column {unnamed[0]} of the header has no name; expected "
                            f"a name for every column (the first line is the header).")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataFileError(
            f"{path}: the header names the column {repeated[0]!r} "
            f"{header.count(repeated[0])} times; expected every column name once. Rename "
            f"the copies" + (" (one of them is the label column)." if repeated[0] == label_column
                             else "."))
    if label_column is not None and label_column not in header:
        raise DataFileError(
            f"{path} has no column {label_column!r}; its columns are {header}. Name the label "
            f"column with --label-column.")
    return header


def _is_float(text):
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


MISSING_LABELS = {"", "nan", "na", "n/a", "null", "none"}
INTEGER = re.compile(r"[+-]?[0-9]+")


def typed_labels(cells, path=None, line_numbers=None, column="label"):
    """CSV labels as numbers when every label is a number that a NumPy number holds exactly
    (whole numbers as int64, so 2 < 10), else as the text they were. A missing label (empty,
    "NaN", "NA", ...) is refused."""
    missing = [i for i, cell in enumerate(cells) if cell.lower() in MISSING_LABELS]
    if missing:
        where = f"{path}, line {line_numbers[missing[0]]}" if path else f"label {missing[0]}"
        raise DataFileError(f"{where}, column {column!r}: the label is missing "
                            f"({cells[missing[0]]!r}); expected a class name in every row. "
                            f"Drop the rows without a label.")
    integers = [INTEGER.fullmatch(cell) is not None for cell in cells]
    if all(integers):
        values = [int(cell) for cell in cells]
        if all(-2**63 <= value < 2**63 for value in values):
            return np.array(values, dtype=np.int64)
        return np.array(cells)  # beyond int64: the text, exact
    if not all(_is_float(cell) for cell in cells):
        return np.array(cells)
    numbers = np.array(cells, dtype=float)
    if not (np.isfinite(numbers).all() and np.all(np.abs(numbers) <= 2**53)):
        return np.array(cells)  # beyond what a float64 holds exactly: the text, exact
    if np.all(numbers == np.round(numbers)):
        return numbers.astype(np.int64)
    return numbers


def load_csv(path, label_column="label", classes=None, feature_names=None):
    """A CSV table, one row per example, with a header and a label column named ``label_column``."""
    features, labels, names = read_csv_table(path, label_column, feature_names)
    Y, found = labels_for(labels, classes, path)
    X = check_features(features.T, name=f"features of {path}")
    return Dataset(X, Y, found, str(path), feature_names=names, label_column=label_column)


def load_npz(path, classes=None):
    """An .npz table: ``X`` with one row per example (m, n) and labels ``y`` (m,).

    Also takes the notes' layout: ``X`` (n_x, m) with ``Y`` of shape (1, m). Never unpickles.
    """
    path = check_input_file(path, "an .npz file")
    try:  # the file opened here, so that it is closed whatever np.load makes of it
        with open(path, "rb") as handle:
            archive = np.load(handle, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("it holds one array (.npy), not named arrays")
            with archive:
                if is_sparse_archive(archive.files):
                    raise DataFileError(
                        f"{path} holds a SciPy sparse matrix (scipy.sparse.save_npz), without "
                        f"its labels; give them in a file beside it with --labels FILE (.npy, "
                        f"or .txt with one label per line).")
                for key in archive.files:  # sizes from the headers, before unpacking
                    check_memory(npz_bytes(archive, key), f"{path}: {key}",
                                 "use a smaller data set")
                arrays = {key: archive[key] for key in archive.files}
    except LogregError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise DataFileError(f"{path} is not a readable .npz of plain arrays ({error}).") from None
    if "X" not in arrays or not ({"y", "Y"} & arrays.keys()):
        raise DataFileError(f"{path} holds the arrays {sorted(arrays)}; expected 'X' and "
                            f"'y' (rows are examples) or 'X' and 'Y' (the notes' layout).")
    X = arrays["X"]
    if "Y" in arrays and arrays["Y"].ndim == 2 and arrays["Y"].shape[0] == 1:
        labels = arrays["Y"].ravel()  # the notes' layout: X is (n_x, m) already
    else:
        labels = arrays.get("y", arrays.get("Y"))
        if labels.ndim > 2 or (labels.ndim == 2 and 1 not in labels.shape):
            raise DataFileError(f"{path}: the labels have shape {labels.shape}; expected one "
                                f"label per example, shape (m,).")
        labels = labels.ravel()
        X = np.asarray(X).T if np.ndim(X) == 2 else X
    X = check_features(X, name=f"X of {path}")
    if X.shape[1] != labels.size:
        raise DataFileError(f"{path} holds {X.shape[1]} examples in X but {labels.size} "
                            f"labels; expected one label per example.")
    Y, found = labels_for(labels, classes, path)
    return Dataset(X, Y, found, str(path))


def is_sparse_archive(keys):
    """Whether an .npz's arrays are those ``scipy.sparse.save_npz`` writes."""
    return {"format", "shape", "data"} <= set(keys)


def npz_bytes(archive, key):
    """Bytes the array ``key`` of an open .npz takes once unpacked (as float64 at least), read
    from its .npy header: a small compressed file may declare a huge array."""
    with archive.zip.open(f"{key}.npy") as member:
        version = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(member)
    return math.prod(shape) * max(dtype.itemsize, 8)
