"""The notes' road from loops to vectors, slow on purpose: a reference and a teaching piece.

Three ways to take one gradient-descent step, each giving the same numbers:

1. ``step_loops``: "Gradient Descent on m examples", an explicit for-loop over the examples and,
   inside it, over the features (dw1, dw2, ... generalised to any n_x), with the errata's fixes
   (J −= the log-likelihood; dz is one example's value, not a running sum).
2. ``step_semi``: "More vectorization examples", one loop over the examples with dw a vector.
3. ``step_vectorized``: no loop at all, ``neuron.gradient_step`` (Z = wᵀX + b, dZ = A − Y, ...).

The ``loss_and_gradient_*`` functions are the loops without the update, with the same contract
as ``neuron.loss_and_gradient``, so the estimator and ``logreg train --implementation`` can train
with them. This module is the one deliberate second copy of the formulas: the notes' steps.

K classes (Y one-hot (K, m), W (n_x, K), b (K, 1)) take the same road with one more loop, over
the classes k: z_k = w_kᵀx + b_k, a = softmax(z) with the largest z subtracted first,
dz_k = a_k − y_k, dW[j, k] += x_j dz_k, db_k += dz_k. One row of Y is the notes' neuron, as
before. The loops take NumPy arrays only (no SciPy sparse X: they are slow on purpose anyway).
"""

import math

import numpy as np

from logreg.core import neuron


