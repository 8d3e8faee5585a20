"""The estimator's fast paths give the notes' numbers: the fused kernel in a fit, float32 end
to end, L-BFGS against scikit-learn's solution of the same problem, and numba's cache. The
kernel itself, for two classes and K: test_fused.py."""

import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

import logreg
from logreg import LogisticRegression
from logreg.engines import fused
from logreg.core import neuron

pytestmark = pytest.mark.skipif(not fused.available(), reason="numba is not installed")


def rows_problem(m, n, seed=0, dtype=np.float64):
    """Rows as examples (m, n), labels drawn from a true logistic model (finite optimum)."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(m, n))
    z = rows @ (rng.normal(size=n) / np.sqrt(n)) + 0.3
    y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float)
    return rows.astype(dtype), y


def test_estimator_fused_reaches_the_vectorized_model():
    rows, y = rows_problem(20000, 10)
    fast = LogisticRegression(implementation="fused", num_iterations=200).fit(rows, y)
    plain = LogisticRegression(implementation="vectorized", num_iterations=200).fit(rows, y)
    np.testing.assert_allclose(fast.coef_, plain.coef_, rtol=1e-10)
    np.testing.assert_allclose(fast.costs_, plain.costs_, rtol=1e-12)
    # "auto": the fused kernel once X outgrows the cache, NumPy below (its second pass is cheap)
    assert not fused.wins(rows.T)
    auto = LogisticRegression(num_iterations=200).fit(rows, y)
    np.testing.assert_array_equal(auto.coef_, plain.coef_)
    assert fused.wins(np.empty((200_000, 500)).T)
    assert not fused.wins(np.empty((500, 200_000)))  # examples not contiguous: no copy, NumPy
    assert not fused.wins(np.empty((200_000, 500), dtype=np.int64).T)


@pytest.mark.parametrize("implementation", ["fused", "vectorized"])
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_float32_end_to_end(implementation, solver):
    rows, y = rows_problem(20000, 10)
    reference = LogisticRegression(solver=solver, implementation=implementation,
                                   num_iterations=100).fit(rows, y)
    clf = LogisticRegression(solver=solver, implementation=implementation, dtype="float32",
                             num_iterations=100).fit(rows, y)
    assert clf.coef_.dtype == np.float32 and clf.intercept_.dtype == np.float32
    assert clf.decision_function(rows).dtype == np.float32
    np.testing.assert_allclose(clf.coef_, reference.coef_, rtol=2e-3, atol=1e-4)
    # float32 input keeps float32 without being asked; float64 stays the default
    assert LogisticRegression(num_iterations=5).fit(rows.astype(np.float32), y).coef_.dtype \
        == np.float32
    assert reference.coef_.dtype == np.float64


def breast_cancer(columns):
    data = load_breast_cancer()
    return StandardScaler().fit_transform(data.data[:, columns]), data.target


@pytest.mark.parametrize("columns", [[0, 1], [0, 1, 4, 8, 9]])
def test_lbfgs_matches_scikit_learn(columns):
    X, y = breast_cancer(columns)
    ours = LogisticRegression(solver="lbfgs", tol=1e-10, num_iterations=1000).fit(X, y)
    sk = SkLogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, sk.intercept_, rtol=1e-6)
    assert ours.n_iter_ == len(ours.costs_) - 1 < 100  # L-BFGS: tens of iterations, not 1000s
    assert all(b <= a for a, b in zip(ours.costs_, ours.costs_[1:]))


def test_lbfgs_with_weights_and_l2_matches_scikit_learn():
    X, y = breast_cancer([0, 1, 4])
    s = np.random.default_rng(0).uniform(0.2, 2.0, size=len(y))
    ours = LogisticRegression(solver="lbfgs", l2=0.5, tol=1e-10, num_iterations=1000).fit(
        X, y, sample_weight=s)
    sk = SkLogisticRegression(C=2.0, tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=s)
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=1e-6)


def test_lbfgs_warns_when_it_stops_early():
    X, y = breast_cancer([0, 1, 4, 8, 9])
    with pytest.warns(ConvergenceWarning, match="num_iterations=2 before converging.*Raise"):
        clf = LogisticRegression(solver="lbfgs", num_iterations=2).fit(X, y)
    assert clf.n_iter_ == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LogisticRegression(solver="lbfgs", num_iterations=1000).fit(X, y)


def test_lbfgs_reaches_the_minimum_gradient_descent_approaches():
    X, y = breast_cancer([0, 1])
    quasi_newton = LogisticRegression(solver="lbfgs").fit(X, y)
    descent = LogisticRegression(num_iterations=20000, tol=1e-15).fit(X, y)
    assert quasi_newton.costs_[-1] == pytest.approx(descent.costs_[-1], rel=1e-9)
    assert quasi_newton.n_iter_ < 30 < descent.n_iter_


@pytest.mark.parametrize("weighted", [False, True])
def test_example_space_steps_are_the_notes_steps(weighted):
    """Far more features than examples: "auto" takes the steps in the span of the examples."""
    rows, y = rows_problem(60, 400)
    s = np.random.default_rng(2).uniform(0.5, 2.0, size=60) if weighted else None
    auto = LogisticRegression(learning_rate=0.05, num_iterations=500).fit(
        rows, y, sample_weight=s)
    assert auto.engine_["name"] == "example-space"
    plain = LogisticRegression(learning_rate=0.05, num_iterations=500,
                               implementation="vectorized").fit(rows, y, sample_weight=s)
    np.testing.assert_allclose(auto.coef_, plain.coef_, rtol=1e-10, atol=1e-14)
    assert auto.intercept_[0] == pytest.approx(plain.intercept_[0], rel=1e-10)
    np.testing.assert_allclose(auto.costs_, plain.costs_, rtol=1e-12)


def test_example_space_keeps_the_tol_behaviour():
    rows, y = rows_problem(60, 400)
    auto = LogisticRegression(num_iterations=5000, tol=1e-6).fit(rows, y)
    plain = LogisticRegression(num_iterations=5000, tol=1e-6,
                               implementation="vectorized").fit(rows, y)
    assert auto.engine_["name"] == "example-space" and plain.engine_["name"] == "vectorized"
    assert auto.n_iter_ == plain.n_iter_ < 5000
    np.testing.assert_allclose(auto.coef_, plain.coef_, rtol=1e-9)


def test_cat_recipe_through_the_estimator(catvnoncat):
    from logreg.data import image_scaling, load_h5

    scale = image_scaling()
    train = load_h5(catvnoncat / "train_catvnoncat.h5")
    test = load_h5(catvnoncat / "test_catvnoncat.h5")
    rows, test_rows = scale.apply(train.X).T, scale.apply(test.X).T
    clf = LogisticRegression(learning_rate=0.005, num_iterations=2000).fit(rows, train.Y.ravel())
    assert neuron.accuracy(clf.predict(rows).reshape(1, -1), train.Y) == 99.04306220095694
    assert neuron.accuracy(clf.predict(test_rows).reshape(1, -1), test.Y) == 70.0
    params, _, _ = neuron.optimize(np.zeros((12288, 1)), 0.0, rows.T, train.Y, 2000, 0.005)
    np.testing.assert_allclose(clf.coef_.ravel(), params["w"].ravel(), rtol=1e-9, atol=1e-13)


# --- numba's cache: every kernel compiles once, later processes load it ------------------------

# One evaluation of each kernel (the neuron and K = 3 classes, dense and sparse X, float64 and
# float32): eight compiled signatures. Their (J, dW, db) are saved to the .npz named by argv[1].
EVERY_KERNEL = """
import sys
import numpy as np
import scipy.sparse as sp
from logreg.engines import fused

