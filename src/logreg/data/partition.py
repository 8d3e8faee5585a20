"""The one cut of a data set in two: scikit-learn's stratified ``train_test_split``, seeded.

`logreg train` holds out its test part with it, the built-in sets are split with it, and the
split policy (``logreg.data.split``) finds a model's held-out rows again with it.
"""

import math
from dataclasses import replace

import numpy as np

from logreg.errors import InvalidInputError


def split_dataset(dataset, test_size, random_state=0):
    """(train, test): a stratified split of the examples, the same for the same seed."""
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
