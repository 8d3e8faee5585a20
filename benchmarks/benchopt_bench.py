"""benchopt's L2-regularised logistic regression benchmark: ours against scikit-learn's solvers.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/benchopt_bench.py

Runs the benchmark in benchmarks/benchopt/ (the field's "benchmark_logreg_l2", rebuilt from its
description: f(β) = Σ log(1 + exp(−yᵢ xᵢᵀβ)) + (λ/2)‖β‖², λ ∈ {1, 0.01}) with benchopt from
PyPI, in this virtual environment (`python -m benchopt run`, never `--env`: nothing is
installed), once per data set: the simulated sets (200, 500), (1000, 10) and (100000, 400),
a wide one (500, 20000) and a sparse, text-like one. Solvers: scikit-learn's lbfgs, newton-cg,
newton-cholesky and liblinear, and ours (logreg.LogisticRegression, solver="newton" and
"lbfgs"). Then, from benchopt's result files:

- per data set × λ × solver, the time to a relative suboptimality (f − f*)/f* ≤ 1e-6, f* the
  lowest f any solver reached. benchopt times only `Solver.run`: every point of a curve is a
  fresh run from β = 0 capped at that many iterations (0, 1, ..., 5, then 1.2× more each run),
  so a time is read to within 20 %; with repetitions, each point is the median of its runs;
- the ratio of each of ours to the fastest scikit-learn solver (the goal: ≤ 0.4×);
- the picture, suboptimality against time (log–log), one panel per data set × λ
  (benchmarks/benchopt_suboptimality.png);
- the table, benchmarks/RESULTS_benchopt.md, also spliced into benchmarks/RESULTS.md (its
  section replaced; `make bench` copies it in again through run.py's other_results).

``--results FILE.parquet ...`` reads earlier runs instead of running. benchopt runs each solver
until 3 runs in a row improve f by less than 1e-10 of its largest improvement (objective.py),
or until ``--timeout`` seconds (45 by default: the whole run then takes under about 30 min on
2 cores) of its own wall time, every run and evaluation of the curve included, have passed.
Each solver first makes one untimed fit of one iteration (benchopt's warm_up; numba compiles
our kernels on first use). On a machine that other processes share, ``--threads 1`` holds every
library to one thread: two OpenBLAS threads on two busy cores wait on each other, and
scikit-learn's lbfgs, which leaves SciPy's BLAS at its default, can then run 10× slower.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BENCHMARK = HERE / "benchopt"
sys.path.insert(0, str(HERE))
from timing import machine, splice_section  # noqa: E402

TITLE = "On the field's benchmark (benchopt)"
RESULTS_NAME = "RESULTS_benchopt.md"
OBJECTIVE = "L2 Logistic Regression"
TARGET = 1e-6
GOAL = 0.4
# (data set, repetitions): 5 where a run takes milliseconds, 1 where it takes seconds
PLAN = [("simulated[n_samples=200,n_features=500]", 5),
        ("simulated[n_samples=1000,n_features=10]", 5),
        ("simulated[n_samples=100000,n_features=400]", 1),
        ("wide", 1),
        ("sparse", 1)]
LAMBDAS = [1.0, 0.01]
SKLEARN = ["lbfgs", "newton-cg", "newton-cholesky", "liblinear"]
OURS = ["newton", "lbfgs"]
SOLVERS = [f"sklearn[solver={s}]" for s in SKLEARN] + [f"logreg[solver={s}]" for s in OURS]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ------------------------------------------------------------------------------ running benchopt

def benchopt_command(dataset, args, output, repetitions):
    """`python -m benchopt run` on one data set: this interpreter, no plot, no cache (its cache
    keys on the solver files, not on the logreg code they call), no install."""
    command = [sys.executable, "-m", "benchopt", "run", str(BENCHMARK), "--no-plot",
               "--no-display", "--no-cache", "--seed", "0", "-d", dataset,
               "-r", str(repetitions), "--timeout", str(args.timeout),
               "-n", str(args.max_runs), "--output", str(output)]
    for lmbd in args.lmbd:
        command += ["-o", f"{OBJECTIVE}[lmbd={lmbd}]"]
    for solver in args.solver:
        command += ["-s", solver]
    return command


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def child_environment(threads):
    """This environment, with every library held to ``threads`` threads where asked."""
    env = dict(os.environ)
    if threads:
        env.update({name: str(threads) for name in THREAD_VARIABLES})
    return env


def shown(command, threads=None):
    """A command as to type it in the repository's root (with its thread settings)."""
    settings = ["env"] + [f"{name}={threads}" for name in THREAD_VARIABLES] if threads else []
    return shlex.join(settings + [display_path(part) for part in command])


