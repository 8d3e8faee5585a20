"""Pictures people would rather look at than read: learning curves (matplotlib, Agg).

Every picture is written atomically (temporary file, then rename) by ``logreg.io.atomic_path``.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from logreg.io import atomic_path  # noqa: E402


def learning_curve(costs, path, learning_rate=None, title=None):
    """The exercise's plot: cost J against iterations, written to ``path`` (PNG or SVG)."""
    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    try:
        axes.plot(range(len(costs)), costs, color="tab:blue")
        axes.set_xlabel("iteration")
        axes.set_ylabel("cost J")
        label = title or "Learning curve"
        if learning_rate is not None:
            label += f" (learning rate = {learning_rate:g})"
        axes.set_title(label)
        axes.grid(alpha=0.3)
        _save(figure, path)
    finally:
        plt.close(figure)
    return path


def learning_rate_comparison(curves, path, title="Cost for each learning rate"):
    """The exercise's comparison: one cost curve per learning rate, ``curves`` = {rate: costs}.

    A curve that blows up (a rate too large) would flatten the others: the y-axis stops at
    twice the highest starting cost, the part above is cut off.
    """
    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    try:
        for rate, costs in curves.items():
            axes.plot(range(len(costs)), costs, label=f"learning rate = {rate:g}")
        starts = [costs[0] for costs in curves.values() if len(costs) and costs[0] < float("inf")]
        highest = max((c for costs in curves.values() for c in costs if c < float("inf")),
                      default=None)
        if starts and highest is not None and highest > 2 * max(starts):
            axes.set_ylim(bottom=0, top=2 * max(starts))
        axes.set_xlabel("iteration")
        axes.set_ylabel("cost J")
        axes.set_title(title)
        axes.legend()
        axes.grid(alpha=0.3)
        _save(figure, path)
    finally:
        plt.close(figure)
    return path


def _save(figure, path):
    """Write the figure atomically, in the format its suffix names."""
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=str(path).rsplit(".", 1)[-1].lower())
