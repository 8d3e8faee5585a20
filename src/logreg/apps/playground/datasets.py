"""The playground's data: five built-in two-feature sets and an uploaded CSV table.

Every built-in set is a function of (points, noise, seed) and, for ``blobs``, the number of
classes; the same arguments give the same points on any machine (NumPy's ``default_rng`` and
scikit-learn's generators with ``random_state``). Labels are class indices 0..K-1.

An uploaded CSV is read as data only (Python's ``csv`` module, numbers parsed with ``float``,
nothing evaluated): a header row of column names, at most ``MAX_ROWS`` rows, finite numbers in
every numeric column, and a label column of 2 to 4 classes.
"""

import csv
import math

import numpy as np

from logreg.errors import InvalidInputError

DATASETS = ("blobs", "overlap", "xor", "circles", "moons")
MAX_ROWS = 5000
LARGEST_VALUE = 1e150  # |x| above this: x² (a crossed feature, the spread) overflows
MIN_ROWS = 10
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_CLASSES = 4


def make_points(name, points, noise, seed, classes=2):
    """A built-in data set: raw coordinates (m, 2) and class indices (m,).

    Parameters
    ----------
    name : str
        One of ``DATASETS``: "blobs" (``classes`` separable Gaussian blobs), "overlap" (two
        overlapping Gaussian blobs), "xor" (the sign of x1·x2), "circles" and "moons"
        (scikit-learn's ``make_circles`` and ``make_moons``).
    points : int
        How many points (m).
    noise : float
        How much the points scatter (0: none; 0.1 is gentle, 0.5 much).
    seed : int
        The random seed.
    classes : int
        The number of blobs (2 to 4); the other sets have two classes.

    Returns
    -------
    X : ndarray of shape (m, 2), float64
    y : ndarray of shape (m,), int64
    """
    if name == "circles" or name == "moons":
        from sklearn.datasets import make_circles, make_moons

        if name == "circles":
            X, y = make_circles(n_samples=points, noise=noise, factor=0.5, random_state=seed)
        else:
            X, y = make_moons(n_samples=points, noise=noise, random_state=seed)
        return X.astype(np.float64), y.astype(np.int64)
    rng = np.random.default_rng(seed)
    if name == "blobs":
        y = np.arange(points) % classes
        angles = 2 * np.pi * np.arange(classes) / classes + np.pi / 4
        centres = 2.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        X = centres[y] + rng.normal(scale=0.3 + noise, size=(points, 2))
        return X, y.astype(np.int64)
    if name == "overlap":
        y = np.arange(points) % 2
        centres = np.array([[-1.0, -1.0], [1.0, 1.0]])
        X = centres[y] + rng.normal(scale=1.0 + noise, size=(points, 2))
        return X, y.astype(np.int64)
    if name == "xor":
        X = rng.uniform(-3.0, 3.0, size=(points, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
        return X + rng.normal(scale=2 * noise, size=(points, 2)), y
    raise InvalidInputError(f"unknown data set {name!r:.40}; choose among "
                            f"{', '.join(DATASETS)} or upload.")


def split(y, test_fraction, seed):
    """Indices of the training and test parts, stratified by class and seeded.

    Parameters
    ----------
    y : ndarray of shape (m,)
        Class indices.
    test_fraction : float
        The share of the points held out for testing (0: none).
    seed : int
        The random seed of the split.

    Returns
    -------
    train, test : ndarray of int
        Sorted indices into y.
    """
    indices = np.arange(len(y))
    if test_fraction == 0:
        return indices, indices[:0]
    from sklearn.model_selection import train_test_split

    try:
        train, test = train_test_split(indices, test_size=test_fraction, random_state=seed,
                                       stratify=y)
    except ValueError as error:
        raise InvalidInputError(
            f"cannot split {len(y)} points of {len(np.unique(y))} classes with test_fraction "
            f"{test_fraction:g} ({' '.join(str(error).split())}); use more points or another "
            f"test_fraction.") from None
    return np.sort(train), np.sort(test)


class Table:
    """An uploaded CSV table, read as data only.

    Parameters
    ----------
    columns : list of str
        The column names, from the header row.
    cells : list of list of str
        The rows' cells as text (each stripped).
    numeric : dict of str to ndarray
        The columns whose every cell is a finite number, as float64 arrays.

    Attributes
    ----------
    columns, cells, numeric : as given
    rows : int
        The number of rows (without the header).
    """

    def __init__(self, columns, cells, numeric):
        self.columns = columns
        self.cells = cells
        self.numeric = numeric
        self.rows = len(cells)

    def describe(self):
        """The upload's reply: column names, number of rows, names of the numeric columns.

        Returns
        -------
        dict
            {"columns": [...], "rows": m, "numeric": [...]}.
        """
        return {"columns": list(self.columns), "rows": self.rows,
                "numeric": [name for name in self.columns if name in self.numeric]}

    def default_columns(self):
        """A first choice of columns: the first two numeric columns and a label column.

        The label column is the last column with 2 to 4 distinct values that is not one of
        the two features (or, failing that, the last column).

        Returns
        -------
        dict
            {"x1": name, "x2": name, "label": name}.
        """
        numeric = [name for name in self.columns if name in self.numeric]
        labels = [name for name in self.columns
                  if 2 <= len(set(self.column(name))) <= MAX_CLASSES]
        label = labels[-1] if labels else self.columns[-1]
        features = [name for name in numeric if name != label] + [label]
        return {"x1": features[0], "x2": features[1 % len(features)], "label": label}

    def column(self, name):
        """The cells of one column, as text.

        Parameters
        ----------
        name : str

        Returns
        -------
        list of str
        """
        index = self.columns.index(name)
        return [row[index] for row in self.cells]

    def points(self, columns):
        """The chosen columns as the playground's data: coordinates, labels and class names.

        Parameters
        ----------
        columns : dict
            {"x1": name, "x2": name, "label": name}: two numeric columns and a label column
            of 2 to 4 classes.

        Returns
        -------
        X : ndarray of shape (m, 2)
        y : ndarray of shape (m,), int64, the index of each row's class
        classes : ndarray
            The class labels, sorted: numbers where the label column holds numbers (whole
            numbers as int), text otherwise.
        """
        if not isinstance(columns, dict):
            raise InvalidInputError('columns must be {"x1": name, "x2": name, "label": name}, '
                                    'naming columns of the uploaded CSV.')
        for role in ("x1", "x2", "label"):
            name = columns.get(role)
            if name not in self.columns:
                raise InvalidInputError(
                    f"columns[{role!r}] is {name!r:.40}, which is not a column of the "
                    f"uploaded CSV; choose among {_names(self.columns)}.")
        for role in ("x1", "x2"):
            if columns[role] not in self.numeric:
                raise InvalidInputError(
                    f"column {columns[role]!r:.40} (chosen as {role}) does not hold a finite "
                    f"number in every row; choose a column of numbers: "
                    f"{_names([c for c in self.columns if c in self.numeric]) or 'none'}.")
        X = np.stack([self.numeric[columns["x1"]], self.numeric[columns["x2"]]], axis=1)
        name = columns["label"]
        if name in self.numeric:
            values = self.numeric[name]
            labels = values.astype(np.int64) if np.all(values == np.round(values)) else values
        else:
            labels = np.asarray(self.column(name), dtype=object)
        classes, y = np.unique(labels.astype(str) if labels.dtype == object else labels,
                               return_inverse=True)
        if not 2 <= len(classes) <= MAX_CLASSES:
            raise InvalidInputError(
                f"the label column {name!r:.40} holds {len(classes)} distinct value"
                f"{'' if len(classes) == 1 else 's'}; the playground needs 2 to "
                f"{MAX_CLASSES} classes: choose another label column.")
        if labels.dtype == object:
            classes = classes.astype(object)
        return X, y.astype(np.int64), classes


def _names(names, limit=12):
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown + (", ..." if len(names) > limit else "")


def read_csv(data):
    """Read an uploaded CSV file's bytes as a ``Table``, or raise a one-line error with the fix.

    Parameters
    ----------
    data : bytes
        The file's content: UTF-8 (or ASCII) text, a header row of column names, one row per
        example, comma-, semicolon- or tab-separated.

    Returns
    -------
    Table
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(f"the file has {len(data)} bytes; at most {MAX_UPLOAD_BYTES} "
                                f"(2 MiB): upload a sample of the rows.")
    if b"\x00" in data:
        raise InvalidInputError("the file is not text (it holds NUL bytes); upload a CSV "
                                "file: a header row, then one row of values per example.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"the file is not UTF-8 text (byte {error.start}); upload a "
                                f"CSV file saved as UTF-8.") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise InvalidInputError("the file holds fewer than two lines; upload a CSV with a "
                                "header row and one row per example.")
    if len(lines) - 1 > MAX_ROWS:
        raise InvalidInputError(f"the file has {len(lines) - 1} rows; at most {MAX_ROWS}: "
                                f"upload a sample of the rows.")
    delimiter = max(",;\t", key=lines[0].count)
    try:
        rows = [[cell.strip() for cell in row]
                for row in csv.reader(lines, delimiter=delimiter, strict=True)]
    except csv.Error as error:
        raise InvalidInputError(f"the file is not valid CSV ({error}); upload a CSV file: a "
                                f"header row, then one row of values per example.") from None
    header, cells = rows[0], [row for row in rows[1:] if any(row)]
    if len(header) < 3:
        raise InvalidInputError(f"the file has {len(header)} column"
                                f"{'' if len(header) == 1 else 's'}; expected at least three "
                                f"(two features and a label), separated by commas.")
    if any(not name for name in header) or len(set(header)) != len(header):
        raise InvalidInputError("the header row must name every column once (no empty or "
                                "repeated names); fix the first line of the file.")
    if all(_number(name) is not None for name in header):
        raise InvalidInputError("the first row holds numbers, not column names; add a header "
                                "row naming the columns, e.g. x1,x2,label.")
    for number, row in enumerate(cells, start=2):
        if len(row) != len(header):
            raise InvalidInputError(f"line {number} has {len(row)} values, the header "
                                    f"{len(header)}; give every row one value per column.")
    if len(cells) < MIN_ROWS:
        raise InvalidInputError(f"the file has {len(cells)} rows; at least {MIN_ROWS} are "
                                f"needed to train and test.")
    numeric = {}
    for index, name in enumerate(header):
        values = [_number(row[index]) for row in cells]
        if all(value is not None for value in values):
            bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
            if bad is not None:
                raise InvalidInputError(
                    f"line {bad + 2}, column {name!r:.40}: {cells[bad][index]!r:.20} is not a "
                    f"finite number; remove that row or fill in a value.")
            huge = next((i for i, v in enumerate(values) if abs(v) > LARGEST_VALUE), None)
            if huge is not None:  # x², a spread or a mean of such values overflow
                raise InvalidInputError(
                    f"line {huge + 2}, column {name!r:.40}: {cells[huge][index]!r:.20} is too "
                    f"large (beyond ±{LARGEST_VALUE:g}: its square overflows); rescale that "
                    f"column, e.g. to other units.")
            numeric[name] = np.asarray(values, dtype=np.float64)
    if len(numeric) < 2:
        raise InvalidInputError(
            f"the file has {len(numeric)} column{'' if len(numeric) == 1 else 's'} of numbers "
            f"(a number in every row); the playground needs two numeric feature columns: "
            f"fix the cells that are not numbers.")
    return Table(header, cells, numeric)


def _number(cell):
    """The cell as a float, or None where it is not a number (text is never evaluated)."""
    try:
        return float(cell)
    except ValueError:
        return None


def read_csv_text(text):
    """Read CSV text (a str) as a ``Table``; see ``read_csv``.

    Parameters
    ----------
    text : str

    Returns
    -------
    Table
    """
    return read_csv(text.encode("utf-8"))


__all__ = ["DATASETS", "MAX_ROWS", "MAX_UPLOAD_BYTES", "Table", "make_points", "read_csv",
           "read_csv_text", "split"]
