"""The fused kernel (``logreg.engines.fused``) gives the notes' numbers: for the notes' neuron
(two classes) against the plain NumPy path, for a softmax layer (K classes) and for SciPy sparse
X against the notes' NumPy lines (``neuron.loss_and_gradient`` on dense X in float64, the
truth); the same bits in any layout and on any number of threads, finite for extreme Z, sparse X
never densified, and a clear error for what it cannot read. The estimator's fast paths (float32
end to end, L-BFGS, numba's cache): test_speed_paths.py.

Every test here runs with warnings as errors: an overflow or a division by zero in a kernel's
NumPy glue would fail it."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from logreg.engines import fused
from logreg.engines import threads as kernel_threads
from logreg.core import neuron
from logreg.errors import InvalidInputError

pytestmark = [pytest.mark.skipif(not fused.available(), reason="numba is not installed"),
              pytest.mark.filterwarnings("error")]


def rows_problem(m, n, seed=0, dtype=np.float64):
    """Rows as examples (m, n), labels drawn from a true logistic model (finite optimum)."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(m, n))
    z = rows @ (rng.normal(size=n) / np.sqrt(n)) + 0.3
    y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float)
    return rows.astype(dtype), y


def problem(m, n, classes, seed=0, density=1.0, scale=0.5):
    """Rows (m, n) of examples (C order, the estimator's layout), Y (K, m) one-hot (or (1, m)
    of 0/1 for two classes), W (n, K) (or w (n, 1)), b (K, 1) (or a number), weights (1, m)."""
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((m, n)) * (rng.random((m, n)) < density)
    if classes == 2:
        Y = (rng.random((1, m)) < 0.4).astype(float)
        W, b = rng.standard_normal((n, 1)) * scale, 0.3
    else:
        Y = (np.arange(classes)[:, None] == rng.integers(0, classes, m)).astype(float)
        W, b = rng.standard_normal((n, classes)) * scale, rng.standard_normal((classes, 1))
    return rows, Y, W, b, rng.uniform(0.2, 2.0, (1, m))


def truth(W, b, rows, Y, s=None, l2=0.0):
    """The notes' NumPy lines on dense X in float64."""
    b = b if np.ndim(b) == 0 else np.asarray(b, dtype=float)
    return neuron.loss_and_gradient(np.asarray(W, dtype=float), b, np.asarray(rows, float).T,
                                    np.asarray(Y, dtype=float), s, l2)


def assert_close(got, want, tolerance):
    assert np.shape(got[1]) == np.shape(want[1]) and np.shape(got[2]) == np.shape(want[2])
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(w, dtype=float),
                                   rtol=tolerance, atol=tolerance)


def assert_same_bits(first, second):
    for a, b in zip(first, second):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(a, b)


def csc(rows, kind=sp.csr_array):
    """Sparse X (n_x, m) as the estimator hands it over: CSR rows of examples, transposed."""
    return kind(rows).T


def tile(classes):
    return fused.feature_tile(classes, 8)


# --- dense: two classes (the notes' neuron) and K (a softmax layer) -----------------------------

SHAPES = [(1, 1), (3, 2), (7, 5), (37, 4), (1000, 17), (2049, 3)]
WEIGHTINGS = [(False, 0.0), (True, 0.0), (False, 0.7), (True, 2.5)]
BINARY_SHAPES = [(1, 1), (7, 1), (1, 5), (130, 17), (5000, 40)]
BINARY_WEIGHTINGS = [(False, 0.0), (True, 0.0), (False, 0.7)]
DENSE_CASES = ([(2, m, n, weighted, l2) for m, n in BINARY_SHAPES
                for weighted, l2 in BINARY_WEIGHTINGS]
               + [(classes, m, n, weighted, l2) for classes in (3, 10) for m, n in SHAPES
                  for weighted, l2 in WEIGHTINGS])


