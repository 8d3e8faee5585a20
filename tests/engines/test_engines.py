"""The engine table (logreg.engines): every setting on every array library (SciPy sparse
included), dtype, weighting and penalty, for the notes' neuron (two classes) and a softmax
layer (K = 3). Where the table serves it, the engine's (J, dw, db) equal the notes' NumPy lines
computed in float64 (to 1e-10 in float64, 1e-5 in float32) and come back in X's library, dtype
and device; where it does not, the fit stops with a LogregError naming the combination and what
would work, before any training."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

import logreg
from logreg import engines, solvers
from logreg.core import neuron
from logreg.errors import InvalidInputError, LogregError

torch = pytest.importorskip("torch")
xp_strict = pytest.importorskip("array_api_strict")
da = pytest.importorskip("dask.array")

N_X, M = 5, 300
LIBRARIES = ("numpy", "sparse", "torch", "array_api_strict", "dask")
K = 3  # the classes of the softmax layer
SETTINGS = [("closed-form", implementation) for implementation in engines.IMPLEMENTATIONS] + [
    ("graph", "auto")]


def problem(dtype, classes=2):
    """X (n_x, m), Y (1, m), weights (1, m), w (n_x, 1), b: NumPy, in ``dtype``; for K
    classes Y one-hot (K, m), W (n_x, K) and b (K, 1)."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N_X, M)) * (rng.random((N_X, M)) < 0.7)  # some zeros, for sparse
    s = rng.uniform(0.2, 2.0, (1, M))
    if classes == 2:
        Y = (rng.random((1, M)) < 0.4).astype(float)
        w, b = rng.standard_normal((N_X, 1)) * 0.5, 0.3
        return [a.astype(dtype) for a in (X, Y, s, w)] + [b]
    Y = (np.arange(classes)[:, None] == rng.integers(0, classes, M)).astype(float)
    W, b = rng.standard_normal((N_X, classes)) * 0.5, rng.standard_normal((classes, 1))
    return [a.astype(dtype) for a in (X, Y, s, W, b)]


def as_library(a, library):
    """A NumPy array in ``library``; X keeps its examples contiguous (rows transposed)."""
    if library == "numpy":
        return np.ascontiguousarray(a.T).T if a.ndim == 2 else a
    if library == "sparse":  # X as the estimator hands it over: CSR rows, transposed (CSC)
        return sp.csr_matrix(a.T).T
    if library == "torch":
        return torch.from_numpy(np.ascontiguousarray(a))
    if library == "array_api_strict":
        return xp_strict.asarray(a)
    return da.from_array(a, chunks=(a.shape[0], 100))


def host(a):
    return logreg.core.arrays.to_numpy(a)


def cases():
    for (backprop, implementation), library, dtype, weighted, l2, classes in itertools.product(
            SETTINGS, LIBRARIES, ("float64", "float32"), (False, True), (0.0, 0.8), (2, K)):
        yield pytest.param(backprop, implementation, library, dtype, weighted, l2, classes,
                           id=f"{backprop}-{implementation}-{library}-{dtype}"
                              f"{'-weighted' if weighted else ''}{'-l2' if l2 else ''}"
                              f"-{classes}classes")


@pytest.mark.parametrize("backprop, implementation, library, dtype, weighted, l2, classes",
                         list(cases()))
def test_every_combination_matches_the_notes_or_is_refused(backprop, implementation, library,
                                                           dtype, weighted, l2, classes):
    X, Y, s, w, b = problem(dtype, classes)
    X_lib = as_library(X, library)
    dense = "numpy" if library == "sparse" else library  # Y, w, b and weights stay dense
    Y_lib, w_lib = (as_library(a, dense) for a in (Y, w))
    b_lib = b if classes == 2 else as_library(b, dense)
    s_lib = as_library(s, dense) if weighted else None
    if library == "dask":
        w_lib, b_lib = w, b  # the dask engine keeps w and b on the client, as NumPy
    try:
        plan = engines.resolve(X_lib, backprop=backprop, implementation=implementation,
                               solver="lbfgs", sample_weight=s_lib, l2=l2)
    except InvalidInputError as error:
        message = str(error)
        assert "is not supported" in message and "What would work" in message
        assert dtype in message and ("sample weights" in message) == weighted
        asked = "backprop='graph'" if backprop == "graph" else f"implementation={implementation!r}"
        assert asked in message
        return
    cost, dw, db = plan.loss_and_gradient(w_lib, b_lib, X_lib, Y_lib, s_lib, l2)
    # the notes' NumPy lines, in float64 on dense X: the truth
    want = neuron.loss_and_gradient(w.astype(float), np.asarray(b, dtype=float),
                                    X.astype(float), Y.astype(float),
                                    s.astype(float) if weighted else None, l2)
    assert np.shape(host(dw)) == w.shape and np.shape(host(db)) == np.shape(b)
    tolerance = 1e-10 if dtype == "float64" else 1e-5
    for got, expected in zip((cost, dw, db), want):
        np.testing.assert_allclose(np.asarray(host(got), dtype=float), expected,
                                   rtol=tolerance, atol=tolerance)
    # dw comes back where the table says: X's library (and device), or NumPy for dask
    assert str(dw.dtype).endswith(dtype)
    if plan.engine.returns == "NumPy":
        assert isinstance(dw, np.ndarray)
    elif library == "sparse":
        assert isinstance(dw, np.ndarray)  # the gradient is dense
    else:
        assert engines.library_of(dw) == engines.library_of(X_lib)
        assert logreg.core.arrays.device(dw) == logreg.core.arrays.device(X_lib)


