"""benchopt's "L2 Logistic Regression" (the field's benchmark_logreg_l2), rebuilt from its
description: labels y in {−1, 1}, no intercept,

    f(β) = Σᵢ log(1 + exp(−yᵢ xᵢᵀβ)) + (λ/2) ‖β‖²,   λ ∈ {1, 0.01}

(the same minimiser as logreg's mean cost J with ``l2 = λ``, and scikit-learn's C = 1/λ).
X is dense or SciPy sparse; a solver's result is β, shape (p,).
"""

from benchopt import BaseObjective
from benchopt.stopping_criterion import SufficientProgressCriterion

import numpy as np


class Objective(BaseObjective):
    name = "L2 Logistic Regression"
    min_benchopt_version = "1.10"
    parameters = {"lmbd": [1.0, 0.01]}

    # every solver: fresh runs with max_iter = 0, 1, 2, ... growing 1.2× (benchmark_utils),
    # stopped once 3 runs in a row improve f by less than 1e-10 of the largest improvement
    stopping_criterion = SufficientProgressCriterion(eps=1e-10, patience=3,
                                                     strategy="iteration")

    def set_data(self, X, y):
        self.X, self.y = X, y

    def get_objective(self):
        return dict(X=self.X, y=self.y, lmbd=self.lmbd)

    def evaluate_result(self, beta):
        margins = self.y * (self.X @ beta)  # yᵢ xᵢᵀβ
        # log(1 + exp(−t)) = logaddexp(0, −t): no overflow for large |t|
        loss = np.logaddexp(0.0, -margins).sum()
        return dict(value=float(loss + 0.5 * self.lmbd * np.dot(beta, beta)))

    def get_one_result(self):
        return dict(beta=np.zeros(self.X.shape[1]))
