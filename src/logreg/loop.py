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
"""

import math

import numpy as np

from logreg import neuron


def _loss_from_z(z, y):
    """L = −(y log a + (1 − y) log(1 − a)) with a = σ(z), as log(1 + eᶻ) − y·z (never log 0)."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z))) - y * z


def _sigmoid(z):
    """σ(z) for one number, without overflow."""
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def _weights_and_count(sample_weight, m):
    s = [1.0] * m if sample_weight is None else [float(v) for v in np.ravel(sample_weight)]
    return s, sum(s)


def loss_and_gradient_loops(w, b, X, Y, sample_weight=None, l2=0.0):
    """(J, dw, db) with explicit loops over examples i and features j (the notes' first loop)."""
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


def loss_and_gradient_semi(w, b, X, Y, sample_weight=None, l2=0.0):
    """(J, dw, db) with one loop over the examples and dw a vector ("More vectorization")."""
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


def step_loops(w, b, X, Y, learning_rate):
    """One step of "Gradient Descent on m examples", loops everywhere, the update included."""
    cost, dw, db = loss_and_gradient_loops(w, b, X, Y)
    new_w = np.empty_like(w)
    for j in range(w.shape[0]):
        # w_j := w_j − α dw_j
        new_w[j, 0] = w[j, 0] - learning_rate * dw[j, 0]
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
