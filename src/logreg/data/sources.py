"""One entry point for every source: ``load_dataset`` by path or built-in name, and what kind
of data (images or a table) a source holds, told before it is read and checked after."""

from pathlib import Path

from logreg.data.builtin import BUILT_IN, BUILT_IN_IMAGES, load_breast_cancer_table
from logreg.data.image_files import DEFAULT_IMAGE_SIZE, is_folder, load_h5, load_image_folder
from logreg.data.sparse_files import (
    SVMLIGHT_SUFFIXES,
    is_svmlight,
    load_sparse_npz,
    load_svmlight,
)
from logreg.data.tables import load_csv, load_npz
from logreg.errors import DataFileError, InvalidInputError


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
