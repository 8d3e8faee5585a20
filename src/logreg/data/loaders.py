"""Loaders: every supported source becomes a ``Dataset`` in the notes' layout.

Sources: the exercise's .h5 files (``train_set_x`` / ``train_set_y`` / ``list_classes``), a folder
of images with one sub-folder per class, a CSV with a named label column, an NPZ table,
sparse tables (a SciPy sparse matrix written by ``scipy.sparse.save_npz`` with its labels in a
file beside it, or the svmlight / LIBSVM text format), and scikit-learn's bundled digits (as
8×8 images: 3 against 8, or all ten) and breast-cancer sets. Any number K ≥ 2 of classes.
"""

import csv
import math
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from logreg.core.checks import check_features, check_input_file, check_memory
from logreg.data.images import check_image_size, flatten_images, list_images, read_images
from logreg.errors import DataFileError, InvalidInputError, LogregError

DEFAULT_IMAGE_SIZE = (64, 64)  # the exercise's images are 64×64×3


@dataclass
class Dataset:
    """Raw features X (n_x, m), labels Y (1, m) of class indices, and what they mean.

    Y holds k (as a float) for an example of ``classes[k]``: for two classes the notes' 0/1,
    ``classes[1]`` the positive class. ``image_shape`` is (h, w, c) for images, None for tables;
    ``feature_names`` names the rows of X for tables. X is a NumPy array, or for a sparse table
    a SciPy sparse CSC matrix (n_x, m), whose transpose is the CSR rows the estimator reads;
    ``zero_based`` says whether an svmlight file's feature indices start at 0 (None for other
    sources).
    """

    X: np.ndarray
    Y: np.ndarray
    classes: list
    source: str
    image_shape: tuple = None
    feature_names: list = None
    label_column: str = None
    zero_based: bool = None

    @property
    def m(self):
        """The number of examples m (X's columns)."""
        return self.X.shape[1]

    @property
    def sparse(self):
        """Whether X is a SciPy sparse matrix."""
        from scipy import sparse

        return sparse.issparse(self.X)


def index_labels(labels, classes=None):
    """Any labels (strings, numbers, booleans) → Y (1, m) of class indices, and the classes.

    Without ``classes`` the classes are the labels' distinct values, sorted as ``np.unique``
    sorts them, at least two. Given ``classes`` (a model's, in its order), Y[i] = k where
    label i is classes[k], and labels outside them are refused. For two classes Y is the
    notes' 0/1, 1 for classes[1].
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and 1 in labels.shape:
        labels = labels.ravel()
    if labels.ndim != 1:
        raise InvalidInputError(
            f"labels have shape {labels.shape}; expected one label per example, shape (m,) or "
            f"(1, m).")
    if labels.size == 0:
        raise InvalidInputError("there are no labels (0 examples); expected at least one.")
    found, inverse = np.unique(labels, return_inverse=True)
    if classes is None:
        if found.size < 2:
            raise InvalidInputError(
                f"the labels hold one class only ({_shown(found.tolist())}); expected at "
                f"least two classes to tell apart. Add examples of another class.")
        classes = found
    position = {label: k for k, label in enumerate(np.asarray(classes).tolist())}
    unknown = [label for label in found.tolist() if not _known(label, position)]
    if unknown:
        raise InvalidInputError(
            f"the labels hold {_shown(unknown)}, which the model does not know; expected "
            f"only {_shown(np.asarray(classes).tolist())}.")
    index = np.array([position[label] for label in found.tolist()], dtype=np.float64)
    return index[inverse.reshape(-1)].reshape(1, -1), np.asarray(classes)


def _known(label, position):
    try:
        return label in position
    except TypeError:  # an unhashable label
        return False


def _shown(values, limit=5):
    values = list(values)
    text = ", ".join(map(repr, values[:limit]))
    return text + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _labels_for(labels, classes, source=None):
    """Index labels against a model's classes, or find the classes of training labels."""
    try:
        Y, found = index_labels(labels, classes)
    except InvalidInputError as error:
        if source is None:
            raise
        raise InvalidInputError(f"{source}: {error}") from None
    return Y, [value.item() if hasattr(value, "item") else value for value in found]


# --- the exercise's .h5 files ------------------------------------------------------------


