"""The command: parse, call the library, print. No mathematics here.

::

    logreg train      train on a data set of K ≥ 2 classes (default: the built-in digits task)
    logreg predict    a model file and images, a CSV or a sparse table → one probability per
                      class and the label, per input
    logreg evaluate   a model file and labelled data → accuracy, log loss, ROC AUC, K×K
                      confusion matrix; --plots DIR: ROC, precision-recall, calibration,
                      confusion matrix and misclassified images; --json for machines
    logreg summary    a model file and labelled data → coefficients, standard errors, z,
                      p-values, confidence intervals, log-likelihood, pseudo-R², AIC, BIC
    logreg playground a local web page: watch the neuron learn, with the notes' equations live
    logreg graph      an expression → forward values, every dJ/dvar, a picture of the graph
    logreg rates      the exercise's learning-rate comparison → cost curves, accuracies
    logreg bench vectorize   np.dot against a Python loop; one gradient step three ways

A user's mistake prints one line on stderr and exits with status 2, never a traceback. A
reader of stdout that leaves early (`logreg predict ... | head -1`) ends the command quietly
with status 141, as SIGPIPE ends other programs: the output was cut short.

Each sub-command is one module of this package (``train``, ``predict`` ...) holding its parser
declaration (``add_parser``) and its ``run``; ``build_parser`` asks each to add itself, and
``main`` runs the one named.
"""

import sys

from logreg import __version__
from logreg.apps.cli import (
    bench,
    data,
    evaluate,
    graph,
    playground,
    predict,
    quiz,
    rates,
    summary,
    train,
)
from logreg.apps.cli.exits import (
    PIPE_CLOSED,  # noqa: F401 (re-exported: where tests and scripts read it)
    StdoutError,
    pipe_closed,
    stdout_errors_told_apart,
    stdout_failed,
    warnings_on_one_line,
)
from logreg.apps.cli.options import Parser
from logreg.errors import LogregError

COMMANDS = (train, predict, evaluate, summary, playground, graph, quiz, rates, bench, data)


def build_parser():
    """The ``logreg`` command's parser: every sub-command, its options and their help."""
    parser = Parser(prog="logreg", description="Logistic regression as a single neuron, "
                    "the way the notes teach it, and as a layer of K neurons (softmax) for "
                    "K ≥ 3 classes.")
    parser.add_argument("--version", action="version", version=f"logreg {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv=None):
    """Run one command; its exit status: 0, 2 for a user's mistake (one line on stderr), 130
    on Ctrl-C, 141 when the reader of stdout left early (a closed pipe ends quietly)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # --help, --version or a usage error: flush now, where a closed
        try:            # pipe can still be told apart
            sys.stdout.flush()
        except BrokenPipeError:
            return pipe_closed()
        except OSError as error:
            return stdout_failed("logreg", error)
        raise
    try:
        with warnings_on_one_line(args.command), stdout_errors_told_apart():
            status = args.run(args)
            sys.stdout.flush()  # a reader that left shows here, not as "Exception ignored" at exit
        return status
    except BrokenPipeError:
        return pipe_closed()
    except StdoutError as error:
        return stdout_failed(f"logreg {args.command}", error.__cause__)
    except KeyboardInterrupt:
        print(f"logreg {args.command}: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except LogregError as error:
        message = " ".join(str(error).split())
        print(f"logreg {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