def dense_case(m, n, classes, weighted):
    """Rows (m, n), Y, W, b and the weights (or None). Two classes: labels from a true logistic
    model, w (n, 1) and b = 0.2 (``rows_problem``); K: a softmax layer (``problem``)."""
    if classes == 2:
        rows, y = rows_problem(m, n)
        rng = np.random.default_rng(1)
        w, b = rng.normal(size=(n, 1)), 0.2
        return rows, y.reshape(1, -1), w, b, (rng.uniform(0.1, 3, size=(1, m))
                                              if weighted else None)
    rows, Y, W, b, s = problem(m, n, classes)
    return rows, Y, W, b, (s if weighted else None)


@pytest.mark.parametrize("classes, m, n, weighted, l2", DENSE_CASES, ids=[
    f"K={k}-{m}x{n}-{'weighted' if weighted else 'plain'}-l2={l2}"
    for k, m, n, weighted, l2 in DENSE_CASES])
def test_fused_equals_the_plain_path(classes, m, n, weighted, l2):
    rows, Y, W, b, s = dense_case(m, n, classes, weighted)
    got = fused.loss_and_gradient(W, b, rows.T, Y, s, l2)
    if classes == 2:  # against the plain NumPy path
        plain_cost, plain_dw, plain_db = neuron.loss_and_gradient(W, b, rows.T, Y, s, l2)
        assert got[0] == pytest.approx(plain_cost, rel=1e-10)
        np.testing.assert_allclose(got[1], plain_dw, rtol=1e-10, atol=1e-14)
        assert got[2] == pytest.approx(plain_db, rel=1e-10, abs=1e-14)
    else:  # against the notes' lines in float64
        assert_close(got, truth(W, b, rows, Y, s, l2), 1e-10)
    outputs = 1 if classes == 2 else classes  # the neuron: dw (n, 1), db a number
    assert got[1].shape == (n, outputs) and np.shape(got[2]) == (() if classes == 2
                                                                 else (classes, 1))
    assert got[1].dtype == np.float64 and np.asarray(got[2]).dtype == np.float64


def test_fused_takes_any_layout_and_is_deterministic():
    rows, y = rows_problem(3000, 30)
    w, Y = np.full((30, 1), 0.05), y.reshape(1, -1)
    first = fused.loss_and_gradient(w, 0.1, rows.T, Y)
    c_order = fused.loss_and_gradient(w, 0.1, np.ascontiguousarray(rows.T), Y)
    again = fused.loss_and_gradient(w, 0.1, rows.T, Y)
    for a, b in zip(first, c_order):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("threads", [1, 2, 3, 5])
def test_fused_does_not_depend_on_the_number_of_threads(threads, monkeypatch):
    rows, y = rows_problem(40000, 25)
    w, Y = np.full((25, 1), 0.05), y.reshape(1, -1)
    reference = fused.loss_and_gradient(w, 0.1, rows.T, Y)
    monkeypatch.setattr(kernel_threads, "_cpus", lambda: 8)  # as many threads as asked, on any machine
    with kernel_threads.thread_limit(threads):
        assert kernel_threads.threads() == threads
        result = fused.loss_and_gradient(w, 0.1, rows.T, Y)
    for a, b in zip(result, reference):
        np.testing.assert_array_equal(a, b)


def test_fused_from_several_threads_at_once():
    """Thread-safe: scikit-learn may fit clones in threads (joblib's threading backend)."""
    from concurrent.futures import ThreadPoolExecutor

    rows, y = rows_problem(20000, 20)
    w, Y = np.full((20, 1), 0.05), y.reshape(1, -1)
    reference = fused.loss_and_gradient(w, 0.1, rows.T, Y)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: fused.loss_and_gradient(w, 0.1, rows.T, Y), range(8)))
    for result in results:
        for a, b in zip(result, reference):
            np.testing.assert_array_equal(a, b)


