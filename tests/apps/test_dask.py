"""Out-of-core training on Dask, the engine (logreg.apps.outofcore, logreg.engines.dask_gradient):
the step of two and of K classes, the one-hot Y built lazily (``arrays.class_labels``), one
pass over the chunks per step, predictions, accuracy and confusion matrix, and the fit;
``test_dask_commands.py`` has the stores and the commands (`logreg data synth`,
`train --engine dask`).

Truth comes from outside the engine: the cost and gradient written with SciPy's ``logsumexp``
and ``softmax``, the same gradient descent in memory on NumPy
(LogisticRegression(implementation="vectorized")), scikit-learn's ``LabelBinarizer``,
``accuracy_score`` and ``confusion_matrix``, and reads counted at the Zarr store itself.
"""

from collections import Counter

import numpy as np
import pytest

dask = pytest.importorskip("dask")
pytest.importorskip("distributed")
zarr = pytest.importorskip("zarr")

import dask.array as da  # noqa: E402
from scipy.special import logsumexp, softmax  # noqa: E402
from sklearn.metrics import accuracy_score, confusion_matrix  # noqa: E402
from sklearn.preprocessing import LabelBinarizer  # noqa: E402

import logreg  # noqa: E402
from logreg import LogisticRegression  # noqa: E402
from logreg.apps import outofcore as dask_engine  # noqa: E402
from logreg.core import arrays  # noqa: E402
from logreg.core.checks import classes_of_labels  # noqa: E402
from logreg.engines import dask_gradient  # noqa: E402
from logreg.errors import InvalidInputError  # noqa: E402

K = 3


def problem(m=2000, n=5, seed=0, classes=2):
    """Rows (m, n) and labels from a true model (a finite optimum): 0/1 from a logistic model
    for two classes, 0 … K − 1 from a softmax model for K = ``classes`` ≥ 3."""
    rng = np.random.default_rng(seed)
    if classes == 2:
        rows = rng.standard_normal((m, n))
        z = rows @ rng.standard_normal(n) + 0.3
        return rows, (rng.random(m) < 1 / (1 + np.exp(-z))).astype(np.int64)
    rows = rng.normal(size=(m, n))
    Z = rows @ rng.normal(size=(n, classes)) + rng.normal(size=classes)
    u = rng.random((m, 1))
    return rows, (u >= np.cumsum(softmax(Z, axis=1), axis=1)[:, :-1]).sum(axis=1)


def truth(W, b, X, Y, s, l2):
    """The layer's (J, dW, db) written from the definitions with SciPy: the softmax layer, and
    for two classes (one row of W) the sigmoid, the softmax of (0, z)."""
    Z = W.T @ X + b
    Z_all, Y_all = (np.vstack([np.zeros_like(Z), Z]), np.vstack([1 - Y, Y])) if len(Z) == 1 \
        else (Z, Y)
    # L = logsumexp(z) − Σ_k y_k z_k; J = Σ sᵢ Lᵢ / Σ sᵢ + λ/(2 Σ s) ‖W‖²
    L = logsumexp(Z_all, axis=0) - np.sum(Y_all * Z_all, axis=0)
    dZ = s * (softmax(Z_all, axis=0)[-len(Z):] - Y)
    total = s.sum()
    return (np.sum(s * L) / total + l2 / (2 * total) * np.sum(W * W),
            X @ dZ.T / total + l2 / total * W, dZ.sum(axis=1, keepdims=True) / total)


@pytest.fixture
def threads_cluster():
    """A dask.distributed LocalCluster of 2 worker processes on loopback. (In-process
    workers, threads, were faster, but in full runs the client's gather sometimes waited
    forever on them, every worker idle: issue 12's note.)"""
    with dask_engine.cluster(workers=2, worker_memory="1GiB", processes=True) as client:
        yield client


# --- the step: one dask.compute, NumPy results -------------------------------------------