def _loss_from_z(z, y):
    """L = −(y log a + (1 − y) log(1 − a)) with a = σ(z), as log(1 + eᶻ) − y·z (never log 0)."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z))) - y * z


def _sigmoid(z):
    """σ(z) for one number, without overflow."""
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def _log_softmax(z):
    """log a_k = z_k − log Σ_j e^{z_j} for one example's K numbers z, the largest z subtracted
    first (e^{z_j − max z} ≤ 1 never overflows)."""
    top = max(z)
    shifted = [z_k - top for z_k in z]
    # log a_k = (z_k − max z) − log Σ_j e^{z_j − max z}
    log_total = math.log(sum(math.exp(v) for v in shifted))
    return [v - log_total for v in shifted]


def _weights_and_count(sample_weight, m):
    s = [1.0] * m if sample_weight is None else [float(v) for v in np.ravel(sample_weight)]
    return s, sum(s)


def loss_and_gradient_loops(w, b, X, Y, sample_weight=None, l2=0.0):
    """(J, dw, db) with explicit loops over examples i and features j (the notes' first loop);
    for K classes, over the classes k too."""
    if Y.shape[0] > 1:
        return _softmax_loops(w, b, X, Y, sample_weight, l2)
    n_x, m = X.shape
    s, total = _weights_and_count(sample_weight, m)
    # J = 0, dw1 = 0, dw2 = 0, ..., db = 0
    J, dw, db = 0.0, [0.0] * n_x, 0.0
    for i in range(m):
        # z⁽ⁱ⁾ = wᵀx⁽ⁱ⁾ + b
        z = float(b)
        for j in range(n_x):
            z += float(w[j, 0]) * float(X[j, i])
        # a⁽ⁱ⁾ = σ(z⁽ⁱ⁾)
        a = _sigmoid(z)
        # J −= [y⁽ⁱ⁾ log a⁽ⁱ⁾ + (1 − y⁽ⁱ⁾) log(1 − a⁽ⁱ⁾)]   (errata: minus, from z)
        J += s[i] * _loss_from_z(z, float(Y[0, i]))
        # dz⁽ⁱ⁾ = a⁽ⁱ⁾ − y⁽ⁱ⁾   (errata: one example's value)
        dz = s[i] * (a - float(Y[0, i]))
        # dw_j += x_j⁽ⁱ⁾ dz⁽ⁱ⁾, for each feature j
        for j in range(n_x):
            dw[j] += float(X[j, i]) * dz
        # db += dz⁽ⁱ⁾
        db += dz
    # J /= m, dw_j /= m, db /= m
    J, db = J / total, db / total
    for j in range(n_x):
        dw[j] = dw[j] / total + l2 / total * float(w[j, 0])
        J += l2 / (2 * total) * (float(w[j, 0]) * float(w[j, 0]))  # w_j², inf (not
        # OverflowError, as Python's ** raises) where it is beyond the float range
    return J, np.array(dw, dtype=X.dtype).reshape(n_x, 1), db


def _softmax_loops(W, b, X, Y, sample_weight, l2):
    """(J, dW, db) of a softmax layer with explicit loops over examples i, classes k and
    features j."""
    n_x, m = X.shape
    K = Y.shape[0]
    s, total = _weights_and_count(sample_weight, m)
    # J = 0, dW[j, k] = 0, db_k = 0
    J, dW, db = 0.0, [[0.0] * K for _ in range(n_x)], [0.0] * K
    for i in range(m):
        # z_k⁽ⁱ⁾ = w_kᵀx⁽ⁱ⁾ + b_k, for each class k
        z = [0.0] * K
        for k in range(K):
            z[k] = float(b[k, 0])
            for j in range(n_x):
                z[k] += float(W[j, k]) * float(X[j, i])
        # a⁽ⁱ⁾ = softmax(z⁽ⁱ⁾): a_k = e^{z_k − max z} / Σ_j e^{z_j − max z}
        log_a = _log_softmax(z)
        for k in range(K):
            a_k, y_k = math.exp(log_a[k]), float(Y[k, i])
            # J −= y_k log a_k   (from z: log a_k is never log 0)
            J -= s[i] * y_k * log_a[k]
            # dz_k⁽ⁱ⁾ = a_k⁽ⁱ⁾ − y_k⁽ⁱ⁾
            dz_k = s[i] * (a_k - y_k)
            # dW[j, k] += x_j⁽ⁱ⁾ dz_k⁽ⁱ⁾, for each feature j
            for j in range(n_x):
                dW[j][k] += float(X[j, i]) * dz_k
            # db_k += dz_k⁽ⁱ⁾
            db[k] += dz_k
    # J /= m, dW /= m, db /= m; with λ: J += (λ/2m) Σ W[j, k]², dW[j, k] += (λ/m) W[j, k]
    J = J / total
    for j in range(n_x):
        for k in range(K):
            dW[j][k] = dW[j][k] / total + l2 / total * float(W[j, k])
            J += l2 / (2 * total) * (float(W[j, k]) * float(W[j, k]))
    db = [db_k / total for db_k in db]
    return J, np.array(dW, dtype=X.dtype), np.array(db, dtype=X.dtype).reshape(K, 1)


def loss_and_gradient_semi(w, b, X, Y, sample_weight=None, l2=0.0):
    """(J, dw, db) with one loop over the examples and dw a vector ("More vectorization"); for
    K classes z, a and dz are vectors of K and dW a matrix."""
    if Y.shape[0] > 1:
        return _softmax_semi(w, b, X, Y, sample_weight, l2)
    n_x, m = X.shape
    s, total = _weights_and_count(sample_weight, m)
    # J = 0, db = 0, dw = np.zeros((n_x, 1))
    J, dw, db = 0.0, np.zeros((n_x, 1), dtype=X.dtype), 0.0
    for i in range(m):
        x = X[:, i:i + 1]
        # z⁽ⁱ⁾ = wᵀx⁽ⁱ⁾ + b
        z = (w.T @ x).item() + float(b)
        # a⁽ⁱ⁾ = σ(z⁽ⁱ⁾)
        a = _sigmoid(z)
        J += s[i] * _loss_from_z(z, float(Y[0, i]))
        # dz⁽ⁱ⁾ = a⁽ⁱ⁾ − y⁽ⁱ⁾
        dz = s[i] * (a - float(Y[0, i]))
        # dw += x⁽ⁱ⁾ dz⁽ⁱ⁾
        dw += x * dz
        # db += dz⁽ⁱ⁾
        db += dz
    # J /= m, dw /= m, db /= m
    J = J / total + l2 / (2 * total) * float(np.sum(w * w))
    return J, dw / total + (l2 / total) * w, db / total


def _softmax_semi(W, b, X, Y, sample_weight, l2):
    """(J, dW, db) of a softmax layer with one loop over the examples: z, a and dz are (K, 1)
    vectors, dW an (n_x, K) matrix."""
    n_x, m = X.shape
    K = Y.shape[0]
    s, total = _weights_and_count(sample_weight, m)
    # J = 0, dW = np.zeros((n_x, K)), db = np.zeros((K, 1))
    J, dW, db = 0.0, np.zeros((n_x, K), dtype=X.dtype), np.zeros((K, 1), dtype=X.dtype)
    for i in range(m):
        x, y = X[:, i:i + 1], Y[:, i:i + 1]
        # z⁽ⁱ⁾ = Wᵀx⁽ⁱ⁾ + b, one z_k per class
        z = W.T @ x + b
        # log a⁽ⁱ⁾ = (z − max z) − log Σ_j e^{z_j − max z}; a⁽ⁱ⁾ = softmax(z⁽ⁱ⁾)
        shifted = z - np.max(z)
        log_a = shifted - np.log(np.sum(np.exp(shifted)))
        a = np.exp(log_a)
        # J −= Σ_k y_k log a_k
        J -= s[i] * float(np.sum(y * log_a))
        # dz⁽ⁱ⁾ = a⁽ⁱ⁾ − y⁽ⁱ⁾
        dz = s[i] * (a - y)
        # dW += x⁽ⁱ⁾ dz⁽ⁱ⁾ᵀ
        dW += x @ dz.T
        # db += dz⁽ⁱ⁾
        db += dz
    # J /= m, dW /= m, db /= m; with λ: J += (λ/2m)‖W‖², dW += (λ/m) W
    J = J / total + l2 / (2 * total) * float(np.sum(W * W))
    return J, dW / total + (l2 / total) * W, db / total


def step_loops(w, b, X, Y, learning_rate):
    """One step of "Gradient Descent on m examples", loops everywhere, the update included."""
    cost, dw, db = loss_and_gradient_loops(w, b, X, Y)
    new_w = np.empty_like(w)
    for j in range(w.shape[0]):
        for k in range(w.shape[1]):  # one column for the notes' neuron, K for a layer
            # w_j := w_j − α dw_j
            new_w[j, k] = w[j, k] - learning_rate * dw[j, k]
    # b := b − α db
    return new_w, b - learning_rate * db, (cost, dw, db)


def step_semi(w, b, X, Y, learning_rate):
    """One step with a loop over the examples only; the update in vector form (errata)."""
    return neuron.gradient_step(w, b, X, Y, learning_rate, gradient=loss_and_gradient_semi)


def step_vectorized(w, b, X, Y, learning_rate):
    """One step without any loop: the notes' vectorised logistic regression."""
    return neuron.gradient_step(w, b, X, Y, learning_rate)


IMPLEMENTATIONS = {"loop": loss_and_gradient_loops, "semi": loss_and_gradient_semi,
                   "vectorized": neuron.loss_and_gradient}
