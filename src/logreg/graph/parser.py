"""Expressions such as ``"u = b*c; v = a + u; J = 3*v"``: read with :mod:`ast`, checked node by
node, never evaluated by Python; then built as a graph, run forward and backward.

Every value and every gradient of an evaluated expression is a finite number, or an error names
the step and the values (``log(a) at a=0 is -inf ...``). Nothing here recurses, so a long
expression is refused for its size, never for Python's recursion limit.
"""

from __future__ import annotations

import ast
import math
import operator
import unicodedata
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from logreg.errors import InvalidInputError, InvalidTypeError
from logreg.graph.engine import Value, topological, unbroadcast, exp, log, sigmoid

MAX_CHARACTERS = 100_000  # the longest text parse() reads
MAX_TERMS = 10_000  # the most names, numbers, operations and calls in one text

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


class GraphExpressionError(InvalidInputError):
    """An expression, or values for it, that :func:`parse` or :func:`evaluate` refuses, with
    the reason (a LogregError and a ValueError)."""


class Parsed(NamedTuple):
    """A checked expression text: what :func:`parse` returns."""

    statements: list  # (name, ast expression) in order; the last one is the output
    inputs: tuple  # the free names, in order of first use
    output: str  # the name of the last assignment


# ----------------------------------------------------------------------------------------------
# reading and checking


def _segment(node, text, limit=60):
    """The source text of a node, shortened to ``limit`` characters."""
    segment = ast.get_source_segment(text, node) if hasattr(node, "lineno") else None
    segment = " ".join((segment or "").split())
    return segment if len(segment) <= limit else segment[:limit - 3] + "..."


def _refuse(node, text, what=None):
    what = what or _REFUSED.get(type(node), type(node).__name__)
    segment = _segment(node, text)
    return GraphExpressionError(f"refused {what}{f' `{segment}`' if segment else ''}; "
                                f"{_ALLOWED}")


def _operands(node):
    """The sub-expressions of an allowed node (a call's function name is not one)."""
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _postorder(expression):
    """The nodes of an expression, each after its operands, left to right (no recursion)."""
    order, stack = [], [expression]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(_operands(node))
    return order[::-1]  # the reverse of node-right-left is left-right-node


def _check_node(node, text):
    """Refuse one node of anything but the allowed grammar (its operands are checked apart)."""
    if isinstance(node, ast.Name):
        if node.id in _FUNCTIONS:
            raise _refuse(node, text, f"the function name {node.id!r} used as a value")
    elif isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise _refuse(node, text, f"a {type(node.value).__name__} constant")
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in _FUNCTIONS:
            raise _refuse(node, text, "a call of anything but exp, log, sigmoid")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _refuse(node, text, f"{name}() with other than exactly one plain argument")
    elif isinstance(node, (ast.UnaryOp, ast.BinOp)):
        if type(node.op) not in (_UNARY if isinstance(node, ast.UnaryOp) else _BINARY):
            raise _refuse(node, text, f"the operator {type(node.op).__name__}")
    else:
        raise _refuse(node, text)


def _check(expression, text):
    """Refuse anything but the allowed grammar, outermost first (no recursion)."""
    stack = [expression]
    while stack:
        node = stack.pop()
        _check_node(node, text)
        stack.extend(reversed(_operands(node)))


def _fold(node, constants, text):
    """The value of a node whose operands are constants (in ``constants``), a finite float."""
    try:
        if isinstance(node, ast.Constant):
            value = float(node.value)
        elif isinstance(node, ast.UnaryOp):
            value = _UNARY[type(node.op)](constants[id(node.operand)])
        else:
            value = _BINARY[type(node.op)](constants[id(node.left)], constants[id(node.right)])
    except OverflowError:
        raise _refuse(node, text, "a constant too large for a float") from None
    except ZeroDivisionError:
        raise _refuse(node, text, "a constant division by zero") from None
    if not isinstance(value, float) or not math.isfinite(value):
        raise _refuse(node, text, "a constant that is not a finite real number")
    return value


def _constants(expression, text):
    """{id(node): value} for every constant part of an expression, such as ``-1`` or ``(1/2)``;
    refuses an exponent that is not one."""
    constants = {}
    for node in _postorder(expression):
        if isinstance(node, ast.Constant) or (
                isinstance(node, (ast.UnaryOp, ast.BinOp))
                and all(id(operand) in constants for operand in _operands(node))):
            constants[id(node)] = _fold(node, constants, text)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) \
                and id(node.right) not in constants:
            raise _refuse(node.right, text, "a non-constant exponent (** takes a number)")
    return constants


