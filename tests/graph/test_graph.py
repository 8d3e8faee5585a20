"""The computation graph against independent truth: the notes' hand-worked numbers, calculus by
hand, central finite differences, and the closed-form logistic-regression gradients in numpy."""

import shutil
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logreg.graph import (
    DotNotFoundError,
    GraphExpressionError,
    Value,
    draw,
    evaluate,
    exp,
    gradcheck,
    log,
    logistic_cost,
    parse,
    sigmoid,
)

# ----------------------------------------------------------------------------------------------
# the notes' computation graph J = 3(a + bc), u = bc, v = a + u at a = 5, b = 3, c = 2 (errata)

NOTES = {"u": 6.0, "v": 11.0, "J": 33.0}
NOTES_GRADS = {"v": 3.0, "a": 3.0, "u": 3.0, "b": 6.0, "c": 9.0, "J": 1.0}


def test_notes_example_with_value_operations():
    a, b, c = Value(5, name="a"), Value(3, name="b"), Value(2, name="c")
    u = b * c
    v = a + u
    J = 3 * v
    J.backward()
    nodes = {"a": a, "b": b, "c": c, "u": u, "v": v, "J": J}
    assert {k: nodes[k].data for k in NOTES} == NOTES
    assert {k: nodes[k].grad for k in NOTES_GRADS} == NOTES_GRADS


def test_notes_example_from_three_statements():
    J, nodes = evaluate("u = b*c; v = a + u; J = 3*v", {"a": 5, "b": 3, "c": 2})
    assert J is nodes["J"]
    assert {k: nodes[k].data for k in NOTES} == NOTES
    assert {k: nodes[k].grad for k in NOTES_GRADS} == NOTES_GRADS
    assert {name: node.name for name, node in nodes.items()} == {n: n for n in "abcuvJ"}


def test_notes_example_from_one_line_and_from_new_lines():
    for text in ["J = 3*(a + b*c)", "u = b*c\nv = a + u\nJ = 3*v"]:
        J, nodes = evaluate(text, {"a": 5, "b": 3, "c": 2})
        assert J.data == 33.0
        assert (nodes["a"].grad, nodes["b"].grad, nodes["c"].grad) == (3.0, 6.0, 9.0)


# ----------------------------------------------------------------------------------------------
# the notes' derivative examples, by hand


@pytest.mark.parametrize("a", [2.0, 5.0, -1.5, 0.25])
@pytest.mark.parametrize(
    "f, derivative",
    [
        (lambda a: 3 * a, lambda a: 3.0),
        (lambda a: a**2, lambda a: 2 * a),
        (lambda a: a * a, lambda a: 2 * a),  # a used twice: the sum of both paths
        (lambda a: a**3, lambda a: 3 * a**2),
    ],
    ids=["3a", "a^2", "a*a", "a^3"],
)
def test_derivative_examples(f, derivative, a):
    node = Value(a)
    f(node).backward()
    assert node.grad == pytest.approx(derivative(a), rel=1e-15)


@pytest.mark.parametrize("a", [0.5, 1.0, 2.0, 5.0, 100.0])
def test_derivative_of_ln(a):
    node = Value(a)
    log(node).backward()
    assert node.grad == pytest.approx(1 / a, rel=1e-15)


def test_slopes_of_the_notes():
    # f(a) = a² has slope 4 at a = 2 and 10 at a = 5
    for a, slope in [(2.0, 4.0), (5.0, 10.0)]:
        node = Value(a)
        (node**2).backward()
        assert node.grad == slope


# ----------------------------------------------------------------------------------------------
# the quiz: u = ab, v = ac, w = b + c, J = u + v − w = (a − 1)(b + c)


@pytest.mark.parametrize("a, b, c", [(5.0, 3.0, 2.0), (-1.5, 0.5, 4.0), (1.0, -2.0, 7.0)])
def test_quiz_graph(a, b, c):
    A, B, C = Value(a), Value(b), Value(c)
    J = A * B + A * C - (B + C)
    J.backward()
    assert J.data == pytest.approx((a - 1) * (b + c))
    assert (A.grad, B.grad, C.grad) == pytest.approx((b + c, a - 1, a - 1))

    J2, nodes = evaluate("u = a*b; v = a*c; w = b + c; J = u + v - w", {"a": a, "b": b, "c": c})
    assert J2.data == pytest.approx((a - 1) * (b + c))
    assert (nodes["a"].grad, nodes["b"].grad, nodes["c"].grad) == pytest.approx(
        (b + c, a - 1, a - 1)
    )
    assert (nodes["u"].grad, nodes["v"].grad, nodes["w"].grad) == (1.0, 1.0, -1.0)


