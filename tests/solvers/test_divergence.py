"""The one divergence rule (``solvers.Divergence``) of fit, ``logreg rates`` and the playground.

Truth: hand-made cost sequences whose verdict is plain (a wobble near the optimum, an
oscillation far above J₀, a steady climb, inf); for the real runs, the optimum of the logistic
cost found by scikit-learn (no penalty) and the cost written out in NumPy.
"""

import csv
import math

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

import logreg
from logreg.lessons import rates
from logreg import solvers
from logreg.solvers import BLOW_UP, PATIENCE, RISING_STEPS, WINDOW, Divergence

from helpers import run_cli  # noqa: E402

J0 = math.log(2)  # J at w = 0, b = 0


def verdict(costs):
    """(the index of the cost at which the rule says diverged, or None; its reason), fed one
    cost at a time; a run that never diverged is judged at its end too."""
    rule = Divergence()
    for i, cost in enumerate(costs):
        if rule.update(cost):
            return i, rule.reason
    return None, rule.reason if rule.ended() else None


# -- the rule on hand-made costs -------------------------------------------------------------

def test_a_wobble_near_the_optimum_is_not_divergence():
    """Down from J₀ to 0.2376, then for ever a 1e-5 wobble with 15 rises in a row at times."""
    optimum = 0.2376
    costs = [J0, 0.5, 0.3] + [optimum + 1e-6 * (k % 15) for k in range(5000)]
    assert verdict(costs) == (None, None)
    # the same from a warm start at the optimum: J₀ = J*, every cost a hair above it
    assert verdict([optimum] + [optimum + 1e-6 * (k % 15) for k in range(5000)]) == (None, None)


def test_an_oscillation_far_above_the_start_is_divergence():
    """3.7, 5.3, 3.7, ... above J₀ for ever: no lower over WINDOW steps than over the ones
    before."""
    at, reason = verdict([J0] + [3.7, 5.3] * 1000)
    assert at == 2 * WINDOW and "above its start 0.693147" in reason
    assert f"lowest over the last {WINDOW} (3.7) no lower" in reason


def test_an_oscillation_that_comes_down_is_not_divergence():
    """Above J₀ for 150 steps, swinging, each swing lower than the last: it is settling."""
    swings = [J0 * (3 - k / 100) * (1.2 if k % 2 else 1.0) for k in range(150)]
    assert verdict([J0] + swings + [0.3] * 100) == (None, None)


def test_a_steady_climb_above_the_start_is_divergence():
    costs = [J0 * 1.1 ** k for k in range(50)]
    at, reason = verdict(costs)
    assert at == RISING_STEPS and f"rose {RISING_STEPS} steps in a row" in reason


def test_a_climb_below_the_start_is_not():
    """Rising 30 steps in a row, by 1e-4 each, far below J₀: a wobble, not divergence."""
    assert verdict([J0, 0.1] + [0.1 + 1e-4 * k for k in range(30)] + [0.1] * 10) == (None, None)


def test_a_blow_up_is_divergence():
    at, reason = verdict([J0] + [1e3, 1e2] * 50)
    assert at == PATIENCE and f"above {BLOW_UP:g} times its start" in reason


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_a_cost_not_finite_is_divergence_at_once(bad):
    at, reason = verdict([J0, 0.5, bad, 0.4])
    assert at == 2 and reason == f"the cost became {bad}"


def test_a_jump_that_settles_is_not_divergence():
    """The cats at α = 0.01: up to 4.6 × J₀, below J₀ again within 20 steps."""
    jump = [J0 * (1 + 3.6 * math.sin(math.pi * k / 18)) for k in range(1, 18)]
    assert verdict([J0] + jump + [0.5 * 0.99 ** k for k in range(2000)]) == (None, None)


def test_the_rule_keeps_a_few_numbers_only():
    """Online: fed 10⁵ costs, its state is the same handful of numbers as after one."""
    rule = Divergence()
    rule.update(J0)
    names = set(vars(rule))
    for k in range(100_000):
        rule.update(0.3 + 1e-6 * (k % 7))
    assert set(vars(rule)) == names
    assert all(isinstance(value, (int, float, type(None))) for value in vars(rule).values())


