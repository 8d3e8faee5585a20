"""Computation graph and reverse-mode backpropagation, as the notes draw it.

A :class:`Value` is a node of the graph: it holds a number or a NumPy array (``.data``) and,
after :meth:`Value.backward`, the derivative of the final output J with respect to itself
(``.grad``, the notes' "dvar"). Every operation builds a new node and records, side by side, its
forward value and its local derivative (micrograd's engine); a gradient that flows into an operand
the operation broadcast is summed back to that operand's shape in one place, ``_unbroadcast``
(tinygrad's "sum in reverse").

The module also holds the logistic-regression cost built from graph nodes
(:func:`logistic_cost`), a finite-difference gradient check (:func:`gradcheck`), a safe parser of
small expressions such as ``"J = 3*(a + b*c)"`` (:func:`parse`, :func:`evaluate`; never eval'd)
and a picture of the graph (:func:`draw`). It imports nothing from the rest of ``logreg``.

Examples
--------
The notes' computation graph J = 3(a + bc), with u = bc and v = a + u, at a = 5, b = 3, c = 2:

>>> a, b, c = Value(5, name="a"), Value(3, name="b"), Value(2, name="c")
>>> u = b * c; v = a + u; J = 3 * v
>>> J.backward()
>>> u.data, v.data, J.data
(6.0, 11.0, 33.0)
>>> v.grad, a.grad, u.grad, b.grad, c.grad
(3.0, 3.0, 3.0, 6.0, 9.0)
"""

from __future__ import annotations

import ast
import math
import operator
import os
import tempfile
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

__all__ = [
    "Value",
    "exp",
    "log",
    "sigmoid",
    "softplus",
    "gradcheck",
    "logistic_cost",
    "draw",
    "parse",
    "evaluate",
    "Parsed",
    "GraphExpressionError",
    "DotNotFoundError",
]


class GraphExpressionError(ValueError):
    """An expression text that :func:`parse` or :func:`evaluate` refuses, with the reason."""


class DotNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is missing; the graph's ``.dot`` source was written instead.

    Attributes
    ----------
    dot_path : pathlib.Path
        Where the ``.dot`` source was written.
    target : pathlib.Path
        The picture that was asked for.
    graph : graphviz.Digraph
        The graph itself, for callers that want its ``.source``.
    """

    def __init__(self, dot_path, target, fmt, graph):
        self.dot_path, self.target, self.graph = Path(dot_path), Path(target), graph
        super().__init__(
            f"dot not found; wrote {self.dot_path}; render it with "
            f"`dot -T{fmt} {self.dot_path} -o {self.target}` after installing graphviz "
            "(apt-get install graphviz)"
        )


# ----------------------------------------------------------------------------------------------
# numerics shared by the operations


def _sigmoid(x):
    """σ(x) = 1 / (1 + e^(-x)) without overflow: only e^(-|x|) ≤ 1 is ever computed."""
    e = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^(-|x|)), finite for every finite x."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _unbroadcast(grad, shape):
    """Sum a gradient back to the shape of the operand that broadcasting stretched.

    The one place where broadcasting meets backpropagation: axes the broadcast prepended are
    summed away, and axes where the operand had length 1 are summed with ``keepdims``.
    """
    if np.shape(grad) == shape:
        return grad  # nothing was broadcast
    grad = np.asarray(grad, dtype=float)
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))  # prepended axes
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    grad = grad.sum(axis=stretched, keepdims=True)  # length-1 axes
    return float(grad) if shape == () else grad


def _expand(grad, shape, axis, keepdims):
    """Spread the gradient of a reduction (sum, mean) back over the reduced axes."""
    if axis is not None and not keepdims:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        grad = np.expand_dims(grad, tuple(a % len(shape) for a in axes))
    return np.broadcast_to(grad, shape)


def _as_data(data):
    """A real number becomes a float, anything else a float64 array."""
    if isinstance(data, Value):
        raise TypeError("Value(...) takes a number or an array, not another Value")
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Value holds real numbers or arrays of them, got dtype {array.dtype} ({data!r:.60})"
        )
    return float(array) if array.ndim == 0 else array.astype(float, copy=False)


def _lift(x):
    """A plain number or array taking part in an operation becomes a constant leaf: no
    gradient is computed for it (for data such as X, that saves a matrix per step)."""
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


# ----------------------------------------------------------------------------------------------
# the node


class Value:
    """One node of a computation graph: a number or an array, and dJ/d(this node).

    Parameters
    ----------
    data : float or array_like
        The node's value; numbers are stored as ``float``, arrays as float64 ``ndarray``.
    name : str, optional
        A label such as ``"a"``, ``"u"`` or ``"J"``, shown by :func:`draw`.

    Attributes
    ----------
    data : float or ndarray
    grad : float, ndarray or None
        dJ/d(this node), the notes' "dvar", of the same shape as ``data``; ``None`` until a
        :meth:`backward` call walks through the node.
    name : str or None
    op : str
        The operation that made the node (``"+"``, ``"*"``, ``"exp"``, ...); ``""`` for a leaf.
    parents : tuple of Value
        The operands of that operation.

    Examples
    --------
    >>> a = Value(5, name="a")
    >>> J = a ** 2
    >>> J.backward()
    >>> J.data, a.grad
    (25.0, 10.0)
    """

    __array_ufunc__ = None  # ndarray (op) Value defers to Value's reflected operations

    def __init__(self, data, name=None, *, requires_grad=True, _parents=(), _op="",
                 _chain=()):
        self.data = _as_data(data)
        self.grad = None
        self.name = name
        self.op = _op
        self.parents = tuple(_parents)
        # a leaf asks for its gradient; a result needs one when any operand does
        self.requires_grad = (requires_grad if not self.parents
                              else any(p.requires_grad for p in self.parents))
        self._chain = _chain  # per parent: output gradient g -> that parent's share of it

    def __repr__(self):
        label = f"name={self.name!r}, " if self.name else ""
        return f"Value({label}data={_describe(self.data)}, grad={_describe(self.grad)})"

    # -- binary operations: forward value and local derivative side by side ------------------

    def __add__(self, other):
        other = _lift(other)
        # d(x + y) = dx + dy
        return Value(self.data + other.data, _parents=(self, other), _op="+",
                     _chain=(lambda g: g, lambda g: g))

    def __sub__(self, other):
        other = _lift(other)
        # d(x - y) = dx - dy
        return Value(self.data - other.data, _parents=(self, other), _op="-",
                     _chain=(lambda g: g, lambda g: -g))

    def __mul__(self, other):
        other = _lift(other)
        # d(xy) = y dx + x dy   (the notes: du/db = c, du/dc = b)
        return Value(self.data * other.data, _parents=(self, other), _op="*",
                     _chain=(lambda g: g * other.data, lambda g: g * self.data))

    def __truediv__(self, other):
        other = _lift(other)
        # d(x / y) = dx / y - x dy / y²
        return Value(self.data / other.data, _parents=(self, other), _op="/",
                     _chain=(lambda g: g / other.data,
                             lambda g: -g * self.data / other.data**2))

    def __matmul__(self, other):
        other = _lift(other)
        if np.ndim(self.data) != 2 or np.ndim(other.data) != 2:
            raise ValueError(
                f"@ takes two 2-D arrays (the notes' layout has no rank-1 arrays), got shapes "
                f"{np.shape(self.data)} and {np.shape(other.data)}; reshape to (n, 1) or (1, n)"
            )
        # d(XY) = dX Y + X dY  ->  dX = G Yᵀ, dY = Xᵀ G
        return Value(self.data @ other.data, _parents=(self, other), _op="@",
                     _chain=(lambda g: g @ other.data.T, lambda g: self.data.T @ g))

    def __radd__(self, other):
        return _lift(other) + self

    def __rsub__(self, other):
        return _lift(other) - self

    def __rmul__(self, other):
        return _lift(other) * self

    def __rtruediv__(self, other):
        return _lift(other) / self

    def __rmatmul__(self, other):
        return _lift(other) @ self

    def __pow__(self, p):
        if isinstance(p, Value) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"the exponent of ** must be a number, got {type(p).__name__}")
        p = float(p)
        # d(x^p) = p x^(p-1) dx   (the notes: d(a²)/da = 2a, d(a³)/da = 3a²)
        return Value(self.data**p, _parents=(self,), _op=f"**{p:g}",
                     _chain=(lambda g: g * p * self.data ** (p - 1),))

    # -- unary operations ---------------------------------------------------------------------

    def __neg__(self):
        # d(-x) = -dx
        return Value(-self.data, _parents=(self,), _op="neg", _chain=(lambda g: -g,))

    def __pos__(self):
        return self

    def exp(self):
        out = np.exp(self.data)
        # d(e^x) = e^x dx
        return Value(out, _parents=(self,), _op="exp", _chain=(lambda g: g * out,))

    def log(self):
        # d(ln x) = dx / x   (the notes: d(ln a)/da = 1/a)
        return Value(np.log(self.data), _parents=(self,), _op="log",
                     _chain=(lambda g: g / self.data,))

    def sigmoid(self):
        s = _sigmoid(self.data)
        # dσ(z) = σ(z)(1 - σ(z)) dz
        return Value(s, _parents=(self,), _op="sigmoid", _chain=(lambda g: g * s * (1 - s),))

    def softplus(self):
        # d log(1 + e^z) = σ(z) dz; the stable form of -log(1 - σ(z))
        return Value(_softplus(self.data), _parents=(self,), _op="softplus",
                     _chain=(lambda g: g * _sigmoid(self.data),))

    # -- shape operations ---------------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        shape = np.shape(self.data)
        # d(Σx) = Σdx: every element receives the output's gradient
        return Value(np.sum(self.data, axis=axis, keepdims=keepdims), _parents=(self,),
                     _op=_reduction("sum", axis, keepdims),
                     _chain=(lambda g: _expand(g, shape, axis, keepdims),))

    def mean(self, axis=None, keepdims=False):
        shape, out = np.shape(self.data), np.mean(self.data, axis=axis, keepdims=keepdims)
        count = np.size(self.data) / np.size(out)
        # d(mean x) = Σdx / count   (the notes: J /= m, db /= m)
        return Value(out, _parents=(self,), _op=_reduction("mean", axis, keepdims),
                     _chain=(lambda g: _expand(np.divide(g, count), shape, axis, keepdims),))

    @property
    def T(self):
        # d(xᵀ) = (dx)ᵀ
        return Value(np.transpose(self.data), _parents=(self,), _op="T",
                     _chain=(lambda g: np.transpose(g),))

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])  # reshape((2, 3)) as well as reshape(2, 3)
        old = np.shape(self.data)
        # d(reshape x) = reshape back dx
        return Value(np.reshape(self.data, shape), _parents=(self,), _op=f"reshape{shape}",
                     _chain=(lambda g: np.reshape(g, old),))

    def _alias(self):
        """A new node equal to this one (for ``v = a`` in an expression), so both keep names."""
        return Value(self.data, _parents=(self,), _op="=", _chain=(lambda g: g,))

    # -- backpropagation ----------------------------------------------------------------------

    def backward(self):
        """Fill ``.grad`` = dJ/d(node) for every node this output J depends on.

        Seeds dJ/dJ = 1, then visits the nodes in reverse topological order, from right to left
        as the notes do, and applies the chain rule: each node passes its gradient times its
        local derivative to its parents. A node used several times receives the sum over all
        its paths to J.

        Repeated calls: every call first sets the ``.grad`` of every node it walks to zero, so
        calling ``backward()`` twice gives the same gradients, not doubled ones. A node shared
        with another graph keeps only the gradients of the latest ``backward()`` that walked it;
        add them up yourself if you want a sum. Nodes outside this graph are left untouched.

        Raises
        ------
        ValueError
            If the output holds more than one number (backpropagate from a scalar cost, e.g.
            ``Z.sum()`` or ``Z.mean()``).
        """
        if np.size(self.data) != 1:
            raise ValueError(
                f"backward() starts from a scalar output J, got data of shape "
                f"{np.shape(self.data)}; reduce it first, e.g. with .sum() or .mean()"
            )
        order = _topological(self)
        for node in order:
            node.grad = None
        self.grad = np.ones_like(self.data) if isinstance(self.data, np.ndarray) else 1.0
        for node in reversed(order):  # right to left: J first, the inputs last
            for parent, local in zip(node.parents, node._chain):
                if parent.requires_grad:
                    share = _unbroadcast(local(node.grad), np.shape(parent.data))
                    parent.grad = share if parent.grad is None else parent.grad + share


def _topological(root, constants=False):
    """The nodes that ``root`` depends on, each after all of its parents (no recursion);
    constants (nodes that need no gradient) only when asked."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents
                         if id(p) not in seen and (constants or p.requires_grad))
    return order


