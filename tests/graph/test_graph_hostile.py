"""`logreg graph` and logreg.graph off the happy path: every hostile input is one line on
stderr and exit status 2 (a LogregError in the library), never a traceback, a warning, a hang
or a value that is not a number. Expected values are worked by hand or by numpy directly."""

import json
import os
import re
import shutil
import stat
import warnings

import graphviz
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import run_cli
from logreg import graph
from logreg.core import neuron
from logreg.errors import InvalidInputError, InvalidTypeError, LogregError, OutputError
from logreg.graph import GraphExpressionError, Value, draw, evaluate, parse


def refused(code, out, err):
    """The command's refusal: status 2, one line on stderr, nothing on stdout."""
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert out == ""
    return err


# ----------------------------------------------------------------------------------------------
# values and gradients that are not finite numbers: an error naming the step and the values

NOT_FINITE = [  # (expression, values, what the message says); numpy gives these non-finite
    ("J = log(a)", {"a": 0}, "log(a) at a=0 is -inf"),
    ("J = a/b", {"a": 1, "b": 0}, "a/b at a=1, b=0 is inf"),
    ("J = a/b", {"a": 0, "b": 0}, "a/b at a=0, b=0 is nan"),
    ("J = a**-1", {"a": 0}, "a**-1 at a=0 is inf"),
    ("J = a**1000", {"a": 10}, "a**1000 at a=10 is inf"),
    ("J = a**2.5", {"a": -1}, "a**2.5 at a=-1 is nan"),
    ("J = 3*exp(a) + b", {"a": 710, "b": 1}, "exp(a) at a=710 is inf"),
    ("J = a*b", {"a": 1e200, "b": 1e200}, "a*b at a=1e+200, b=1e+200 is inf"),
    ("u = a - a; J = log(u)", {"a": 2}, "log(u) at u=0 is -inf, in the statement for 'J'"),
    ("J = log(-a)", {"a": 2}, "log(-a) at a=2 is nan"),
    # gradients: the forward values are finite, a local derivative is not
    ("J = log(a)", {"a": 1e-320}, "derivative of log(a) with respect to a at a=9.99989e-321 "
                                  "is inf"),
    ("J = a**0.5", {"a": 0}, "derivative of a**0.5 with respect to a at a=0 is inf"),
    ("u = a**0.5; J = 2*u", {"a": 0}, "derivative of a**0.5 with respect to a"),
    # each path's share is finite, their sum is not: 1e308 + 1e308
    ("J = a*b + a*c", {"a": 1e-10, "b": 1e308, "c": 1e308}, "dJ/da is inf"),
]


def test_expression_errors_are_logreg_input_errors():
    assert issubclass(GraphExpressionError, InvalidInputError)
    assert issubclass(GraphExpressionError, LogregError) and issubclass(GraphExpressionError,
                                                                         ValueError)
    assert issubclass(graph.DotNotFoundError, LogregError)


@pytest.mark.parametrize("text, values, message", NOT_FINITE)
def test_evaluate_refuses_what_is_not_finite_without_a_warning(text, values, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail here
        with pytest.raises(GraphExpressionError, match="finite number") as raised:
            evaluate(text, values)
    assert message in str(raised.value)
    assert isinstance(raised.value, (LogregError, ValueError, InvalidInputError))


@pytest.mark.parametrize("text, values, message", NOT_FINITE)
def test_command_refuses_what_is_not_finite(text, values, message, capsys):
    err = refused(*run_cli(["graph", text, *(f"{k}={v}" for k, v in values.items()),
                            "--json"], capsys))
    assert message in err


def test_numpy_agrees_that_these_are_not_finite():
    with np.errstate(all="ignore"):
        assert np.log(0.0) == -np.inf and np.power(0.0, -1.0) == np.inf
        assert np.power(10.0, 1000.0) == np.inf and np.isnan(np.power(-1.0, 2.5))
        assert 1 / np.float64(1e-320) == np.inf and np.exp(710.0) == np.inf


def test_arrays_name_the_first_element_that_is_not_finite():
    with pytest.raises(GraphExpressionError, match=r"-inf \(at index \(1,\) of an array\(3,\)"):
        evaluate("J = log(a)", {"a": np.array([1.0, 0.0, 2.0])})


def test_the_engine_itself_computes_as_ieee_floats_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = Value(0.0)
        J = (a.log() + 1 / a) * 0 + a ** -1
        J.backward()
    assert np.isnan(J.data) and np.isnan(a.grad)  # -inf + inf = nan, as numpy says
    assert np.isnan((Value(-1.0) ** 2.5).data)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"),
                                   np.array([1.0, np.nan])])