def test_fused_float32_stays_float32_within_float32_tolerance():
    rows, y = rows_problem(3000, 30)
    w = np.full((30, 1), 0.05)
    reference = neuron.loss_and_gradient(w, 0.1, rows.T, y.reshape(1, -1))
    cost, dw, db = fused.loss_and_gradient(w.astype(np.float32), np.float32(0.1),
                                           rows.T.astype(np.float32),
                                           y.reshape(1, -1).astype(np.float32))
    assert dw.dtype == np.float32 and np.asarray(db).dtype == np.float32
    assert cost == pytest.approx(reference[0], rel=1e-5)
    np.testing.assert_allclose(dw, reference[1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("classes", [3, 4, 10])
def test_dense_layer_with_more_features_than_one_tile(classes):
    """Features cut into tiles (Z summed tile by tile) and a last block of examples that is not
    full: still the notes' numbers."""
    m, n = 4 * 32 + 7, 2 * tile(classes) + 37
    rows, Y, W, b, s = problem(m, n, classes, scale=0.05)
    assert_close(fused.loss_and_gradient(W, b, rows.T, Y, s, 0.3),
                 truth(W, b, rows, Y, s, 0.3), 1e-10)


def test_dense_layer_of_two_classes_is_a_softmax_too():
    """Y of two rows is a softmax of two classes (the notes' neuron is Y of one row)."""
    rows, Y, W, b, _ = problem(500, 6, 3)
    Y2 = np.vstack([Y[0], 1 - Y[0]])
    assert_close(fused.loss_and_gradient(W[:, :2], b[:2], rows.T, Y2),
                 truth(W[:, :2], b[:2], rows, Y2), 1e-10)


def test_dense_layer_takes_any_layout_and_is_deterministic():
    rows, Y, W, b, _ = problem(3000, 30, 5)
    first = fused.loss_and_gradient(W, b, rows.T, Y)
    assert_same_bits(fused.loss_and_gradient(W, b, rows.T, Y), first)
    # X in C order: its examples are not contiguous, the kernel copies them (same numbers)
    assert_same_bits(fused.loss_and_gradient(W, b, np.ascontiguousarray(rows.T), Y), first)
    # W in Fortran order, b as a flat (K,) array: the same bits
    assert_same_bits(fused.loss_and_gradient(np.asfortranarray(W), b.ravel(), rows.T, Y),
                     first)
    # Y in Fortran order or float32: another compiled kernel, the same numbers
    assert_close(fused.loss_and_gradient(W, b, rows.T, np.asfortranarray(Y)), first, 1e-14)
    assert_close(fused.loss_and_gradient(W, b, rows.T, Y.astype(np.float32)), first, 1e-14)


@pytest.mark.parametrize("classes", [3, 10])
@pytest.mark.parametrize("weighted, l2", [(False, 0.0), (True, 0.5)], ids=["plain", "weighted-l2"])
def test_dense_layer_float32_stays_float32(classes, weighted, l2):
    rows, Y, W, b, s = problem(4000, 60, classes, scale=0.2)
    rows32, W32, b32, Y32 = (a.astype(np.float32) for a in (rows, W, b, Y))
    s = s if weighted else None
    cost, dW, db = fused.loss_and_gradient(W32, b32, rows32.T, Y32, s, l2)
    assert dW.dtype == np.float32 and db.dtype == np.float32 and db.shape == (classes, 1)
    # against float64 arithmetic on the same float32 numbers
    assert_close((cost, dW, db), truth(W32, b32, rows32, Y32, s, l2), 1e-5)


# --- sparse: binary and K classes against the dense result ------------------------------------

def sparse_problem(m, n, classes, seed=0):
    """A sparse problem with all-zero columns (features no example has) and empty rows
    (examples with no non-zero feature)."""
    rows, Y, W, b, s = problem(m, n, classes, seed=seed, density=0.2)
    rows[:, ::5] = 0.0  # every fifth feature: never present
    rows[::7] = 0.0  # every seventh example: no feature at all
    return rows, Y, W, b, s


SPARSE_SHAPES = [(1, 1), (9, 3), (40, 7), (3000, 50), (600, 2000)]


@pytest.mark.parametrize("classes", [2, 3, 10])
@pytest.mark.parametrize("m, n", SPARSE_SHAPES, ids=[f"{m}x{n}" for m, n in SPARSE_SHAPES])
@pytest.mark.parametrize("weighted, l2", [(False, 0.0), (True, 0.0), (False, 0.7), (True, 2.5)],
                         ids=["plain", "weighted", "l2", "weighted-l2"])
def test_sparse_equals_the_dense_result(classes, m, n, weighted, l2):
    rows, Y, W, b, s = sparse_problem(m, n, classes)
    s = s if weighted else None
    got = fused.loss_and_gradient(W, b, csc(rows), Y, s, l2)
    assert_close(got, truth(W, b, rows, Y, s, l2), 1e-10)
    if classes == 2:  # the notes' neuron: dw (n_x, 1), db a number
        assert got[1].shape == (n, 1) and np.ndim(got[2]) == 0
    else:
        assert got[1].shape == (n, classes) and got[2].shape == (classes, 1)
    assert isinstance(got[1], np.ndarray) and got[1].dtype == np.float64


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csr_array], ids=["csr_matrix", "csr_array"])
@pytest.mark.parametrize("index", [np.int32, np.int64], ids=["int32", "int64"])
def test_sparse_matrices_and_arrays_with_either_index_type(classes, kind, index):
    rows, Y, W, b, s = sparse_problem(500, 30, classes)
    X = csc(rows, kind)
    X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
    assert X.format == "csc" and X.T.format == "csr"
    assert_close(fused.loss_and_gradient(W, b, X, Y, s, 0.4), truth(W, b, rows, Y, s, 0.4),
                 1e-10)