def _reduction(name, axis, keepdims):
    """The label of a sum or mean node, e.g. ``sum(axis=0, keepdims)``."""
    args = [] if axis is None else [f"axis={axis}"]
    return f"{name}({', '.join(args + (['keepdims'] if keepdims else []))})"


def exp(x):
    """e^x as a graph node; ``x`` is a Value, number or array."""
    return _lift(x).exp()


def log(x):
    """Natural logarithm as a graph node; ``x`` is a Value, number or array."""
    return _lift(x).log()


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(-x)) as a graph node, stable for every finite x."""
    return _lift(x).sigmoid()


def softplus(x):
    """log(1 + e^x) as a graph node, stable for every finite x."""
    return _lift(x).softplus()


# ----------------------------------------------------------------------------------------------
# logistic regression as a graph


def logistic_cost(w, b, X, Y, sample_weight=None, l2=0.0):
    """The notes' logistic-regression cost J(w, b), built from graph nodes.

    Z = wᵀX + b, A = σ(Z), J = -mean(Y log A + (1 - Y) log(1 - A)); the loss is built from Z as
    softplus(Z) - Y Z = log(1 + e^Z) - Y Z, the same number but finite even where the model is
    certain and wrong (A rounds to 0 or 1). Its derivative is dJ/dZ = (A - Y) / m.

    Parameters
    ----------
    w : Value or array of shape (n_x, 1)
    b : Value or float
        Pass Values to read ``w.grad`` (dw) and ``b.grad`` (db) after ``J.backward()``.
    X : array of shape (n_x, m)
    Y : array of shape (1, m), labels 0 or 1
    sample_weight : array of shape (1, m), optional
        Weights s: the mean becomes Σ s·L / Σ s.
    l2 : float
        λ: adds (λ / 2m)‖w‖² (m = Σ s with weights); 0 is the notes' cost.

    Returns
    -------
    J : Value
        The cost, a float.
    Z : Value
        The node Z of shape (1, m); after ``J.backward()`` its ``.grad`` is dZ / m.

    Examples
    --------
    >>> w, b = Value(np.zeros((2, 1)), name="w"), Value(0.0, name="b")
    >>> X, Y = np.array([[1.0, -1.0], [2.0, 0.0]]), np.array([[1.0, 0.0]])
    >>> J, Z = logistic_cost(w, b, X, Y)
    >>> J.backward()
    >>> round(J.data, 6), w.grad.ravel().tolist(), b.grad
    (0.693147, [-0.5, -0.5], 0.0)
    """
    w = w if isinstance(w, Value) else Value(w, name="w")
    b = b if isinstance(b, Value) else Value(b, name="b")
    X = X if isinstance(X, Value) else Value(X, name="X", requires_grad=False)  # data: no dX
    Y = Y if isinstance(Y, Value) else Value(Y, name="Y", requires_grad=False)
    Z = w.T @ X + b  # z = wᵀx + b
    Z.name = "Z"
    if np.shape(Y.data) != np.shape(Z.data):
        raise ValueError(
            f"Y has shape {np.shape(Y.data)} but Z = wᵀX + b has shape {np.shape(Z.data)}; "
            "Y must be (1, m) with one label per column of X"
        )
    L = softplus(Z) - Y * Z  # L(a, y) = -(y log a + (1 - y) log(1 - a)), from z
    L.name = "L"
    if sample_weight is None and not l2:
        J = L.mean()  # J = (1/m) Σ L
    else:
        weights = np.ones_like(Z.data) if sample_weight is None else np.asarray(sample_weight)
        m = float(np.sum(weights))
        J = (weights * L).sum() / m + (l2 / (2 * m)) * (w * w).sum()  # Σ sL/Σs + (λ/2m)‖w‖²
    J.name = "J"
    return J, Z


def loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0):
    """(J, dw, db) by backpropagation through the graph: a drop-in for the closed form.

    The same contract as ``logreg.neuron.loss_and_gradient``: with ``sample_weight`` s (1, m)
    the mean is weighted, J = Σ sL / Σ s; ``l2`` = λ adds (λ / 2m)‖w‖². Nothing here knows
    that dZ = A − Y: the gradients come out of ``backward()``.
    """
    w, b = Value(w, name="w"), Value(b, name="b")
    J, _ = logistic_cost(w, b, X, Y, sample_weight, l2)
    J.backward()
    return J.data, w.grad, b.grad


# ----------------------------------------------------------------------------------------------
# gradient check


def gradcheck(f: Callable[..., Value], inputs: Sequence, eps: float = 1e-6) -> float:
    """Compare backpropagation with central differences; return the worst error.

    Parameters
    ----------
    f : callable
        Takes one Value per input and returns a scalar Value J.
    inputs : sequence of numbers or arrays
        The point at which to check; never modified.
    eps : float
        The step of the central difference (J(x + eps) - J(x - eps)) / (2 eps).

    Returns
    -------
    float
        The worst, over every element of every input, of
        ``|analytic - numeric| / max(|analytic|, |numeric|, 1)``: a relative error where the
        derivative is larger than 1 in size, an absolute one below, so that finite-difference
        noise around a zero derivative is not reported as a 100 % error. Around 1e-8 or less
        for a correct derivative of a smooth function with moderate values.

    Examples
    --------
    >>> gradcheck(lambda a, b, c: 3 * (a + b * c), [5.0, 3.0, 2.0]) < 1e-8
    True
    """
    points = [_as_data(x) for x in inputs]
    leaves = [Value(x) for x in points]
    J = f(*leaves)
    if not isinstance(J, Value):
        raise TypeError(f"f must return a Value, got {type(J).__name__}")
    J.backward()
    worst = 0.0
    for k, x in enumerate(points):
        analytic = np.broadcast_to(0.0 if leaves[k].grad is None else leaves[k].grad, np.shape(x))
        for index in np.ndindex(np.shape(x)):
            numeric = (_nudged(f, points, k, index, eps) - _nudged(f, points, k, index, -eps)) / (
                2 * eps
            )
            a = float(analytic[index])
            worst = max(worst, abs(a - numeric) / max(abs(a), abs(numeric), 1.0))
    return worst


def _nudged(f, points, k, index, delta):
    """J with element ``index`` of input ``k`` moved by ``delta``."""
    moved = list(points)
    if np.ndim(points[k]) == 0:
        moved[k] = points[k] + delta
    else:
        moved[k] = points[k].copy()
        moved[k][index] += delta
    return float(np.asarray(f(*[Value(x) for x in moved]).data).reshape(()))


# ----------------------------------------------------------------------------------------------
# picture


def _describe(x):
    """A number compactly (``33``, ``0.6931``), an array by its shape, ``None`` as ``-``."""
    if x is None:
        return "-"
    if isinstance(x, np.ndarray):
        return f"array{x.shape}"
    return f"{x:.4g}"


def _record(text):
    """Escape the characters that Graphviz's record labels treat as structure."""
    return "".join("\\" + ch if ch in "{}|<>\\\"" else ch for ch in text)


