import warnings

from benchopt import BaseSolver
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from benchmark_utils import next_iterations

HESSIAN_LIMIT = 1e9  # bytes: newton-cholesky's dense p×p Hessian beyond this is skipped


class Solver(BaseSolver):
    """scikit-learn's LogisticRegression: C = 1/λ, L2 (its default penalty), no intercept,
    a tolerance it never reaches, max_iter = benchopt's iteration count."""

    name = "sklearn"
    parameters = {"solver": ["lbfgs", "newton-cg", "newton-cholesky", "liblinear"]}
    parameter_template = "{solver}"
    requirements = ["scikit-learn"]

    def skip(self, X, y, lmbd):
        hessian = 8 * X.shape[1] ** 2
        if self.solver == "newton-cholesky" and hessian > HESSIAN_LIMIT:
            return True, (f"newton-cholesky factors a dense {X.shape[1]}×{X.shape[1]} Hessian "
                          f"({hessian / 1e9:.1f} GB) at every step")
        return False, None

    def set_objective(self, X, y, lmbd):
        self.X, self.y = X, y
        # a tolerance never reached: every run ends at max_iter or in a failed line search
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", message="The line search algorithm did not converge")
        warnings.filterwarnings("ignore", message="Line Search failed")
        self.clf = LogisticRegression(solver=self.solver, C=1 / lmbd, fit_intercept=False,
                                      tol=1e-15)

    def warm_up(self):
        # one untimed fit of one iteration first (numba's kernels compile on first use)
        self.run_once(1)

    def get_next(self, stop_val):
        return next_iterations(stop_val)

    def run(self, n_iter):
        self.clf.max_iter = n_iter
        self.clf.fit(self.X, self.y)

    def get_result(self):
        return dict(beta=self.clf.coef_.ravel())
