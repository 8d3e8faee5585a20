"""`logreg graph`: an expression → its computation graph's forward values, every dJ/dvar and
a picture of the graph."""

import sys

import numpy as np

from logreg import graph
from logreg.core import text
from logreg.errors import InvalidInputError


def add_parser(commands):
    """Add `logreg graph` to ``commands`` (argparse's sub-parsers)."""
    graph_parser = commands.add_parser(
        "graph", help="forward values, every dJ/dvar, and a picture of a computation graph",
        description="Build the computation graph of an expression such as "
        "\"u = b*c; v = a + u; J = 3*v\" (names, numbers, + - * / **, unary minus, "
        "parentheses, assignments, exp, log, sigmoid; parsed, never eval'd), run it forward "
        "and backward, print every value and dJ/dvar, and draw it. Every value and gradient "
        "must be a finite number.")
    graph_parser.add_argument("expression", help="statements separated by ';', the last "
                              "assignment is the output, e.g. \"J = 3*(a + b*c)\"")
    graph_parser.add_argument("values", nargs="*", metavar="NAME=VALUE",
                              help="a finite number for every input name, e.g. a=5 b=3 c=2")
    graph_parser.add_argument("-o", "--output", help="the picture to write; its suffix picks "
                              "the format (.svg, .png, .pdf, .dot ...; none: .svg). Without "
                              "Graphviz's dot, the .dot source is written instead. At most "
                              f"{graph.MAX_DRAWN_NODES} values and operations are drawn")
    graph_parser.add_argument("--json", action="store_true", help="print one JSON object of "
                              "values and gradients instead of a table")
    graph_parser.set_defaults(run=run)


def run(args):
    """``logreg graph``: forward values, every dJ/dvar and a picture of an expression."""
    import json

    # the picture's format and folder are checked before any work
    target = None if args.output is None else graph.picture_path(args.output)
    J, nodes = graph.evaluate(args.expression, _named_values(args.values))
    missing_dot = None
    if target is not None:  # drawn before anything is printed: a refusal prints nothing else
        try:
            graph.draw(J, target)
        except graph.DotNotFoundError as missing:
            missing_dot = missing
    output = next(name for name, node in nodes.items() if node is J)
    values = {name: node.data for name, node in nodes.items()}
    gradients = {name: node.grad for name, node in nodes.items()}
    if args.json:  # every value and gradient is finite (evaluate refuses others): valid JSON
        print(json.dumps({"output": output, "values": values, "gradients": gradients},
                         allow_nan=False))
    else:
        width = max(len(f"d{output}/d{name}") for name in nodes)
        print(f"{'node':<{width}}  {'value':>12}  {f'd{output}/dnode':>12}")
        for name in nodes:
            gradient = "-" if gradients[name] is None else text.number(gradients[name])
            print(f"{name:<{width}}  {text.number(values[name]):>12}  {gradient:>12}")
    if missing_dot is not None:
        print(f"logreg graph: {missing_dot}", file=sys.stderr)
    elif target is not None and not args.json:
        print(f"Picture written to {target}")
    return 0


def _named_values(pairs):
    """{name: number} from NAME=NUMBER arguments: each name once, each number finite."""
    values = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        name = name.strip()
        if not equals or not name:
            raise InvalidInputError(f"{pair!r:.80} is not NAME=NUMBER; give each input as "
                                    f"a=5.")
        if name in values:
            raise InvalidInputError(f"{name!r:.80} is given twice; give each input once.")
        try:
            value = float(text)
        except ValueError:
            raise InvalidInputError(f"{pair!r:.80} is not NAME=NUMBER; give each input as "
                                    f"a=5.") from None
        if not np.isfinite(value):
            raise InvalidInputError(f"{pair!r:.80} is not a finite number; expected a finite "
                                    f"number such as {name:.40}=5.")
        values[name] = value
    return values
