"""Loaders: every supported source becomes a ``Dataset`` in the notes' layout.

Sources: the exercise's .h5 files (``train_set_x`` / ``train_set_y`` / ``list_classes``), a folder
of images with one sub-folder per class, a CSV with a named label column, an NPZ table, and
scikit-learn's bundled digits (as 8×8 images) and breast-cancer sets.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from logreg.checks import check_features, encode_labels
from logreg.data.images import flatten_images, list_images, read_images
from logreg.errors import DataFileError, InvalidInputError

DEFAULT_IMAGE_SIZE = (64, 64)  # the exercise's images are 64×64×3


@dataclass
class Dataset:
    """Raw features X (n_x, m), labels Y (1, m) of 0/1, and what they mean.

    ``classes[0]`` is label 0, ``classes[1]`` label 1. ``image_shape`` is (h, w, c) for images,
    None for tables; ``feature_names`` names the rows of X for tables.
    """

    X: np.ndarray
    Y: np.ndarray
    classes: list
    source: str
    image_shape: tuple = None
    feature_names: list = None
    label_column: str = None

    @property
    def m(self):
        return self.X.shape[1]


def _labels_for(labels, classes):
    """Encode labels against a model's classes, or find the two classes of training labels."""
    Y, found = encode_labels(labels, classes)
    return Y, [value.item() if hasattr(value, "item") else value for value in found]


# --- the exercise's .h5 files ------------------------------------------------------------


def load_h5(path, split=None):
    """The exercise's HDF5 layout: ``{split}_set_x`` (m, h, w, c) uint8, ``{split}_set_y`` (m,),
    ``list_classes``. ``split`` ("train" or "test") is found from the keys when the file holds one.
    """
    import h5py

    path = Path(path)
    try:
        handle = h5py.File(path, "r")
    except FileNotFoundError:
        raise DataFileError(f"{path} does not exist; expected an .h5 file.") from None
    except OSError as error:
        raise DataFileError(f"{path} is not a readable HDF5 file ({error}).") from None
    with handle:
        keys = sorted(handle.keys())
        splits = sorted(key[: -len("_set_x")] for key in keys if key.endswith("_set_x")
                        and key[: -len("_set_x")] + "_set_y" in keys)
        if split is None and len(splits) == 1:
            split = splits[0]
        if split not in splits:
            raise DataFileError(
                f"{path} holds the keys {keys}; expected the exercise's layout: "
                f"'train_set_x' and 'train_set_y' (or 'test_set_x' and 'test_set_y'), and "
                f"'list_classes'" + (f"; it holds the splits {splits}: name one." if splits
                                     else "."))
        images = np.asarray(handle[f"{split}_set_x"][()])
        labels = np.asarray(handle[f"{split}_set_y"][()]).reshape(-1)
        names = ([name.decode() if isinstance(name, bytes) else str(name)
                  for name in handle["list_classes"][()]] if "list_classes" in handle else None)
    if images.ndim == 3:
        images = images[..., np.newaxis]  # grayscale stack (m, h, w) → (m, h, w, 1)
    if images.ndim != 4 or images.shape[0] != labels.shape[0]:
        raise DataFileError(
            f"{path}: {split}_set_x has shape {images.shape} and {split}_set_y "
            f"{labels.shape}; expected images (m, h, w, c) and m labels.")
    if names is None or len(names) != 2:
        names = ["0", "1"]
    if not np.isin(labels, (0, 1)).all():
        raise DataFileError(f"{path}: {split}_set_y holds {np.unique(labels).tolist()}; "
                            f"expected labels 0 and 1 indexing list_classes.")
    X = check_features(flatten_images(images), name=f"{split}_set_x")
    return Dataset(X, labels.reshape(1, -1).astype(np.float64), names, str(path),
                   image_shape=tuple(images.shape[1:]))


# --- a folder of images, one sub-folder per class ----------------------------------------


