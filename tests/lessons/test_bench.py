"""`logreg bench vectorize`: the notes' np.dot against a for-loop, and three gradient steps.

Speed depends on the machine, so nothing here asserts that one way is faster: only that the
figures are there, consistent with each other, and that the ways compute the same numbers.
"""

import contextlib
import io
import json
import re
import time

import numpy as np
import pytest

from logreg.lessons import bench
from logreg.apps.cli import main

SMALL = ["bench", "vectorize", "--size", "2000", "--repeats", "2", "--features", "6",
         "--examples", "9"]


from helpers import run_cli as run  # noqa: E402


@pytest.fixture(scope="module")
def figures():
    """The JSON figures of one small run (module-scoped: run once)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(SMALL + ["--json"]) == 0
    return json.loads(out.getvalue())


def test_json_has_the_figures(figures):
    assert figures["benchmark"] == "vectorize"
    assert figures["size"] == 2000
    for part in ("dot", "for_loop"):
        assert set(figures[part]) >= {"seconds", "repeats", "result"}
        assert figures[part]["repeats"] == 2
        assert figures[part]["seconds"] > 0
    step = figures["step"]
    assert (step["n_x"], step["m"]) == (6, 9)
    assert set(step["implementations"]) == {"vectorized", "semi", "loops"}
    for name, entry in step["implementations"].items():
        assert set(entry) >= {"seconds", "repeats", "ratio", "relative_difference"}, name
        assert entry["seconds"] > 0 and entry["repeats"] == 2


def test_loop_sum_equals_dot(figures):
    dot, loop_sum = figures["dot"]["result"], figures["for_loop"]["result"]
    assert loop_sum == pytest.approx(dot, rel=1e-9)
    assert figures["relative_difference"] == pytest.approx(abs(loop_sum - dot) / abs(dot),
                                                           rel=1e-6, abs=1e-300)
    # the vectors are 2000 draws from U[0, 1): a·b is near 2000/4
    assert 300 < dot < 700


def test_ratio_is_loop_over_dot(figures):
    assert figures["ratio"] == pytest.approx(
        figures["for_loop"]["seconds"] / figures["dot"]["seconds"], rel=1e-12)
    implementations = figures["step"]["implementations"]
    base = implementations["vectorized"]["seconds"]
    for entry in implementations.values():
        assert entry["ratio"] == pytest.approx(entry["seconds"] / base, rel=1e-12)


def test_steps_agree(figures):
    step = figures["step"]
    for entry in step["implementations"].values():
        assert entry["relative_difference"] < 1e-12
    assert step["max_relative_difference"] == max(
        entry["relative_difference"] for entry in step["implementations"].values())


def test_table_for_people(capsys):
    code, out, err = run(SMALL, capsys)
    assert code == 0, err
    assert "2,000 elements" in out
    assert "time (ms)" in out
    rows = {name: re.search(rf"^{re.escape(name)}\s+(\d+\.\d{{3}})\s+(\d+\.\d)\s+(\S+)$", out,
                            re.M) for name in ("np.dot(a, b)", "for i: c += a[i]*b[i]")}
    assert all(rows.values()), out
    # both results shown, and they agree
    c_dot, c_loop = (float(rows[name].group(3)) for name in rows)
    assert c_loop == pytest.approx(c_dot, rel=1e-9)
    for label in ("step_vectorized", "step_semi", "step_loops"):
        assert re.search(rf"^{label} .*\d+\.\d{{3}}\s+\d+\.\d\s+\S+$", out, re.M), out
    assert re.search(r"max relative difference of \(w, b\) (\S+)$", out, re.M)
    # aligned columns: each figure ends at the same place on both rows
    for group in (1, 2, 3):
        assert len({match.end(group) - match.start(0) for match in rows.values()}) == 1


def test_bench_needs_a_benchmark(capsys):
    code, _, err = run(["bench"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("option", ["--size", "--repeats", "--features", "--examples"])
@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_counts_must_be_positive(capsys, option, value):
    code, out, err = run(["bench", "vectorize", option, value], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and option in err


def test_dot_loop_is_the_notes_loop():
    a, b = np.arange(5.0), np.arange(5.0, 10.0)
    assert bench.dot_loop(a, b) == float(np.dot(a, b))
    assert bench.dot_loop(np.array([]), np.array([])) == 0


def test_slow_measurements_say_what_they_measure(monkeypatch):
    monkeypatch.setattr(bench, "ANNOUNCE_AFTER", 0.05)
    said = []
    seconds, result = bench.measure(lambda: time.sleep(0.3) or 42, repeats=1,
                                    what="a nap", progress=said.append)
    assert said == ["a nap"] and result == 42 and seconds >= 0.3


def test_fast_measurements_stay_quiet():
    said = []
    bench.vectorize(size=10, repeats=1, n_x=2, m=3, progress=said.append)
    assert said == []


def test_library_refuses_bad_counts():
    from logreg.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="size"):
        bench.vectorize(size=0)


def test_loops_that_would_run_past_the_limit_are_refused_exactly_there(monkeypatch):
    """Loop iterations per repeat: size (the dot loop) + n_x·m (loops over examples and
    features) + 2m (the loop over examples, and step_loops' own): 10 + 6 + 6 = 22 here. At one
    iteration a second and a 990 s limit, 45 repeats (990) run and 46 (1012) do not."""
    from logreg.errors import InvalidInputError

    monkeypatch.setattr(bench, "LOOP_RATE", 1.0)
    monkeypatch.setattr(bench, "MAX_SECONDS", 990)
    assert bench.vectorize(size=10, repeats=45, n_x=2, m=3)["for_loop"]["repeats"] == 45
    with pytest.raises(InvalidInputError, match=r"46 repeats .* about 1e\+03 Python loop"):
        bench.vectorize(size=10, repeats=46, n_x=2, m=3)


def test_command_refuses_a_billion_repeats_in_one_line(capsys, monkeypatch):
    def nothing_may_run(*args):  # refused before the first array: a run fails the test
        raise AssertionError("the benchmark started")

    monkeypatch.setattr(np.random, "default_rng", nothing_may_run)
    code, out, err = run(["bench", "vectorize", "--repeats", "1000000000"], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "more than an hour" in err and "Traceback" not in err