def test_sparse_with_duplicate_and_unsorted_entries_sums_them():
    """A CSR row with the same feature twice means their sum, as SciPy reads it."""
    data, indices, indptr = [1.0, 2.0, -1.5, 0.5, 3.0], [2, 0, 2, 1, 0], [0, 3, 3, 5]
    rows_csr = sp.csr_array((data, indices, indptr), shape=(3, 4))
    rows = rows_csr.toarray()  # the duplicates summed: row 0 is (2, 0, -0.5, 0)
    Y = np.eye(3)[:, [0, 2, 1]]
    W, b = np.arange(12.0).reshape(4, 3) / 10, np.array([[0.1], [-0.2], [0.3]])
    assert_close(fused.loss_and_gradient(W, b, rows_csr.T, Y), truth(W, b, rows, Y), 1e-12)


@pytest.mark.parametrize("classes", [2, 3, 10])
def test_sparse_float32_stays_float32(classes):
    rows, Y, W, b, s = sparse_problem(3000, 80, classes)
    rows32, W32, Y32 = rows.astype(np.float32), W.astype(np.float32), Y.astype(np.float32)
    b32 = np.float32(b) if classes == 2 else b.astype(np.float32)
    cost, dW, db = fused.loss_and_gradient(W32, b32, csc(rows32), Y32, s, 0.5)
    assert dW.dtype == np.float32 and np.asarray(db).dtype == np.float32
    assert_close((cost, dW, db), truth(W32, b32, rows32, Y32, s, 0.5), 1e-5)


def test_sparse_gradient_agrees_with_finite_differences():
    """An independent check of dW and db: central differences of J (K classes, weights, l2)."""
    rows, Y, W, b, s = sparse_problem(60, 6, 3, seed=3)
    X, h = csc(rows), 1e-6
    cost, dW, db = fused.loss_and_gradient(W, b, X, Y, s, 0.3)
    for parameter, gradient in ((W, dW), (b, db)):
        for index in np.ndindex(parameter.shape):
            up, down = parameter.copy(), parameter.copy()
            up[index] += h
            down[index] -= h
            pair = [(up, b), (down, b)] if parameter is W else [(W, up), (W, down)]
            j_up, j_down = (fused.loss_and_gradient(w_, b_, X, Y, s, 0.3)[0] for w_, b_ in pair)
            assert (j_up - j_down) / (2 * h) == pytest.approx(gradient[index], abs=1e-7)


