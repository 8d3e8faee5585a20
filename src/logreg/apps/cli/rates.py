"""`logreg rates`: the exercise's learning-rate comparison, one cost curve per rate in one
picture and the accuracies of each."""

import sys
from pathlib import Path

from logreg.apps.cli.options import (
    add_training_data_options,
    iterations,
    learning_rate_number,
)
from logreg.apps.cli.trainingdata import scaling_for, training_sets
from logreg.core import text
from logreg.core.files import check_writable
from logreg.errors import InvalidInputError
from logreg.lessons import rates


def add_parser(commands):
    """Add `logreg rates` to ``commands`` (argparse's sub-parsers)."""
    rates_parser = commands.add_parser(
        "rates", help="the exercise's learning-rate comparison: cost curves and accuracies",
        description="Train once per learning rate (same data, same iterations, from w = 0), "
        "draw every cost curve in one picture and print train and test accuracy per rate. A "
        "rate that diverges is marked so and the comparison goes on. Data of K ≥ 2 classes, "
        "in any form `logreg train` takes, scaled as it scales them.")
    rates_parser.add_argument("--rates", type=learning_rate_number, nargs="+",
                              default=list(rates.RATES), metavar="RATE",
                              help="the learning rates α, each > 0 (default: "
                              + " ".join(f"{r:g}" for r in rates.RATES) + ", as the exercise)")
    rates_parser.add_argument("--iterations", type=iterations, default=rates.NUM_ITERATIONS,
                              help=f"gradient-descent steps per rate (default: "
                              f"{rates.NUM_ITERATIONS}, as the exercise)")
    add_training_data_options(rates_parser)
    rates_parser.add_argument("--out", default="learning_rates.png", help="the picture to "
                              "write, .png, .svg or .pdf (default: learning_rates.png)")
    rates_parser.set_defaults(run=run)


def run(args):
    """``logreg rates``: the exercise's learning-rate comparison."""
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InvalidInputError(f"--out {out}: expected a picture path ending in .png, .svg "
                                f"or .pdf.")
    check_writable(out)
    train, test = training_sets(args)
    scaling = scaling_for(train)
    classes = f" of {len(train.classes)} classes" if len(train.classes) > 2 else ""
    print(f"Training on {train.source}: {train.m} examples{classes}" + (
        f", testing on {test.m}" if test else "") + f"; {args.iterations} iterations per "
        f"learning rate.")
    runs = rates.compare(scaling.apply(train.X), train.Y,
                         None if test is None else scaling.apply(test.X),
                         None if test is None else test.Y,
                         rates=args.rates, num_iterations=args.iterations,
                         progress=_rate_finished)
    print(rates.format_table(runs))
    from logreg.model.plots import learning_rate_comparison

    learning_rate_comparison({run.learning_rate: run.costs for run in runs}, out)
    print(f"Cost curves written to {out}")
    return 0


def _rate_finished(run):
    how = (f"diverged after {len(run.costs)} iterations" if run.diverged
           else f"final cost {text.fixed(run.final_cost)}")
    print(f"learning rate {run.learning_rate:g}: {how} ({run.seconds:.1f} s)", file=sys.stderr,
          flush=True)
