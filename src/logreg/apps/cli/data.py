"""`logreg data synth`: a synthetic classification set written to a Zarr store, for
`logreg train --engine dask`."""

from logreg.apps.cli.options import Parser, whole_number
from logreg.apps.cli.train import dask_engine


def add_parser(commands):
    """Add `logreg data` and its `synth` to ``commands`` (argparse's sub-parsers)."""
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
    synth.add_argument("--rows", type=whole_number, required=True, metavar="M",
                       help="examples m")
    synth.add_argument("--features", type=whole_number, required=True, metavar="N",
                       help="features n_x")
    synth.add_argument("--out", required=True, help="the store to write, e.g. big.zarr (an "
                       "existing Zarr store there is replaced)")
    synth.add_argument("--chunk-rows", type=whole_number, metavar="K",
                       help="rows per chunk (default: about 32 MiB of X per chunk)")
    synth.add_argument("--seed", type=int, default=0, help="random seed, ≥ 0 (default: 0)")
    synth.add_argument("--classes", type=whole_number, default=2, metavar="K",
                       help="how many classes, 2 to 256 (default: 2, the notes' binary task)")
    synth.set_defaults(run=run)


def run(args):
    """``logreg data synth``: write a synthetic data set to a Zarr store."""
    path = dask_engine().synth(args.out, args.rows, args.features, chunk_rows=args.chunk_rows,
                               seed=args.seed, progress=True, classes=args.classes)
    print(f"Data set written to {path}: X ({args.rows}, {args.features}), y ({args.rows},) of "
          f"{args.classes} classes")
    return 0
