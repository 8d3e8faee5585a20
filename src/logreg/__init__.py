"""logreg: logistic regression as a single neuron, the way the notes teach it.

>>> import logreg
>>> sorted(logreg.__all__)
['LogisticRegression', 'LogregError', 'load']
"""

__version__ = "0.1.0"

from logreg.errors import LogregError  # noqa: E402
from logreg.estimator import LogisticRegression, load  # noqa: E402

__all__ = ["LogisticRegression", "LogregError", "load"]
