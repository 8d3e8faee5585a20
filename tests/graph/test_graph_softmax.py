"""The graph's softmax layer against independent truth: SciPy's softmax and log_softmax, the
Jacobian of softmax written out by hand, central finite differences (gradcheck), the closed
form ``logreg.core.neuron.loss_and_gradient``, and, for sparse X, the dense result."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.special

from logreg.core import neuron
from logreg.errors import InvalidInputError, InvalidTypeError
from logreg.graph import (
    Value,
    gradcheck,
    log_softmax,
    logistic_cost,
    loss_and_gradient,
    softmax,
)

NODES = {"softmax": softmax, "log_softmax": log_softmax}
TRUTH = {"softmax": scipy.special.softmax, "log_softmax": scipy.special.log_softmax}


def relative_difference(a, b):
    """max|a − b| / max|b|: how far a is from b, relative to b's size."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


def one_hot(labels, K):
    """Y of shape (K, m): column i is 1 in row labels[i]."""
    return np.eye(K)[labels].T


def random_layer(n_x, m, K, seed, dtype=np.float64):
    """W (n_x, K), b (K, 1), X (n_x, m), one-hot Y (K, m), all classes present when m ≥ K."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(m) % K)
    return (rng.normal(size=(n_x, K)).astype(dtype), rng.normal(size=(K, 1)).astype(dtype),
            rng.normal(size=(n_x, m)).astype(dtype), one_hot(labels, K))


# ----------------------------------------------------------------------------------------------
# the nodes: forward values


def test_softmax_by_hand():
    # softmax(log 1, log 2, log 3) = (1, 2, 3) / 6, in each column
    Z = np.log(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]))
    A = softmax(Value(Z)).data
    np.testing.assert_allclose(A, np.array([[1, 3], [2, 2], [3, 1]]) / 6, rtol=1e-15)
    np.testing.assert_allclose(log_softmax(Value(Z)).data, np.log(A), rtol=1e-15)


@pytest.mark.parametrize("name", list(NODES))
@pytest.mark.parametrize("shape, axis", [((3, 5), 0), ((4, 1), 0), ((1, 6), 0), ((3, 5), 1),
                                         ((7,), 0), ((2, 3, 4), -1)],
                         ids=["3x5", "4x1", "1x6", "3x5-axis1", "vector", "3d-last"])
def test_forward_equals_scipy(name, shape, axis):
    Z = np.random.default_rng(0).normal(scale=3.0, size=shape)
    np.testing.assert_allclose(NODES[name](Z, axis=axis).data, TRUTH[name](Z, axis=axis),
                               rtol=1e-13, atol=1e-15)


def test_softmax_columns_sum_to_one_and_default_axis_is_the_classes():
    Z = np.random.default_rng(1).normal(scale=10.0, size=(4, 9))
    A = softmax(Z).data
    np.testing.assert_allclose(A.sum(axis=0), np.ones(9), rtol=1e-14)
    assert not np.allclose(A.sum(axis=1), 1.0)  # axis 0, not 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(NODES))
def test_nodes_keep_the_dtype(name, dtype):
    Z = Value(np.random.default_rng(2).normal(size=(3, 4)).astype(dtype))
    out = NODES[name](Z)
    (out * np.arange(12.0, dtype=dtype).reshape(3, 4)).sum().backward()
    assert out.data.dtype == dtype and Z.grad.dtype == dtype


# ----------------------------------------------------------------------------------------------
# the nodes: local derivatives


def jacobian_of_softmax(z):
    """∂a_i/∂z_j = a_i (δ_ij − a_j) for one column z, written out."""
    a = scipy.special.softmax(z)
    return np.diag(a) - np.outer(a, a)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_derivatives_equal_the_jacobian_by_hand(seed):
    rng = np.random.default_rng(seed)
    Z, G = rng.normal(scale=2.0, size=(4, 3)), rng.normal(size=(4, 3))
    for name, node_of in NODES.items():
        node = Value(Z)
        (node_of(node) * G).sum().backward()
        for i in range(Z.shape[1]):
            jac = jacobian_of_softmax(Z[:, i])
            if name == "log_softmax":  # ∂ log a_i / ∂z_j = δ_ij − a_j
                jac = jac / scipy.special.softmax(Z[:, i])[:, None]
            np.testing.assert_allclose(node.grad[:, i], jac.T @ G[:, i], rtol=1e-12,
                                       atol=1e-14, err_msg=name)


@pytest.mark.parametrize("name", list(NODES))
@pytest.mark.parametrize("shape, axis", [((3, 4), 0), ((2, 5), 0), ((3, 4), 1), ((5,), 0)],
                         ids=["3x4", "2x5", "3x4-axis1", "vector"])
def test_gradcheck_of_the_nodes(name, shape, axis):
    rng = np.random.default_rng(3)
    C = rng.normal(size=shape)
    worst = gradcheck(lambda z: (NODES[name](z, axis=axis) * C).sum(),
                      [rng.normal(scale=2.0, size=shape)])
    assert worst < 1e-8


def test_gradcheck_of_nodes_used_together():
    # cross-entropy by softmax then log, against log_softmax: both paths through the chain rule
    rng = np.random.default_rng(4)
    Y = one_hot(rng.integers(0, 3, 5), 3)
    worst = gradcheck(lambda z: -(Y * softmax(z).log()).sum() + (softmax(z) ** 2).sum(),
                      [rng.normal(size=(3, 5))])
    assert worst < 1e-8


# ----------------------------------------------------------------------------------------------
# extreme inputs: finite, no warnings


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_nodes_at_plus_and_minus_1000_are_finite_without_warnings(dtype):
    Z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [0.0, 1000.0, 1000.0]],
                 dtype=dtype)
    G = np.arange(9.0, dtype=dtype).reshape(3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, node_of in NODES.items():
            node = Value(Z)
            out = node_of(node)
            (out * G).sum().backward()
            assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(node.grad)), name
    np.testing.assert_array_equal(softmax(Z).data[:, 0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(softmax(Z).data[:, 2], [0.0, 0.5, 0.5])
    np.testing.assert_allclose(log_softmax(Z).data[:, 0], [0.0, -2000.0, -1000.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_cost_certain_and_wrong_is_finite_and_exact(dtype):
    # one example, z = (1000, −1000, 0), label class 1: L = log Σ e^z − z₁ = 1000 + 1000
    W = np.array([[1000.0, -1000.0, 0.0]], dtype=dtype)
    X, Y = np.ones((1, 1), dtype=dtype), np.array([[0.0], [1.0], [0.0]])
    b = np.zeros((3, 1), dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, dW, db = loss_and_gradient(W, b, X, Y, l2=0.5)
    assert J == pytest.approx(2000.0 + 0.5 / 2 * 2e6, rel=1e-7)
    # dZ = A − Y = (1, −1, 0); dW = X dZᵀ + λ W
    np.testing.assert_allclose(db.ravel(), [1.0, -1.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(dW, [[1.0 + 500.0, -1.0 - 500.0, 0.0]], rtol=1e-6)


def test_cost_with_huge_weights_on_random_data_is_finite():
    W, b, X, Y = random_layer(5, 30, 4, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, dW, db = loss_and_gradient(W * 1e4, b, X, Y)
    assert np.isfinite(J) and J > 100
    assert np.all(np.isfinite(dW)) and np.all(np.isfinite(db))


# ----------------------------------------------------------------------------------------------
# the whole K-class cost


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l2", [0.0, 0.3], ids=["l2=0", "l2=0.3"])
def test_gradcheck_of_the_k_class_cost(weighted, l2):
    W, b, X, Y = random_layer(3, 6, 3, seed=6)
    s = np.random.default_rng(7).uniform(0.1, 3.0, size=(1, 6)) if weighted else None
    worst = gradcheck(lambda W, b: logistic_cost(W, b, X, Y, s, l2)[0], [W, b])
    assert worst < 1e-8


def test_gradient_of_z_is_a_minus_y_over_m():
    W, b, X, Y = random_layer(4, 10, 3, seed=8)
    J, Z = logistic_cost(Value(W), Value(b), X, Y)
    J.backward()
    # dJ/dZ = (A − Y) / m
    np.testing.assert_allclose(Z.grad, (scipy.special.softmax(W.T @ X + b, axis=0) - Y) / 10,
                               rtol=1e-12, atol=1e-16)


def test_cost_at_zero_is_log_k():
    # every class has a = 1/K at W = 0, b = 0: J = log K, whatever the labels
    _, _, X, Y = random_layer(4, 12, 5, seed=9)
    J, _, _ = loss_and_gradient(np.zeros((4, 5)), np.zeros((5, 1)), X, Y)
    assert J == pytest.approx(np.log(5), rel=1e-15)


PROBLEMS = [(1, 1, 3), (4, 7, 3), (6, 40, 5), (3, 25, 10)]


@pytest.mark.parametrize("n_x, m, K", PROBLEMS, ids=[f"{n}x{m}-K{k}" for n, m, k in PROBLEMS])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l2", [0.0, 0.7], ids=["l2=0", "l2=0.7"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_equals_the_closed_form(n_x, m, K, weighted, l2, dtype):
    W, b, X, Y = random_layer(n_x, m, K, seed=n_x * 100 + m, dtype=dtype)
    s = np.random.default_rng(10).uniform(0.1, 3.0, size=(1, m)) if weighted else None
    J, dW, db = loss_and_gradient(W, b, X, Y, s, l2)
    J_c, dW_c, db_c = neuron.loss_and_gradient(W, b, X, Y, s, l2)
    assert isinstance(J, float)
    assert dW.shape == (n_x, K) and db.shape == (K, 1)
    assert dW.dtype == dtype and db.dtype == dtype
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    assert relative_difference(J, J_c) < tolerance
    assert relative_difference(dW, dW_c) < tolerance
    assert relative_difference(db, db_c) < tolerance


def test_cost_refuses_labels_that_do_not_fit_w():
    W, b, X, Y = random_layer(3, 4, 3, seed=11)
    with pytest.raises(InvalidInputError, match="one-hot"):
        logistic_cost(W[:, :1], 0.0, X, Y)  # one neuron, three rows of labels
    with pytest.raises(InvalidInputError, match="one-hot"):
        logistic_cost(W, b, X, Y[:1])  # three neurons, one row of labels


# ----------------------------------------------------------------------------------------------
# axis and operands the nodes refuse


@pytest.mark.parametrize("name", list(NODES))
def test_nodes_refuse_a_number_and_a_missing_axis(name):
    with pytest.raises(InvalidInputError, match="a number"):
        NODES[name](Value(2.0))
    with pytest.raises(InvalidInputError, match=r"shape \(3, 4\)"):
        NODES[name](np.zeros((3, 4)), axis=2)
    with pytest.raises(InvalidTypeError, match="integer"):
        NODES[name](np.zeros((3, 4)), axis="0")


# ----------------------------------------------------------------------------------------------
# sparse X: a constant leaf in Z = WᵀX, never densified, the dense result


def sparse_problem(n_x, m, K, seed, dtype=np.float64):
    """A layer and X with about 30 % non-zeros, one column all zero."""
    W, b, X, Y = random_layer(n_x, m, K, seed, dtype)
    X = X * (np.random.default_rng(seed + 1).random(X.shape) < 0.3)
    X[:, 0] = 0
    return W, b, X, Y


FORMATS = {"csc": sp.csc_matrix, "csr": sp.csr_matrix, "coo": sp.coo_matrix,
           "csc_array": sp.csc_array, "csr_array": sp.csr_array}


@pytest.fixture
def no_densifying(monkeypatch):
    """Any toarray or todense of a SciPy sparse matrix fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("X was densified")
    from scipy.sparse._base import _spbase

    for method in ("toarray", "todense"):
        monkeypatch.setattr(_spbase, method, refuse)


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("K", [1, 4], ids=["binary", "K4"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l2", [0.0, 0.7], ids=["l2=0", "l2=0.7"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_sparse_x_equals_the_dense_result(fmt, K, weighted, l2, dtype, no_densifying):
    W, b, X, Y = sparse_problem(6, 30, K, seed=12, dtype=dtype)
    if K == 1:  # the notes' neuron: labels 0/1 in one row, b a number
        b, Y = float(b[0, 0]), (np.random.default_rng(13).random((1, 30)) < 0.5) * 1.0
    s = np.random.default_rng(14).uniform(0.1, 3.0, size=(1, 30)) if weighted else None
    J, dW, db = loss_and_gradient(W, b, FORMATS[fmt](X), Y, s, l2)
    J_d, dW_d, db_d = loss_and_gradient(W, b, X, Y, s, l2)
    assert dW.dtype == dtype and np.shape(db) == np.shape(db_d)
    tolerance = 1e-10 if dtype == np.float64 else 1e-5
    assert relative_difference(J, J_d) < tolerance
    assert relative_difference(dW, dW_d) < tolerance
    assert relative_difference(db, db_d) < tolerance


def test_sparse_x_stays_sparse_in_the_graph():
    W, b, X, Y = sparse_problem(5, 8, 3, seed=15)
    _, Z = logistic_cost(Value(W), Value(b), sp.csc_matrix(X), Y)
    leaf = Z.parents[0].parents[1]  # Z = (Wᵀ @ X) + b
    assert leaf.name == "X" and sp.issparse(leaf.data) and not leaf.requires_grad
    assert repr(leaf) == "Value(name='X', data=sparse(5, 8), grad=-)"


def test_sparse_integer_x_becomes_float64():
    W, b, X, Y = sparse_problem(4, 9, 3, seed=16)
    X_int = np.round(X * 3)
    J, dW, _ = loss_and_gradient(W, b, sp.csr_matrix(X_int.astype(np.int64)), Y)
    J_d, dW_d, _ = loss_and_gradient(W, b, X_int, Y)
    assert dW.dtype == np.float64
    assert relative_difference(J, J_d) < 1e-12 and relative_difference(dW, dW_d) < 1e-12


def test_gradient_with_respect_to_a_sparse_leaf_is_dense():
    rng = np.random.default_rng(17)
    X = sp.random(4, 6, density=0.4, format="csc", random_state=17)
    W, C = rng.normal(size=(4, 3)), rng.normal(size=(3, 6))
    leaf = Value(X)
    (C * (Value(W).T @ leaf)).sum().backward()
    # d Σ C ⊙ (WᵀX) / dX = W C, every entry, zeros of X included
    assert isinstance(leaf.grad, np.ndarray)
    np.testing.assert_allclose(leaf.grad, W @ C, rtol=1e-13)


@pytest.mark.parametrize("operation", ["add", "mul", "exp", "sum", "softmax", "neg"])
def test_sparse_data_takes_part_in_matmul_only(operation):
    X = Value(sp.random(3, 4, density=0.5, format="csc", random_state=0), requires_grad=False)
    apply = {"add": lambda x: x + 1.0, "mul": lambda x: np.ones((3, 4)) * x,
             "exp": lambda x: x.exp(), "sum": lambda x: x.sum(axis=0),
             "softmax": softmax, "neg": lambda x: -x}[operation]
    with pytest.raises(InvalidInputError, match=f"^{operation} of a sparse matrix"):
        apply(X)


def test_sparse_complex_x_is_refused():
    with pytest.raises(InvalidTypeError, match="complex"):
        Value(sp.csr_matrix(np.array([[1 + 2j, 0]])))
