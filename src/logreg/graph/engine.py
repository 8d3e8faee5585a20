"""The engine: a node of the computation graph, its operations, and backpropagation.

A :class:`Value` holds a number or a NumPy array (``.data``) and, after :meth:`Value.backward`,
the derivative of the output J with respect to itself (``.grad``, the notes' "dvar"). Every
operation builds a new node and writes, side by side, its forward value and its local
derivative (micrograd's engine). A gradient that flows into an operand the operation broadcast
is summed back to that operand's shape in one place, :func:`unbroadcast` (tinygrad's "sum in
reverse").

A layer of K neurons needs two more: ``softmax`` and ``log_softmax``, column by column (axis 0
of a (K, m) Z, one column per example), computed by log-sum-exp so that any finite z gives
finite numbers.

Numbers compute as IEEE floats do: an overflow gives ±inf, 0/0 or log(−1) gives nan, with no
warning (:func:`logreg.graph.evaluate` turns such a number into an error that names its step).
A float32 array stays float32, and so does its gradient. A SciPy sparse matrix (data such as X)
may be a Value too; it stays sparse and takes part in ``@`` and ``.T`` only (Z = Wᵀ @ X), whose
results and gradients are dense.

>>> a, b, c = Value(5, name="a"), Value(3, name="b"), Value(2, name="c")
>>> u = b * c; v = a + u; J = 3 * v
>>> J.backward()
>>> u.data, v.data, J.data
(6.0, 11.0, 33.0)
>>> v.grad, a.grad, u.grad, b.grad, c.grad
(3.0, 3.0, 3.0, 6.0, 9.0)
"""

from __future__ import annotations

import functools
import sys
from typing import Callable, Sequence

import numpy as np

from logreg.core import text
from logreg.errors import InvalidInputError, InvalidTypeError


def _quietly(operation):
    """Run an operation as IEEE floats do (inf, nan) and never print a RuntimeWarning."""
    @functools.wraps(operation)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return operation(*args, **kwargs)
    return quiet


def _dense_only(operation):
    """Refuse a sparse operand: sparse data (such as X) takes part in ``@`` and ``.T`` only."""
    @functools.wraps(operation)
    def dense(*operands, **kwargs):
        if any(_is_sparse(x.data if isinstance(x, Value) else x) for x in operands):
            raise InvalidInputError(
                f"{operation.__name__.strip('_')} of a sparse matrix: the graph takes sparse data "
                f"only in @ and .T (as X in Z = Wᵀ @ X); pass a dense array to do more with it")
        return operation(*operands, **kwargs)
    return dense


# ----------------------------------------------------------------------------------------------
# helpers shared by the operations


