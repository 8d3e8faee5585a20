"""`logreg quiz`: the notes' ten questions, their answers, and the code that shows each answer.

Truth comes from outside the quiz: the right answers are notes/errata.md's list, the facts the
demonstrations print are checked by running NumPy and logreg.graph here, and the command is
driven as a real process through pipes (answers, end of input, SIGINT).
"""

import ast
import doctest
import io
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import default_sigint
from logreg.lessons import quiz
from logreg.errors import InvalidInputError
from logreg.graph import evaluate
from logreg.lessons.quiz import LETTERS, QUESTIONS

ERRATA = Path(__file__).resolve().parents[3] / "shared" / "notes" / "errata.md"
COMMAND = [sys.executable, "-m", "logreg", "quiz"]
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}

# errata.md's list of right answers: (fragment of its item, fragment of the right choice's text)
ERRATA_ANSWERS = [
    ("a linear function (z = Wx + b) followed by an activation function",
     "a linear function (z = Wx + b) followed by an activation function"),
    (r"$-(y\log\hat{y} + (1-y)\log(1-\hat{y}))$", "= −(y⁽ⁱ⁾ log(ŷ⁽ⁱ⁾) + (1 − y⁽ⁱ⁾) log(1 − ŷ⁽ⁱ⁾))"),
    ("img.reshape((32*32*3, 1))", "img.reshape((32*32*3,1))"),
    ("c.shape = (2, 3)", "c.shape = (2, 3)"),
    ("error: the sizes don't match", "sizes don't match. It's going to be \"Error\""),
    ("$(n_x, m)$", "(n_x, m)"),
    ("c.shape = (12288, 45)", "c.shape = (12288, 45)"),
    ("c = a + b.T", "c = a + b.T"),
    ("element-wise product, `c.shape = (3, 3)`", "element-wise product so c.shape will be (3, 3)"),
    ("J = (a − 1)(b + c)", "J = (a - 1)*(b + c)"),
]
RIGHT = [q.answer for q in QUESTIONS]
WRONG = ["b" if q.answer == "a" else "a" for q in QUESTIONS]


def after(demo, statement):
    """The output line(s) that follow the `>>> statement` line of a demonstration."""
    lines = demo.splitlines()
    exact = [i for i, line in enumerate(lines) if line == ">>> " + statement]
    start = (exact or [i for i, line in enumerate(lines) if line.startswith(">>> " + statement)])[0]
    start += 1
    while start < len(lines) and lines[start].startswith("... "):
        start += 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(">>> ")), len(lines))
    return "\n".join(lines[start:end])


def demo(number, seed=0):
    return QUESTIONS[number - 1].demonstrate(seed)


# -- the questions ------------------------------------------------------------------------------

def test_ten_questions_with_the_notes_choices():
    assert len(QUESTIONS) == 10
    assert [len(q.choices) for q in QUESTIONS] == [4] * 9 + [3]  # the notes give Q10 three
    for q in QUESTIONS:
        assert q.answer in LETTERS[:len(q.choices)]
        assert q.why and q.code
    # wrong choices as the notes have them; the right one corrected as errata.md corrects it
    assert "x = img.reshape((3,32*32))" in QUESTIONS[2].choices
    assert "(32323,1)" not in "".join(QUESTIONS[2].choices)
    assert QUESTIONS[7].choices == ("c = a.T + b.T", "c = a + b", "c = a + b.T", "c = a.T + b")
    assert QUESTIONS[9].choices[0] == "J = (c - 1)*(b + a)"


@pytest.mark.parametrize("number", range(1, 11))
def test_right_answer_is_the_errata_answer(number):
    errata_fragment, choice_fragment = ERRATA_ANSWERS[number - 1]
    question = QUESTIONS[number - 1]
    assert choice_fragment in question.right_choice
    others = [c for c in question.choices if c != question.right_choice]
    assert not any(choice_fragment in c for c in others)
    if ERRATA.is_file():
        items = re.findall(r"^(\d+)\. (.*)$", ERRATA.read_text(encoding="utf-8"), re.M)
        assert errata_fragment in dict(items)[str(number)]


