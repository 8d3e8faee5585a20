"""The notes' quiz in the terminal: ten questions, each answer shown by running its code.

The questions are data (:data:`QUESTIONS`): the notes' text and choices, corrected where
notes/errata.md corrects them, the right letter, a line of explanation, and the code that shows
it. :func:`run_code` runs that code as an interactive session would (``>>>`` lines, then what
each printed, returned or raised), so nothing the quiz says about the code is typed in by hand.

:func:`run` asks the questions over any pair of text streams: a terminal, a pipe, a test's
``io.StringIO``. One answer a line; an entry that is not a choice is asked again; end of input
or Ctrl-C stops the quiz with the score so far.

>>> import io
>>> out = io.StringIO()
>>> run(io.StringIO("c\\n"), out, only=1)
0
>>> out.getvalue().splitlines()[-1]
'Score: 1/1'
"""

import contextlib
import io
import sys
from dataclasses import dataclass

import numpy as np

from logreg.errors import InvalidInputError

LETTERS = "abcd"
MAX_LINE = 1000  # characters: an answer line longer than this is not read to its end


@dataclass(frozen=True)
class Question:
    """One question of the notes' quiz."""

    text: str
    choices: tuple[str, ...]
    answer: str  # the right choice's letter
    why: str  # the explanation, in a sentence or two
    code: tuple[str, ...]  # statements that show it, run by `run_code`

    @property
    def right_choice(self) -> str:
        """The text of the right answer."""
        return self.choices[LETTERS.index(self.answer)]

    def demonstrate(self, seed: int = 0) -> str:
        """The explanation, then the code run with ``rng = np.random.RandomState(seed)``."""
        setup = f"import numpy as np; rng = np.random.RandomState({seed})"
        return f"{self.why}\nRunning it ({setup}):\n{run_code(self.code, seed)}"


def run_code(code, seed=0):
    """Run statements one by one as ``>>>`` lines, each followed by what it printed, returned
    (its repr, as the interpreter shows it) or raised (``TypeName: message``).

    >>> lines = run_code(["a = rng.randn(4, 3)", "a.shape", "a * rng.randn(3, 2)"])
    >>> lines.splitlines()[:3]
    ['>>> a = rng.randn(4, 3)', '>>> a.shape', '(4, 3)']
    >>> lines.splitlines()[-1].startswith("ValueError: operands could not be broadcast")
    True
    """
    namespace = {"np": np, "rng": np.random.RandomState(seed)}
    lines = []
    with np.printoptions(precision=3, suppress=True):
        for statement in code:
            first, *rest = statement.splitlines()
            lines += [">>> " + first] + ["... " + line for line in rest]
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    try:
                        expression = compile(statement, "<quiz>", "eval")
                    except SyntaxError:
                        exec(compile(statement, "<quiz>", "exec"), namespace)
                        result = None
                    else:
                        result = eval(expression, namespace)
            except Exception as error:
                lines += printed.getvalue().splitlines()
                lines.append(f"{type(error).__name__}: {error}")
                continue
            lines += printed.getvalue().splitlines()
            if result is not None:
                lines += repr(result).splitlines()
    return "\n".join(lines)


