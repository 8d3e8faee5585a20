"""K classes out of core: the softmax layer's step on Dask arrays (``dask_gradient``), the
one-hot Y built lazily (``arrays.class_labels``), K-class synthetic stores, and the dask
engine's predictions, accuracy and confusion matrix.

Truth comes from outside the engine: the cost and gradient written with SciPy's ``logsumexp``
and ``softmax``, scikit-learn's ``LabelBinarizer``, ``accuracy_score`` and ``confusion_matrix``,
the NumPy fit in memory, and reads counted at the Zarr store itself.
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
from logreg.core import arrays
from logreg.apps import outofcore as dask_engine
from logreg.engines import dask_gradient
from logreg.core.checks import classes_of_labels  # noqa: E402
from logreg.errors import InvalidInputError  # noqa: E402

from helpers import run_cli  # noqa: E402

K = 3


def problem(m=1200, n=4, seed=0, classes=K):
    """Rows (m, n) and labels 0 … K − 1 from a true softmax model (a finite optimum)."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(m, n))
    Z = rows @ rng.normal(size=(n, classes)) + rng.normal(size=classes)
    u = rng.random((m, 1))
    return rows, (u >= np.cumsum(softmax(Z, axis=1), axis=1)[:, :-1]).sum(axis=1)


def truth(W, b, X, Y, s, l2):
    """The softmax layer's (J, dW, db) written from the definitions with SciPy."""
    Z = W.T @ X + b
    # L = logsumexp(z) − Σ_k y_k z_k; J = Σ sᵢ Lᵢ / Σ sᵢ + λ/(2 Σ s) ‖W‖²
    L = logsumexp(Z, axis=0) - np.sum(Y * Z, axis=0)
    dZ = s * (softmax(Z, axis=0) - Y)
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


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weights-l2"])
def test_step_equals_the_definitions(dtype, tol, weighted):
    rows, y = problem(m=900)
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(4, K)), rng.normal(size=(K, 1))
    s = rng.uniform(0.5, 2.0, (1, 900)) if weighted else np.ones((1, 900))
    l2 = 0.4 if weighted else 0.0
    X_rows = da.from_array(rows.astype(dtype), chunks=(250, 4))
    classes, Y = arrays.class_labels(da.from_array(y, chunks=300), X_rows, classes_of_labels)
    assert classes.tolist() == [0, 1, 2]
    weights = da.from_array(s.astype(dtype), chunks=(1, 250)) if weighted else None
    cost, dW, db = dask_gradient.loss_and_gradient(W.astype(dtype), b.astype(dtype), X_rows.T,
                                                   Y, weights, l2)
    assert type(dW) is np.ndarray and type(db) is np.ndarray and np.ndim(cost) == 0
    assert dW.shape == (4, K) and db.shape == (K, 1) and dW.dtype == dtype
    want = truth(W, b, rows.T, (y == np.arange(K).reshape(-1, 1)) * 1.0, s, l2)
    for got, exact in zip((cost, dW, db), want):
        np.testing.assert_allclose(got, exact, rtol=tol, atol=tol)
    numpy = logreg.core.neuron.loss_and_gradient(W, b, rows.T, Y.compute().astype(np.float64),
                                            s if weighted else None, l2)
    for got, numpys in zip((cost, dW, db), numpy):
        np.testing.assert_allclose(got, numpys, rtol=tol, atol=tol)


def test_class_labels_stay_lazy_and_chunked_as_the_rows():
    rows, y = problem(m=700)
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


# --- the store: K-class synthetic data ------------------------------------------------------

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
    group = zarr.open_group(CountingStore(zarr.storage.LocalStore(str(path), read_only=True)),
                            mode="r")
    X_rows = da.from_zarr(group["X"])
    return X_rows, da.from_zarr(group["y"], chunks=(X_rows.chunks[0],))


def test_synth_draws_labels_from_the_true_softmax_model(tmp_path):
    store = dask_engine.synth(tmp_path / "k.zarr", 20000, 3, chunk_rows=5000, seed=4,
                              classes=4)
    group = zarr.open_group(store, mode="r")
    X, y, attrs = group["X"][:], group["y"][:], group.attrs["logreg"]
    assert y.dtype == np.uint8 and set(np.unique(y).tolist()) == {0, 1, 2, 3}
    W, b = np.array(attrs["w"]), np.array(attrs["b"])
    assert W.shape == (3, 4) and b.shape == (4,) and attrs["classes"] == 4
    s = (X - np.array(attrs["offset"])) / np.array(attrs["spread"])  # the standardised rows
    A = softmax(s @ W + b, axis=1)  # the true probabilities of each example's class
    # each class's share equals the mean of its true probability (m = 20000: σ ≈ 0.0035)
    np.testing.assert_allclose(np.bincount(y, minlength=4) / len(y), A.mean(axis=0), atol=0.015)
    # labels follow the probabilities: the true model's log-likelihood beats a shuffle's
    assert np.mean(np.log(A[np.arange(len(y)), y])) > np.mean(np.log(A[:, ::-1][
        np.arange(len(y)), y])) + 0.1
    again = dask_engine.synth(tmp_path / "again.zarr", 20000, 3, chunk_rows=5000, seed=4,
                              classes=4)
    np.testing.assert_array_equal(zarr.open_group(again, mode="r")["y"][:], y)
    binary = dask_engine.synth(tmp_path / "b.zarr", 200, 3, chunk_rows=100, seed=4)
    assert "classes" not in zarr.open_group(binary, mode="r").attrs["logreg"]