def test_a_few_answers_by_their_text():
    assert "(12288, 45)" in QUESTIONS[6].right_choice
    assert "a + b.T" in QUESTIONS[7].right_choice
    assert "Error" in QUESTIONS[4].right_choice
    assert "(a - 1)" in QUESTIONS[9].right_choice
    assert "matrix multiplication" not in QUESTIONS[8].right_choice


# -- the demonstrations say what NumPy and the graph really do ----------------------------------

def test_reshape_demo():
    img = np.random.randn(32, 32, 3)
    assert img.reshape((32 * 32 * 3, 1)).shape == (3072, 1)
    text = demo(3)
    assert after(text, "x.shape") == "(3072, 1)"
    assert after(text, "img.reshape((3, 32*32)).shape") == "(3, 1024)"
    assert after(text, "img.reshape((32323, 1))").startswith("ValueError: cannot reshape")


def test_broadcast_demo():
    assert (np.random.randn(2, 3) + np.random.randn(2, 1)).shape == (2, 3)
    text = demo(4)
    assert after(text, "c.shape") == "(2, 3)"
    assert after(text, "np.array_equal(c, a + np.hstack") == "True"


def test_mismatch_demo_shows_the_real_error():
    with pytest.raises(ValueError) as raised:
        np.random.randn(4, 3) * np.random.randn(3, 2)
    text = demo(5)
    assert after(text, "c = a*b") == f"ValueError: {raised.value}"
    assert "(4,3) (3,2)" in after(text, "c = a*b")
    assert after(text, "np.dot(a, b).shape") == "(4, 2)"


def test_dimension_of_X_demo():
    assert after(demo(6), "X.shape") == "(4, 3)"


def test_dot_demo():
    assert np.dot(np.zeros((12288, 150)), np.zeros((150, 45))).shape == (12288, 45)
    assert after(demo(7), "c.shape") == "(12288, 45)"


def test_vectorising_the_loop_demo():
    a, b = np.random.randn(3, 4), np.random.randn(4, 1)
    c = np.array([[a[i][j] + b[j][0] for j in range(4)] for i in range(3)])
    assert np.array_equal(c, a + b.T)
    text = demo(8)
    assert after(text, "for i in range(3):") == ""  # the loop ran, printing nothing
    assert after(text, "np.array_equal(c, a + b.T)") == "True"
    assert after(text, "a + b  # (b)").startswith("ValueError: operands could not be broadcast")
    assert after(text, "a.T + b.T").startswith("ValueError")
    assert after(text, "(a.T + b).shape") == "(4, 3)"


def test_element_wise_broadcast_demo():
    a, b = np.random.randn(3, 3), np.random.randn(3, 1)
    assert (a * b).shape == (3, 3)
    text = demo(9)
    assert after(text, "c.shape") == "(3, 3)"
    assert after(text, "np.array_equal(c, a * B)") == "True"
    assert after(text, "np.allclose(c, np.dot(a, B))") == "False"
    assert after(text, "np.dot(a, b).shape") == "(3, 1)"


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_computation_graph_demo_agrees_with_the_algebra(seed):
    a, b, c = 2.5, -1.0, 4.0
    J, nodes = evaluate("u = a*b; v = a*c; w = b + c; J = u + v - w", {"a": a, "b": b, "c": c})
    assert J.data == pytest.approx((a - 1) * (b + c))
    assert [nodes[n].grad for n in "abc"] == pytest.approx([b + c, a - 1, a - 1])
    text = demo(10, seed)
    assert "Traceback" not in text and "Error" not in text
    graph_value, formula = ast.literal_eval(after(text, "J.data, (a - 1)*(b + c)"))
    assert graph_value == formula
    gradients = ast.literal_eval(after(text, "[nodes[name].grad"))
    assert gradients == ast.literal_eval(after(text, "[b + c, a - 1, a - 1]"))
    a, b, c = map(float, after(text, "print(a, b, c)").split())
    assert graph_value == (a - 1) * (b + c)