QUESTIONS = [
    Question(
        "What does a neuron compute?",
        ("A neuron computes an activation function followed by a linear function (z = Wx + b)",
         "A neuron computes the mean of all features before applying the output to an "
         "activation function",
         "A neuron computes a linear function (z = Wx + b) followed by an activation function",
         "A neuron computes a function g that scales the input x linearly (Wx + b)"),
        "c",
        "First the linear part z = w.T x + b, then the activation a = σ(z): logistic "
        "regression is one such neuron.",
        ("x = rng.randn(3, 1)  # one example, n_x = 3 features",
         "w = rng.randn(3, 1)",
         "b = 0.5",
         "z = np.dot(w.T, x) + b  # linear",
         "z",
         "a = 1 / (1 + np.exp(-z))  # activation σ(z), a number in (0, 1)",
         "a"),
    ),
    Question(
        "Which of these is the \"Logistic Loss\"?",
        ("L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾) = |y⁽ⁱ⁾ − ŷ⁽ⁱ⁾|",
         "L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾) = max(0, y⁽ⁱ⁾ − ŷ⁽ⁱ⁾)",
         "L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾) = |y⁽ⁱ⁾ − ŷ⁽ⁱ⁾|²",
         "L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾) = −(y⁽ⁱ⁾ log(ŷ⁽ⁱ⁾) + (1 − y⁽ⁱ⁾) log(1 − ŷ⁽ⁱ⁾))"),
        "d",
        "The logistic (cross-entropy) loss: −log ŷ when y = 1, −log(1 − ŷ) when y = 0; small "
        "when ŷ is near y, large when it is confidently wrong, and convex in w and b.",
        ("def L(y_hat, y):\n    return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))",
         "print(L(0.9, 1), L(0.1, 1))  # y = 1: ŷ near 1 costs little, near 0 much",
         "print(L(0.1, 0), L(0.9, 0))  # y = 0: the other way round"),
    ),
    Question(
        "Suppose img is a (32,32,3) array, representing a 32x32 image with 3 color channels "
        "red, green and blue. How do you reshape this into a column vector?",
        ("x = img.reshape((1,32*32,3))",
         "x = img.reshape((3,32*32))",
         "x = img.reshape((32*32,3))",
         "x = img.reshape((32*32*3,1))"),
        "d",
        "A column vector is (n, 1) with n = 32*32*3 = 3072 numbers; the other shapes keep "
        "three columns or three axes. (The notes print this choice as (32323,1), a typing "
        "slip for 32*32*3.)",
        ("img = rng.randint(0, 256, size=(32, 32, 3))",
         "img.reshape((1, 32*32, 3)).shape  # (a)",
         "img.reshape((3, 32*32)).shape  # (b)",
         "img.reshape((32*32, 3)).shape  # (c)",
         "x = img.reshape((32*32*3, 1))  # (d)",
         "x.shape",
         "img.reshape((32323, 1))  # (d) as the notes print it"),
    ),
    Question(
        "Consider the two following random arrays \"a\" and \"b\":\n"
        "    a = np.random.randn(2, 3)  # a.shape = (2, 3)\n"
        "    b = np.random.randn(2, 1)  # b.shape = (2, 1)\n"
        "    c = a + b\n"
        "What will be the shape of \"c\"?",
        ("c.shape = (3, 2)",
         "c.shape = (2, 3)",
         "c.shape = (2, 1)",
         "The computation cannot happen because the sizes don't match. It's going to be "
         "\"Error\"!"),
        "b",
        "Broadcasting: b's one column is copied across a's three columns, then the sum is "
        "taken element by element.",
        ("a = rng.randn(2, 3)",
         "b = rng.randn(2, 1)",
         "c = a + b",
         "c.shape",
         "np.array_equal(c, a + np.hstack([b, b, b]))  # b copied to (2, 3)"),
    ),
    Question(
        "Consider the two following random arrays \"a\" and \"b\":\n"
        "    a = np.random.randn(4, 3)  # a.shape = (4, 3)\n"
        "    b = np.random.randn(3, 2)  # b.shape = (3, 2)\n"
        "    c = a*b\n"
        "What will be the shape of \"c\"?",
        ("c.shape = (4, 3)",
         "c.shape = (4, 2)",
         "c.shape = (3, 3)",
         "The computation cannot happen because the sizes don't match. It's going to be "
         "\"Error\"!"),
        "d",
        "* is element-wise: the shapes must match or broadcast, axis by axis from the right; "
        "3 against 2 and 4 against 3 do neither. (np.dot(a, b) would be the (4, 2) matrix "
        "product.)",
        ("a = rng.randn(4, 3)",
         "b = rng.randn(3, 2)",
         "c = a*b",
         "np.dot(a, b).shape"),
    ),
    Question(
        "Suppose you have n_x input features per example. Recall that "
        "X = [x⁽¹⁾ x⁽²⁾ ... x⁽ᵐ⁾]. What is the dimension of X?",
        ("(n_x, m)",
         "(1, m)",
         "(m, n_x)",
         "(m, 1)"),
        "a",
        "Each example x⁽ⁱ⁾ is a column of n_x numbers; X puts the m columns side by side.",
        ("x1, x2, x3 = rng.randn(4, 1), rng.randn(4, 1), rng.randn(4, 1)  # n_x = 4, m = 3",
         "X = np.hstack([x1, x2, x3])",
         "X.shape"),
    ),
    Question(
        "Recall that \"np.dot(a,b)\" performs a matrix multiplication on a and b, whereas "
        "\"a*b\" performs an element-wise multiplication. Consider the two following random "
        "arrays \"a\" and \"b\":\n"
        "    a = np.random.randn(12288, 150)  # a.shape = (12288, 150)\n"
        "    b = np.random.randn(150, 45)  # b.shape = (150, 45)\n"
        "    c = np.dot(a,b)\n"
        "What is the shape of c?",
        ("The computation cannot happen because the sizes don't match. It's going to be "
         "\"Error\"!",
         "c.shape = (12288, 45)",
         "c.shape = (12288, 150)",
         "c.shape = (150, 150)"),
        "b",
        "A matrix product (m, n)·(n, p) is (m, p): the inner sizes (150) agree and vanish.",
        ("a = rng.randn(12288, 150)",
         "b = rng.randn(150, 45)",
         "c = np.dot(a, b)",
         "c.shape"),
    ),
    Question(
        "Consider the following code snippet:\n"
        "    # a.shape = (3,4)\n"
        "    # b.shape = (4,1)\n"
        "    for i in range(3):\n"
        "        for j in range(4):\n"
        "            c[i][j] = a[i][j] + b[j]\n"
        "How do you vectorize this?",
        ("c = a.T + b.T",
         "c = a + b",
         "c = a + b.T",
         "c = a.T + b"),
        "c",
        "c[i][j] adds b's j-th number to a's column j, so b must lie along a row: b.T is "
        "(1, 4) and broadcasts down a's three rows. (In the loop, b[j][0] is that number.)",
        ("a = rng.randn(3, 4)",
         "b = rng.randn(4, 1)",
         "c = np.zeros((3, 4))",
         "for i in range(3):\n    for j in range(4):\n        c[i][j] = a[i][j] + b[j][0]",
         "np.array_equal(c, a + b.T)  # (c)",
         "a.T + b.T  # (a)",
         "a + b  # (b)",
         "(a.T + b).shape  # (d): broadcasts, but to the wrong shape"),
    ),
    Question(
        "Consider the following code:\n"
        "    a = np.random.randn(3, 3)\n"
        "    b = np.random.randn(3, 1)\n"
        "    c = a*b\n"
        "What will be c? (If you're not sure, feel free to run this in python to find out).",
        ("This will invoke broadcasting, so b is copied three times to become (3,3), and * is "
         "an element-wise product so c.shape will be (3, 3)",
         "This will invoke broadcasting, so b is copied three times to become (3, 3), and * "
         "invokes a matrix multiplication operation of two 3x3 matrices so c.shape will be "
         "(3, 3)",
         "This will multiply a 3x3 matrix a with a 3x1 vector, thus resulting in a 3x1 "
         "vector. That is, c.shape = (3,1).",
         "It will lead to an error since you cannot use \"*\" to operate on these two "
         "matrices. You need to instead use np.dot(a,b)"),
        "a",
        "b's column is copied across three columns, then * multiplies element by element; "
        "the matrix-vector product is np.dot(a, b).",
        ("a = rng.randn(3, 3)",
         "b = rng.randn(3, 1)",
         "c = a*b",
         "c.shape",
         "B = np.hstack([b, b, b])  # b copied three times",
         "np.array_equal(c, a * B)  # element-wise",
         "np.allclose(c, np.dot(a, B))  # not a matrix product",
         "np.dot(a, b).shape"),
    ),
    Question(
        "Consider the following computation graph:\n"
        "    u = a*b,  v = a*c,  w = b + c,  J = u + v - w\n"
        "What is the output J?",
        ("J = (c - 1)*(b + a)",
         "J = (a - 1)*(b + c)",
         "J = a*b + b*c + a*c"),
        "b",
        "J = ab + ac − (b + c) = a(b + c) − (b + c) = (a − 1)(b + c). The graph run forward "
        "and backward (logreg.graph.evaluate) agrees in value and in every dJ/dvar.",
        ("from logreg.graph import evaluate",
         "a, b, c = (float(n) for n in rng.randint(-9, 10, size=3))",
         "J, nodes = evaluate(\"u = a*b; v = a*c; w = b + c; J = u + v - w\", "
         "{\"a\": a, \"b\": b, \"c\": c})",
         "print(a, b, c)",
         "J.data, (a - 1)*(b + c)  # (b)",
         "(c - 1)*(b + a), a*b + b*c + a*c  # (a), (c)",
         "[nodes[name].grad for name in \"abc\"]  # dJ/da, dJ/db, dJ/dc",
         "[b + c, a - 1, a - 1]  # the derivatives of (a - 1)*(b + c)"),
    ),
]


