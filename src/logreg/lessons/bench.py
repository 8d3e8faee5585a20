"""The notes' vectorisation demonstration, measured: ``logreg bench vectorize``.

Two parts, as the notes tell it:

1. "Vectorization": c = a·b of two random vectors of 1,000,000 elements, ``np.dot(a, b)``
   against the notes' Python loop ``c += a[i]*b[i]`` (errata: the quoted 1.5 ms against
   400-500 ms belong to 1,000,000 elements, not 10⁹).
2. "Vectorizing Logistic Regression": one gradient-descent step, ``loop.step_loops`` and
   ``loop.step_semi`` against ``loop.step_vectorized``, on a problem small enough for the loops.

Each figure is the median wall time of several runs; each part also checks that the ways agree
(they compute the same numbers, only the speed differs). ``vectorize`` returns plain data (JSON
ready); ``format_vectorize`` turns it into a table for people.
"""

import statistics
import threading
import time

import numpy as np

from logreg.engines import loop
from logreg.core import text
from logreg.core.checks import check_memory
from logreg.errors import InvalidInputError

SIZE = 1_000_000  # the notes' vector length (errata)
DOT_REPEATS, LOOP_REPEATS = 5, 3
N_X, M = 100, 500  # the gradient step's problem: the loops take about a second
LEARNING_RATE = 0.01
ANNOUNCE_AFTER = 1.0  # seconds: a measurement that takes longer says what it is measuring
LOOP_RATE = 1e8  # Python loop iterations a second: generous (CPython does about 1e7)
MAX_SECONDS = 3600  # refuse a benchmark whose loops would run longer than an hour even so
STEPS = (("vectorized", loop.step_vectorized, "step_vectorized (no loop)"),
         ("semi", loop.step_semi, "step_semi (loop over examples)"),
         ("loops", loop.step_loops, "step_loops (loops over examples and features)"))


def dot_loop(a, b):
    """The notes' non-vectorised c = a·b: an explicit Python loop."""
    c = 0
    for i in range(len(a)):
        c += a[i] * b[i]
    return c