# -- α = 50 on four standardised breast-cancer columns ----------------------------------------

# the case: worst perimeter, worst area, worst smoothness, worst compactness. At α = 50
# gradient descent comes within 1e-5 of the optimum (where the old rule saw "ten rises in a
# row" and stopped), then settles into a 2-cycle about 1.6e-3 above it: α is above 2 / λ_max
# of the Hessian there, so the optimum itself repels it. Far below J₀ (0.69 against 0.115), and
# 96 % right: not divergence. (The first four columns fall into a 2-cycle below J₀ too.)
COLUMNS = slice(22, 26)
ALPHA = 50


def breast_cancer_columns():
    data = load_breast_cancer()
    return data.data[:, COLUMNS], data.target


def standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def optimum(X, y):
    """The least mean logistic loss and the largest eigenvalue of its Hessian there, by
    scikit-learn (no penalty), written out in NumPy."""
    model = SklearnLogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    z = X @ model.coef_.ravel() + model.intercept_[0]
    a = 1 / (1 + np.exp(-z))
    X1 = np.column_stack([X, np.ones(len(y))])  # θ = (w, b)
    hessian = X1.T @ (X1 * (a * (1 - a))[:, None]) / len(y)
    return float(np.mean(np.logaddexp(0, z) - y * z)), float(np.linalg.eigvalsh(hessian)[-1])


def assert_near_the_optimum(costs, X, y):
    best, curvature = optimum(X, y)
    assert ALPHA * curvature > 2  # the optimum is unstable at α = 50: it cannot settle there
    assert min(costs) - best < 1e-5  # the 8e-6
    assert costs[-1] - best < 0.005 * (costs[0] - best)  # 99.5 % of the way from J₀


def test_learning_rate_50_near_the_optimum_is_not_diverged():
    X, y = breast_cancer_columns()
    X = standardised(X)
    model = logreg.LogisticRegression(learning_rate=ALPHA).fit(X, y)  # on_divergence="raise"
    assert len(model.costs_) == 2000
    assert_near_the_optimum(model.costs_, X, y)


def test_rates_reports_learning_rate_50_ok():
    X, y = breast_cancer_columns()
    X = standardised(X)
    run, = rates.compare(X.T, y.reshape(1, -1), rates=[ALPHA], num_iterations=2000)
    assert run.diverged is None and run.train_accuracy > 95
    assert_near_the_optimum(run.costs, X, y)
    assert "diverged" not in rates.format_table([run])


def test_train_at_learning_rate_50_writes_the_model(tmp_path, capsys):
    X, y = breast_cancer_columns()
    table = tmp_path / "table.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["perimeter", "area", "smoothness", "compactness", "diagnosis"])
        writer.writerows([*row, label] for row, label in zip(X.tolist(), y.tolist()))
    out = tmp_path / "model"
    code, stdout, err = run_cli(["train", "--data", table, "--label-column", "diagnosis",
                                 "--learning-rate", str(ALPHA), "--test-size", "0",
                                 "--out", out], capsys)
    assert code == 0, err
    assert "diverged" not in stdout + err
    model = logreg.load(out / "model.safetensors")
    # the command standardises the table as ``standardised`` does
    assert_near_the_optimum(model.costs_, standardised(X), y)


def test_gradient_descent_steps_are_gradient_descent():
    """The iterator the playground drives takes fit's steps: the same costs, bit for bit."""
    X, y = breast_cancer_columns()
    X = standardised(X).T
    Y = y.reshape(1, -1).astype(float)
    fit = solvers.gradient_descent(X, Y, np.zeros((4, 1)), 0.0, learning_rate=ALPHA,
                                   num_iterations=300)
    steps = solvers.gradient_descent_steps(X, Y, np.zeros((4, 1)), 0.0, ALPHA)
    taken = [next(steps) for _ in range(300)]
    assert [step.cost for step in taken] == fit.costs
    assert [step.iteration for step in taken] == list(range(300))
    assert not any(step.diverged for step in taken)
    np.testing.assert_array_equal(taken[-1].after[0], fit.w)