def _choices(question, mark=False):
    return "\n".join(f"  ({letter}) {choice}" + ("   <- the answer" if mark and
                                                 letter == question.answer else "")
                     for letter, choice in zip(LETTERS, question.choices))


def _selected(only):
    """(number, question) pairs: all ten, or the one numbered `only` (1-based)."""
    if only is None:
        return list(enumerate(QUESTIONS, 1))
    if not 1 <= only <= len(QUESTIONS):
        raise InvalidInputError(f"--question {only}; expected a number from 1 to "
                                f"{len(QUESTIONS)}.")
    return [(only, QUESTIONS[only - 1])]


def _heading(number, question):
    return f"Question {number} of {len(QUESTIONS)}\n{question.text}\n{_choices(question)}"


def answers(output=None, seed=0, only=None):
    """Print each question with its answer and demonstration (``logreg quiz --answers``)."""
    output = output or sys.stdout
    for number, question in _selected(only):
        output.write(f"{_heading(number, question)}\n"
                     f"Answer: ({question.answer}) {question.right_choice}\n"
                     f"{question.demonstrate(seed)}\n\n")
    return 0


def _ask(question, input_stream, output, echo):
    """The letter the user chose, or None at end of input."""
    letters = LETTERS[:len(question.choices)]
    while True:
        output.write(f"Your answer ({letters[0]}-{letters[-1]}): ")
        output.flush()
        line = input_stream.readline(MAX_LINE + 1)  # bounded: endless input is not read forever
        if not line:
            output.write("\n")
            return None
        if len(line) > MAX_LINE and not line.endswith("\n"):
            raise InvalidInputError(f"an answer line longer than {MAX_LINE} characters "
                                    f"({line[:20]!r}...); expected one letter a line, such as "
                                    f"'c'.")
        entry = line.strip()
        if echo:
            output.write(entry + "\n")
        if len(entry) == 1 and entry.lower() in letters:
            return entry.lower()
        output.write((f"Sorry, {entry!r} is not one of the choices; please" if entry else
                      "Please") + f" type one letter: {', '.join(letters[:-1])} or "
                     f"{letters[-1]}.\n")


