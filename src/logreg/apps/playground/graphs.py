"""One point's computation graph, as the notes draw it, computed with logreg.graph's Value.

Two classes (the notes' neuron): x_j, w_j, b → z = Σ w_j x_j + b → a = σ(z) →
L(a, y) = −(y log a + (1 − y) log(1 − a)). K classes (a softmax layer): x_j, w_jk, b_k →
z_k = Σ_j w_jk x_j + b_k → a_k = softmax(z)_k → L = −Σ_k y_k log a_k. The forward pass gives
each node's value, ``backward`` every dL/dvar: dz = a − y and dw_j = x_j dz, as the notes
derive them.
"""

import math

import numpy as np

from logreg.graph import Value, log

_NOTE_ROUNDED = ("a rounded to {which}, so L was computed from z (log(1 + e^z) − y z, the "
                 "same loss): dL/da is not shown")


def _node(value, kind):
    grad = value.grad
    return {"name": value.name, "kind": kind, "value": float(value.data),
            "grad": None if grad is None or not math.isfinite(grad) else float(grad)}


def point_graph(x, y, w, b, feature_names, K):
    """Forward values and every dL/dvar of one example's loss, through logreg.graph.

    Parameters
    ----------
    x : ndarray of shape (n_x,)
        The example's (standardised) features: what the neuron sees.
    y : int
        Its class index.
    w : ndarray of shape (n_x, K')
    b : float or ndarray of shape (K, 1)
    feature_names : list of str
    K : int
        The number of classes (2: the notes' neuron).

    Returns
    -------
    dict
        "x", "y", "nodes" (name, kind, value, grad = dL/dnode), "edges" ([from, to] names),
        "K" and a "note" when the loss had to be computed from z.
    """
    xs = [Value(float(v), name=name) for v, name in zip(x, feature_names)]
    if K == 2:
        nodes, edges, note = _neuron_graph(xs, y, w, b)
    else:
        nodes, edges, note = _layer_graph(xs, y, w, b, K)
    reply = {"x": np.asarray(x, dtype=np.float64).tolist(), "y": int(y), "K": K,
             "nodes": nodes, "edges": edges}
    if note:
        reply["note"] = note
    return reply


def _neuron_graph(xs, y, w, b):
    """(nodes, edges, note) of the notes' neuron: x_j, w_j, b → z → a = σ(z) → L(a, y)."""
    note = None
    ws = [Value(float(w[j, 0]), name=f"w{j + 1}") for j in range(len(xs))]
    bias = Value(float(b), name="b")
    z = bias
    for w_j, x_j in zip(ws, xs):
        z = w_j * x_j + z  # z = wᵀx + b
    z.name = "z"
    a = z.sigmoid()  # a = σ(z)
    a.name = "a"
    L = -(y * log(a) + (1 - y) * log(1 - a))  # L(a, y) = −(y log a + (1 − y) log(1 − a))
    if not math.isfinite(L.data):
        L = z.softplus() - y * z  # the same loss from z, finite where a rounded
        note = _NOTE_ROUNDED.format(which=round(a.data))
    L.name = "L"
    L.backward()
    nodes = ([_node(v, "x") for v in xs] + [_node(v, "w") for v in ws]
             + [_node(bias, "b"), _node(z, "z"), _node(a, "a"), _node(L, "L")])
    # L from z (the note) depends on z, not on the rounded a
    edges = ([[v.name, "z"] for v in xs] + [[v.name, "z"] for v in ws]
             + [["b", "z"], ["z", "a"], ["z", "L"] if note else ["a", "L"]])
    return nodes, edges, note


def _layer_graph(xs, y, w, b, K):
    """(nodes, edges, note) of a softmax layer of K neurons: x_j, w_jk, b_k → z_k →
    a_k = softmax(z)_k → L = −Σ_k y_k log a_k."""
    note = None
    ws = [[Value(float(w[j, k]), name=f"w{j + 1}_{k + 1}") for k in range(K)]
          for j in range(len(xs))]
    biases = [Value(float(b[k, 0]), name=f"b{k + 1}") for k in range(K)]
    zs = []
    for k in range(K):
        z = biases[k]
        for j, x_j in enumerate(xs):
            z = ws[j][k] * x_j + z  # z_k = Σ_j w_jk x_j + b_k
        z.name = f"z{k + 1}"
        zs.append(z)
    top = max(z.data for z in zs)  # a constant: softmax(z − c) = softmax(z)
    exps = [(z - top).exp() for z in zs]
    total = exps[0]
    for e in exps[1:]:
        total = total + e
    as_ = []
    for k, e in enumerate(exps):
        a = e / total  # a_k = e^{z_k} / Σ_j e^{z_j}
        a.name = f"a{k + 1}"
        as_.append(a)
    L = -(log(as_[y]))  # L = −Σ_k y_k log a_k: only the true class's term is not 0
    for k, a in enumerate(as_):
        if k != y:
            L = L - 0.0 * log(a)  # y_k = 0: a_k joins the graph with dL/da_k = 0
    if not math.isfinite(L.data):
        L = log(total) + top - zs[y]  # log Σ e^{z_j} − z_y, the same loss from z
        note = _NOTE_ROUNDED.format(which=0)
    L.name = "L"
    L.backward()
    nodes = ([_node(v, "x") for v in xs]
             + [_node(v, "w") for row in ws for v in row]
             + [_node(v, "b") for v in biases] + [_node(z, "z") for z in zs]
             + [_node(a, "a") for a in as_] + [_node(L, "L")])
    edges = ([[v.name, z.name] for v in xs for z in zs]
             + [[ws[j][k].name, zs[k].name] for j in range(len(xs)) for k in range(K)]
             + [[biases[k].name, zs[k].name] for k in range(K)]
             + [[z.name, a.name] for z in zs for a in as_]
             + [[a.name, "L"] for a in as_])
    return nodes, edges, note
