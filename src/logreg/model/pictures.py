"""The pictures of a fitted model on labelled data: scikit-learn's displays
(``RocCurveDisplay``, ``PrecisionRecallDisplay``, ``CalibrationDisplay``,
``ConfusionMatrixDisplay``) drawn on figures with their own Agg canvas, with the figures of
``logreg.model.evaluation`` in their titles and legends, and for image data a grid of every
misclassified image, the exercise's mislabelled-picture cell. ``write_plots`` writes them all
or none (``logreg.core.files.atomic_paths``).

Two classes are the notes' neuron: curves are drawn for the positive class, ``classes[1]``.
K ≥ 3 classes are drawn one-vs-rest, a curve per class, with micro and macro averages.

A figure the data cannot define still has its picture, saying so, so that a folder never
keeps a stale picture from an earlier run. With no misclassified image the grid says "none
misclassified". scikit-learn's displays import ``matplotlib.pyplot`` as a module, but every
figure here is made without it: no pyplot figure is opened and the backend a notebook or a
user chose is left alone.
"""

import math
import textwrap
from pathlib import Path

import numpy as np

from logreg.core import text
from logreg.core.files import atomic_paths
from logreg.errors import InvalidInputError, OutputError
from logreg.model.evaluation import CALIBRATION_BINS, Scores, curve_figure

FORMATS = ("png", "svg")
MAX_PANELS = 100  # the misclassified grid shows at most this many images, then says how many
GRID_COLUMNS = 10
SIZE, DPI = (6.4, 4.8), 120


def picture_names(images=False, format="png"):
    """The file names ``write_plots`` writes, in its order.

    Parameters
    ----------
    images : bool, default=False
        Whether the data are images (then the misclassified grid is written too).
    format : {"png", "svg"}, default="png"
        The pictures' format.

    Returns
    -------
    list of str
    """
    _check_format(format)
    stems = ["roc", "precision_recall", "calibration", "confusion_matrix"]
    return [f"{stem}.{format}" for stem in stems + (["misclassified"] if images else [])]


def write_plots(estimator, X, y, directory, images=None, *, format="png",
                n_bins=CALIBRATION_BINS, max_panels=MAX_PANELS):
    """Draw the evaluation pictures and write them into ``directory``, all or none.

    Parameters
    ----------
    estimator : logreg.LogisticRegression
        A fitted estimator.
    X : array-like or SciPy sparse matrix of shape (m, n_features)
        The examples, one per row, scaled as the estimator's training data were.
    y : array-like of shape (m,)
        The true labels, each one of ``estimator.classes_``.
    directory : str or pathlib.Path
        The folder to write into; created if missing. A picture already there is replaced.
    images : array-like of shape (m, height, width[, channels]), optional
        The examples as pictures (uint8, or floats in [0, 1] or [0, 255]); when given,
        ``misclassified.<format>`` shows every misclassified one.
    format : {"png", "svg"}, default="png"
        The pictures' format.
    n_bins : int, default=10
        Bins of the calibration (reliability) diagram.
    max_panels : int, default=100
        The most images in one picture of misclassified images; more go on further pages,
        ``misclassified-2``, ``misclassified-3``, ...

    Returns
    -------
    list of pathlib.Path
        The files written: ``roc``, ``precision_recall``, ``calibration``,
        ``confusion_matrix`` and, with ``images``, ``misclassified`` (and its further pages).
    """
    names = picture_names(images is not None, format)
    folder = plots_folder(directory)
    scores = Scores(estimator, X, y)
    figures = [_roc_figure(scores), _precision_recall_figure(scores),
               _calibration_figure(scores, n_bins), _confusion_matrix_figure(scores)]
    if images is not None:
        images = _images(images, scores.m)
        wrong = np.flatnonzero(scores.y_pred != scores.y)
        per_page = max(int(max_panels), 1)
        pages = [wrong[i:i + per_page] for i in range(0, wrong.size, per_page)] or [wrong]
        for number, page in enumerate(pages, start=1):
            if number > 1:  # every misclassified image: misclassified-2.png, -3.png, ...
                names.append(f"misclassified-{number}.{format}")
            first = (number - 1) * per_page + 1
            shown = (f"page {number} of {len(pages)}: {first}–{first + page.size - 1}"
                     if len(pages) > 1 else None)
            figures.append(misclassified_grid(
                images[page], [scores.names[k] for k in scores.y[page]],
                [scores.names[k] for k in scores.y_pred[page]],
                scores.P[page, scores.y_pred[page]], total=scores.m,
                misclassified=wrong.size, page=shown, limit=per_page))
    paths = [folder / name for name in names]
    with atomic_paths(*paths, elsewhere="another folder") as temporaries:
        for figure, temporary in zip(figures, temporaries):
            figure.savefig(temporary, format=format)
    _remove_stale_pages(folder, len(paths) - 4, format)
    return paths