def test_logistic_loss_demo_is_the_formula():
    def L(y_hat, y):
        return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))
    small, large = map(float, after(demo(2), "print(L(0.9, 1), L(0.1, 1))").split())
    assert (small, large) == (pytest.approx(-np.log(0.9)), pytest.approx(-np.log(0.1)))
    assert small == pytest.approx(L(0.9, 1))


def test_demonstrations_are_computed_not_typed():
    """Another seed gives other random numbers, the same facts; no demonstration fails."""
    assert after(demo(1, 0), "z") != after(demo(1, 1), "z")
    assert after(demo(10, 0), "print(a, b, c)") != after(demo(10, 1), "print(a, b, c)")
    assert after(demo(4, 5), "c.shape") == "(2, 3)"
    for number in (1, 2, 4, 6, 7, 9, 10):
        assert "Error" not in demo(number).replace("\"Error\"", "")


def test_doctests():
    assert doctest.testmod(quiz).failed == 0


# -- the quiz over streams ----------------------------------------------------------------------

def play(lines, **options):
    output = io.StringIO()
    status = quiz.run(io.StringIO("".join(f"{line}\n" for line in lines)), output, **options)
    return status, output.getvalue()


def test_all_right_and_all_wrong():
    status, text = play(RIGHT)
    assert status == 0 and text.count("Right!") == 10
    assert text.rstrip().endswith("Score: 10/10")
    status, text = play(WRONG)
    assert status == 0 and text.rstrip().endswith("Score: 0/10")
    assert "Wrong — the answer is (b) c.shape = (12288, 45)" in text


def test_answers_are_letters_any_case_with_spaces_and_invalid_entries_are_asked_again():
    status, text = play(["  C  ", "", "e", "dd", "1", "D"] + RIGHT[2:])
    assert status == 0 and text.rstrip().endswith("Score: 10/10")
    assert text.count("Sorry, ") == 3 and "Please type one letter: a, b, c or d." in text
    assert "Sorry, 'e' is not one of the choices; please type one letter" in text
    status, text = play(RIGHT[:9] + ["d", "B"])  # Q10 has three choices: d is refused
    assert "Sorry, 'd' is not one of the choices; please type one letter: a, b or c." in text
    assert text.rstrip().endswith("Score: 10/10")


def test_end_of_input_stops_with_the_score_so_far():
    status, text = play(["c", "a", "d"])
    assert status == 0
    assert text.rstrip().splitlines()[-1] == "Stopped after 3 of 10 questions. Score: 2/3"
    status, text = play([])
    assert status == 0 and text.rstrip().endswith("Stopped after 0 of 10 questions.")


def test_ctrl_c_while_reading_stops_with_status_130():
    class Interrupted(io.StringIO):
        def readline(self, *args):
            line = super().readline()
            if not line:
                raise KeyboardInterrupt
            return line

    output = io.StringIO()
    assert quiz.run(Interrupted("c\nd\n"), output) == 130
    assert output.getvalue().rstrip().splitlines()[-1] == \
        "Interrupted after 2 of 10 questions. Score: 2/2"


def test_one_question_and_the_answers_listing():
    status, text = play(["B"], only=7)
    assert "Question 7 of 10" in text and "Question 1 of" not in text
    assert text.rstrip().endswith("Score: 1/1")
    output = io.StringIO()
    assert quiz.answers(output, seed=3) == 0
    listing = output.getvalue()
    found = re.findall(r"^Answer: \((\w)\)", listing, re.M)
    assert found == RIGHT
    with pytest.raises(InvalidInputError, match="expected a number from 1 to 10"):
        quiz.answers(io.StringIO(), only=11)
    with pytest.raises(InvalidInputError, match="--question 0; expected a number from 1 to 10"):
        quiz.main(question=0)  # the command prints it as one line and exits with status 2
    with pytest.raises(InvalidInputError, match="--seed -1"):
        quiz.main(seed=-1)