# ----------------------------------------------------------------------------------------------
# paths, repeated backward, scalar outputs


def test_node_used_on_several_paths_gets_their_sum():
    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    J = a * b + a * c + a  # dJ/da = b + c + 1
    J.backward()
    assert a.grad == 8.0


def test_repeated_backward_gives_the_same_gradients_not_doubled():
    a, b = Value(5.0), Value(3.0)
    u = a * b
    J = u * a  # a²b: dJ/da = 2ab = 30, dJ/db = a² = 25
    J.backward()
    J.backward()
    assert (a.grad, b.grad, u.grad, J.grad) == (30.0, 25.0, 5.0, 1.0)


def test_backward_of_a_second_graph_resets_shared_leaves():
    a = Value(3.0)
    J1, J2 = a * 2, a * a
    J1.backward()
    assert a.grad == 2.0
    J2.backward()  # documented: the latest backward() that walks a node sets its gradient
    assert a.grad == 6.0


def test_gradients_are_none_before_backward():
    a = Value(1.0)
    J = a * 2
    assert a.grad is None and J.grad is None


def test_backward_refuses_a_non_scalar_output():
    with pytest.raises(ValueError, match=r"scalar.*\(2, 3\).*sum"):
        (Value(np.ones((2, 3))) * 2).backward()


def test_backward_accepts_a_one_element_array():
    w = Value(np.array([[2.0], [3.0]]))
    x = np.array([[1.0], [4.0]])
    J = w.T @ x  # shape (1, 1)
    J.backward()
    assert J.data.tolist() == [[14.0]]
    assert w.grad.tolist() == [[1.0], [4.0]]


def test_deep_chain_needs_no_recursion():
    a = Value(1.0)
    J = a
    for _ in range(5000):
        J = J + a
    J.backward()
    assert a.grad == 5001.0


# ----------------------------------------------------------------------------------------------
# operations and broadcasting against central finite differences

rng = np.random.default_rng(7)
M23, M23b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
COL, ROW = rng.normal(size=(2, 1)), rng.normal(size=(1, 3))
POS23, POSROW = rng.uniform(0.5, 2.0, size=(2, 3)), rng.uniform(0.5, 2.0, size=(1, 3))
M34, M32 = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))

CASES = {
    "(n,1)+(1,m)": (lambda p, q: ((p + q) ** 2).sum(), [COL, ROW]),
    "(n,1)*(1,m)-(n,m)": (lambda p, q, r: (p * q - r).sigmoid().sum(), [COL, ROW, M23]),
    "number*array": (lambda s, A: (s * A * A).sum(), [1.7, M23]),
    "array*number": (lambda A, s: (A * s).exp().mean(), [M23, -0.4]),
    "constant*array": (lambda A: ((3 * A + A * 2.5) ** 2).sum(), [M23]),
    "reflected": (lambda A: ((1 - A) * (2 + A) / 3 - 4 / (2 + A * A)).sum(), [M23]),
    "ndarray-left": (lambda A: (M23b * A + M23b - A).exp().sum(), [M23]),
    "sum axis 0": (lambda A: (A.sum(axis=0) ** 2).sum(), [M23]),
    "sum axis 1": (lambda A: (A.sum(axis=1) ** 2).sum(), [M23]),
    "sum axis -1 keepdims": (lambda A: (A.sum(axis=-1, keepdims=True) * A).sum(), [M23]),
    "sum axes (0,1)": (lambda A: A.sum(axis=(0, 1)) ** 2, [M23]),
    "mean axis 0 keepdims": (lambda A: ((A - A.mean(axis=0, keepdims=True)) ** 2).mean(), [M23]),
    "mean axis 1": (lambda A: (A.mean(axis=1) ** 3).sum(), [M23]),
    "mean whole": (lambda A: A.mean() ** 2, [M23]),
    "matmul": (lambda W, X: (W @ X).sigmoid().sum(), [M23, M34]),
    "matmul ndarray-left": (lambda X: (M23 @ X).sigmoid().sum(), [M34]),
    "matmul ndarray-right": (lambda W: (W @ M34).sigmoid().sum(), [M23]),
    "transpose": (lambda A, B: (A.T @ B).exp().sum(), [M23, M23b]),
    "reshape": (lambda A, B: (A.reshape(3, 2) @ B.reshape((2, 3))).sigmoid().sum(), [M23, M23b]),
    "reshape to column": (lambda A: (A.reshape(6, 1) * A.reshape(1, 6)).sum(), [M23]),
    "division": (lambda A, B: (A / B).sum(), [M23, POS23]),
    "division broadcast": (lambda A, r: (A / r).exp().sum(), [M23, POSROW]),
    "division of number by array": (lambda s, B: (s / B).sum(), [2.5, POS23]),
    "power 3": (lambda A: (A**3).sum(), [M23]),
    "power -1.5": (lambda B: (B**-1.5).sum(), [POS23]),
    "power 0.5": (lambda B: (B**0.5 * B).sum(), [POS23]),
    "negation": (lambda A, B: (-A * B).sum(), [M23, M23b]),
    "exp log": (lambda B: (log(B) * exp(B)).sum(), [POS23]),
    "sigmoid": (lambda A: sigmoid(A * 3).sum(), [M23]),
    "log of sigmoid": (lambda A: log(sigmoid(A)).mean(), [M23]),
}


