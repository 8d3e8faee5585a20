"""`logreg evaluate`: a model file and labelled data → accuracy, log loss, the K×K confusion
matrix and the ROC AUC, as text or one JSON document; with --plots, the pictures."""

from pathlib import Path

import numpy as np

from logreg.apps.cli.modeldata import model_and_scaling, model_data, rows_words
from logreg.apps.cli.options import LABELS_HELP, add_data_options, add_rows_option
from logreg.data import vectors_to_images
from logreg.errors import InvalidInputError
from logreg.model import pictures


def add_parser(commands):
    """Add `logreg evaluate` to ``commands`` (argparse's sub-parsers)."""
    evaluate = commands.add_parser("evaluate", help="accuracy, log loss and K×K confusion "
                                   "matrix, ROC AUC; pictures with --plots", description="Score "
                                   "a model on labelled data: accuracy, log loss and the K×K "
                                   "confusion matrix (rows: true class, columns: predicted "
                                   "class, in the model's order of classes), then the ROC AUC "
                                   "(K classes: one-vs-rest, macro and micro averages). --json "
                                   "prints every figure as one JSON document; --plots DIR "
                                   "draws the ROC and precision-recall curves, the calibration "
                                   "diagram, the confusion matrix and, for images, every "
                                   "misclassified image.")
    evaluate.add_argument("model", help="a model file written by `logreg train`")
    evaluate.add_argument("--data", required=True, help="labelled data, in any form that "
                          "`logreg train --data` takes; the model's own --data (a built-in "
                          "set, that file or a copy of it) is scored on the part train held "
                          "out, other data whole")
    evaluate.add_argument("--labels", metavar="FILE", help="the labels of a sparse .npz "
                          "--data: " + LABELS_HELP)
    add_data_options(evaluate, default=None)
    add_rows_option(evaluate, "score every row of the model's own --data, the ones train "
                    "kept included (other data are scored whole anyway)")
    evaluate.add_argument("--plots", metavar="DIR", help="write the pictures into DIR "
                          "(created if missing): roc, precision_recall, calibration, "
                          "confusion_matrix and, for images, misclassified (every "
                          "misclassified image with its true label and the predicted "
                          "probability); K classes one-vs-rest")
    evaluate.add_argument("--format", choices=list(pictures.FORMATS), help="--plots: the "
                          "pictures' format (default: png)")
    evaluate.add_argument("--json", action="store_true", help="print every figure as one "
                          "JSON document (ROC AUC, average precision, Brier score, per-class "
                          "precision, recall, F1, calibration bins, ...)")
    evaluate.set_defaults(run=run)


def run(args):
    """``logreg evaluate``: score a model on labelled data; with ``--plots``, its pictures."""
    from logreg.model import evaluation

    if args.format is not None and args.plots is None:
        raise InvalidInputError(f"--format {args.format} applies to the pictures of --plots "
                                f"DIR; give --plots DIR or leave --format out.")
    folder = None if args.plots is None else pictures.plots_folder(args.plots)
    estimator, scaling, preprocessing = model_and_scaling(args.model)
    dataset = model_data(estimator, preprocessing, args.data, args.label_column, args.labels,
                         all_rows=args.all_rows)
    X_rows = scaling.apply(dataset.X).T
    labels = np.asarray(estimator.classes_)[dataset.Y.ravel().astype(np.int64)]
    report = evaluation.evaluate(estimator, X_rows, labels)
    rows = dataset.rows  # which rows were scored, for machines too
    report.update(rows="held-out" if rows.kind == "held-out" else "all", m_data=rows.total,
                  m_trained_on=rows.total - rows.held_out if rows.held_out else 0)
    if folder is not None:  # drawn before anything is printed: a refusal prints nothing else
        images = None
        if dataset.image_shape and not dataset.sparse:
            images = vectors_to_images(dataset.X, dataset.image_shape)
        report["pictures"] = [str(path) for path in pictures.write_plots(
            estimator, X_rows, labels, folder, images=images, format=args.format or "png")]
    if args.json:
        print(evaluation.to_json(report))
        return 0
    _print_evaluation(dataset, report)
    return 0


def _print_evaluation(dataset, report):
    """The figures as text: accuracy, log loss, the K×K confusion matrix, then the AUC."""
    matrix = np.asarray(report["confusion_matrix"])
    names = [str(c) for c in report["classes"]]
    width = max(max(len(n) for n in names) + 2, len(str(matrix.max())) + 1)
    print(f"Evaluated on {rows_words(dataset, 'scores')}")
    print(f"accuracy: {report['accuracy']} %")
    log_loss = report["log_loss"]  # six decimals; a huge one (a model certain and wrong) short
    print(f"log loss: {log_loss:.6f}" if log_loss < 1e15 else f"log loss: {log_loss:.6g}")
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(" " * width + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, matrix):
        print(f"{name:<{width}}" + "".join(f"{count:>{width}}" for count in row))
    auc = report["roc_auc"]
    if isinstance(auc, dict):
        print(f"ROC AUC, one-vs-rest: macro {_figure_text(auc['macro'])}, micro "
              f"{_figure_text(auc['micro'])}")
    else:
        print(f"ROC AUC: {_figure_text(auc)}")
    for note in report["notes"]:
        print(f"note: {note}")
    if report.get("pictures"):
        print(f"Pictures written to {Path(report['pictures'][0]).parent}: "
              + ", ".join(Path(path).name for path in report["pictures"]))


def _figure_text(value):
    return "undefined" if value is None else f"{value:.6f}"
