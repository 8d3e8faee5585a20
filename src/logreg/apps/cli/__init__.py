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
"""

import argparse
import contextlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from logreg import __version__, graph
from logreg.lessons import bench, rates
from logreg.core import text
from logreg.data import (
    BUILT_IN,
    Scaling,
    image_scaling,
    index_labels,
    load_dataset,
    max_abs,
    no_scaling,
    read_images,
    standardize,
)
from logreg.data.images import check_image_size, flatten_images, list_images
from logreg.data.loaders import (
    DEFAULT_IMAGE_SIZE,
    LABEL_SUFFIXES,
    SVMLIGHT_SUFFIXES,
    check_same_kind,
    check_source_kind,
    csv_columns,
    describe_kind,
    is_folder,
    is_svmlight,
    read_csv_table,
    read_sparse_npz,
    read_svmlight,
    source_kind,
    split_dataset,
)
from logreg.data.split import load_whole, model_rows, split_record, take
from logreg.errors import InvalidInputError, LogregError, OutputError
from logreg.core.files import check_writable

DEFAULT_OUT = "logreg-output"
LABELS_HELP = ("one label per row, in order, in a " + " or ".join(LABEL_SUFFIXES) + " file (.npy "
               "written by np.save; .txt: one label per line)")
MODEL_NAME, CURVE_NAME = "model.safetensors", "learning_curve.png"


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line on stderr and exit status 2."""

    def error(self, message):
        """Print the usage and one line for a wrong command line; exit with status 2."""
        message = " ".join(message.split())  # an argument holding a new line stays one line
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The ``logreg`` command's parser: every sub-command, its options and their help."""
    parser = Parser(prog="logreg", description="Logistic regression as a single neuron, "
                    "the way the notes teach it, and as a layer of K neurons (softmax) for "
                    "K ≥ 3 classes.")
    parser.add_argument("--version", action="version", version=f"logreg {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    train = commands.add_parser("train", help="train a model and write it with its learning "
                                "curve", description="Train by gradient descent, print the "
                                "cost every 100 iterations and the accuracies, write the model "
                                "file and a learning-curve PNG. Two classes train the notes' "
                                "sigmoid neuron (the second class is positive: classes are "
                                "sorted, an .h5's are in its list_classes order); K ≥ 3 "
                                "classes a softmax layer of K neurons. Images "
                                "are scaled by /255, tables standardised per feature, sparse "
                                "tables (svmlight, or a sparse .npz with --labels) divided by "
                                "each feature's largest |x| (scikit-learn's MaxAbsScaler: no "
                                "centring, so they stay sparse); the model file records it.")
    _add_training_data_options(train)
    train.add_argument("--iterations", type=_iterations, default=2000,
                       help="gradient-descent steps (default: 2000, as the exercise)")
    train.add_argument("--learning-rate", type=_learning_rate, default=0.005,
                       help="α in w := w − α dw, or 'auto' (1/L: every step lowers the cost) "
                       "(default: 0.005, as the exercise)")
    train.add_argument("--tol", type=_tolerance, default=None,
                       help="gd: stop once a step lowers the cost by less than this; lbfgs, "
                       "newton: the gradient tolerance (default: the solver's, 0 for gd (run "
                       "every step), 1e-6 for lbfgs, 1e-10 for newton)")
    train.add_argument("--solver", choices=["gd", "lbfgs", "newton"], default="gd",
                       help="the notes' gradient descent (default); L-BFGS, a quasi-Newton "
                       "method that reaches the minimum in tens of iterations; or newton, a "
                       "trust-region Newton-CG on the notes' second derivative a(1 − a), for "
                       "sparse data and badly conditioned problems (docs/solvers.md)")
    train.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                       help="precision of the computation (float32: half the memory)")
    train.add_argument("--backprop", choices=["closed-form", "graph"], default="closed-form",
                       help="gradients from the notes' closed form (dZ = A − Y, ...) or from "
                       "backpropagation through the computation graph (the same numbers)")
    train.add_argument("--implementation",
                       choices=["auto", "fused", "vectorized", "semi", "loop"], default="auto",
                       help="how the gradients are computed: 'vectorized' (the notes' NumPy "
                       "lines), 'fused' (one pass over X, compiled), 'auto' (fused where it "
                       "wins; default), or the notes' loops: 'semi' (a loop over the "
                       "examples) and 'loop' (loops over examples and features; slow on "
                       "purpose)")
    train.add_argument("--threads", type=_whole_number, metavar="N",
                       help="the most threads the fused kernel uses (default: threadpoolctl's "
                       "limit, else every core)")
    train.add_argument("--l2", type=float, default=0.0,
                       help="L2 penalty λ, cost + (λ/2m)‖w‖² (default: 0, the notes' cost)")
    train.add_argument("--early-stopping", action="store_true",
                       help="hold out part of the training data and stop when its cost has "
                       "not improved for --n-iter-no-change iterations, keeping the best "
                       "parameters")
    train.add_argument("--validation-fraction", type=float, default=None, metavar="F",
                       help="with --early-stopping: the share held out (default: 0.1)")
    train.add_argument("--n-iter-no-change", type=int, default=None, metavar="N",
                       help="with --early-stopping: iterations without improvement before "
                       "stopping (default: 10)")
    train.add_argument("--seed", type=int, default=None,
                       help="with --early-stopping: the seed of the held-out split")
    train.add_argument("--out", default=DEFAULT_OUT, help="folder for model.safetensors and "
                       "learning_curve.png, or a path ending in .safetensors (the PNG goes "
                       f"beside it) (default: {DEFAULT_OUT})")
    train.add_argument("--save-on-interrupt", action="store_true",
                       help="on Ctrl-C, save the last good parameters instead of nothing")
    train.add_argument("--quiet", action="store_true",
                       help="print only the accuracies and the files written")
    train.add_argument("--engine", choices=["numpy", "dask"], default="numpy",
                       help="numpy: in memory (default); dask: a Zarr store (--data big.zarr, "
                       "as `logreg data synth` writes) read chunk by chunk on a Dask cluster, "
                       "never loaded whole; without --test-data the last chunks are held out")
    train.add_argument("--scheduler", metavar="ADDRESS", help="--engine dask: the scheduler "
                       "of a running Dask cluster (e.g. tcp://10.0.0.5:8786); without it a "
                       "local cluster is started for the run")
    train.add_argument("--workers", type=_whole_number, help="--engine dask: worker "
                       "processes of the local cluster (default: 2)")
    train.add_argument("--worker-memory", metavar="SIZE", help="--engine dask: memory limit "
                       "of each local worker, such as 512MiB (default: 1GiB)")
    train.set_defaults(run=run_train)

    predict = commands.add_parser("predict", help="one probability per class and the label, "
                                  "for each input", description="Print P(class) for every "
                                  "class of the model and the predicted label, for each image "
                                  "file, each row of a CSV, or each row of a sparse table (an "
                                  "svmlight file, whose labels are ignored, or a sparse .npz), "
                                  "scaled as the model's training data were. The CSV or "
                                  "svmlight file the model was trained on (or a copy) gives the "
                                  "rows train held out, unless --all-rows.")
    predict.add_argument("model", help="a model file written by `logreg train`")
    predict.add_argument("inputs", nargs="+", help="image files, folders of images, a CSV, or "
                         "one sparse table (svmlight, or an .npz of scipy.sparse.save_npz) for "
                         "a model trained on one")
    _add_data_options(predict, default=None)
    _add_rows_option(predict, "predict every row (without it, the CSV or svmlight file the "
                     "model was trained on, or a copy of it, gives only the rows train held "
                     "out, said in one line on stderr; other inputs are predicted whole)")
    predict.set_defaults(run=run_predict)

    evaluate = commands.add_parser("evaluate", help="accuracy, log loss and K×K confusion "
                                   "matrix, ROC AUC; pictures with --plots", description="Score "
                                   "a model on labelled data: accuracy, log loss and the K×K "
                                   "confusion matrix (rows: true class, columns: predicted "
                                   "class, in the model's order of classes), then the ROC AUC "
                                   "(K classes: one-vs-rest, macro and micro averages). --json "
                                   "prints every figure as one JSON document; --plots DIR "
                                   "draws the ROC and precision-recall curves, the calibration "
                                   "diagram, the confusion matrix and, for images, every "
                                   "misclassified image.")
    evaluate.add_argument("model", help="a model file written by `logreg train`")
    evaluate.add_argument("--data", required=True, help="labelled data, in any form that "
                          "`logreg train --data` takes; the model's own --data (a built-in "
                          "set, that file or a copy of it) is scored on the part train held "
                          "out, other data whole")
    evaluate.add_argument("--labels", metavar="FILE", help="the labels of a sparse .npz "
                          "--data: " + LABELS_HELP)
    _add_data_options(evaluate, default=None)
    _add_rows_option(evaluate, "score every row of the model's own --data, the ones train "
                     "kept included (other data are scored whole anyway)")
    evaluate.add_argument("--plots", metavar="DIR", help="write the pictures into DIR "
                          "(created if missing): roc, precision_recall, calibration, "
                          "confusion_matrix and, for images, misclassified (every "
                          "misclassified image with its true label and the predicted "
                          "probability); K classes one-vs-rest")
    evaluate.add_argument("--format", choices=["png", "svg"], help="--plots: the pictures' "
                          "format (default: png)")
    evaluate.add_argument("--json", action="store_true", help="print every figure as one "
                          "JSON document (ROC AUC, average precision, Brier score, per-class "
                          "precision, recall, F1, calibration bins, ...)")
    evaluate.set_defaults(run=run_evaluate)

    summary = commands.add_parser(
        "summary", help="coefficients with standard errors, z, p-values and confidence "
        "intervals", description="Inference at a model's parameters on labelled data: each "
        "coefficient's estimate, standard error (from the observed information XᵀDX, "
        "D = a(1 − a)), z, p-value and confidence interval, with the log-likelihood, "
        "McFadden's pseudo-R², AIC and BIC (as statsmodels' Logit, and MNLogit for K ≥ 3 "
        "classes: each class against the first). The features are the model's own, scaled "
        "as at training. Refused, saying why, for a model trained with --l2 > 0, separated "
        "classes, constant or duplicate features, or a fit that has not converged (train "
        "with --solver newton).")
    summary.add_argument("model", help="a model file written by `logreg train`")
    summary.add_argument("--data", required=True, help="labelled data, in any form that "
                         "`logreg train --data` takes; the model's own --data (a copy "
                         "too) gives the examples it was trained on (train held out "
                         "--test-size of them), whose standard errors these are")
    summary.add_argument("--labels", metavar="FILE", help="the labels of a sparse .npz "
                         "--data: " + LABELS_HELP)
    _add_data_options(summary, default=None)
    summary.add_argument("--alpha", type=float, default=0.05, help="the intervals are "
                         "(1 − alpha) confidence intervals (default: 0.05)")
    summary.add_argument("--json", action="store_true", help="print every figure as JSON")
    summary.set_defaults(run=run_summary)

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
    playground.set_defaults(run=run_playground)

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
    graph_parser.set_defaults(run=run_graph)

    quiz = commands.add_parser(
        "quiz", help="the notes' ten quiz questions, each answer shown by running its code",
        description="Ask the notes' quiz in the terminal: type a letter for each question; "
        "answers may also be piped in, one a line. End of input stops with the score so far.")
    quiz.add_argument("--answers", action="store_true",
                      help="print every question with its answer and demonstration, and exit")
    quiz.add_argument("--question", type=int, metavar="N", help="only question N (1-10)")
    quiz.add_argument("--seed", type=int, default=0,
                      help="seed of the demonstrations' random arrays (default: 0)")
    quiz.set_defaults(run=run_quiz)

    rates_parser = commands.add_parser(
        "rates", help="the exercise's learning-rate comparison: cost curves and accuracies",
        description="Train once per learning rate (same data, same iterations, from w = 0), "
        "draw every cost curve in one picture and print train and test accuracy per rate. A "
        "rate that diverges is marked so and the comparison goes on. Data of K ≥ 2 classes, "
        "in any form `logreg train` takes, scaled as it scales them.")
    rates_parser.add_argument("--rates", type=_learning_rate_number, nargs="+",
                              default=list(rates.RATES), metavar="RATE",
                              help="the learning rates α, each > 0 (default: "
                              + " ".join(f"{r:g}" for r in rates.RATES) + ", as the exercise)")
    rates_parser.add_argument("--iterations", type=_iterations, default=rates.NUM_ITERATIONS,
                              help=f"gradient-descent steps per rate (default: "
                              f"{rates.NUM_ITERATIONS}, as the exercise)")
    _add_training_data_options(rates_parser)
    rates_parser.add_argument("--out", default="learning_rates.png", help="the picture to "
                              "write, .png, .svg or .pdf (default: learning_rates.png)")
    rates_parser.set_defaults(run=run_rates)

    bench_parser = commands.add_parser("bench", help="measurements: the notes' vectorisation "
                                       "demo", description="Benchmarks of the notes' lessons.")
    benchmarks = bench_parser.add_subparsers(dest="benchmark", required=True,
                                             parser_class=Parser)
    vectorize = benchmarks.add_parser(
        "vectorize", help="np.dot against a Python loop, and one gradient step three ways",
        description="The notes' demonstration: c = a·b of two random vectors by np.dot and "
        "by the loop c += a[i]*b[i], then one gradient-descent step with loops everywhere, "
        "with a loop over the examples, and vectorised. Median wall times in ms, ratios, and "
        "a check that the results agree.")
    vectorize.add_argument("--size", type=_whole_number, default=bench.SIZE,
                           help=f"length of the two vectors (default: {bench.SIZE:,})")
    vectorize.add_argument("--repeats", type=_whole_number, help="runs per median, for "
                           f"every measurement (default: {bench.DOT_REPEATS} for np.dot and "
                           f"the vectorised step, {bench.LOOP_REPEATS} for the loops)")
    vectorize.add_argument("--features", type=_whole_number, default=bench.N_X, metavar="N_X",
                           help=f"n_x of the gradient step's problem (default: {bench.N_X})")
    vectorize.add_argument("--examples", type=_whole_number, default=bench.M, metavar="M",
                           help=f"m of the gradient step's problem (default: {bench.M})")
    vectorize.add_argument("--json", action="store_true",
                           help="print one JSON object of the figures (times in seconds)")
    vectorize.set_defaults(run=run_bench)

    data = commands.add_parser("data", help="data sets: write a synthetic one to a Zarr store",
                               description="Data sets for `logreg train --engine dask`.")
    data_actions = data.add_subparsers(dest="action", required=True, parser_class=Parser)
    synth = data_actions.add_parser(
        "synth", help="a synthetic classification set (two classes or more), written to a "
        "Zarr store",
        description="Write X (rows × features, one row per example, chunked along the rows) "
        "and y (labels 0/1 drawn from a true logistic model, or 0 … K − 1 from a true softmax "
        "layer with --classes K, so the optimum is finite) to a "
        "Zarr store, chunk by chunk with dask, never the whole array in memory. The store "
        "appears under --out only once complete.")
    synth.add_argument("--rows", type=_whole_number, required=True, metavar="M",
                       help="examples m")
    synth.add_argument("--features", type=_whole_number, required=True, metavar="N",
                       help="features n_x")
    synth.add_argument("--out", required=True, help="the store to write, e.g. big.zarr (an "
                       "existing Zarr store there is replaced)")
    synth.add_argument("--chunk-rows", type=_whole_number, metavar="K",
                       help="rows per chunk (default: about 32 MiB of X per chunk)")
    synth.add_argument("--seed", type=int, default=0, help="random seed, ≥ 0 (default: 0)")
    synth.add_argument("--classes", type=_whole_number, default=2, metavar="K",
                       help="how many classes, 2 to 256 (default: 2, the notes' binary task)")
    synth.set_defaults(run=run_data_synth)
    return parser


