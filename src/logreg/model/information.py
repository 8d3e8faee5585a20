"""The observed information at the fitted parameters, and the refusals that keep the
summary's numbers honest (``logreg.model.inference`` has the statistics' notes).

I = X̃ᵀ D X̃ with D = diag(s a (1 − a)) (the notes' second derivative a(1 − a); for K classes
the blocks X̃ᵀ diag(s a_j (δ_jk − a_k)) X̃), with ℓ and its gradient (``likelihood``), and its
inverse, the covariance of θ̂ (``covariance``). Refused before the numbers: a singular design,
naming the columns (``check_design``), and separated classes, found exactly by a linear
program (``check_separation``, SciPy's ``linprog``); after them, a singular information, and
parameters away from the maximum by the Newton decrement (``check_at_maximum``).
"""

import warnings

import numpy as np

from logreg.errors import InferenceError

SINGULAR = 1e12  # condition number (unit diagonal) beyond which a matrix is taken as singular
NEAR_SINGULAR = 1e8  # ... beyond which it is nearly singular: a warning
CONVERGED = 1e-3  # Newton decrement (in standard errors) of a converged fit
NOT_AT_MAXIMUM = 0.1  # ... beyond which the table would describe another point: an error
SEPARATION_TOL = 1e-6  # a margin of the separation LP (columns scaled to |x| ≤ 1) above 0
SHOWN = 8  # names listed in an error


# --- the checks before the numbers -------------------------------------------------------


def _products(X_tilde, weights):
    """X̃ᵀ diag(weights) X̃, dense (p, p)."""
    from scipy import sparse

    if sparse.issparse(X_tilde):
        return np.asarray((X_tilde.T @ sparse.diags(weights) @ X_tilde).todense())
    return X_tilde.T @ (weights[:, None] * X_tilde)


def _column(X, j):
    """Column j of X as a dense 1-D array."""
    from scipy import sparse

    column = X[:, j]
    return column.toarray().ravel() if sparse.issparse(column) else column


def check_design(X_tilde, s, terms, fit_intercept):
    """Refuse a design whose information is singular whatever θ: too few examples, constant,
    zero or duplicate columns, or exact linear combinations; name the columns."""
    m, p = X_tilde.shape
    first = 1 if fit_intercept else 0
    if p > m:
        raise InferenceError(
            f"{p} parameters but only {m} examples (of positive weight): the information "
            f"matrix is singular and the coefficients are not determined. Use fewer features "
            f"(p ≤ m, and many fewer for stable figures) or more examples.")
    problems = []
    spread = _spreads(X_tilde, first)
    flat = [j for j in range(first, p) if spread[j - first] == 0]
    if flat:
        what = ("constant (the same value in every example; the intercept already models it)"
                if fit_intercept else "zero in every example")
        problems.append(f"{_listed([terms[j] for j in flat])} {'is' if len(flat) == 1 else 'are'}"
                        f" {what}")
    duplicates = _duplicate_columns(X_tilde, [j for j in range(first, p) if j not in flat])
    if duplicates:
        problems.append("duplicate columns: " + "; ".join(
            " = ".join(terms[j] for j in group) for group in duplicates[:SHOWN]))
    if not problems:
        combination = _dependent_columns(X_tilde, s, first)
        if combination:
            problems.append(f"{_listed([terms[j] for j in combination])} are linearly "
                            f"dependent (one is a combination of the others)")
    if problems:
        keep = " (keep one of each duplicate)" if duplicates else ""
        raise InferenceError(
            f"the information matrix is singular: {'; '.join(problems)}. These coefficients "
            f"are not determined by the data; drop those columns{keep} and refit.")


def _spreads(X_tilde, first):
    """max − min of each feature column (first onwards); with no intercept, max |x|."""
    from scipy import sparse

    X = X_tilde[:, first:]
    if sparse.issparse(X):
        X = X.tocsc()
        high, low = X.max(axis=0).toarray().ravel(), X.min(axis=0).toarray().ravel()
    else:
        high, low = X.max(axis=0), X.min(axis=0)
    return high - low if first else np.maximum(np.abs(high), np.abs(low))


def _duplicate_columns(X, candidates):
    """Groups of identical columns among ``candidates``."""
    groups = {}
    for j in candidates:
        groups.setdefault(_column(X, j).tobytes(), []).append(j)
    return [group for group in groups.values() if len(group) > 1]


