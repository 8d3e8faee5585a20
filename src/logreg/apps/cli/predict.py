"""`logreg predict`: a model file and images, a CSV or a sparse table → one probability per
class and the label, per input, read and scaled as the model's training data were."""

import sys
from pathlib import Path

import numpy as np

from logreg.apps.cli.modeldata import model_and_scaling, rows_words
from logreg.apps.cli.options import add_data_options, add_rows_option
from logreg.data import (
    SVMLIGHT_SUFFIXES,
    csv_columns,
    describe_kind,
    flatten_images,
    is_folder,
    is_svmlight,
    list_images,
    load_dataset,
    model_rows,
    read_csv_table,
    read_images,
    read_sparse_npz,
    read_svmlight,
)
from logreg.errors import InvalidInputError, LogregError


def add_parser(commands):
    """Add `logreg predict` to ``commands`` (argparse's sub-parsers)."""
    predict = commands.add_parser("predict", help="one probability per class and the label, "
                                  "for each input", description="Print P(class) for every "
                                  "class of the model and the predicted label, for each image "
                                  "file, each row of a CSV, or each row of a sparse table (an "
                                  "svmlight file, whose labels are ignored, or a sparse .npz), "
                                  "scaled as the model's training data were. The CSV or "
                                  "svmlight file the model was trained on (or a copy) gives the "
                                  "rows train held out, unless --all-rows.")
    predict.add_argument("model", help="a model file written by `logreg train`")
    predict.add_argument("inputs", nargs="+", help="image files, folders of images, a CSV, or "
                         "one sparse table (svmlight, or an .npz of scipy.sparse.save_npz) for "
                         "a model trained on one")
    add_data_options(predict, default=None)
    add_rows_option(predict, "predict every row (without it, the CSV or svmlight file the "
                    "model was trained on, or a copy of it, gives only the rows train held "
                    "out, said in one line on stderr; other inputs are predicted whole)")
    predict.set_defaults(run=run)


def run(args):
    """``logreg predict``: one probability per class and the label for each input."""
    estimator, scaling, preprocessing = model_and_scaling(args.model)
    names, X = _inputs(args, estimator, preprocessing)
    n_x = estimator.n_features_in_
    if X.shape[0] != n_x:
        given = args.inputs[0] if len(args.inputs) == 1 else "the inputs"
        raise InvalidInputError(
            f"{given} gives X of shape {X.shape} ({X.shape[0]} features); the model was "
            f"trained on {describe_kind(preprocessing.get('image_shape'), n_x)}, X of shape "
            f"({n_x}, m). Give data with the same features.")
    X_rows = scaling.apply(X).T
    # the estimator's own decision: two classes ŷ = σ(z), label classes_[1] where z > 0;
    # K classes A = softmax(Z), the label of the largest
    probabilities, labels = estimator.predict_proba(X_rows), estimator.predict(X_rows)
    width = max(len("input"), *(len(name) for name in names))
    headers = [f"P({name})" for name in estimator.classes_.tolist()]
    widths = [max(len(header), len("0.000000")) for header in headers]
    print(f"{'input':<{width}}  " + "  ".join(f"{header:>{w}}" for header, w in
                                              zip(headers, widths)) + "  label")
    for name, row, label in zip(names, probabilities, labels):
        print(f"{name:<{width}}  " + "  ".join(f"{p:>{w}.6f}" for p, w in zip(row, widths))
              + f"  {label}")
    return 0


