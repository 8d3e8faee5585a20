"""`logreg playground`: the local web page where the neuron learns, served until Ctrl-C."""

import argparse

from logreg.errors import InvalidInputError


def add_parser(commands):
    """Add `logreg playground` to ``commands`` (argparse's sub-parsers)."""
    playground = commands.add_parser(
        "playground", help="a local web page: watch the neuron learn, the notes' equations "
        "live", description="Start a local web server with the playground: built-in data "
        "sets or your CSV, features, gradient descent by the library's engines (a softmax "
        "layer for 3-4 classes), the decision boundary over a heat map of ŷ, the cost curves, "
        "the notes' equations with the current numbers, a clicked point's computation graph, "
        "and exports of the model and of a Python script that reproduces the run. Prints the "
        "URL and opens the browser; Ctrl-C stops it. Needs the optional packages: pip install "
        "'logreg[playground]'.")
    playground.add_argument("--port", type=_port, default=8765, help="the port to listen on "
                            "(default: 8765; 0 picks a free one)")
    playground.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                            help="the address to listen on (default: 127.0.0.1, this machine "
                            "only; another address warns that anyone who can reach it can use "
                            "the playground)")
    playground.add_argument("--no-browser", action="store_true",
                            help="do not open the page in a browser")
    playground.set_defaults(run=run)


def _port(text):
    """A TCP port for ``--port``: a whole number from 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port; expected a whole number "
                                         f"from 0 (a free one) to 65535")
    return port


def run(args):
    """``logreg playground``: the local web page, until Ctrl-C."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise InvalidInputError("the playground needs: pip install 'logreg[playground]'") \
            from None
    from logreg.apps.playground.server import serve

    return serve(args.host, args.port, open_browser=not args.no_browser)