def test_evaluate_refuses_values_that_are_not_finite(value):
    with pytest.raises(GraphExpressionError, match="not a finite number"):
        evaluate("J = 2*a", {"a": value})


@pytest.mark.parametrize("value", ["5", None, 1j, [1, [2]], Value(1.0)])
def test_evaluate_refuses_values_that_are_not_real_numbers(value):
    with pytest.raises(InvalidTypeError, match="'a'"):
        evaluate("J = 2*a", {"a": value})


def test_evaluate_refuses_values_that_are_not_a_mapping():
    with pytest.raises(InvalidTypeError, match="dict"):
        evaluate("J = 2*a", [("a", 1)])


def test_names_are_read_as_python_reads_them():
    J, nodes = evaluate("J = ﬁ*2", {"ﬁ": 3})  # Python reads the ligature ﬁ as fi
    assert J.data == 6.0 and nodes["fi"].grad == 2.0
    with pytest.raises(GraphExpressionError, match="same name"):
        evaluate("J = fi*2", {"ﬁ": 3, "fi": 2})


# ----------------------------------------------------------------------------------------------
# the output is the last assignment: a statement whose result nothing uses is refused


@pytest.mark.parametrize("text, dead", [
    ("J = a*2; u = 3*a", "J"), ("u = a; v = a; J = u", "v"), ("u = 2*a\nJ = 3*a", "u")])
def test_a_statement_nothing_uses_is_refused(text, dead, capsys):
    with pytest.raises(GraphExpressionError, match=f"assigns '{dead}', which no later "
                                                   f"statement uses; the last assignment"):
        parse(text)
    err = refused(*run_cli(["graph", text, "a=1"], capsys))
    assert "is the output" in err


def test_a_constant_statement_gets_its_gradient():
    J, nodes = evaluate("v = 3; J = v*a", {"a": 2})
    assert (nodes["v"].grad, nodes["a"].grad, J.data) == (2.0, 3.0, 6.0)  # d(va)/dv = a


# ----------------------------------------------------------------------------------------------
# sizes: refused up front with the size and the limit, never left running


def test_fifty_thousand_terms_are_refused_quickly(capsys):
    text = "J = " + "+".join(["a"] * 25_000)  # 50 000 names and operations
    with pytest.raises(GraphExpressionError, match="nested too deeply|terms"):
        evaluate(text, {"a": 1})
    refused(*run_cli(["graph", text, "a=1"], capsys))


def test_many_statements_over_the_term_limit_are_refused_with_the_count():
    statements = ["u0 = a"] + [f"u{i} = u{i - 1} + " + " + ".join(["a"] * 99)
                               for i in range(1, 60)] + ["J = u59"]
    text = "; ".join(statements)
    terms = 2 + 59 * (1 + 100 + 99) + 2  # per statement: its name, the names, the additions
    with pytest.raises(GraphExpressionError, match=f"has {terms} terms.*at most 10000"):
        parse(text)


def test_a_long_text_is_refused_before_it_is_read():
    with pytest.raises(GraphExpressionError, match="characters long; at most 100000"):
        parse("J = a" + " " * 100_000)


@pytest.mark.parametrize("text", ["J = " + "(" * 300 + "a" + ")" * 300,
                                  "J = " + "-" * 100_000 + "a",
                                  "J = " + "exp(" * 300 + "a" + ")" * 300])
def test_deep_nesting_is_refused(text, capsys):
    with pytest.raises(GraphExpressionError, match="nested too deeply|characters long"):
        parse(text)
    refused(*run_cli(["graph", text, "a=1"], capsys))


def test_a_long_sum_within_the_limits_works_without_recursion():
    J, nodes = evaluate("J = " + " + ".join(["a*b"] * 1000), {"a": 2, "b": 3})
    assert J.data == 6000.0 and nodes["a"].grad == 3000.0 and nodes["b"].grad == 2000.0


def test_a_deep_graph_built_in_python_backpropagates_without_recursion():
    a = Value(1.0)
    J = a
    for _ in range(20_000):  # 40 000 nodes deep, far beyond Python's recursion limit
        J = J * 1.0 + a
    J.backward()
    assert a.grad == 20_001.0


def sum_of_products(k):
    """J = a*b + ... (k terms): 2 + k + (k - 1) values and k + (k - 1) operations = 4k nodes."""
    return evaluate("J = " + " + ".join(["a*b"] * k), {"a": 1, "b": 2})[0]


