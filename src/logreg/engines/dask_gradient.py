"""The dask engine's (J, dw, db): the notes' lines on Dask arrays, computed in one pass.

``neuron.loss_and_gradient`` builds the lazy cost, dw and db on the dask arrays; the three share
the graph that reads X, so one ``dask.compute`` reads each chunk once for Z = wᵀX + b and for
its share of dw = X dZᵀ / m (as dask-glm does). w and b stay small NumPy arrays on the client.
The same pass serves a softmax layer of K classes: W (n_x, K), b (K, 1), Y one-hot (K, m)
chunked as X's examples; each chunk gives all K rows of Z, then its share of dW (n_x, K).
This module imports nothing but ``neuron``: the estimator reaches it through the engine table
(``logreg.engines``), and ``logreg.apps.outofcore`` (stores, clusters) builds on the estimator.
"""

import dask

from logreg.core import neuron

_controller = []


def loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0):
    """``neuron.loss_and_gradient`` on dask arrays, in one pass: (cost, dw, db) as NumPy.

    Binary (Y (1, m)): w (n_x, 1) and b a number give dw (n_x, 1) and db a NumPy scalar.
    K classes (Y one-hot (K, m)): W (n_x, K) and b (K, 1) give dW (n_x, K) and db (K, 1).
    """
    with one_blas_thread():
        return dask.compute(*neuron.loss_and_gradient(w, b, X, Y, sample_weight, l2))


def one_blas_thread():
    """BLAS held to one thread per dask thread while a step runs in this process (dask's
    threads, or in-process workers). Several BLAS threads per dask thread fight for the cores:
    a chunk's matrix-vector product took 8 ms instead of 0.2 on two cores. Worker processes
    started by a Nanny already run BLAS on one thread."""
    if not _controller:
        from threadpoolctl import ThreadpoolController

        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="blas")
