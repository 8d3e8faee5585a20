"""`logreg bench vectorize`: the notes' vectorisation demonstration, measured."""

import sys

from logreg.apps.cli.options import Parser, whole_number
from logreg.lessons import bench


def add_parser(commands):
    """Add `logreg bench` and its `vectorize` to ``commands`` (argparse's sub-parsers)."""
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
    vectorize.add_argument("--size", type=whole_number, default=bench.SIZE,
                           help=f"length of the two vectors (default: {bench.SIZE:,})")
    vectorize.add_argument("--repeats", type=whole_number, help="runs per median, for "
                           f"every measurement (default: {bench.DOT_REPEATS} for np.dot and "
                           f"the vectorised step, {bench.LOOP_REPEATS} for the loops)")
    vectorize.add_argument("--features", type=whole_number, default=bench.N_X, metavar="N_X",
                           help=f"n_x of the gradient step's problem (default: {bench.N_X})")
    vectorize.add_argument("--examples", type=whole_number, default=bench.M, metavar="M",
                           help=f"m of the gradient step's problem (default: {bench.M})")
    vectorize.add_argument("--json", action="store_true",
                           help="print one JSON object of the figures (times in seconds)")
    vectorize.set_defaults(run=run)


def run(args):
    """``logreg bench``: the notes' vectorisation measurements."""
    import json

    result = bench.vectorize(size=args.size, repeats=args.repeats, n_x=args.features,
                             m=args.examples, progress=lambda what: print(
                                 f"measuring {what} ...", file=sys.stderr, flush=True))
    print(json.dumps(result, indent=2) if args.json else bench.format_vectorize(result))
    return 0