@pytest.mark.parametrize("classes", [1, 0, 257, 2.5, True, "3"])
def test_synth_refuses_a_number_of_classes_it_cannot_write(tmp_path, classes):
    with pytest.raises(InvalidInputError, match="classes="):
        dask_engine.synth(tmp_path / "k.zarr", 10, 2, classes=classes)
    assert not (tmp_path / "k.zarr").exists()


def test_each_k_class_step_and_evaluation_reads_each_chunk_of_X_once(tmp_path):
    dask_engine.synth(tmp_path / "d.zarr", 1000, 3, chunk_rows=200, seed=1, classes=K)
    X_rows, y = counted_store(tmp_path / "d.zarr")
    x_keys = [f"X/c/{i}/0" for i in range(5)]
    X, Y, classes = dask_engine.notes_layout(X_rows, y)
    assert classes.tolist() == [0, 1, 2] and Y.shape == (K, 1000)
    READS.clear()
    cost, dW, db = dask_gradient.loss_and_gradient(np.full((3, K), 0.1), np.zeros((K, 1)), X, Y)
    assert dW.shape == (3, K) and db.shape == (K, 1)
    assert {key: READS[key] for key in x_keys} == {key: 1 for key in x_keys}
    clf = fitted(np.random.default_rng(0).normal(size=(K, 3)), [0.1, 0.0, -0.1], [0, 1, 2])
    READS.clear()
    dask_engine.evaluate(clf, {"all": (X_rows, y)})  # accuracy and confusion: one pass
    assert {key: READS[key] for key in x_keys} == {key: 1 for key in x_keys}


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
    rows, y = problem(m=1000, seed=5)
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
    rows, y = problem(m=800, seed=7, classes=2)
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


# --- the estimator on dask arrays (the lead's K-class estimator) ---------------------------


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_fit_three_classes_equals_numpy(threads_cluster, solver):
    rows, y = problem(m=1500)
    settings = dict(solver=solver, learning_rate=0.5, num_iterations=30, l2=0.3,
                    implementation="vectorized")
    ours = dask_engine.fit(da.from_array(rows, chunks=(500, 4)), da.from_array(y, chunks=500),
                           persist=False, **settings)
    numpy = LogisticRegression(**settings).fit(rows, y)
    assert isinstance(ours.coef_, np.ndarray) and ours.coef_.shape == (K, 4)
    assert ours.intercept_.shape == (K,) and ours.classes_.tolist() == [0, 1, 2]
    np.testing.assert_allclose(ours.coef_, numpy.coef_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, numpy.intercept_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.costs_, numpy.costs_, rtol=1e-8, atol=1e-10)
    assert ours.engine_["chunks"] == 3
    X_rows = da.from_array(rows, chunks=(500, 4))
    np.testing.assert_array_equal(dask_engine.predict(ours, X_rows).compute(),
                                  numpy.predict(rows))


def test_estimator_fit_on_dask_arrays_equals_numpy():
    rows, y = problem(m=600, seed=2)
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


def test_train_engine_dask_three_classes_end_to_end(tmp_path, capsys):
    store = tmp_path / "k.zarr"
    dask_engine.synth(store, 2000, 4, chunk_rows=500, seed=5, classes=K)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["train", "--data", store, "--engine", "dask", "--iterations",
                                 60, "--learning-rate", 0.5, "--test-size", 0.25,
                                 "--workers", 1, "--out", out], capsys)
    assert code == 0, err
    assert "train accuracy: " in stdout and "test accuracy: " in stdout
    group = zarr.open_group(store, mode="r")
    rows, y = group["X"][:], group["y"][:]
    scaling = logreg.data.standardize(rows[:1500].T)
    numpy = LogisticRegression(learning_rate=0.5, num_iterations=60,
                               implementation="vectorized").fit(
        scaling.apply(rows[:1500].T).T, y[:1500])
    model = logreg.load(out / "model.safetensors")
    assert model.coef_.shape == (K, 4) and model.classes_.tolist() == [0, 1, 2]
    np.testing.assert_allclose(model.coef_, numpy.coef_, rtol=0, atol=1e-10)
    predicted = model.predict(scaling.apply(rows[1500:].T).T)
    test_accuracy = float(stdout.split("test accuracy: ")[1].split(" %")[0])
    assert test_accuracy == pytest.approx(100 * accuracy_score(y[1500:], predicted), abs=1e-9)
