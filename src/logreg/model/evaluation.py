"""What a fitted model gets right and wrong on labelled data: every figure.

``evaluate`` computes the figures with scikit-learn's metrics (ROC AUC, average precision,
Brier score, precision, recall, F1, the confusion matrix, calibration bins) and the package's
own accuracy and log loss (the numbers ``logreg evaluate`` prints), as one dict that is also
a JSON document (``to_json``). ``logreg.model.pictures`` draws them.

Two classes are the notes' neuron: the figures are the positive class's, ``classes[1]``.
K ≥ 3 classes are one-vs-rest, a figure per class, with micro and macro averages.

A figure the data cannot define (an AUC where the data hold one class, an average precision
where a class never occurs) is ``None``, with the reason in ``notes``.
"""

import math

import numpy as np

from logreg.core import neuron
from logreg.errors import InvalidInputError

CALIBRATION_BINS = 10


def evaluate(estimator, X, y, *, n_bins=CALIBRATION_BINS):
    """Every figure of ``estimator`` on labelled data, as a JSON-ready dict.

    Parameters
    ----------
    estimator : logreg.LogisticRegression
        A fitted estimator (or one loaded from a model file).
    X : array-like or SciPy sparse matrix of shape (m, n_features)
        The examples, one per row, scaled as the estimator's training data were.
    y : array-like of shape (m,)
        The true labels, each one of ``estimator.classes_``.
    n_bins : int, default=10
        Equal-width bins of predicted probability for the calibration figures.

    Returns
    -------
    dict
        ``m``, ``classes``, ``positive_class`` (two classes only), ``accuracy`` (percent, as
        ``logreg evaluate`` prints it), ``log_loss``, ``brier_score``, ``roc_auc`` and
        ``average_precision`` (two classes: a number for the positive class; K classes:
        ``{"per_class": [...], "macro": ..., "micro": ...}``), ``per_class`` (lists of
        ``precision``, ``recall``, ``f1``, ``support`` in the order of ``classes``),
        ``confusion_matrix`` (rows: true class, columns: predicted class), ``calibration``
        (per class drawn: its bins' edges, counts, mean predicted probability and fraction of
        positives) and ``notes`` (why a figure is ``None``).
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    scores = Scores(estimator, X, y)
    K, labels = scores.K, list(range(scores.K))
    notes = []
    precision, recall, f1, support = precision_recall_fscore_support(
        scores.y, scores.y_pred, labels=labels, zero_division=0.0)
    report = {
        "m": scores.m,
        "classes": scores.classes.tolist(),
        "accuracy": scores.accuracy(),
        "log_loss": scores.log_loss(),
        "brier_score": scores.brier_score(),
        "roc_auc": curve_figure(scores, "roc_auc", notes),
        "average_precision": curve_figure(scores, "average_precision", notes),
        "per_class": {"precision": precision.tolist(), "recall": recall.tolist(),
                      "f1": f1.tolist(), "support": support.tolist()},
        "confusion_matrix": confusion_matrix(scores.y, scores.y_pred, labels=labels).tolist(),
        "calibration": [_calibration_bins(scores.names[k], scores.is_class(k),
                                          scores.P[:, k], n_bins)
                        for k in scores.drawn_classes()],
        "notes": notes,
    }
    if K == 2:
        report["positive_class"] = report["classes"][1]
    return report


class Scores:
    """A fitted ``estimator`` on labelled data (X, y): the labels as class indices ``y``, the
    predicted classes ``y_pred`` and probabilities ``P``, and scores that rank as P does
    (``ranking``), computed once for every figure and picture."""

    def __init__(self, estimator, X, y):
        self.estimator, self.X = estimator, X
        self.classes = np.asarray(estimator.classes_)
        self.K = len(self.classes)
        self.names = [str(c) for c in self.classes.tolist()]
        self.y = _class_indices(self.classes, y)
        self.m = int(self.y.size)
        if _rows(X) != self.m:
            raise InvalidInputError(f"X has {_rows(X)} rows and y {self.m} labels; expected one "
                                    f"label per row of X.")
        if self.m == 0:
            raise InvalidInputError("X has no rows; expected at least one labelled example.")
        # the estimator's own decision: z > 0 for the neuron, the largest softmax output for K
        self.y_pred = neuron.class_indices(self.classes, estimator.predict(X))
        self.P = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        self.ranking = self._ranking()

    def _ranking(self):
        """Scores in the order of P that never tie where P does: z (and −z) for two classes,
        log a_k for K. A confident model's P is exactly 0 or 1 beyond |z| ≈ 37, which would
        tie its examples and understate the ROC AUC and average precision."""
        if self.K == 2:
            z = np.asarray(self.estimator.decision_function(self.X), dtype=np.float64).ravel()
            ranking = np.stack([-z, z], axis=1)
        else:
            ranking = np.asarray(self.estimator.predict_log_proba(self.X), dtype=np.float64)
        largest = np.finfo(np.float64).max  # ±inf from huge weights: still in order
        return np.nan_to_num(ranking, nan=0.0, posinf=largest, neginf=-largest)

    def is_class(self, k):
        """Whether each example is of class k (a boolean array of m)."""
        return self.y == k

    def drawn_classes(self):
        """The classes with a curve: the positive class for two, every class for K."""
        return [1] if self.K == 2 else list(range(self.K))

    def accuracy(self):
        """Two classes: the exercise's 100 − mean|Ŷ − Y|·100; K classes: 100 · mean(ŷ = y)."""
        Y = self.y.reshape(1, -1).astype(np.float64)
        return neuron.class_accuracy(self.y_pred.reshape(1, -1), Y, self.K)

    def log_loss(self):
        """J, computed as ``logreg evaluate`` has always printed it (finite where sensible)."""
        if self.K > 2:
            # J = −(1/m) Σ log a_y, log A the estimator's log-softmax
            log_A = self.estimator.predict_log_proba(self.X)
            with np.errstate(over="ignore"):
                return float(-np.mean(log_A[np.arange(self.m), self.y]))
        Z = np.asarray(self.estimator.decision_function(self.X), dtype=np.float64).ravel()
        Y = self.y.astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):  # z = ±inf from huge w: fixed below
            losses = np.logaddexp(0.0, Z) - Y * Z  # L = log(1 + eᶻ) − y·z per example
            # at z = ±inf, L is 0 where z's sign is y's and inf where not (0·inf would be NaN)
            losses = np.where(np.isinf(Z), np.where((Z > 0) == (Y == 1), 0.0, np.inf), losses)
            log_loss = float(np.mean(losses))  # J = (1/m) Σ L
            if np.isinf(log_loss) and np.isfinite(losses).all():  # Σ L overflowed, the mean not
                log_loss = float(np.sum(losses / losses.size))
        return log_loss

    def brier_score(self):
        """scikit-learn's Brier score: of the positive class for two, multiclass for K."""
        from sklearn.metrics import brier_score_loss

        if self.K == 2:
            return float(brier_score_loss(self.y, self.P[:, 1], pos_label=1, labels=[0, 1]))
        return float(brier_score_loss(self.y, self.P, labels=list(range(self.K))))