def _tree(text):
    """The :mod:`ast` module of a text, refused when too long, too deep or too large."""
    if not isinstance(text, str):
        raise GraphExpressionError(f"an expression is a str, got {type(text).__name__}")
    if len(text) > MAX_CHARACTERS:
        raise GraphExpressionError(f"the expression is {len(text)} characters long; at most "
                                   f"{MAX_CHARACTERS} are read: write a shorter one")
    try:
        with warnings.catch_warnings():  # e.g. an invalid escape in a string: refused anyway
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="exec")
    except (SyntaxError, ValueError) as error:
        if "too many nested" in str(error):
            raise GraphExpressionError(f"the expression is nested too deeply "
                                       f"({getattr(error, 'msg', error)}); "
                                       "write it as several shorter statements") from None
        raise GraphExpressionError(f"not a valid expression ({error}); {_ALLOWED}") from None
    except (RecursionError, MemoryError):
        raise GraphExpressionError(
            "the expression is nested too deeply for Python's parser (a chain of a few thousand "
            "operations in one statement is that deep); write it as several shorter "
            "statements") from None
    terms = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
    if terms > MAX_TERMS:
        raise GraphExpressionError(f"the expression has {terms} terms (names, numbers, "
                                   f"operations, calls); at most {MAX_TERMS} are taken: "
                                   "write a smaller one")
    return tree


def parse(text: str) -> Parsed:
    """Check an expression text such as ``"u = b*c; v = a + u; J = 3*v"`` without running it.

    The text is read with :func:`ast.parse` and walked; nothing in it is ever evaluated by
    Python. Allowed: statements ``name = expression`` separated by ``;`` or new lines, whose
    expressions use names, numbers, ``+ - * / **`` (with a constant exponent), unary ``-`` and
    ``+``, parentheses and calls of ``exp``, ``log`` and ``sigmoid`` with one argument. A name may
    be assigned once, and not after it was used as an input. The last assignment is the output;
    every other assigned name must be used by a later statement.

    Returns
    -------
    Parsed
        ``statements`` (name, expression tree) in order, ``inputs`` (free names in order of
        first use) and ``output`` (the last assigned name).

    Raises
    ------
    GraphExpressionError
        For anything else, naming what was refused; for a text longer than
        ``MAX_CHARACTERS``, with more than ``MAX_TERMS`` terms, or nested too deeply.

    Examples
    --------
    >>> parse("u = b*c; v = a + u; J = 3*v").inputs
    ('b', 'c', 'a')
    """
    tree = _tree(text)
    statements, inputs, assigned, used = [], [], {}, set()
    for statement in tree.body:
        if isinstance(statement, ast.Expr):  # say what is wrong inside it first
            _check(statement.value, text)
        if not isinstance(statement, ast.Assign):
            raise _refuse(statement, text)
        if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
            raise _refuse(statement, text, "an assignment to anything but one name")
        _check(statement.value, text)
        _constants(statement.value, text)
        for node in _postorder(statement.value):
            if isinstance(node, ast.Name):
                used.add(node.id)
                if node.id not in assigned and node.id not in inputs:
                    inputs.append(node.id)
        name = statement.targets[0].id
        if name in _FUNCTIONS or name in assigned or name in inputs:
            raise _refuse(statement, text, f"a second definition of {name!r}")
        assigned[name] = statement
        statements.append((name, statement.value))
    if not statements:
        raise GraphExpressionError(f"no assignment found, e.g. `J = 3*(a + b*c)`; {_ALLOWED}")
    output = statements[-1][0]
    for name, _ in statements[:-1]:
        if name not in used:
            raise GraphExpressionError(
                f"`{_segment(assigned[name], text)}` assigns {name!r}, which no later statement "
                f"uses; the last assignment ({output!r}) is the output, so {name!r} would be "
                f"lost: use it in a later statement, assign the output last, or drop it")
    return Parsed(statements, tuple(inputs), output)


# ----------------------------------------------------------------------------------------------
# running it


def _show(data):
    """A number as ``0``, ``-inf``, ``1e+400``; an array by its shape, or by its first element
    that is not finite."""
    if not isinstance(data, np.ndarray):
        return f"{data:g}"
    bad = np.argwhere(~np.isfinite(data))
    if len(bad) == 0:
        return f"array{data.shape}"
    index = tuple(int(i) for i in bad[0])
    return f"{data[index]:g} (at index {index} of an array{data.shape})"


def _finite(data):
    return bool(np.all(np.isfinite(data)))


def _by_name(values):
    """The values keyed by names as Python reads them (NFKC: "ﬁ" is "fi"), each name once."""
    named, given = {}, {}
    for key, value in values.items():
        name = unicodedata.normalize("NFKC", key) if isinstance(key, str) else key
        if name in named:
            raise GraphExpressionError(f"{given[name]!r} and {key!r} are the same name to "
                                       f"Python, {name!r}; give each input once")
        named[name], given[name] = value, key
    return named


def _input(name, value):
    """The leaf of an input value: a finite real number or array of them."""
    try:
        node = Value(value, name=name)
    except InvalidTypeError as error:
        raise InvalidTypeError(f"the value of {name!r}: {error}") from None
    if not _finite(node.data):
        raise GraphExpressionError(f"{name}={_show(node.data)} is not a finite number; "
                                   f"expected a finite number for {name!r}, such as {name}=5")
    return node


def _at(node, text, env):
    """``a=0, b=2``: the values of the names in an expression node."""
    names = dict.fromkeys(n.id for n in _postorder(node) if isinstance(n, ast.Name))
    return ", ".join(f"{name}={_show(env[name].data)}" for name in names if name in env)


