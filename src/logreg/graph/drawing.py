"""A picture of a computation graph, left to right as the notes draw it (Graphviz).

Each value is a box with its name, value and gradient; each operation a small ellipse between
its inputs and its output. The picture is rendered to bytes and written atomically, like every
file logreg writes; a graph too large for Graphviz to lay out quickly is refused before any
work.
"""

from __future__ import annotations

from pathlib import Path

from logreg.errors import InvalidInputError, LogregError, OutputError
from logreg.graph.engine import describe, topological
from logreg.core.files import atomic_path, check_writable

PICTURE_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "dot", "gv")
SOURCE_FORMATS = ("dot", "gv")  # the graph's DOT text itself: no Graphviz program needed
MAX_DRAWN_NODES = 200  # boxes and ellipses; beyond, Graphviz's layout may take minutes

# the notes' direction; network-simplex and crossing passes capped (nslimit, mclimit) so that a
# node feeding many operations (J = a*1 + a*2 + ...) lays out in seconds, not minutes
_LAYOUT = {"rankdir": "LR", "nslimit": "1", "nslimit1": "1", "mclimit": "0.1"}


class DotNotFoundError(LogregError, RuntimeError):
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


def picture_path(path, format="svg"):
    """The file :func:`draw` writes for ``path``, checked before any work.

    Its suffix picks the format (one of ``PICTURE_FORMATS``); without one, ``format`` is
    appended. Raises InvalidInputError for another suffix, OutputError for a place that cannot
    be written (a missing or read-only folder, a folder given as the file).
    """
    check_writable(path)  # a folder, a missing or read-only folder, a FIFO or device
    target = Path(path)
    _check_name(target)
    fmt = (target.suffix.lstrip(".") or format).lower()
    if fmt not in PICTURE_FORMATS:
        raise InvalidInputError(
            f"cannot draw {target.name!r:.200}: {fmt!r:.40} is not a picture format logreg "
            f"draws; expected a file name ending in "
            f"{', '.join('.' + f for f in PICTURE_FORMATS)}")
    if not target.suffix:
        target = target.with_suffix("." + fmt)
        check_writable(target)
    return target


def _check_name(target):
    """Refuse a name that is only a suffix (``.svg``: pathlib reads it as a hidden file with
    no suffix, which would become ``.svg.svg``) or that ends in a dot."""
    name = target.name
    if name.startswith(".") and name[1:].lower() in PICTURE_FORMATS:
        raise InvalidInputError(
            f"cannot draw {str(target)!r:.200}: it has no file name, only the suffix "
            f"{name!r}; expected a name before it, such as graph{name}")
    if name.endswith("."):
        raise InvalidInputError(
            f"cannot draw {str(target)!r:.200}: it ends in a dot with no format after it; "
            f"expected a file name ending in {', '.join('.' + f for f in PICTURE_FORMATS)}")


def _size(order):
    """The nodes Graphviz lays out: a box per value, an ellipse per operation."""
    return len(order) + sum(1 for node in order if node.op)


def _record(text):
    """Escape the characters that Graphviz's record labels treat as structure."""
    return "".join("\\" + ch if ch in "{}|<>\\\"" else ch for ch in text)


def draw(J, path=None, format="svg", max_nodes=MAX_DRAWN_NODES):
    """Picture of the graph that ends at ``J``, left to right as the notes draw it.

    Each value is a box with its name, value (numbers compactly, arrays by shape) and gradient;
    each operation is a small ellipse between its inputs and its output.

    Parameters
    ----------
    J : Value
        The output; call ``J.backward()`` first to see the gradients.
    path : str or path-like, optional
        Where to write the picture; its suffix (``.svg``, ``.png``, ``.pdf``, ``.dot`` ...,
        see ``PICTURE_FORMATS``) picks the format, or ``format`` when it has none. Written
        atomically, with the mode of any other file logreg writes.
    format : str
        The format when ``path`` has no suffix.
    max_nodes : int or None
        The most boxes and ellipses drawn (``MAX_DRAWN_NODES``); None for no limit.

    Returns
    -------
    graphviz.Digraph
        The graph; ``.source`` holds its DOT text.

    Raises
    ------
    InvalidInputError
        If the graph has more than ``max_nodes`` nodes, or ``path`` has a suffix that is not a
        picture format.
    OutputError
        If ``path`` cannot be written (checked before any work).
    DotNotFoundError
        If ``path`` is given but Graphviz's ``dot`` program is not installed: the DOT source is
        written next to ``path`` (suffix ``.dot``) and the message says how to render it.
    ImportError
        If the ``graphviz`` Python package is missing.

    Examples
    --------
    >>> from logreg.graph import evaluate
    >>> J, nodes = evaluate("u = b*c; v = a + u; J = 3*v", {"a": 5, "b": 3, "c": 2})
    >>> source = draw(J).source
    >>> "{ u | data 6 | grad 3 }" in source, "{ J | data 33 | grad 1 }" in source
    (True, True)
    """
    target = None if path is None else picture_path(path, format)
    order = topological(J, constants=True)
    if max_nodes is not None and _size(order) > max_nodes:
        raise InvalidInputError(
            f"the graph has {_size(order)} nodes (values and operations); logreg graph draws "
            f"at most {max_nodes}, since Graphviz's layout grows too slow beyond that: draw a "
            f"smaller expression (its values and gradients need no picture)")
    try:
        import graphviz
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("draw() needs the graphviz package: pip install graphviz") from error

    dot = graphviz.Digraph(graph_attr=_LAYOUT, node_attr={"fontsize": "11"})
    ids = {id(node): f"n{i}" for i, node in enumerate(order)}
    for node in order:
        fields = ([node.name] if node.name else []) + [f"data {describe(node.data)}"] + (
            [f"grad {describe(node.grad)}"] if node.requires_grad else [])  # constants: none
        dot.node(ids[id(node)], "{ " + " | ".join(_record(t) for t in fields) + " }",
                 shape="record")
        if node.op:
            op_id = ids[id(node)] + "op"
            dot.node(op_id, node.op, shape="ellipse", width="0.3", height="0.3")
            dot.edge(op_id, ids[id(node)])
            for parent in node.parents:
                dot.edge(ids[id(parent)], op_id)
    if target is not None:
        _render(dot, target)
    return dot


def _render(dot, target):
    """Render to bytes in the target's format, then write them atomically."""
    import graphviz

    fmt = target.suffix.lstrip(".").lower()
    if fmt in SOURCE_FORMATS:
        return _write(target, dot.source.encode())
    try:
        picture = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        dot_path = target.with_suffix(".dot")
        _write(dot_path, dot.source.encode())
        raise DotNotFoundError(dot_path, target, fmt, dot) from None
    except graphviz.CalledProcessError as error:
        reason = " ".join((error.stderr or b"").decode(errors="replace").split())[:200]
        raise OutputError(f"Graphviz's dot could not draw {target}: {reason or error}; try "
                          f"another format such as .svg") from None
    _write(target, picture)


def _write(path, content: bytes):
    """Write through logreg's atomic writer: never a half-written file."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(content)