def _dependent_columns(X_tilde, s, first):
    """Columns taking part in an exact linear dependence of the weighted (centred, where
    there is an intercept) features, or []."""
    G = _products(X_tilde, s)
    if first:  # centre: the features' weighted covariance, the intercept set aside
        n = G[0, 0]
        mean = G[0, 1:] / n
        G = G[1:, 1:] - n * np.outer(mean, mean)
    scale = np.sqrt(np.clip(np.diag(G), 0, None))
    if not (scale > 0).all():
        return []
    values, vectors = np.linalg.eigh(G / np.outer(scale, scale))
    if values[0] > values[-1] / SINGULAR:
        return []
    null = vectors[:, values <= values[-1] / SINGULAR]
    weight = np.abs(null).max(axis=1)
    return [j + first for j in np.flatnonzero(weight > 1e-3 * weight.max())]


def _listed(names):
    """The first ``SHOWN`` names, and how many more."""
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def check_separation(X_tilde, Y, terms, classes):
    """Refuse data whose classes a direction separates (completely or quasi-completely): the
    linear program of the module's notes, on columns scaled to a largest |x| of 1."""
    margins, examples, direction = _separating_direction(X_tilde, Y)
    if margins is None:
        return
    separated = len(np.unique(examples[margins > SEPARATION_TOL]))
    complete = separated == len(Y) or _completely_separable(X_tilde, Y)
    used = [terms[j] for j in np.argsort(-np.abs(direction)) if abs(direction[j]) > 1e-6]
    certain = ("are predicted with certainty" if len(classes) == 2 else
               "have some class ruled out with certainty")
    kind = ("complete separation: the classes are perfectly separated" if complete else
            f"quasi-complete separation: at least {separated} of {len(Y)} examples {certain}")
    raise InferenceError(
        f"{kind} (by a combination of {_listed(used)}), so the likelihood has no maximum: the "
        f"coefficients grow without bound and their standard errors mean nothing. Remove or "
        f"merge the separating features, gather more data, or use a penalty (l2 > 0; then "
        f"report no p-values) or an exact / Firth logistic regression.")


def _scaled(X_tilde):
    """X̃ with each column divided by its largest |x| (1 where 0), and those largest."""
    from scipy import sparse

    if sparse.issparse(X_tilde):
        largest = abs(X_tilde).max(axis=0).toarray().ravel()
        largest[largest == 0] = 1.0
        return X_tilde @ sparse.diags(1 / largest), largest
    largest = np.abs(X_tilde).max(axis=0)
    largest[largest == 0] = 1.0
    return X_tilde / largest, largest


def _separation_rows(X_tilde, Y):
    """The LP's rows, and the example of each: for each example i and each other class k,
    the coefficients of (β_{yᵢ} − β_k)ᵀ x̃ᵢ in θ = [β_1, ..., β_{K−1}] (β_0 = 0); for two
    classes (2yᵢ − 1) x̃ᵢ."""
    from scipy import sparse

    X, _ = _scaled(X_tilde)
    X = sparse.csr_matrix(X)
    m, K = Y.shape
    if K == 2:
        return sparse.diags(2 * Y[:, 1] - 1) @ X, np.arange(m)
    blocks, examples = [], []
    for k in range(K):  # the rows comparing each example's class with class k
        rows = np.flatnonzero(Y[:, k] == 0)
        examples.append(rows)
        blocks.append(sparse.hstack([
            sparse.diags(Y[rows, j] - (j == k)) @ X[rows] for j in range(1, K)], format="csr"))
    return sparse.vstack(blocks, format="csr"), np.concatenate(examples)


def _separating_direction(X_tilde, Y):
    """(margins, the example of each, the largest |θ_j| of each term) at the LP's optimum
    where it separates, else (None, None, None)."""
    from scipy.optimize import linprog

    A, examples = _separation_rows(X_tilde, Y)
    n = A.shape[1]
    # maximise Σ margins subject to margins ≥ 0 and |θ_j| ≤ 1
    result = linprog(-np.asarray(A.sum(axis=0)).ravel(), A_ub=-A, b_ub=np.zeros(A.shape[0]),
                     bounds=[(-1, 1)] * n, method="highs")
    if result.status != 0 or -result.fun <= SEPARATION_TOL:
        return None, None, None
    direction = result.x
    p = X_tilde.shape[1]
    per_term = np.abs(direction.reshape(-1, p)).max(axis=0)
    return A @ direction, examples, per_term