def _remove_stale_pages(folder, pages, format):
    """Pages of the misclassified images left by an earlier run with more mistakes: gone, so
    the folder shows this evaluation only."""
    number = max(pages, 1) + 1
    while (folder / f"misclassified-{number}.{format}").is_file():
        (folder / f"misclassified-{number}.{format}").unlink()
        number += 1


def _check_format(format):
    """Refuse a format other than ``FORMATS``."""
    if format not in FORMATS:
        raise InvalidInputError(f"format {format!r:.40}; expected one of {', '.join(FORMATS)}.")


def plots_folder(directory):
    """The folder for the pictures, created if missing.

    Parameters
    ----------
    directory : str or pathlib.Path
        The folder ``write_plots`` writes into.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    logreg.errors.OutputError
        Where ``directory`` is a file or cannot be created.
    """
    if not isinstance(directory, (str, Path)) or not str(directory):
        raise OutputError(f"the pictures' folder is {directory!r:.80}; expected a folder path.")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file; expected a folder for the pictures. Choose "
                          f"another folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the folder {folder} ({error.strerror or error}); "
                          f"choose another folder.") from None
    return folder


def _images(images, m):
    """The pictures as an array (m, h, w[, c]) that imshow draws: uint8, or floats in [0, 1]."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or images.shape[0] != m or images.size == 0:
        raise InvalidInputError(f"images have shape {images.shape}; expected one picture per "
                                f"example, shape ({m}, height, width) or ({m}, height, width, "
                                f"channels).")
    if images.ndim == 4 and images.shape[3] == 1:
        images = images[..., 0]
    if images.dtype == np.uint8:
        return images
    images = images.astype(np.float64)
    if np.isfinite(images).all() and images.max(initial=0.0) > 1:
        images = images / 255
    return np.clip(np.nan_to_num(images), 0.0, 1.0)


def _figure(size=SIZE):
    """A figure on its own Agg canvas: pyplot and its backend are never involved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _note(axes, text):
    """``text`` in red, in the middle of ``axes``."""
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center",
              color="tab:red", wrap=True)


def _legend(figure, axes, count):
    """The curves' legend: in the axes for a few, beside them for many."""
    legend = axes.get_legend()
    if legend is not None:
        legend.remove()  # the display's own, inside the axes
    if count <= 6:
        axes.legend(loc="lower right", fontsize="small")
    else:
        figure.set_size_inches(SIZE[0] + 1.2, figure.get_size_inches()[1])
        figure.legend(*axes.get_legend_handles_labels(), loc="outside right center",
                      fontsize="x-small")


def _name_curve(drawing, name, label, figure):
    """The curve's legend entry with the figure ``evaluate`` computed, in the title's format
    (the display's own label rounds its own AUC to two decimals)."""
    drawing.line_.set_label(f"{name} ({label} = {text.fixed(figure, 4)})")


def _roc_figure(scores):
    """The ROC curve with its AUC (K classes: one-vs-rest per class and the micro average)."""
    from sklearn.metrics import RocCurveDisplay

    return _curves(scores, "roc_auc", RocCurveDisplay, "ROC curve")


def _precision_recall_figure(scores):
    """The precision-recall curve with its average precision (K classes: one-vs-rest)."""
    from sklearn.metrics import PrecisionRecallDisplay

    return _curves(scores, "average_precision", PrecisionRecallDisplay,
                   "Precision-recall curve")