def test_draw_refuses_a_graph_too_large_to_lay_out(tmp_path):
    assert "{ J | data 100 | grad 1 }" in draw(sum_of_products(50)).source  # 200 nodes: drawn
    with pytest.raises(InvalidInputError, match="has 204 nodes.*at most 200"):
        draw(sum_of_products(51), tmp_path / "big.svg")
    assert list(tmp_path.iterdir()) == []


def test_command_refuses_to_draw_a_graph_too_large_before_printing(tmp_path, capsys):
    text = "J = " + " + ".join(["a*b"] * 500)
    err = refused(*run_cli(["graph", text, "a=1", "b=2", "-o", tmp_path / "g.svg"], capsys))
    assert "has 2000 nodes" in err and "at most 200" in err
    assert list(tmp_path.iterdir()) == []
    code, out, _ = run_cli(["graph", text, "a=1", "b=2", "--json"], capsys)  # no picture: fine
    assert code == 0 and json.loads(out)["gradients"]["a"] == 1000.0


# ----------------------------------------------------------------------------------------------
# pictures: the format and the place checked first; written atomically like every file


@pytest.mark.parametrize("name", ["g.xyz", "g.txt", "g.py", "g.svg.bak"])
def test_unknown_picture_formats_are_refused_with_the_known_ones(tmp_path, name, capsys):
    with pytest.raises(InvalidInputError, match=r"\.svg, \.png, \.pdf.*\.dot"):
        graph.picture_path(tmp_path / name)
    err = refused(*run_cli(["graph", "J = 3*a", "a=1", "-o", tmp_path / name], capsys))
    assert "not a picture format" in err
    assert list(tmp_path.iterdir()) == []


def test_unwritable_places_are_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("a file, not a folder")
    for place in [tmp_path / "missing" / "g.svg", tmp_path / "file" / "g.svg", tmp_path]:
        with pytest.raises(OutputError):
            graph.picture_path(place)
        err = refused(*run_cli(["graph", "J = log(a)", "a=0", "-o", place], capsys))
        assert ("cannot write" in err or "is a folder" in err) and "log(a)" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("name, fragment", [
    (".svg", ("it has no file name, only the suffix '.svg'; expected a name before it, such "
              "as graph.svg")),
    (".PNG", "only the suffix '.PNG'"),
    (".dot", "only the suffix '.dot'"),
    ("g.", "it ends in a dot with no format after it"),
])
def test_a_name_that_is_only_a_suffix_is_refused(tmp_path, name, fragment, capsys):
    """Before: `-o .svg` wrote a hidden `.svg.svg` (pathlib reads ".svg" as a name)."""
    with pytest.raises(InvalidInputError, match=re.escape(fragment)):
        graph.picture_path(tmp_path / name)
    err = refused(*run_cli(["graph", "J = 3*a", "a=1", "-o", tmp_path / name], capsys))
    assert fragment in err
    assert list(tmp_path.iterdir()) == []


def test_a_hidden_name_with_no_suffix_gets_one(tmp_path):
    """`-o .graph` is a hidden file's name, not a format: it becomes .graph.svg."""
    assert graph.picture_path(tmp_path / ".graph") == tmp_path / ".graph.svg"
    assert graph.picture_path(tmp_path / ".graph", format="dot") == tmp_path / ".graph.dot"


@pytest.mark.parametrize("name", ["pipe", "pipe.svg", "pipe.dot"])
def test_a_fifo_target_is_refused_and_kept(tmp_path, name, capsys):
    """Before: `-o pipe` (no suffix) wrote pipe.svg beside it, as `-o /dev/full` wrote
    /dev/full.svg; `-o pipe.svg` replaced the FIFO with a regular file."""
    fifo = tmp_path / name
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="FIFO"):
        graph.picture_path(fifo)
    err = refused(*run_cli(["graph", "J = 3*a", "a=1", "-o", fifo], capsys))
    assert err.endswith(f"cannot write {fifo}: it is a FIFO (named pipe), not a regular file; "
                        f"choose another path.\n")
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_a_device_target_is_refused_before_a_suffix_is_added():
    """Before: `-o /dev/full` wrote /dev/full.svg. Only the path is asked for here, so that
    nothing is ever written into /dev (the command takes the same path: see the FIFO)."""
    with pytest.raises(OutputError, match="^cannot write /dev/null: it is a character device, "
                                          "not a regular file; choose another path.$"):
        graph.picture_path("/dev/null")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc file system")
