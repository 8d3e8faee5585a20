"""logreg: logistic regression as a single neuron, the way the notes teach it.

>>> import logreg
>>> sorted(logreg.__all__)
['LogisticRegression', 'LogregError', 'load']

The package is in layers (docs/design.md): ``logreg.core`` (the notes' mathematics),
``logreg.engines``, ``logreg.solvers``, ``logreg.modelfile``, ``logreg.model``, ``logreg.data``,
``logreg.graph``, ``logreg.lessons`` and ``logreg.apps``.
"""

import importlib
import importlib.util
import sys

__version__ = "0.1.0"

from logreg.errors import LogregError  # noqa: E402

__all__ = ["LogisticRegression", "LogregError", "load"]

# Where each module of the flat 0.1 layout lives now. ``import logreg.neuron`` (and a pickle or
# a script that names it) gets the module itself, ``logreg.core.neuron``: the same object, so
# nothing is imported twice and a patch of one is a patch of the other.
MOVED_MODULES = {
    "logreg.neuron": "logreg.core.neuron",
    "logreg.checks": "logreg.core.checks",
    "logreg.arrays": "logreg.core.arrays",
    "logreg.fused": "logreg.engines.fused",
    "logreg._fused_kernels": "logreg.engines.fused_kernels",
    "logreg._newton_kernels": "logreg.engines.newton_kernels",
    "logreg.loop": "logreg.engines.loop",
    "logreg.dask_gradient": "logreg.engines.dask_gradient",
    "logreg.newton": "logreg.solvers.trust_region",
    "logreg.fit": "logreg.solvers.record",
    "logreg.diagnostics": "logreg.solvers.diagnostics",
    "logreg.io": "logreg.modelfile.io",
    "logreg.model_schema": "logreg.modelfile.schema",
    "logreg.estimator": "logreg.model.estimator",
    "logreg.inference": "logreg.model.inference",
    "logreg.evaluation": "logreg.model.evaluation",
    "logreg.plots": "logreg.model.plots",
    "logreg.quiz": "logreg.lessons.quiz",
    "logreg.bench": "logreg.lessons.bench",
    "logreg.rates": "logreg.lessons.rates",
    "logreg.cli": "logreg.apps.cli",
    "logreg.playground": "logreg.apps.playground",
    "logreg.dask_engine": "logreg.apps.outofcore",
}


def _moved(name):
    """The module's present name, for a name of the flat layout (a sub-module of a moved
    package too: logreg.playground.server); None for any other name."""
    for old, new in MOVED_MODULES.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old):]
    return None


class _MovedModules:
    """An import finder that answers the flat layout's names with the modules themselves."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.startswith("logreg.") and _moved(name):
            return importlib.util.spec_from_loader(name, _MovedModules)
        return None

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        # the import system hands back whatever sys.modules holds under the name afterwards
        sys.modules[module.__name__] = importlib.import_module(_moved(module.__name__))


if not any(finder is _MovedModules for finder in sys.meta_path):
    sys.meta_path.insert(0, _MovedModules)


def __getattr__(name):
    """``LogisticRegression`` and ``load`` on first use: the estimator imports scikit-learn,
    which commands such as ``logreg quiz`` and ``logreg graph`` never need."""
    if name in ("LogisticRegression", "load"):
        from logreg.model import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
