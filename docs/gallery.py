"""The gallery: every picture logreg makes, each with the exact command that makes it.

``GALLERY`` is the one table. At build time (Sphinx's ``builder-inited``) each command runs, in
order, in an empty folder of the build tree (``docs/_build/gallery``, never committed), exactly
as the page prints it; the ``logreg-gallery`` directive then shows each picture under its
command. ``BENCHMARKS`` are the committed benchmark pictures, shown as they are (their runs take
minutes), with the command that made them; each command is checked against the results file
that records it.

Run alone, it makes the pictures and lists them::

    python docs/gallery.py [FOLDER]        # default: docs/_build/gallery
"""

import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
DEFAULT_FOLDER = DOCS / "_build" / "gallery"
TIMEOUT_S = 300


@dataclass
class Entry:
    """One command of the gallery and the pictures it writes (relative to its folder)."""

    title: str
    command: str
    pictures: tuple
    about: str
    fallbacks: dict = field(default_factory=dict)  # picture -> what is written without a tool


GALLERY = [
    Entry("Learning curve", "logreg train --out train", ("train/learning_curve.png",),
          "The cost J at every iteration of gradient descent on the built-in digits (3 "
          "against 8), with the exercise's learning rate 0.005."),
    Entry("Learning curve, ten classes", "logreg train --data digits10 --out train10",
          ("train10/learning_curve.png",),
          "The same for all ten digits: a softmax layer W (n_x, 10) instead of one neuron."),
    Entry("Computation graph",
          'logreg graph "u = b*c; v = a + u; J = 3*v" a=5 b=3 c=2 -o graph.svg',
          ("graph.svg",),
          "The notes' computation graph J = 3(a + bc): each box a value with its dJ/dvar, each "
          "ellipse an operation.",
          fallbacks={"graph.svg": "graph.dot"}),
    Entry("Learning rates", "logreg rates --out learning_rates.png", ("learning_rates.png",),
          "The exercise's comparison of learning rates 0.01, 0.001 and 0.0001: the cost curves "
          "and each rate's accuracies."),
    Entry("Evaluation pictures",
          "logreg evaluate train/model.safetensors --data digits --plots evaluate",
          ("evaluate/roc.png", "evaluate/precision_recall.png", "evaluate/calibration.png",
           "evaluate/confusion_matrix.png", "evaluate/misclassified.png"),
          "The model trained above, on the held-out part of its data: the ROC curve with its "
          "AUC, the precision-recall curve, the calibration diagram, the confusion matrix and "
          "every misclassified image with its true label and predicted probability."),
    Entry("Evaluation pictures, ten classes",
          "logreg evaluate train10/model.safetensors --data digits10 --plots evaluate10",
          ("evaluate10/roc.png", "evaluate10/precision_recall.png",
           "evaluate10/calibration.png", "evaluate10/confusion_matrix.png",
           "evaluate10/misclassified.png"),
          "For K classes the curves are one-vs-rest, one per class."),
]


@dataclass
class Benchmark:
    """A committed benchmark picture and the command, recorded in ``results``, that made it."""

    title: str
    picture: str
    command: str
    results: str
    about: str


BENCHMARKS = [
    Benchmark("Suboptimality against time (benchopt)", "benchmarks/benchopt_suboptimality.png",
              "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python "
              "benchmarks/benchopt_bench.py",
              "benchmarks/RESULTS_benchopt.md",
              "The field's L2 logistic regression benchmark: logreg's solvers against "
              "scikit-learn's on five data sets. Not re-run at build time (12 minutes)."),
]


@dataclass
class Result:
    """What one gallery command did: its pictures found, or why it failed."""

    entry: Entry
    seconds: float = 0.0
    found: list = field(default_factory=list)  # (picture as listed, path written)
    missing: list = field(default_factory=list)
    failed: str = ""


def run_entry(entry, folder):
    """Run one entry's command in ``folder``, exactly as printed, and find its pictures."""
    argv = shlex.split(entry.command)
    assert argv[0] == "logreg", entry.command
    env = dict(os.environ, MPLBACKEND="Agg")
    tic = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "logreg", *argv[1:]], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    result = Result(entry, seconds=time.perf_counter() - tic)
    if done.returncode != 0:
        result.failed = (f"exit status {done.returncode}: "
                         f"{(done.stderr or done.stdout).strip()[-2000:]}")
        return result
    for picture in entry.pictures:
        path = folder / picture
        fallback = entry.fallbacks.get(picture)
        if path.is_file():
            result.found.append((picture, path))
        elif fallback and (folder / fallback).is_file():
            result.found.append((picture, folder / fallback))
        else:
            result.missing.append(picture)
    return result


