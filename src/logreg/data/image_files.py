"""Images from files: the exercise's .h5 files and a folder of images, one sub-folder per class.

The .h5 layout is the exercise's (``train_set_x`` / ``train_set_y`` / ``list_classes``); a
folder's sub-folders, sorted, are the classes, its images resized to one size. Nothing a file
says is trusted: every array is checked for rank, kind and size before it is read.
"""

import os
from pathlib import Path

import numpy as np

from logreg.core.checks import check_features, check_input_file, check_memory
from logreg.data.dataset import Dataset, labels_for, shown_values
from logreg.data.images import check_image_size, flatten_images, list_images, read_images
from logreg.errors import DataFileError

DEFAULT_IMAGE_SIZE = (64, 64)  # the exercise's images are 64×64×3


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
                 f"{len(empty)} classes ({shown_values(empty)}) have")
        raise DataFileError(f"{path}: {which} no image files in its sub-folder; expected at "
                            f"least one image of every class. Add images, or remove the "
                            f"empty sub-folder.")
    Y, names = labels_for(np.array(labels), classes, path)
    stack = read_images(paths, image_size, channels)
    return Dataset(flatten_images(stack), Y, names, str(path),
                   image_shape=tuple(stack.shape[1:]))


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
