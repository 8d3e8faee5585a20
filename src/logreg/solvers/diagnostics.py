"""Why a fit did not converge: the usual causes, each read from what training already has.

A fit that stops at ``num_iterations`` short of its tolerance warns (ConvergenceWarning), and
the warning names the causes it sees, each with its fix:

- unscaled features: the norms of X's feature columns spread over more than
  ``SPREAD_LIMIT`` (largest / smallest non-zero); fix: standardise them;
- a learning rate too large (gradient descent): the cost rose in at least ``RISING_SHARE`` of
  the last half of the iterations (it oscillates); fix: lower it, or ``"auto"``;
- too few iterations: the cost still fell at every one of the last iterations
  (``TAIL_SHARE`` of them, at least two), by more than ``STILL_FALLING`` of its whole fall
  since the start (a converged fit's last iterations change it by far less); fix: raise
  ``num_iterations``;
- separable data: every training example on the right side (100 % training accuracy), no
  penalty (l2 = 0) and the cost still falling: the minimum is at ‖w‖ → ∞, so ‖w‖ keeps
  growing; fix: set ``l2 > 0``.

Each is computed from the history, X's column norms (once, when the fit ends) and one
prediction on the training data; nothing runs while training. ``diagnose(estimator, X, y)``
gives the same findings for a fitted estimator.
"""

from dataclasses import dataclass

import numpy as np

SPREAD_LIMIT = 100.0  # largest / smallest feature column norm beyond which X is "unscaled"
RISING_SHARE = 0.1  # share of the last half's iterations whose cost rose: "oscillating"
TAIL_SHARE = 0.1  # the last tenth of the iterations...
STILL_FALLING = 1e-3  # ...lowered the cost, by more than this share of its whole fall


@dataclass(frozen=True)
class Finding:
    """One cause of a fit that did not converge: what it is, what shows it, how to fix it.

    Attributes
    ----------
    cause : str
        A short name: "unscaled features", "learning rate too large", "too few iterations" or
        "separable data".
    evidence : str
        The figures that show it.
    fix : str
        What to do.
    """

    cause: str
    evidence: str
    fix: str

    def __str__(self):
        return f"{self.cause} ({self.evidence}): {self.fix}"


def column_norms(X):
    """The norm of each feature over the examples, ‖X[j, :]‖ for X (n_x, m) in the notes'
    layout (dense, SciPy sparse or another array library), as a NumPy array."""
    from logreg.core import arrays

    with np.errstate(over="ignore", invalid="ignore"):
        if hasattr(X, "multiply") and hasattr(X, "tocsr"):  # SciPy sparse
            squares = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        elif arrays.foreign(X):
            xp = arrays.array_namespace(X)
            squares = arrays.to_numpy(xp.sum(X * X, axis=1))
        else:
            squares = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    return np.sqrt(np.asarray(squares, dtype=np.float64))


def unscaled_features(norms):
    """The finding for features on very different scales, or None."""
    norms = np.asarray(norms, dtype=np.float64)
    norms = norms[np.isfinite(norms) & (norms > 0)]
    if norms.size < 2:
        return None
    spread = norms.max() / norms.min()
    if spread <= SPREAD_LIMIT:
        return None
    return Finding("unscaled features",
                   f"feature column norms from {norms.min():.3g} to {norms.max():.3g}, a "
                   f"ratio of {spread:.3g}",
                   "standardise the features (e.g. sklearn.preprocessing.StandardScaler)")