def make_all(folder=DEFAULT_FOLDER):
    """Run every entry in order in a fresh ``folder``; the results, one per entry."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return [run_entry(entry, folder) for entry in GALLERY]


def check_benchmarks():
    """Problems with ``BENCHMARKS``: a picture missing or not listed, a command not recorded."""
    problems = []
    for bench in BENCHMARKS:
        if not (ROOT / bench.picture).is_file():
            problems.append(f"{bench.picture} does not exist")
        results = ROOT / bench.results
        if not results.is_file() or bench.command not in results.read_text(encoding="utf-8"):
            problems.append(f"{bench.results} does not record the command {bench.command!r}")
    listed = {bench.picture for bench in BENCHMARKS}
    for picture in sorted((ROOT / "benchmarks").glob("*.png")):
        name = picture.relative_to(ROOT).as_posix()
        if name not in listed:
            problems.append(f"{name} is committed but not in docs/gallery.py's BENCHMARKS")
    return problems


# --------------------------------------------------------------------------------- Sphinx side
#
# The commands run in a thread from builder-inited on, while Sphinx reads the other pages and
# executes the tutorial (another process: the two cores work side by side); the gallery page
# is read last and waits for them.

_RUN = {}  # "thread": the thread making the pictures; "results": what it made


def _image_uri(path, srcdir):
    """An image path as Sphinx reads it: '/' + the path relative to the source folder."""
    return "/" + Path(os.path.relpath(path, srcdir)).as_posix()


def _gallery_rst(results, srcdir):
    lines = []
    for result in results:
        entry = result.entry
        lines += [entry.title, "-" * len(entry.title), "", entry.about, "",
                  ".. code-block:: console", "", f"   $ {entry.command}", ""]
        for picture, path in result.found:
            if path.suffix == ".dot":
                lines += [f"Graphviz's ``dot`` is not installed here, so ``{path.name}`` was "
                          f"written instead of ``{picture}``:", "", ".. literalinclude:: "
                          + _image_uri(path, srcdir), "   :language: dot", ""]
            else:
                lines += [f"``{picture}``:", "", f".. image:: {_image_uri(path, srcdir)}",
                          f"   :alt: {picture}, written by {entry.command}", ""]
    return lines


def _benchmarks_rst(srcdir):
    lines = []
    for bench in BENCHMARKS:
        lines += [bench.title, "~" * len(bench.title), "", bench.about, "",
                  f"Made by this command (recorded in ``{bench.results}``):", "",
                  ".. code-block:: console", "", f"   $ {bench.command}", "",
                  f".. image:: {_image_uri(ROOT / bench.picture, srcdir)}",
                  f"   :alt: {bench.picture}", ""]
    return lines


def _start(app):
    """builder-inited: start making the pictures, in the build tree."""
    import threading

    folder = Path(app.outdir).parent / "gallery"

    def make():
        tic = time.perf_counter()
        _RUN["results"] = make_all(folder)
        _RUN["seconds"] = time.perf_counter() - tic

    _RUN.clear()
    _RUN["thread"] = threading.Thread(target=make, name="logreg-gallery", daemon=True)
    _RUN["thread"].start()


def _finished():
    """The results, once the thread is done; its problems are logged the first time."""
    from sphinx.util import logging

    thread = _RUN.get("thread")
    if thread is None:
        return []
    thread.join()
    if "results" not in _RUN:
        raise RuntimeError("the gallery's commands could not be run (see the traceback above)")
    if not _RUN.get("reported"):
        _RUN["reported"] = True
        logger = logging.getLogger(__name__)
        for result in _RUN["results"]:
            if result.failed:
                logger.warning(f"gallery: {result.entry.command!r} failed, {result.failed}")
            for picture in result.missing:
                logger.warning(f"gallery: {result.entry.command!r} did not write {picture}")
        for problem in check_benchmarks():
            logger.warning(f"gallery: {problem}")
        print(f"gallery: {len(GALLERY)} commands in {_RUN['seconds']:.1f} s")
    return _RUN["results"]


def _read_gallery_last(app, env, docnames):
    """env-before-read-docs: read the page that waits for the pictures after the others."""
    for name in [name for name in docnames if name == "gallery"]:
        docnames.remove(name)
        docnames.append(name)


def setup(app):
    """Register the gallery's build step and its two directives."""
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class _Rst(SphinxDirective):
        def lines(self):
            raise NotImplementedError

        def run(self):
            self.env.note_reread()  # the pictures are made anew by every build
            container = nodes.section()
            container.document = self.state.document
            source = self.get_source_info()[0]
            nested_parse_with_titles(self.state, StringList(self.lines(), source=source),
                                     container)
            return container.children

    class GalleryDirective(_Rst):
        """``logreg-gallery``: each command of ``GALLERY`` with the pictures it made."""

        def lines(self):
            return _gallery_rst(_finished(), self.env.srcdir)

    class BenchmarksDirective(_Rst):
        """``logreg-benchmark-pictures``: the committed benchmark pictures."""

        def lines(self):
            return _benchmarks_rst(self.env.srcdir)

    app.connect("builder-inited", _start)
    app.connect("env-before-read-docs", _read_gallery_last)
    app.connect("build-finished", lambda app, error: _finished())
    app.add_directive("logreg-gallery", GalleryDirective)
    app.add_directive("logreg-benchmark-pictures", BenchmarksDirective)
    return {"parallel_read_safe": False, "parallel_write_safe": True}


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER
    for result in make_all(target):
        state = result.failed or "ok"
        print(f"{result.seconds:6.1f} s  {result.entry.command}  [{state[:200]}]")
        for picture, path in result.found:
            print(f"          {path}")
    for problem in check_benchmarks():
        print("problem:", problem)