def draw(J, path=None, format="svg"):
    """Picture of the graph that ends at ``J``, left to right as the notes draw it.

    Each value is a box with its name, value (numbers compactly, arrays by shape) and gradient;
    each operation is a small ellipse between its inputs and its output.

    Parameters
    ----------
    J : Value
        The output; call ``J.backward()`` first to see the gradients.
    path : str or path-like, optional
        Where to write the picture; its suffix (``.svg``, ``.png``, ...) picks the format, or
        ``format`` when it has none. Written atomically.
    format : str
        The format when ``path`` has no suffix.

    Returns
    -------
    graphviz.Digraph
        The graph; ``.source`` holds its DOT text.

    Raises
    ------
    DotNotFoundError
        If ``path`` is given but Graphviz's ``dot`` program is not installed: the DOT source is
        written next to ``path`` (suffix ``.dot``) and the message says how to render it.
    ImportError
        If the ``graphviz`` Python package is missing.

    Examples
    --------
    >>> J, nodes = evaluate("u = b*c; v = a + u; J = 3*v", {"a": 5, "b": 3, "c": 2})
    >>> source = draw(J).source
    >>> "{ u | data 6 | grad 3 }" in source, "{ J | data 33 | grad 1 }" in source
    (True, True)
    """
    try:
        import graphviz
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("draw() needs the graphviz package: pip install graphviz") from error

    dot = graphviz.Digraph(graph_attr={"rankdir": "LR"}, node_attr={"fontsize": "11"})
    order = _topological(J, constants=True)
    ids = {id(node): f"n{i}" for i, node in enumerate(order)}
    for node in order:
        fields = ([node.name] if node.name else []) + [f"data {_describe(node.data)}"] + (
            [f"grad {_describe(node.grad)}"] if node.requires_grad else [])  # constants: none
        dot.node(ids[id(node)], "{ " + " | ".join(_record(t) for t in fields) + " }",
                 shape="record")
        if node.op:
            op_id = ids[id(node)] + "op"
            dot.node(op_id, node.op, shape="ellipse", width="0.3", height="0.3")
            dot.edge(op_id, ids[id(node)])
            for parent in node.parents:
                dot.edge(ids[id(parent)], op_id)
    if path is None:
        return dot

    target = Path(path)
    fmt = target.suffix.lstrip(".").lower() or format
    if not target.suffix:
        target = target.with_suffix("." + fmt)
    try:
        picture = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        dot_path = target.with_suffix(".dot")
        _write_atomically(dot_path, dot.source.encode())
        raise DotNotFoundError(dot_path, target, fmt, dot) from None
    _write_atomically(target, picture)
    return dot