def load_image_folder(path, image_size=DEFAULT_IMAGE_SIZE, channels=3, classes=None):
    """Images in ``path/<class>/...``, resized to ``image_size`` (h, w) with ``channels`` 1 or 3.

    The sub-folders' names, sorted, are the classes (exactly two). Given a model's ``classes``,
    the sub-folders must be among them.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataFileError(f"{path} is not a folder; expected a folder with one sub-folder "
                            f"of images per class.")
    folders = sorted(sub for sub in path.iterdir() if sub.is_dir()
                     and not sub.name.startswith("."))
    if classes is None and len(folders) != 2:
        raise DataFileError(
            f"{path} has {len(folders)} sub-folders ({[f.name for f in folders]}); expected "
            f"exactly two, one per class, each holding that class's images.")
    paths, labels = [], []
    for folder in folders:
        images = list_images(folder)
        paths += images
        labels += [folder.name] * len(images)
    if not paths:
        raise DataFileError(f"{path} holds no image files in its sub-folders; expected "
                            f"images such as .png or .jpg.")
    Y, names = _labels_for(np.array(labels), classes)
    stack = read_images(paths, image_size, channels)
    return Dataset(flatten_images(stack), Y, names, str(path),
                   image_shape=tuple(stack.shape[1:]))


# --- tables: CSV and NPZ --------------------------------------------------------------


def read_csv_table(path, label_column=None, feature_names=None):
    """A CSV with a header row: (features (m, n) float, labels or None, feature names).

    ``feature_names`` (a model's) picks and orders the feature columns by name; otherwise every
    column but ``label_column`` is a feature.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            rows = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise DataFileError(f"{path} does not exist; expected a CSV file.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataFileError(f"{path} is not a readable CSV file ({error}).") from None
    numbered = [(number, row) for number, row in rows if any(cell.strip() for cell in row)]
    if len(numbered) < 2:
        raise DataFileError(f"{path} holds {len(numbered)} non-empty line(s); expected a "
                            f"header line and at least one row of data.")
    line_numbers = [number for number, _ in numbered[1:]]
    rows = [row for _, row in numbered]
    header = [name.strip() for name in rows[0]]
    for number, row in zip(line_numbers, rows[1:]):
        if len(row) != len(header):
            raise DataFileError(
                f"{path}, line {number}: {len(row)} fields; expected {len(header)} as in the "
                f"header. Every row needs one value per column.")
    if label_column is not None and label_column not in header:
        raise DataFileError(
            f"{path} has no column {label_column!r}; its columns are {header}. Name the label "
            f"column with --label-column.")
    names = feature_names or [name for name in header if name != label_column]
    missing = [name for name in names if name not in header]
    if missing:
        raise DataFileError(f"{path} lacks the feature columns {missing} that the model "
                            f"needs; its columns are {header}.")
    columns = [header.index(name) for name in names]
    body = np.array(rows[1:], dtype=object)
    features = np.empty((len(body), len(columns)))
    for j, column in enumerate(columns):
        try:
            features[:, j] = body[:, column].astype(float)
        except ValueError:
            row = next(i for i, cell in enumerate(body[:, column]) if not _is_float(cell))
            raise DataFileError(
                f"{path}, line {line_numbers[row]}, column {names[j]!r}: "
                f"{body[row, column]!r} is not a number; expected numbers in every feature "
                f"column.") from None
    labels = None
    if label_column is not None:
        labels = _typed_labels([cell.strip() for cell in body[:, header.index(label_column)]])
    return features, labels, names


def _is_float(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _typed_labels(cells):
    """CSV labels as numbers when every label is one (so 2 < 10), else as text."""
    if all(_is_float(cell) for cell in cells):
        numbers = np.array(cells, dtype=float)
        return numbers.astype(int) if np.all(numbers == np.round(numbers)) else numbers
    return np.array(cells)


def load_csv(path, label_column="label", classes=None, feature_names=None):
    """A CSV table, one row per example, with a header and a label column named ``label_column``."""
    features, labels, names = read_csv_table(path, label_column, feature_names)
    Y, found = _labels_for(labels, classes)
    X = check_features(features.T, name=f"features of {path}")
    return Dataset(X, Y, found, str(path), feature_names=names, label_column=label_column)


def load_npz(path, classes=None):
    """An .npz table: ``X`` with one row per example (m, n) and labels ``y`` (m,).

    Also takes the notes' layout: ``X`` (n_x, m) with ``Y`` of shape (1, m). Never unpickles.
    """
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds one array (.npy), not named arrays")
        with archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise DataFileError(f"{path} does not exist; expected an .npz file.") from None
    except (OSError, ValueError) as error:
        raise DataFileError(f"{path} is not a readable .npz of plain arrays ({error}).") from None
    if "X" not in arrays or not ({"y", "Y"} & arrays.keys()):
        raise DataFileError(f"{path} holds the arrays {sorted(arrays)}; expected 'X' and "
                            f"'y' (rows are examples) or 'X' and 'Y' (the notes' layout).")
    X = arrays["X"]
    if "Y" in arrays and arrays["Y"].ndim == 2 and arrays["Y"].shape[0] == 1:
        labels = arrays["Y"].ravel()  # the notes' layout: X is (n_x, m) already
    else:
        labels = arrays.get("y", arrays.get("Y")).ravel()
        X = np.asarray(X).T if np.ndim(X) == 2 else X
    X = check_features(X, name=f"X of {path}")
    if X.shape[1] != labels.size:
        raise DataFileError(f"{path} holds {X.shape[1]} examples in X but {labels.size} "
                            f"labels; expected one label per example.")
    Y, found = _labels_for(labels, classes)
    return Dataset(X, Y, found, str(path))


# --- scikit-learn's bundled data sets ----------------------------------------------------


def load_digits_task(negative=3, positive=8, test_size=0.25, random_state=0):
    """The built-in task: scikit-learn's 8×8 digits, ``negative`` against ``positive``.

    The digits' 0..16 intensities become 0..255 pixels, so they take the same image path as any
    picture: stack (m, 8, 8, 1) → columns → /255. Returns (train, test), a stratified split
    (test is None for ``test_size=0``).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    keep = np.isin(digits.target, (negative, positive))
    images = np.round(digits.images[keep] * (255 / 16)).astype(np.uint8)[..., np.newaxis]
    labels = (digits.target[keep] == positive).astype(np.float64)
    names = [str(negative), str(positive)]
    source = f"scikit-learn digits, {negative} against {positive}"
    if not test_size:
        return Dataset(flatten_images(images), labels.reshape(1, -1), names, source,
                       image_shape=images.shape[1:]), None
    train_images, test_images, train_labels, test_labels = train_test_split(
        images, labels, test_size=test_size, random_state=random_state, stratify=labels)
    return tuple(Dataset(flatten_images(stack), y.reshape(1, -1), names, source,
                         image_shape=stack.shape[1:])
                 for stack, y in ((train_images, train_labels), (test_images, test_labels)))


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

BUILT_IN = {"digits": "scikit-learn digits, 3 against 8, as 8×8 images",
            "breast-cancer": "scikit-learn breast cancer, 30 features"}


def load_dataset(source, *, label_column="label", image_size=None, channels=3, classes=None,
                 feature_names=None, split=None):
    """Any supported source by its path (or a built-in name): folder, .h5, .csv or .npz."""
    if source == "breast-cancer":
        return load_breast_cancer_table(feature_names)
    if source == "digits":
        return load_digits_task()[0 if split != "test" else 1]
    path = Path(source)
    suffix = path.suffix.lower()
    if path.is_dir():
        return load_image_folder(path, image_size or DEFAULT_IMAGE_SIZE, channels, classes)
    if not path.exists():
        raise DataFileError(
            f"{path} does not exist; expected a folder of images, an .h5, .csv or .npz file, or "
            f"a built-in data set ({', '.join(BUILT_IN)}).")
    if suffix in (".h5", ".hdf5"):
        return load_h5(path, split)
    if suffix == ".csv":
        return load_csv(path, label_column, classes, feature_names)
    if suffix == ".npz":
        return load_npz(path, classes)
    raise DataFileError(f"{path}: the suffix {suffix or '(none)'} is not a known data format; "
                        f"expected a folder of images, .h5, .csv or .npz.")


def split_dataset(dataset, test_size, random_state=0):
    """(train, test): a stratified split of the examples, the same for the same seed."""
    from dataclasses import replace

    from sklearn.model_selection import train_test_split

    labels = dataset.Y.ravel()
    if np.unique(labels).size < 2 or min(np.bincount(labels.astype(int))) < 2:
        raise InvalidInputError(
            f"{dataset.source} has too few examples of a class to hold some out for testing; "
            f"give --test-data, or --test-size 0 to test on nothing.")
    train, test = train_test_split(np.arange(dataset.m), test_size=test_size,
                                   random_state=random_state, stratify=labels)
    return tuple(replace(dataset, X=dataset.X[:, part], Y=dataset.Y[:, part])
                 for part in (train, test))


def check_same_kind(dataset, image_shape):
    """Refuse data whose images or features differ from what a model was trained on."""
    if image_shape is not None and dataset.image_shape is not None \
            and tuple(dataset.image_shape) != tuple(image_shape):
        raise InvalidInputError(
            f"{dataset.source} holds images of shape {tuple(dataset.image_shape)}; the model "
            f"was trained on images of shape {tuple(image_shape)}. Resize them, or use a "
            f"folder of images, which is resized to the model's size.")
    return dataset
