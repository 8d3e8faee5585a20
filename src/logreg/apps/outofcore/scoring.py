"""A fitted estimator on dask arrays, lazily: Z, the predicted labels, and the accuracy and
confusion matrix of several sets in one pass over each."""

import dask
import dask.array as da
import numpy as np

from logreg.core import neuron
from logreg.core.arrays import labels_at


def decision(estimator, X_rows):
    """Z = WᵀX + b of a fitted estimator on X_rows (m, n_x), lazily: (1, m) for two classes
    (the notes' z = wᵀx + b), (K, m) for K ≥ 3, one row per class."""
    from logreg.core.arrays import to_numpy

    coef, intercept = to_numpy(estimator.coef_), to_numpy(estimator.intercept_)
    # Z = WᵀX + b, with W = coef_ᵀ (n_x, K) and b = intercept_ as a column (K, 1)
    b = intercept[0] if coef.shape[0] == 1 else intercept.reshape(-1, 1)
    return neuron.decision_function(coef.T, b, X_rows.T)


def predicted_positions(Z):
    """k̂, the predicted class's position in ``classes_`` (m,), lazily: 1 where z > 0 for
    two classes (ŷ = σ(z) > 0.5), argmaxₖ zₖ for K classes (the largest softmax aₖ)."""
    if Z.shape[0] == 1:
        return (Z[0] > 0).astype(np.intp)
    return da.argmax(Z, axis=0)


def predict(estimator, X_rows):
    """The labels ``classes_[k̂]`` of a fitted estimator on X_rows (m, n_x), lazily (m,):
    computed chunk by chunk when asked, as the estimator's ``predict``."""
    return labels_at(estimator.classes_, predicted_positions(decision(estimator, X_rows)))


def accuracies(estimator, sets):
    """The accuracy (%) of a fitted estimator on each (X_rows, y) of the dict ``sets``
    (X_rows scaled as for training), all in one compute: one pass over every set.

    Two classes: the exercise's 100 − mean|Ŷ − Y|·100. K classes: 100 − mean(ŷ ≠ y)·100, the
    share of labels predicted right (the same figure, for two classes)."""
    lazy = {name: _accuracy(estimator, X_rows, y) for name, (X_rows, y) in sets.items()}
    return {name: float(value) for name, value in zip(lazy, dask.compute(*lazy.values()))}


def evaluate(estimator, sets):
    """{name: {"accuracy": %, "confusion": (K, K) counts}} of a fitted estimator on each
    (X_rows, y) of ``sets``, all in one compute (one pass over every set). The confusion
    matrix's rows are the true classes, its columns the predicted ones, in ``classes_``'s
    order, as scikit-learn's ``confusion_matrix(y, ŷ, labels=classes_)``."""
    lazy = {name: (_accuracy(estimator, X_rows, y), _confusion(estimator, X_rows, y))
            for name, (X_rows, y) in sets.items()}
    done = dask.compute(*lazy.values())
    return {name: {"accuracy": float(accuracy), "confusion": confusion}
            for name, (accuracy, confusion) in zip(lazy, done)}


def _labels(y, X_rows):
    """y as a dask array chunked as X_rows' rows."""
    y = y if isinstance(y, da.Array) else da.asarray(np.asarray(y))
    return y.reshape(-1).rechunk((X_rows.chunks[0],))


def _accuracy(estimator, X_rows, y):
    Z, y = decision(estimator, X_rows), _labels(y, X_rows)
    if Z.shape[0] == 1:
        # Ŷ = 1 where z = wᵀx + b > 0, as the estimator's predict; Y = 1 for classes_[1]
        Y_prediction = (Z > 0).astype(X_rows.dtype)
        Y = (y == estimator.classes_[1]).astype(X_rows.dtype).reshape(1, -1)
        return neuron.accuracy(Y_prediction, Y)
    wrong = labels_at(estimator.classes_, predicted_positions(Z)) != y
    return 100 - da.mean(wrong.astype(np.float64)) * 100  # 100 − mean(ŷ ≠ y)·100


def _confusion(estimator, X_rows, y):
    """The confusion matrix, lazily: each chunk's counts (scikit-learn's), summed."""
    classes = np.asarray(estimator.classes_)
    predicted, y = predict(estimator, X_rows), _labels(y, X_rows)
    K = len(classes)
    counts = da.map_blocks(_chunk_confusion, y, predicted, classes=classes, dtype=np.int64,
                           new_axis=[1, 2], chunks=((1,) * len(y.chunks[0]), (K,), (K,)))
    return counts.sum(axis=0)


def _chunk_confusion(y, predicted, classes):
    from sklearn.metrics import confusion_matrix

    if not len(y):
        return np.zeros((1, len(classes), len(classes)), dtype=np.int64)
    return confusion_matrix(y, predicted, labels=classes)[np.newaxis].astype(np.int64)
