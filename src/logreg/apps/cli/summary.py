"""`logreg summary`: a model file and labelled data → the inference table (coefficients,
standard errors, z, p-values, confidence intervals, log-likelihood, pseudo-R², AIC, BIC)."""

import numpy as np

from logreg.apps.cli.modeldata import model_and_scaling, model_data
from logreg.apps.cli.options import LABELS_HELP, add_data_options

SCALING_WORDS = {"image": "pixels divided by 255",
                 "standardize": "standardised per feature, (x − μ) / σ of the training data",
                 "maxabs": "each feature divided by its largest |x| in the training data",
                 "none": "as given"}


def add_parser(commands):
    """Add `logreg summary` to ``commands`` (argparse's sub-parsers)."""
    summary = commands.add_parser(
        "summary", help="coefficients with standard errors, z, p-values and confidence "
        "intervals", description="Inference at a model's parameters on labelled data: each "
        "coefficient's estimate, standard error (from the observed information XᵀDX, "
        "D = a(1 − a)), z, p-value and confidence interval, with the log-likelihood, "
        "McFadden's pseudo-R², AIC and BIC (as statsmodels' Logit, and MNLogit for K ≥ 3 "
        "classes: each class against the first). The features are the model's own, scaled "
        "as at training. Refused, saying why, for a model trained with --l2 > 0, separated "
        "classes, constant or duplicate features, or a fit that has not converged (train "
        "with --solver newton).")
    summary.add_argument("model", help="a model file written by `logreg train`")
    summary.add_argument("--data", required=True, help="labelled data, in any form that "
                         "`logreg train --data` takes; the model's own --data (a copy "
                         "too) gives the examples it was trained on (train held out "
                         "--test-size of them), whose standard errors these are")
    summary.add_argument("--labels", metavar="FILE", help="the labels of a sparse .npz "
                         "--data: " + LABELS_HELP)
    add_data_options(summary, default=None)
    summary.add_argument("--alpha", type=float, default=0.05, help="the intervals are "
                         "(1 − alpha) confidence intervals (default: 0.05)")
    summary.add_argument("--json", action="store_true", help="print every figure as JSON")
    summary.set_defaults(run=run)


def run(args):
    """`logreg summary`: the model's inference table on labelled data (or its JSON)."""
    import json

    from logreg.model.inference import summarize

    estimator, scaling, preprocessing = model_and_scaling(args.model)
    dataset = model_data(estimator, preprocessing, args.data, args.label_column, args.labels,
                         part="train")
    X_rows = scaling.apply(dataset.X).T
    y = estimator.classes_[dataset.Y.ravel().astype(np.int64)]
    summary = summarize(estimator, X_rows, y, alpha=args.alpha,
                        feature_names=_summary_feature_names(estimator, preprocessing))
    rows = dataset.rows
    part = (f"the {rows.m} training examples of {dataset.source} ({rows.held_out} of "
            f"{rows.total} held out by `logreg train`)" if rows.kind == "training"
            else dataset.source)
    summary.notes.append(f"on {part}; features as the model sees them: "
                         f"{SCALING_WORDS.get(scaling.kind, scaling.kind)}")
    print(json.dumps(summary.to_dict(), indent=2) if args.json else summary)
    return 0


def _summary_feature_names(estimator, preprocessing):
    """A CSV's column names; pixel[row,column(,channel)] for images; else None (x0, x1...)."""
    names = estimator.metadata_.get("feature_names")
    if names:
        return names
    shape = preprocessing.get("image_shape")
    if not shape:
        return None
    height, width, channels = (list(shape) + [1])[:3]
    # flatten_images: (h, w, c) in row-major order, one image per column
    return [f"pixel[{i // (width * channels)},{i // channels % width}"
            + (f",{i % channels}]" if channels > 1 else "]")
            for i in range(height * width * channels)]
