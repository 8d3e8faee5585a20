"""Pictures: drawn without pyplot (a notebook's backend stays its own), written atomically,
and never a warning for costs that are empty, NaN or infinite."""

import json
import os
import re
import stat
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logreg.errors import InvalidInputError, OutputError
from logreg.model.plots import learning_curve, learning_rate_comparison

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_python(code, **env):
    """Run ``code`` in a fresh interpreter; its last stdout line, parsed as JSON."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("chosen", ["pdf", "svg", "module://matplotlib_inline.backend_inline"])
def test_drawing_keeps_the_users_backend(tmp_path, chosen):
    """A notebook user has chosen a backend; importing logreg and drawing leave it alone."""
    if chosen.startswith("module://"):
        pytest.importorskip("matplotlib_inline")
    result = run_python(f"""
import json, sys, matplotlib
matplotlib.use({chosen!r})
import logreg, logreg.apps.cli, logreg.model.plots
logreg.model.plots.learning_curve([0.7, 0.5, 0.4], {str(tmp_path / 'c.png')!r}, 0.01)
logreg.model.plots.learning_rate_comparison({{0.1: [0.7, 0.3]}}, {str(tmp_path / 'r.svg')!r})
print(json.dumps([matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules]))
""")
    assert result == [chosen, False]
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "r.svg").read_text().lstrip().startswith("<?xml")


def test_drawing_keeps_the_backend_from_the_environment(tmp_path):
    result = run_python(f"""
import json, matplotlib, logreg.model.plots
logreg.model.plots.learning_curve([0.7, 0.5], {str(tmp_path / 'c.png')!r})
print(json.dumps(matplotlib.get_backend()))
""", MPLBACKEND="svg")
    assert result == "svg"


def test_drawing_with_pyplot_already_in_use_leaves_its_figures(tmp_path):
    """A user's open pyplot figure is not closed, replaced or drawn on."""
    result = run_python(f"""
import json, matplotlib
matplotlib.use("agg")
import matplotlib.pyplot as plt
figure = plt.figure()
plt.plot([1, 2, 3])
import logreg.model.plots
logreg.model.plots.learning_curve([0.7, 0.5], {str(tmp_path / 'c.png')!r})
print(json.dumps([plt.get_fignums(), plt.gcf() is figure, len(figure.axes[0].lines)]))
""")
    assert result == [[1], True, 1]


def drawn_points(svg_text):
    """The vertices of the first data line in an SVG written by matplotlib: [(x, y), ...],
    with None between pieces (a gap in the line)."""
    match = re.search(r'<g id="line2d_\d+">\s*<path d="([^"]*)"[^>]*stroke: #1f77b4', svg_text)
    points = []
    for command, x, y in re.findall(r"([ML]) ([-\d.]+) ([-\d.]+)", match.group(1)):
        if command == "M" and points:
            points.append(None)
        points.append((float(x), float(y)))
    return points


def test_the_line_goes_through_the_costs(tmp_path):
    """The picture, read back: one vertex per cost, x evenly spaced, y in the costs' order."""
    costs = [0.7, 0.5, 0.45, 0.2]
    path = learning_curve(costs, tmp_path / "c.svg", 0.01)
    points = drawn_points(path.read_text())
    assert len(points) == 4
    xs, ys = np.array(points).T
    assert np.allclose(np.diff(xs), np.diff(xs)[0])
    # SVG's y grows downwards: the pixel heights are an affine image of the costs
    slope, intercept = np.polyfit(costs, ys, 1)
    assert slope < 0 and np.allclose(slope * np.array(costs) + intercept, ys, atol=1e-3)


@pytest.mark.parametrize("costs, runs, note", [
    ([0.7, float("nan"), 0.5, float("inf"), 0.3], [1, 1, 1],
     "2 of 5 costs are not finite (not drawn)"),
    ([0.7, 0.6, float("-inf"), 0.5, 0.4], [2, 2], "1 of 5 costs are not finite"),
    ([float("nan")] * 3, None, "no finite cost to draw"),
    ([], None, "no costs recorded"),
], ids=["nan-and-inf", "minus-inf", "all-nan", "empty"])
def test_costs_that_cannot_be_drawn_leave_gaps_and_say_so(tmp_path, costs, runs, note):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = learning_curve(costs, tmp_path / "c.svg", 0.01)
    text = path.read_text()
    assert f"<!-- {note}" in text  # matplotlib writes each text as a comment beside its glyphs
    if runs is not None:  # the finite stretches, drawn as separate pieces of the line
        pieces, length = [], 0
        for point in drawn_points(text):
            if point is None:
                pieces, length = pieces + [length], 0
            else:
                length += 1
        assert pieces + [length] == runs