@pytest.mark.parametrize("classes", [2, K])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weights-l2"])
def test_step_equals_the_definitions(dtype, tol, weighted, classes):
    rows, y = problem(m=900, n=4, classes=classes)
    outputs = 1 if classes == 2 else classes  # rows of W: one for two classes
    rng = np.random.default_rng(3)
    # two classes: b a scalar, as the notes' neuron has it
    W, b = rng.normal(size=(4, outputs)), (np.float64(rng.normal()) if classes == 2 else
                                           rng.normal(size=(K, 1)))
    s = rng.uniform(0.5, 2.0, (1, 900)) if weighted else np.ones((1, 900))
    l2 = 0.4 if weighted else 0.0
    X_rows = da.from_array(rows.astype(dtype), chunks=(250, 4))
    labels, Y = arrays.class_labels(da.from_array(y, chunks=300), X_rows, classes_of_labels)
    assert labels.tolist() == list(range(classes))
    weights = da.from_array(s.astype(dtype), chunks=(1, 250)) if weighted else None
    assert dask_engine.loss_and_gradient is dask_gradient.loss_and_gradient  # re-exported
    cost, dW, db = dask_gradient.loss_and_gradient(W.astype(dtype), b.astype(dtype), X_rows.T,
                                                   Y, weights, l2)
    assert type(dW) is np.ndarray and np.ndim(cost) == 0
    assert dW.shape == (4, outputs) and dW.dtype == dtype
    if classes == 2:
        assert isinstance(cost, np.floating) and isinstance(db, np.floating)
    else:
        assert type(db) is np.ndarray and db.shape == (K, 1)
    Y_exact = (y == 1).reshape(1, -1) * 1.0 if classes == 2 else \
        (y == np.arange(K).reshape(-1, 1)) * 1.0
    for got, exact in zip((cost, dW, db), truth(W, b, rows.T, Y_exact, s, l2)):
        np.testing.assert_allclose(got, exact, rtol=tol, atol=tol)
    numpy = logreg.core.neuron.loss_and_gradient(W, b, rows.T, Y.compute().astype(np.float64),
                                                 s if weighted else None, l2)
    for got, numpys in zip((cost, dW, db), numpy):
        np.testing.assert_allclose(got, numpys, rtol=tol, atol=tol)


def test_class_labels_stay_lazy_and_chunked_as_the_rows():
    rows, y = problem(m=700, n=4, classes=K)
    labels = np.array(["ant", "bee", "cow"])[y]
    X_rows = da.from_array(rows, chunks=(200, 4))
    classes, Y = arrays.class_labels(da.from_array(labels, chunks=350), X_rows,
                                     classes_of_labels)
    assert isinstance(Y, da.Array) and Y.chunks == ((K,), (200, 200, 200, 100))
    encoder = LabelBinarizer().fit(labels)
    np.testing.assert_array_equal(classes, encoder.classes_)
    np.testing.assert_array_equal(Y.compute(), encoder.transform(labels).T)
    two, Y2 = arrays.class_labels(da.from_array(y % 2, chunks=350), X_rows, classes_of_labels)
    assert two.tolist() == [0, 1] and Y2.chunks == ((1,), (200, 200, 200, 100))
    np.testing.assert_array_equal(Y2.compute(), [y % 2])
    with pytest.raises(InvalidInputError, match="one class only"):
        arrays.class_labels(da.zeros(700, chunks=350), X_rows, classes_of_labels)


def test_standardize_matches_numpy_in_one_pass():
    rows, _ = problem(m=1000, n=4)
    rows = rows * [1, 10, 100, 0] + [5, -3, 0, 7]  # the last feature is constant
    scaling = dask_engine.standardize(da.from_array(rows, chunks=(300, 4)))
    want = logreg.data.standardize(rows.T)
    np.testing.assert_allclose(scaling.mean, want.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaling.spread, want.spread, rtol=1e-12)
    assert scaling.spread[3, 0] == 1.0
    with pytest.raises(logreg.LogregError, match="NaN or infinite"):
        dask_engine.standardize(da.from_array(np.array([[1.0], [np.nan]])))


# --- one pass over the chunks per step and per evaluation ---------------------------------

READS = Counter()  # store key → times read, filled by CountingStore (in this process)


class CountingStore(zarr.storage.WrapperStore):
    """A Zarr store that counts every read of every key."""

    async def get(self, key, prototype, byte_range=None):
        READS[key] += 1
        return await self._store.get(key, prototype, byte_range)

    async def get_partial_values(self, prototype, key_ranges):
        key_ranges = list(key_ranges)
        for key, _ in key_ranges:
            READS[key] += 1
        return await self._store.get_partial_values(prototype, key_ranges)


def counted_store(path):
    store = CountingStore(zarr.storage.LocalStore(str(path), read_only=True))
    group = zarr.open_group(store, mode="r")
    X_rows = da.from_zarr(group["X"])
    return X_rows, da.from_zarr(group["y"], chunks=(X_rows.chunks[0],))