def _not_finite(node, value, statement, text, env):
    at = _at(node, text, env)
    return GraphExpressionError(
        f"{_segment(node, text)}{f' at {at}' if at else ''} is {_show(value.data)}, in the "
        f"statement for {statement!r}; every value and gradient in the graph must be a finite "
        f"number: choose values at which it is defined and not too large")


def _build(expression, statement, env, text, sources):
    """The graph node of a checked expression; each step's value must be finite."""
    constants = _constants(expression, text)
    if id(expression) in constants:
        return Value(constants[id(expression)])  # `v = 3`: a leaf whose gradient is wanted
    built = {}

    def operand(node):  # a constant operand is a leaf that needs no gradient (the 3 of 3v)
        return built[id(node)] if id(node) in built else Value(constants[id(node)],
                                                               requires_grad=False)
    for node in _postorder(expression):
        if id(node) in constants:
            continue
        if isinstance(node, ast.Name):
            value = env[node.id]
        elif isinstance(node, ast.UnaryOp):
            value = _UNARY[type(node.op)](operand(node.operand))
        elif isinstance(node, ast.Call):
            value = _FUNCTIONS[node.func.id](operand(node.args[0]))
        elif isinstance(node.op, ast.Pow):
            value = operand(node.left) ** constants[id(node.right)]
        else:
            value = _BINARY[type(node.op)](operand(node.left), operand(node.right))
        if not _finite(value.data):
            raise _not_finite(node, value, statement, text, env)
        sources.setdefault(id(value), (node, statement))
        built[id(node)] = value
    return built[id(expression)]


def _check_gradients(J, text, env, sources):
    """Refuse a gradient that is not finite, naming the step whose derivative made it."""
    order = topological(J)
    for node in reversed(order):  # J first: a node's users come before it
        if node.grad is None or _finite(node.grad):
            continue
        label = node.name or (_segment(sources[id(node)][0], text) if id(node) in sources
                              else node.op)
        for user in order:  # the operation whose local derivative is not finite here
            for parent, local in zip(user.parents, user._chain):
                if parent is node and user.grad is not None and _finite(user.grad):
                    with np.errstate(all="ignore"):
                        share = unbroadcast(local(user.grad), parent.data)
                    if not _finite(share) and id(user) in sources:
                        step, statement = sources[id(user)]
                        at = _at(step, text, env)
                        raise GraphExpressionError(
                            f"the derivative of {_segment(step, text)} with respect to {label}"
                            f"{f' at {at}' if at else ''} is {_show(share)}, in the statement "
                            f"for {statement!r}; every value and gradient in the graph must be "
                            f"a finite number: choose values at which this derivative is finite")
        raise GraphExpressionError(
            f"dJ/d{label} is {_show(node.grad)}: the sum of its paths to the output is not a "
            f"finite number; choose smaller values")


def evaluate(text: str, values: Mapping) -> tuple[Value, dict]:
    """Build the graph of an expression text, run it forward and backward.

    Parameters
    ----------
    text : str
        Statements as :func:`parse` accepts, e.g. ``"u = b*c; v = a + u; J = 3*v"``; the last
        assignment is the output J.
    values : mapping of str to number or array
        A finite value for every free name, and nothing else.

    Returns
    -------
    J : Value
        The output, after ``J.backward()``.
    nodes : dict of str to Value
        Every named node, inputs first, then the assigned names in order; each ``.grad`` is
        dJ/d(name).

    Raises
    ------
    GraphExpressionError
        If :func:`parse` refuses the text, a free name has no value, a value is given for a
        name that is not a free name of the text (a typo would otherwise pass silently), a value
        is not finite, or any value or gradient in the graph is not a finite number (the
        message names the step and the values, e.g. ``log(a) at a=0 is -inf``).
    InvalidTypeError
        If ``values`` is not a mapping, or a value is not a real number or array of them.

    Examples
    --------
    >>> J, nodes = evaluate("u = b*c; v = a + u; J = 3*v", {"a": 5, "b": 3, "c": 2})
    >>> J.data, nodes["u"].data, nodes["v"].data
    (33.0, 6.0, 11.0)
    >>> [nodes[n].grad for n in "vaubc"]
    [3.0, 3.0, 3.0, 6.0, 9.0]
    """
    parsed = parse(text)
    if not isinstance(values, Mapping):
        raise InvalidTypeError(f"values is a {type(values).__name__}; expected a dict of names "
                               "to numbers, e.g. {'a': 5}")
    values = _by_name(values)
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
    nodes = {name: _input(name, values[name]) for name in parsed.inputs}
    sources = {}  # id(Value) -> (the ast node that made it, its statement's name)
    for name, expression in parsed.statements:
        node = _build(expression, name, nodes, text, sources)
        node = node._alias() if node.name is not None else node  # `v = a` keeps a's name
        node.name = name
        nodes[name] = node
    J = nodes[parsed.output]
    J.backward()
    _check_gradients(J, text, nodes, sources)
    return J, nodes
