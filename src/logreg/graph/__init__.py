"""Computation graph and reverse-mode backpropagation, as the notes draw it.

Four small modules, each readable in one sitting:

- :mod:`~logreg.graph.engine`: :class:`Value`, a node holding a number or an array; every
  operation with its forward value and local derivative side by side; ``backward``; the one
  helper that sums broadcast gradients back; ``exp``, ``log``, ``sigmoid``, ``softplus``,
  ``softmax`` and ``log_softmax`` (column by column, by log-sum-exp); and :func:`gradcheck`
  against central differences.
- :mod:`~logreg.graph.logistic`: the notes' logistic-regression cost built from Values
  (:func:`logistic_cost`; a softmax layer's for K classes) and :func:`loss_and_gradient`, a
  drop-in for ``logreg.core.neuron.loss_and_gradient`` (the estimator's ``backprop="graph"``), on
  dense or SciPy sparse X.
- :mod:`~logreg.graph.parser`: expressions such as ``"J = 3*(a + b*c)"`` read with ``ast``,
  never eval'd (:func:`parse`), built and run forward and backward (:func:`evaluate`).
- :mod:`~logreg.graph.drawing`: a picture of the graph with Graphviz (:func:`draw`).

The package imports nothing of logreg but its errors and its atomic file writer.

Examples
--------
The notes' computation graph J = 3(a + bc), with u = bc and v = a + u, at a = 5, b = 3, c = 2:

>>> J, nodes = evaluate("u = b*c; v = a + u; J = 3*v", {"a": 5, "b": 3, "c": 2})
>>> nodes["u"].data, nodes["v"].data, J.data
(6.0, 11.0, 33.0)
>>> [nodes[name].grad for name in "vaubc"]
[3.0, 3.0, 3.0, 6.0, 9.0]
"""

from logreg.graph.drawing import (
    MAX_DRAWN_NODES,
    PICTURE_FORMATS,
    DotNotFoundError,
    draw,
    picture_path,
)
from logreg.graph.engine import (
    Value,
    exp,
    gradcheck,
    log,
    log_softmax,
    sigmoid,
    softmax,
    softplus,
)
from logreg.graph.logistic import logistic_cost, loss_and_gradient
from logreg.graph.parser import (
    MAX_CHARACTERS,
    MAX_TERMS,
    GraphExpressionError,
    Parsed,
    evaluate,
    parse,
)

__all__ = [
    "Value",
    "exp",
    "log",
    "sigmoid",
    "softplus",
    "softmax",
    "log_softmax",
    "gradcheck",
    "logistic_cost",
    "loss_and_gradient",
    "draw",
    "picture_path",
    "parse",
    "evaluate",
    "Parsed",
    "GraphExpressionError",
    "DotNotFoundError",
    "MAX_CHARACTERS",
    "MAX_TERMS",
    "MAX_DRAWN_NODES",
    "PICTURE_FORMATS",
]
