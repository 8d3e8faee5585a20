"""The notes' neuron: logistic regression in the notes' layout, vectorised.

Layout (notes, "Binary Classification"): X is (n_x, m), one column per example; Y is (1, m)
of 0/1 labels; w is (n_x, 1); b is a number. A layer of K neurons (softmax regression, K ≥ 3
classes) keeps the layout: W is (n_x, K), b is (K, 1), Y is one-hot (K, m), Z = WᵀX + b,
A = softmax(Z) column by column, and the backward pass keeps the notes' form, dZ = A − Y.
Which one a call means is read from Y: one row is the notes' sigmoid neuron, exactly as the
notes write it; K rows is the softmax layer. X may also be a SciPy sparse matrix (NumPy only). The exercise's functions keep the exercise's
names and signatures (``sigmoid``, ``initialize_with_zeros``, ``propagate``, ``optimize``,
``predict``, ``model``) so that a learner's code runs unchanged.

The mathematics is written once, here, against the array API (``array_namespace``), so the same
lines serve NumPy, PyTorch, CuPy and Dask. NumPy takes SciPy's ``expit`` for sigmoid, which is
the same function, stable and faster.

This is the hot path: no Python loop over examples, no validation per step. Checks happen once
at the boundary (``logreg.data``); ``optimize`` and ``model`` call them before they start.
"""

import numpy as np
from array_api_compat import array_namespace, is_dask_array, is_numpy_namespace
from scipy.special import expit

from logreg.core.checks import check_test_data, check_training_data


def sigmoid(z):
    """σ(z) = 1 / (1 + e⁻ᶻ), element-wise, for a number or an array of any shape.

    Never overflows and never warns, for any finite z: σ(-1000) is 0.0 and σ(1000) is 1.0.

    >>> sigmoid(0)
    0.5
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    if isinstance(z, (int, float)):
        return float(expit(z))
    xp = array_namespace(z)
    if is_numpy_namespace(xp):
        return expit(z)
    # σ(z) = exp(−log(1 + e⁻ᶻ)): logaddexp never overflows, exp of a large negative is 0
    return xp.exp(-xp.logaddexp(xp.zeros_like(z), -z))


def logistic_cost_from_z(Z, Y, sample_weight=None):
    """J = (1/m) Σ L(a, y) with L = −(y log a + (1 − y) log(1 − a)), a = σ(z), computed from Z.

    Uses L = log(1 + eᶻ) − y·z, which equals the notes' loss (errata: note the minus sign)
    and stays finite where the model is certain and wrong (log 0 never happens).
    With ``sample_weight`` s (shape (1, m)) the mean is weighted: J = Σ sᵢ Lᵢ / Σ sᵢ.
    """
    xp = array_namespace(Z, Y)
    # L(a, y) = log(1 + e^z) − y z: the logistic loss written from z (errata: the minus sign)
    loss = xp.logaddexp(xp.zeros_like(Z), Z) - Y * Z
    if sample_weight is None:
        return xp.mean(loss)  # J = (1/m) Σ L
    return xp.sum(sample_weight * loss) / xp.sum(sample_weight)


def log_softmax(Z):
    """log softmax(Z), column by column: z_k − log Σ_j e^{z_j}, finite for any finite Z.

    The log-sum-exp subtracts each column's largest z first, so e^{z − max} never overflows.

    >>> log_softmax(np.array([[1000.0], [0.0]])).ravel().tolist()
    [0.0, -1000.0]
    """
    xp = array_namespace(Z)
    shifted = Z - xp.max(Z, axis=0, keepdims=True)
    # z_k − log Σ_j e^{z_j} = (z_k − max z) − log Σ_j e^{z_j − max z}
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=0, keepdims=True))


def softmax(Z):
    """A = softmax(Z) column by column: a_k = e^{z_k} / Σ_j e^{z_j}; each column sums to 1.

    >>> softmax(np.array([[0.0, 1000.0], [0.0, 0.0]])).tolist()
    [[0.5, 1.0], [0.5, 0.0]]
    """
    return array_namespace(Z).exp(log_softmax(Z))


def softmax_cost_from_z(Z, Y, sample_weight=None):
    """J = −(1/m) Σᵢ Σₖ y_k log a_k with A = softmax(Z), computed from Z (log-sum-exp).

    Y is one-hot (K, m). L = log Σ_j e^{z_j} − Σ_k y_k z_k is finite for any finite Z, and
    never takes the log of a 0. With ``sample_weight`` s (1, m): J = Σ sᵢ Lᵢ / Σ sᵢ.
    """
    xp = array_namespace(Z, Y)
    # L = −Σ_k y_k log softmax(z)_k
    loss = -xp.sum(Y * log_softmax(Z), axis=0, keepdims=True)
    if sample_weight is None:
        return xp.mean(loss)  # J = (1/m) Σ L
    return xp.sum(sample_weight * loss) / xp.sum(sample_weight)


def cost_from_z(Z, Y, sample_weight=None):
    """The cost J from Z: the notes' logistic cost for one row of Y, softmax's for K rows."""
    if Y.shape[0] == 1:
        return logistic_cost_from_z(Z, Y, sample_weight)
    return softmax_cost_from_z(Z, Y, sample_weight)


def activation(Z):
    """A from Z: σ(Z) for the notes' single neuron (one row), softmax(Z) for a layer."""
    return sigmoid(Z) if Z.shape[0] == 1 else softmax(Z)


