"""The same code on other array libraries: array-api-strict (only the standard is used),
PyTorch (CPU, and CUDA where there is one) and CuPy (where present) give NumPy's numbers, and
keep their arrays in their own library, for two classes and for K. The truth is independent: the
NumPy fit for the estimator; for K classes the cost and gradient written with SciPy's
``logsumexp`` and ``softmax`` on NumPy and scikit-learn's ``LabelBinarizer`` for the one-hot Y."""

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
LIBRARIES = ["array_api_strict", "torch", "torch-cuda", "cupy"]


def problem(m=300, n=4, seed=0):
    """Rows (m, n) and labels 0/1 of two classes."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=m) > 0).astype(np.int64)
    return X, y


def classes_problem(m=240, n=5, seed=0):
    """Rows (m, n) and labels of K classes from a true softmax model (a finite optimum)."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(m, n))
    Z = rows @ rng.normal(size=(n, K)) + rng.normal(size=K)
    u = rng.random((m, 1))
    y = (u >= np.cumsum(softmax(Z, axis=1), axis=1)[:, :-1]).sum(axis=1)
    return rows, y


@pytest.fixture(params=["array_api_strict", "torch"])
def xp(request):
    return import_torch() if request.param == "torch" else pytest.importorskip(request.param)


def to_numpy(a):
    return a.numpy() if hasattr(a, "numpy") else np.from_dlpack(a)


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


@pytest.fixture(params=LIBRARIES)
def lib(request):
    return library(request.param)


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
    rows, y = classes_problem()
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
    rows, y = classes_problem(m=30)
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
    rows, y = classes_problem(m=40)
    y = np.where(y == 2, 7, 3)  # two classes, 3 and 7
    classes, Y = arrays.class_labels(to_lib(y), to_lib(rows), describe=classes_of_labels)
    assert classes.tolist() == [3, 7] and own(Y) and tuple(Y.shape) == (1, 40)
    np.testing.assert_array_equal(to_host(Y), LabelBinarizer().fit_transform(y).T)
    old_classes, old_Y = arrays.binary_labels(to_lib(y), to_lib(rows), classes_of_labels)
    np.testing.assert_array_equal(old_classes, classes)
    np.testing.assert_array_equal(to_host(old_Y), to_host(Y))


def test_class_labels_refuse_what_fit_refuses(lib):
    to_lib, _, _ = lib
    rows, y = classes_problem(m=20)
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


def test_neuron_is_array_api_generic(xp):
    X, y = problem()
    w, b = np.full((4, 1), 0.1), 0.2
    reference = neuron.loss_and_gradient(w, b, X.T, y.reshape(1, -1).astype(float))
    cost, dw, db = neuron.loss_and_gradient(xp.asarray(w), b, xp.asarray(X.T),
                                            xp.asarray(y.reshape(1, -1).astype(float)))
    assert type(dw) is type(xp.asarray(w))  # the library's own array, not NumPy
    assert float(cost) == pytest.approx(reference[0], rel=1e-12)
    np.testing.assert_allclose(to_numpy(dw), reference[1], rtol=1e-12)
    assert float(db) == pytest.approx(reference[2], rel=1e-12)
    assert to_numpy(neuron.sigmoid(xp.asarray([-1000.0, 0.0, 1000.0]))).tolist() == [0, 0.5, 1]


# --- the estimator: coef_ (K', n), intercept_ (K',), K' = 1 for two classes ----------------

# K: the data, the settings and the tolerances (coef_ and intercept_; predict_proba) of its fit
FITS = {2: (problem, dict(num_iterations=300), dict(rtol=1e-10), dict(rtol=1e-9)),
        K: (classes_problem, dict(num_iterations=200, learning_rate=0.5, l2=0.1),
            dict(rtol=1e-8, atol=1e-8), dict(rtol=1e-7, atol=1e-9))}


@pytest.mark.parametrize("lib, classes", [(name, 2) for name in ("array_api_strict", "torch")]
                         + [(name, K) for name in LIBRARIES], indirect=["lib"])
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_estimator_gives_numpys_parameters(lib, classes, solver):
    to_lib, to_host, own = lib
    data, settings, close, close_proba = FITS[classes]
    rows, y = data()
    m, n = rows.shape
    outputs = 1 if classes == 2 else classes
    numpy = LogisticRegression(solver=solver, **settings).fit(rows, y)
    clf = LogisticRegression(solver=solver, **settings).fit(to_lib(rows), to_lib(y))
    assert own(clf.coef_) and own(clf.intercept_)
    assert tuple(clf.coef_.shape) == (outputs, n) and tuple(clf.intercept_.shape) == (outputs,)
    assert np.asarray(clf.classes_).tolist() == list(range(classes))
    np.testing.assert_allclose(to_host(clf.coef_), numpy.coef_, **close)
    np.testing.assert_allclose(to_host(clf.intercept_), numpy.intercept_, **close)
    proba = clf.predict_proba(to_lib(rows))
    assert own(proba) and tuple(proba.shape) == (m, classes)
    np.testing.assert_allclose(to_host(proba), numpy.predict_proba(rows), **close_proba)
    np.testing.assert_array_equal(arrays.to_numpy(clf.predict(to_lib(rows))),
                                  numpy.predict(rows))
    # the estimator's predictions are the argmax of its own probabilities
    np.testing.assert_array_equal(numpy.predict(rows),
                                  numpy.classes_[np.argmax(numpy.predict_proba(rows), axis=1)])


def test_sample_weight_and_float32(xp):
    X, y = problem()
    s = np.linspace(0.5, 2.0, len(y))
    reference = LogisticRegression(num_iterations=100).fit(X.astype(np.float32), y,
                                                           sample_weight=s)
    clf = LogisticRegression(num_iterations=100).fit(xp.asarray(X.astype(np.float32)),
                                                     xp.asarray(y), sample_weight=xp.asarray(s))
    assert clf.coef_.dtype == xp.float32
    np.testing.assert_allclose(to_numpy(clf.coef_), reference.coef_, rtol=1e-4)


def test_bad_input_is_refused_in_its_library(xp):
    X, y = problem(m=20)
    with pytest.raises(InvalidInputError, match="2-D"):
        LogisticRegression().fit(xp.asarray(X[:, 0]), xp.asarray(y))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        LogisticRegression().fit(xp.asarray(bad), xp.asarray(y))
    clf = LogisticRegression(num_iterations=5).fit(xp.asarray(X), xp.asarray(y))
    with pytest.raises(InvalidInputError, match="expecting 4 features"):
        clf.predict(xp.asarray(X[:, :3]))


def test_tags_declare_array_api_support():
    assert LogisticRegression().__sklearn_tags__().array_api_support is True


def test_estimator_on_dask_arrays_takes_one_pass_per_step():
    """Dask input: the steps compute cost, dw and db together; w and b stay NumPy."""
    da = pytest.importorskip("dask.array")
    X, y = problem(m=4000, n=5)
    reference = LogisticRegression(num_iterations=60, implementation="vectorized").fit(X, y)
    clf = LogisticRegression(num_iterations=60).fit(da.from_array(X, chunks=(1000, 5)),
                                                    da.from_array(y, chunks=1000))
    assert isinstance(clf.coef_, np.ndarray)
    np.testing.assert_allclose(clf.coef_, reference.coef_, rtol=1e-10)
    proba = clf.predict_proba(da.from_array(X, chunks=(1000, 5)))
    np.testing.assert_allclose(np.asarray(proba), reference.predict_proba(X), rtol=1e-9)