def _sigmoid(x):
    """σ(x) = 1 / (1 + e^(-x)) without overflow: only e^(-|x|) ≤ 1 is ever computed."""
    e = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^(-|x|)), finite for every finite x."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _log_softmax(z, axis):
    """log softmax(z) along ``axis``: z_k − log Σ_j e^{z_j}, by log-sum-exp. The largest z of
    each slice is subtracted first, so e^{z − max} ≤ 1 never overflows: finite for finite z."""
    shifted = z - np.max(z, axis=axis, keepdims=True)  # z − max z, exact for the largest
    # log softmax(z) = (z − max z) − log Σ_j e^{z_j − max z}
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _is_sparse(data):
    """Whether ``data`` is a SciPy sparse matrix or array (nothing is before SciPy is loaded,
    so the graph never imports it)."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(data)


def unbroadcast(grad, data):
    """A gradient summed back to the shape of the operand ``data`` that broadcasting stretched,
    in that operand's dtype: the one place where broadcasting meets backpropagation (the
    engine's operations and the parser's backward pass both sum their shares through it)."""
    shape = np.shape(data)
    if np.shape(grad) != shape:
        grad = np.sum(grad, axis=tuple(range(np.ndim(grad) - len(shape))))  # prepended axes
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        grad = np.sum(grad, axis=stretched, keepdims=True)  # axes where the operand had 1
    if isinstance(data, np.ndarray) or _is_sparse(data):  # d(sparse X) is dense: every entry
        return np.asarray(grad, dtype=data.dtype)
    return float(grad)


def _expand(grad, data, axis, keepdims):
    """The gradient of a reduction (sum, mean) spread back over the reduced axes of ``data``."""
    shape = np.shape(data)
    if axis is not None and not keepdims:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        grad = np.expand_dims(grad, tuple(a % len(shape) for a in axes))
    return np.broadcast_to(np.asarray(grad, dtype=np.result_type(data)), shape)


def _as_data(data):
    """A real number becomes a float; an array stays float32 or float64 (other kinds: float64)."""
    if isinstance(data, Value):
        raise InvalidTypeError("Value(...) takes a number or an array, not another Value")
    if _is_sparse(data):  # data such as X: kept sparse, never densified
        if data.dtype.kind not in "biuf":
            raise InvalidTypeError(f"Value holds real numbers, got a sparse matrix of dtype "
                                   f"{data.dtype}; convert it to numbers first")
        return data if data.dtype in (np.float32, np.float64) else data.astype(np.float64)
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as error:  # ragged lists and the like
        raise InvalidTypeError(f"Value holds a real number or an array of them, got "
                               f"{type(data).__name__} ({error})") from None
    if array.dtype.kind not in "biuf":
        raise InvalidTypeError(f"Value holds a real number or an array of them, got dtype "
                               f"{array.dtype} ({data!r:.60}); convert it to numbers first")
    if array.ndim == 0:
        return float(array)
    return array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)


def _lift(x):
    """A plain number or array taking part in an operation becomes a constant leaf: no
    gradient is computed for it (for data such as X, that saves a matrix per step)."""
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def describe(x):
    """A number compactly (``33``, ``0.6931``), an array by its shape, ``None`` as ``-``.

    How a node's data and gradient are shown: in ``repr(Value)`` and in a drawing's boxes.
    """
    if x is None:
        return "-"
    if isinstance(x, np.ndarray):
        return f"array{x.shape}"
    if _is_sparse(x):
        return f"sparse{x.shape}"
    return text.number(x, 4)


# ----------------------------------------------------------------------------------------------
# the node


class Value:
    """One node of a computation graph: a number or an array, and dJ/d(this node).

    Parameters
    ----------
    data : float, array_like or SciPy sparse matrix
        The node's value; numbers are stored as ``float``, float32 and float64 arrays as they
        are, other real arrays as float64. A sparse matrix stays sparse (other real dtypes
        become float64) and may only be used in ``@`` and ``.T``.
    name : str, optional
        A label such as ``"a"``, ``"u"`` or ``"J"``, shown by :func:`logreg.graph.draw`.
    requires_grad : bool
        For a leaf: whether :meth:`backward` computes its gradient (False for data and
        constants).

    Attributes
    ----------
    data : float or ndarray
    grad : float, ndarray or None
        dJ/d(this node), the notes' "dvar", of the same shape and dtype as ``data``; ``None``
        until a :meth:`backward` call walks through the node.
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
        return f"Value({label}data={describe(self.data)}, grad={describe(self.grad)})"

    # -- binary operations: forward value and local derivative side by side ------------------

    @_dense_only
    @_quietly
    def __add__(self, other):
        other = _lift(other)
        # d(x + y) = dx + dy
        return Value(self.data + other.data, _parents=(self, other), _op="+",
                     _chain=(lambda g: g, lambda g: g))

    @_dense_only
    @_quietly
    def __sub__(self, other):
        other = _lift(other)
        # d(x - y) = dx - dy
        return Value(self.data - other.data, _parents=(self, other), _op="-",
                     _chain=(lambda g: g, lambda g: -g))

    @_dense_only
    @_quietly
    def __mul__(self, other):
        other = _lift(other)
        # d(xy) = y dx + x dy   (the notes: du/db = c, du/dc = b)
        return Value(self.data * other.data, _parents=(self, other), _op="*",
                     _chain=(lambda g: g * other.data, lambda g: g * self.data))

    @_dense_only
    @_quietly
    def __truediv__(self, other):
        other = _lift(other)
        # d(x / y) = dx / y - x dy / y²
        return Value(np.divide(self.data, other.data), _parents=(self, other), _op="/",
                     _chain=(lambda g: np.divide(g, other.data),
                             lambda g: np.divide(-g * self.data, np.square(other.data))))

    @_quietly
    def __matmul__(self, other):
        other = _lift(other)
        if np.ndim(self.data) != 2 or np.ndim(other.data) != 2:
            raise InvalidInputError(
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

    @_dense_only
    @_quietly
    def __pow__(self, p):
        if isinstance(p, (Value, bool)) or not isinstance(p, (int, float, np.integer,
                                                               np.floating)):
            raise InvalidTypeError(f"the exponent of ** must be a number, got "
                                   f"{type(p).__name__}")
        p = float(p)
        # d(x^p) = p x^(p-1) dx   (the notes: d(a²)/da = 2a, d(a³)/da = 3a²)
        return Value(np.power(self.data, p), _parents=(self,), _op=f"**{p:g}",
                     _chain=(lambda g: g * p * np.power(self.data, p - 1),))

    # -- unary operations ---------------------------------------------------------------------

    @_dense_only
    def __neg__(self):
        # d(-x) = -dx
        return Value(-self.data, _parents=(self,), _op="neg", _chain=(lambda g: -g,))

    def __pos__(self):
        return self

    @_dense_only
    @_quietly
    def exp(self):
        """e^x, element by element, as a new node."""
        out = np.exp(self.data)
        # d(e^x) = e^x dx
        return Value(out, _parents=(self,), _op="exp", _chain=(lambda g: g * out,))

    @_dense_only
    @_quietly
    def log(self):
        """The natural logarithm, element by element, as a new node."""
        # d(ln x) = dx / x   (the notes: d(ln a)/da = 1/a)
        return Value(np.log(self.data), _parents=(self,), _op="log",
                     _chain=(lambda g: np.divide(g, self.data),))

    @_dense_only
    @_quietly
    def sigmoid(self):
        """σ(x) = 1 / (1 + e^(-x)), element by element, as a new node (stable for every
        finite x)."""
        s = _sigmoid(self.data)
        # dσ(z) = σ(z)(1 - σ(z)) dz
        return Value(s, _parents=(self,), _op="sigmoid", _chain=(lambda g: g * s * (1 - s),))

    @_dense_only
    @_quietly
    def softplus(self):
        """log(1 + e^x), element by element, as a new node (stable for every finite x)."""
        # d log(1 + e^z) = σ(z) dz; the stable form of -log(1 - σ(z))
        return Value(_softplus(self.data), _parents=(self,), _op="softplus",
                     _chain=(lambda g: g * _sigmoid(self.data),))

    @_dense_only
    @_quietly
    def log_softmax(self, axis=0):
        """log softmax along ``axis`` (0: column by column, x (K, m)) as a new node, by
        log-sum-exp."""
        axis = _checked_axis(self.data, axis, "log_softmax")
        out = _log_softmax(self.data, axis)
        # d log softmax(z) = dz − softmax(z) Σ_k dz_k, per column: g − A Σ_k g_k
        return Value(out, _parents=(self,), _op=f"log_softmax(axis={axis})",
                     _chain=(lambda g: g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),))

    @_dense_only
    @_quietly
    def softmax(self, axis=0):
        """softmax along ``axis`` (0: column by column, x (K, m)) as a new node."""
        axis = _checked_axis(self.data, axis, "softmax")
        a = np.exp(_log_softmax(self.data, axis))
        # d softmax(z) = a ⊙ (dz − Σ_k a_k dz_k), per column
        return Value(a, _parents=(self,), _op=f"softmax(axis={axis})",
                     _chain=(lambda g: a * (g - np.sum(a * g, axis=axis, keepdims=True)),))

    # -- shape operations ---------------------------------------------------------------------

    @_dense_only
    @_quietly
    def sum(self, axis=None, keepdims=False):
        """The sum over ``axis`` (None: every element) as a new node, as ``np.sum``."""
        # d(Σx) = Σdx: every element receives the output's gradient
        return Value(np.sum(self.data, axis=axis, keepdims=keepdims), _parents=(self,),
                     _op=_reduction("sum", axis, keepdims),
                     _chain=(lambda g: _expand(g, self.data, axis, keepdims),))

    @_dense_only
    @_quietly
    def mean(self, axis=None, keepdims=False):
        """The mean over ``axis`` (None: every element) as a new node, as ``np.mean``."""
        out = np.mean(self.data, axis=axis, keepdims=keepdims)
        count = np.size(self.data) / np.size(out)
        # d(mean x) = Σdx / count   (the notes: J /= m, db /= m)
        return Value(out, _parents=(self,), _op=_reduction("mean", axis, keepdims),
                     _chain=(lambda g: _expand(np.divide(g, count), self.data, axis,
                                               keepdims),))

    @property
    def T(self):
        """The transpose as a new node."""
        # d(xᵀ) = (dx)ᵀ
        return Value(np.transpose(self.data), _parents=(self,), _op="T",
                     _chain=(lambda g: np.transpose(g),))

    @_dense_only
    def reshape(self, *shape):
        """The same values in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``) as a
        new node."""
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

    @_quietly
    def backward(self):
        """Fill ``.grad`` = dJ/d(node) for every node this output J depends on.

        Seeds dJ/dJ = 1, then visits the nodes in reverse topological order, from right to left
        as the notes do, and applies the chain rule: each node passes its gradient times its
        local derivative to its parents. A node used several times receives the sum over all
        its paths to J. No recursion: a chain of any depth works.

        Repeated calls: every call first sets the ``.grad`` of every node it walks to zero, so
        calling ``backward()`` twice gives the same gradients, not doubled ones. A node shared
        with another graph keeps only the gradients of the latest ``backward()`` that walked it;
        add them up yourself if you want a sum. Nodes outside this graph are left untouched.

        Raises
        ------
        InvalidInputError (a ValueError)
            If the output holds more than one number (backpropagate from a scalar cost, e.g.
            ``Z.sum()`` or ``Z.mean()``).
        """
        if np.size(self.data) != 1:
            raise InvalidInputError(
                f"backward() starts from a scalar output J, got data of shape "
                f"{np.shape(self.data)}; reduce it first, e.g. with .sum() or .mean()"
            )
        order = topological(self)
        for node in order:
            node.grad = None
        self.grad = np.ones_like(self.data) if isinstance(self.data, np.ndarray) else 1.0
        for node in reversed(order):  # right to left: J first, the inputs last
            for parent, local in zip(node.parents, node._chain):
                if parent.requires_grad:
                    share = unbroadcast(local(node.grad), parent.data)
                    parent.grad = share if parent.grad is None else parent.grad + share