def learning_rate_too_large(costs, learning_rate=None):
    """The finding for a cost that rises or oscillates (gradient descent), or None."""
    costs = np.asarray(costs, dtype=np.float64)
    half = costs[len(costs) // 2:]
    if half.size < 3:
        return None
    rises = int(np.sum(np.diff(half) > 0))
    if rises < 2 or rises < RISING_SHARE * (half.size - 1):
        return None
    rate = "" if learning_rate is None else f" with learning rate {learning_rate:g}"
    smaller = "" if learning_rate is None else f" (e.g. {learning_rate / 10:g})"
    return Finding("learning rate too large",
                   f"the cost rose in {rises} of the last {half.size - 1} iterations{rate}",
                   f"lower learning_rate{smaller}, or set learning_rate='auto'")


def still_falling(costs):
    """Whether the cost fell at each of its last iterations, by more than ``STILL_FALLING``
    of its fall since the start in all."""
    costs = np.asarray(costs, dtype=np.float64)
    tail = max(2, int(TAIL_SHARE * len(costs)))
    if len(costs) < tail + 1 or not np.all(np.isfinite(costs[-tail - 1:])):
        return False
    last = costs[-tail - 1:]
    fall = last[0] - last[-1]
    return bool(np.all(np.diff(last) < 0) and fall > STILL_FALLING * (costs[0] - costs[-1]))


def too_few_iterations(costs, num_iterations=None, solver="gd"):
    """The finding for a cost still falling steadily when the iterations ran out, or None."""
    if not still_falling(costs):
        return None
    costs = np.asarray(costs, dtype=np.float64)
    tail = max(2, int(TAIL_SHARE * len(costs)))
    more = "" if num_iterations is None else f" (e.g. {10 * int(num_iterations)})"
    return Finding("too few iterations",
                   f"the cost still fell at each of the last {tail} iterations, by "
                   f"{costs[-tail - 1] - costs[-1]:.3g} in all, to {costs[-1]:.6g}",
                   f"raise num_iterations{more}" + _faster_solvers(solver))


def _faster_solvers(solver):
    """", or use solver='lbfgs' or 'newton'" for a solver that steps by a learning rate (the
    solvers that need none reach the minimum in far fewer iterations); "" for the others."""
    from logreg.solvers import SOLVERS

    if not getattr(SOLVERS.get(solver), "takes_learning_rate", False):
        return ""
    faster = [name for name, spec in SOLVERS.items() if not spec.takes_learning_rate]
    return ", or use solver=" + " or ".join(repr(name) for name in faster)


def separable_data(accuracy, costs, l2):
    """The finding for separable data without a penalty, or None: 100 % training accuracy,
    l2 = 0 and a cost still falling (so ‖w‖ keeps growing towards ∞)."""
    if l2 or accuracy < 100.0 or not still_falling(costs):
        return None
    return Finding("separable data",
                   f"training accuracy is 100 % with l2 = 0 and the cost still falls (to "
                   f"{float(costs[-1]):.3g}): the minimum is at ‖w‖ → ∞, so ‖w‖ keeps growing",
                   "set l2 > 0 (e.g. l2=1.0), or accept a separating w as it is")


def training_accuracy(X, Y, w, b):
    """The accuracy on (X, Y) in the notes' layout, as the exercise prints it (per cent):
    ŷ = 1 where z > 0 for one output, the largest z for a layer."""
    from logreg.core import arrays, neuron

    with np.errstate(over="ignore", invalid="ignore"):
        Z = arrays.to_numpy(neuron.decision_function(w, b, X))
    Y = arrays.to_numpy(Y)
    if Z.shape[0] == 1:
        return float(neuron.accuracy((Z > 0).astype(float), Y))
    return float(100.0 * np.mean(np.argmax(Z, axis=0) == np.argmax(Y, axis=0)))


def findings(costs, *, norms=None, accuracy=None, l2=0.0, learning_rate=None,
             num_iterations=None, solver="gd"):
    """Every cause seen, from the cost history, the feature column norms, the training
    accuracy (per cent), λ and, for gradient descent, α: a list of ``Finding``."""
    found = [unscaled_features(norms) if norms is not None else None,
             learning_rate_too_large(costs, learning_rate) if learning_rate else None,
             too_few_iterations(costs, num_iterations, solver),
             separable_data(accuracy, costs, l2) if accuracy is not None else None]
    return [finding for finding in found if finding is not None]


def explain(X, Y, w, b, costs, *, l2=0.0, learning_rate=None, num_iterations=None,
            solver="gd"):
    """The findings for a fit on X (n_x, m), Y in the notes' layout that ended at (w, b) with
    this cost history, as one sentence for a warning ("" when none is seen)."""
    try:
        norms = column_norms(X)
        accuracy = training_accuracy(X, Y, w, b)
    except (TypeError, ValueError, AttributeError):  # an array library without the operations
        norms = accuracy = None
    return sentence(findings(costs, norms=norms, accuracy=accuracy, l2=l2,
                             learning_rate=learning_rate, num_iterations=num_iterations,
                             solver=solver))


def warn_not_converged(message):
    """A ConvergenceWarning pointing at the user's line: the first caller outside logreg and
    scikit-learn (the estimator's ``fit``, a solver called directly, the command)."""
    from sklearn.exceptions import ConvergenceWarning

    from logreg.errors import warn

    warn(message, ConvergenceWarning)


def warn_stopped_short(name, measured, advice, X, Y, fit, costs, *, num_iterations,
                       **context):
    """The ConvergenceWarning of a solver that reached ``num_iterations`` short of its
    tolerance: what stopped and what it measured, the usual advice, then the causes seen.

    ``name`` names the solver in words ("L-BFGS"), ``measured`` says how far from converged,
    ``context`` goes to ``explain`` (l2, learning_rate, solver)."""
    warn_not_converged(f"{name} stopped at num_iterations={num_iterations} before "
                       f"converging ({measured}). {advice}"
                       + explain(X, Y, fit.w, fit.b, costs, num_iterations=num_iterations,
                                 **context))


def sentence(found):
    """The findings as one line for a warning."""
    if not found:
        return ""
    return " Likely causes: " + "; ".join(f"{i}) {finding}" for i, finding in
                                          enumerate(found, 1)) + "."


def diagnose(estimator, X, y):
    """Why a fitted ``LogisticRegression`` may not have converged, on its training data.

    Parameters
    ----------
    estimator : logreg.LogisticRegression
        A fitted estimator (its ``costs_``, ``coef_``, ``intercept_``, ``l2`` and, for
        gradient descent, ``learning_rate_``).
    X : array-like of shape (m, n_features)
        The training data, one row per example.
    y : array-like of shape (m,)
        Its labels.

    Returns
    -------
    list of Finding
        Each cause seen (unscaled features, learning rate too large, too few iterations,
        separable data), with its evidence and fix; empty when none is seen.
    """
    from logreg.core import arrays
    from logreg.errors import NotFittedError
    from logreg.solvers import SOLVERS

    if not hasattr(estimator, "coef_"):
        raise NotFittedError("This LogisticRegression is not fitted yet: diagnose needs a "
                             "fitted estimator. Call fit(X, y) first, or logreg.load(path).")
    rows = np.asarray(X.toarray() if hasattr(X, "toarray") else arrays.to_numpy(X),
                      dtype=np.float64)
    labels = np.asarray(arrays.to_numpy(y)).ravel()
    classes = np.asarray(estimator.classes_)
    # Y in the notes' layout: (1, m) of 0/1 for two classes, one-hot (K, m) for K
    Y = (labels.reshape(1, -1) == (classes[1:] if len(classes) == 2 else classes.reshape(-1, 1))
         ).astype(np.float64)
    coef = np.asarray(arrays.to_numpy(estimator.coef_), dtype=np.float64)
    intercept = np.asarray(arrays.to_numpy(estimator.intercept_), dtype=np.float64)
    b = intercept[0] if len(intercept) == 1 else intercept.reshape(-1, 1)
    learning_rate = (estimator.learning_rate_
                     if getattr(SOLVERS.get(estimator.solver), "takes_learning_rate", False)
                     else None)
    return findings(estimator.costs_, norms=column_norms(rows.T),
                    accuracy=training_accuracy(rows.T, Y, coef.T, b), l2=estimator.l2,
                    learning_rate=learning_rate, num_iterations=estimator.num_iterations,
                    solver=estimator.solver)
