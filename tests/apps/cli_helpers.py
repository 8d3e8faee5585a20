"""Helpers shared by the command's end-to-end tests (tests/apps/test_cli_*.py): running the
installed command, reading what `logreg train / predict / evaluate` print, the numbers a model
file holds, and the plain NumPy references the tests compare them with."""

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import run_quietly
from scipy.special import expit, logsumexp, softmax
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

import logreg

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COST_LINE = re.compile(r"^Cost after iteration (\d+): (\d+\.\d{6})$", re.M)
ACCURACY_LINE = re.compile(r"^(train|test) accuracy: (\S+) %$", re.M)


# --- running the command -------------------------------------------------------------------


def console_script():
    script = Path(sys.executable).with_name("logreg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "logreg"]


def run_script(argv, cwd, module=False):
    command = [sys.executable, "-m", "logreg"] if module else console_script()
    done = subprocess.run(command + [str(a) for a in argv], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """`logreg train` with no data arguments, in-process, defaults (2000 steps, α = 0.005)."""
    folder = tmp_path_factory.mktemp("digits") / "out"
    code, out, err = run_quietly(["train", "--out", folder])
    return SimpleNamespace(code=code, out=out, err=err, folder=folder,
                           model=folder / "model.safetensors",
                           curve=folder / "learning_curve.png")


# --- reading what it prints ----------------------------------------------------------------


def printed_costs(out):
    return [(int(i), float(c)) for i, c in COST_LINE.findall(out)]


def accuracies(out):
    """{"train": %, "test": %} from `logreg train`'s accuracy lines."""
    return {name: float(value) for name, value in ACCURACY_LINE.findall(out)}


def parse_predict(out):
    """(class names, [(input, [P(class) ...], label)]) from `logreg predict`'s output."""
    lines = out.strip().splitlines()
    header = lines[0].split()
    assert header[0] == "input" and header[-1] == "label"
    names = [re.fullmatch(r"P\((.*)\)", h).group(1) for h in header[1:-1]]
    rows = []
    for line in lines[1:]:
        tokens = line.split()
        k = len(names)
        rows.append((" ".join(tokens[:-1 - k]), [float(p) for p in tokens[-1 - k:-1]],
                     tokens[-1]))
    return names, rows


def binary_rows(out):
    """[(input, P(positive class), label)] from `logreg predict` output: one probability per
    class, the positive class (the second) last; they sum to 1."""
    _, rows = parse_predict(out)
    for _, probabilities, _ in rows:
        assert sum(probabilities) == pytest.approx(1.0, abs=2e-6)
    return [(name, probabilities[-1], label) for name, probabilities, label in rows]


def parse_evaluate(out):
    """(accuracy, log loss, class names, K×K matrix) from `logreg evaluate`'s output."""
    accuracy = float(re.search(r"^accuracy: (\S+) %$", out, re.MULTILINE).group(1))
    loss = float(re.search(r"^log loss: (\S+)$", out, re.MULTILINE).group(1))
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("confusion matrix"))
    names = lines[start + 1].split()
    matrix = [[int(c) for c in line.split()[1:]]
              for line in lines[start + 2:start + 2 + len(names)]]
    assert [line.split()[0] for line in lines[start + 2:start + 2 + len(names)]] == names
    return accuracy, loss, names, np.array(matrix)


def evaluate_by_name(out):
    """parse_evaluate with the matrix as {true class: [counts per predicted class]}."""
    accuracy, loss, names, matrix = parse_evaluate(out)
    return accuracy, loss, names, {name: row.tolist() for name, row in zip(names, matrix)}


# --- files ---------------------------------------------------------------------------------


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows])
                    + "\n")
    return path


def touch(path, data):
    path.write_bytes(data)
    return path


def model_wb(path):
    """(w (n_x, 1), b, the loaded estimator) of a two-class model file."""
    model = logreg.load(path)
    return model.coef_.T.astype(np.float64), float(model.intercept_[0]), model


def stored(path):
    """(W (n_x, K'), b (K',), the loaded estimator) of a model file."""
    model = logreg.load(path)
    return model.coef_.T.astype(np.float64), model.intercept_.astype(np.float64), model


# --- references ----------------------------------------------------------------------------


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def probabilities(W, b, X_rows):
    """P(class) per row: softmax(XW + b) for K classes, [1 − σ, σ] for one output."""
    Z = X_rows @ W + b
    if W.shape[1] == 1:
        return np.column_stack([1 - expit(Z[:, 0]), expit(Z[:, 0])])
    return softmax(Z, axis=1)


def reference_gradient_descent(X, Y, num_iterations, learning_rate):
    """The notes' recipe written out plainly: w = 0, b = 0, batch gradient descent."""
    n_x, m = X.shape
    w, b, costs = np.zeros((n_x, 1)), 0.0, []
    for _ in range(num_iterations):
        A = sigmoid(w.T @ X + b)
        costs.append(float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))))
        dZ = A - Y
        w = w - learning_rate * (X @ dZ.T) / m
        b = b - learning_rate * float(np.mean(dZ))
    return w, b, costs


def softmax_gradient_descent(X, y, k, steps, alpha):
    """The notes' recipe for a layer of k neurons, written out plainly: W = 0, b = 0,
    Z = WᵀX + b, A = softmax(Z), dZ = A − Y; the cost before each step."""
    n, m = X.shape
    Y = np.eye(k)[y].T
    W, b, costs = np.zeros((n, k)), np.zeros((k, 1)), []
    for _ in range(steps):
        Z = W.T @ X + b
        costs.append(float(np.mean(logsumexp(Z, axis=0) - np.sum(Y * Z, axis=0))))
        dZ = softmax(Z, axis=0) - Y
        W, b = W - alpha * X @ dZ.T / m, b - alpha * dZ.mean(axis=1, keepdims=True)
    return W, b, costs


def sklearn_fit(X_rows, y, l2):
    """scikit-learn's minimiser of the same cost: mean loss + λ/(2m)‖W‖² is C = 1/λ."""
    return SkLogisticRegression(C=1 / l2, tol=1e-12, max_iter=10_000).fit(X_rows, y)


def sparse_problem(m=240, n=30, k=3, seed=0, labels=None):
    """Rows (m, n) CSR with about 6 non-zeros each on features of unequal scale, and labels
    drawn from a true softmax model (``labels``: the names of the k classes)."""
    rng = np.random.default_rng(seed)
    rows = sp.random(m, n, density=0.2, format="csr", random_state=seed,
                     data_rvs=lambda size: rng.uniform(-1, 1, size))
    rows = rows @ sp.diags(rng.uniform(0.5, 20, n))  # features of unequal scales
    rows = sp.csr_matrix(rows)
    W = rng.normal(0, 1.5, (n, k)) / np.abs(rows).max(axis=0).toarray().T
    index = np.array([rng.choice(k, p=p) for p in softmax(rows @ W, axis=1)])
    names = np.asarray(labels if labels is not None else np.arange(1, k + 1))
    return rows, names[index]