@pytest.mark.parametrize("name", CASES)
def test_operations_against_finite_differences(name):
    f, inputs = CASES[name]
    assert gradcheck(f, inputs) < 1e-7


def test_broadcast_gradients_have_the_operands_shapes_and_sums():
    p, q = Value(np.ones((2, 1))), Value(np.ones((1, 3)))
    s = Value(2.0)
    (p + q + s).sum().backward()
    # each element of p meets 3 columns, each of q 2 rows, s all 6 elements
    assert p.grad.shape == (2, 1) and p.grad.tolist() == [[3.0], [3.0]]
    assert q.grad.shape == (1, 3) and q.grad.tolist() == [[2.0, 2.0, 2.0]]
    assert isinstance(s.grad, float) and s.grad == 6.0


def test_ndarray_on_the_left_gives_a_value():
    A = Value(np.ones((2, 2)))
    for result in (np.ones((2, 2)) * A, np.ones((2, 2)) + A, np.ones((2, 2)) @ A, 1 - A, 2 / A):
        assert isinstance(result, Value)


def test_matmul_refuses_rank_1_arrays():
    with pytest.raises(ValueError, match="2-D"):
        Value(np.ones(3)) @ Value(np.ones(3))


def test_exponent_must_be_a_number():
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(3.0)


def test_value_refuses_strings():
    with pytest.raises(TypeError):
        Value("abc")


