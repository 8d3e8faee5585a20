"""The playground: watch the notes' neuron learn, in the browser, with the equations live.

``logreg playground`` starts a local web server (:mod:`logreg.apps.playground.server`); each browser
tab opens one WebSocket and gets one :class:`~logreg.apps.playground.session.Session`: its data
(:mod:`~logreg.apps.playground.datasets`), its features (:mod:`~logreg.apps.playground.features`), and
gradient descent run by the library's own engine (``logreg.engines.resolve``, then
``logreg.core.neuron.gradient_step``), a softmax layer for three or four classes.

The server's packages (Starlette, uvicorn) are an optional extra,
``pip install 'logreg[playground]'``; the data, features and sessions need only logreg's own.
"""

from logreg.apps.playground.datasets import DATASETS
from logreg.apps.playground.features import FEATURES, feature_matrix
from logreg.apps.playground.session import LIMITS, Session

__all__ = ["DATASETS", "FEATURES", "LIMITS", "Session", "feature_matrix"]