def _inputs(args, estimator, preprocessing):
    """(names, raw X (n_x, m)) from image files/folders, one CSV or one sparse table."""
    image_shape = preprocessing.get("image_shape")
    paths = [Path(p) for p in args.inputs]
    sparse_inputs = [p for p in paths if is_svmlight(p) or p.suffix.lower() == ".npz"]
    if preprocessing.get("sparse") or sparse_inputs:
        return _sparse_inputs(args, estimator, preprocessing, paths)
    is_table = len(paths) == 1 and paths[0].suffix.lower() == ".csv"
    if args.label_column is not None and not is_table:
        raise InvalidInputError(f"--label-column {args.label_column!r:.80} names a column of a "
                                f"CSV; the inputs are images. Leave --label-column out.")
    if is_table:
        if image_shape:
            raise InvalidInputError(
                f"{paths[0]} is a table; the model was trained on "
                f"{describe_kind(image_shape, estimator.n_features_in_)}. Give image files "
                f"or folders of images.")
        label_column = args.label_column or preprocessing.get("label_column")
        if args.label_column is not None and args.label_column not in csv_columns(paths[0]):
            raise InvalidInputError(
                f"--label-column {args.label_column!r:.80}: {paths[0]} has no such column (its "
                f"columns: {', '.join(csv_columns(paths[0]))[:300]}). Name one of them, or "
                f"leave --label-column out.")
        features, _, _ = read_csv_table(paths[0], None, estimator.metadata_.get(
            "feature_names") or _csv_features(paths[0], label_column))
        index = _predicted_rows(args, estimator, paths[0], label_column=label_column or "label",
                                feature_names=estimator.metadata_.get("feature_names"))
        index = np.arange(len(features)) if index is None else index
        return [f"row {i + 1}" for i in index], features[index].T
    if not image_shape:
        raise InvalidInputError(
            f"{paths[0]} is not a CSV table; this model was trained on "
            f"{describe_kind(None, estimator.n_features_in_)}, not images. Give one CSV with "
            f"the same feature columns.")
    files = []
    for path in paths:
        if is_folder(path):
            files += list_images(path)
        elif path.suffix.lower() == ".csv":
            raise InvalidInputError(f"{path}: give either one CSV or image files, not both.")
        else:
            files.append(path)
    if not files:
        raise InvalidInputError("no image files among the inputs; expected image files or "
                                "folders holding images.")
    stack = read_images(files, tuple(image_shape[:2]), image_shape[2])
    return [str(f) for f in files], flatten_images(stack)


def _predicted_rows(args, estimator, path, **options):
    """The rows of a CSV or an svmlight file to predict (None: all): where it is the model's
    training data (the data policy, logreg.data.split), the part train held out, said in one
    line on stderr; --all-rows, a CSV without the label column, labels the model does not
    know: all. ``options``: how ``load_dataset`` reads the file as the model's data."""
    split = estimator.metadata_.get("split")
    if split is None or args.all_rows or (
            "label_column" in options and options["label_column"] not in csv_columns(path)):
        return None
    try:
        dataset = load_dataset(path, classes=estimator.classes_.tolist(), **options)
    except LogregError:  # not labelled data the model knows: not its training data
        return None
    dataset.rows = model_rows(split, dataset, path, "held-out")
    if dataset.rows.index is None:
        return None
    print(f"logreg predict: predicting {rows_words(dataset, 'predicts')}", file=sys.stderr)
    return dataset.rows.index


def _sparse_inputs(args, estimator, preprocessing, paths):
    """(names "row i", X (n_x, m) sparse CSC) from one svmlight file or one sparse .npz, for a
    model trained on a sparse table; anything else is refused, naming what the model needs."""
    n_x = estimator.n_features_in_
    if not preprocessing.get("sparse"):
        raise InvalidInputError(
            f"{paths[0]}: this model was trained on "
            f"{describe_kind(preprocessing.get('image_shape'), n_x)}; give "
            f"{'image files or folders' if preprocessing.get('image_shape') else 'one CSV'} "
            f"like its training data (svmlight files and .npz go to a model trained on a "
            f"sparse table).")
    if args.label_column is not None:
        raise InvalidInputError(f"--label-column {args.label_column!r:.80} names a column of a "
                                f"CSV; the input is a sparse table. Leave --label-column out.")
    if len(paths) != 1 or not (is_svmlight(paths[0]) or paths[0].suffix.lower() == ".npz"):
        raise InvalidInputError(
            f"this model was trained on a sparse table of {n_x} features; give one svmlight "
            f"file ({', '.join(SVMLIGHT_SUFFIXES)}) or one .npz written by "
            f"scipy.sparse.save_npz, not {len(paths)} input(s) such as {paths[0]!s:.200}.")
    index = None
    if is_svmlight(paths[0]):  # its labels only tell whether it is the model's training data
        rows = read_svmlight(paths[0], n_x, preprocessing.get("zero_based"))[0]
        index = _predicted_rows(args, estimator, paths[0], n_features=n_x,
                                zero_based=preprocessing.get("zero_based"))
    else:
        rows = read_sparse_npz(paths[0])
    index = np.arange(rows.shape[0]) if index is None else index
    return [f"row {i + 1}" for i in index], rows[index].T


def _csv_features(path, label_column):
    """Every column but the label column, for a model that did not record feature names."""
    return [name for name in csv_columns(path) if name != label_column]
