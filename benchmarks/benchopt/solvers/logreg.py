import warnings

import numpy as np
from benchopt import BaseSolver
from sklearn.exceptions import ConvergenceWarning

from logreg import LogisticRegression
from logreg.errors import LogregError

from benchmark_utils import next_iterations


class Solver(BaseSolver):
    """Ours, through the public estimator only: logreg.LogisticRegression(solver, l2 = λ, no
    intercept, tol = 0: every one of num_iterations = benchopt's iteration count is run)."""

    name = "logreg"
    parameters = {"solver": ["newton", "lbfgs"]}
    parameter_template = "{solver}"
    requirements = ["logreg"]

    def skip(self, X, y, lmbd):
        # a solver this version of logreg lacks: its own error says so (on two examples)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self._estimator(lmbd, 1).fit(np.array([[1.0], [-1.0]]), np.array([1, 0]))
        except LogregError as error:
            return True, f"logreg has no solver={self.solver!r}: {error}"
        return False, None

    def _estimator(self, lmbd, n_iter):
        return LogisticRegression(solver=self.solver, l2=lmbd, fit_intercept=False, tol=0,
                                  num_iterations=n_iter)

    def set_objective(self, X, y, lmbd):
        # labels y ∈ {−1, 1} → 0/1 (y = 1 is classes_[1], so coef_ is β's sign), not timed
        self.X, self.Y, self.lmbd = X, (y > 0).astype(X.dtype), lmbd
        warnings.filterwarnings("ignore", category=ConvergenceWarning)

    def warm_up(self):
        # one untimed fit of one iteration first (numba's kernels compile on first use)
        self.run_once(1)

    def get_next(self, stop_val):
        return next_iterations(stop_val)

    def run(self, n_iter):
        if n_iter == 0:  # no iteration: the start, β = 0 (num_iterations must be ≥ 1)
            self.beta = np.zeros(self.X.shape[1])
            return
        self.beta = self._estimator(self.lmbd, n_iter).fit(self.X, self.Y).coef_.ravel()

    def get_result(self):
        return dict(beta=self.beta)