rng = np.random.default_rng(0)
rows = rng.standard_normal((600, 20)) * (rng.random((600, 20)) < 0.3)
results = {"rows": rows}
for K in (1, 3):
    Y = (np.arange(K)[:, None] == rng.integers(0, 2 if K == 1 else K, 600)).astype(float)
    W, b = rng.standard_normal((20, K)), rng.standard_normal((K, 1))  # K = 1: b[0, 0]
    results.update({f"Y-{K}": Y, f"W-{K}": W, f"b-{K}": b})
    for dtype in ("float64", "float32"):
        dense = rows.astype(dtype).T
        for layout, X in (("dense", dense), ("sparse", sp.csr_array(dense.T).T)):
            J, dW, db = fused.loss_and_gradient(W, b[0, 0] if K == 1 else b, X, Y)
            results.update({f"{layout}-{dtype}-{K}-J": J, f"{layout}-{dtype}-{K}-dW": dW,
                            f"{layout}-{dtype}-{K}-db": db})
np.savez(sys.argv[1], **results)
"""


def fresh_python(script, *arguments, **env):
    """``script`` run by a fresh interpreter on this logreg (the one under test), with ``env``
    added to the environment: its standard output."""
    source = str(pathlib.Path(logreg.__file__).parent.parent)
    env = dict(os.environ, **env,
               PYTHONPATH=os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", script, *arguments], env=env, text=True,
                          capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_every_kernel(cache, out):
    """EVERY_KERNEL in a fresh interpreter, numba's cache in ``cache`` and its cache log on:
    (the log's lines, the results)."""
    log = fresh_python(EVERY_KERNEL, str(out), NUMBA_CACHE_DIR=str(cache), NUMBA_DEBUG_CACHE="1")
    with np.load(out) as results:
        return log.splitlines(), dict(results)


def cache_files(cache):
    """Every file numba's cache holds: its path, size and time of last change."""
    return {path: (path.stat().st_size, path.stat().st_mtime_ns)
            for path in cache.rglob("*") if path.is_file()}


@pytest.mark.slow
def test_every_kernel_compiles_once_and_loads_from_the_cache_after(tmp_path):
    cache = tmp_path / "numba-cache"
    first_log, first = run_every_kernel(cache, tmp_path / "first.npz")
    # the first process compiles the eight signatures and saves them (the cache works here)
    saved = [line for line in first_log if line.startswith("[cache] data saved")]
    assert len(saved) == 8, first_log
    files = cache_files(cache)
    assert sum(path.suffix == ".nbc" for path in files) == 8

    second_log, second = run_every_kernel(cache, tmp_path / "second.npz")
    # a second process loads all eight, compiles nothing and writes nothing
    loaded = [line for line in second_log if line.startswith("[cache] data loaded")]
    assert len(loaded) == 8, second_log
    assert not [line for line in second_log if "saved" in line], second_log
    assert cache_files(cache) == files
    # the loaded code gives the same bits as the compiled one, and the notes' numbers
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(second[key], first[key], err_msg=key)
        assert second[key].dtype == first[key].dtype, key
    for key in [key for key in first if key.endswith("-J")]:
        _, dtype, K, _ = key.split("-")
        b = first[f"b-{K}"] if K != "1" else first[f"b-{K}"][0, 0]  # the neuron's b: a number
        want = neuron.loss_and_gradient(first[f"W-{K}"], b, first["rows"].T, first[f"Y-{K}"])
        tolerance = 1e-10 if dtype == "float64" else 1e-4
        for part, value in zip(("J", "dW", "db"), want):
            got = first[key[:-1] + part]
            assert got.dtype == (np.float64 if part == "J" else np.dtype(dtype)), key
            np.testing.assert_allclose(got, value, rtol=tolerance, atol=tolerance,
                                       err_msg=key[:-1] + part)


def test_numba_loads_only_at_the_first_fused_evaluation():
    script = """
import sys
import numpy as np
import logreg
from logreg import LogisticRegression
from logreg.engines import fused
before = sorted(name for name in sys.modules if name.split(".")[0] == "numba"
                or name == "logreg.engines.fused_kernels")
fused.loss_and_gradient(np.zeros((3, 1)), 0.0, np.ones((3, 5)), np.ones((1, 5)))
print(before, "numba" in sys.modules, "logreg.engines.fused_kernels" in sys.modules)
"""
    assert fresh_python(script).split() == ["[]", "True", "True"]
