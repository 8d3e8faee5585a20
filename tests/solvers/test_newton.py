"""solver="newton" (logreg.solvers.trust_region): the same optimum as scikit-learn on the field's benchmark
problems and beyond, to 1e-8 relative in the objective; its pieces (H v, diag H, the formed H)
against finite differences, with both engines that carry them (vectorized: NumPy and SciPy;
fused: numba kernels), and ``engine_`` naming the one whose code ran; its promises (tol,
num_iterations, warnings, Ctrl-C, errors)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

from logreg import LogisticRegression, engines
from logreg.engines import vectorized as curvature, fused
from logreg.engines import threads as kernel_threads
from logreg.solvers import trust_region as newton
from logreg.errors import InvalidInputError
from logreg.model.validation import targets


def simulated(n, p, seed=0):
    """benchopt's simulated data: X standard normal, β standard normal, y = sign(Xβ)."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    return X, np.sign(X @ rng.randn(p))


def objective(X, y, beta, lam):
    """benchopt's f(β) = Σ log(1 + exp(−yᵢ xᵢᵀβ)) + (λ/2)‖β‖², y in {−1, 1}, no intercept."""
    return np.logaddexp(0, -y * (X @ beta)).sum() + lam / 2 * beta @ beta


def cost(X, y, coef, intercept, lam, sample_weight=None):
    """J = Σ s L / Σ s + (λ / 2 Σ s)‖W‖², computed here from scratch: log-sum-exp over the
    classes (two classes: the logits 0 and z)."""
    classes = np.unique(y)
    Z = np.asarray(X @ coef.T) + intercept  # (m, K')
    if len(classes) == 2:
        Z = np.hstack([np.zeros_like(Z), Z])
    index = np.searchsorted(classes, y)
    losses = np.logaddexp.reduce(Z, axis=1) - Z[np.arange(len(y)), index]
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    return (s @ losses + lam / 2 * np.sum(coef * coef)) / s.sum()