def test_sigmoid_is_stable_for_every_finite_input():
    z = np.array([-1e308, -1000.0, -40.0, 0.0, 40.0, 1000.0, 1e308])
    node = Value(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(node)
        s.sum().backward()
    assert np.all(np.isfinite(s.data)) and np.all(np.isfinite(node.grad))
    assert s.data[0] == 0.0 and s.data[3] == 0.5 and s.data[-1] == 1.0
    assert s.data[2] == pytest.approx(1 / (1 + np.exp(40.0)), rel=1e-12)
    assert node.grad[3] == 0.25


def test_gradcheck_catches_a_wrong_derivative():
    def wrong_square(x):  # forward x², but claims the derivative 3x
        return Value(x.data**2, _parents=(x,), _op="bad", _chain=(lambda g: g * 3 * x.data,))

    assert gradcheck(lambda x: wrong_square(x).sum(), [M23]) > 0.1
    assert gradcheck(lambda x: (x**2).sum(), [M23]) < 1e-8


def test_gradcheck_does_not_modify_its_inputs():
    A = M23.copy()
    gradcheck(lambda x: (x * x).sum(), [A])
    assert np.array_equal(A, M23)


# ----------------------------------------------------------------------------------------------
# random expression graphs: backward against finite differences

SHAPES = [(), (2, 3), (1, 3), (2, 1)]
grid = st.integers(-16, 16).map(lambda k: k / 8)  # |x| ≤ 2, exact in binary
leaf_values = st.tuples(
    *[
        st.lists(grid, min_size=int(np.prod(s)), max_size=int(np.prod(s))).map(
            lambda v, s=s: np.array(v).reshape(s) if s else v[0]
        )
        for s in SHAPES
    ]
)
UNARY = ["sigmoid", "exp_sigmoid", "log_sigmoid", "neg", "square", "inv_sqrt", "mean", "sum_rows"]
BINARY = ["+", "-", "*", "/"]


def trees(depth):
    leaf = st.tuples(st.just("leaf"), st.integers(0, len(SHAPES) - 1))
    if depth == 0:
        return leaf
    sub = trees(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(st.sampled_from(UNARY), sub),
        st.tuples(st.sampled_from(BINARY), sub, sub),
    )


def build(tree, leaves):
    """The expression of a tree, on values kept in safe ranges (log only of a sigmoid)."""
    kind, *args = tree
    if kind == "leaf":
        return leaves[args[0]]
    if len(args) == 2:
        x, y = build(args[0], leaves), build(args[1], leaves)
        return {"+": x + y, "-": x - y, "*": x * y, "/": x / (1 + y**2)}[kind]
    x = build(args[0], leaves)
    if kind == "sum_rows":  # a reduction along an axis where there is one
        return x.sum(axis=0, keepdims=True) if np.ndim(x.data) == 2 else x
    return {
        "sigmoid": lambda: sigmoid(x),
        "exp_sigmoid": lambda: exp(sigmoid(x)),
        "log_sigmoid": lambda: log(sigmoid(x)),
        "neg": lambda: -x,
        "square": lambda: x**2,
        "inv_sqrt": lambda: (1 + x**2) ** -0.5,
        "mean": lambda: x.mean(),
    }[kind]()


@settings(max_examples=50, deadline=None)
@given(tree=trees(3), values=leaf_values)
def test_random_graphs_backward_equals_finite_differences(tree, values):
    assert gradcheck(lambda *leaves: build(tree, leaves).sum(), list(values)) < 1e-5


# ----------------------------------------------------------------------------------------------
# logistic regression through the graph against the closed form, in plain numpy


def closed_form(w, b, X, Y):
    m = X.shape[1]
    A = 1 / (1 + np.exp(-(w.T @ X + b)))  # A = σ(wᵀX + b)
    dZ = A - Y  # dZ = A − Y
    J = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    return J, A, X @ dZ.T / m, np.mean(dZ)  # J, A, dw = X dZᵀ / m, db = mean dZ


def relative_error(x, y):
    return np.max(np.abs(np.asarray(x) - y)) / np.max(np.abs(y))


def test_logistic_cost_gradients_equal_the_closed_form():
    gen = np.random.default_rng(2024)
    n_x, m = 4, 7
    X = gen.normal(size=(n_x, m))
    Y = (gen.random((1, m)) < 0.5).astype(float)
    w0, b0 = gen.normal(size=(n_x, 1)), float(gen.normal())
    w, b = Value(w0, name="w"), Value(b0, name="b")
    J, Z = logistic_cost(w, b, X, Y)
    J.backward()
    J_np, A, dw, db = closed_form(w0, b0, X, Y)
    assert J.data == pytest.approx(J_np, rel=1e-12)
    assert w.grad.shape == (n_x, 1) and isinstance(b.grad, float)
    assert relative_error(w.grad, dw) < 1e-10
    assert relative_error(b.grad, db) < 1e-10
    assert Z.grad.shape == (1, m)
    assert relative_error(Z.grad, (A - Y) / m) < 1e-10
    assert gradcheck(lambda w, b: logistic_cost(w, b, X, Y)[0], [w0, b0]) < 1e-7


@pytest.mark.parametrize("z, y", [(1000.0, 0.0), (-1000.0, 1.0), (800.0, 0.0)])
def test_logistic_cost_is_finite_where_certain_and_wrong(z, y):
    # one example x = 1, w = z, b = 0: the loss is log(1 + e^z) − yz = |z| to double precision
    w, b = Value(np.array([[z]])), Value(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, Z = logistic_cost(w, b, np.array([[1.0]]), np.array([[y]]))
        J.backward()
    assert J.data == abs(z)
    assert w.grad.tolist() == [[1.0 - 2 * y]] and b.grad == 1.0 - 2 * y  # dZ = A − Y = ±1


def test_logistic_cost_with_huge_weights_on_random_data_is_finite():
    gen = np.random.default_rng(3)
    X, Y = gen.normal(size=(4, 7)), (gen.random((1, 7)) < 0.5).astype(float)
    w = Value(1e6 * gen.normal(size=(4, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, _ = logistic_cost(w, Value(0.0), X, Y)
        J.backward()
    assert np.isfinite(J.data) and J.data > 1000 and np.all(np.isfinite(w.grad))


def test_logistic_cost_refuses_labels_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"\(1, m\)"):
        logistic_cost(np.zeros((2, 1)), 0.0, np.ones((2, 3)), np.ones((3, 1)))


# ----------------------------------------------------------------------------------------------
# the parser: allowed grammar, refusals, never evaluated by Python


def test_parser_operators_by_hand():
    J, nodes = evaluate("J = -a*b + a**2 + +a/4", {"a": 3, "b": 2})
    assert J.data == -6 + 9 + 0.75
    assert (nodes["a"].grad, nodes["b"].grad) == (-2 + 6 + 0.25, -3.0)
    J, nodes = evaluate("J = log(exp(a)) + sigmoid(b)", {"a": 1.5, "b": 0})
    assert J.data == pytest.approx(2.0)
    assert nodes["a"].grad == pytest.approx(1.0) and nodes["b"].grad == 0.25
    J, nodes = evaluate("J = a ** -1 + a ** (1/2)", {"a": 4})
    assert J.data == 2.25 and nodes["a"].grad == pytest.approx(-1 / 16 + 1 / 4)


def test_parse_reports_inputs_and_output():
    parsed = parse("u = b*c; v = a + u; J = 3*v")
    assert parsed.inputs == ("b", "c", "a")
    assert parsed.output == "J"
    assert [name for name, _ in parsed.statements] == ["u", "v", "J"]


def test_alias_keeps_both_names():
    J, nodes = evaluate("v = a; J = v*v", {"a": 3})
    assert nodes["a"].name == "a" and nodes["v"].name == "v"
    assert nodes["a"].grad == 6.0 and J.data == 9.0


@pytest.mark.parametrize(
    "text, what",
    [
        ("J = a.b", "attribute"),
        ("a.b", "attribute"),
        ("J = a[0]", "subscript"),
        ("J = print(a)", "call"),
        ("print(a)", "call"),
        ("J = __import__('os')", "call"),
        ("J = (lambda: a)()", "call"),
        ("J = lambda: a", "lambda"),
        ("import os", "import"),
        ("from os import system", "import"),
        ("J = 'a'", "str"),
        ("J = b'a'", "bytes"),
        ("J = a < b", "comparison"),
        ("J = a == b", "comparison"),
        ("J = a and b", "and/or"),
        ("J = True", "bool"),
        ("J = 1j * a", "complex"),
        ("J = a % b", "Mod"),
        ("J = a // b", "FloorDiv"),
        ("J = ~a", "Invert"),
        ("J = not a", "Not"),
        ("J = [a]", "list"),
        ("J = exp(a, b)", "one plain argument"),
        ("J = exp(x=a)", "one plain argument"),
        ("J = exp(*a)", "one plain argument"),
        ("J = sin(a)", "call"),
        ("J = exp", "function name"),
        ("J = a ** b", "exponent"),
        ("J = 2 ** a", "exponent"),
        ("J = a ** exp(1)", "exponent"),
        ("J = a ** (1/0)", "division by zero"),
        ("J = 9.0 ** 999 * a", "too large"),
        ("J = 1e999 * a", "finite"),
        ("J += a", "augmented"),
        ("a, b = 1, 2", "one name"),
        ("J = K = a", "one name"),
        ("u = a; u = b", "second definition"),
        ("J = a; a = 2", "second definition"),
        ("J = (a := 2)", ":="),
        ("J = a if b else c", "if-else"),
        ("J = f'{a}'", "f-string"),
        ("3*(a + b*c)", "bare expression"),
        ("", "no assignment"),
        ("J = a +", "not a valid expression"),
        ("def f(): pass", "FunctionDef"),
        ("for i in x: pass", "For"),
    ],
)
def test_parser_refuses(text, what):
    with pytest.raises(GraphExpressionError, match="(?i)" + what.replace("(", r"\(")):
        parse(text)
    with pytest.raises(GraphExpressionError):
        evaluate(text, {})


def test_parser_error_is_a_value_error():
    assert issubclass(GraphExpressionError, ValueError)


def test_parser_never_evaluates(tmp_path):
    target = tmp_path / "pwned_x"
    attacks = [
        f"__import__('os').system('touch {target}')",
        f"J = __import__('os').system('touch {target}')",
        f"J = exp(__import__('os').system('touch {target}'))",
        f"J = a ** __import__('os').system('touch {target}')",
        f"J = a; import os; os.system('touch {target}')",
    ]
    for text in attacks:
        with pytest.raises(GraphExpressionError):
            parse(text)
        with pytest.raises(GraphExpressionError):
            evaluate(text, {"a": 1.0})
    assert not target.exists()


def test_missing_value_is_named():
    with pytest.raises(GraphExpressionError, match="'c'"):
        evaluate("J = 3*(a + b*c)", {"a": 5, "b": 3})


def test_unused_value_is_refused():
    with pytest.raises(GraphExpressionError, match="'d'"):
        evaluate("J = 3*(a + b*c)", {"a": 5, "b": 3, "c": 2, "d": 1})


def test_parser_refuses_non_text():
    with pytest.raises(GraphExpressionError):
        parse(42)


# ----------------------------------------------------------------------------------------------
# the picture


def notes_graph():
    J, nodes = evaluate("u = b*c; v = a + u; J = 3*v", {"a": 5, "b": 3, "c": 2})
    return J


def test_draw_shows_names_values_and_gradients():
    import graphviz

    dot = draw(notes_graph())
    assert isinstance(dot, graphviz.Digraph)
    source = dot.source
    assert "rankdir=LR" in source
    for label in [
        "{ a | data 5 | grad 3 }",
        "{ b | data 3 | grad 6 }",
        "{ c | data 2 | grad 9 }",
        "{ u | data 6 | grad 3 }",
        "{ v | data 11 | grad 3 }",
        "{ J | data 33 | grad 1 }",
    ]:
        assert label in source
    assert source.count("shape=record") == 7  # a, b, c, u, v, J and the constant 3
    assert source.count("shape=ellipse") == 3  # *, +, *


def test_draw_shows_arrays_by_shape_and_missing_gradients():
    A = Value(np.ones((2, 3)), name="A")
    source = draw(A.sum()).source
    assert "{ A | data array(2, 3) | grad - }" in source
    assert "sum()" in source


def test_draw_renders_svg_or_writes_dot_source(tmp_path):
    target = tmp_path / "graph.svg"
    if shutil.which("dot"):
        draw(notes_graph(), target)
        assert target.exists() and "<svg" in target.read_text()
    else:
        with pytest.raises(DotNotFoundError) as raised:
            draw(notes_graph(), target)
        assert raised.value.dot_path == tmp_path / "graph.dot"
        assert "digraph" in raised.value.dot_path.read_text()
        assert not target.exists()


def test_draw_fallback_when_dot_is_missing(tmp_path, monkeypatch):
    import graphviz

    def no_dot(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", no_dot)
    (tmp_path / "pictures").mkdir()  # pictures go into an existing folder, as every file does
    with pytest.raises(DotNotFoundError) as raised:
        draw(notes_graph(), tmp_path / "pictures" / "g", format="png")
    dot_path = tmp_path / "pictures" / "g.dot"
    message = str(raised.value)
    assert raised.value.dot_path == dot_path and dot_path.exists()
    assert "{ J | data 33 | grad 1 }" in dot_path.read_text()
    assert f"dot -Tpng {dot_path} -o {tmp_path / 'pictures' / 'g.png'}" in message
    assert "apt-get install graphviz" in message
    assert [p.name for p in dot_path.parent.iterdir()] == ["g.dot"]  # no temporary file left


@pytest.mark.skipif(not shutil.which("dot"), reason="Graphviz's dot program is not installed")
def test_draw_renders_png_from_the_suffix(tmp_path):
    draw(notes_graph(), tmp_path / "graph.png")
    assert (tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