def load_h5(path, split=None, *, prefer=None):
    """The exercise's HDF5 layout: ``{split}_set_x`` (m, h, w, c) uint8, ``{split}_set_y`` (m,),
    ``list_classes``. ``split`` ("train" or "test") is found from the keys when the file holds one.
    The labels are class indices 0, 1, ... into ``list_classes`` (two names or more; without
    it the classes are named "0", "1", ...).

    ``prefer`` (the command's): the split to take when the file holds several; a file with one
    split gives that one. Nothing the file says is trusted: every key must be an array of the
    expected rank and kind, small enough to load.
    """
    import h5py

    path = check_input_file(path, "an .h5 file")
    try:
        handle = h5py.File(path, "r")
    except (OSError, ValueError) as error:
        raise DataFileError(f"{path} is not a readable HDF5 file ({error}).") from None
    with handle:
        keys = sorted(handle.keys())
        splits = sorted(key[: -len("_set_x")] for key in keys if key.endswith("_set_x")
                        and key[: -len("_set_x")] + "_set_y" in keys)
        if split is None:
            split = prefer if prefer in splits else splits[0] if len(splits) == 1 else None
        if split not in splits:
            raise DataFileError(
                f"{path} holds the keys {keys}; expected the exercise's layout: "
                f"'train_set_x' and 'train_set_y' (or 'test_set_x' and 'test_set_y'), and "
                f"'list_classes'" + (f"; it holds the splits {splits}: name one." if splits
                                     else "."))
        images = _h5_array(handle, f"{split}_set_x", path, "images (m, h, w, c)")
        labels = _h5_array(handle, f"{split}_set_y", path, "labels 0, 1, ... (m,)")
        names = (_h5_array(handle, "list_classes", path, "the class names")
                 if "list_classes" in handle else None)
    if images.ndim == 3:
        images = images[..., np.newaxis]  # grayscale stack (m, h, w) → (m, h, w, 1)
    labels = labels.reshape(-1) if labels.ndim == 2 and 1 in labels.shape else labels
    if images.ndim != 4 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataFileError(
            f"{path}: {split}_set_x has shape {images.shape} and {split}_set_y "
            f"{labels.shape}; expected images (m, h, w, c) and m labels.")
    if images.size == 0:
        raise DataFileError(f"{path}: {split}_set_x has shape {images.shape}: no images; "
                            f"expected at least one image of at least one pixel.")
    if labels.dtype.kind not in "biuf" or not _class_indices(labels):
        shown = np.unique(labels)[:10].tolist() if labels.dtype.kind in "biufSU" \
            else f"values of dtype {labels.dtype}"
        raise DataFileError(f"{path}: {split}_set_y holds {shown}; expected labels 0 and 1 "
                            f"(0, 1, ..., K − 1 for K classes) indexing list_classes.")
    X = check_features(flatten_images(images), name=f"{path}: {split}_set_x")
    return Dataset(X, labels.reshape(1, -1).astype(np.float64),
                   _h5_classes(names, path, int(labels.max()) + 1, f"{split}_set_y"),
                   str(path), image_shape=tuple(images.shape[1:]))


def _class_indices(labels):
    """Whether every label is a whole number 0, 1, ... below 2**31 (an index into a list)."""
    with np.errstate(invalid="ignore"):
        return bool(np.isfinite(labels).all() and (labels >= 0).all()
                    and (labels < 2**31).all() and (np.floor(labels) == labels).all())


def _h5_array(handle, key, path, expected):
    """One dataset of an open .h5 as a NumPy array; refuses groups, links to nowhere, and
    arrays too large for the memory available, before reading them."""
    import h5py

    try:
        item = handle.get(key)
    except (OSError, KeyError, ValueError) as error:  # a broken or external link
        raise DataFileError(f"{path}: {key} cannot be read ({error}); expected {expected}.") \
            from None
    if not isinstance(item, h5py.Dataset):
        kind = "a group" if isinstance(item, h5py.Group) else "not an array"
        raise DataFileError(f"{path}: {key} is {kind}; expected an array of {expected}. "
                            f"Store it as an HDF5 dataset.")
    if item.dtype.kind not in "biufSUO":
        raise DataFileError(f"{path}: {key} has dtype {item.dtype}; expected {expected}.")
    check_memory(item.size * max(item.dtype.itemsize, 8), f"{path}: {key} of shape "
                 f"{item.shape}", "use a smaller data set")
    try:
        return np.asarray(item[()])
    except (OSError, ValueError, TypeError) as error:
        raise DataFileError(f"{path}: {key} cannot be read ({error}); expected {expected}.") \
            from None