def sklearn_optimum(X, y, lam, fit_intercept=True, sample_weight=None, solver="newton-cg"):
    """scikit-learn's own Newton-CG to a gradient tolerance of 1e-10 (its lbfgs takes minutes
    to get as close on digits at λ = 0.01: 800 iterations)."""
    reference = SklearnLogisticRegression(C=1 / lam, tol=1e-10, max_iter=5000, solver=solver,
                                          fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return reference.fit(X, y, sample_weight=sample_weight)


def assert_same_optimum(ours, theirs, value, rel=1e-8):
    """Ours no worse than scikit-learn's by more than ``rel`` of the objective."""
    assert ours <= theirs + rel * abs(theirs), (ours, theirs, (ours - theirs) / theirs)
    assert value(ours) == pytest.approx(value(theirs), rel=rel)


@pytest.mark.parametrize("lam", [1.0, 0.01], ids=["lambda=1", "lambda=0.01"])
@pytest.mark.parametrize("shape", [(200, 500), (1000, 10)], ids=["200x500", "1000x10"])
def test_benchopt_simulated_sets_reach_sklearns_optimum(shape, lam):
    X, y = simulated(*shape)
    ours = LogisticRegression(solver="newton", l2=lam, fit_intercept=False).fit(X, y)
    theirs = sklearn_optimum(X, y, lam, fit_intercept=False)
    f_ours = objective(X, y, ours.coef_.ravel(), lam)
    f_theirs = objective(X, y, theirs.coef_.ravel(), lam)
    assert_same_optimum(f_ours, f_theirs, lambda f: f)
    assert ours.intercept_.tolist() == [0.0]


@pytest.mark.slow  # 320 MB of data; about half a minute
@pytest.mark.parametrize("lam", [1.0, 0.01], ids=["lambda=1", "lambda=0.01"])
def test_benchopt_large_set_reaches_sklearns_optimum(lam):
    X, y = simulated(100000, 400)
    ours = LogisticRegression(solver="newton", l2=lam, fit_intercept=False).fit(X, y)
    theirs = sklearn_optimum(X, y, lam, fit_intercept=False)
    f_ours = objective(X, y, ours.coef_.ravel(), lam)
    f_theirs = objective(X, y, theirs.coef_.ravel(), lam)
    assert (f_ours - f_theirs) / f_theirs <= 1e-8


def text_like(m=3000, n=5000, classes=2, seed=0):
    """Sparse CSR data, text-like: few non-zeros per row, features of very different
    frequencies (so diag(H) varies a lot), labels from a random linear model."""
    rng = np.random.RandomState(seed)
    density = np.minimum(1.0, 0.2 / np.arange(1, n + 1) ** 0.7)  # Zipf-like columns
    mask = rng.rand(m, n) < density
    X = sp.csr_matrix(mask * rng.exponential(1.0, (m, n)))
    scores = X @ rng.randn(n, classes if classes > 2 else 1)
    if classes == 2:
        return X, (scores[:, 0] > np.median(scores)).astype(int)
    return X, scores.argmax(axis=1)


def datasets():
    from sklearn.datasets import load_digits, load_iris, load_wine

    iris = load_iris(return_X_y=True)
    wine_X, wine_y = load_wine(return_X_y=True)
    digits_X, digits_y = load_digits(return_X_y=True)
    return {
        "iris (K=3)": iris,
        "wine standardised (K=3)": ((wine_X - wine_X.mean(0)) / wine_X.std(0), wine_y),
        "digits /16 (K=10)": (digits_X / 16, digits_y),
        "breast cancer unscaled (binary)": _breast_cancer(),
        "sparse text-like (binary)": text_like(),
        "sparse text-like (K=4)": text_like(classes=4, m=2000, n=3000),
        "wide 300x3000 (binary)": simulated(300, 3000, seed=3),
    }


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


DATASETS = datasets()


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("lam", [1.0, 0.01], ids=["lambda=1", "lambda=0.01"])
@pytest.mark.parametrize("name", list(DATASETS))
def test_reaches_sklearns_optimum_binary_multiclass_dense_sparse(name, lam, fit_intercept):
    X, y = DATASETS[name]
    if name.startswith("breast") and lam == 0.01:
        pytest.skip("unscaled features at λ = 0.01: scikit-learn itself stops short (the test "
                    "below holds ours below it)")
    ours = LogisticRegression(solver="newton", l2=lam, fit_intercept=fit_intercept).fit(X, y)
    theirs = sklearn_optimum(X, y, lam, fit_intercept)
    assert_same_optimum(cost(X, y, ours.coef_, ours.intercept_, lam),
                        cost(X, y, theirs.coef_, theirs.intercept_, lam), lambda f: f)
    assert ours.costs_[-1] == pytest.approx(cost(X, y, ours.coef_, ours.intercept_, lam),
                                            rel=1e-9)


def test_unscaled_features_converge_where_sklearns_lbfgs_stops_short():
    """Breast cancer unscaled (features from 1e-3 to 4e3): the preconditioned Newton method
    still reaches a gradient of 1e-10; its cost is below scikit-learn's."""
    X, y = _breast_cancer()
    ours = LogisticRegression(solver="newton", l2=0.01).fit(X, y)
    theirs = sklearn_optimum(X, y, 0.01, solver="lbfgs")
    assert cost(X, y, ours.coef_, ours.intercept_, 0.01) <= cost(
        X, y, theirs.coef_, theirs.intercept_, 0.01) * (1 + 1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_and_float64_reach_the_same_optimum(dtype):
    X, y = DATASETS["iris (K=3)"]
    ours = LogisticRegression(solver="newton", l2=0.1, dtype=dtype, tol=1e-6).fit(X, y)
    theirs = sklearn_optimum(X, y, 0.1)
    assert ours.coef_.dtype == np.dtype(dtype)
    ours_cost = cost(X, y, ours.coef_.astype(float), ours.intercept_.astype(float), 0.1)
    theirs_cost = cost(X, y, theirs.coef_, theirs.intercept_, 0.1)
    assert ours_cost == pytest.approx(theirs_cost, rel=1e-8 if dtype == "float64" else 1e-6)


def test_sample_and_class_weights_reach_sklearns_optimum():
    X, y = DATASETS["wine standardised (K=3)"]
    weights = np.random.RandomState(0).uniform(0.2, 3.0, len(y))
    ours = LogisticRegression(solver="newton", l2=0.5, class_weight="balanced").fit(
        X, y, sample_weight=weights)
    reference = SklearnLogisticRegression(C=2.0, tol=1e-14, max_iter=100000,
                                          class_weight="balanced").fit(X, y, weights)
    from sklearn.utils.class_weight import compute_sample_weight

    total = weights * compute_sample_weight("balanced", y)
    assert_same_optimum(cost(X, y, ours.coef_, ours.intercept_, 0.5, total),
                        cost(X, y, reference.coef_, reference.intercept_, 0.5, total),
                        lambda f: f)


def test_sparse_and_dense_give_the_same_model():
    X, y = text_like(m=500, n=400)
    dense = LogisticRegression(solver="newton", l2=0.1).fit(X.toarray(), y)
    sparse = LogisticRegression(solver="newton", l2=0.1).fit(X, y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)


def test_fewer_iterations_than_lbfgs_on_an_ill_conditioned_problem():
    X, y = simulated(1000, 10)
    ours = LogisticRegression(solver="newton", l2=0.01, fit_intercept=False).fit(X, y)
    quasi = LogisticRegression(solver="lbfgs", l2=0.01, fit_intercept=False, tol=1e-10).fit(X, y)
    assert ours.n_iter_ < quasi.n_iter_
    assert len(ours.costs_) == ours.n_iter_ + 1
    assert all(later < earlier for earlier, later in zip(ours.costs_, ours.costs_[1:]))


# ---- the pieces: H v, diag H, the formed H, against finite differences of ∇J ----

# the builders of Newton's products, one per engine that carries them (the table's own)
BUILDERS = {name: engine.second_derivatives() for name, engine in engines.ENGINES.items()
            if "newton" in engine.solvers}


def test_the_engines_with_second_derivatives_are_vectorized_and_fused():
    assert sorted(BUILDERS) == ["fused", "vectorized"]


def problem_and_point(classes, sparse, fit_intercept, seed=0, engine="vectorized"):
    rng = np.random.RandomState(seed)
    m, n_x = 60, 7
    X = rng.randn(n_x, m)
    X = sp.csc_matrix(np.where(rng.rand(n_x, m) < 0.4, X, 0.0)) if sparse else X
    labels = rng.randint(classes, size=m)
    Y = targets(labels, np.arange(classes), np.float64)
    weights = rng.uniform(0.5, 2.0, (1, m))
    problem = BUILDERS[engine](X, Y, weights, 0.3, fit_intercept)
    theta = rng.randn(problem.size) * 0.5
    return problem, theta


def gradient_at(problem, theta):
    return problem.gradient(theta, problem.forward(theta))[0]


@pytest.mark.parametrize("engine", sorted(BUILDERS))
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("classes", [2, 3])
def test_hessian_products_match_finite_differences(classes, sparse, fit_intercept, engine):
    problem, theta = problem_and_point(classes, sparse, fit_intercept, engine=engine)
    g, at_theta = problem.gradient(theta, problem.forward(theta))
    free = problem.applied(at_theta.A, _scale(problem))
    direction = np.random.RandomState(1).randn(problem.size)
    h = 1e-6
    # H v ≈ (∇J(θ + h v) − ∇J(θ − h v)) / 2h
    expected = (gradient_at(problem, theta + h * direction)
                - gradient_at(problem, theta - h * direction)) / (2 * h)
    Hv, U = free.product(direction)
    np.testing.assert_allclose(Hv, expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(U, problem.forward(direction), rtol=1e-12)  # X̃ᵀ v
    if not sparse:
        formed = problem.formed_hessian(at_theta.A, _scale(problem))
        np.testing.assert_allclose(formed.product(direction)[0], Hv, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(formed.diagonal(), free.diagonal(), rtol=1e-10)
    # diag H: eᵢᵀ H eᵢ
    columns = np.eye(problem.size)
    np.testing.assert_allclose(free.diagonal(), [free.product(e)[0] @ e for e in columns],
                               rtol=1e-10)


def _scale(problem):
    return problem.weights / problem.total


def test_gradient_matches_finite_differences_of_the_cost():
    problem, theta = problem_and_point(3, False, True)
    g = gradient_at(problem, theta)
    h = 1e-6
    numeric = [(problem.cost(theta + h * e, problem.forward(theta + h * e))
                - problem.cost(theta - h * e, problem.forward(theta - h * e))) / (2 * h)
               for e in np.eye(problem.size)]
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-10)


def test_cg_step_stays_in_the_trust_region_and_lowers_the_model():
    problem, theta = problem_and_point(2, False, True)
    g, at_theta = problem.gradient(theta, problem.forward(theta))
    free = curvature.Curvature(problem, at_theta.A, _scale(problem))
    M = np.ones(problem.size)
    for radius in (1e-3, 1e-1, 1e3):
        s, r, margins, _ = newton._conjugate_gradients(free, g, radius, M, forcing=1e-12)
        assert np.linalg.norm(s) <= radius * (1 + 1e-12)
        Hs = free.product(s)[0]
        np.testing.assert_allclose(r, -g - Hs, atol=1e-12)  # r = −∇J − H s
        assert g @ s + 0.5 * s @ Hs < 0  # the model falls
        np.testing.assert_allclose(margins, problem.forward(s), atol=1e-12)
    # a large region holds the Newton step itself: H s = −∇J
    np.testing.assert_allclose(free.product(s)[0], -g, rtol=1e-8, atol=1e-12)


# ---- promises: tol, num_iterations, warnings, errors, Ctrl-C ----

def test_stops_at_num_iterations_with_a_convergence_warning():
    X, y = simulated(1000, 10)
    with pytest.warns(ConvergenceWarning, match="num_iterations=2"):
        clf = LogisticRegression(solver="newton", l2=0.01, num_iterations=2).fit(X, y)
    assert clf.n_iter_ == 2 and len(clf.costs_) == 3


def test_tol_is_the_gradient_tolerance():
    X, y = simulated(1000, 10)
    loose = LogisticRegression(solver="newton", l2=1.0, tol=1e-3).fit(X, y)
    tight = LogisticRegression(solver="newton", l2=1.0, tol=1e-12).fit(X, y)
    assert loose.n_iter_ < tight.n_iter_
    problem = curvature.problem(X.T, targets(y, np.unique(y), float), None, 1.0, True)
    theta = np.concatenate([loose.coef_.ravel(), loose.intercept_])
    assert np.max(np.abs(gradient_at(problem, theta))) <= 1e-3


def test_takes_no_learning_rate_and_records_the_engine():
    X, y = simulated(200, 5)
    clf = LogisticRegression(solver="newton", learning_rate=123.0).fit(X, y)
    assert clf.learning_rate_ is None
    assert clf.engine_["name"] in {"vectorized", "fused"}


def test_refuses_arrays_it_cannot_serve_and_says_what_would():
    torch = pytest.importorskip("torch")
    X = torch.randn(50, 3, dtype=torch.float64)
    y = (X[:, 0] > 0).long()
    with pytest.raises(InvalidInputError, match="use solver='gd' or 'lbfgs'"):
        LogisticRegression(solver="newton").fit(X, y)


def test_refuses_the_graph_backprop_and_the_loops():
    X, y = simulated(50, 3)
    for options in ({"backprop": "graph"}, {"implementation": "loop"}):
        with pytest.raises(InvalidInputError, match="not 'newton'"):
            LogisticRegression(solver="newton", **options).fit(X, y)


def test_features_too_large_raise_a_clear_error():
    X, y = simulated(50, 3)
    from logreg.errors import LogregError

    with pytest.raises(LogregError, match="non-finite|too large"):
        LogisticRegression(solver="newton").fit(X * 1e300, y)


def test_ctrl_c_keeps_the_last_good_parameters(monkeypatch):
    X, y = simulated(1000, 10)
    calls = []
    original = curvature.Problem.gradient

    def interrupted(self, theta, Z):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, theta, Z)

    monkeypatch.setattr(curvature.Problem, "gradient", interrupted)
    clf = LogisticRegression(solver="newton", l2=1.0)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.n_iter_ >= 1 and np.all(np.isfinite(clf.coef_))


def test_warm_start_from_the_optimum_takes_no_step():
    X, y = simulated(1000, 10)
    clf = LogisticRegression(solver="newton", l2=1.0, warm_start=True).fit(X, y)
    first = clf.coef_.copy()
    clf.fit(X, y)
    assert clf.n_iter_ <= 1
    np.testing.assert_allclose(clf.coef_, first, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("classes", [2, 3])
def test_one_pass_kernels_match_the_two_pass_products(classes, sparse, dtype):
    """The fused engine's one-pass H v, diag H and formed H (numba) against the vectorized
    engine's NumPy and SciPy products, on any number of threads."""
    pytest.importorskip("numba")
    rng = np.random.RandomState(2)
    m, n_x = 3000, 40
    X = rng.randn(m, n_x).astype(dtype)
    if sparse:
        X = sp.csr_matrix(np.where(rng.rand(m, n_x) < 0.3, X, 0).astype(dtype))
    Y = targets(rng.randint(classes, size=m), np.arange(classes), np.dtype(dtype))
    weights = rng.uniform(0.5, 2.0, (1, m))
    one_pass, two_pass = (BUILDERS[name](X.T, Y, weights, 0.3, True)
                          for name in ("fused", "vectorized"))
    theta = rng.randn(one_pass.size) * 0.3
    A = two_pass.gradient(theta, two_pass.forward(theta))[1].A
    fast = one_pass.applied(A, _scale(one_pass))
    slow = two_pass.applied(A, _scale(two_pass))
    v = rng.randn(one_pass.size)
    with kernel_threads.thread_limit(1):
        one_thread = fast.product(v)
    with kernel_threads.thread_limit(2):
        Hv, U = fast.product(v)
        diagonal = fast.diagonal()
        formed = None if sparse else one_pass.formed_hessian(A, _scale(one_pass))
    np.testing.assert_array_equal(Hv, one_thread[0])  # the same bits on 1 and 2 threads
    Hv_two, U_two = slow.product(v)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(Hv, Hv_two, rtol=rtol, atol=rtol * np.abs(Hv_two).max())
    np.testing.assert_allclose(U, U_two, rtol=rtol, atol=rtol * np.abs(U_two).max())
    np.testing.assert_allclose(diagonal, slow.diagonal(), rtol=rtol)
    if formed is not None:  # the kernels' H against BLAS's, and against H v
        blas = two_pass.formed_hessian(A, _scale(two_pass))
        np.testing.assert_allclose(formed.H, blas.H, rtol=rtol, atol=rtol * np.abs(blas.H).max())
        np.testing.assert_allclose(formed.product(v)[0], Hv_two, rtol=rtol,
                                   atol=rtol * np.abs(Hv_two).max())


# ---- engine_ says what ran: the fused kernels or the NumPy and SciPy products ----

def _spied(monkeypatch):
    """Which code computes Newton's second derivatives: "fused" when fused's threads run a
    kernel, "vectorized" when NumPy's or SciPy's products (applied or formed) run."""
    ran = set()
    run = kernel_threads.run

    def fused_run(*arguments):
        ran.add("fused")
        return run(*arguments)

    monkeypatch.setattr(kernel_threads, "run", fused_run)
    for owner, name in ((curvature.Curvature, "product"),
                        (curvature.Curvature, "squared_products"),
                        (curvature.FormedCurvature, "formed")):
        original = owner.__dict__[name]
        function = original.__func__ if isinstance(original, staticmethod) else original

        def spy(*arguments, _function=function):
            ran.add("vectorized")
            return _function(*arguments)

        monkeypatch.setattr(owner, name, staticmethod(spy) if isinstance(
            original, staticmethod) else spy)
    return ran


def _small(classes, sparse, wide):
    """Few examples: H formed for dense X (p ≤ 64) unless ``wide`` (p > m: H applied)."""
    rng = np.random.RandomState(4)
    m, n_x = (40, 70) if wide else (300, 6)
    X = rng.randn(m, n_x)
    if sparse:
        X = sp.csr_matrix(np.where(rng.rand(m, n_x) < 0.5, X, 0.0))
    return X, np.arange(m) % classes


@pytest.mark.parametrize("wide", [False, True], ids=["H-formed", "H-applied"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("implementation", ["vectorized", "fused"])
def test_engine_names_the_code_that_computed_the_second_derivatives(
        implementation, classes, sparse, wide, monkeypatch):
    pytest.importorskip("numba")
    X, y = _small(classes, sparse, wide)
    ran = _spied(monkeypatch)
    clf = LogisticRegression(solver="newton", implementation=implementation, l2=0.5).fit(X, y)
    assert clf.engine_ == {"name": implementation}
    assert ran == {implementation}


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("classes", [2, 3])
def test_auto_takes_fused_for_newton_on_large_data_and_says_so(classes, sparse, monkeypatch):
    """"auto": small X (in cache) takes the vectorized row; large X (here: MIN_BYTES lowered
    to 0) the fused row where H is applied, but a dense softmax layer keeps BLAS's products,
    and where H is formed no pass is a product: vectorized. ``engine_`` names what ran."""
    pytest.importorskip("numba")
    for large, wide, expected in ((False, True, "vectorized"),
                                  (True, True, "vectorized" if classes == 3 and not sparse
                                   else "fused"),
                                  (True, False, "fused" if sparse else "vectorized")):
        monkeypatch.setattr(fused, "MIN_BYTES", 0 if large else fused.MIN_BYTES)
        X, y = _small(classes, sparse, wide)
        with monkeypatch.context() as patches:
            ran = _spied(patches)
            clf = LogisticRegression(solver="newton", l2=0.5).fit(X, y)
        assert clf.engine_ == {"name": expected}, (large, wide)
        assert ran == {expected}, (large, wide)


@pytest.mark.parametrize("name", ["iris (K=3)", "digits /16 (K=10)", "sparse text-like (K=4)",
                                  "sparse text-like (binary)", "wide 300x3000 (binary)"])
def test_the_fused_engine_reaches_sklearns_optimum(name):
    """implementation="fused": the numba kernels' products reach the same optimum."""
    pytest.importorskip("numba")
    X, y = DATASETS[name]
    ours = LogisticRegression(solver="newton", implementation="fused", l2=0.01).fit(X, y)
    assert ours.engine_ == {"name": "fused"}
    theirs = sklearn_optimum(X, y, 0.01)
    assert_same_optimum(cost(X, y, ours.coef_, ours.intercept_, 0.01),
                        cost(X, y, theirs.coef_, theirs.intercept_, 0.01), lambda f: f)


def test_a_step_below_the_rounding_of_J_is_judged_by_the_gradient():
    """Near the optimum J's fall (≈ 1e-18) is below J's rounding (≈ 1e-17): whether the last
    Newton step is accepted on J alone is a coin toss on the rounding (the fused engine's H,
    equal to BLAS's to 1e-16, once lost it and ended silently at max |∂J/∂θ| 1.2e-10 > tol).
    ∇J decides such a step: every engine ends within tol, at scikit-learn's optimum."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2000, 10))
    Z = X @ rng.standard_normal((10, 1)) + 0.3 * rng.standard_normal((2000, 1))
    y = (Z[:, 0] > 0).astype(int)
    theirs = SklearnLogisticRegression(C=1.0, tol=1e-14, max_iter=10000,
                                       solver="newton-cg").fit(X, y)
    for implementation in ("vectorized", "fused"):
        ours = LogisticRegression(solver="newton", implementation=implementation, l2=1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            ours.fit(X, y)
        A = 1 / (1 + np.exp(-(X @ ours.coef_[0] + ours.intercept_[0])))
        gradient = np.r_[X.T @ (A - y) / 2000 + ours.coef_[0] / 2000, np.mean(A - y)]
        assert np.max(np.abs(gradient)) <= 1e-10, implementation
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)


@pytest.mark.parametrize("implementation", ["graph", "loop", "semi"])
def test_engines_without_second_derivatives_refuse_newton_and_say_what_works(implementation):
    X, y = simulated(50, 3)
    options = ({"backprop": "graph"} if implementation == "graph"
               else {"implementation": implementation})
    with pytest.raises(InvalidInputError, match="no second derivatives") as error:
        LogisticRegression(solver="newton", **options).fit(X, y)
    assert "What would work" in str(error.value) and "solver='newton'" in str(error.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=st.integers(2, 40), n_x=st.integers(1, 12), classes=st.integers(2, 4),
       lam=st.sampled_from([0.0, 1e-8, 0.01, 1.0, 1e6]), sparse=st.booleans(),
       scale=st.sampled_from([1e-150, 1e-3, 1.0, 1e3, 1e100]), weighted=st.booleans(),
       fit_intercept=st.booleans(), seed=st.integers(0, 2**16),
       implementation=st.sampled_from(["vectorized", "fused"]))
def test_any_small_problem_ends_finite_and_no_worse_than_the_start(
        m, n_x, classes, lam, sparse, scale, weighted, fit_intercept, seed, implementation):
    """Whatever the data (separable or not, tiny or huge features, duplicate or constant
    columns, λ = 0): a finite model whose cost is at most the cost at zero, or a clear error."""
    from logreg.errors import LogregError

    rng = np.random.RandomState(seed)
    X = rng.randn(m, n_x) * scale
    X[:, 0] = X[:, -1]  # a duplicate column: H singular where λ = 0
    y = np.arange(m) % classes  # every class present
    rng.shuffle(y)
    weights = rng.uniform(0.01, 5.0, m) if weighted else None
    if sparse:
        X = sp.csr_matrix(np.where(rng.rand(m, n_x) < 0.5, X, 0.0))
    clf = LogisticRegression(solver="newton", l2=lam, fit_intercept=fit_intercept,
                             num_iterations=50, implementation=implementation)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y, sample_weight=weights)
    except LogregError as error:
        assert "too large" in str(error) or "non-finite" in str(error)
        return
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))
    assert np.isfinite(clf.costs_[-1]) and clf.costs_[-1] <= clf.costs_[0] * (1 + 1e-12)
    assert np.all(np.isfinite(clf.predict_proba(X)))


@pytest.mark.parametrize("case", [
    dict(m=15, n_x=10, classes=3, lam=1e-8, weighted=False, fit_intercept=False, seed=39539),
    dict(m=7, n_x=6, classes=3, lam=0.0, weighted=True, fit_intercept=True, seed=9850),
], ids=["1e100-features-lambda-1e-8", "1e100-features-weighted-lambda-0"])
def test_steps_into_overflow_are_refused_and_the_run_ends(case):
    """Features of 1e100, a softmax layer, λ ≈ 0: trial steps whose cost is NaN once looped
    forever (the radius update compared NaNs). Now such steps shrink the region, and a run of
    refused steps ends the fit."""
    rng = np.random.RandomState(case["seed"])
    X = rng.randn(case["m"], case["n_x"]) * 1e100
    X[:, 0] = X[:, -1]
    y = np.arange(case["m"]) % case["classes"]
    rng.shuffle(y)
    weights = rng.uniform(0.01, 5.0, case["m"]) if case["weighted"] else None
    clf = LogisticRegression(solver="newton", l2=case["lam"], num_iterations=50,
                             fit_intercept=case["fit_intercept"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y, sample_weight=weights)
    assert np.all(np.isfinite(clf.coef_)) and clf.costs_[-1] <= clf.costs_[0]
