"""Pictures people would rather look at than read: learning curves.

Drawn on a ``matplotlib.figure.Figure`` with its own Agg canvas, never through pyplot: pyplot's
backend (a notebook's inline or widget backend, a user's ``matplotlib.use``) is never touched,
and no figure is left open. Every picture is written atomically by ``logreg.core.files.atomic_path``
(temporary file, then rename), in the format its suffix names.

Costs that are not finite (a diverged run) are left out of the line, and said so on the
picture; an empty history draws empty axes that say so. Neither warns.
"""

import math
import warnings
from numbers import Real
from pathlib import Path

import numpy as np

from logreg.errors import InvalidInputError, OutputError
from logreg.core.files import atomic_path, output_path

SIZE, DPI = (6.4, 4.2), 120
DRAWABLE = 1e300  # larger costs are left out of the line: matplotlib's limits overflow
LEGEND_ROWS = 8  # more curves: the legend goes beside the axes, in columns of LEGEND_COLUMN
LEGEND_COLUMN, LEGEND_WIDTH = 20, 1.9  # entries and inches per column beside the axes
MAX_COLUMNS = 4
MAX_NOTES = 3  # more curves that cannot be drawn whole: one note counts them


def learning_curve(costs, path, learning_rate=None, title=None):
    """The exercise's plot: cost J against iterations, written to ``path`` (PNG, SVG, PDF)."""
    path = _picture_path(path)
    costs = _costs(costs, "costs")
    figure, axes = _figure()
    label = title or "Learning curve"
    if learning_rate is not None:
        label += f" (learning rate = {_rate(learning_rate)})"
    axes.plot(np.arange(costs.size), _finite_or_gap(costs), color="tab:blue",
              **_markers(costs))
    _decorate(axes, label, _note(costs))
    _save(figure, path)
    return path


def learning_rate_comparison(curves, path, title="Cost for each learning rate"):
    """The exercise's comparison: one cost curve per learning rate, ``curves`` = {rate: costs}.

    A curve that blows up (a rate too large) would flatten the others: the y-axis stops at
    twice the highest starting cost, the part above is cut off.
    """
    path = _picture_path(path)
    if not isinstance(curves, dict):
        raise InvalidInputError(f"curves are a {type(curves).__name__}; expected a dict "
                                f"{{learning rate: costs}}.")
    curves = {rate: _costs(costs, f"the costs for learning rate {rate!r}")
              for rate, costs in curves.items()}
    figure, axes = _figure()
    for rate, costs in curves.items():
        axes.plot(np.arange(costs.size), _finite_or_gap(costs),
                  label=f"learning rate = {_rate(rate)}", **_markers(costs))
    drawn = [costs[_drawable(costs)] for costs in curves.values() if _drawable(costs).any()]
    if drawn:
        top = 2 * max(costs[0] for costs in drawn)
        if top > 0 and max(costs.max() for costs in drawn) > top:
            axes.set_ylim(bottom=min(0.0, *(costs.min() for costs in drawn)), top=top)
    notes = [f"learning rate {_rate(rate)}: {_note(costs)}" for rate, costs in curves.items()
             if _note(costs)]
    if len(notes) > MAX_NOTES:  # one line, not a paragraph over the picture
        notes = [(f"{len(notes)} of {len(curves)} learning rates have costs that are not "
                  f"finite or beyond ±{DRAWABLE:g} (not drawn)")]
    _decorate(axes, title, "; ".join(notes) or None)
    _legend(figure, axes, len(curves))
    _save(figure, path)
    return path


def _figure():
    """A figure on its own Agg canvas: pyplot and its backend are never involved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _legend(figure, axes, count):
    """The curves' legend: inside the axes for a few, beside them (a wider figure) for many."""
    if count == 0:
        return
    if count <= LEGEND_ROWS:
        axes.legend()
        return
    if count > LEGEND_COLUMN * MAX_COLUMNS:  # a legend wider than any screen names nothing
        axes.set_title(f"{axes.get_title()} ({count} learning rates: too many to name)")
        return
    columns = math.ceil(count / LEGEND_COLUMN)
    figure.set_size_inches(SIZE[0] + LEGEND_WIDTH * columns, SIZE[1])
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                ncols=columns, fontsize="x-small")


def _decorate(axes, title, note):
    axes.set_xlabel("iteration")
    axes.set_ylabel("cost J")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if note:
        axes.text(0.02, 0.02, note, transform=axes.transAxes, ha="left", va="bottom",
                  color="tab:red", fontsize="small", wrap=True)


def _costs(costs, what):
    """``costs`` as a float64 vector; a history that is not a list of numbers is refused."""
    if isinstance(costs, (str, bytes, dict)) or costs is None:
        array = None
    else:
        try:
            array = np.asarray(costs, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            array = None
    if array is None or array.ndim != 1:
        raise InvalidInputError(f"{what} are {_short(costs)} ({type(costs).__name__}); expected "
                                f"a list of numbers, one per iteration.")
    return array


def _drawable(costs):
    """Finite costs within ±1e300: beyond that matplotlib's axis arithmetic overflows."""
    return np.isfinite(costs) & (np.abs(costs) <= DRAWABLE)


def _finite_or_gap(costs):
    """NaN where a cost cannot be drawn: matplotlib leaves a gap there, without a warning."""
    return np.where(_drawable(costs), costs, np.nan)


def _markers(costs):
    """Dots where gaps could leave a cost with no line to either side."""
    return {} if _drawable(costs).all() else {"marker": ".", "markersize": 4}


def _note(costs):
    """What the picture should say about costs it cannot draw, or None."""
    if costs.size == 0:
        return "no costs recorded"
    if not _drawable(costs).any():
        return "no finite cost to draw"
    not_finite = int((~np.isfinite(costs)).sum())
    huge = int((~_drawable(costs)).sum()) - not_finite
    parts = [f"{not_finite} of {costs.size} costs are not finite"] if not_finite else []
    parts += [f"{huge} of {costs.size} are beyond ±{DRAWABLE:g}"] if huge else []
    return "; ".join(parts) + " (not drawn)" if parts else None


def _rate(rate):
    """A learning rate as the title shows it: 0.005, or "auto" as given."""
    if isinstance(rate, Real) and not isinstance(rate, bool) and math.isfinite(rate):
        return f"{rate:g}"
    return _short(rate)


def _short(value, limit=40):
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _picture_path(path):
    """``path`` as a Path whose suffix names a format matplotlib writes, else OutputError."""
    from matplotlib.backend_bases import FigureCanvasBase

    path = output_path(path)
    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix.lower().lstrip(".") not in formats:
        raise OutputError(f"cannot write {path}: its suffix {path.suffix or '(none)'!s} names "
                          f"no picture format; expected one of "
                          f"{', '.join('.' + f for f in sorted(formats))}.")
    return path


def _save(figure, path):
    """Write the figure atomically, in the format its suffix names."""
    with warnings.catch_warnings():
        # decorations too large for any margins (a tall legend, a long note): matplotlib keeps
        # the default layout, which draws them all the same; its warning is not for the user
        warnings.filterwarnings("ignore", "Tight layout not applied", UserWarning)
        figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=Path(path).suffix.lower().lstrip("."))