def backward_from_z(Z, Y, sample_weight=None):
    """The backward pass from Z = wᵀX + b: (cost J, dZ, db, m).

    dZ = A − Y (times the weights s, when given), db = (1/m) Σ dZ, and m the number of examples
    (Σ s with weights). dw = (1/m) X dZᵀ is left to the caller: it is the one product with X.
    One row of Y: the notes' neuron, A = σ(Z), db a number. K rows (one-hot): the softmax
    layer, A = softmax(Z), db of shape (K, 1), the same dZ = A − Y.
    """
    xp = array_namespace(Z, Y)
    # A = σ(Z), or softmax(Z) column by column for K classes
    A = activation(Z)
    cost = cost_from_z(Z, Y, sample_weight)
    # dZ = A − Y
    dZ = A - Y
    if sample_weight is None:
        m = Z.shape[1]
    else:
        dZ = sample_weight * dZ
        m = xp.sum(sample_weight)
    if Y.shape[0] == 1:
        # db = (1/m) Σ dZ
        return cost, dZ, xp.sum(dZ) / m, m
    # db = (1/m) Σᵢ dZ[:, i], one per class
    return cost, dZ, xp.sum(dZ, axis=1, keepdims=True) / m, m


def loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0):
    """One forward and one backward pass: (cost J, dw, db) at (w, b).

    The notes' "Vectorizing Logistic Regression's Gradient Output", line by line; the same lines
    serve a softmax layer (W (n_x, K), b (K, 1), Y one-hot (K, m)) and SciPy sparse X. With
    ``sample_weight`` s of shape (1, m), every mean over m becomes the weighted mean
    (dw = X (s·dZ)ᵀ / Σ s). With ``l2`` = λ > 0 the cost gains (λ / 2m)‖w‖² and dw gains
    (λ / m) w (m becomes Σ s with weights); λ = 0 is the notes' unregularised cost.
    """
    # Z = wᵀX + b
    Z = w.T @ X + b
    cost, dZ, db, m = backward_from_z(Z, Y, sample_weight)
    # dw = (1/m) X dZᵀ
    dw = (X @ dZ.T) / m
    if l2:
        # J += (λ/2m)‖w‖²,  dw += (λ/m) w
        cost = cost + l2 / (2 * m) * array_namespace(w).sum(w * w)  # ‖W‖² over all of W
        dw = dw + (l2 / m) * w
    return cost, dw, db


def propagate(w, b, X, Y):
    """The exercise's ``propagate``: cost and gradients at (w, b).

    Parameters
    ----------
    w : array of shape (n_x, 1)
    b : float
    X : array of shape (n_x, m)
    Y : array of shape (1, m), labels 0 or 1

    Returns
    -------
    grads : dict with "dw" (shape (n_x, 1)) and "db" (a float)
    cost : float, the mean logistic loss J

    Examples
    --------
    The exercise's own check:

    >>> w, b = np.array([[1.0], [2.0]]), 2.0
    >>> X = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
    >>> Y = np.array([[1, 0, 1]])
    >>> grads, cost = propagate(w, b, X, Y)
    >>> grads["dw"].round(8).tolist(), round(float(grads["db"]), 8), round(float(cost), 8)
    ([[0.99845601], [2.39507239]], 0.00145558, 5.80154532)
    """
    cost, dw, db = loss_and_gradient(w, b, X, Y)
    return {"dw": dw, "db": db}, cost


def initialize_with_zeros(dim):
    """The exercise's start: w = zeros of shape (dim, 1), b = 0.0.

    >>> w, b = initialize_with_zeros(2)
    >>> w.shape, b
    ((2, 1), 0.0)
    """
    return np.zeros((dim, 1)), 0.0


def gradient_step(w, b, X, Y, learning_rate, sample_weight=None, l2=0.0, gradient=None):
    """One step of gradient descent: returns the new (w, b) and (cost, dw, db) at the old ones.

    ``gradient`` computes (cost, dw, db); by default the closed form above
    (``logreg.graph.loss_and_gradient`` computes the same by backpropagation).
    """
    cost, dw, db = (gradient or loss_and_gradient)(w, b, X, Y, sample_weight, l2)
    # w := w − α dw,  b := b − α db
    return w - learning_rate * dw, b - learning_rate * db, (cost, dw, db)