def test_a_file_system_that_refuses_the_write_is_one_line(capsys):
    err = refused(*run_cli(["graph", "J = 3*a", "a=1", "-o", "/proc/g.svg"], capsys))
    assert "cannot write /proc/g.svg" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    refused(*run_cli(["graph", "J = 3*a", "a=1", "-o", folder / "g.svg"], capsys))


@pytest.mark.parametrize("suffix", [".dot", ".svg"])
def test_pictures_have_the_mode_of_an_ordinary_write(tmp_path, suffix):
    if suffix != ".dot" and not shutil.which("dot"):
        pytest.skip("Graphviz's dot program is not installed")
    plain = tmp_path / "plain.txt"
    plain.write_text("an ordinary write")  # what open() leaves: 0666 less the umask
    picture = graph.picture_path(tmp_path / ("g" + suffix))
    draw(sum_of_products(2), picture)
    assert stat.S_IMODE(picture.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plain.txt", "g" + suffix])
    os.chmod(picture, 0o640)  # an existing picture keeps its mode
    draw(sum_of_products(3), picture)
    assert stat.S_IMODE(picture.stat().st_mode) == 0o640


def test_dot_source_needs_no_graphviz_program(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on this PATH
    code, out, err = run_cli(["graph", "u = b*c; v = a + u; J = 3*v", "a=5", "b=3", "c=2",
                              "-o", tmp_path / "g.dot"], capsys)
    assert code == 0 and err == ""
    assert "{ J | data 33 | grad 1 }" in (tmp_path / "g.dot").read_text()


def test_a_failed_render_leaves_the_old_picture_and_no_temporary_file(tmp_path, monkeypatch):
    picture = tmp_path / "g.svg"
    picture.write_text("the old picture")

    def dot_fails(*args, **kwargs):
        raise graphviz.CalledProcessError(1, ["dot"], b"", b"Error: layout failed")

    monkeypatch.setattr(graphviz.Digraph, "pipe", dot_fails)
    with pytest.raises(OutputError, match="layout failed"):
        draw(sum_of_products(2), picture)
    assert picture.read_text() == "the old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]


# ----------------------------------------------------------------------------------------------
# the command's values


@pytest.mark.parametrize("values, fragment", [
    (["a=nan"], "not a finite number"), (["a=1e400"], "not a finite number"),
    (["a=inf"], "not a finite number"), (["a=-infinity"], "not a finite number"),
    (["a=1", "a=2"], "given twice"), (["a=1", "b=2"], "'b'"), ([], "no value for 'a'"),
    (["a"], "NAME=NUMBER"), (["=1"], "NAME=NUMBER"), (["a=0x10"], "NAME=NUMBER"),
    (["a="], "NAME=NUMBER")])
def test_command_refuses_bad_values(values, fragment, capsys):
    assert fragment in refused(*run_cli(["graph", "J = 3*a", *values], capsys))


def test_json_holds_only_finite_numbers(capsys):
    def no_constant(name):
        raise AssertionError(f"{name} is not JSON")

    code, out, _ = run_cli(["graph", "J = exp(a) + log(b)", "a=709", "b=1e-300", "--json"],
                           capsys)
    record = json.loads(out, parse_constant=no_constant)
    assert code == 0 and record["values"]["J"] == pytest.approx(np.exp(709.0))
    assert record["gradients"]["b"] == pytest.approx(1e300)  # d log b / db = 1/b


# ----------------------------------------------------------------------------------------------
# the gradient engine of the estimator: float32 honoured, float64 kept


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("weighted, l2", [(False, 0.0), (True, 0.0), (False, 0.7), (True, 1.5)])
def test_graph_gradients_keep_the_dtype_and_equal_the_closed_form(dtype, rtol, weighted, l2):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(5, 40)).astype(dtype)
    Y = (rng.random((1, 40)) < 0.5).astype(dtype)
    w, b = rng.normal(size=(5, 1)).astype(dtype), 0.3
    s = rng.uniform(0.1, 2.0, size=(1, 40)) if weighted else None
    cost, dw, db = graph.loss_and_gradient(w, b, X, Y, s, l2)
    closed = neuron.loss_and_gradient(w, b, X, Y, s, l2)
    assert dw.dtype == dtype and dw.shape == (5, 1)
    np.testing.assert_allclose(dw, closed[1], rtol=rtol, atol=rtol * np.abs(closed[1]).max())
    assert float(cost) == pytest.approx(float(closed[0]), rel=rtol)
    assert float(db) == pytest.approx(float(closed[2]), rel=rtol, abs=rtol)


def test_float32_stays_float32_through_every_node():
    X = np.ones((3, 4), np.float32)
    w = Value(np.zeros((3, 1), np.float32))
    J, Z = graph.logistic_cost(w, Value(0.0), X, np.array([[1, 0, 1, 0]]))
    J.backward()
    assert Z.data.dtype == np.float32 and Z.grad.dtype == np.float32
    assert w.grad.dtype == np.float32 and isinstance(J.data, float)


# ----------------------------------------------------------------------------------------------
# fuzz: whatever is typed, the command answers with status 0 or 2 and at most one line


TOKENS = ["a", "b", "c", "u", "J", " = ", "=", ";", "\n", "+", "-", "*", "/", "**", "(", ")",
          "exp(", "log(", "sigmoid(", "0", "1", "2.5", "-1", "1e308", "1e-320", "1000", " ",
          ".", "[0]", "'s'", "lambda", "import os", ",", "1j", "#", "\\", "\x00"]
token_text = st.lists(st.sampled_from(TOKENS), max_size=24).map("".join)
expression_like = st.from_regex(
    r"\A(?:[abcu] = [-+]?[abc0-9.]{1,4} ?(?:[-+*/]|\*\*) ?[-(]?[abc0-9.e]{1,5}\)?; ?)?"
    r"J = [-(]?(?:exp|log|sigmoid)?\(?[abcu0-9.]{1,4}\)? ?(?:[-+*/]|\*\*)? ?[-]?[abcu0-9.e]{0,5}"
    r"\)?\Z", fullmatch=True)
value_args = st.lists(st.one_of(
    st.builds("{}={}".format, st.sampled_from("abcuJ"),
              st.sampled_from(["0", "-1", "1", "2.5", "1e308", "-1e308", "1e-320", "nan", "inf",
                               "1e400", "x", ""])),
    st.text(max_size=8)), max_size=5)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=st.one_of(st.text(max_size=40), token_text, expression_like),
       values=value_args, as_json=st.booleans())
