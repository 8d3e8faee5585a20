"""The exercise's learning-rate comparison: ``logreg rates``.

The same model trained once per learning rate α (by default the exercise's 0.01, 0.001 and
0.0001), every run from w = 0, b = 0 for the same number of iterations; what is compared is the
cost curve (one picture, ``plots.learning_rate_comparison``) and the train and test accuracy.
A rate too large for the data diverges: that run is reported as diverged (with the parameters
of its lowest cost) and the comparison goes on. Any number K ≥ 2 of classes (the notes' neuron
for two, a softmax layer for more), dense or SciPy sparse X.
"""

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from logreg.core import neuron, text
from logreg.errors import InvalidInputError
from logreg.solvers import DivergenceWarning

RATES = (0.01, 0.001, 0.0001)  # the exercise's comparison
NUM_ITERATIONS = 1500  # as the exercise


@dataclass
class RateRun:
    """One learning rate's training: its costs, accuracies (%) and whether it diverged."""

    learning_rate: float
    costs: list = field(default_factory=list)
    train_accuracy: float = math.nan
    test_accuracy: float = None  # None: no test data
    diverged: str = None  # the solver's message when the run diverged
    seconds: float = 0.0

    @property
    def final_cost(self):
        """The last recorded cost, or NaN where none was recorded."""
        return self.costs[-1] if self.costs else math.nan


def check_rates(rates):
    """The rates as floats, each > 0 and finite, none twice; else InvalidInputError."""
    checked = []
    for rate in rates:
        try:
            value = float(rate)
        except (TypeError, ValueError):
            value = math.nan
        if not (value > 0 and math.isfinite(value)):
            raise InvalidInputError(f"learning rate {rate!r}; expected a number > 0 such as "
                                    f"0.01.")
        if value in checked:
            raise InvalidInputError(f"learning rate {value:g} is listed twice; give each rate "
                                    f"once.")
        checked.append(value)
    if not checked:
        raise InvalidInputError("no learning rates; give at least one, e.g. 0.01.")
    return checked


def accuracy(estimator, X, Y):
    """Percent of X's examples (n_x, m; dense or sparse) whose predicted class is Y's (1, m)
    index into ``estimator.classes_``, with the estimator's own predictions. Two classes: the
    exercise's figure, 100 − mean|Ŷ − Y|·100 (Ŷ, Y of 0/1); K classes: 100 · mean(ŷ = y)."""
    Y_prediction = neuron.class_indices(estimator.classes_, estimator.predict(X.T)).reshape(1, -1)
    return neuron.class_accuracy(Y_prediction, Y, len(estimator.classes_))


def train_rate(learning_rate, X_train, Y_train, X_test=None, Y_test=None,
               num_iterations=NUM_ITERATIONS):
    """Train at one learning rate on scaled data in the notes' layout: X (n_x, m), dense or
    SciPy sparse, and Y (1, m) of class indices 0, 1, ..., K − 1."""
    from logreg.model.estimator import LogisticRegression

    estimator = LogisticRegression(learning_rate=learning_rate, num_iterations=num_iterations,
                                   on_divergence="warn")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DivergenceWarning)
        estimator.fit(X_train.T, Y_train.ravel())
    diverged = None
    for warning in caught:
        if issubclass(warning.category, DivergenceWarning):
            diverged = str(warning.message)
        else:  # not ours to swallow
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return RateRun(learning_rate, list(estimator.costs_), accuracy(estimator, X_train, Y_train),
                   None if X_test is None else accuracy(estimator, X_test, Y_test), diverged,
                   time.perf_counter() - start)


def compare(X_train, Y_train, X_test=None, Y_test=None, rates=RATES,
            num_iterations=NUM_ITERATIONS, progress=None):
    """One ``RateRun`` per rate, in the given order; ``progress(run)`` after each."""
    runs = []
    for rate in check_rates(rates):
        runs.append(train_rate(rate, X_train, Y_train, X_test, Y_test, num_iterations))
        if progress is not None:
            progress(runs[-1])
    return runs


def format_table(runs):
    """Learning rate, train and test accuracy (%), final cost and status, in aligned columns."""
    header = ("learning rate", "train accuracy (%)", "test accuracy (%)", "final cost",
              "status")
    rows = [(f"{run.learning_rate:g}", f"{run.train_accuracy}",
             "-" if run.test_accuracy is None else f"{run.test_accuracy}",
             text.number(run.final_cost),
             f"diverged after {len(run.costs)} iterations" if run.diverged else "ok")
            for run in runs]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return "\n".join("  ".join(f"{cell:<{width}}" if i in (0, 4) else f"{cell:>{width}}"
                               for i, (cell, width) in enumerate(zip(row, widths))).rstrip()
                     for row in (header, *rows))
