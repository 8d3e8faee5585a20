"""The API reference, written from the package itself: every public name of every public module.

Public, here: a module none of whose dotted parts starts with ``_``; in it, the names of its
``__all__`` where it has one, else every name not starting with ``_`` that the module defines
itself (a function or class whose ``__module__`` is the module, or a name assigned at its top
level), never one it imports. A name is documented once, in the first module of ``ORDER`` that
offers it (``logreg.LogisticRegression`` rather than ``logreg.model.estimator.LogisticRegression``);
later modules point to it.

``public_api()`` is the one place this is decided: the ``logreg-api`` directive writes the
pages from it and tests/docs/test_docs.py checks the built pages against it.

    ```{logreg-api} logreg logreg.errors      (the listed modules, in this order)
    ```{logreg-api} :rest:                      (every public module not in LIBRARY)
"""

import ast
import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

PACKAGE = "logreg"

# The library's face, in the order its reference shows it: where a name is offered by several
# of these modules, the first one documents it; a module that cannot be imported is a build
# warning naming it.
LIBRARY = [
    "logreg", "logreg.errors", "logreg.data", "logreg.graph", "logreg.core.neuron",
    "logreg.engines", "logreg.solvers", "logreg.modelfile.io", "logreg.model.plots",
    "logreg.model.inference", "logreg.model.summary_table", "logreg.model.evaluation",
    "logreg.model.pictures", "logreg.solvers.diagnostics",
]


@dataclass
class Module:
    """One public module: its documented names, and names documented elsewhere."""

    name: str
    error: str = ""
    own: list = field(default_factory=list)       # (name, kind): kind is class/function/data
    elsewhere: list = field(default_factory=list)  # (name, where it is documented)
    foreign: list = field(default_factory=list)    # (name, the other library's name for it)


def public_modules():
    """Every public module of the package, ``LIBRARY`` first, then the rest by name."""
    package = importlib.import_module(PACKAGE)
    found = [info.name for info in pkgutil.walk_packages(package.__path__, PACKAGE + ".")
             if not any(part.startswith("_") for part in info.name.split("."))]
    return LIBRARY + sorted(set(found) - set(LIBRARY))


def _assigned_names(module):
    """Names assigned at the top level of the module's source (not imported)."""
    try:
        source = Path(inspect.getsourcefile(module)).read_text(encoding="utf-8")
    except (TypeError, OSError):
        return set()
    names = set()
    for statement in ast.parse(source).body:
        targets = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign):
            targets = [statement.target]
        for target in targets:
            names.update(node.id for node in ast.walk(target) if isinstance(node, ast.Name))
    return names


def public_names(module):
    """The module's public names: its ``__all__``, else the names it defines itself."""
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return list(exported)
    assigned = _assigned_names(module)
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if inspect.isclass(value) or inspect.isroutine(value):
            if getattr(value, "__module__", None) == module.__name__:
                names.append(name)
        elif name in assigned:
            names.append(name)
    return names


def kind_of(value):
    """How autodoc documents a value: ``class``, ``function`` or ``data``."""
    if inspect.isclass(value):
        return "class"
    if inspect.isroutine(value):
        return "function"
    return "data"


def public_api():
    """Every public module with its names, each name documented once (see the module's text);
    a function or class of another library that a module offers is named, not documented."""
    homes = {}  # (id of the object, name) -> the dotted name that documents it
    modules = []
    for module_name in public_modules():
        entry = Module(module_name)
        modules.append(entry)
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            entry.error = f"{type(error).__name__}: {error}"
            continue
        for name in public_names(module):
            value = getattr(module, name)
            key = (id(value), name)
            origin = getattr(value, "__module__", None) or ""
            if kind_of(value) != "data" and origin.split(".")[0] != PACKAGE:
                # another library's function offered under logreg's name: its docs are its own
                entry.foreign.append((name, f"{origin}.{value.__qualname__}"))
            elif key in homes:
                entry.elsewhere.append((name, homes[key]))
            else:
                homes[key] = f"{module_name}.{name}"
                entry.own.append((name, kind_of(value)))
    return modules


def module_rst(entry):
    """The reStructuredText of one module's section."""
    title = entry.name
    lines = [title, "-" * len(title), ""]
    if entry.error:
        return lines + [f"``{entry.name}`` could not be imported: ``{entry.error}``", ""]
    lines += [f".. automodule:: {entry.name}", "   :no-members:", ""]
    for name, kind in entry.own:
        target = f"{entry.name}.{name}"
        if kind == "class":
            lines += [f".. autoclass:: {target}", "   :members:", "   :undoc-members:",
                      "   :show-inheritance:", ""]
        elif kind == "function":
            lines += [f".. autofunction:: {target}", ""]
        else:
            lines += [f".. autodata:: {target}", "   :no-value:", ""]
    if entry.foreign:
        lines += ["Offered here from other libraries, documented there:", ""]
        lines += [f"- ``{name}``: ``{origin}``" for name, origin in entry.foreign]
        lines.append("")
    if entry.elsewhere:
        lines += ["Also offered here, documented where listed:", ""]
        lines += [f"- ``{name}``: :py:obj:`{home}`" for name, home in entry.elsewhere]
        lines.append("")
    return lines


class ApiDirective(SphinxDirective):
    """``logreg-api``: sections for the named modules, or (``:rest:``) for every public module
    not in ``LIBRARY``."""

    optional_arguments = 100
    option_spec = {"rest": directives.flag}

    def run(self):
        """Write each module's section and parse it in place."""
        env = self.env
        if not hasattr(env, "logreg_api"):
            env.logreg_api = public_api()
        wanted = list(self.arguments)
        if "rest" in self.options:
            wanted = [entry.name for entry in env.logreg_api if entry.name not in LIBRARY]
        by_name = {entry.name: entry for entry in env.logreg_api}
        lines = []
        for name in wanted:
            entry = by_name.get(name)
            if entry is None:
                raise self.error(f"{name} is not a public module of {PACKAGE}")
            if entry.error:
                self.state.document.reporter.warning(
                    f"{name} is in the API reference but cannot be imported: {entry.error}",
                    line=self.lineno)
            lines += module_rst(entry)
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source=self.get_source_info()[0]),
                                 container)
        return container.children


def setup(app):
    """Register the directive."""
    app.add_directive("logreg-api", ApiDirective)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