# -- the command, as a process ------------------------------------------------------------------

SCENARIOS = {  # name: (options, what is piped in)
    "right": ((), "x\n\n" + "\n".join(f" {a.upper()} " for a in RIGHT) + "\n"),
    "wrong": ((), "\n".join(WRONG) + "\n"),
    "eof": ((), "c\nd\na\n"),
    "answers": (("--answers", "--seed", "2"), ""),
}


@pytest.fixture(scope="module")
def runs():
    """Each scenario run as `python -m logreg quiz ...` through pipes, all started at once
    (the command's start-up dominates it; on several cores they overlap)."""
    processes = {name: subprocess.Popen(COMMAND + list(options), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, encoding="utf-8", env=ENV)
                 for name, (options, _) in SCENARIOS.items()}
    done = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(SCENARIOS[name][1], timeout=60)
        done[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout,
                                                 stderr)
    return done


def test_command_all_right_through_a_pipe_with_invalid_entries(runs):
    done = runs["right"]
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("Score: 10/10")
    assert done.stdout.count("Sorry, 'x' is not one of the choices") == 1
    assert done.stdout.count("Please type one letter") == 1
    assert done.stderr == ""


def test_command_all_wrong(runs):
    done = runs["wrong"]
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("Score: 0/10")
    assert done.stdout.count("Wrong — the answer is") == 10


def test_command_end_of_input_midway(runs):
    done = runs["eof"]
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().splitlines()[-1] == "Stopped after 3 of 10 questions. Score: 2/3"
    assert done.stderr == ""


def test_command_answers(runs):
    done = runs["answers"]
    assert done.returncode == 0, done.stderr
    assert re.findall(r"^Answer: \((\w)\)", done.stdout, re.M) == RIGHT
    assert "ValueError: operands could not be broadcast together with shapes (4,3) (3,2)" in \
        done.stdout


def test_command_ctrl_c_at_the_first_question():
    process = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=ENV, preexec_fn=default_sigint)
    try:
        seen, deadline = b"", time.monotonic() + 30
        while b"Your answer" not in seen:
            assert time.monotonic() < deadline, seen
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                chunk = os.read(process.stdout.fileno(), 4096)
                assert chunk, (seen, process.stderr.read())
                seen += chunk
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)  # before communicate, which would close stdin: an EOF that,
        rest, errors = process.communicate(timeout=30)  # on a slow machine, beats the signal
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    stdout = (seen + rest).decode("utf-8")
    assert stdout.rstrip().splitlines()[-1] == "Interrupted after 0 of 10 questions."
    assert "Traceback" not in stdout + errors.decode() and errors == b""


# --- endless input -------------------------------------------------------------------------


class Endless(io.TextIOBase):
    """A stream that never ends and holds no new line, as /dev/zero: an unbounded readline
    would read forever, so one fails the test instead."""

    def __init__(self):
        self.read_so_far = 0

    def readable(self):
        return True

    def readline(self, size=-1):
        if size is None or size < 0:
            raise AssertionError("readline without a bound on endless input")
        self.read_so_far += size
        return "\0" * size


def test_endless_input_without_a_new_line_is_refused_after_a_bounded_read():
    stream, output = Endless(), io.StringIO()
    with pytest.raises(InvalidInputError, match=f"longer than {quiz.MAX_LINE} characters"):
        quiz.run(stream, output)
    assert stream.read_so_far == quiz.MAX_LINE + 1
    assert output.getvalue().startswith("The notes' quiz")


def test_a_long_line_that_ends_is_an_invalid_answer_asked_again():
    status, text = play(["x" * (quiz.MAX_LINE - 1)] + RIGHT)  # with its new line: MAX_LINE
    assert status == 0 and text.rstrip().endswith("Score: 10/10")
    assert text.count("Sorry, 'xxx") == 1


def test_command_reading_dev_zero_ends_with_one_line():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(COMMAND, stdin=zero, capture_output=True, text=True, env=ENV,
                              timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("logreg quiz: error: an answer line longer")