def run_benchopt(command, output, threads=None):
    """Run one benchopt command, printing its headers and each solver's final status (its
    progress bars are left out); returns the statuses and skip reasons, also kept beside its
    result file (``output``) for ``--results``."""
    print("$ " + shown(command, threads), flush=True)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, bufsize=1, env=child_environment(threads))
    state, statuses = {"dataset": None, "objective": None, "solver": None}, {}
    for raw in process.stdout:
        for line in ANSI.sub("", raw).split("\r"):
            progress_line(line.rstrip(), state, statuses)
    if process.wait() != 0:
        raise SystemExit(f"benchopt failed (exit status {process.returncode}); its output is "
                         f"above. Rerun its command to see the error again.")
    status_file(output).write_text(json.dumps([[*key, value] for key, value in statuses.items()]))
    return statuses


def status_file(result_file):
    return Path(result_file).with_suffix(".status.json")


def load_statuses(result_files):
    """The statuses kept beside result files, where they are."""
    statuses = {}
    for path in map(status_file, result_files):
        if path.is_file():
            statuses.update({tuple(key): value for *key, value in json.loads(path.read_text())})
    return statuses


def progress_line(line, state, statuses):
    """One line of benchopt's output: print what says where it is and how a solver ended."""
    text = line.strip()
    if not text or re.search(r"%|initialization", text):  # its progress bars
        return
    if not line.startswith(" ") and "[" in text and ":" not in text:  # a data set
        state["dataset"] = text
    elif line.startswith("  |--") and ":" not in text:  # an objective
        state["objective"] = text[3:]
    elif line.startswith("    |--"):  # a solver: its final status
        solver, _, status = text[3:].partition(": ")
        state["solver"] = solver
        statuses[(state["dataset"], state["objective"], solver)] = {"status": status}
    elif text.startswith("Reason:"):
        key = (state["dataset"], state["objective"], state["solver"])
        statuses.setdefault(key, {})["reason"] = text.split(":", 1)[1].strip()
    print(f"  {line}", flush=True)


# -------------------------------------------------------------------------------------- analysis

def load(paths):
    import pandas as pd

    frame = pd.concat([pd.read_parquet(path) for path in paths], ignore_index=True)
    frame["lmbd"] = frame["p_obj_lmbd"].astype(float)
    return frame


def curves(frame):
    """{(data set, λ): {solver: (iterations, time, f)}}: each point the median over the
    repetitions of the runs capped at that many iterations."""
    out = {}
    for (dataset, lmbd, solver), runs in frame.groupby(["dataset_name", "lmbd", "solver_name"],
                                                       sort=False):
        points = runs.groupby("stop_val")[["time", "objective_value"]].median().sort_index()
        out.setdefault((dataset, lmbd), {})[solver] = (
            points.index.to_numpy(), points["time"].to_numpy(),
            points["objective_value"].to_numpy())
    return out


def best_value(solvers):
    """f*: the lowest objective any solver reached."""
    return min(float(np.min(f)) for _, _, f in solvers.values())


def time_to_target(times, f, f_star, target=TARGET):
    """The time of the run with the fewest iterations whose relative suboptimality is
    ≤ target (None: no run reached it). ``times`` and ``f`` are in the order of iterations."""
    # (f − f*)/f* ≤ target
    reached = np.flatnonzero((f - f_star) / f_star <= target)
    return float(times[reached[0]]) if len(reached) else None


