"""logreg: logistic regression as a single neuron, the way the notes teach it.

>>> import logreg
>>> sorted(logreg.__all__)
['LogisticRegression', 'LogregError', 'load']
"""

__version__ = "0.1.0"

from logreg.errors import LogregError  # noqa: E402

__all__ = ["LogisticRegression", "LogregError", "load"]


def __getattr__(name):
    """``LogisticRegression`` and ``load`` on first use: the estimator imports scikit-learn,
    which commands such as ``logreg quiz`` and ``logreg graph`` never need."""
    if name in ("LogisticRegression", "load"):
        from logreg import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