def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    """The exercise's ``optimize``: gradient descent for ``num_iterations`` steps.

    Returns ``params`` ({"w", "b"}), ``grads`` ({"dw", "db"} of the last iteration) and
    ``costs``, the cost every 100 iterations (before that iteration's update), as the exercise
    records it; ``print_cost`` prints them as "Cost after iteration i: J".

    >>> w, b = np.array([[1.0], [2.0]]), 2.0
    >>> X = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
    >>> params, grads, costs = optimize(w, b, X, np.array([[1, 0, 1]]))
    >>> params["w"].round(8).tolist(), round(float(params["b"]), 8)
    ([[0.19033591], [0.12259159]], 1.92535983)
    """
    X, Y = check_training_data(X, Y, allow_one_class=True)
    costs = []
    for i in range(num_iterations):
        w, b, (cost, dw, db) = gradient_step(w, b, X, Y, learning_rate)
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print("Cost after iteration %i: %f" % (i, cost))
    return {"w": w, "b": b}, {"dw": dw, "db": db}, costs


def decision_function(w, b, X):
    """Z = wᵀX + b, shape (1, m): the neuron's linear part (log-odds of class 1); (K, m) for a
    layer W (n_x, K), b (K, 1). X may be a SciPy sparse matrix.

    Finite inputs whose products overflow give ±inf (a certain answer) without a warning.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return w.T @ X + b


def predict(w, b, X):
    """The exercise's ``predict``: labels 0./1. of shape (1, m), 1 where ŷ = σ(wᵀX + b) > 0.5.

    >>> predict(np.array([[0.1124579], [0.23106775]]), -0.3,
    ...         np.array([[1.0, -1.1, -3.2], [1.2, 2.0, 0.1]]))
    array([[1., 1., 0.]])
    """
    xp = array_namespace(X)
    # ŷ > 0.5 exactly where z > 0 (σ is increasing and σ(0) = 0.5)
    return xp.astype(decision_function(w, b, X) > 0, X.dtype)


def accuracy(Y_prediction, Y):
    """Percent of labels predicted right, computed as the exercise prints it.

    100 − mean(|Ŷ − Y|)·100, so that the figures match the exercise's to the last digit.
    The one accuracy of the package: the command's, the rates' and the dask engine's (on dask
    arrays it stays lazy, to be computed with other results in one pass).
    """
    if is_dask_array(Y_prediction):
        xp = array_namespace(Y_prediction)
        return 100 - xp.mean(xp.abs(xp.astype(Y_prediction, xp.float64) - Y)) * 100
    Y_prediction, Y = np.asarray(Y_prediction, dtype=np.float64), np.asarray(Y)
    return float(100 - np.mean(np.abs(Y_prediction - Y)) * 100)


def class_indices(classes, labels):
    """k for each label that is classes[k] (``classes`` in any order, all distinct)."""
    classes, labels = np.asarray(classes), np.asarray(labels)
    order = np.argsort(classes, kind="stable")
    return order[np.searchsorted(classes[order], labels)]


def class_accuracy(Y_prediction, Y, K):
    """``accuracy`` for predicted and true class indices of K classes: for two (0/1), the
    exercise's 100 − mean|Ŷ − Y|·100; for K ≥ 3, 100 · mean(ŷ = y) (|Ŷ − Y| would count
    class 0 for class 2 as two mistakes)."""
    if K == 2:
        return accuracy(Y_prediction, Y)
    Y_prediction, Y = np.asarray(Y_prediction).ravel(), np.asarray(Y).ravel()
    return float(np.mean(Y_prediction == Y) * 100)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5,
          print_cost=False):
    """The exercise's ``model``: start at zeros, run ``optimize``, predict both sets.

    Returns the exercise's dict: "costs", "Y_prediction_test", "Y_prediction_train", "w", "b",
    "learning_rate", "num_iterations". With ``print_cost`` it also prints the costs and the
    train and test accuracy ("train accuracy: 99.04306220095694 %").
    """
    X_train, Y_train = check_training_data(X_train, Y_train)
    X_test, Y_test = check_test_data(X_test, Y_test, n_x=X_train.shape[0])
    w, b = initialize_with_zeros(X_train.shape[0])
    params, grads, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate,
                                    print_cost)
    w, b = params["w"], params["b"]
    Y_prediction_test = predict(w, b, X_test)
    Y_prediction_train = predict(w, b, X_train)
    if print_cost:
        print("train accuracy: {} %".format(accuracy(Y_prediction_train, Y_train)))
        print("test accuracy: {} %".format(accuracy(Y_prediction_test, Y_test)))
    return {
        "costs": costs,
        "Y_prediction_test": Y_prediction_test,
        "Y_prediction_train": Y_prediction_train,
        "w": w,
        "b": b,
        "learning_rate": learning_rate,
        "num_iterations": num_iterations,
    }
