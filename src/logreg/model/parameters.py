"""The estimator's settings: scikit-learn's constraints on each parameter with what they let
through refused too (``check_params``), the solvers' default tolerances, and the memory an
iteration's record takes (``check_history_fits``).
"""

from numbers import Integral, Real

import numpy as np

# scikit-learn's parameter constraints live in a private module: the one private import, kept
# here, checked against the minimum scikit-learn in pyproject.toml (tests/model/test_estimator.py)
from sklearn.utils._param_validation import (
    InvalidParameterError,
    Interval,
    Options,
    StrOptions,
)

from logreg import engines
from logreg.solvers import SOLVERS

COST_BYTES = 32  # one cost in costs_: a Python float (24 bytes) and its list entry (8)
# an iteration's record: costs_, and history_'s columns (cost, gradient_norm, step, elapsed,
# validation_cost under early stopping) as C doubles, 8 bytes each
ITERATION_BYTES = COST_BYTES + 5 * 8

PARAMETER_CONSTRAINTS = {  # scikit-learn's, for ``LogisticRegression._parameter_constraints``
    "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
    "num_iterations": [Interval(Integral, 1, None, closed="left")],
    "solver": [StrOptions(set(SOLVERS))],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "l2": [Interval(Real, 0, None, closed="left")],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
    "backprop": [StrOptions(set(engines.BACKPROPS))],
    "implementation": [StrOptions(set(engines.IMPLEMENTATIONS))],
    "dtype": [StrOptions(set(engines.DTYPES)), None],
    "on_divergence": [StrOptions({"raise", "warn"})],
    "n_threads": [Interval(Integral, 1, None, closed="left"),
                  Options(Integral, {-1}), None],
    "fit_intercept": ["boolean"],
    "class_weight": [dict, StrOptions({"balanced"}), None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "callback": [callable, None],
}


def check_params(estimator):
    """scikit-learn's validation of ``estimator``'s settings (``fit`` calls it first), its
    error as logreg's with the fix; then what its constraints let through: booleans as
    numbers (True is an Integral), and integers beyond the float range (float(2**1100)
    overflows)."""
    from logreg.errors import InvalidParameterError as LogregInvalidParameterError

    try:
        estimator._validate_params()
    except InvalidParameterError as error:
        raise LogregInvalidParameterError(
            f"{error} Set it to one of those (see help(logreg.LogisticRegression)).") from None
    for name in ("learning_rate", "num_iterations", "tol", "l2", "n_threads",
                 "validation_fraction", "n_iter_no_change"):
        value = getattr(estimator, name)
        if isinstance(value, (bool, np.bool_)):
            raise LogregInvalidParameterError(
                f"The {name!r} parameter of LogisticRegression got {name}={value}, a bool; "
                f"expected a number. Set it to a number (see "
                f"help(logreg.LogisticRegression)).")
        if name not in ("num_iterations", "n_iter_no_change") and isinstance(value, Integral):
            try:
                float(value)
            except OverflowError:
                raise LogregInvalidParameterError(
                    f"The {name!r} parameter of LogisticRegression got {name}= an integer "
                    f"of {int(value).bit_length()} bits (about 2**"
                    f"{int(value).bit_length() - 1}), beyond the float range (about "
                    f"1.8e308); expected a float. Set it to a sensible number (see "
                    f"help(logreg.LogisticRegression)).") from None


def check_history_fits(num_iterations):
    """Refuse, before any work, a ``num_iterations`` whose record (``costs_`` and
    ``history_``: ``ITERATION_BYTES`` per iteration) cannot fit in memory. A record of at
    most a million iterations (72 MB) is not worth asking the system."""
    from logreg.core.checks import check_memory

    if int(num_iterations) <= 10**6:
        return
    check_memory(int(num_iterations) * ITERATION_BYTES,
                 f"num_iterations={int(num_iterations)}: its record (costs_ and "
                 f"history_, {ITERATION_BYTES} bytes per iteration)",
                 "choose fewer num_iterations")


def tolerance(solver, tol):
    """The tolerance the solver runs with: ``tol`` as a float, or where it is None the
    solver's own default (its spec's: ``logreg.solvers.SOLVERS[solver].tol``)."""
    if tol is not None:
        return float(tol)
    return SOLVERS[solver].tol if solver in SOLVERS else 0.0