def _write_atomically(path, content: bytes):
    """Write to a temporary file beside ``path``, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ----------------------------------------------------------------------------------------------
# expressions such as "u = b*c; v = a + u; J = 3*v", parsed with ast and never evaluated by Python

_FUNCTIONS = {"exp": exp, "log": log, "sigmoid": sigmoid}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_ALLOWED = ("allowed: names, numbers, + - * / **, unary -, parentheses, exp(x), log(x), "
            "sigmoid(x), and statements `name = expression` separated by ; or new lines")
_REFUSED = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambda",
    ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.IfExp: "if-else",
    ast.JoinedStr: "f-strings", ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts",
    ast.Set: "sets", ast.Starred: "starred arguments", ast.NamedExpr: ":=",
    ast.Import: "imports", ast.ImportFrom: "imports", ast.AugAssign: "augmented assignment",
    ast.AnnAssign: "annotated assignment", ast.Expr: "a bare expression (write `J = ...`)",
}


class Parsed(NamedTuple):
    """A checked expression text: what :func:`parse` returns."""

    statements: list  # (name, ast expression) in order; the last one is the output
    inputs: tuple  # the free names, in order of first use
    output: str  # the name of the last assignment


def _refuse(node, text, what=None):
    what = what or _REFUSED.get(type(node), type(node).__name__)
    segment = ast.get_source_segment(text, node) if hasattr(node, "lineno") else None
    if segment and len(segment) > 60:
        segment = segment[:57] + "..."
    shown = f" `{segment}`" if segment else ""
    return GraphExpressionError(f"refused {what}{shown}; {_ALLOWED}")


def _uses(node):
    """The names and calls inside an expression (a constant has none)."""
    return [n for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Call))]


def _fold(node, text):
    """The value of a constant expression such as ``-1`` or ``(1/2)``, as a finite float."""
    try:
        if isinstance(node, ast.Constant):
            value = float(node.value)
        elif isinstance(node, ast.UnaryOp):
            value = _UNARY[type(node.op)](_fold(node.operand, text))
        else:
            value = _BINARY[type(node.op)](_fold(node.left, text), _fold(node.right, text))
    except OverflowError:
        raise _refuse(node, text, "a constant too large for a float") from None
    except ZeroDivisionError:
        raise _refuse(node, text, "a constant division by zero") from None
    if not isinstance(value, float) or not math.isfinite(value):
        raise _refuse(node, text, "a constant that is not a finite real number")
    return value


def _check(node, text, inputs, assigned):
    """Refuse anything but the allowed grammar; collect the free names into ``inputs``."""
    if isinstance(node, ast.Name):
        if node.id in _FUNCTIONS:
            raise _refuse(node, text, f"the function name {node.id!r} used as a value")
        if node.id not in assigned and node.id not in inputs:
            inputs.append(node.id)
    elif isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise _refuse(node, text, f"a {type(node.value).__name__} constant")
        _fold(node, text)
    elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand, text, inputs, assigned)
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, text, inputs, assigned)
        _check(node.right, text, inputs, assigned)
        if isinstance(node.op, ast.Pow) and _uses(node.right):
            raise _refuse(node.right, text, "a non-constant exponent (** takes a number)")
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in _FUNCTIONS:
            raise _refuse(node, text, "a call of anything but exp, log, sigmoid")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _refuse(node, text, f"{name}() with other than exactly one plain argument")
        _check(node.args[0], text, inputs, assigned)
    elif isinstance(node, (ast.UnaryOp, ast.BinOp)):
        raise _refuse(node, text, f"the operator {type(node.op).__name__}")
    else:
        raise _refuse(node, text)
    if isinstance(node, (ast.UnaryOp, ast.BinOp)) and not _uses(node):
        _fold(node, text)  # a constant part such as (1/2) must be a finite real number


def parse(text: str) -> Parsed:
    """Check an expression text such as ``"u = b*c; v = a + u; J = 3*v"`` without running it.

    The text is read with :func:`ast.parse` and walked; nothing in it is ever evaluated by
    Python. Allowed: statements ``name = expression`` separated by ``;`` or new lines, whose
    expressions use names, numbers, ``+ - * / **`` (with a constant exponent), unary ``-`` and
    ``+``, parentheses and calls of ``exp``, ``log`` and ``sigmoid`` with one argument. A name may
    be assigned once, and not after it was used as an input.

    Returns
    -------
    Parsed
        ``statements`` (name, expression tree) in order, ``inputs`` (free names in order of
        first use) and ``output`` (the last assigned name).

    Raises
    ------
    GraphExpressionError
        For anything else, naming what was refused.

    Examples
    --------
    >>> parse("u = b*c; v = a + u; J = 3*v").inputs
    ('b', 'c', 'a')
    """
    if not isinstance(text, str):
        raise GraphExpressionError(f"an expression is a str, got {type(text).__name__}")
    try:
        tree = ast.parse(text, mode="exec")
    except (SyntaxError, ValueError) as error:
        raise GraphExpressionError(f"not a valid expression ({error}); {_ALLOWED}") from None
    except (RecursionError, MemoryError):
        raise GraphExpressionError("expression nested too deeply") from None
    statements, inputs, assigned = [], [], set()
    try:
        for statement in tree.body:
            if isinstance(statement, ast.Expr):  # say what is wrong inside it first
                _check(statement.value, text, inputs, assigned)
            if not isinstance(statement, ast.Assign):
                raise _refuse(statement, text)
            if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
                raise _refuse(statement, text, "an assignment to anything but one name")
            _check(statement.value, text, inputs, assigned)
            name = statement.targets[0].id
            if name in _FUNCTIONS or name in assigned or name in inputs:
                raise _refuse(statement, text, f"a second definition of {name!r}")
            assigned.add(name)
            statements.append((name, statement.value))
    except RecursionError:
        raise GraphExpressionError("expression nested too deeply") from None
    if not statements:
        raise GraphExpressionError(f"no assignment found, e.g. `J = 3*(a + b*c)`; {_ALLOWED}")
    return Parsed(statements, tuple(inputs), statements[-1][0])


def _build(node, env, text):
    """The graph node of a checked expression tree."""
    if not _uses(node):
        return Value(_fold(node, text), requires_grad=False)  # a constant, e.g. the 3 of J = 3v
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_build(node.operand, env, text))
    if isinstance(node, ast.Call):
        return _FUNCTIONS[node.func.id](_build(node.args[0], env, text))
    if isinstance(node.op, ast.Pow):
        return _build(node.left, env, text) ** _fold(node.right, text)
    return _BINARY[type(node.op)](_build(node.left, env, text), _build(node.right, env, text))


def evaluate(text: str, values: dict) -> tuple[Value, dict]:
    """Build the graph of an expression text, run it forward and backward.

    Parameters
    ----------
    text : str
        Statements as :func:`parse` accepts, e.g. ``"u = b*c; v = a + u; J = 3*v"``; the last
        assignment is the output J.
    values : dict of str to number or array
        A value for every free name, and nothing else.

    Returns
    -------
    J : Value
        The output, after ``J.backward()``.
    nodes : dict of str to Value
        Every named node, inputs first, then the assigned names in order; each ``.grad`` is
        dJ/d(name) (``None`` for a name J does not depend on).

    Raises
    ------
    GraphExpressionError
        If :func:`parse` refuses the text, a free name has no value, or a value is given for a
        name that is not a free name of the text (a typo would otherwise pass silently).

    Examples
    --------
    >>> J, nodes = evaluate("u = b*c; v = a + u; J = 3*v", {"a": 5, "b": 3, "c": 2})
    >>> J.data, nodes["u"].data, nodes["v"].data
    (33.0, 6.0, 11.0)
    >>> [nodes[n].grad for n in "vaubc"]
    [3.0, 3.0, 3.0, 6.0, 9.0]
    """
    parsed = parse(text)
    missing = [name for name in parsed.inputs if name not in values]
    if missing:
        raise GraphExpressionError(
            f"no value for {', '.join(map(repr, missing))}; the expression needs values for "
            f"{', '.join(parsed.inputs) or 'nothing'}"
        )
    unused = [str(name) for name in values if name not in parsed.inputs]
    if unused:
        raise GraphExpressionError(
            f"value given for {', '.join(map(repr, unused))}, which the expression does not use "
            f"as an input; its inputs are {', '.join(parsed.inputs) or 'none'}"
        )
    nodes = {name: Value(values[name], name=name) for name in parsed.inputs}
    for name, expression in parsed.statements:
        node = _build(expression, nodes, text)
        node = node._alias() if node.name is not None else node  # `v = a` keeps a's name
        node.name = name
        nodes[name] = node
    J = nodes[parsed.output]
    J.backward()
    return J, nodes
