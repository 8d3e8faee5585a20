"""Solvers: gradient descent as the notes teach it, and two faster ones; each described by a
``Solver`` spec in ``SOLVERS``.

Each solver takes X (n_x, m), Y (1, m) (or one-hot (K, m)) and a start (w, b) and returns a
``Fit``: the parameters and the cost at every iteration. The mathematics of one step lives in
``logreg.core.neuron``, the cost and its derivatives in the engine ``logreg.engines.resolve``
chose; a solver only drives them: when to stop, what to record, what to do when training goes
wrong. One module a solver:

- gd: ``logreg.solvers.gradient_descent``, the notes' steps, judged by the divergence rule
  (``logreg.solvers.divergence``);
- lbfgs: ``logreg.solvers.lbfgs``, SciPy's L-BFGS-B;
- newton: ``logreg.solvers.trust_region``, a trust-region Newton method (conjugate gradients).

``logreg.solvers.record`` holds what they return and record (``Fit``, ``Recorder``),
``logreg.solvers.diagnostics`` why a run did not converge.
"""

from dataclasses import dataclass

from logreg.solvers.divergence import (  # noqa: F401 (the names callers use: solvers.X)
    BLOW_UP, NEAR, PATIENCE, RISING_STEPS, WINDOW, Divergence, DivergenceWarning,
    FeaturesTooLargeError, divergence_message)
from logreg.solvers.gradient_descent import (  # noqa: F401
    Step, auto_learning_rate, gradient_descent, gradient_descent_steps)
from logreg.solvers.lbfgs import lbfgs
from logreg.solvers.record import Fit, Recorder, TrainingInterrupted  # noqa: F401
from logreg.solvers.trust_region import newton


@dataclass(frozen=True)
class Solver:
    """One solver, and what the rest of logreg needs to know of it.

    Attributes
    ----------
    name : the ``solver`` setting that picks it ("gd", "lbfgs", "newton")
    what : what it is, in words
    function : ``function(X, Y, w, b, *, num_iterations, tol, ...) -> Fit``
    tol : its ``tol`` where the estimator's is None: gradient descent's stops once a step
        lowers the cost by less (0: run every step, as the notes do); L-BFGS's and Newton's
        is the largest |dJ/dθ| accepted as the minimum
    takes_learning_rate : whether it steps by a learning rate α (and so finds one for "auto")
    needs : what it takes from an engine (``logreg.engines.SOLVER_NEEDS``): "gradient", or
        "Hessian-vector products" besides
    array_api : whether it runs on other array-API libraries' arrays (PyTorch, CuPy, Dask)
    """

    name: str
    what: str
    function: object
    tol: float
    takes_learning_rate: bool
    needs: str
    array_api: bool


SOLVERS = {solver.name: solver for solver in (
    Solver("gd", "the notes' batch gradient descent, w := w − α dw, b := b − α db",
           gradient_descent, tol=0.0, takes_learning_rate=True, needs="gradient",
           array_api=True),
    # 1e-6: below what changes a prediction; it stops there instead of warning at the limit
    Solver("lbfgs", "SciPy's L-BFGS-B on the same cost and gradients, a quasi-Newton method",
           lbfgs, tol=1e-6, takes_learning_rate=False, needs="gradient", array_api=True),
    # 1e-10: its last iterations are cheap; its products are NumPy's and SciPy's (or numba's)
    Solver("newton", "a trust-region Newton method whose steps come from conjugate gradients",
           newton, tol=1e-10, takes_learning_rate=False, needs="Hessian-vector products",
           array_api=False),
)}
