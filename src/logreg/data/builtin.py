"""scikit-learn's bundled data sets, built in by name: the digits (as 8×8 images: 3 against 8,
or all ten) and the breast-cancer table."""

import numpy as np

from logreg.data.dataset import Dataset
from logreg.data.images import flatten_images
from logreg.data.partition import split_dataset
from logreg.errors import InvalidInputError


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


BUILT_IN = {"digits": "scikit-learn digits, 3 against 8, as 8×8 images",
            "digits10": "scikit-learn digits, all ten classes 0-9, as 8×8 images",
            "breast-cancer": "scikit-learn breast cancer, 30 features"}
BUILT_IN_IMAGES = {"digits": load_digits_task, "digits10": load_digits10}  # (train, test)
