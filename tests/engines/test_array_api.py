"""The same code on other array libraries: array-api-strict (only the standard is used) and
PyTorch on the CPU give NumPy's parameters, and keep their arrays in their own library."""

import numpy as np
import pytest

from logreg import LogisticRegression
from logreg.core import neuron
from logreg.errors import InvalidInputError
from helpers import import_torch


def problem(m=300, n=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=m) > 0).astype(np.int64)
    return X, y


@pytest.fixture(params=["array_api_strict", "torch"])
def xp(request):
    return import_torch() if request.param == "torch" else pytest.importorskip(request.param)


def to_numpy(a):
    return a.numpy() if hasattr(a, "numpy") else np.from_dlpack(a)


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


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_estimator_gives_numpys_parameters(xp, solver):
    X, y = problem()
    reference = LogisticRegression(solver=solver, num_iterations=300).fit(X, y)
    clf = LogisticRegression(solver=solver, num_iterations=300).fit(xp.asarray(X),
                                                                    xp.asarray(y))
    assert type(clf.coef_) is type(xp.asarray(X))
    np.testing.assert_allclose(to_numpy(clf.coef_), reference.coef_, rtol=1e-10)
    np.testing.assert_allclose(to_numpy(clf.intercept_), reference.intercept_, rtol=1e-10)
    proba = clf.predict_proba(xp.asarray(X))
    assert type(proba) is type(xp.asarray(X)) and tuple(proba.shape) == (300, 2)
    np.testing.assert_allclose(to_numpy(proba), reference.predict_proba(X), rtol=1e-9)
    np.testing.assert_array_equal(clf.predict(xp.asarray(X)), reference.predict(X))


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