def test_fuzz_the_command_never_crashes(expression, values, as_json, capsys, tmp_path,
                                        monkeypatch):
    monkeypatch.chdir(tmp_path)  # an argument read as -o writes here, not in the project
    argv = ["graph", expression, *values] + (["--json"] if as_json else [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, out, err = run_cli(argv, capsys)
    assert code in (0, 2), (argv, err)
    assert len(err.strip().splitlines()) <= 1 and "Traceback" not in err, (argv, err)
    assert code == 2 or err == "" or "dot not found" in err, (argv, err)
    if code == 0 and as_json and out.startswith("{"):
        json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in {out}"))


def combined(parts):
    return st.one_of(
        st.builds("({} {} {})".format, parts, st.sampled_from("+-*/"), parts),
        st.builds("{}**{}".format, parts, st.sampled_from(["2", "-1", "0.5", "2.5", "(-3)",
                                                          "1000"])),
        st.builds("{}({})".format, st.sampled_from(["exp", "log", "sigmoid", "-"]), parts))


formulas = st.recursive(st.sampled_from(["a", "b", "c", "0", "2.5", "1e308", "1e-320"]),
                        combined, max_leaves=10)
NUMBERS = ["0", "-1", "1", "2.5", "-700", "709", "1e308", "-1e308", "1e-320", "1e-300"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(formula=formulas, data=st.data())
def test_fuzz_well_formed_formulas_give_numbers_or_one_line(formula, data, capsys):
    names = sorted(set(re.findall(r"\b[abc]\b", formula)))
    values = [f"{name}={data.draw(st.sampled_from(NUMBERS))}" for name in names]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, out, err = run_cli(["graph", f"J = {formula}", *values, "--json"], capsys)
    assert code in (0, 2) and len(err.strip().splitlines()) == (code == 2), (formula, err)
    if code == 0:
        record = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in {out}"))
        assert set(record["values"]) == {*names, "J"}


@settings(max_examples=150, deadline=None)
@given(expression=st.one_of(token_text, expression_like),
       values=st.dictionaries(st.sampled_from("abcuJ"),
                              st.one_of(st.floats(), st.integers(-10**400, 10**400))))
def test_fuzz_evaluate_raises_only_logreg_errors(expression, values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            J, nodes = evaluate(expression, values)
        except LogregError:
            return
    for node in nodes.values():  # what is accepted is finite, every value and gradient
        assert np.isfinite(node.data) and np.isfinite(node.grad)
