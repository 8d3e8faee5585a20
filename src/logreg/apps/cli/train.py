"""`logreg train`: its options, and the run: the data read and scaled, the estimator its options
describe, the fit (in memory, or with --engine dask on a Zarr store, chunk by chunk), the
accuracies printed, the model file and its learning curve written as a pair."""

import contextlib
import sys
from pathlib import Path

import numpy as np

from logreg import engines
from logreg.apps.cli.options import (
    add_training_data_options,
    iterations,
    learning_rate,
    tolerance,
    whole_number,
)
from logreg.apps.cli.sources import check_data_options, sparse_source
from logreg.apps.cli.trainingdata import scaling_for, training_sets
from logreg.core import text
from logreg.core.files import check_writable
from logreg.errors import InvalidInputError, LogregError, OutputError
from logreg.lessons import rates
from logreg.solvers import SOLVERS

DEFAULT_OUT = "logreg-output"
MODEL_NAME, CURVE_NAME = "model.safetensors", "learning_curve.png"


def add_parser(commands):
    """Add `logreg train` to ``commands`` (argparse's sub-parsers)."""
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
    add_training_data_options(train)
    _add_fit_options(train)
    _add_output_options(train)
    _add_dask_options(train)
    train.set_defaults(run=run)


def _add_fit_options(train):
    """How the model is fitted: steps, α, solver, precision, gradients, penalty, early
    stopping. The choices are the registries' own: solvers.SOLVERS, the engine table's."""
    train.add_argument("--iterations", type=iterations, default=2000,
                       help="gradient-descent steps (default: 2000, as the exercise)")
    train.add_argument("--learning-rate", type=learning_rate, default=0.005,
                       help="α in w := w − α dw, or 'auto' (1/L: every step lowers the cost) "
                       "(default: 0.005, as the exercise)")
    train.add_argument("--tol", type=tolerance, default=None,
                       help="gd: stop once a step lowers the cost by less than this; lbfgs, "
                       "newton: the gradient tolerance (default: the solver's, 0 for gd (run "
                       "every step), 1e-6 for lbfgs, 1e-10 for newton)")
    train.add_argument("--solver", choices=list(SOLVERS), default="gd",
                       help="the notes' gradient descent (default); L-BFGS, a quasi-Newton "
                       "method that reaches the minimum in tens of iterations; or newton, a "
                       "trust-region Newton-CG on the notes' second derivative a(1 − a), for "
                       "sparse data and badly conditioned problems (docs/solvers.md)")
    train.add_argument("--dtype", choices=list(engines.DTYPES), default="float64",
                       help="precision of the computation (float32: half the memory)")
    train.add_argument("--backprop", choices=list(engines.BACKPROPS), default="closed-form",
                       help="gradients from the notes' closed form (dZ = A − Y, ...) or from "
                       "backpropagation through the computation graph (the same numbers)")
    train.add_argument("--implementation", choices=list(engines.IMPLEMENTATIONS), default="auto",
                       help="how the gradients are computed: 'vectorized' (the notes' NumPy "
                       "lines), 'fused' (one pass over X, compiled), 'auto' (fused where it "
                       "wins; default), or the notes' loops: 'semi' (a loop over the "
                       "examples) and 'loop' (loops over examples and features; slow on "
                       "purpose)")
    train.add_argument("--threads", type=whole_number, metavar="N",
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


def _add_output_options(train):
    """Where the model goes, what Ctrl-C keeps, how much is printed."""
    train.add_argument("--out", default=DEFAULT_OUT, help="folder for model.safetensors and "
                       "learning_curve.png, or a path ending in .safetensors (the PNG goes "
                       f"beside it) (default: {DEFAULT_OUT})")
    train.add_argument("--save-on-interrupt", action="store_true",
                       help="on Ctrl-C, save the last good parameters instead of nothing")
    train.add_argument("--quiet", action="store_true",
                       help="print only the accuracies and the files written")


def _add_dask_options(train):
    """--engine and the Dask cluster it may start or join."""
    train.add_argument("--engine", choices=list(TRAINERS), default="numpy",
                       help="numpy: in memory (default); dask: a Zarr store (--data big.zarr, "
                       "as `logreg data synth` writes) read chunk by chunk on a Dask cluster, "
                       "never loaded whole; without --test-data the last chunks are held out")
    train.add_argument("--scheduler", metavar="ADDRESS", help="--engine dask: the scheduler "
                       "of a running Dask cluster (e.g. tcp://10.0.0.5:8786); without it a "
                       "local cluster is started for the run")
    train.add_argument("--workers", type=whole_number, help="--engine dask: worker "
                       "processes of the local cluster (default: 2)")
    train.add_argument("--worker-memory", metavar="SIZE", help="--engine dask: memory limit "
                       "of each local worker, such as 512MiB (default: 1GiB)")


def run(args):
    """``logreg train``: train on the data set named, write the model and its learning curve."""
    with _created_folders_removed_on_failure(args.out):
        return TRAINERS[args.engine](args)


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
    """Train in memory: the engine table asked, the data read and scaled, the fit, the files."""
    _check_engine_options(args)
    estimator = _estimator(args)
    library = "sparse" if sparse_source(args.data, args.labels) else "numpy"
    estimator.plan(engines.Data(library, args.dtype), sample_weight=None)  # before any work
    model_path, curve_path = _outputs(args.out)
    train, test = training_sets(args)
    scaling = scaling_for(train)
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
        return interrupted(args, estimator, save, model_path)
    estimator.classes_ = np.asarray(train.classes)
    accuracies = {"train": _accuracy(estimator, scaling, train)}
    if test is not None:
        accuracies["test"] = _accuracy(estimator, scaling, test)
    return _finish(estimator, accuracies, save, model_path, curve_path)


def _estimator(args):
    """The estimator that `logreg train`'s options describe."""
    from logreg.model.estimator import LogisticRegression  # imports scikit-learn: only when needed
    from logreg.model.parameters import check_params

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
    check_params(estimator)
    return estimator


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


def _classes_line(classes):
    """"classes 'a' (0) and 'b' (1)", or "10 classes '0' (0), '1' (1), ..." for K ≥ 3."""
    named = [f"{text.quoted(name)} ({k})" for k, name in enumerate(classes)]
    if len(named) == 2:
        return f"classes {named[0]} and {named[1]}"
    shown = named if len(named) <= 12 else [*named[:10], "...", named[-1]]
    return f"{len(named)} classes {', '.join(shown)}"


def interrupted(args, estimator, save, model_path):
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


def _split_record(args, train, test):
    """What `logreg train` held out of --data (logreg.data.split.split_record, made where the
    whole was loaded); None where nothing of --data was held out."""
    return getattr(train, "split", None) if test is not None and not args.test_data else None


def dask_engine():
    """logreg.apps.outofcore (the dask engine), or an error saying what to install."""
    try:
        from logreg.apps import outofcore
    except ImportError as error:
        raise LogregError(f"the dask engine needs dask[array], distributed and zarr "
                          f"({error}); install them with pip install 'logreg[dask]'.") from None
    return outofcore


def _run_train_dask(args):
    """--engine dask: train on a Zarr store, chunk by chunk, on a Dask cluster."""
    engine = dask_engine()
    if args.scheduler and (args.workers or args.worker_memory):
        raise InvalidInputError("--workers and --worker-memory size a local cluster; the "
                                "cluster at --scheduler has its own. Give one or the other.")
    check_data_options(args)
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
            save_dask(estimator, model_path, args.data, scaling, accuracies)

        try:
            engine.fit(X_train, y_train, estimator)
        except KeyboardInterrupt:
            return interrupted(args, estimator, save, model_path)
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


def save_dask(estimator, path, source, scaling, accuracies):
    """The model file of a Dask run: the Zarr store as its data, its scaling, the engine."""
    estimator.save(path, feature_names=None, data=str(source), accuracy=accuracies,
                   engine=estimator.engine_, preprocessing={
                       "scaling": scaling.to_dict(), "image_shape": None, "label_column": None})


# --engine: where the fit runs, decided here only (the parser's choices and run's dispatch):
# "numpy" in memory, or out of core, a Zarr store read chunk by chunk by logreg.apps.outofcore
TRAINERS = {"numpy": _run_train_numpy, "dask": _run_train_dask}