def run(input_stream=None, output=None, seed=0, only=None):
    """Ask the questions (all, or the one numbered `only`), one answer a line from
    input_stream, and return the exit status: 0 at the end or at end of input (the score so
    far is printed), 130 on Ctrl-C.
    """
    input_stream, output = input_stream or sys.stdin, output or sys.stdout
    selected = _selected(only)
    echo = not input_stream.isatty()  # piped answers appear in the transcript
    total, asked, score = len(selected), 0, 0
    output.write(f"The notes' quiz, {_count(total)}: answer each with its letter and Enter; "
                 f"end of input (Ctrl-D) stops.\n\n")
    try:
        for number, question in selected:
            output.write(_heading(number, question) + "\n")
            letter = _ask(question, input_stream, output, echo)
            if letter is None:
                output.write(_stopped("Stopped", asked, total, score) + "\n")
                return 0
            asked += 1
            if letter == question.answer:
                score += 1
                output.write("Right!\n")
            else:
                output.write(f"Wrong — the answer is ({question.answer}) "
                             f"{question.right_choice}\n")
            output.write(question.demonstrate(seed) + "\n\n")
            output.flush()
    except KeyboardInterrupt:
        output.write("\n" + _stopped("Interrupted", asked, total, score) + "\n")
        output.flush()
        return 130
    output.write(f"Score: {score}/{total}\n")
    return 0


def _count(n):
    return f"{n} question{'s' if n != 1 else ''}"


def _stopped(how, asked, total, score):
    return f"{how} after {asked} of {_count(total)}." + (
        f" Score: {score}/{asked}" if asked else "")


def main(question=None, seed=0, show_answers=False):
    """``logreg quiz``: the whole quiz, or one question (1-based), on stdin and stdout."""
    if not 0 <= seed < 2**32:
        raise InvalidInputError(f"--seed {seed}; expected a whole number from 0 to 2**32 - 1.")
    # a reader that leaves (`logreg quiz --answers | head`) is cli.main's to handle, as for
    # every command: BrokenPipeError goes up to it
    if show_answers:
        return answers(sys.stdout, seed, question)
    return run(sys.stdin, sys.stdout, seed, question)