def summarise(frame, statuses=None):
    """One row per data set × λ: f*, each solver's time to 1e-6 (or why none) and the ratios."""
    statuses = statuses or {}
    rows = []
    for (dataset, lmbd), solvers in curves(frame).items():
        f_star = best_value(solvers)
        row = {"dataset": dataset, "lmbd": lmbd, "f_star": f_star, "times": {}, "notes": {}}
        for solver in SOLVERS:
            key = canonical(solver)
            if key in solvers:
                _, times, f = solvers[key]
                row["times"][key] = time_to_target(times, f, f_star)
                if row["times"][key] is None:
                    best = np.min(f - f_star) / f_star
                    row["notes"][key] = f"> {times.max():.3g} s (best {best:.1e})"
            else:
                status = statuses.get((dataset, f"{OBJECTIVE}[lmbd={lmbd}]", key), {})
                row["times"][key] = None
                row["notes"][key] = {"skip": "skipped"}.get(status.get("status"),
                                                            status.get("status", "not run"))
                if "reason" in status:
                    row.setdefault("skipped", {})[key] = status["reason"]
        sklearn = [t for s, t in row["times"].items() if s.startswith("sklearn") and t]
        fastest = row["fastest_sklearn"] = min(sklearn) if sklearn else None
        ours = {s: row["times"][canonical(f"logreg[solver={s}]")] for s in OURS}
        row["ratios"] = {s: t / fastest if t and fastest else None for s, t in ours.items()}
        rows.append(row)
    return rows


def canonical(solver):
    """benchopt's name for a solver: "sklearn[solver=lbfgs]" → "sklearn[lbfgs]"."""
    return re.sub(r"\[solver=([^\]]+)\]", r"[\1]", solver)


def column(solver):
    """"logreg[newton]" → "ours newton", "sklearn[lbfgs]" → "sklearn lbfgs"."""
    return re.sub(r"\[(.*)\]$", r" \1", solver.replace("logreg", "ours"))


def label(dataset):
    """"simulated[n_features=10,n_samples=1000,random_state=27]" → "simulated 1000×10"."""
    name, _, params = dataset.partition("[")
    values = dict(p.split("=") for p in params.rstrip("]").split(",") if "=" in p)
    shape = f"{values.get('n_samples', '?')}×{values.get('n_features', '?')}"
    extra = f", ~{values['nnz_per_row']} nnz/row" if "nnz_per_row" in values else ""
    return f"{name} {shape}{extra}"


# ------------------------------------------------------------------------------------- the table

def seconds(value):
    if value is None:
        return "—"
    return f"{value * 1e3:.3g} ms" if value < 1 else f"{value:.3g} s"


