"""Out-of-core training on Dask: the notes' gradient descent over data larger than memory.

The data live in a Zarr store: ``X`` of shape (m, n_x), one row per example, chunked along the
rows, and ``y`` of shape (m,), the labels of two or more classes (``logreg data synth`` writes
one). They are read as dask arrays, never loaded whole; the notes' layout is the lazy transpose
X_rows.T, and Y ((1, m) of 0/1 for two classes, one-hot (K, m) for K ≥ 3) is built lazily from
y, chunk by chunk.

One gradient-descent step is one pass over the chunks: ``neuron.loss_and_gradient`` builds the
lazy cost, dw and db on the dask arrays, and the three are computed together in one
``dask.compute`` (as dask-glm does), so each chunk of X is read once, used for Z = wᵀX + b and
for its share of dw = X dZᵀ / m, then dropped (all K rows of Z at once for K classes, with
W (n_x, K) and b (K, 1)). w and b stay small NumPy arrays on the client;
``solvers.gradient_descent`` drives the steps as for NumPy. The (scaled) data are persisted in
the workers' memory only when they fit in half of it; otherwise every step streams them from
the store.

    with cluster(workers=2, worker_memory="1GiB"):
        X_rows, y = open_store("big.zarr")
        scaling = standardize(X_rows)
        clf = fit(scaled(X_rows, scaling), y, learning_rate=0.1, num_iterations=500)

The modules: ``store`` (Zarr stores, ``synth``, ``open_store``, ``split``), ``training``
(``standardize``, ``scaled``, ``fit``), ``scoring`` (``predict``, ``accuracies``, ``evaluate``)
and ``clusters`` (``cluster``, the workers' memory).

Needs the ``[dask]`` extra: ``pip install 'logreg[dask]'`` (dask[array], distributed, zarr).
"""

from logreg.apps.outofcore.clusters import (
    CONNECT_TIMEOUT,
    MIN_WORKER_MEMORY,
    SCHEDULER_SCHEMES,
    WORKERS_PER_CPU,
    ClusterError,
    check_local_cluster,
    cluster,
    cluster_memory,
    describe,
    format_bytes,
    workers_of,
    workers_peak_memory,
)
from logreg.apps.outofcore.scoring import (
    accuracies,
    decision,
    evaluate,
    predict,
    predicted_positions,
)
from logreg.apps.outofcore.store import (
    CHUNK_BYTES,
    MAX_CHUNKS,
    MAX_CLASSES,
    X_NAME,
    Y_NAME,
    open_store,
    split,
    synth,
)
from logreg.apps.outofcore.training import (
    MOMENTS,
    PERSIST_SHARE,
    check_estimator,
    classes_of,
    fit,
    fits_in_workers,
    notes_layout,
    scaled,
    standardize,
)
from logreg.engines.dask_gradient import (  # noqa: F401 (re-exported)
    loss_and_gradient,
    one_blas_thread,
)

__all__ = [
    "CHUNK_BYTES", "CONNECT_TIMEOUT", "ClusterError", "MAX_CHUNKS", "MAX_CLASSES",
    "MIN_WORKER_MEMORY", "MOMENTS", "PERSIST_SHARE", "SCHEDULER_SCHEMES", "WORKERS_PER_CPU",
    "X_NAME", "Y_NAME", "accuracies", "check_estimator", "check_local_cluster", "classes_of",
    "cluster", "cluster_memory", "decision", "describe", "evaluate", "fit", "fits_in_workers",
    "format_bytes", "notes_layout", "open_store", "predict", "predicted_positions", "scaled",
    "split", "standardize", "synth", "workers_of", "workers_peak_memory",
]
