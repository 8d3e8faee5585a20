"""Sphinx configuration of logreg's documentation site (``make docs``).

Built with ``-W --keep-going -n``: any warning, a reference that does not resolve or a public
name without a docstring, fails the build. Why Sphinx: docs/about.md.
"""

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS / "_ext"), str(DOCS)]  # api_reference, gallery

import logreg  # noqa: E402

project = "logreg"
author = "the logreg developers"
copyright = "the logreg developers, MIT licence"
release = version = logreg.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static: the maths render offline, no CDN
    "numpydoc",
    "myst_nb",
    "sphinxarg.ext",
    "api_reference",
    "gallery",
]

root_doc = "index"
smartquotes = False  # "--data" stays two hyphens, in the command's reference and in docstrings
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

html_theme = "furo"
html_title = f"logreg {release}"
html_static_path = []

# --- the API reference: autodoc + numpydoc ---------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # the numpydoc sections say the types, in words
autodoc_inherit_docstrings = False  # a public method without its own docstring is reported
numpydoc_show_class_members = False  # autodoc's :members: lists them (no autosummary stubs)
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# GL08: "The object does not have a docstring": every public module, class, function and
# method the reference shows must have one (names of constants are listed with their
# comment, if any; a number or a tuple has no docstring of its own).
numpydoc_validation_checks = {"GL08"}
numpydoc_validation_exclude = {r"\.__init__$"}

# References are checked (-n) for logreg's own names; names of other libraries (numpy,
# scikit-learn, Python's built-ins), which the site does not document, are not links.
nitpick_ignore_regex = [(r"py:.*", r"(?!logreg\b).*")]

# --- the tutorial: executed at every build, so its outputs are this code's --------------------
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3


# --- docstrings are plain text with ``code``: |x| is an absolute value, never a substitution ---
_LITERAL = re.compile(r"(``.+?``)")
_BARS = re.compile(r"(?<!\\)\|(?=\S)([^|]*?\S)\|")


def _plain_bars(line):
    """``|x|`` outside double backticks, escaped so reStructuredText reads it as text."""
    parts = _LITERAL.split(line)
    parts[::2] = [_BARS.sub(r"\\|\1\\|", part) for part in parts[::2]]
    return "".join(parts)


def escape_absolute_values(app, what, name, obj, options, lines):
    """autodoc-process-docstring: escape |x| in prose (not in tables, doctests or literal
    blocks), before numpydoc reads the docstring."""
    literal_indent = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                continue
            literal_indent = None
        if stripped == "|" or stripped.startswith(("| ", "+-", "+=", ">>>", "...")):
            continue  # a line block, a grid table, a doctest
        lines[i] = _plain_bars(line)
        if stripped.endswith("::"):
            literal_indent = indent


def skip_other_libraries_members(app, what, name, obj, skip, options):
    """autodoc-skip-member: a method another library adds to a logreg class (scikit-learn's
    ``set_fit_request``...) is documented by that library, not here."""
    origin = getattr(obj, "__module__", None)
    if what == "class" and callable(obj) and origin and origin.split(".")[0] != "logreg":
        return True
    return None


def setup(app):
    """Connect the docstring hooks, ahead of numpydoc's."""
    app.connect("autodoc-process-docstring", escape_absolute_values, priority=100)
    app.connect("autodoc-skip-member", skip_other_libraries_members)