@pytest.mark.parametrize("classes", [2, K])
@pytest.mark.parametrize("scheduler", ["synchronous", "threads", "distributed"])
def test_each_step_and_evaluation_reads_each_chunk_of_X_once(tmp_path, scheduler, classes):
    dask_engine.synth(tmp_path / "d.zarr", 1000, 3, chunk_rows=200, seed=1, classes=classes)
    X_rows, y = counted_store(tmp_path / "d.zarr")
    x_keys = [f"X/c/{i}/0" for i in range(5)]
    outputs = 1 if classes == 2 else classes

    def once():
        assert {key: READS[key] for key in x_keys} == {key: 1 for key in x_keys}
        READS.clear()

    def train():
        READS.clear()
        scaling = dask_engine.standardize(X_rows)  # μ and σ: one pass too
        once()
        X, Y, labels = dask_engine.notes_layout(X_rows, y)
        assert labels.tolist() == list(range(classes)) and Y.shape == (outputs, 1000)
        READS.clear()
        cost, dW, db = dask_gradient.loss_and_gradient(np.full((3, outputs), 0.1),
                                                       np.zeros((outputs, 1)), X, Y)
        assert dW.shape == (3, outputs) and np.shape(db) == ((K, 1) if classes == K else ())
        once()
        clf = fitted(np.random.default_rng(0).normal(size=(outputs, 3)),
                     np.linspace(0.1, -0.1, outputs), list(range(classes)))
        dask_engine.evaluate(clf, {"all": (X_rows, y)})  # accuracy and confusion: one pass
        once()
        clf = dask_engine.fit(dask_engine.scaled(X_rows, scaling), y, learning_rate=0.1,
                              num_iterations=3, persist=False)
        assert clf.n_iter_ == 3

    if scheduler == "distributed":
        with dask_engine.cluster(workers=1, processes=False):
            train()
    else:
        with dask.config.set(scheduler=scheduler):
            train()
    assert {key: READS[key] for key in x_keys} == {key: 3 for key in x_keys}
    assert not [key for key in READS if key.startswith("X/c/") and key not in x_keys]


# --- predictions, accuracy and confusion matrix --------------------------------------------


def fitted(coef, intercept, classes):
    """An estimator holding the given parameters (the fitted contract: coef_ (K, n) and
    intercept_ (K,), one row for two classes)."""
    clf = LogisticRegression()
    clf.coef_, clf.intercept_ = np.asarray(coef, float), np.asarray(intercept, float)
    clf.classes_, clf.n_features_in_ = np.asarray(classes), clf.coef_.shape[1]
    return clf


@pytest.mark.parametrize("labels", ["integers", "text"])
def test_predictions_accuracy_and_confusion_of_k_classes(labels):
    rows, y = problem(m=1000, n=4, seed=5, classes=K)
    names = np.array([3, 5, 9]) if labels == "integers" else np.array(["ant", "bee", "cow"])
    y = names[y]
    rng = np.random.default_rng(6)
    clf = fitted(rng.normal(size=(K, 4)), rng.normal(size=K), names)
    expected = names[np.argmax(rows @ clf.coef_.T + clf.intercept_, axis=1)]  # classes_[argmax z]
    X_rows = da.from_array(rows, chunks=(300, 4))
    predicted = dask_engine.predict(clf, X_rows)
    assert isinstance(predicted, da.Array)
    np.testing.assert_array_equal(predicted.compute(), expected)
    y_dask = da.from_array(y, chunks=400)  # chunked unlike X: aligned by the engine
    unseen = y.copy()
    unseen[:50] = "yak" if labels == "text" else 7  # labels the model never saw count wrong
    sets = {"train": (X_rows, y_dask), "test": (X_rows[:600], unseen[:600])}
    scores = dask_engine.evaluate(clf, sets)
    assert scores["train"]["accuracy"] == pytest.approx(100 * accuracy_score(y, expected),
                                                        abs=1e-12)
    np.testing.assert_array_equal(scores["train"]["confusion"],
                                  confusion_matrix(y, expected, labels=names))
    assert scores["test"]["accuracy"] == pytest.approx(
        100 * accuracy_score(unseen[:600], expected[:600]), abs=1e-12)
    np.testing.assert_array_equal(scores["test"]["confusion"],
                                  confusion_matrix(unseen[:600], expected[:600], labels=names))
    assert dask_engine.accuracies(clf, sets) == {name: score["accuracy"]
                                                 for name, score in scores.items()}


def test_two_classes_keep_the_exercises_figures():
    rows, y = problem(m=800, n=4, seed=7)
    clf = fitted([[0.5, -1.0, 0.25, 2.0]], [0.3], [0, 1])
    z = rows @ clf.coef_[0] + clf.intercept_[0]
    expected = (z > 0).astype(int)  # ŷ = σ(z) > 0.5
    X_rows = da.from_array(rows, chunks=(300, 4))
    np.testing.assert_array_equal(dask_engine.predict(clf, X_rows).compute(), expected)
    np.testing.assert_array_equal(dask_engine.decision(clf, X_rows).compute(), [z])
    # the exercise's formula, 100 − mean|Ŷ − Y|·100, to the last digit
    exercise = 100 - np.mean(np.abs(expected - y)) * 100
    scores = dask_engine.evaluate(clf, {"train": (X_rows, y)})
    assert scores["train"]["accuracy"] == exercise
    assert dask_engine.accuracies(clf, {"train": (X_rows, y)})["train"] == exercise
    np.testing.assert_array_equal(scores["train"]["confusion"],
                                  confusion_matrix(y, expected, labels=[0, 1]))


