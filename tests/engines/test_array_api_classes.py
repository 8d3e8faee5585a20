"""K classes on other array libraries: the softmax layer's lines (``neuron``) and the labels
(``arrays.class_labels``) on PyTorch (CPU, and CUDA where there is one), array-api-strict and
CuPy (where present), against independent truth: the cost and gradient written with SciPy's
``logsumexp`` and ``softmax`` on NumPy, scikit-learn's ``LabelBinarizer`` for the one-hot Y, and
the NumPy fit for the estimator."""

import numpy as np
import pytest
from scipy.special import logsumexp, softmax
from sklearn.preprocessing import LabelBinarizer

from logreg import LogisticRegression
from logreg.core import arrays, neuron
from logreg.core.checks import classes_of_labels
from logreg.errors import InvalidInputError
from helpers import import_torch

K = 3


def library(name):
    """(asarray on the library's device, to NumPy, the library's array type check)."""
    if name == "array_api_strict":
        xp = pytest.importorskip("array_api_strict")
        return xp.asarray, lambda a: np.from_dlpack(a), lambda a: type(a) is type(xp.asarray(0))
    if name in ("torch", "torch-cuda"):
        torch = import_torch()
        where = "cuda" if name == "torch-cuda" else "cpu"
        if where == "cuda" and not torch.cuda.is_available():
            pytest.skip("no CUDA device for PyTorch")
        return (lambda a: torch.as_tensor(np.asarray(a), device=where),
                lambda a: a.detach().cpu().numpy(),
                lambda a: isinstance(a, torch.Tensor) and a.device.type == where)
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # noqa: BLE001 (no driver or no device)
        pytest.skip(f"no CUDA device for CuPy ({error})")
    return cupy.asarray, cupy.asnumpy, lambda a: isinstance(a, cupy.ndarray)


@pytest.fixture(params=["array_api_strict", "torch", "torch-cuda", "cupy"])
def lib(request):
    return library(request.param)


def problem(m=240, n=5, seed=0):
    """Rows (m, n) and labels of K classes from a true softmax model (a finite optimum)."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(m, n))
    Z = rows @ rng.normal(size=(n, K)) + rng.normal(size=K)
    u = rng.random((m, 1))
    y = (u >= np.cumsum(softmax(Z, axis=1), axis=1)[:, :-1]).sum(axis=1)
    return rows, y


def one_hot(y):
    return (y == np.arange(K).reshape(-1, 1)).astype(np.float64)  # Y (K, m)


def truth(W, b, X, Y, s=None, l2=0.0):
    """The softmax layer's (J, dW, db) written from the definitions with SciPy."""
    s = np.ones((1, X.shape[1])) if s is None else s
    Z = W.T @ X + b
    # L = logsumexp(z) − Σ_k y_k z_k; J = Σ sᵢ Lᵢ / Σ sᵢ + λ/(2 Σ s) ‖W‖²
    L = logsumexp(Z, axis=0) - np.sum(Y * Z, axis=0)
    total = s.sum()
    dZ = s * (softmax(Z, axis=0) - Y)
    J = np.sum(s * L) / total + l2 / (2 * total) * np.sum(W * W)
    return J, X @ dZ.T / total + l2 / total * W, dZ.sum(axis=1, keepdims=True) / total


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weights-l2"])
def test_softmax_layer_equals_numpy_on_each_library(lib, dtype, tol, weighted):
    to_lib, to_host, own = lib
    rows, y = problem()
    rng = np.random.default_rng(1)
    X, Y = rows.T, one_hot(y)
    W, b = rng.normal(size=(5, K)), rng.normal(size=(K, 1))
    s, l2 = (rng.uniform(0.5, 2.0, (1, X.shape[1])), 0.7) if weighted else (None, 0.0)
    want = truth(W, b, X, Y, s, l2)
    numpy = neuron.loss_and_gradient(W, b, X, Y, s, l2)
    got = neuron.loss_and_gradient(
        *(to_lib(a.astype(dtype)) for a in (W, b, X, Y)),
        None if s is None else to_lib(s.astype(dtype)), l2)
    assert all(own(a) for a in got)  # the library's own arrays, on its device
    assert tuple(got[1].shape) == (5, K) and tuple(got[2].shape) == (K, 1)
    for value, numpys, exact in zip(got, numpy, want):
        assert to_host(value).dtype == dtype
        np.testing.assert_allclose(to_host(value), exact, rtol=tol, atol=tol)
        np.testing.assert_allclose(to_host(value), numpys, rtol=tol, atol=tol)