def _h5_classes(names, path, needed=2, key="the labels"):
    """``list_classes`` as distinct names, at least ``needed`` (the largest label + 1) of them;
    "0", "1", ... where the file holds no such list of two names or more."""
    if names is None or names.ndim != 1 or names.size < 2:
        return [str(k) for k in range(max(needed, 2))]
    names = [name.decode(errors="replace") if isinstance(name, bytes) else str(name)
             for name in names.tolist()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        different = "two different names" if len(names) == 2 else \
            "a different name for each class"
        raise DataFileError(f"{path}: list_classes names the class {repeated[0]!r} "
                            f"{names.count(repeated[0])} times; expected {different}, the "
                            f"class of label 0, of label 1, ...")
    if needed > len(names):
        raise DataFileError(f"{path}: {key} holds the label {needed - 1} but list_classes names "
                            f"{len(names)} classes; expected labels 0 to {len(names) - 1}, "
                            f"each indexing list_classes.")
    return names


# --- a folder of images, one sub-folder per class ----------------------------------------


def load_image_folder(path, image_size=DEFAULT_IMAGE_SIZE, channels=3, classes=None):
    """Images in ``path/<class>/...``, resized to ``image_size`` (h, w) with ``channels`` 1 or 3.

    The sub-folders' names, sorted, are the classes (two or more, each holding an image). Given
    a model's ``classes``, the sub-folders must be among them.
    """
    path = Path(path)
    if not is_folder(path):
        raise DataFileError(f"{path} is not a folder; expected a folder with one sub-folder "
                            f"of images per class.")
    image_size = check_image_size(image_size, channels)
    try:
        entries = sorted(entry for entry in path.iterdir() if not entry.name.startswith("."))
        folders = [entry for entry in entries if entry.is_dir()]
    except OSError as error:
        raise DataFileError(f"cannot read the folder {path} ({error.strerror or error}); "
                            f"expected a readable folder of images. Check its "
                            f"permissions.") from None
    if classes is None and len(folders) < 2:
        loose = [entry.name for entry in entries if entry not in folders]
        raise DataFileError(
            f"{path} has {len(folders)} sub-folder(s) {[f.name for f in folders]}"
            + (f" and {len(loose)} other file(s) such as {loose[0]!r}" if loose else "")
            + "; expected two sub-folders or more, one per class, each holding that class's "
            "images (e.g. cat/ and non-cat/).")
    paths, labels, empty = [], [], []
    for folder in folders:
        images = list_images(folder)
        paths += images
        labels += [folder.name] * len(images)
        empty += [] if images else [folder.name]
    if not paths:
        raise DataFileError(f"{path} holds no image files in its sub-folders; expected "
                            f"images such as .png or .jpg.")
    if classes is None and empty:
        which = (f"one class ({empty[0]!r}) has" if len(empty) == 1 else
                 f"{len(empty)} classes ({_shown(empty)}) have")
        raise DataFileError(f"{path}: {which} no image files in its sub-folder; expected at "
                            f"least one image of every class. Add images, or remove the "
                            f"empty sub-folder.")
    Y, names = _labels_for(np.array(labels), classes, path)
    stack = read_images(paths, image_size, channels)
    return Dataset(flatten_images(stack), Y, names, str(path),
                   image_shape=tuple(stack.shape[1:]))


# --- tables: CSV and NPZ --------------------------------------------------------------


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
        labels = _typed_labels([cell.strip() for cell in body[:, header.index(label_column)]],
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


def _typed_labels(cells, path=None, line_numbers=None, column="label"):
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
    Y, found = _labels_for(labels, classes, path)
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
                if _is_sparse_archive(archive.files):
                    raise DataFileError(
                        f"{path} holds a SciPy sparse matrix (scipy.sparse.save_npz), without "
                        f"its labels; give them in a file beside it with --labels FILE (.npy, "
                        f"or .txt with one label per line).")
                for key in archive.files:  # sizes from the headers, before unpacking
                    check_memory(_npz_bytes(archive, key), f"{path}: {key}",
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
    Y, found = _labels_for(labels, classes, path)
    return Dataset(X, Y, found, str(path))


def _is_sparse_archive(keys):
    """Whether an .npz's arrays are those ``scipy.sparse.save_npz`` writes."""
    return {"format", "shape", "data"} <= set(keys)


# --- sparse tables: scipy.sparse.save_npz with a labels file, and svmlight / LIBSVM ----------


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
    Y, found = _labels_for(labels_found, classes, labels)
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
                if not _is_sparse_archive(archive.files):
                    raise DataFileError(
                        f"{path} holds the arrays {sorted(archive.files)}, not a SciPy sparse "
                        f"matrix; expected a file written by scipy.sparse.save_npz with "
                        f"--labels. A table of the arrays 'X' and 'y' holds its labels: leave "
                        f"--labels out.")
                for key in archive.files:  # sizes from the headers, before unpacking
                    check_memory(_npz_bytes(archive, key), f"{path}: {key}",
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
        return _typed_labels(cells, path, list(range(1, len(cells) + 1)), "label")
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
    Y, found = _labels_for(_whole_as_integers(y), classes, path)
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


def _npz_bytes(archive, key):
    """Bytes the array ``key`` of an open .npz takes once unpacked (as float64 at least), read
    from its .npy header: a small compressed file may declare a huge array."""
    with archive.zip.open(f"{key}.npy") as member:
        version = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(member)
    return math.prod(shape) * max(dtype.itemsize, 8)


# --- scikit-learn's bundled data sets ----------------------------------------------------


def load_digits_task(negative=3, positive=8, test_size=0.25, random_state=0):
    """The built-in task: scikit-learn's 8×8 digits, ``negative`` against ``positive``.

    The digits' 0..16 intensities become 0..255 pixels, so they take the same image path as any
    picture: stack (m, 8, 8, 1) → columns → /255. Returns (train, test), a stratified split
    (test is None for ``test_size=0``).
    """
    return load_digits_images((negative, positive), f"scikit-learn digits, {negative} against "
                              f"{positive}", test_size, random_state)


def load_digits10(test_size=0.25, random_state=0):
    """The built-in ten-class task: all of scikit-learn's 8×8 digits, classes "0" to "9", as
    images the way ``load_digits_task`` makes them. Returns (train, test), stratified."""
    return load_digits_images(tuple(range(10)), "scikit-learn digits, all ten", test_size,
                              random_state)


def load_digits_images(digits, source, test_size=0.25, random_state=0):
    """The ``digits`` of scikit-learn's set as 8×8×1 uint8 images, label k for ``digits[k]``
    (class name ``str(digits[k])``); (train, test), a stratified split (test None for 0)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    keep = np.isin(data.target, digits)
    images = np.round(data.images[keep] * (255 / 16)).astype(np.uint8)[..., np.newaxis]
    # Y = k for digits[k]: for two digits the notes' 0/1, the second one positive
    labels = np.searchsorted(np.sort(digits), data.target[keep])
    labels = np.argsort(digits)[labels].astype(np.float64)
    names = [str(digit) for digit in digits]
    whole = Dataset(flatten_images(images), labels.reshape(1, -1), names, source,
                    image_shape=images.shape[1:])
    # the one split every data set takes (logreg.data.split: the policy that finds it again)
    return split_dataset(whole, test_size, random_state) if test_size else (whole, None)


def load_breast_cancer_table(features=None):
    """scikit-learn's breast-cancer table (569 × 30): classes "malignant" (0), "benign" (1).

    ``features``: names or indices of the columns to keep (all 30 by default).
    """
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = list(data.feature_names)
    unknown = [f for f in features or [] if (f not in names if isinstance(f, str)
                                             else not 0 <= int(f) < len(names))]
    if unknown:
        raise InvalidInputError(f"breast cancer has no features {unknown}; expected names "
                                f"from {names} or indices 0 to {len(names) - 1}.")
    columns = list(range(len(names))) if features is None else [
        names.index(f) if isinstance(f, str) else int(f) for f in features]
    return Dataset(data.data[:, columns].T.copy(), data.target.reshape(1, -1).astype(float),
                   list(data.target_names), "scikit-learn breast cancer",
                   feature_names=[names[c] for c in columns])


# --- one entry point for the command ---------------------------------------------------------


def is_folder(path):
    """Whether ``path`` is a folder; a path the system refuses to look up (a name too long,
    a component that cannot be searched) is a DataFileError naming it, not an OSError."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as error:
        raise DataFileError(f"{path}: {error.strerror or error}; expected the path of a data "
                            f"file or folder.") from None
    except ValueError as error:  # an embedded NUL byte
        raise DataFileError(f"{path!r}: {error}; expected the path of a data file or "
                            f"folder.") from None
    return Path(path).is_dir()

BUILT_IN = {"digits": "scikit-learn digits, 3 against 8, as 8×8 images",
            "digits10": "scikit-learn digits, all ten classes 0-9, as 8×8 images",
            "breast-cancer": "scikit-learn breast cancer, 30 features"}
BUILT_IN_IMAGES = {"digits": load_digits_task, "digits10": load_digits10}  # (train, test)


def load_dataset(source, *, label_column="label", image_size=None, channels=3, classes=None,
                 feature_names=None, split=None, labels=None, n_features=None,
                 zero_based=None):
    """Any supported source by its path (or a built-in name): folder, .h5, .csv, .npz (with
    ``labels``, a file of labels, a sparse matrix written by ``scipy.sparse.save_npz``) or an
    svmlight / LIBSVM file (.svm, .svmlight, .libsvm; ``n_features`` and ``zero_based``: a
    model's)."""
    if source == "breast-cancer":
        return load_breast_cancer_table(feature_names)
    if source in BUILT_IN_IMAGES:
        return BUILT_IN_IMAGES[source]()[0 if split != "test" else 1]
    path = Path(source)
    suffix = path.suffix.lower()
    if is_folder(path):
        return load_image_folder(path, image_size or DEFAULT_IMAGE_SIZE, channels, classes)
    if not path.exists():
        raise DataFileError(
            f"{path} does not exist; expected a folder of images, an .h5, .csv, .npz or "
            f"svmlight (.svm) file, or a built-in data set ({', '.join(BUILT_IN)}).")
    if is_svmlight(path):
        return load_svmlight(path, classes, n_features, zero_based)
    if suffix in (".h5", ".hdf5"):
        return load_h5(path, prefer=split)
    if suffix == ".csv":
        return load_csv(path, label_column, classes, feature_names)
    if suffix == ".npz":
        return load_npz(path, classes) if labels is None else \
            load_sparse_npz(path, labels, classes)
    raise DataFileError(f"{path}: the suffix {suffix or '(none)'} is not a known data format; "
                        f"expected a folder of images, .h5, .csv, .npz, or svmlight / LIBSVM "
                        f"text ({', '.join(SVMLIGHT_SUFFIXES)}, also .gz or .bz2).")


def split_dataset(dataset, test_size, random_state=0):
    """(train, test): a stratified split of the examples, the same for the same seed."""
    from dataclasses import replace

    return tuple(replace(dataset, X=dataset.X[:, part], Y=dataset.Y[:, part])
                 for part in split_indices(dataset, test_size, random_state))


def split_indices(dataset, test_size, random_state=0):
    """(train, test) example indices of the one split `logreg train` makes: scikit-learn's
    ``train_test_split``, stratified by label, seeded by ``random_state`` (in its order)."""
    from sklearn.model_selection import train_test_split

    labels = dataset.Y.ravel()
    if np.unique(labels).size < 2 or min(np.bincount(labels.astype(int))) < 2:
        raise InvalidInputError(
            f"{dataset.source} has too few examples of a class to hold some out for testing; "
            f"give --test-data, or --test-size 0 to test on nothing.")
    check_split_sizes(dataset.m, test_size, dataset.source, len(dataset.classes))
    return train_test_split(np.arange(dataset.m), test_size=test_size,
                            random_state=random_state, stratify=labels)


def check_split_sizes(m, test_size, source, n_classes=2):
    """Refuse a share ``test_size`` of ``m`` examples that a stratified split cannot honour:
    scikit-learn holds out ⌈test_size·m⌉ examples and trains on ⌊(1 − test_size)·m⌋, and each
    part needs at least one example of each class. The message names the sizes and the shares
    that would work."""
    if _splits(m, test_size, n_classes):
        return
    n_test, n_train = math.ceil(test_size * m), math.floor((1 - test_size) * m)
    if m < 2 * n_classes:
        fix = (f"{m} examples are too few to split in two parts of at least {n_classes}; give "
               f"--test-data, or --test-size 0 to test on nothing")
    else:  # ⌈t·m⌉ from n_classes up to m − n_classes
        low, high = (_nearest_share(m, share, n_classes, direction) for share, direction in
                     ((n_classes / m, 1), ((m - n_classes) / m, -1)))
        shares = f"--test-size {low:g}" if low == high else \
            f"a --test-size from {low:g} to {high:g}"
        fix = f"choose {shares}, give --test-data, or --test-size 0 to test on nothing"
    raise InvalidInputError(
        f"--test-size {test_size!r} of the {m} examples of {source} holds out {n_test} and "
        f"trains on {n_train}; a stratified split needs at least {n_classes} examples (one of "
        f"each class) in each part: {fix}.")


def _splits(m, test_size, n_classes):
    """Whether scikit-learn's stratified split of m examples can hold out ``test_size``."""
    n_test, n_train = math.ceil(test_size * m), math.floor((1 - test_size) * m)
    return n_classes <= n_test and n_classes <= n_train and n_test + n_train <= m


def _nearest_share(m, share, n_classes, direction):
    """``share`` rounded to 3 significant digits, moved by ``direction`` until it splits."""
    step = 10.0 ** (math.floor(math.log10(share)) - 2)
    rounded = float(f"{share:.3g}")
    for k in range(20):
        if _splits(m, rounded + direction * k * step, n_classes):
            return round(rounded + direction * k * step, 15)
    return share


def source_kind(source):
    """"images" or "table": what a data source holds, told from its name alone (None when the
    name does not tell), so that a mismatch is refused before the data are read."""
    if source in BUILT_IN:
        return "images" if source in BUILT_IN_IMAGES else "table"
    path = Path(source)
    if is_folder(path) or path.suffix.lower() in (".h5", ".hdf5"):
        return "images"
    return "table" if path.suffix.lower() in (".csv", ".npz") or is_svmlight(path) else None


def describe_kind(image_shape, n_x):
    """"images of shape (64, 64, 3)" or "a table of 30 features", for messages."""
    if image_shape is not None:
        return f"images of shape {tuple(image_shape)} ({n_x} features)" if n_x else \
            f"images of shape {tuple(image_shape)}"
    return f"a table of {n_x} features" if n_x is not None else "a table"


def check_source_kind(source, image_shape, n_x=None, expected="the model was trained on"):
    """Refuse, before reading it, a source of another kind than ``image_shape`` says (images
    when it is a shape, a table when it is None)."""
    kind = source_kind(source)
    if kind is not None and (kind == "images") != (image_shape is not None):
        raise InvalidInputError(
            f"{source} holds {'images' if kind == 'images' else 'a table'}; {expected} "
            f"{describe_kind(image_shape, n_x)}. Give data of that kind.")


def check_same_kind(dataset, image_shape, n_x=None, expected="the model was trained on"):
    """Refuse data whose kind (images or table), image shape or number of features differ from
    what a model (or the training data) has: one message naming both shapes."""
    found = describe_kind(dataset.image_shape, dataset.X.shape[0])
    wanted = describe_kind(image_shape, n_x)
    if (dataset.image_shape is None) != (image_shape is None):
        raise InvalidInputError(f"{dataset.source} holds {found}; {expected} {wanted}. Give "
                                f"data of that kind.")
    if image_shape is not None and tuple(dataset.image_shape) != tuple(image_shape):
        raise InvalidInputError(
            f"{dataset.source} holds images of shape {tuple(dataset.image_shape)}; {expected} "
            f"images of shape {tuple(image_shape)}. Resize them, or use a folder of images, "
            f"which is resized to the model's size.")
    if n_x is not None and dataset.X.shape[0] != n_x:
        raise InvalidInputError(f"{dataset.source} holds {found}, X of shape "
                                f"{dataset.X.shape}; {expected} {wanted}, X of shape "
                                f"({n_x}, m). Give data with the same features.")
    return dataset
