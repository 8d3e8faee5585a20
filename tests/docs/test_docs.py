"""The documentation site's reference pages hold every public name, and its command reference
every sub-command and option of ``logreg.apps.cli.build_parser``.

The reference pages are built here with the site's own configuration (docs/conf.py), without
the tutorial's execution and the gallery's commands (``make docs`` runs those, and fails on any
warning); the built HTML is then read against the package itself: every public module's names
(its ``__all__``, else what it defines without a leading ``_``), every public method of every
documented class, every parser's options. Skipped without the docs extra (pip install -e
'.[docs]').
"""

import argparse
import importlib
import inspect
import pkgutil
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

for _module in ("sphinx", "numpydoc", "myst_nb", "sphinxarg", "sphinx-mathjax-offline"):
    pytest.importorskip(_module, reason="the docs extra: pip install -e '.[docs]'")

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))
import gallery  # noqa: E402  (docs/gallery.py)

import logreg  # noqa: E402
from logreg.apps.cli import build_parser  # noqa: E402

REFERENCE = ["reference/api.rst", "reference/internals.rst", "reference/command.md"]
EXTENSIONS = "sphinx.ext.autodoc,numpydoc,myst_nb,sphinxarg.ext,api_reference"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The three reference pages built into HTML; a dict of page name -> HTML."""
    source = tmp_path_factory.mktemp("docs")
    shutil.copy(DOCS / "conf.py", source / "conf.py")
    shutil.copytree(DOCS / "_ext", source / "_ext")
    for page in REFERENCE:
        (source / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DOCS / page, source / page)
    (source / "index.rst").write_text(
        "logreg\n======\n\n.. toctree::\n\n" + "".join(
            f"   {page.rsplit('.', 1)[0]}\n" for page in REFERENCE), encoding="utf-8")
    out = source / "_build" / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E",
         "-D", f"extensions={EXTENSIONS}", "-D", "nb_execution_mode=off", str(source), str(out)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return {page: (out / page).with_suffix(".html").read_text(encoding="utf-8")
            for page in REFERENCE}


@pytest.fixture(scope="module")
def site_with_maths(tmp_path_factory):
    """A page of mathematics and the stored tutorial (not executed), built with the site's own
    configuration and extensions (less the gallery, which runs its commands); the output folder."""
    import runpy

    extensions = [name for name in runpy.run_path(str(DOCS / "conf.py"))["extensions"]
                  if name != "gallery"]
    source = tmp_path_factory.mktemp("maths")
    shutil.copy(DOCS / "conf.py", source / "conf.py")
    shutil.copytree(DOCS / "_ext", source / "_ext")
    shutil.copy(DOCS / "tutorial.ipynb", source / "tutorial.ipynb")
    (source / "index.md").write_text(
        "# logreg\n\nThe cost $J = -\\frac{1}{m}\\sum_i y^{(i)}\\log a^{(i)}$, and\n\n"
        "$$\\sigma(z) = \\frac{1}{1 + e^{-z}}$$\n\n```{toctree}\ntutorial\n```\n",
        encoding="utf-8")
    out = source / "_build" / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E",
         "-D", f"extensions={','.join(extensions)}", "-D", "nb_execution_mode=off",
         str(source), str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_the_site_loads_nothing_from_another_host(site_with_maths):
    """Every <script src> and <link href> of the built pages is a file of the site itself, so
    the mathematics (MathJax, served from _static) renders offline; no CDN."""
    pages = sorted(site_with_maths.rglob("*.html"))
    assert {"index.html", "tutorial.html"} <= {page.name for page in pages}
    outside, mathjax = [], []
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
            url = re.search(r"\b(?:src|href)=[\"']([^\"']+)", tag)
            if url is None:
                continue
            if re.match(r"(?:[a-z][a-z0-9+.-]*:)?//", url[1], re.IGNORECASE):
                outside.append(f"{page.name}: {tag}")
            elif "mathjax" in url[1].lower() and tag.startswith("<script"):
                mathjax.append(page.parent / url[1].split("?")[0])
    assert not outside, f"pages load from another host: {outside}"
    assert mathjax and all(path.is_file() for path in mathjax), mathjax  # MathJax, served here
    tutorial = (site_with_maths / "tutorial.html").read_text(encoding="utf-8")
    assert r"\(\sigma(z) = \frac{1}{1 + e^{-z}}\)" in tutorial  # the maths, for MathJax to set


def _ids(html):
    return set(re.findall(r'id="([^"]+)"', html))


def _public_modules():
    found = [info.name for info in pkgutil.walk_packages(logreg.__path__, "logreg.")
             if not any(part.startswith("_") for part in info.name.split("."))]
    return ["logreg", *found]


def _own_names(module):
    """The module's public names, found independently of docs/_ext/api_reference.py: its
    ``__all__``, else its own functions and classes and the names its source assigns."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    source = inspect.getsource(module)
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if inspect.isclass(value) or inspect.isroutine(value):
            if value.__module__ == module.__name__:
                names.append(name)
        elif re.search(rf"^{re.escape(name)}\s*(:[^=\n]*)?=", source, re.MULTILINE):
            names.append(name)
    return names


