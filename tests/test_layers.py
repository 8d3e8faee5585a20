"""The package's shape (docs/design.md): layers whose imports point one way, modules small
enough to read in one sitting, and no module reaching into another's private names.

The layers are declared once, in pyproject.toml's import-linter contract; this test reads them
from there and checks every import of the package against them: the top-level ones, those
made inside functions (lazy), a package's ``__init__``, and the engine table's
"module:attribute" names, which are imported on first use."""

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import logreg

SRC = Path(logreg.__file__).parent
ROOT = SRC.parents[1]
MODULE_LINES = 600
FUNCTION_LINES = 80


def _layers():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return contract["layers"][::-1]  # bottom first


def _module_name(path):
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in SRC.rglob("*.py")}


def _layer_of(module):
    """The index of ``module``'s layer, bottom 0; None for the package itself and its
    ``__main__``, which stand above every layer."""
    for index, layer in enumerate(_layers()):
        if module == layer or module.startswith(layer + "."):
            return index
    return None


def _imported(importer, path):
    """(module imported, line) for every import of the package in ``path``, anywhere."""
    source = path.read_text()
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if not base.startswith("logreg"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else base), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("logreg"):
                    yield alias.name, node.lineno
    for match in re.finditer(r"[\"'](logreg(?:\.\w+)+):\w+[\"']", source):
        yield match.group(1), source.count("\n", 0, match.start()) + 1


def test_the_layers_cover_every_module():
    loose = [m for m in MODULES if _layer_of(m) is None and m not in ("logreg", "logreg.__main__")]
    assert not loose, f"modules in no layer of pyproject's contract: {loose}"


def test_imports_point_down_the_layers():
    layers = _layers()
    wrong = []
    for importer, path in MODULES.items():
        here = _layer_of(importer)
        for module, line in _imported(importer, path):
            there = _layer_of(module)
            if here is not None and there is not None and there > here:
                wrong.append(f"{path.relative_to(SRC.parent)}:{line}: {layers[here]} imports "
                             f"{module} ({layers[there]})")
    assert not wrong, "imports that point up the layers:\n" + "\n".join(wrong)


def test_import_linter_keeps_the_contract():
    """The same contract through import-linter, as a reviewer would run it."""
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.skip("import-linter is not installed (pip install 'logreg[dev]')")
    done = subprocess.run([str(linter), str(ROOT / "pyproject.toml")], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_no_module_is_too_long_to_read():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines()))
            > MODULE_LINES}
    assert not long, f"modules over {MODULE_LINES} lines: {long}"


def test_no_function_is_too_long_to_read():
    long = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    long.append(f"{module}.{node.name}: {lines} lines")
    assert not long, f"functions over {FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_no_private_name_is_used_across_modules():
    """``from logreg.x import _name`` or ``module._name`` of another logreg module: a private
    name is its module's own; what two modules share is public."""
    crossing = []
    for importer, path in MODULES.items():
        tree = ast.parse(path.read_text())
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("logreg"):
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    if alias.name.startswith("_") and not alias.name.startswith("__") \
                            and target not in MODULES:
                        crossing.append(f"{importer}: from {node.module} import {alias.name}")
                    if target in MODULES:
                        aliases[alias.asname or alias.name] = target
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("logreg") and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__") and aliases[node.value.id] != importer):
                crossing.append(f"{importer}: {aliases[node.value.id]}.{node.attr}")
    assert not crossing, "private names used across modules:\n" + "\n".join(sorted(set(crossing)))