def markdown(rows, description, command, benchopt_commands, picture, notes):
    from benchopt import __version__ as benchopt_version

    header = (["data set", "λ", "f*"] + [column(canonical(s)) for s in SOLVERS]
              + [f"ours {s} / fastest sklearn" for s in OURS]
              + [f"goal ≤ {GOAL}×"])
    if benchopt_commands:
        measured = [
            f"Measured {notes['when']} with benchopt {benchopt_version}, by",
            f"`{command}`",
            f"(one `benchopt run` a data set, {notes['elapsed']:.0f} s in all; threads: "
            f"{notes['threads']}; load average "
            f"{notes['load_before']} before, {notes['load_after']} after). Machine: "
            f"{description}."]
    else:
        measured = [
            f"Read by `{command}` from benchopt result files of {notes['when']} (the machine "
            f"that read them: {description})."]
    lines = ["# Benchmark results: benchopt's L2 logistic regression", ""] + measured + [
        "",
        "f(β) = Σ log(1 + exp(−yᵢ xᵢᵀβ)) + (λ/2)‖β‖², no intercept. Each time: that of the "
        f"run with the fewest iterations whose relative suboptimality (f − f*)/f* ≤ {TARGET:g}, "
        "f* the lowest f any solver reached; benchopt times only `Solver.run`, a fresh fit from "
        "β = 0 capped at that many iterations (the caps grow 1.2× a run: times are read to "
        "within 20 %), the median over the data set's repetitions; one untimed fit of one "
        "iteration comes first (numba compiles our kernels). \"> T s (best s)\": not "
        "reached, T its longest run, s the best suboptimality it reached before the timeout. "
        "Ours: logreg.LogisticRegression(solver, l2=λ, fit_intercept=False, tol=0, "
        "num_iterations=n); scikit-learn's: C = 1/λ, fit_intercept=False, tol=1e-15, "
        "max_iter=n.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in rows:
        cells = [label(row["dataset"]), f"{row['lmbd']:g}", f"{row['f_star']:.6g}"]
        for solver in SOLVERS:
            key = canonical(solver)
            took = row["times"].get(key)
            cells.append(seconds(took) if took is not None else row["notes"].get(key, "—"))
        ratios = row["ratios"]
        cells += [f"{ratios[s]:.2f}×" if ratios[s] is not None else "—" for s in OURS]
        met = [s for s in OURS if ratios[s] is not None and ratios[s] <= GOAL]
        cells.append(f"yes ({', '.join(met)})" if met else "no")
        lines.append("| " + " | ".join(cells) + " |")
    skipped = {}
    for row in rows:
        for solver, reason in row.get("skipped", {}).items():
            skipped.setdefault((solver, reason), []).append(
                f"{label(row['dataset'])}, λ = {row['lmbd']:g}")
    if skipped:
        lines += ["", "Skipped:", ""]
        lines += [f"- {column(solver)} on {'; '.join(where)}: {reason}."
                  for (solver, reason), where in skipped.items()]
    lines += ["", f"Suboptimality against time: `{picture}`.", "",
              "benchopt commands:", ""]
    lines += ([f"    {shown(c, notes.get('thread_count'))}" for c in benchopt_commands]
              or ["    (read from earlier result files)"])
    return "\n".join(lines) + "\n"


def splice(path, text):
    """This benchmark's section into RESULTS.md (``timing.splice_section``)."""
    splice_section(path, TITLE, "benchmarks/benchopt_bench.py", RESULTS_NAME, text)


# ----------------------------------------------------------------------------------- the picture

def picture(frame, path, target=TARGET):
    """Relative suboptimality against time, log–log, a panel per data set × λ; ours thick."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = curves(frame)
    datasets = list(dict.fromkeys(dataset for dataset, _ in panels))
    lambdas = sorted({lmbd for _, lmbd in panels}, reverse=True)
    figure, axes = plt.subplots(len(datasets), len(lambdas), squeeze=False,
                                figsize=(5.5 * len(lambdas), 3.6 * len(datasets)))
    colours = dict(zip([canonical(s) for s in SOLVERS],
                       ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#d62728", "#ff7f0e"]))
    for (dataset, lmbd), solvers in panels.items():
        ax = axes[datasets.index(dataset)][lambdas.index(lmbd)]
        f_star = best_value(solvers)
        for solver, (iterations, times, f) in solvers.items():
            keep = iterations > 0  # the start, β = 0, has no time to speak of
            ours = solver.startswith("logreg")
            ax.plot(times[keep], np.maximum((f[keep] - f_star) / f_star, 1e-16),
                    label=column(solver), color=colours.get(solver),
                    linewidth=2.8 if ours else 1.2, linestyle="-" if ours else "--",
                    marker="o" if ours else ".", markersize=4 if ours else 3,
                    zorder=3 if ours else 2)
        ax.axhline(target, color="grey", linewidth=0.8, linestyle=":")
        ax.set(xscale="log", yscale="log", title=f"{label(dataset)}, λ = {lmbd:g}",
               xlabel="time (s)", ylabel="(f − f*) / f*")
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes.ravel():
        if not ax.has_data():
            ax.set_visible(False)
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# ------------------------------------------------------------------------------------------ main

def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-d", "--dataset", action="append",
                        help="a data set in benchopt's syntax, e.g. 'simulated[n_samples=1000,"
                             "n_features=10]', 'wide', 'sparse' (repeat it; default: "
                             + ", ".join(d for d, _ in PLAN) + ")")
    parser.add_argument("--lmbd", type=float, action="append",
                        help="λ (repeat it; default: 1 and 0.01)")
    parser.add_argument("-s", "--solver", action="append",
                        help="a solver in benchopt's syntax, e.g. 'sklearn[solver=lbfgs]', "
                             "'logreg[solver=newton]', 'logreg' (repeat it; default: all)")
    parser.add_argument("-r", "--repetitions", type=int,
                        help="runs of each curve (default: 5 for the two small simulated sets, "
                             "1 for the others and for data sets not in the default plan)")
    parser.add_argument("--timeout", type=float, default=45,
                        help="seconds a solver may run on one data set × λ, a repetition "
                             "(every run of its curve together; the run under way finishes). "
                             "The default keeps the whole run under about 30 min on 2 cores")
    parser.add_argument("--max-runs", type=int, default=100, help="points a curve, at most")
    parser.add_argument("--threads", type=int,
                        help="hold BLAS, OpenMP and numba to this many threads in every solver "
                             "(default: each library's own). On a machine other processes "
                             "share, 1 keeps OpenBLAS's threads from waiting on each other")
    parser.add_argument("--results", nargs="+", type=Path,
                        help="benchopt result files (.parquet) to read instead of running")
    parser.add_argument("--outputs", type=Path, default=BENCHMARK / "outputs",
                        help="folder for benchopt's result files")
    parser.add_argument("--picture", type=Path, default=HERE / "benchopt_suboptimality.png")
    parser.add_argument("--out", type=Path, default=HERE / RESULTS_NAME)
    parser.add_argument("--results-md", type=Path, default=HERE / "RESULTS.md",
                        help="RESULTS.md to splice the section into")
    args = parser.parse_args(argv)
    # repetitions: as asked, else the plan's for its data sets, else 1
    planned = dict(PLAN)
    args.plan = [(d, args.repetitions or planned.get(d, 1))
                 for d in (args.dataset or list(planned))]
    args.lmbd = args.lmbd or LAMBDAS
    args.solver = args.solver or SOLVERS
    return args


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def main(argv=None):
    args = parse(argv)
    command = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python " + shlex.join(
        ["benchmarks/benchopt_bench.py"] + list(sys.argv[1:] if argv is None else argv))
    description = machine()
    print(f"# {description}", flush=True)
    started, start, load_before = datetime.now(timezone.utc), time.perf_counter(), load_average()
    commands, paths = [], args.results
    if not paths:
        stamp = started.strftime("%Y%m%d-%H%M%S")
        paths = []
        for i, (dataset, repetitions) in enumerate(args.plan):
            paths.append(args.outputs / f"bench-{stamp}-{i}.parquet")
            commands.append(benchopt_command(dataset, args, paths[-1], repetitions))
            print(f"# [{i + 1}/{len(args.plan)}] {dataset}, {repetitions} repetition(s), "
                  f"{time.perf_counter() - start:.0f} s so far", flush=True)
            run_benchopt(commands[-1], paths[-1], args.threads)
    statuses = load_statuses(paths)
    frame = load(paths)
    rows = summarise(frame, statuses)
    for row in rows:
        ratios = ", ".join(f"{s} {r:.2f}×" if r is not None else f"{s} —"
                           for s, r in row["ratios"].items())
        print(f"# {label(row['dataset'])}, λ = {row['lmbd']:g}: fastest scikit-learn "
              f"{seconds(row['fastest_sklearn'])}; ours / it: {ratios}", flush=True)
    picture(frame, args.picture)
    when = (started.strftime("%Y-%m-%d %H:%M UTC") if commands else
            ", ".join(sorted(set(frame["run_date"].astype(str).str[:16].str.replace("T", " ")))))
    threads = (f"{args.threads} ({', '.join(THREAD_VARIABLES)})" if args.threads
               else "each library's own")
    notes = {"when": when, "thread_count": args.threads, "threads": threads,
             "elapsed": time.perf_counter() - start,
             "load_before": f"{load_before:.1f}", "load_after": f"{load_average():.1f}"}
    text = markdown(rows, description, command, commands, display_path(args.picture), notes)
    args.out.write_text(text)
    splice(args.results_md, text)
    print(f"# {notes['elapsed']:.0f} s; written to {args.out}, {args.picture} and "
          f"{args.results_md}", flush=True)
    return 0


def display_path(path):
    """A path as the repository names it, where it lies inside it (else as it is)."""
    if not str(path).startswith("/"):
        return str(path)
    try:
        return str(Path(path).relative_to(HERE.parent))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