def _curves(scores, which, display, title):
    """The figure of ROC or precision-recall curves (``display``), with ``evaluate``'s
    figures in the legend and the title, and why a curve is missing."""
    figure = _figure()
    axes = figure.add_subplot()
    notes = []
    value = curve_figure(scores, which, notes)
    label = "AUC" if which == "roc_auc" else "AP"
    x_label, y_label = (("false positive rate", "true positive rate") if which == "roc_auc"
                        else ("recall", "precision"))
    drawn = 0
    for k, figure_k in zip(scores.drawn_classes(), [value] if scores.K == 2
                           else value["per_class"]):
        if figure_k is None:  # undefined on these data (the note says why)
            continue
        name = scores.names[k] if scores.K == 2 else f"{scores.names[k]} vs rest"
        drawing = display.from_predictions(scores.is_class(k), scores.ranking[:, k],
                                           pos_label=True, name=name, ax=axes)
        _name_curve(drawing, name, label, figure_k)
        drawn += 1
    if scores.K > 2 and drawn:
        one_hot = np.eye(scores.K, dtype=bool)[scores.y]
        drawing = display.from_predictions(one_hot.ravel(), scores.ranking.ravel(),
                                           pos_label=True, name="micro-average", ax=axes,
                                           curve_kwargs={"color": "black", "linestyle": ":"})
        _name_curve(drawing, "micro-average", label, value["micro"])
        drawn += 1
        macro = "undefined" if value["macro"] is None else text.fixed(value["macro"], 4)
        title += (f", one-vs-rest\nmacro {label} = {macro}, micro {label} = "
                  f"{text.fixed(value['micro'], 4)}")
    elif scores.K == 2:
        shown = "undefined" if value is None else text.fixed(value, 4)
        title += f", positive class {scores.names[1]}: {label} = {shown}"
    axes.set_title(title, fontsize="medium")
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    if drawn:
        _legend(figure, axes, drawn)
    if notes:  # wrapped inside the axes: a long line would squeeze the curves
        wrapped = "\n".join(textwrap.fill(note, 60) for note in notes)
        if drawn:
            axes.text(0.97, 0.45, wrapped, transform=axes.transAxes, ha="right", va="center",
                      color="tab:red", fontsize="x-small",
                      bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        else:
            _note(axes, wrapped)
    return figure


def _calibration_figure(scores, n_bins=CALIBRATION_BINS):
    """The reliability diagram (scikit-learn's CalibrationDisplay) with the histogram of the
    predicted probabilities; K classes: one-vs-rest, a small diagram per class."""
    from matplotlib.ticker import NullFormatter

    if scores.K == 2:
        figure = _figure((SIZE[0], SIZE[1] * 1.4))
        curve, histogram = figure.subplots(2, 1, height_ratios=[2, 1])
        _reliability(curve, histogram, scores, 1, n_bins)
        curve.set_title(f"Calibration (reliability diagram), positive class "
                        f"{scores.names[1]}", fontsize="medium")
        curve.legend(loc="upper left", fontsize="small")
        return figure
    columns = min(scores.K, 5)
    rows = math.ceil(scores.K / columns)
    figure = _figure((2.6 * columns, 3.2 * rows + 0.5))
    figure.suptitle("Calibration (reliability diagrams), one-vs-rest", fontsize="medium")
    panels = figure.add_gridspec(rows, columns)
    for k in range(scores.K):
        cell = panels[k // columns, k % columns].subgridspec(2, 1, height_ratios=[2, 1],
                                                             hspace=0)
        curve = figure.add_subplot(cell[0])
        histogram = figure.add_subplot(cell[1], sharex=curve)
        _reliability(curve, histogram, scores, k, n_bins)
        curve.set_title(f"{scores.names[k]} vs rest", fontsize="small")
        curve.get_legend().remove()
        curve.tick_params(labelbottom=False, labelsize="x-small")
        histogram.set_yscale("log")
        histogram.yaxis.set_minor_formatter(NullFormatter())  # decades only: no clutter
        histogram.tick_params(which="both", labelsize="x-small")
        for axes in (curve, histogram):
            axes.set_xlabel("")
            axes.set_ylabel("")
        if k % columns == 0:
            curve.set_ylabel("fraction of positives", fontsize="x-small")
            histogram.set_ylabel("examples", fontsize="x-small")
        if k // columns == rows - 1 or k + columns >= scores.K:
            histogram.set_xlabel("predicted probability", fontsize="x-small")
    return figure


def _reliability(curve, histogram, scores, k, n_bins):
    """Class k's reliability curve over the histogram of its predicted probabilities."""
    from sklearn.calibration import CalibrationDisplay

    if scores.is_class(k).any():  # no positive: no curve, the histogram still says much
        CalibrationDisplay.from_predictions(scores.is_class(k), scores.P[:, k], n_bins=n_bins,
                                            pos_label=True, name=scores.names[k], ax=curve)
    else:
        curve.plot([0, 1], [0, 1], "k:", label="Perfectly calibrated")
        curve.text(0.5, 0.9, "no example of this class", transform=curve.transAxes,
                   ha="center", color="tab:red", fontsize="x-small")
        curve.legend()
    curve.set_xlabel("mean predicted probability")
    curve.set_ylabel("fraction of positives")
    histogram.hist(scores.P[:, k], bins=n_bins, range=(0, 1), color="tab:blue", alpha=0.6)
    histogram.set_xlim(-0.02, 1.02)
    histogram.set_xlabel("predicted probability")
    histogram.set_ylabel("examples")


def _confusion_matrix_figure(scores):
    """The K×K confusion matrix (scikit-learn's ConfusionMatrixDisplay): rows true class,
    columns predicted class, in the model's order of classes."""
    from sklearn.metrics import ConfusionMatrixDisplay

    figure = _figure()
    axes = figure.add_subplot()
    ConfusionMatrixDisplay.from_predictions(scores.y, scores.y_pred,
                                            labels=list(range(scores.K)),
                                            display_labels=scores.names, ax=axes,
                                            colorbar=True)
    accuracy = 100 * float(np.mean(scores.y == scores.y_pred))
    axes.set_title(f"Confusion matrix ({scores.m} examples, {accuracy:.1f} % right)",
                   fontsize="medium")
    return figure


def misclassified_grid(images, true_labels, predicted_labels, probabilities, *, total=None,
                       limit=MAX_PANELS, misclassified=None, page=None):
    """A grid of misclassified images, each titled with its true label and the predicted
    probability of the predicted class (the exercise's mislabelled-picture cell, for all).

    Parameters
    ----------
    images : array-like of shape (n, height, width[, channels])
        The misclassified images (uint8, or floats in [0, 1]).
    true_labels, predicted_labels : sequence of str
        Each image's true and predicted class.
    probabilities : array-like of shape (n,)
        The predicted probability of each image's predicted class.
    total : int, optional
        How many examples were evaluated, for the title.
    limit : int, default=100
        The most images shown; the title says how many were left out.
    misclassified : int, optional
        How many examples are misclassified in all, where these are one page of them.
    page : str, optional
        Which page this is (e.g. "page 2 of 3: mistakes 101–200"), for the title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel (axes with the image) per image shown; with no image, one empty panel
        that says "none misclassified".
    """
    count = len(true_labels)
    if not len(images) == len(predicted_labels) == len(probabilities) == count:
        raise InvalidInputError("images, true labels, predicted labels and probabilities "
                                "differ in number; expected one of each per image.")
    of = f" of {total}" if total is not None else ""
    if count == 0:
        figure = _figure((4, 2))
        axes = figure.add_subplot()
        axes.set_axis_off()
        _note(axes, f"none misclassified (0{of} examples)")
        return figure
    shown = min(count, max(int(limit), 1))
    columns = min(GRID_COLUMNS, shown)
    rows = math.ceil(shown / columns)
    figure = _figure((1.25 * columns + 0.4, 1.5 * rows + 0.6))
    title = f"Misclassified: {misclassified or count}{of} examples"
    if page is not None:
        title += f" ({page})"
    elif shown < count:
        title += f" (the first {shown} shown, {count - shown} left out)"
    figure.suptitle(title, fontsize="medium")
    grid = figure.subplots(rows, columns, squeeze=False)
    for i, axes in enumerate(grid.flat):
        axes.set_axis_off()
        if i >= shown:
            continue
        image = _displayable(np.asarray(images[i]))
        if image.ndim == 2 or image.shape[-1] == 1:  # one channel: gray, 0 black
            axes.imshow(image.reshape(image.shape[:2]), cmap="gray", interpolation="nearest",
                        vmin=0, vmax=255 if image.dtype == np.uint8 else 1)
        else:
            axes.imshow(image, interpolation="nearest")
        axes.set_title(f"true: {true_labels[i]:.12}\nP({predicted_labels[i]:.12}) = "
                       f"{probabilities[i]:.2f}", fontsize="x-small")
    return figure


def _displayable(image):
    """uint8 as it is; floats in [0, 1] as they are; other floats (pixel values 0..255 kept
    as floats, as an image rebuilt from a column of X) on 0..255, or their own range."""
    if image.dtype == np.uint8 or image.size == 0:
        return image
    image = np.nan_to_num(image.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(image.min()), float(image.max())
    if low >= 0.0 and high <= 1.0:
        return image
    if low >= 0.0 and high <= 255.0:
        return image / 255.0
    return (image - low) / (high - low) if high > low else np.zeros_like(image)
