"""What the sub-commands' parsers share: the parser class (usage errors as one line), the
argument types (a learning rate, a tolerance, a whole number ...), and the data options of
`logreg train` and `logreg rates` (--data, --test-data, ...) and of the commands that read a
model's data (--label-column, --all-rows)."""

import argparse

from logreg.data import BUILT_IN, DEFAULT_IMAGE_SIZE, LABEL_SUFFIXES, SVMLIGHT_SUFFIXES
from logreg.errors import InvalidInputError
from logreg.lessons import rates

LABELS_HELP = ("one label per row, in order, in a " + " or ".join(LABEL_SUFFIXES) + " file (.npy "
               "written by np.save; .txt: one label per line)")


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line on stderr and exit status 2."""

    def error(self, message):
        """Print the usage and one line for a wrong command line; exit with status 2."""
        message = " ".join(message.split())  # an argument holding a new line stays one line
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def learning_rate(text):
    """--learning-rate: a number > 0 (α), or 'auto'."""
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a learning rate; expected a number "
                                         f"> 0 such as 0.005, or 'auto'")
    return value


def learning_rate_number(text):
    """One of --rates: a learning rate α > 0, as ``rates.check_rates`` accepts it."""
    try:
        return rates.check_rates([text])[0]
    except InvalidInputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def tolerance(text):
    """--tol: a finite number ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a tolerance; expected a number ≥ 0 "
                                         f"such as 1e-6")
    return value


def whole_number(text):
    """A count such as --threads or --workers: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number ≥ 1")
    return value


MAX_ITERATIONS = 10**9  # a billion steps: days of training, and 8 GB of cost history


def iterations(text):
    """--iterations: a whole number from 1 to ``MAX_ITERATIONS``."""
    value = whole_number(text)
    if value > MAX_ITERATIONS:
        raise argparse.ArgumentTypeError(f"{text!r:.40} iterations is more than "
                                         f"{MAX_ITERATIONS:,}, which would run for days; "
                                         f"expected a whole number from 1 to {MAX_ITERATIONS:,}")
    return value


def image_side(text):
    """One side of --image-size: a whole number of pixels ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an image side; expected a whole "
                                         f"number of pixels ≥ 1, such as 64")
    return value


def add_training_data_options(parser):
    """The data options that `train` and `rates` share: what to train on, what to test on,
    and how to read it."""
    parser.add_argument("--data", default="digits", help="training data: a folder of images "
                        "(one sub-folder per class, two or more), an .h5 in the exercise's "
                        "layout, a .csv or .npz table, a sparse table (an svmlight / LIBSVM "
                        "file: " + ", ".join(SVMLIGHT_SUFFIXES) + ", also .gz or .bz2, its "
                        "labels any numbers, feature indices from 1 (LIBSVM) or from 0 when "
                        "the file holds index 0; or an .npz written by scipy.sparse.save_npz, "
                        "one row per example, with --labels), or a built-in set: " + ", ".join(
                            f"'{k}' ({v})" for k, v in BUILT_IN.items())
                        + " (default: digits)")
    parser.add_argument("--labels", metavar="FILE", help="the labels of a sparse .npz --data: "
                        + LABELS_HELP)
    parser.add_argument("--test-data", help="held-out data in the same form; without it a "
                        "stratified part of --data is held out (see --test-size)")
    parser.add_argument("--test-labels", metavar="FILE", help="the labels of a sparse .npz "
                        "--test-data, as --labels")
    parser.add_argument("--test-size", type=float, default=0.25,
                        help="share of --data held out when there is no --test-data (0: none)")
    add_data_options(parser)
    parser.add_argument("--image-size", type=image_side, nargs=2, metavar=("H", "W"),
                        help="size images in a folder are resized to (default: "
                        f"{DEFAULT_IMAGE_SIZE[0]} {DEFAULT_IMAGE_SIZE[1]})")
    parser.add_argument("--grayscale", action="store_true",
                        help="read a folder's images as grayscale (1 channel) instead of RGB")


def add_rows_option(parser, text):
    """--all-rows: the data policy's (logreg.data.split) one switch, for the data `logreg
    train` split; data it did not split are used whole anyway."""
    parser.add_argument("--all-rows", action="store_true", help=text)


def add_data_options(parser, default="label"):
    """--label-column, whose default ``default`` names (None: the model's)."""
    parser.add_argument("--label-column", help="the CSV column holding the labels" + (
                            f" (default: {default})" if default else
                            " (default: the model's)"))