def _learning_rate(text):
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


def _learning_rate_number(text):
    try:
        return rates.check_rates([text])[0]
    except InvalidInputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _tolerance(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a tolerance; expected a number ≥ 0 "
                                         f"such as 1e-6")
    return value


def _whole_number(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number ≥ 1")
    return value


MAX_ITERATIONS = 10**9  # a billion steps: days of training, and 8 GB of cost history


def _iterations(text):
    value = _whole_number(text)
    if value > MAX_ITERATIONS:
        raise argparse.ArgumentTypeError(f"{text!r:.40} iterations is more than "
                                         f"{MAX_ITERATIONS:,}, which would run for days; "
                                         f"expected a whole number from 1 to {MAX_ITERATIONS:,}")
    return value


def _image_side(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an image side; expected a whole "
                                         f"number of pixels ≥ 1, such as 64")
    return value


def _add_training_data_options(parser):
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
    _add_data_options(parser)
    parser.add_argument("--image-size", type=_image_side, nargs=2, metavar=("H", "W"),
                        help="size images in a folder are resized to (default: "
                        f"{DEFAULT_IMAGE_SIZE[0]} {DEFAULT_IMAGE_SIZE[1]})")
    parser.add_argument("--grayscale", action="store_true",
                        help="read a folder's images as grayscale (1 channel) instead of RGB")


def _add_rows_option(parser, text):
    """--all-rows: the data policy's (logreg.data.split) one switch, for the data `logreg
    train` split; data it did not split are used whole anyway."""
    parser.add_argument("--all-rows", action="store_true", help=text)


def _add_data_options(parser, default="label"):
    parser.add_argument("--label-column", help="the CSV column holding the labels" + (
                            f" (default: {default})" if default else
                            " (default: the model's)"))


def _outputs(out):
    """(model path, learning-curve path) for --out, both checked writable before any work."""
    out = Path(out)
    if out.suffix == ".safetensors":
        paths = out, out.with_suffix(".png")
    else:
        try:
            if out.exists() and not out.is_dir():
                raise OutputError(f"--out {out} is a file; expected a folder, or a path "
                                  f"ending in .safetensors.")
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            if isinstance(error, OutputError):
                raise
            raise OutputError(f"cannot create the folder {out} ({error.strerror}); choose "
                              f"another --out.") from None
        paths = out / MODEL_NAME, out / CURVE_NAME
    for path in paths:
        check_writable(path)
    return paths


def _training_sets(args):
    """(train, test) Datasets from --data / --test-data; test may be None."""
    if not 0 <= args.test_size < 1:
        raise InvalidInputError(f"--test-size {args.test_size}; expected a share from 0 "
                                f"(hold out nothing) up to, not including, 1.")
    _check_data_options(args)
    channels = 1 if args.grayscale else 3
    image_size = tuple(args.image_size or DEFAULT_IMAGE_SIZE)
    check_image_size(image_size, channels, name="--image-size")  # before any work
    label_column = args.label_column or "label"
    held_out = 0 if args.test_data else args.test_size
    whole = load_whole(args.data, "train", label_column=label_column, image_size=image_size,
                       channels=channels, labels=args.labels)
    train, test = split_dataset(whole, held_out) if held_out else (whole, None)
    if test is not None:  # recorded once in the model file (logreg.data.split)
        train.split = split_record(whole, test, held_out, args.data)
    if args.test_data:
        image_shape, expected = train.image_shape, f"--data {args.data} holds"
        check_source_kind(args.test_data, image_shape, train.X.shape[0], expected)
        _check_density_by_name(args.test_data, args.test_labels, train.sparse, image_shape,
                               train.X.shape[0], expected)
        test = load_dataset(args.test_data, label_column=label_column,
                            image_size=image_shape[:2] if image_shape else None,
                            channels=image_shape[2] if image_shape else 3,
                            classes=train.classes, feature_names=train.feature_names,
                            split="test", labels=args.test_labels,
                            n_features=train.X.shape[0], zero_based=train.zero_based)
        check_same_kind(test, image_shape, train.X.shape[0], expected)
        _check_same_density(test, train.sparse, f"--data {args.data} is")
    _check_every_class_present(train)
    return train, test


def _check_every_class_present(train):
    """Each class the data name needs a training example: a class without one cannot be
    learned (an .h5's list_classes may name more classes than its labels use)."""
    counts = np.bincount(train.Y.ravel().astype(np.int64), minlength=len(train.classes))
    missing = [name for name, count in zip(train.classes, counts) if count == 0]
    if missing:
        raise InvalidInputError(
            f"{train.source} names the classes {_names(train.classes)} but has no training "
            f"example of {_names(missing)}; expected at least one example of every class. "
            f"Add examples, or leave that class out.")


def _check_density_by_name(source, labels, sparse, image_shape, n_x, expected):
    """Refuse, before it is read, a sparse table (svmlight, or an .npz with labels) where a
    dense table or images are expected, or a source that is no sparse table (a CSV, images)
    where a sparse table is."""
    if source in BUILT_IN:
        found = False
    elif _sparse_source(source, labels):
        found = True
    elif _is_sparse_npz_name(source):
        return  # an .npz without --labels: its content tells (checked once read)
    else:
        found = False
    if found and not sparse:
        raise InvalidInputError(f"{source!s:.200} is a sparse table; {expected} "
                                f"{describe_kind(image_shape, n_x)}. Give data of that kind.")
    if sparse and not found:
        raise InvalidInputError(f"{source!s:.200} is no sparse table; {expected} a sparse "
                                f"table of {n_x} features (svmlight, or a sparse .npz with "
                                f"--labels). Give data of that kind.")


def _check_same_density(dataset, sparse, expected):
    """A sparse table where a dense one is expected, or the other way round: refused."""
    if dataset.sparse != sparse:
        found = "a sparse table" if dataset.sparse else "a dense table or images"
        wanted = "a sparse table (svmlight, or a sparse .npz with --labels)" if sparse \
            else "a dense table or images"
        raise InvalidInputError(f"{dataset.source} holds {found}; {expected} {wanted}. Give "
                                f"data of that kind.")


def _names(classes, limit=10):
    """'a', 'b' and 'c', for messages: at most ``limit`` names, then how many more."""
    return text.quoted_list(classes, limit)


def _check_data_options(args):
    """Refuse options that do not apply to the data given, rather than ignore them:
    --image-size and --grayscale shape a folder of images as it is read; --label-column names
    a column of a CSV."""
    data = str(args.data)
    if args.image_size is not None or args.grayscale:
        zarr = Path(data).suffix.lower() == ".zarr"
        if args.data in BUILT_IN or zarr or not is_folder(data):
            option = "--image-size" if args.image_size is not None else "--grayscale"
            kind = "zarr" if zarr else source_kind(data)
            what = {"zarr": "is a Zarr store of a table", "table": "is a table",
                    "images": "holds images stored at their own size and colours"}.get(
                        kind, "is not a folder of images")
            raise InvalidInputError(f"{option} applies to a folder of images, which are "
                                    f"resized as they are read; --data {data:.200} {what}. "
                                    f"Leave {option} out.")
    if args.label_column is not None:
        sources = [data] + ([str(args.test_data)] if args.test_data else [])
        if not any(_is_csv(source) for source in sources):
            raise InvalidInputError(f"--label-column {args.label_column!r:.80} names a column "
                                    f"of a CSV; --data {data:.200} is no CSV (its labels are "
                                    f"where its format keeps them). Leave --label-column out.")
    _check_labels_option("--labels", args.labels, "--data", data)
    _check_labels_option("--test-labels", getattr(args, "test_labels", None), "--test-data",
                         args.test_data)


def _check_labels_option(option, labels, data_option, source):
    """A labels file goes with a sparse .npz, whose labels are not in it; with anything else
    it is refused (other formats keep their labels themselves)."""
    if labels is None:
        return
    if source is None:
        raise InvalidInputError(f"{option} gives the labels of a sparse .npz {data_option}; "
                                f"there is no {data_option}. Give one, or leave {option} out.")
    if _is_sparse_npz_name(source):
        return
    where = ("an svmlight file holds its labels (the first number of each line)"
             if is_svmlight(source) else "its labels are where its format keeps them")
    raise InvalidInputError(f"{option} gives the labels of a sparse .npz (written by "
                            f"scipy.sparse.save_npz); {data_option} {source!s:.200} is no "
                            f".npz: {where}. Leave {option} out.")


def _is_sparse_npz_name(source):
    return source not in BUILT_IN and Path(str(source)).suffix.lower() == ".npz"


def _sparse_source(source, labels):
    """Whether a source is a sparse table, told from its name and options alone."""
    return source not in BUILT_IN and (is_svmlight(source) or (
        labels is not None and _is_sparse_npz_name(source)))


def _is_csv(source):
    return source not in BUILT_IN and Path(source).suffix.lower() == ".csv"


def _scaling(train):
    """Images: /255 as the exercise; a table: per-feature μ, σ of the training data; a sparse
    table: per-feature max|x| of the training data (no centring: it stays sparse)."""
    if train.image_shape:
        return image_scaling()
    return max_abs(train.X) if train.sparse else standardize(train.X)


def _estimator(args):
    """The estimator that `logreg train`'s options describe."""
    from logreg.model.estimator import LogisticRegression  # imports scikit-learn: only when needed

    stopping = {"validation_fraction": args.validation_fraction,
                "n_iter_no_change": args.n_iter_no_change, "random_state": args.seed}
    given = [name for name, value in stopping.items() if value is not None]
    if given and not args.early_stopping:
        options = ", ".join("--" + {"random_state": "seed"}.get(name, name).replace("_", "-")
                            for name in given)
        verb = "applies" if len(given) == 1 else "apply"
        raise InvalidInputError(f"{options} {verb} only with --early-stopping; add it, or "
                                f"leave {'it' if len(given) == 1 else 'them'} out.")
    estimator = LogisticRegression(
        learning_rate=args.learning_rate, num_iterations=args.iterations, tol=args.tol,
        l2=args.l2, solver=args.solver, dtype=args.dtype, backprop=args.backprop,
        implementation=args.implementation, n_threads=args.threads,
        verbose=0 if args.quiet else 2, early_stopping=args.early_stopping,
        **{name: value for name, value in stopping.items() if value is not None})
    estimator._check_params()
    return estimator


def run_train(args):
    """``logreg train``: train on the data set named, write the model and its learning curve."""
    with _created_folders_removed_on_failure(args.out):
        if args.engine == "dask":
            return run_train_dask(args)
        return _run_train_numpy(args)


@contextlib.contextmanager
def _created_folders_removed_on_failure(out):
    """A run that fails leaves no empty --out folder behind that it created itself (a folder
    that existed before, or that holds anything, is left as it is)."""
    out = Path(out)
    folder = out.parent if out.suffix == ".safetensors" else out
    try:
        new = [f for f in (folder, *folder.parents) if not f.exists()]
    except (OSError, ValueError):  # a name the system refuses: _outputs says so
        new = []
    try:
        yield
    except BaseException:
        for created in new:  # the deepest first
            with contextlib.suppress(OSError):
                created.rmdir()  # only an empty folder: never anything written
        raise


def _run_train_numpy(args):
    _check_engine_options(args)
    estimator = _estimator(args)
    from logreg.engines import Data  # the engine table, asked before any work

    library = "sparse" if _sparse_source(args.data, args.labels) else "numpy"
    estimator.plan(Data(library, args.dtype), sample_weight=None)
    model_path, curve_path = _outputs(args.out)
    train, test = _training_sets(args)
    scaling = _scaling(train)
    if not args.quiet and args.implementation in ("semi", "loop"):
        print(f"Implementation {args.implementation!r}: explicit Python loops, slow on purpose "
              f"(the notes' lesson); 'vectorized' gives the same numbers much faster.")
    if not args.quiet:
        print(f"Training on {train.source}: {train.m} examples of {train.X.shape[0]} "
              f"{'sparse ' if train.sparse else ''}features"
              + (f", testing on {test.m}" if test else "") + f"; {_classes_line(train.classes)}.")
    def save(accuracies):
        estimator.classes_ = np.asarray(train.classes)  # 0/1 → the data's class names
        _save(estimator, model_path, train, scaling, accuracies,
              split=_split_record(args, train, test))

    try:
        estimator.fit(scaling.apply(train.X).T, train.Y.ravel())
    except KeyboardInterrupt:
        return _interrupted(args, estimator, save, model_path)
    estimator.classes_ = np.asarray(train.classes)
    accuracies = {"train": _accuracy(estimator, scaling, train)}
    if test is not None:
        accuracies["test"] = _accuracy(estimator, scaling, test)
    return _finish(estimator, accuracies, save, model_path, curve_path)


def _classes_line(classes):
    """"classes 'a' (0) and 'b' (1)", or "10 classes '0' (0), '1' (1), ..." for K ≥ 3."""
    named = [f"{text.quoted(name)} ({k})" for k, name in enumerate(classes)]
    if len(named) == 2:
        return f"classes {named[0]} and {named[1]}"
    shown = named if len(named) <= 12 else [*named[:10], "...", named[-1]]
    return f"{len(named)} classes {', '.join(shown)}"


def _interrupted(args, estimator, save, model_path):
    """Ctrl-C: nothing written, or with --save-on-interrupt the last good parameters (and the
    learning curve so far, so that the model and its picture stay a pair)."""
    if not args.save_on_interrupt or not hasattr(estimator, "coef_"):
        raise KeyboardInterrupt
    model_path, curve_path = _outputs(args.out)
    _write_model_and_curve(estimator, {}, save, model_path, curve_path)
    print(f"logreg train: interrupted after {estimator.n_iter_} iterations; saved the last "
          f"good parameters to {model_path} and the learning curve so far to {curve_path}.",
          file=sys.stderr)
    return 130


def _finish(estimator, accuracies, save, model_path, curve_path):
    """Print the accuracies as the exercise does; write the model and the learning curve."""
    for name, value in accuracies.items():
        print(f"{name} accuracy: {value} %")
    _write_model_and_curve(estimator, accuracies, save, model_path, curve_path)
    print(f"Model written to {model_path}")
    print(f"Learning curve written to {curve_path}")
    return 0


def _write_model_and_curve(estimator, accuracies, save, model_path, curve_path):
    """Both files or neither: ``save`` (which writes ``model_path``) and the picture join one
    atomic write, so that on a full disk the old model and its old picture stay a pair."""
    from logreg.core.files import atomic_paths
    from logreg.model.plots import learning_curve  # imports matplotlib: only when needed

    with atomic_paths(model_path, curve_path, elsewhere="another --out"):
        save(accuracies)
        learning_curve(estimator.costs_, curve_path, getattr(estimator, "learning_rate_", None))


def _check_engine_options(args):
    given = [option for option, value in (("--scheduler", args.scheduler),
                                          ("--workers", args.workers),
                                          ("--worker-memory", args.worker_memory)) if value]
    if given:
        raise InvalidInputError(f"{', '.join(given)} set up a Dask cluster; add --engine dask "
                                f"(with a Zarr store as --data), or leave them out.")
    if Path(args.data).suffix.lower() == ".zarr":
        raise InvalidInputError(f"--data {args.data} is a Zarr store: train on it with "
                                f"--engine dask.")


def _dask_engine():
    try:
        from logreg.apps import outofcore as dask_engine
    except ImportError as error:
        raise LogregError(f"the dask engine needs dask[array], distributed and zarr "
                          f"({error}); install them with pip install 'logreg[dask]'.") from None
    return dask_engine


def run_train_dask(args):
    """--engine dask: train on a Zarr store, chunk by chunk, on a Dask cluster."""
    engine = _dask_engine()
    if args.scheduler and (args.workers or args.worker_memory):
        raise InvalidInputError("--workers and --worker-memory size a local cluster; the "
                                "cluster at --scheduler has its own. Give one or the other.")
    _check_data_options(args)
    workers, memory = args.workers or 2, args.worker_memory or "1GiB"
    if args.scheduler is None:  # a cluster this machine cannot hold is refused before it starts
        workers, memory = engine.check_local_cluster(workers, memory)
    estimator = _estimator(args)
    engine.check_estimator(estimator)  # the engine table, asked before any work
    model_path, curve_path = _outputs(args.out)
    X_rows, y = engine.open_store(args.data)
    (X_train, y_train), test = engine.split(X_rows, y, 0 if args.test_data else args.test_size)
    if args.test_data:
        test = engine.open_store(args.test_data)
        if test[0].shape[1] != X_rows.shape[1]:
            raise InvalidInputError(f"--test-data {args.test_data} has {test[0].shape[1]} "
                                    f"features; --data has {X_rows.shape[1]}. Give held-out "
                                    f"data with the same features.")
    with engine.cluster(args.scheduler, workers, memory) as client:
        scaling = engine.standardize(X_train)  # fitted on the training rows, in one pass
        classes = engine.classes_of(y_train)
        X_train = engine.scaled(X_train, scaling)
        if not args.quiet:
            print(f"Training on {args.data}: {X_train.shape[0]} examples of {X_train.shape[1]} "
                  f"features" + (f", testing on {test[0].shape[0]}" if test else "")
                  + f"; {_classes_line([c.item() for c in classes])}; "
                  f"Dask: {engine.describe(client)}.")
        def save(accuracies):
            _save_dask(estimator, model_path, args.data, scaling, accuracies)

        try:
            engine.fit(X_train, y_train, estimator)
        except KeyboardInterrupt:
            return _interrupted(args, estimator, save, model_path)
        sets = {"train": (X_train, y_train)}
        if test is not None:
            sets["test"] = (engine.scaled(test[0], scaling), test[1])
        accuracies = engine.accuracies(estimator, sets)  # every set in one pass
        peaks = engine.workers_peak_memory(client)
    if not args.quiet:
        print(f"Dask workers' peak memory: "
              f"{', '.join(engine.format_bytes(p) for p in sorted(peaks.values()))}; the data "
              f"were {'kept in' if estimator.engine_['persisted'] else 'streamed through'} "
              f"the workers' memory.")
    return _finish(estimator, accuracies, save, model_path, curve_path)


def _save_dask(estimator, path, source, scaling, accuracies):
    estimator.save(path, feature_names=None, data=str(source), accuracy=accuracies,
                   engine=estimator.engine_, preprocessing={
                       "scaling": scaling.to_dict(), "image_shape": None, "label_column": None})


def run_data_synth(args):
    """``logreg data synth``: write a synthetic data set to a Zarr store."""
    path = _dask_engine().synth(args.out, args.rows, args.features, chunk_rows=args.chunk_rows,
                                seed=args.seed, progress=True, classes=args.classes)
    print(f"Data set written to {path}: X ({args.rows}, {args.features}), y ({args.rows},) of "
          f"{args.classes} classes")
    return 0


def _accuracy(estimator, scaling, dataset):
    """The exercise's figure, 100 − mean|Ŷ − Y|·100, with the estimator's own predictions (for
    K ≥ 3 classes: the share of examples whose class is predicted, in %)."""
    return rates.accuracy(estimator, scaling.apply(dataset.X), dataset.Y)


def _save(estimator, path, train, scaling, accuracies, split=None):
    """The model file, with what predict, evaluate and summary need to read data as training
    did: the preprocessing, and the share of --data held out for testing (``split``)."""
    preprocessing = {"scaling": scaling.to_dict(),
                     "image_shape": list(train.image_shape) if train.image_shape else None,
                     "label_column": train.label_column}
    if train.sparse:  # predict and evaluate read sparse tables, numbered as this one
        preprocessing.update(sparse=True, zero_based=train.zero_based)
    estimator.save(path, feature_names=train.feature_names, data=train.source,
                   accuracy=accuracies, preprocessing=preprocessing, split=split)


def _model_and_scaling(path):
    from logreg.model.estimator import load

    estimator = load(path)
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_  # the command picks a CSV's columns by name itself
    preprocessing = estimator.metadata_.get("preprocessing") or {}
    record = preprocessing.get("scaling") or no_scaling().to_dict()
    try:
        scaling = Scaling.from_dict(record, estimator.n_features_in_)
    except InvalidInputError as error:
        from logreg.errors import ModelFileError
        raise ModelFileError(f"{path}: {error}") from None
    return estimator, scaling, preprocessing


def _model_data(estimator, preprocessing, source, label_column, labels=None, part="test",
                all_rows=False):
    """Labelled data shaped as the model was trained: same kind, image size, classes and
    features, Y the index of each label among the model's classes; data of another kind are
    refused before they are read. Where ``source`` is the model's training data (the data
    policy, logreg.data.split), ``part="test"`` (evaluate) gives the part `logreg train` held
    out, ``part="train"`` (summary) the part it trained on; ``all_rows``, or other data: every
    row. ``dataset.rows`` says which (a ``Rows``)."""
    image_shape, n_x = preprocessing.get("image_shape"), estimator.n_features_in_
    if label_column is not None and not _is_csv(str(source)):
        raise InvalidInputError(f"--label-column {label_column!r:.80} names a column of a "
                                f"CSV; --data {source:.200} is no CSV (its labels are where "
                                f"its format keeps them). Leave --label-column out.")
    _check_labels_option("--labels", labels, "--data", source)
    check_source_kind(source, image_shape, n_x)
    _check_density_by_name(source, labels, bool(preprocessing.get("sparse")), image_shape, n_x,
                           "the model was trained on")
    classes = estimator.classes_.tolist()
    dataset = load_whole(
        source, part, label_column=label_column or preprocessing.get("label_column") or "label",
        image_size=tuple(image_shape[:2]) if image_shape else None,
        channels=image_shape[2] if image_shape else 3, classes=classes,
        feature_names=estimator.metadata_.get("feature_names"), labels=labels,
        n_features=n_x, zero_based=preprocessing.get("zero_based"))
    rows = model_rows(estimator.metadata_.get("split"), dataset, source,
                      "held-out" if part == "test" else "training", all_rows)
    dataset = take(dataset, rows)
    dataset.rows = rows
    check_same_kind(dataset, image_shape, n_x)
    _check_same_density(dataset, bool(preprocessing.get("sparse")), "the model was trained on")
    if list(dataset.classes) != classes:  # an .h5's or a built-in set's own classes: by name
        names = np.asarray(dataset.classes)[dataset.Y.ravel().astype(np.int64)]
        try:
            dataset.Y, dataset.classes = index_labels(names, classes)[0], classes
        except InvalidInputError as error:
            raise InvalidInputError(f"{dataset.source}: {error}") from None
    return dataset


def _split_record(args, train, test):
    """What `logreg train` held out of --data (logreg.data.split.split_record, made where the
    whole was loaded); None where nothing of --data was held out."""
    return getattr(train, "split", None) if test is not None and not args.test_data else None


def run_predict(args):
    """``logreg predict``: one probability per class and the label for each input."""
    estimator, scaling, preprocessing = _model_and_scaling(args.model)
    names, X = _inputs(args, estimator, preprocessing)
    n_x = estimator.n_features_in_
    if X.shape[0] != n_x:
        given = args.inputs[0] if len(args.inputs) == 1 else "the inputs"
        raise InvalidInputError(
            f"{given} gives X of shape {X.shape} ({X.shape[0]} features); the model was "
            f"trained on {describe_kind(preprocessing.get('image_shape'), n_x)}, X of shape "
            f"({n_x}, m). Give data with the same features.")
    X_rows = scaling.apply(X).T
    # the estimator's own decision: two classes ŷ = σ(z), label classes_[1] where z > 0;
    # K classes A = softmax(Z), the label of the largest
    probabilities, labels = estimator.predict_proba(X_rows), estimator.predict(X_rows)
    width = max(len("input"), *(len(name) for name in names))
    headers = [f"P({name})" for name in estimator.classes_.tolist()]
    widths = [max(len(header), len("0.000000")) for header in headers]
    print(f"{'input':<{width}}  " + "  ".join(f"{header:>{w}}" for header, w in
                                              zip(headers, widths)) + "  label")
    for name, row, label in zip(names, probabilities, labels):
        print(f"{name:<{width}}  " + "  ".join(f"{p:>{w}.6f}" for p, w in zip(row, widths))
              + f"  {label}")
    return 0


def _inputs(args, estimator, preprocessing):
    """(names, raw X (n_x, m)) from image files/folders, one CSV or one sparse table."""
    image_shape = preprocessing.get("image_shape")
    paths = [Path(p) for p in args.inputs]
    sparse_inputs = [p for p in paths if is_svmlight(p) or p.suffix.lower() == ".npz"]
    if preprocessing.get("sparse") or sparse_inputs:
        return _sparse_inputs(args, estimator, preprocessing, paths)
    is_table = len(paths) == 1 and paths[0].suffix.lower() == ".csv"
    if args.label_column is not None and not is_table:
        raise InvalidInputError(f"--label-column {args.label_column!r:.80} names a column of a "
                                f"CSV; the inputs are images. Leave --label-column out.")
    if is_table:
        if image_shape:
            raise InvalidInputError(
                f"{paths[0]} is a table; the model was trained on "
                f"{describe_kind(image_shape, estimator.n_features_in_)}. Give image files "
                f"or folders of images.")
        label_column = args.label_column or preprocessing.get("label_column")
        if args.label_column is not None and args.label_column not in csv_columns(paths[0]):
            raise InvalidInputError(
                f"--label-column {args.label_column!r:.80}: {paths[0]} has no such column (its "
                f"columns: {', '.join(csv_columns(paths[0]))[:300]}). Name one of them, or "
                f"leave --label-column out.")
        features, _, _ = read_csv_table(paths[0], None, estimator.metadata_.get(
            "feature_names") or _csv_features(paths[0], label_column))
        index = _predicted_rows(args, estimator, paths[0], label_column=label_column or "label",
                                feature_names=estimator.metadata_.get("feature_names"))
        index = np.arange(len(features)) if index is None else index
        return [f"row {i + 1}" for i in index], features[index].T
    if not image_shape:
        raise InvalidInputError(
            f"{paths[0]} is not a CSV table; this model was trained on "
            f"{describe_kind(None, estimator.n_features_in_)}, not images. Give one CSV with "
            f"the same feature columns.")
    files = []
    for path in paths:
        if is_folder(path):
            files += list_images(path)
        elif path.suffix.lower() == ".csv":
            raise InvalidInputError(f"{path}: give either one CSV or image files, not both.")
        else:
            files.append(path)
    if not files:
        raise InvalidInputError("no image files among the inputs; expected image files or "
                                "folders holding images.")
    stack = read_images(files, tuple(image_shape[:2]), image_shape[2])
    return [str(f) for f in files], flatten_images(stack)


def _predicted_rows(args, estimator, path, **options):
    """The rows of a CSV or an svmlight file to predict (None: all): where it is the model's
    training data (the data policy, logreg.data.split), the part train held out, said in one
    line on stderr; --all-rows, a CSV without the label column, labels the model does not
    know: all. ``options``: how ``load_dataset`` reads the file as the model's data."""
    split = estimator.metadata_.get("split")
    if split is None or args.all_rows or (
            "label_column" in options and options["label_column"] not in csv_columns(path)):
        return None
    try:
        dataset = load_dataset(path, classes=estimator.classes_.tolist(), **options)
    except LogregError:  # not labelled data the model knows: not its training data
        return None
    dataset.rows = model_rows(split, dataset, path, "held-out")
    if dataset.rows.index is None:
        return None
    print(f"logreg predict: predicting {_rows_words(dataset, 'predicts')}", file=sys.stderr)
    return dataset.rows.index


def _sparse_inputs(args, estimator, preprocessing, paths):
    """(names "row i", X (n_x, m) sparse CSC) from one svmlight file or one sparse .npz, for a
    model trained on a sparse table; anything else is refused, naming what the model needs."""
    n_x = estimator.n_features_in_
    if not preprocessing.get("sparse"):
        raise InvalidInputError(
            f"{paths[0]}: this model was trained on "
            f"{describe_kind(preprocessing.get('image_shape'), n_x)}; give "
            f"{'image files or folders' if preprocessing.get('image_shape') else 'one CSV'} "
            f"like its training data (svmlight files and .npz go to a model trained on a "
            f"sparse table).")
    if args.label_column is not None:
        raise InvalidInputError(f"--label-column {args.label_column!r:.80} names a column of a "
                                f"CSV; the input is a sparse table. Leave --label-column out.")
    if len(paths) != 1 or not (is_svmlight(paths[0]) or paths[0].suffix.lower() == ".npz"):
        raise InvalidInputError(
            f"this model was trained on a sparse table of {n_x} features; give one svmlight "
            f"file ({', '.join(SVMLIGHT_SUFFIXES)}) or one .npz written by "
            f"scipy.sparse.save_npz, not {len(paths)} input(s) such as {paths[0]!s:.200}.")
    index = None
    if is_svmlight(paths[0]):  # its labels only tell whether it is the model's training data
        rows = read_svmlight(paths[0], n_x, preprocessing.get("zero_based"))[0]
        index = _predicted_rows(args, estimator, paths[0], n_features=n_x,
                                zero_based=preprocessing.get("zero_based"))
    else:
        rows = read_sparse_npz(paths[0])
    index = np.arange(rows.shape[0]) if index is None else index
    return [f"row {i + 1}" for i in index], rows[index].T


def _csv_features(path, label_column):
    """Every column but the label column, for a model that did not record feature names."""
    return [name for name in csv_columns(path) if name != label_column]


def run_evaluate(args):
    """``logreg evaluate``: score a model on labelled data; with ``--plots``, its pictures."""
    from logreg.model import evaluation

    if args.format is not None and args.plots is None:
        raise InvalidInputError(f"--format {args.format} applies to the pictures of --plots "
                                f"DIR; give --plots DIR or leave --format out.")
    folder = None if args.plots is None else evaluation.plots_folder(args.plots)
    estimator, scaling, preprocessing = _model_and_scaling(args.model)
    dataset = _model_data(estimator, preprocessing, args.data, args.label_column, args.labels,
                          all_rows=args.all_rows)
    X_rows = scaling.apply(dataset.X).T
    labels = np.asarray(estimator.classes_)[dataset.Y.ravel().astype(np.int64)]
    report = evaluation.evaluate(estimator, X_rows, labels)
    rows = dataset.rows  # which rows were scored, for machines too
    report.update(rows="held-out" if rows.kind == "held-out" else "all", m_data=rows.total,
                  m_trained_on=rows.total - rows.held_out if rows.held_out else 0)
    if folder is not None:  # drawn before anything is printed: a refusal prints nothing else
        images = None
        if dataset.image_shape and not dataset.sparse:
            from logreg.data.images import vectors_to_images

            images = vectors_to_images(dataset.X, dataset.image_shape)
        report["pictures"] = [str(path) for path in evaluation.write_plots(
            estimator, X_rows, labels, folder, images=images, format=args.format or "png")]
    if args.json:
        print(evaluation.to_json(report))
        return 0
    _print_evaluation(dataset, report)
    return 0


def _print_evaluation(dataset, report):
    """The figures as text: accuracy, log loss, the K×K confusion matrix, then the AUC."""
    matrix = np.asarray(report["confusion_matrix"])
    names = [str(c) for c in report["classes"]]
    width = max(max(len(n) for n in names) + 2, len(str(matrix.max())) + 1)
    print(f"Evaluated on {_rows_words(dataset, 'scores')}")
    print(f"accuracy: {report['accuracy']} %")
    log_loss = report["log_loss"]  # six decimals; a huge one (a model certain and wrong) short
    print(f"log loss: {log_loss:.6f}" if log_loss < 1e15 else f"log loss: {log_loss:.6g}")
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(" " * width + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, matrix):
        print(f"{name:<{width}}" + "".join(f"{count:>{width}}" for count in row))
    auc = report["roc_auc"]
    if isinstance(auc, dict):
        print(f"ROC AUC, one-vs-rest: macro {_figure_text(auc['macro'])}, micro "
              f"{_figure_text(auc['micro'])}")
    else:
        print(f"ROC AUC: {_figure_text(auc)}")
    for note in report["notes"]:
        print(f"note: {note}")
    if report.get("pictures"):
        print(f"Pictures written to {Path(report['pictures'][0]).parent}: "
              + ", ".join(Path(path).name for path in report["pictures"]))


def _rows_words(dataset, verb):
    """Which rows of ``dataset`` a command used (``dataset.rows``), in words: "143 held-out
    examples of X (train kept the other 426; --all-rows scores all 569)"."""
    rows, source = dataset.rows, dataset.source
    if rows.kind == "held-out":
        return (f"{rows.m} held-out examples of {source} (train kept the other "
                f"{rows.total - rows.m}; --all-rows {verb} all {rows.total})")
    if rows.held_out:  # --all-rows on the model's own data
        return (f"all {rows.m} examples of {source}, the {rows.total - rows.held_out} train "
                f"kept included (--all-rows)")
    return f"{source}: {rows.m} examples"


def _figure_text(value):
    return "undefined" if value is None else f"{value:.6f}"


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


SCALING_WORDS = {"image": "pixels divided by 255",
                 "standardize": "standardised per feature, (x − μ) / σ of the training data",
                 "maxabs": "each feature divided by its largest |x| in the training data",
                 "none": "as given"}


def run_summary(args):
    """`logreg summary`: the model's inference table on labelled data (or its JSON)."""
    import json

    from logreg.model.inference import summarize

    estimator, scaling, preprocessing = _model_and_scaling(args.model)
    dataset = _model_data(estimator, preprocessing, args.data, args.label_column, args.labels,
                          part="train")
    X_rows = scaling.apply(dataset.X).T
    y = estimator.classes_[dataset.Y.ravel().astype(np.int64)]
    summary = summarize(estimator, X_rows, y, alpha=args.alpha,
                        feature_names=_summary_feature_names(estimator, preprocessing))
    rows = dataset.rows
    part = (f"the {rows.m} training examples of {dataset.source} ({rows.held_out} of "
            f"{rows.total} held out by `logreg train`)" if rows.kind == "training"
            else dataset.source)
    summary.notes.append(f"on {part}; features as the model sees them: "
                         f"{SCALING_WORDS.get(scaling.kind, scaling.kind)}")
    print(json.dumps(summary.to_dict(), indent=2) if args.json else summary)
    return 0


def _summary_feature_names(estimator, preprocessing):
    """A CSV's column names; pixel[row,column(,channel)] for images; else None (x0, x1...)."""
    names = estimator.metadata_.get("feature_names")
    if names:
        return names
    shape = preprocessing.get("image_shape")
    if not shape:
        return None
    height, width, channels = (list(shape) + [1])[:3]
    # flatten_images: (h, w, c) in row-major order, one image per column
    return [f"pixel[{i // (width * channels)},{i // channels % width}"
            + (f",{i % channels}]" if channels > 1 else "]")
            for i in range(height * width * channels)]


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


def run_playground(args):
    """``logreg playground``: the local web page, until Ctrl-C."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise InvalidInputError("the playground needs: pip install 'logreg[playground]'") \
            from None
    from logreg.apps.playground.server import serve

    return serve(args.host, args.port, open_browser=not args.no_browser)


def run_graph(args):
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


def run_quiz(args):
    """``logreg quiz``: the notes' quiz, each answer demonstrated."""
    from logreg.lessons import quiz

    return quiz.main(question=args.question, seed=args.seed, show_answers=args.answers)


def run_rates(args):
    """``logreg rates``: the exercise's learning-rate comparison."""
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InvalidInputError(f"--out {out}: expected a picture path ending in .png, .svg "
                                f"or .pdf.")
    check_writable(out)
    train, test = _training_sets(args)
    scaling = _scaling(train)
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


def run_bench(args):
    """``logreg bench``: the notes' vectorisation measurements."""
    import json

    result = bench.vectorize(size=args.size, repeats=args.repeats, n_x=args.features,
                             m=args.examples, progress=lambda what: print(
                                 f"measuring {what} ...", file=sys.stderr, flush=True))
    print(json.dumps(result, indent=2) if args.json else bench.format_vectorize(result))
    return 0


PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a program stopped by a closed pipe


def _pipe_closed():
    """The reader of stdout left (``logreg predict ... | head -1``): stop quietly.

    As the Python documentation recommends (library/signal.html, "Note on SIGPIPE"): point
    stdout at /dev/null, so that the flush at exit cannot raise again and print "Exception
    ignored", and exit with 141, as a program ended by SIGPIPE does: the output was cut short.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is no file (e.g. captured)
        pass
    return PIPE_CLOSED


class StdoutError(OSError):
    """stdout refused what was printed (a full disk, an I/O error), told apart from the other
    OSErrors a command may meet; the original error is its ``__cause__``."""


class _Stdout:
    """sys.stdout as it was, whose write errors other than a closed pipe are StdoutErrors."""

    def __init__(self, stream):
        self._stream = stream

    def _call(self, name, *args):
        try:
            return getattr(self._stream, name)(*args)
        except BrokenPipeError:
            raise  # a reader that left: _pipe_closed's, exit 141
        except OSError as error:
            raise StdoutError(error.errno, error.strerror) from error

    def write(self, text):
        return self._call("write", text)

    def writelines(self, lines):
        return self._call("writelines", lines)

    def flush(self):
        return self._call("flush")

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _stdout_errors_told_apart():
    original = sys.stdout
    sys.stdout = _Stdout(original)
    try:
        yield
    finally:
        sys.stdout = original


def _stdout_failed(prog, error):
    """stdout refused the output (``> /dev/full``): one line on stderr, exit status 2, and
    stdout pointed at /dev/null so that the flush at exit does not fail again."""
    print(f"{prog}: error: cannot write the output to stdout ({error.strerror or error}); "
          f"free some space or send the output elsewhere.", file=sys.stderr)
    _pipe_closed()
    return 2


@contextlib.contextmanager
def _warnings_on_one_line(command):
    """Warnings (L-BFGS stopping early, a learning rate that diverged) as one line on stderr,
    "logreg COMMAND: warning: ...", not Python's two lines with a source line of logreg's."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"logreg {command}: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv=None):
    """Run one command; its exit status: 0, 2 for a user's mistake (one line on stderr), 130
    on Ctrl-C, 141 when the reader of stdout left early (a closed pipe ends quietly)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # --help, --version or a usage error: flush now, where a closed
        try:            # pipe can still be told apart
            sys.stdout.flush()
        except BrokenPipeError:
            return _pipe_closed()
        except OSError as error:
            return _stdout_failed("logreg", error)
        raise
    try:
        with _warnings_on_one_line(args.command), _stdout_errors_told_apart():
            status = args.run(args)
            sys.stdout.flush()  # a reader that left shows here, not as "Exception ignored" at exit
        return status
    except BrokenPipeError:
        return _pipe_closed()
    except StdoutError as error:
        return _stdout_failed(f"logreg {args.command}", error.__cause__)
    except KeyboardInterrupt:
        print(f"logreg {args.command}: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except LogregError as error:
        message = " ".join(str(error).split())
        print(f"logreg {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