def _completely_separable(X_tilde, Y):
    """Whether every margin can be positive at once: maximise t with margins ≥ t."""
    from scipy import sparse
    from scipy.optimize import linprog

    A = _separation_rows(X_tilde, Y)[0]
    n = A.shape[1]
    c = np.zeros(n + 1)
    c[-1] = -1.0
    A_ub = sparse.hstack([-A, np.ones((A.shape[0], 1))], format="csr")
    result = linprog(c, A_ub=A_ub, b_ub=np.zeros(A.shape[0]),
                     bounds=[(-1, 1)] * n + [(0, 1)], method="highs")
    return result.status == 0 and -result.fun > SEPARATION_TOL


# --- the numbers -------------------------------------------------------------------------------


def likelihood(X_tilde, Y, s, theta):
    """ℓ, its gradient g and the observed information I = −∇²ℓ at θ (K', p), all with θ
    flattened equation by equation."""
    from scipy.special import expit, log_softmax, softmax

    Z = np.asarray(X_tilde @ theta.T)  # z = wᵀx + b per example and equation
    if theta.shape[0] == 1:
        z, y = Z[:, 0], Y[:, 1]
        # ℓ = Σ s [y z − log(1 + eᶻ)] (the notes' cost from z, times −m)
        log_likelihood = float(np.sum(s * (y * z - np.logaddexp(0.0, z))))
        a = expit(z)
        gradient = np.asarray(X_tilde.T @ (s * (y - a))).ravel()  # X̃ᵀ s (y − a)
        information = _products(X_tilde, s * a * (1 - a))  # X̃ᵀ diag(s a (1 − a)) X̃
        return log_likelihood, gradient, information
    Z = np.hstack([np.zeros((len(Z), 1)), Z])  # the reference class's z is 0
    # ℓ = Σ s Σ_k y_k log softmax(z)_k
    log_likelihood = float(np.sum(s[:, None] * Y * log_softmax(Z, axis=1)))
    A = softmax(Z, axis=1)
    K, p = A.shape[1], theta.shape[1]
    gradient = np.concatenate([np.asarray(X_tilde.T @ (s * (Y[:, k] - A[:, k]))).ravel()
                               for k in range(1, K)])
    information = np.empty(((K - 1) * p, (K - 1) * p))
    for j in range(1, K):  # block (j, k): X̃ᵀ diag(s a_j (δ_jk − a_k)) X̃
        for k in range(j, K):
            block = _products(X_tilde, s * A[:, j] * ((j == k) - A[:, k]))
            information[(j - 1) * p:j * p, (k - 1) * p:k * p] = block
            information[(k - 1) * p:k * p, (j - 1) * p:j * p] = block.T
    return log_likelihood, gradient, information


def covariance(information, terms, classes):
    """I⁻¹ and the condition number of I scaled to a unit diagonal; a singular I refused."""
    from scipy import linalg

    scale = np.sqrt(np.clip(np.diag(information), 0, None))
    values = (linalg.eigvalsh(information / np.outer(scale, scale)) if (scale > 0).all()
              else np.zeros(1))
    condition = float(values[-1] / values[0]) if values[0] > 0 else float("inf")
    if not condition <= SINGULAR:
        raise InferenceError(
            f"the information matrix at the fitted parameters is singular (condition number "
            f"{condition:.2g} with a unit diagonal): nearly every probability is 0 or 1, so "
            f"the data say little about the coefficients. Check for separation by a few "
            f"examples, or use fewer features.")
    scaled = linalg.cho_solve(linalg.cho_factor(information / np.outer(scale, scale)),
                              np.eye(len(scale)))
    return scaled / np.outer(scale, scale), condition


def check_at_maximum(decrement, estimator):
    """Refuse parameters more than ``NOT_AT_MAXIMUM`` standard errors from the maximum
    (the Newton ``decrement``); warn above ``CONVERGED``."""
    from sklearn.exceptions import ConvergenceWarning

    if decrement <= CONVERGED:
        return
    solver = estimator.get_params().get("solver")
    fix = ("refit with solver='newton' (it reaches the maximum in a few iterations) or more "
           "iterations / a smaller tol" if solver != "newton" else
           "pass the data the model was fitted to (its training rows, not held-out ones), or "
           "refit with more iterations / a smaller tol")
    said = (f"the parameters are up to {decrement:.2g} standard errors from the maximum of "
            f"the likelihood on these data (Newton decrement √(gᵀI⁻¹g); the fit used "
            f"solver={solver!r})")
    if decrement > NOT_AT_MAXIMUM:
        raise InferenceError(f"{said}: the fit has not converged (or the data differ from "
                             f"the training data), so the table would describe another "
                             f"point. {fix[0].upper()}{fix[1:]}.")
    warnings.warn(f"{said}: close, but not converged; {fix}.", ConvergenceWarning, stacklevel=4)