# --- the fit: the same numbers as NumPy in memory ----------------------------------------


@pytest.mark.parametrize("classes, solver, l2, iterations",
                         [(2, "gd", 0.0, 20), (2, "gd", 0.7, 20), (K, "gd", 0.3, 30),
                          (K, "lbfgs", 0.3, 30)],
                         ids=["2-gd-l2=0", "2-gd-l2=0.7", "3-gd", "3-lbfgs"])
def test_fit_equals_numpy(threads_cluster, classes, solver, l2, iterations):
    n = 5 if classes == 2 else 4
    rows, y = problem(m=1500, n=n, classes=classes)
    settings = dict(solver=solver, learning_rate=0.5, num_iterations=iterations, l2=l2,
                    implementation="vectorized")
    ours = dask_engine.fit(da.from_array(rows, chunks=(500, n)), da.from_array(y, chunks=500),
                           persist=False, **settings)
    numpy = LogisticRegression(**settings).fit(rows, y)
    outputs = 1 if classes == 2 else classes
    assert isinstance(ours.coef_, np.ndarray) and isinstance(ours.intercept_, np.ndarray)
    assert ours.coef_.shape == (outputs, n) and ours.intercept_.shape == (outputs,)
    assert ours.classes_.tolist() == list(range(classes))
    rtol, atol = (0, 1e-10) if classes == 2 else (1e-8, 1e-8)
    np.testing.assert_allclose(ours.coef_, numpy.coef_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.intercept_, numpy.intercept_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.costs_, numpy.costs_, rtol=rtol, atol=1e-10)
    if solver == "gd":
        assert ours.n_iter_ == iterations
    assert ours.engine_["chunks"] == 3 and not ours.engine_["persisted"]
    X_rows = da.from_array(rows, chunks=(500, n))
    np.testing.assert_array_equal(dask_engine.predict(ours, X_rows).compute(),
                                  numpy.predict(rows))


def test_persisted_and_lbfgs_agree_with_numpy(threads_cluster):
    rows, y = problem(m=800, n=4, seed=2)
    ours = dask_engine.fit(da.from_array(rows, chunks=(400, 4)), y, persist=True,
                           learning_rate=0.5, num_iterations=10)
    numpy = LogisticRegression(learning_rate=0.5, num_iterations=10,
                               implementation="vectorized").fit(rows, y)
    assert ours.engine_["persisted"]
    np.testing.assert_allclose(ours.coef_, numpy.coef_, rtol=0, atol=1e-10)
    lbfgs = dask_engine.fit(da.from_array(rows, chunks=(400, 4)), y, solver="lbfgs",
                            num_iterations=50, persist=False)
    reference = LogisticRegression(solver="lbfgs", num_iterations=50).fit(rows, y)
    np.testing.assert_allclose(lbfgs.coef_, reference.coef_, rtol=0, atol=1e-6)


def test_estimator_fit_on_dask_arrays_equals_numpy():
    rows, y = problem(m=600, n=4, seed=2, classes=K)
    labels = np.array(["ant", "bee", "cow"])[y]
    s = np.linspace(0.5, 2.0, 600)
    settings = dict(solver="lbfgs", num_iterations=100, l2=0.1)
    with dask.config.set(scheduler="synchronous"):
        ours = LogisticRegression(**settings).fit(da.from_array(rows, chunks=(200, 4)),
                                                  da.from_array(labels, chunks=200),
                                                  sample_weight=s)
    numpy = LogisticRegression(**settings).fit(rows, labels, sample_weight=s)
    assert ours.classes_.tolist() == ["ant", "bee", "cow"] and ours.coef_.shape == (K, 4)
    np.testing.assert_allclose(ours.coef_, numpy.coef_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, numpy.intercept_, rtol=1e-8, atol=1e-8)


def test_fit_refuses_what_it_cannot_do():
    rows, y = problem(m=100, n=2)
    with pytest.raises(ValueError, match="learning_rate='auto'"):
        dask_engine.fit(rows, y)
    with pytest.raises(ValueError, match="backprop='graph' .* on Dask arrays .* NumPy arrays "
                                         "only.*What would work: backprop='closed-form'"):
        dask_engine.fit(rows, y, learning_rate=0.1, backprop="graph")
    with pytest.raises(ValueError, match="implementation='loop' .* on Dask arrays"):
        dask_engine.fit(rows, y, learning_rate=0.1, implementation="loop")
    with pytest.raises(ValueError, match="one class only"):
        dask_engine.fit(rows, np.zeros(100), learning_rate=0.1)
    with pytest.raises(ValueError, match="one label per row"):
        dask_engine.fit(rows, y[:50], learning_rate=0.1)
