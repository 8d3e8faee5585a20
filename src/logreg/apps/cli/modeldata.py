"""A model file and the data it is used on, for `logreg predict`, `evaluate` and `summary`:
the model with the scaling of its training data, labelled data read as the model was trained
(and, where they are its own training data, the rows the data policy gives), and which rows
those are, in words."""

import numpy as np

from logreg.apps.cli.sources import (
    check_density_by_name,
    check_labels_option,
    check_same_density,
    is_csv,
)
from logreg.data import (
    Scaling,
    check_same_kind,
    check_source_kind,
    index_labels,
    load_whole,
    model_rows,
    no_scaling,
    take,
)
from logreg.errors import InvalidInputError


def model_and_scaling(path):
    """(estimator, scaling, preprocessing) of the model file at ``path``: the model, the
    scaling its training data had, and the record of how they were read."""
    from logreg.model.estimator import load

    estimator = load(path)
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_  # the command picks a CSV's columns by name itself
    preprocessing = estimator.metadata_.get("preprocessing") or {}
    record = preprocessing.get("scaling") or no_scaling().to_dict()
    try:
        scaling = Scaling.from_dict(record, estimator.n_features_in_)
    except InvalidInputError as error:
        from logreg.errors import ModelFileError
        raise ModelFileError(f"{path}: {error}") from None
    return estimator, scaling, preprocessing


def model_data(estimator, preprocessing, source, label_column, labels=None, part="test",
               all_rows=False):
    """Labelled data shaped as the model was trained: same kind, image size, classes and
    features, Y the index of each label among the model's classes; data of another kind are
    refused before they are read. Where ``source`` is the model's training data (the data
    policy, logreg.data.split), ``part="test"`` (evaluate) gives the part `logreg train` held
    out, ``part="train"`` (summary) the part it trained on; ``all_rows``, or other data: every
    row. ``dataset.rows`` says which (a ``Rows``)."""
    image_shape, n_x = preprocessing.get("image_shape"), estimator.n_features_in_
    if label_column is not None and not is_csv(str(source)):
        raise InvalidInputError(f"--label-column {label_column!r:.80} names a column of a "
                                f"CSV; --data {source:.200} is no CSV (its labels are where "
                                f"its format keeps them). Leave --label-column out.")
    check_labels_option("--labels", labels, "--data", source)
    check_source_kind(source, image_shape, n_x)
    check_density_by_name(source, labels, bool(preprocessing.get("sparse")), image_shape, n_x,
                          "the model was trained on")
    classes = estimator.classes_.tolist()
    dataset = load_whole(
        source, part, label_column=label_column or preprocessing.get("label_column") or "label",
        image_size=tuple(image_shape[:2]) if image_shape else None,
        channels=image_shape[2] if image_shape else 3, classes=classes,
        feature_names=estimator.metadata_.get("feature_names"), labels=labels,
        n_features=n_x, zero_based=preprocessing.get("zero_based"))
    rows = model_rows(estimator.metadata_.get("split"), dataset, source,
                      "held-out" if part == "test" else "training", all_rows)
    dataset = take(dataset, rows)
    dataset.rows = rows
    check_same_kind(dataset, image_shape, n_x)
    check_same_density(dataset, bool(preprocessing.get("sparse")), "the model was trained on")
    if list(dataset.classes) != classes:  # an .h5's or a built-in set's own classes: by name
        names = np.asarray(dataset.classes)[dataset.Y.ravel().astype(np.int64)]
        try:
            dataset.Y, dataset.classes = index_labels(names, classes)[0], classes
        except InvalidInputError as error:
            raise InvalidInputError(f"{dataset.source}: {error}") from None
    return dataset


def rows_words(dataset, verb):
    """Which rows of ``dataset`` a command used (``dataset.rows``), in words: "143 held-out
    examples of X (train kept the other 426; --all-rows scores all 569)"."""
    rows, source = dataset.rows, dataset.source
    if rows.kind == "held-out":
        return (f"{rows.m} held-out examples of {source} (train kept the other "
                f"{rows.total - rows.m}; --all-rows {verb} all {rows.total})")
    if rows.held_out:  # --all-rows on the model's own data
        return (f"all {rows.m} examples of {source}, the {rows.total - rows.held_out} train "
                f"kept included (--all-rows)")
    return f"{source}: {rows.m} examples"