def _class_indices(classes, y):
    """k for each label that is ``classes[k]``; a label outside the classes is refused."""
    y = np.asarray(y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1:
        raise InvalidInputError(f"y has shape {y.shape}; expected one label per example, "
                                f"shape (m,).")
    lookup = {value: k for k, value in enumerate(classes.tolist())}
    try:
        return np.fromiter((lookup[label] for label in y.tolist()), dtype=np.int64,
                           count=y.size)
    except (KeyError, TypeError):
        unknown = sorted({repr(label) for label in y.tolist() if label not in lookup})[:5]
        raise InvalidInputError(f"y holds labels the model does not know ({', '.join(unknown)}"
                                f"); expected labels among its classes "
                                f"{classes.tolist()!r:.200}.") from None


def _rows(X):
    """How many examples X holds."""
    return X.shape[0] if hasattr(X, "shape") else len(X)


def curve_figure(scores, which, notes):
    """ROC AUC or average precision: the positive class's for two classes; for K, one-vs-rest
    per class with the macro average (of the classes where it is defined) and the micro
    average (all one-vs-rest decisions pooled); why a figure is undefined goes to ``notes``."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    score = roc_auc_score if which == "roc_auc" else average_precision_score
    title = "ROC AUC" if which == "roc_auc" else "average precision"
    values, undefined = [], {}
    for k in scores.drawn_classes():
        reason = _undefined(scores, k, which)
        if reason:
            undefined.setdefault(reason, []).append(scores.names[k])
            values.append(None)
        else:
            values.append(float(score(scores.is_class(k), scores.ranking[:, k])))
    for reason, names in undefined.items():
        which_classes = "class" if len(names) == 1 else "classes"
        notes.append(f"{title} undefined for {which_classes} {_quoted(names)}: {reason}")
    if scores.K == 2:
        return values[0]
    defined = [value for value in values if value is not None]
    if defined and len(defined) < scores.K:
        notes[-1] += (f"; its macro average is over the {len(defined)} of {scores.K} classes "
                      f"where it is defined")
    one_hot = np.eye(scores.K, dtype=np.int64)[scores.y]
    return {"per_class": values,
            "macro": float(np.mean(defined)) if defined else None,
            "micro": float(score(one_hot, scores.ranking, average="micro"))}


def _quoted(names, limit=10):
    """The first ``limit`` names, quoted, and how many more."""
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _undefined(scores, k, which):
    """Why class k's curve is undefined on these data, or None."""
    present = int(np.sum(scores.is_class(k)))
    if present == 0:
        return "not in the data"
    if which == "roc_auc" and present == scores.m:
        return "the only class in the data (no negative to rank)"
    return None


def _calibration_bins(name, positives, probabilities, n_bins):
    """Equal-width bins of predicted probability, as scikit-learn's ``calibration_curve``
    (strategy "uniform") makes them, with empty bins kept (their means ``None``)."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], probabilities)  # calibration_curve's bin of each p
    count = np.bincount(bins, minlength=n_bins)
    predicted = np.bincount(bins, weights=probabilities, minlength=n_bins)
    true = np.bincount(bins, weights=positives.astype(np.float64), minlength=n_bins)
    return {"class": name, "lower": edges[:-1].tolist(), "upper": edges[1:].tolist(),
            "count": count.tolist(),
            "mean_predicted": [float(p / c) if c else None for p, c in zip(predicted, count)],
            "fraction_positive": [float(t / c) if c else None for t, c in zip(true, count)]}


def to_json(report):
    """``report`` (from ``evaluate``) as one line of strict JSON: a figure that is not finite
    (a log loss of inf, where the model is certain and wrong) becomes ``null``.

    Parameters
    ----------
    report : dict
        What ``evaluate`` returned, possibly with more keys.

    Returns
    -------
    str
    """
    import json

    def finite(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: finite(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [finite(item) for item in value]
        return value

    return json.dumps(finite(report), allow_nan=False)
