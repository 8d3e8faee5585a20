"""The training data of `logreg train` and `logreg rates`: --data and --test-data read (or
--data split) into a training and a test set, every class present, and the scaling the
training set calls for."""

import numpy as np

from logreg.apps.cli.sources import check_data_options, check_density_by_name, check_same_density
from logreg.core import text
from logreg.data import (
    DEFAULT_IMAGE_SIZE,
    check_image_size,
    check_same_kind,
    check_source_kind,
    image_scaling,
    load_dataset,
    load_whole,
    max_abs,
    split_dataset,
    split_record,
    standardize,
)
from logreg.errors import InvalidInputError


def training_sets(args):
    """(train, test) Datasets from --data / --test-data; test may be None."""
    if not 0 <= args.test_size < 1:
        raise InvalidInputError(f"--test-size {args.test_size}; expected a share from 0 "
                                f"(hold out nothing) up to, not including, 1.")
    check_data_options(args)
    channels = 1 if args.grayscale else 3
    image_size = tuple(args.image_size or DEFAULT_IMAGE_SIZE)
    check_image_size(image_size, channels, name="--image-size")  # before any work
    label_column = args.label_column or "label"
    held_out = 0 if args.test_data else args.test_size
    whole = load_whole(args.data, "train", label_column=label_column, image_size=image_size,
                       channels=channels, labels=args.labels)
    train, test = split_dataset(whole, held_out) if held_out else (whole, None)
    if test is not None:  # recorded once in the model file (logreg.data.split)
        train.split = split_record(whole, test, held_out, args.data)
    if args.test_data:
        image_shape, expected = train.image_shape, f"--data {args.data} holds"
        check_source_kind(args.test_data, image_shape, train.X.shape[0], expected)
        check_density_by_name(args.test_data, args.test_labels, train.sparse, image_shape,
                              train.X.shape[0], expected)
        test = load_dataset(args.test_data, label_column=label_column,
                            image_size=image_shape[:2] if image_shape else None,
                            channels=image_shape[2] if image_shape else 3,
                            classes=train.classes, feature_names=train.feature_names,
                            split="test", labels=args.test_labels,
                            n_features=train.X.shape[0], zero_based=train.zero_based)
        check_same_kind(test, image_shape, train.X.shape[0], expected)
        check_same_density(test, train.sparse, f"--data {args.data} is")
    _check_every_class_present(train)
    return train, test


def _check_every_class_present(train):
    """Each class the data name needs a training example: a class without one cannot be
    learned (an .h5's list_classes may name more classes than its labels use)."""
    counts = np.bincount(train.Y.ravel().astype(np.int64), minlength=len(train.classes))
    missing = [name for name, count in zip(train.classes, counts) if count == 0]
    if missing:
        raise InvalidInputError(
            f"{train.source} names the classes {_names(train.classes)} but has no training "
            f"example of {_names(missing)}; expected at least one example of every class. "
            f"Add examples, or leave that class out.")


def _names(classes, limit=10):
    """'a', 'b' and 'c', for messages: at most ``limit`` names, then how many more."""
    return text.quoted_list(classes, limit)


def scaling_for(train):
    """Images: /255 as the exercise; a table: per-feature μ, σ of the training data; a sparse
    table: per-feature max|x| of the training data (no centring: it stays sparse)."""
    if train.image_shape:
        return image_scaling()
    return max_abs(train.X) if train.sparse else standardize(train.X)
