"""Properties that hold for every input, tried on many by hypothesis."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from logreg import LogisticRegression
from logreg.core import neuron

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
moderate = st.floats(min_value=-3, max_value=3, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw, elements=finite, max_n=4, max_m=12):
    """(w, b, X, Y) in the notes' layout, Y holding both classes."""
    n_x = draw(st.integers(1, max_n))
    m = draw(st.integers(2, max_m))
    X = draw(arrays(np.float64, (n_x, m), elements=elements))
    Y = draw(arrays(np.float64, (1, m), elements=st.sampled_from([0.0, 1.0])))
    Y[0, 0], Y[0, 1] = 0.0, 1.0
    w = draw(arrays(np.float64, (n_x, 1), elements=elements))
    return w, draw(elements), X, Y


@given(arrays(np.float64, st.integers(1, 50),
              elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_sigmoid_in_unit_interval_and_monotone(z):
    with np.errstate(all="raise"):  # no overflow, no invalid operation, for any finite z
        a = neuron.sigmoid(z)
    assert np.all((a >= 0) & (a <= 1))
    order = np.argsort(z, kind="stable")
    assert np.all(np.diff(a[order]) >= 0)


@given(problems())
def test_cost_finite_and_non_negative(problem):
    w, b, X, Y = problem
    with np.errstate(over="raise", invalid="raise"):
        cost, dw, db = neuron.loss_and_gradient(w, b, X, Y)
    assert np.isfinite(cost) and cost >= 0
    assert np.isfinite(dw).all() and np.isfinite(db)


@settings(max_examples=60)
@given(problems(elements=moderate))
def test_gradients_equal_finite_differences(problem):
    w, b, X, Y = problem

    def cost(w, b):
        return neuron.logistic_cost_from_z(w.T @ X + b, Y)

    _, dw, db = neuron.loss_and_gradient(w, b, X, Y)
    eps = 1e-6
    numeric = np.array([(cost(w + e, b) - cost(w - e, b)) / (2 * eps)
                        for e in np.eye(len(w))[:, :, None] * eps]).reshape(w.shape)
    numeric_db = (cost(w, b + eps) - cost(w, b - eps)) / (2 * eps)
    np.testing.assert_allclose(dw, numeric, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(db, numeric_db, rtol=1e-5, atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(problems(elements=moderate, max_m=20), st.randoms(use_true_random=False))
def test_predict_proba_rows_sum_to_one_and_permutation_invariance(problem, random):
    _, _, X, Y = problem
    rows, y = X.T, Y.ravel()
    clf = LogisticRegression(num_iterations=30).fit(rows, y)
    proba = clf.predict_proba(rows)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert ((proba >= 0) & (proba <= 1)).all()
    # permute the features and the weights together: the same z, so the same predictions
    order = list(range(rows.shape[1]))
    random.shuffle(order)
    permuted = LogisticRegression(num_iterations=30).fit(rows[:, order], y)
    np.testing.assert_allclose(permuted.coef_.ravel(), clf.coef_.ravel()[order], rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(permuted.predict_proba(rows[:, order]), proba, rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_array_equal(permuted.predict(rows[:, order]), clf.predict(rows))


@settings(max_examples=20, deadline=None)
@given(problems(elements=moderate, max_m=20))
def test_same_data_same_settings_bit_identical(problem):
    _, _, X, Y = problem
    first = LogisticRegression(num_iterations=50).fit(X.T, Y.ravel())
    second = LogisticRegression(num_iterations=50).fit(X.T.copy(), Y.ravel().copy())
    assert first.coef_.tobytes() == second.coef_.tobytes()
    assert first.intercept_.tobytes() == second.intercept_.tobytes()
    assert first.costs_ == second.costs_
