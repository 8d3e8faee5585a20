"""The array-API core on a GPU: PyTorch (CUDA) and CuPy. Skipped where there is no GPU; run by
scripts/gpu_check.sh on a machine that has one."""

import numpy as np
import pytest

from logreg import LogisticRegression
from logreg.core import neuron
from helpers import import_torch


def cuda_torch():
    torch = import_torch()
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device for PyTorch")
    return torch


def cupy_module():
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # no driver or no device
        pytest.skip(f"no CUDA device for CuPy ({error})")
    return cupy


def problem(m=2000, n=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    y = (X @ rng.normal(size=n) + rng.normal(size=m) > 0).astype(np.int64)
    return X, y


@pytest.fixture(params=["torch", "cupy"])
def gpu(request):
    if request.param == "torch":
        torch = cuda_torch()
        return (lambda a: torch.as_tensor(a, device="cuda"), lambda a: a.cpu().numpy(),
                lambda a: a.device.type == "cuda")
    cupy = cupy_module()
    return cupy.asarray, cupy.asnumpy, lambda a: isinstance(a, cupy.ndarray)


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_gpu_fit_equals_numpy_and_stays_on_the_device(gpu, solver):
    to_gpu, to_host, on_gpu = gpu
    X, y = problem()
    reference = LogisticRegression(solver=solver, num_iterations=200,
                                   implementation="vectorized").fit(X, y)
    clf = LogisticRegression(solver=solver, num_iterations=200).fit(to_gpu(X), to_gpu(y))
    assert on_gpu(clf.coef_) and on_gpu(clf.intercept_)
    np.testing.assert_allclose(to_host(clf.coef_), reference.coef_, rtol=1e-10)
    proba = clf.predict_proba(to_gpu(X))
    assert on_gpu(proba)
    np.testing.assert_allclose(to_host(proba), reference.predict_proba(X), rtol=1e-9, atol=1e-15)


def test_gpu_gradients_equal_numpy(gpu):
    to_gpu, to_host, on_gpu = gpu
    X, y = problem(m=500, n=7)
    w, b = np.full((7, 1), 0.05), 0.1
    cost, dw, db = neuron.loss_and_gradient(to_gpu(w), b, to_gpu(X.T),
                                            to_gpu(y.reshape(1, -1).astype(float)))
    reference = neuron.loss_and_gradient(w, b, X.T, y.reshape(1, -1).astype(float))
    assert on_gpu(dw)
    assert float(cost) == pytest.approx(reference[0], rel=1e-12)
    np.testing.assert_allclose(to_host(dw), reference[1], rtol=1e-12)
