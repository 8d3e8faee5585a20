"""Logistic regression as a computation graph: the notes' cost built from :class:`Value` nodes,
and its gradients by backpropagation, a drop-in for ``logreg.core.neuron.loss_and_gradient``.

One row of labels Y is the notes' single sigmoid neuron; K rows (one-hot) are a layer of K
neurons with softmax in place of σ. Nothing here knows that dZ = A − Y: the gradients come out
of ``backward()``. Data keeps its dtype: float32 X and w give a float32 dw. X may be a SciPy
sparse matrix; it stays sparse (it only takes part in Z = WᵀX).
"""

from __future__ import annotations

import numpy as np

from logreg.errors import InvalidInputError
from logreg.graph.engine import Value, log_softmax, softplus


def logistic_cost(w, b, X, Y, sample_weight=None, l2=0.0):
    """The notes' logistic-regression cost J(w, b), built from graph nodes; for K classes, the
    cost of a softmax layer J(W, b).

    One row of Y (the notes' neuron): Z = wᵀX + b, A = σ(Z), J = -mean(Y log A + (1 - Y)
    log(1 - A)); the loss is built from Z as softplus(Z) - Y Z = log(1 + e^Z) - Y Z, the same
    number but finite even where the model is certain and wrong (A rounds to 0 or 1). Its
    derivative is dJ/dZ = (A - Y) / m.

    K rows of Y (one-hot, a layer of K neurons): Z = WᵀX + b of shape (K, m), A = softmax(Z)
    column by column, J = -mean over columns of Σ_k Y log A, built from Z with the log-softmax
    node (log-sum-exp): finite for any finite Z. Its derivative is again dJ/dZ = (A - Y) / m.

    Parameters
    ----------
    w : Value or array of shape (n_x, 1), or (n_x, K) for K classes
    b : Value or float, or of shape (K, 1) for K classes
        Pass Values to read ``w.grad`` (dw) and ``b.grad`` (db) after ``J.backward()``.
    X : array or SciPy sparse matrix of shape (n_x, m)
    Y : array of shape (1, m), labels 0 or 1; or one-hot of shape (K, m)
    sample_weight : array of shape (1, m), optional
        Weights s: the mean becomes Σ s·L / Σ s.
    l2 : float
        λ: adds (λ / 2m)‖w‖² (Frobenius for W; m = Σ s with weights); 0 is the notes' cost.

    Returns
    -------
    J : Value
        The cost, a float.
    Z : Value
        The node Z of shape (1, m) or (K, m), in the dtype of wᵀX; after ``J.backward()`` its
        ``.grad`` is dZ / m.

    Examples
    --------
    >>> w, b = Value(np.zeros((2, 1)), name="w"), Value(0.0, name="b")
    >>> X, Y = np.array([[1.0, -1.0], [2.0, 0.0]]), np.array([[1.0, 0.0]])
    >>> J, Z = logistic_cost(w, b, X, Y)
    >>> J.backward()
    >>> round(J.data, 6), w.grad.ravel().tolist(), b.grad
    (0.693147, [-0.5, -0.5], 0.0)

    Three classes at W = 0: every class has a = 1/3, so J = log 3.

    >>> W, b = Value(np.zeros((2, 3)), name="W"), Value(np.zeros((3, 1)), name="b")
    >>> J, Z = logistic_cost(W, b, X, np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    >>> J.backward()
    >>> round(J.data, 6), b.grad.round(6).ravel().tolist()
    (1.098612, [-0.166667, -0.166667, 0.333333])
    """
    w = w if isinstance(w, Value) else Value(w, name="w")
    b = b if isinstance(b, Value) else Value(b, name="b")
    X = X if isinstance(X, Value) else Value(X, name="X", requires_grad=False)  # data: no dX
    Z = w.T @ X + b  # z = wᵀx + b
    Z.name = "Z"
    dtype = np.result_type(Z.data)  # labels and weights join Z's dtype: float32 stays float32
    Y = Y if isinstance(Y, Value) else Value(np.asarray(Y, dtype=dtype), name="Y",
                                             requires_grad=False)
    if np.shape(Y.data) != np.shape(Z.data):
        raise InvalidInputError(
            f"Y has shape {np.shape(Y.data)} but Z = wᵀX + b has shape {np.shape(Z.data)}; "
            "Y must be (1, m) with one label per column of X, or one-hot (K, m) for K classes "
            "with W of shape (n_x, K)"
        )
    # one row: the notes' sigmoid neuron; K rows: a softmax layer
    L = _logistic_loss(Z, Y) if np.shape(Z.data)[0] == 1 else _softmax_loss(Z, Y)
    L.name = "L"
    if sample_weight is None and not l2:
        J = L.mean()  # J = (1/m) Σ L
    else:
        weights = np.ones(np.shape(L.data)) if sample_weight is None else sample_weight
        m = float(np.sum(weights))  # m = Σ s, in float64
        weights = np.asarray(weights, dtype=dtype)
        J = (weights * L).sum() / m + (l2 / (2 * m)) * (w * w).sum()  # Σ sL/Σs + (λ/2m)‖w‖²
    J.name = "J"
    return J, Z


def _logistic_loss(Z, Y):
    """The notes' loss per example, from z: shape (1, m)."""
    return softplus(Z) - Y * Z  # L(a, y) = -(y log a + (1 - y) log(1 - a)), from z


def _softmax_loss(Z, Y):
    """The softmax layer's loss per example (column), from Z: shape (1, m)."""
    # L = −Σ_k y_k log a_k with log a = log_softmax(z) = z − log Σ_j e^{z_j}
    return -(Y * log_softmax(Z, axis=0)).sum(axis=0, keepdims=True)


def loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0):
    """(J, dw, db) by backpropagation through the graph: a drop-in for the closed form.

    The same contract as ``logreg.core.neuron.loss_and_gradient``: with ``sample_weight`` s (1, m)
    the mean is weighted, J = Σ sL / Σ s; ``l2`` = λ adds (λ / 2m)‖w‖². J is a float; dw has w's
    shape and the dtype of wᵀX (float32 for float32 w and X). One row of Y: db is a float; K
    rows (one-hot, W (n_x, K), b (K, 1)): db has b's shape (K, 1). X may be SciPy sparse.

    >>> X, Y = np.array([[1.0, -1.0], [2.0, 0.0]], dtype=np.float32), np.array([[1.0, 0.0]])
    >>> J, dw, db = loss_and_gradient(np.zeros((2, 1), np.float32), 0.0, X, Y)
    >>> round(J, 6), dw.dtype, dw.ravel().tolist(), db
    (0.693147, dtype('float32'), [-0.5, -0.5], 0.0)
    """
    w, b = Value(w, name="w"), Value(b, name="b")
    J, _ = logistic_cost(w, b, X, Y, sample_weight, l2)
    J.backward()
    return J.data, w.grad, b.grad