def test_every_public_name_is_documented(built):
    ids = _ids(built["reference/api.rst"]) | _ids(built["reference/internals.rst"])
    text = built["reference/api.rst"] + built["reference/internals.rst"]
    modules = {name: importlib.import_module(name) for name in _public_modules()}
    documented = {}  # object id -> the names it is documented under
    for anchor in ids:
        module_name, _, name = anchor.rpartition(".")
        if anchor.startswith("logreg") and module_name in sys.modules:
            value = getattr(sys.modules[module_name], name, None)
            documented.setdefault((id(value), name), set()).add(anchor)
    missing = []
    for module_name, module in modules.items():
        assert f"module-{module_name}" in ids, f"{module_name} has no section"
        for name in _own_names(module):
            value = getattr(module, name)
            origin = getattr(value, "__module__", None) or "logreg"
            if (inspect.isclass(value) or inspect.isroutine(value)) and \
                    not origin.startswith("logreg"):
                ok = f"<code class=\"docutils literal notranslate\"><span class=\"pre\">{name}" \
                     in text  # another library's function: named, pointing to its docs
            else:
                ok = f"{module_name}.{name}" in ids or (id(value), name) in documented
            if not ok:
                missing.append(f"{module_name}.{name}")
    assert not missing, f"public names missing from the API reference: {missing}"


def test_every_public_method_of_a_documented_class_is_documented(built):
    ids = _ids(built["reference/api.rst"]) | _ids(built["reference/internals.rst"])
    classes = [anchor for anchor in ids if anchor.startswith("logreg.")
               and inspect.isclass(_resolve(anchor))]
    assert "logreg.LogisticRegression" in classes
    missing = []
    for anchor in classes:
        cls = _resolve(anchor)
        for name, value in vars(cls).items():
            function = value.fget if isinstance(value, property) else value
            if name.startswith("_") or not (callable(function) or isinstance(value, property)):
                continue
            if getattr(function, "__module__", "").startswith("logreg") and \
                    f"{anchor}.{name}" not in ids:
                missing.append(f"{anchor}.{name}")
    assert not missing, f"public methods missing from the API reference: {missing}"


def _resolve(anchor):
    module_name, _, name = anchor.rpartition(".")
    module = sys.modules.get(module_name)
    return getattr(module, name, None) if module is not None else None


def _parsers(parser, prog="logreg"):
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{prog} {name}")


def test_command_reference_lists_every_sub_command_and_option(built):
    html = built["reference/command.md"]
    ids = _ids(html)
    text = re.sub(r"<[^>]+>", " ", html)
    parsers = list(_parsers(build_parser()))
    assert len(parsers) > 5
    for prog, parser in parsers:
        assert prog.replace(" ", "-") in ids, f"no section for `{prog}`"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue  # -h, --help: in the usage line only, as every command has it
            for option in action.option_strings:
                assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), \
                    f"`{prog}`'s option {option} is not in the command reference"


def test_gallery_commands_are_the_parsers_and_pictures_cover_the_issue():
    parser = build_parser()
    for entry in gallery.GALLERY:
        argv = shlex.split(entry.command)
        assert argv[0] == "logreg"
        parser.parse_args(argv[1:])  # exits (SystemExit) on a command the parser refuses
    pictures = {Path(p).name for entry in gallery.GALLERY for p in entry.pictures}
    assert {"learning_curve.png", "graph.svg", "learning_rates.png", "roc.png",
            "precision_recall.png", "calibration.png", "confusion_matrix.png",
            "misclassified.png"} <= pictures
    assert gallery.check_benchmarks() == []