@pytest.mark.parametrize("library, dtype", list(itertools.product(LIBRARIES, ("float64", "float32"))))
def test_auto_serves_every_library_and_dtype(library, dtype):
    X, *_ = problem(dtype)
    plan = engines.resolve(as_library(X, library))
    want = {"numpy": "vectorized", "sparse": "fused", "torch": "array-api",
            "array_api_strict": "array-api", "dask": "dask"}[library]
    assert plan.engine.name == want


@pytest.mark.parametrize("library, settings, names", [
    ("torch", {"implementation": "fused"}, "implementation='fused'"),
    ("torch", {"backprop": "graph"}, "backprop='graph'"),
    ("torch", {"implementation": "loop"}, "implementation='loop'"),
    ("dask", {"implementation": "loop"}, "implementation='loop'"),
    ("dask", {"implementation": "semi"}, "implementation='semi'"),
    ("dask", {"backprop": "graph"}, "backprop='graph'"),
    ("array_api_strict", {"implementation": "fused"}, "implementation='fused'"),
    ("numpy", {"backprop": "graph", "implementation": "fused"}, "backprop='graph'"),
])
def test_unsupported_fits_stop_before_any_training(monkeypatch, library, settings, names):
    """The issue's examples: a LogregError that names the combination and what would work,
    raised before the solver runs (the solvers are replaced by a trap)."""
    def trap(*args, **kwargs):
        raise AssertionError("training started")

    from logreg.model import estimator  # imported first: it copies solvers.SOLVERS on import

    monkeypatch.setattr(solvers, "SOLVERS", {"gd": trap, "lbfgs": trap})
    monkeypatch.setattr(estimator, "SOLVERS", {"gd": trap, "lbfgs": trap})
    X, Y, *_ = problem("float64")
    rows = as_library(np.ascontiguousarray(X.T), library)
    with pytest.raises(LogregError, match=f"{names}.*What would work|{names}.*implementation="
                                          f"'auto'"):
        logreg.LogisticRegression(learning_rate=0.1, **settings).fit(rows, Y.ravel() > 0)


def test_the_example_space_engine_serves_gradient_descent_only():
    wide = np.ones((400, 60))  # n_x = 400 ≫ m = 60
    assert engines.resolve(wide, num_iterations=500).engine.name == "example-space"
    assert engines.resolve(wide, solver="lbfgs").engine.name == "vectorized"
    assert engines.resolve(wide, l2=1.0, num_iterations=500).engine.name == "vectorized"
    assert engines.resolve(wide, num_iterations=10).engine.name == "vectorized"  # m > steps


def test_fused_serves_auto_on_large_contiguous_data_only():
    from logreg.engines import fused

    big = np.empty((200_000, 500)).T  # examples contiguous, 800 MB of float64
    assert big.nbytes >= fused.MIN_BYTES
    assert engines.resolve(big).engine.name == "fused"
    strided = np.empty((500, 200_000))  # C order: each example (a column) strided
    assert engines.resolve(strided).engine.name == "vectorized"  # NumPy rather than a copy
    with pytest.raises(InvalidInputError, match="contiguous"):
        engines.resolve(strided, implementation="fused")


def test_dtype_is_honoured_on_every_library():
    """dtype= converts X where it lives: float32 work on PyTorch and Dask, as on NumPy."""
    X, Y, *_ = problem("float64")
    rows, y = np.ascontiguousarray(X.T), Y.ravel()
    for library in LIBRARIES:
        if library == "sparse":
            continue  # the estimator takes SciPy sparse rows (CSR), tested in test_multiclass
        clf = logreg.LogisticRegression(learning_rate=0.1, num_iterations=3, dtype="float32")
        clf.fit(as_library(rows, library) if library != "dask"
                else da.from_array(rows, chunks=(100, N_X)), y)
        assert str(clf.coef_.dtype).endswith("float32"), library


def test_an_unsupported_dtype_says_which_would_work():
    X = torch.ones((N_X, M), dtype=torch.float16)
    with pytest.raises(InvalidInputError, match="float16.*dtype='float32'|float16"):
        engines.resolve(X)


def test_the_table_is_documented():
    """docs/design.md carries the table as ``engines.table()`` prints it."""
    from pathlib import Path

    design = (Path(__file__).parents[2] / "docs" / "design.md").read_text()
    assert engines.table() in design


@pytest.mark.parametrize("settings, fragment", [
    ({"implementation": "nope"}, "implementation='nope'; expected one of"),
    ({"backprop": "autograd"}, "backprop='autograd'; expected one of"),
])
def test_resolve_names_an_unknown_setting(settings, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        engines.resolve(np.ones((3, 3)), **settings)


def test_the_solvers_an_engine_serves_follow_from_its_second_derivatives():
    """The table's solvers column is derived: newton exactly where a row carries ``curvature``
    (gradient descent's own example-space steps serve gd alone either way)."""
    import dataclasses

    for engine in engines.ENGINES.values():
        assert ("newton" in engine.solvers) == (engine.curvature is not None)
        without = dataclasses.replace(engine, curvature=None)
        carrying = dataclasses.replace(engine, curvature="logreg.engines.vectorized:problem")
        assert "newton" not in without.solvers and "gd" in without.solvers
        assert ("newton" in carrying.solvers) == (engine.only_solver is None)


def test_resolve_hands_newton_the_chosen_engines_second_derivatives():
    from logreg.engines import vectorized as curvature, fused_curvature

    pytest.importorskip("numba")
    X = np.ones((40, 3)).T  # the notes' layout, each example contiguous
    for implementation, module in (("vectorized", curvature), ("fused", fused_curvature)):
        plan = engines.resolve(X, implementation=implementation, solver="newton")
        assert plan.engine.name == implementation and plan.curvature is module.problem
        assert engines.resolve(X, implementation=implementation, solver="gd").curvature is None