def test_log_softmax_is_finite_for_huge_z_on_each_library(lib):
    to_lib, to_host, own = lib
    Z = np.array([[1000.0, -1000.0, 0.0], [0.0, 0.0, 0.0], [-1000.0, 1000.0, 0.0]])
    Y = np.eye(3)[:, [2, 0, 0]]  # true classes 2, 0, 0
    got = neuron.log_softmax(to_lib(Z))
    assert own(got)
    np.testing.assert_allclose(to_host(got), Z - logsumexp(Z, axis=0), rtol=1e-15)
    # the wrong class certain by 2000: J = mean of (2000, 2000, log 3)
    J = neuron.softmax_cost_from_z(to_lib(Z), to_lib(Y))
    assert float(to_host(J)) == pytest.approx((2000 + 2000 + np.log(3)) / 3, rel=1e-15)


@pytest.mark.parametrize("labels", ["integers", "text"])
def test_class_labels_one_hot_in_the_library(lib, labels):
    to_lib, to_host, own = lib
    rows, y = problem(m=30)
    y = np.array(["cat", "dog", "emu"])[y] if labels == "text" else y * 10 + 1
    X = to_lib(rows.astype(np.float32))
    given = y if labels == "text" else to_lib(y)
    classes, Y = arrays.class_labels(given, X, describe=classes_of_labels)
    encoder = LabelBinarizer().fit(y)
    np.testing.assert_array_equal(classes, encoder.classes_)
    assert own(Y) and to_host(Y).dtype == np.float32 and tuple(Y.shape) == (K, 30)
    np.testing.assert_array_equal(to_host(Y), encoder.transform(y).T)
    # a column of labels (m, 1) is the same labels
    _, again = arrays.class_labels(y.reshape(-1, 1), X, describe=classes_of_labels)
    np.testing.assert_array_equal(to_host(again), to_host(Y))


def test_class_labels_two_classes_stay_one_row(lib):
    to_lib, to_host, own = lib
    rows, y = problem(m=40)
    y = np.where(y == 2, 7, 3)  # two classes, 3 and 7
    classes, Y = arrays.class_labels(to_lib(y), to_lib(rows), describe=classes_of_labels)
    assert classes.tolist() == [3, 7] and own(Y) and tuple(Y.shape) == (1, 40)
    np.testing.assert_array_equal(to_host(Y), LabelBinarizer().fit_transform(y).T)
    old_classes, old_Y = arrays.binary_labels(to_lib(y), to_lib(rows), classes_of_labels)
    np.testing.assert_array_equal(old_classes, classes)
    np.testing.assert_array_equal(to_host(old_Y), to_host(Y))


def test_class_labels_refuse_what_fit_refuses(lib):
    to_lib, _, _ = lib
    rows, y = problem(m=20)
    with pytest.raises(InvalidInputError, match="one class only"):
        arrays.class_labels(to_lib(np.zeros(20)), to_lib(rows), classes_of_labels)
    with pytest.raises(InvalidInputError, match="inconsistent numbers of samples"):
        arrays.class_labels(to_lib(y[:10]), to_lib(rows), classes_of_labels)


def test_labels_at_picks_the_classes_in_the_library(lib):
    to_lib, to_host, own = lib
    index = np.array([2, 0, 1, 1])
    got = arrays.labels_at(np.array([10, 20, 30]), to_lib(index))
    assert own(got)
    np.testing.assert_array_equal(to_host(got), [30, 10, 20, 20])
    text = arrays.labels_at(np.array(["a", "b", "c"]), to_lib(index))
    assert isinstance(text, np.ndarray) and text.tolist() == ["c", "a", "b", "b"]


# --- the estimator (the lead's K-class contract: coef_ (K, n), intercept_ (K,)) ----------


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_estimator_fits_three_classes_as_numpy(lib, solver):
    to_lib, to_host, own = lib
    rows, y = problem()
    settings = dict(solver=solver, num_iterations=200, learning_rate=0.5, l2=0.1)
    numpy = LogisticRegression(**settings).fit(rows, y)
    clf = LogisticRegression(**settings).fit(to_lib(rows), to_lib(y))
    assert own(clf.coef_) and own(clf.intercept_)
    assert tuple(clf.coef_.shape) == (K, 5) and tuple(clf.intercept_.shape) == (K,)
    assert np.asarray(clf.classes_).tolist() == [0, 1, 2]
    np.testing.assert_allclose(to_host(clf.coef_), numpy.coef_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(to_host(clf.intercept_), numpy.intercept_, rtol=1e-8, atol=1e-8)
    proba = clf.predict_proba(to_lib(rows))
    assert own(proba) and tuple(proba.shape) == (len(y), K)
    np.testing.assert_allclose(to_host(proba), numpy.predict_proba(rows), rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(arrays.to_numpy(clf.predict(to_lib(rows))),
                                  numpy.predict(rows))
    # the estimator's predictions are the argmax of its own probabilities
    np.testing.assert_array_equal(numpy.predict(rows),
                                  numpy.classes_[np.argmax(numpy.predict_proba(rows), axis=1)])