def topological(root, constants=False):
    """The nodes that ``root`` depends on, each after all of its parents (no recursion);
    constants (nodes that need no gradient) only when asked.

    The order backpropagation visits, reversed (:meth:`Value.backward`, the parser's
    backward pass), and the order a drawing lists the nodes in.
    """
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


def _checked_axis(data, axis, name):
    """``axis`` if ``data`` is an array that has it; softmax of a single number is refused."""
    ndim = np.ndim(data)
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise InvalidTypeError(f"{name}'s axis must be an integer, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise InvalidInputError(
            f"{name}(axis={axis}) needs an array with that axis, got "
            f"{'a number' if ndim == 0 else f'shape {np.shape(data)}'}; in the notes' layout "
            f"Z is (K, m) and axis=0 runs over the K classes of each column")
    return int(axis)


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


def log_softmax(x, axis=0):
    """log softmax(x) along ``axis`` (column by column for the default 0: x is (K, m)) as a
    graph node, by log-sum-exp: finite for every finite x."""
    return _lift(x).log_softmax(axis)


def softmax(x, axis=0):
    """softmax(x) along ``axis`` (each column of a (K, m) x sums to 1) as a graph node, stable
    for every finite x."""
    return _lift(x).softmax(axis)


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
        raise InvalidTypeError(f"f must return a Value, got {type(J).__name__}")
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