def relative_difference(a, b):
    """max|a − b| / max|b| over all entries: how far ``a`` is from ``b``, relative to ``b``."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(np.float64).tiny))


def measure(function, repeats, warmup=0, what=None, progress=None):
    """(median seconds over ``repeats`` calls, the last call's result).

    When the whole measurement runs past ``ANNOUNCE_AFTER`` seconds, ``progress`` is called
    once with ``what``, so a slow measurement says what it is doing.
    """
    timer = None
    if progress is not None and what:
        timer = threading.Timer(ANNOUNCE_AFTER, progress, args=(what,))
        timer.daemon = True
        timer.start()
    try:
        for _ in range(warmup):
            function()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - start)
    finally:
        if timer is not None:
            timer.cancel()
    return statistics.median(times), result


def _check_counts(**counts):
    for name, value in counts.items():
        if value is not None and not (isinstance(value, int) and value >= 1):
            raise InvalidInputError(f"{name.replace('_', '-')} {value!r}; expected a whole "
                                    f"number of at least 1.")


def _check_memory(size, n_x, m):
    """Refuse, before allocating anything, sizes whose arrays do not fit in memory: a and b
    (size float64 each), X (n_x × m float64), and the step's vectors, all alive together."""
    needed = 8 * (2 * size + n_x * m + 4 * (n_x + m))
    check_memory(needed, f"the benchmark with size {size:,} (a and b) and a step on "
                 f"n_x = {n_x:,} features × m = {m:,} examples (X)",
                 "choose a smaller size, features or examples (the defaults: size "
                 f"{SIZE:,}, features {N_X}, examples {M})")


def _check_duration(size, n_x, m, slow):
    """Refuse, before anything runs, loops that would take more than ``MAX_SECONDS`` even at
    ``LOOP_RATE`` iterations a second: ``slow`` times the dot loop (size iterations), the
    loops over examples and features (n_x·m) and the loop over examples (m)."""
    iterations = slow * (size + n_x * m + 2 * m)
    if iterations / LOOP_RATE > MAX_SECONDS:
        raise InvalidInputError(
            f"{slow:,} repeats with size {size:,}, features {n_x:,} and examples {m:,} runs "
            f"about {iterations:.2g} Python loop iterations, more than an hour even at "
            f"{LOOP_RATE:.0e} a second; choose fewer repeats or smaller sizes (the defaults: "
            f"repeats {LOOP_REPEATS} for the loops, size {SIZE:,}).")


def vectorize(size=SIZE, repeats=None, n_x=N_X, m=M, seed=0, progress=None):
    """Run the demonstration; returns a dict of the figures (times in seconds).

    ``repeats`` sets the runs per median for every measurement; by default 5 for the fast ones
    (np.dot, the vectorised step) and 3 for the loops.
    """
    _check_counts(size=size, repeats=repeats, features=n_x, examples=m)
    _check_memory(size, n_x, m)
    fast, slow = (DOT_REPEATS, LOOP_REPEATS) if repeats is None else (repeats, repeats)
    _check_duration(size, n_x, m, slow)
    rng = np.random.default_rng(seed)
    # a = np.random.rand(1000000); b = np.random.rand(1000000)
    a, b = rng.random(size), rng.random(size)
    dot_seconds, c_dot = measure(lambda: np.dot(a, b), fast, warmup=1)
    loop_seconds, c_loop = measure(lambda: dot_loop(a, b), slow, progress=progress,
                                   what=f"the for-loop c += a[i]*b[i] over {size:,} elements, "
                                   f"{slow} times")
    result = {
        "benchmark": "vectorize",
        "size": size,
        "dot": {"seconds": dot_seconds, "repeats": fast, "result": float(c_dot)},
        "for_loop": {"seconds": loop_seconds, "repeats": slow, "result": float(c_loop)},
        "ratio": loop_seconds / dot_seconds,
        "relative_difference": relative_difference(c_loop, c_dot),
        "step": _step(n_x, m, fast, slow, rng, progress),
    }
    return result


def _step(n_x, m, fast, slow, rng, progress):
    """One gradient-descent step three ways: times, ratios to the vectorised one, agreement."""
    X = rng.normal(size=(n_x, m))
    Y = (rng.random((1, m)) < 0.5).astype(np.float64)
    w, b = rng.normal(scale=0.1, size=(n_x, 1)), 0.0
    figures, truth = {}, None
    for name, step, label in STEPS:
        repeats = fast if name == "vectorized" else slow
        seconds, (new_w, new_b, _) = measure(
            lambda: step(w, b, X, Y, LEARNING_RATE), repeats, warmup=int(name == "vectorized"),
            progress=progress, what=f"{label}, n_x = {n_x}, m = {m}, {repeats} times")
        parameters = np.append(np.ravel(new_w), float(new_b))
        if truth is None:
            truth, base = parameters, seconds
        figures[name] = {"seconds": seconds, "repeats": repeats, "ratio": seconds / base,
                         "relative_difference": relative_difference(parameters, truth)}
    return {"n_x": n_x, "m": m, "learning_rate": LEARNING_RATE,
            "implementations": figures,
            "max_relative_difference": max(f["relative_difference"] for f in figures.values())}


def _table(header, rows):
    """Aligned columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = []
    for row in (header, *rows):
        cells = [f"{row[0]:<{widths[0]}}"] + [f"{cell:>{width}}"
                                              for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return lines


def _ms(seconds):
    return f"{seconds * 1000:.3f}"


def format_vectorize(result):
    """The figures of ``vectorize`` as a table for people (times in ms)."""
    dot, for_loop, step = result["dot"], result["for_loop"], result["step"]
    lines = [f"c = a·b, two random vectors of {result['size']:,} elements",
             f"(median of {dot['repeats']} runs for np.dot, {for_loop['repeats']} for the loop)"]
    lines += _table(("", "time (ms)", "× np.dot", "c"), [
        ("np.dot(a, b)", _ms(dot["seconds"]), "1.0", text.fixed(dot['result'], 9)),
        ("for i: c += a[i]*b[i]", _ms(for_loop["seconds"]), f"{result['ratio']:.1f}",
         text.fixed(for_loop['result'], 9))])
    lines.append(f"the two results agree: relative difference "
                 f"{result['relative_difference']:.1e}")
    lines.append("")
    figures = step["implementations"]
    lines.append(f"one gradient-descent step, n_x = {step['n_x']} features, m = {step['m']} "
                 f"examples, learning rate {step['learning_rate']:g}")
    lines.append(f"(median of {figures['vectorized']['repeats']} runs vectorised, "
                 f"{figures['loops']['repeats']} with loops)")
    lines += _table(("", "time (ms)", "× vectorised", "max rel. difference"), [
        (label, _ms(figures[name]["seconds"]), f"{figures[name]['ratio']:.1f}",
         "(reference)" if name == "vectorized"
         else f"{figures[name]['relative_difference']:.1e}")
        for name, _, label in STEPS])
    lines.append(f"the three steps agree: max relative difference of (w, b) "
                 f"{step['max_relative_difference']:.1e}")
    return "\n".join(lines)