# --- extreme Z: finite, no warning --------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e3, 1e30, 1e150])
@pytest.mark.parametrize("classes", [2, 3, 10])
@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_extreme_z_gives_finite_numbers_and_no_warning(scale, classes, layout):
    """Z of size up to 1e150 (the model certain and often wrong): the loss from Z with
    log-sum-exp stays finite and equals the notes' numbers; no overflow warning (warnings are
    errors here)."""
    rows, Y, W, b, s = problem(300, 8, classes)
    W = W * scale
    X = rows.T if layout == "dense" else csc(rows)
    got = fused.loss_and_gradient(W, b, X, Y, s)
    assert all(np.all(np.isfinite(part)) for part in got)
    assert_close(got, truth(W, b, rows, Y, s), 1e-10)


# --- threads: the same bits on one thread and on two ---------------------------------------------

@pytest.fixture
def many_cpus(monkeypatch):
    """Pretend this process may use 8 CPUs, so that a limit of 2 means 2 threads on any machine
    (the kernels' results do not depend on the number of threads)."""
    monkeypatch.setattr(kernel_threads, "_cpus", lambda: 8)


@pytest.mark.parametrize("layout, classes", [("dense", 3), ("dense", 10), ("sparse", 2),
                                             ("sparse", 3), ("sparse", 10)],
                         ids=["dense-3", "dense-10", "sparse-2", "sparse-3", "sparse-10"])
@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_same_bits_on_any_number_of_threads(layout, classes, threads, dtype, many_cpus):
    rows, Y, W, b, s = problem(20000, 12, classes, density=0.5 if layout == "sparse" else 1.0)
    rows, W = rows.astype(dtype), W.astype(dtype)
    X = rows.T if layout == "dense" else csc(rows)
    if layout == "dense":
        chunks = fused.chunk_count(rows.shape[0], Y.shape[0])
    else:
        chunks = len(fused.sparse_bounds(X.T.indptr, 12, Y.shape[0], X.data.nbytes
                                         + X.indices.nbytes + X.indptr.nbytes)) - 1
    assert chunks >= threads  # the threads have chunks to share
    with kernel_threads.thread_limit(1):
        reference = fused.loss_and_gradient(W, b, X, Y, s, 0.5)
    with kernel_threads.thread_limit(threads):
        assert kernel_threads.threads() == threads
        result = fused.loss_and_gradient(W, b, X, Y, s, 0.5)
    assert_same_bits(result, reference)


def test_sparse_chunks_depend_on_the_data_and_stay_small():
    """The sparse chunks' dW together take at most a quarter of X's bytes, and their bounds
    balance the non-zeros."""
    rows = sp.random_array((100_000, 1000), density=0.01, format="csr", random_state=0)
    nbytes = rows.data.nbytes + rows.indices.nbytes + rows.indptr.nbytes
    for classes in (1, 3, 20):
        bounds = fused.sparse_bounds(rows.indptr, 1000, classes, nbytes)
        chunks = len(bounds) - 1
        assert 1 <= chunks <= fused.SPARSE_CHUNKS
        assert chunks == 1 or chunks * 1000 * classes * 8 <= nbytes / 4
        assert bounds[0] == 0 and bounds[-1] == 100_000 and np.all(np.diff(bounds) >= 0)
        per_chunk = np.diff(rows.indptr[bounds])
        assert per_chunk.max() - per_chunk.min() <= 2 * np.diff(rows.indptr).max() + 1


# --- sparse X is never densified -----------------------------------------------------------------

@pytest.mark.parametrize("shape", [(2000, 10**6), (10**6, 2000)], ids=["many-examples",
                                                                      "many-features"])