def test_no_warning_for_any_curve_to_png(tmp_path):
    curves = [[], [0.5], [0.5] * 3, [np.nan], [np.inf, -np.inf], [1e308, -1e308, 0.0],
              [1.7e308, 0.5], [1e-320, 0.0], list(np.linspace(1, 0, 10_000))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i, costs in enumerate(curves):
            path = learning_curve(costs, tmp_path / f"c{i}.png", learning_rate=0.01)
            assert path.read_bytes().startswith(PNG_MAGIC)
        learning_rate_comparison({0.01: [0.69, 40.0, np.inf, np.nan], 0.001: [], 1e-4: [0.0, 0.0],
                                  5.0: [np.nan]}, tmp_path / "r.png")


def test_comparison_cuts_a_blown_up_curve(tmp_path):
    """The y-axis stops at twice the highest starting cost, as the docstring promises."""
    path = learning_rate_comparison({0.01: [0.69, 0.5, 0.4], 5.0: [0.69, 40.0, np.inf]},
                                    tmp_path / "r.svg")
    ticks = [float(t) for t in re.findall(r'<g id="ytick_\d+">.*?<!-- (-?[\d.]+) -->',
                                          path.read_text(), re.S)]
    assert max(ticks) <= 2 * 0.69 + 1e-9 and max(ticks) > 1.0


@pytest.mark.parametrize("rate, shown", [(0.005, "0.005"), ("auto", "auto"), (None, None),
                                         (np.float32(0.5), "0.5")])
def test_title_names_the_learning_rate(tmp_path, rate, shown):
    text = learning_curve([0.7, 0.5], tmp_path / "c.svg", rate).read_text()
    if shown is None:
        assert "<!-- Learning curve -->" in text
    else:
        assert f"<!-- Learning curve (learning rate = {shown}) -->" in text


@pytest.mark.parametrize("costs", ["abc", None, 5, [[0.5, 0.4]], ["x", 1.0], {"a": 1.0},
                                   [1 + 2j]], ids=["str", "None", "int", "nested", "words",
                                                   "dict", "complex"])
def test_costs_that_are_not_numbers_are_refused(tmp_path, costs):
    with pytest.raises(InvalidInputError, match="expected a list of numbers"):
        learning_curve(costs, tmp_path / "c.png")
    with pytest.raises(InvalidInputError, match="expected a list of numbers"):
        learning_rate_comparison({0.1: costs}, tmp_path / "r.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["c.xyz", "c", "c.safetensors"])
def test_a_suffix_that_names_no_picture_format_is_refused(tmp_path, name):
    with pytest.raises(OutputError, match=r"\.png") as caught:
        learning_curve([0.7, 0.5], tmp_path / name)
    assert name in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_places_are_output_errors(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        learning_curve([0.5], tmp_path / "absent" / "c.png")
    (tmp_path / "c.png").mkdir()
    with pytest.raises(OutputError, match="folder"):
        learning_curve([0.5], tmp_path / "c.png")
    with pytest.raises(OutputError, match="123"):
        learning_curve([0.5], 123)


@pytest.mark.parametrize("suffix, magic", [(".png", PNG_MAGIC), (".svg", b"<?xml"),
                                           (".pdf", b"%PDF"), (".PNG", PNG_MAGIC)])
def test_the_suffix_picks_the_format(tmp_path, suffix, magic):
    path = learning_curve([0.7, 0.5], tmp_path / f"c{suffix}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"c{suffix}"]


def test_pictures_get_the_mode_of_an_ordinary_write(tmp_path):
    old = os.umask(0o027)
    try:
        learning_curve([0.7, 0.5], tmp_path / "c.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c.png").stat().st_mode) == 0o640
    os.chmod(tmp_path / "c.png", 0o604)
    learning_curve([0.6, 0.5], tmp_path / "c.png")  # a rewrite keeps the file's mode
    assert stat.S_IMODE((tmp_path / "c.png").stat().st_mode) == 0o604


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(costs=st.lists(st.floats(allow_nan=True, allow_infinity=True)
                      | st.floats(-1e-300, 1e-300) | st.sampled_from([0.0, 1e308, -1e308]),
                      max_size=40),
       rate=st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.just("auto"))
def test_any_list_of_floats_draws_without_a_warning(tmp_path, costs, rate):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = learning_curve(costs, tmp_path / "c.png", rate)
        learning_rate_comparison({0.1: costs, 0.01: costs[::-1]}, tmp_path / "r.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "r.png"]


# --- many curves, tall decorations: matplotlib's layout warnings never reach the user --------


def png_size(path):
    """(width, height) in pixels, read from the PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_forty_learning_rates_draw_without_a_warning_and_name_every_rate(tmp_path):
    """`logreg rates --rates 1 2 … 40` printed "warning: Tight layout not applied"."""
    curves = {rate: np.linspace(0.7, rate / 400, 20) for rate in range(1, 41)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = learning_rate_comparison(curves, tmp_path / "r.svg").read_text()
        path = learning_rate_comparison(curves, tmp_path / "r.png")
    assert all(f"<!-- learning rate = {rate} -->" in text for rate in range(1, 41))
    few = learning_rate_comparison({0.1: [0.7, 0.5]}, tmp_path / "few.png")
    # two columns of 20 beside the axes: a wider picture, the same height
    assert png_size(path)[0] > png_size(few)[0] and png_size(path)[1] == png_size(few)[1]


def test_many_curves_that_cannot_be_drawn_get_one_note(tmp_path):
    curves = {rate: [0.7, np.inf, np.nan] for rate in range(1, 41)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = learning_rate_comparison(curves, tmp_path / "r.svg").read_text()
    assert "<!-- 40 of 40 learning rates have costs that are not finite or beyond ±1e+300 " \
           "(not drawn) -->" in text
    assert "learning rate 1: " not in text


def test_more_curves_than_a_legend_can_name_say_so(tmp_path):
    curves = {rate / 1000: [0.7, 0.6 - rate / 1e4] for rate in range(1, 101)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = learning_rate_comparison(curves, tmp_path / "r.svg")
    text = path.read_text()
    assert "(100 learning rates: too many to name)" in text
    assert "learning rate = 0.001" not in text


def test_decorations_taller_than_the_figure_draw_without_a_warning(tmp_path):
    """A title of 40 lines: no layout fits it; the picture is written all the same."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = learning_curve([0.7, 0.5], tmp_path / "c.png", title="\n".join(["line"] * 40))
    assert png_size(path) == (round(6.4 * 120), round(4.2 * 120))


def test_the_rates_command_with_forty_rates_prints_no_warning(tmp_path, capsys):
    from helpers import run_cli

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    (tmp_path / "t.csv").write_text("a,b,label\n" + "".join(
        f"{a},{b},{int(a + b > 0)}\n" for a, b in X))
    code, _, err = run_cli(["rates", "--data", tmp_path / "t.csv", "--iterations", "5",
                            "--test-size", "0", "--out", tmp_path / "r.png", "--rates",
                            *map(str, range(1, 41))], capsys)
    assert code == 0, err
    assert "warning" not in err.lower() and "Traceback" not in err
    assert (tmp_path / "r.png").read_bytes().startswith(PNG_MAGIC)


def test_a_fifo_picture_target_is_refused_and_kept(tmp_path, capsys):
    """`rates --out pipe.png` / learning_curve(costs, "pipe.png"): before, the FIFO was
    replaced by a regular file."""
    from helpers import run_cli

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for draw in (lambda: learning_curve([0.7, 0.5], fifo),
                 lambda: learning_rate_comparison({0.1: [0.7, 0.5]}, fifo)):
        with pytest.raises(OutputError, match="it is a FIFO \\(named pipe\\), not a regular file"):
            draw()
    code, _, err = run_cli(["rates", "--rates", "0.1", "--iterations", "2", "--out", fifo],
                           capsys)
    assert code == 2 and err.count("\n") == 1 and "FIFO" in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["pipe.png"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