def test_sparse_x_is_never_densified(shape):
    """X (n_x, m) whose dense form would take 16 GB: the evaluation allocates megabytes."""
    n_x, m = shape
    rng = np.random.default_rng(0)
    nnz = 20_000
    X = sp.csc_array((rng.standard_normal(nnz), (rng.integers(0, n_x, nnz),
                                                 rng.integers(0, m, nnz))), shape=shape)
    classes = 3
    Y = (np.arange(classes)[:, None] == rng.integers(0, classes, m)).astype(float)
    W, b = rng.standard_normal((n_x, classes)) * 0.1, np.zeros((classes, 1))
    tracemalloc.start()
    try:
        cost, dW, db = fused.loss_and_gradient(W, b, X, Y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20  # Y is 24 MB, W and dW 48 MB at most: far from X's 16 GB
    # the same numbers as SciPy's own sparse products (the notes' lines on sparse X)
    want = neuron.loss_and_gradient(W, b, X, Y)
    assert_close((cost, dW, db), want, 1e-10)


# --- what it cannot read: a clear error ---------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csr", "coo", "lil", "dok", "bsr", "dia"])
def test_sparse_x_of_another_layout_is_refused(fmt):
    rows, Y, W, b, _ = sparse_problem(50, 6, 3)
    X = sp.csr_array(rows.T).asformat(fmt)  # (n_x, m), but not CSC
    with pytest.raises(InvalidInputError, match=rf"{fmt.upper()} format.*needs X \(n_x, m\) "
                                                r"in CSC format.*csr_array\(X_rows\)\.T"):
        fused.loss_and_gradient(W, b, X, Y)


def test_sparse_x_of_integers_is_refused():
    rows, Y, W, b, _ = sparse_problem(50, 6, 3)
    X = csc(np.rint(rows).astype(np.int64))
    with pytest.raises(InvalidInputError, match=r"int64.*float32 or float64.*astype"):
        fused.loss_and_gradient(W, b, X, Y)


def test_sparse_x_with_indices_outside_its_shape_is_refused_before_any_write():
    rows, Y, W, b, _ = sparse_problem(50, 6, 3)
    for bad in (6, -1, 10**6):
        X = csc(rows)
        X.indices = X.indices.copy()  # X.T's CSR column indices are X's CSC row indices
        X.indices[3] = bad
        with pytest.raises(InvalidInputError, match=r"1 column indices outside 0\.\.5"):
            fused.loss_and_gradient(W, b, X, Y)


def test_sparse_x_with_a_broken_indptr_is_refused():
    rows, Y, W, b, _ = sparse_problem(50, 6, 3)
    X = csc(rows)
    X.indptr = X.indptr.copy()
    X.indptr[3] = X.indptr[-1]  # decreasing after it: a row would read past the next ones
    with pytest.raises(InvalidInputError, match="invalid indptr"):
        fused.loss_and_gradient(W, b, X, Y)


def test_wins_says_yes_to_csc_floats_only():
    rows, *_ = sparse_problem(50, 6, 3)
    assert fused.wins(csc(rows))
    assert fused.wins(csc(rows.astype(np.float32), sp.csr_matrix))
    assert not fused.wins(sp.csr_array(rows.T))  # examples not rows of X.T
    assert not fused.wins(csc(np.rint(rows).astype(np.int64)))


@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("wrong", ["Y", "w", "b", "sample_weight"])
def test_shapes_that_disagree_are_refused(layout, wrong):
    """The kernels read without bounds checks: a Y, W, b or weights of the wrong size is an
    error before any work, never a read past an array's end."""
    rows, Y, W, b, s = problem(40, 5, 3)
    X = rows.T if layout == "dense" else csc(rows)
    arguments = {"Y": Y, "w": W, "b": b, "sample_weight": s}
    arguments[wrong] = {"Y": Y[:, :-1], "w": W[:-1], "b": b[:-1],
                        "sample_weight": s[:, :-1]}[wrong]
    with pytest.raises(InvalidInputError, match=rf"{wrong} does not fit"):
        fused.loss_and_gradient(arguments["w"], arguments["b"], X, arguments["Y"],
                                arguments["sample_weight"])
