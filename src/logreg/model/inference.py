"""What a fitted neuron knows about itself: standard errors, z, p-values, confidence intervals.

At the fitted parameters θ̂ the log-likelihood is ℓ(θ) = Σᵢ sᵢ [yᵢ zᵢ − log(1 + e^zᵢ)] with
z = wᵀx + b (the notes' cost times −m, unregularised; s the sample weights, read as frequency
weights: an example of weight 3 counts as three). Its second derivative is the notes' a(1 − a):
the observed information is I = X̃ᵀ D X̃ with D = diag(s a (1 − a)) and X̃ = [1, X] (the
intercept's column first). The covariance of θ̂ is I⁻¹, each standard error the root of its
diagonal, z = θ̂ / se, p = 2 P(N(0, 1) > |z|), and the (1 − α) interval θ̂ ± z_{1−α/2} se: the
Wald statistics that statsmodels' ``Logit`` prints.

K ≥ 3 classes (a softmax layer) are not identifiable without a penalty: adding one vector to
every column of W changes no probability. The summary reports the K − 1 identifiable
equations, class k against the reference class ``classes_[0]`` (β_k = W_k − W_0, b_k − b_0),
as statsmodels' ``MNLogit`` parametrises them; the information has the blocks
X̃ᵀ diag(s a_j (δ_jk − a_k)) X̃ (the notes' diag(a) − aaᵀ, per example).

The null log-likelihood is the intercept-only model's, Σ s [ȳ log ȳ + (1 − ȳ) log(1 − ȳ)]
(for K classes Σ_k n_k log(n_k / n)), whether or not the model has an intercept: statsmodels
does the same (``llnull`` refits the endog on a constant), so McFadden's pseudo-R²
= 1 − ℓ / ℓ₀ of a model without an intercept compares it with a model it does not contain and
may be negative. AIC = 2p − 2ℓ and BIC = p log n − 2ℓ, p the number of parameters, n = Σ s.

When the numbers would not mean what they say, the summary refuses (``InferenceError``) or
warns (``InferenceWarning``, scikit-learn's ``ConvergenceWarning``); the checks run in this
order:

- **l2 > 0: error.** The intervals assume the unpenalised maximum of the likelihood; a
  penalised fit is somewhere else, and its gradient there is not zero. Refit with ``l2=0``.
- **No data: error.** A loaded model, or one fitted on arrays of another library (torch, Dask),
  keeps no training data: pass ``X`` and ``y``.
- **A singular design: error.** Constant (or, without an intercept, all-zero) columns,
  duplicate columns, more parameters than examples, or columns that are an exact linear
  combination of others make I singular for every θ; the error names the columns. Checked on
  the weighted, centred design, before the parameters are looked at.
- **Separation: error.** Where a direction β separates the classes perfectly, or up to ties
  (quasi-complete), the likelihood has no maximum: ‖θ‖ → ∞ and every standard error is an
  artefact of where the solver stopped. Detected exactly by a linear program (Konis 2007;
  SciPy's ``linprog``, HiGHS): maximise Σᵢ (2yᵢ − 1) x̃ᵢᵀβ subject to (2yᵢ − 1) x̃ᵢᵀβ ≥ 0 and
  |β_j| ≤ 1 (columns scaled to a largest |x| of 1); a positive optimum is a separating
  direction, zero means the classes overlap and the maximum exists (the design having full
  rank). For K classes the same with (β_{yᵢ} − β_k)ᵀx̃ᵢ ≥ 0 for every other class k
  (Albert and Anderson 1984).
- **A singular information at θ̂: error**, with its condition number (all probabilities at
  0 or 1 although the checks above passed).
- **Not at the maximum: error, or a warning when close.** The Newton decrement
  λ = √(gᵀ I⁻¹ g) (g = ∇ℓ) bounds every parameter's distance from the maximum in units of its
  own standard error. λ > 0.1: error (the table would be of another point); 0.001 < λ ≤ 0.1:
  ``ConvergenceWarning`` and the table. Refit with ``solver="newton"`` or more iterations.
- **A nearly singular information: warning** with the condition number of I scaled to a unit
  diagonal, above 1e8 (nearly collinear features: large standard errors whose last digits are
  unreliable); the table is still given.
- **class_weight: warning.** The class weights are multiplied into the sample weights, which
  the standard errors read as frequency weights.
"""

import html
import math
import textwrap
import warnings

import numpy as np

from logreg.core import arrays, text
from logreg.errors import (
    InferenceError,
    InferenceWarning,
    InvalidInputError,
    MissingDependencyError,
)

SINGULAR = 1e12  # condition number (unit diagonal) beyond which a matrix is taken as singular
NEAR_SINGULAR = 1e8  # ... beyond which it is nearly singular: a warning
CONVERGED = 1e-3  # Newton decrement (in standard errors) of a converged fit
NOT_AT_MAXIMUM = 0.1  # ... beyond which the table would describe another point: an error
SEPARATION_TOL = 1e-6  # a margin of the separation LP (columns scaled to |x| ≤ 1) above 0
SHOWN = 8  # names listed in an error


def summarize(estimator, X=None, y=None, *, sample_weight=None, alpha=0.05, feature_names=None):
    """Wald inference for a fitted ``LogisticRegression`` at its parameters.

    Parameters
    ----------
    estimator : LogisticRegression
        A model fitted with ``l2=0`` (e.g. ``solver="newton"``), or loaded from a file.
    X : array-like or sparse matrix of shape (m, n_features), optional
        The data to evaluate the likelihood on, as ``fit`` takes it; without it (and ``y``),
        the data of the estimator's last ``fit``.
    y : array-like of shape (m,), optional
        The labels of ``X``, of the model's classes.
    sample_weight : array-like of shape (m,), optional
        Frequency weights of the examples (with ``X`` and ``y`` only; without them the
        weights of the last ``fit`` are used). ``class_weight`` multiplies into them as at fit.
    alpha : float, default=0.05
        The intervals are (1 − ``alpha``) confidence intervals.
    feature_names : sequence of str, optional
        Names of the features, where the estimator has no ``feature_names_in_``; otherwise
        ``x0`` … ``x{n−1}``.

    Returns
    -------
    Summary
        The table and the figures of the fit.

    Raises
    ------
    InferenceError
        Where the numbers would not hold (see the module's notes): l2 > 0, no data, a singular
        design or information, separated classes, parameters far from the maximum.
    """
    alpha = _checked_alpha(alpha)
    _check_fitted(estimator)
    _refuse_penalty(estimator)
    data = _data(estimator, X, y, sample_weight)
    if estimator.get_params().get("class_weight") is not None:
        warnings.warn("class_weight multiplies the examples' weights, and the standard errors "
                      "read weights as frequency weights (an example of weight 3 counts as "
                      "three): they are not a class-weighted design's sandwich errors. Refit "
                      "without class_weight for the usual standard errors.",
                      InferenceWarning, stacklevel=3)
    classes = [_plain(c) for c in arrays.to_numpy(estimator.classes_).tolist()]
    names = _feature_names(estimator, feature_names)
    fit_intercept = bool(estimator.get_params().get("fit_intercept", True))
    terms = (["intercept"] if fit_intercept else []) + names
    X_tilde, Y, s = _design(data, fit_intercept, len(classes))
    _check_design(X_tilde, s, terms, fit_intercept)
    _check_separation(X_tilde, Y, terms, classes)
    theta = _parameters(estimator, fit_intercept)  # (K', p): one row per equation
    log_likelihood, gradient, information = _likelihood(X_tilde, Y, s, theta)
    covariance, condition = _covariance(information, terms, classes)
    decrement = float(math.sqrt(max(gradient @ covariance @ gradient, 0.0)))
    _check_at_maximum(decrement, estimator)
    if condition > NEAR_SINGULAR:
        warnings.warn(
            f"the information matrix is nearly singular (condition number {condition:.2g} "
            f"with a unit diagonal, above {NEAR_SINGULAR:.0e}): some features are nearly "
            f"collinear, their standard errors are large and their last digits unreliable. "
            f"Drop or combine the correlated features for firmer figures.",
            InferenceWarning, stacklevel=3)
    return Summary._from_fit(
        theta=theta, covariance=covariance, alpha=alpha, terms=terms, classes=classes,
        log_likelihood=log_likelihood, null_log_likelihood=_null_log_likelihood(Y, s),
        n_obs=float(s.sum()), n_examples=int(len(s)), newton_decrement=decrement,
        gradient_max=float(np.max(np.abs(gradient))), condition_number=condition)


# --- the data --------------------------------------------------------------------------------


def _checked_alpha(alpha):
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(alpha, bool) or not 0 < value < 1:
        raise InvalidInputError(f"alpha={alpha!r:.40}; expected a number between 0 and 1 "
                                f"(0.05 gives 95 % confidence intervals).")
    return value


def _check_fitted(estimator):
    if not hasattr(estimator, "coef_"):
        from logreg.errors import NotFittedError

        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet. "
                             f"Call fit(X, y) first, or logreg.load(path).")


def _refuse_penalty(estimator):
    l2 = float(estimator.get_params().get("l2", 0.0) or 0.0)
    if l2 > 0:
        raise InferenceError(
            f"the model was fitted with l2={l2:g}: its parameters maximise the penalised "
            f"likelihood, and standard errors, p-values and Wald intervals assume the "
            f"unpenalised maximum. Refit with l2=0 (e.g. LogisticRegression(solver='newton', "
            f"l2=0)) for inference.")


def _data(estimator, X, y, sample_weight):
    """(X rows as float64 NumPy or CSR, class index of each row, weights (m,) or None)."""
    from sklearn.utils import check_array

    if X is None and y is None:
        if sample_weight is not None:
            raise InvalidInputError("sample_weight was given without X and y; pass them "
                                    "together: summary(X, y, sample_weight=...).")
        kept = getattr(estimator, "_training_data", None)
        if kept is None:
            why = ("was fitted on arrays of another library (torch, CuPy, Dask), which it "
                   "does not keep" if hasattr(estimator, "_training_data") else
                   "was loaded from a file (or unpickled), which keeps no training data")
            raise InferenceError(f"this model {why}; pass the data to summarise it on: "
                                 f"summary(X, y) (the training data, to reproduce the fit's "
                                 f"standard errors).")
        X, y, s = kept
        weights = None if s is None else np.asarray(s, dtype=np.float64).ravel()
        return _rows(X), _class_index(y, estimator.classes_), weights
    if X is None or y is None:
        raise InvalidInputError(f"summary got {'y' if X is None else 'X'} without "
                                f"{'X' if X is None else 'y'}; pass both, or neither (the "
                                f"training data of the last fit).")
    if arrays.foreign(X):
        X = arrays.to_numpy(X)
    y = arrays.to_numpy(y) if arrays.foreign(y) else y
    estimator.decision_function(X)  # the estimator's own checks: features, names, values
    X = check_array(X, accept_sparse="csr", dtype=np.float64)
    from logreg.core.checks import check_sample_weight

    m = X.shape[0]
    index = _class_index(y, estimator.classes_, m)
    s = None if sample_weight is None else check_sample_weight(
        arrays.to_numpy(sample_weight), m).ravel()
    class_weight = estimator.get_params().get("class_weight")
    if class_weight is not None:
        s = _with_class_weight(s, class_weight, index, estimator.classes_)
    return _rows(X), index, s


def _rows(X):
    from scipy import sparse

    if sparse.issparse(X):
        return sparse.csr_matrix(X, dtype=np.float64)
    return np.asarray(X, dtype=np.float64)


def _class_index(y, classes, m=None):
    """The index of each label among ``classes``, or the error naming the strangers."""
    labels = np.asarray(y)
    if labels.ndim == 2 and 1 in labels.shape:
        labels = labels.ravel()
    if labels.ndim != 1 or (m is not None and len(labels) != m):
        raise InvalidInputError(f"y has {labels.size} labels (shape {labels.shape}) but X has "
                                f"{m} rows; expected one label per row of X.")
    known = {_plain(c): k for k, c in enumerate(arrays.to_numpy(classes).tolist())}
    index, unknown = np.empty(len(labels), dtype=np.int64), []
    for i, label in enumerate(labels.tolist()):
        k = known.get(_plain(label)) if _hashable(label) else None
        if k is None:
            unknown.append(label)
        else:
            index[i] = k
    if unknown:
        shown = ", ".join(map(repr, list(dict.fromkeys(map(str, unknown)))[:5]))
        raise InvalidInputError(f"y holds {shown}, which the model does not know; expected only "
                                f"its classes {', '.join(map(repr, known))}.")
    return index


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _plain(value):
    """A label as plain Python (NumPy scalars → int, float, str, bool)."""
    return value.item() if hasattr(value, "item") else value


def _with_class_weight(s, class_weight, index, classes):
    """s times each example's class weight, as ``fit`` multiplies them (scikit-learn's
    ``compute_class_weight``)."""
    from sklearn.utils.class_weight import compute_class_weight

    classes = arrays.to_numpy(classes)
    weights = compute_class_weight(class_weight, classes=classes, y=classes[index],
                                   sample_weight=s)
    return (np.ones(len(index)) if s is None else s) * weights[index]


def _feature_names(estimator, given):
    n = int(estimator.n_features_in_)
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        names = given
    if names is None:
        return [f"x{j}" for j in range(n)]
    names = [str(name) for name in names]
    if len(names) != n:
        raise InvalidInputError(f"{len(names)} feature names for a model of {n} features; "
                                f"give one name per feature.")
    return names


def _design(data, fit_intercept, K):
    """X̃ = [1, X] (without the 1 when there is no intercept), Y one-hot (m, K) and the
    weights s (m,), over the examples of positive weight only."""
    from scipy import sparse

    X, index, s = data
    s = np.ones(X.shape[0]) if s is None else s
    keep = s > 0
    X, index, s = X[keep], index[keep], s[keep]
    if fit_intercept:
        ones = np.ones((X.shape[0], 1))
        X = (sparse.hstack([ones, X], format="csr") if sparse.issparse(X)
             else np.hstack([ones, X]))
    Y = np.zeros((len(index), K))
    Y[np.arange(len(index)), index] = 1.0
    return X, Y, s


def _parameters(estimator, fit_intercept):
    """θ as (K', p): [b, w] for two classes; [b_k − b_0, W_k − W_0], k = 1..K−1, for K."""
    W = np.asarray(arrays.to_numpy(estimator.coef_), dtype=np.float64)
    b = np.asarray(arrays.to_numpy(estimator.intercept_), dtype=np.float64).reshape(-1, 1)
    theta = np.hstack([b, W]) if fit_intercept else W
    return theta if len(theta) == 1 else theta[1:] - theta[0]


# --- the checks before the numbers -------------------------------------------------------


def _products(X_tilde, weights):
    """X̃ᵀ diag(weights) X̃, dense (p, p)."""
    from scipy import sparse

    if sparse.issparse(X_tilde):
        return np.asarray((X_tilde.T @ sparse.diags(weights) @ X_tilde).todense())
    return X_tilde.T @ (weights[:, None] * X_tilde)


def _column(X, j):
    from scipy import sparse

    column = X[:, j]
    return column.toarray().ravel() if sparse.issparse(column) else column


def _check_design(X_tilde, s, terms, fit_intercept):
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
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _check_separation(X_tilde, Y, terms, classes):
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


def _likelihood(X_tilde, Y, s, theta):
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


def _covariance(information, terms, classes):
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


def _check_at_maximum(decrement, estimator):
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


def _null_log_likelihood(Y, s):
    """ℓ₀ of the intercept-only model: Σ_k n_k log(n_k / n), n_k the weighted class counts."""
    from scipy.special import xlogy

    counts = s @ Y
    return float(np.sum(xlogy(counts, counts / counts.sum())))


# --- the result ------------------------------------------------------------------------------

COLUMNS = ("coef", "std_err", "z", "p_value", "ci_low", "ci_high")


class Summary:
    """The inference table of a fitted model and the figures of its fit.

    For two classes one equation: the log-odds of ``classes[1]``; for K ≥ 3 classes K − 1
    equations, ``classes[k]`` against the reference ``classes[0]``. The arrays are 1-D (one
    entry per term) for two classes and (K − 1, terms) for K classes.

    Parameters
    ----------
    terms, classes, alpha : list, list, float
        As under Attributes. A ``Summary`` is made by ``summarize``, not by hand.
    coef, std_err, z, p_value, ci_low, ci_high, covariance : ndarray
        As under Attributes.
    log_likelihood, null_log_likelihood, n_obs, n_examples : float
        As under Attributes.
    newton_decrement, gradient_max, condition_number : float
        As under Attributes.

    Attributes
    ----------
    terms : list of str
        ``"intercept"`` (where fitted) and the feature names, in the order of the arrays.
    classes : list
        The model's classes; ``reference_class`` is ``classes[0]``.
    equations : list
        The class each equation is about (``classes[1:]``).
    coef, std_err, z, p_value, ci_low, ci_high : ndarray
        Estimate, standard error, z statistic, two-sided p-value and confidence interval.
    covariance : ndarray of shape (p, p)
        The inverse observed information, parameters ordered equation by equation.
    log_likelihood, null_log_likelihood, pseudo_r2, aic, bic : float
        ℓ, ℓ₀ (intercept-only), McFadden's 1 − ℓ/ℓ₀, 2p − 2ℓ and p log n − 2ℓ.
    n_obs : float
        n, the sum of the weights (the number of examples without weights).
    n_examples : int
        Examples of positive weight.
    n_params : int
        p, the number of parameters.
    alpha : float
        The intervals' level is 1 − ``alpha``.
    converged : bool
        Whether the parameters are at the maximum (``newton_decrement`` ≤ 1e-3).
    newton_decrement : float
        √(gᵀ I⁻¹ g): the distance to the maximum, in standard errors.
    gradient_max : float
        The largest |∂ℓ/∂θ| at the parameters.
    condition_number : float
        The information's condition number with a unit diagonal.
    notes : list of str
        Lines printed under the title (the command says which features the model sees).
    """

    def __init__(self, *, terms, classes, coef, std_err, z, p_value, ci_low, ci_high,
                 covariance, alpha, log_likelihood, null_log_likelihood, n_obs, n_examples,
                 newton_decrement, gradient_max, condition_number):
        self.terms, self.classes = list(terms), list(classes)
        self.reference_class, self.equations = self.classes[0], self.classes[1:]
        self.coef, self.std_err, self.z, self.p_value = coef, std_err, z, p_value
        self.ci_low, self.ci_high, self.covariance, self.alpha = ci_low, ci_high, covariance, alpha
        self.log_likelihood, self.null_log_likelihood = log_likelihood, null_log_likelihood
        self.n_obs, self.n_examples, self.n_params = n_obs, n_examples, int(np.size(coef))
        self.pseudo_r2 = 1 - log_likelihood / null_log_likelihood
        self.aic = 2 * self.n_params - 2 * log_likelihood
        self.bic = self.n_params * math.log(n_obs) - 2 * log_likelihood
        self.newton_decrement, self.gradient_max = newton_decrement, gradient_max
        self.converged = newton_decrement <= CONVERGED
        self.condition_number = condition_number
        self.notes = []

    @classmethod
    def _from_fit(cls, *, theta, covariance, alpha, **figures):
        from scipy import stats

        std_err = np.sqrt(np.diag(covariance)).reshape(theta.shape)
        z = theta / std_err
        p_value = 2 * stats.norm.sf(np.abs(z))  # two-sided: P(|N(0, 1)| > |z|)
        half = stats.norm.ppf(1 - alpha / 2) * std_err
        arrays_ = {"coef": theta, "std_err": std_err, "z": z, "p_value": p_value,
                   "ci_low": theta - half, "ci_high": theta + half}
        if theta.shape[0] == 1:  # two classes: one equation, 1-D arrays
            arrays_ = {name: values[0] for name, values in arrays_.items()}
        return cls(covariance=covariance, alpha=alpha, **arrays_, **figures)

    def _rows(self):
        """(equation, per-term rows) for each equation, each row a tuple of COLUMNS."""
        table = np.stack([np.atleast_2d(getattr(self, name)) for name in COLUMNS], axis=-1)
        return list(zip(self.equations, table))

    def _figures(self):
        return [
            ("Observations", _number(self.n_obs)),
            ("Log-likelihood", text.fixed(self.log_likelihood, 4)),
            ("Parameters", str(self.n_params)),
            ("Null log-likelihood", text.fixed(self.null_log_likelihood, 4)),
            ("Converged", "yes" if self.converged else "no"),
            ("Pseudo R² (McFadden)", text.fixed(self.pseudo_r2, 4)),
            ("Newton decrement", text.number(self.newton_decrement, 2)),
            ("AIC", text.fixed(self.aic, 4)),
            ("Condition number", text.number(self.condition_number, 3)),
            ("BIC", text.fixed(self.bic, 4)),
        ]

    def _title(self):
        if len(self.classes) == 2:
            return (f"Logistic regression: log-odds of {text.quoted(self.classes[1])} "
                    f"(against {text.quoted(self.classes[0])})")
        return (f"Multinomial logistic regression: {len(self.classes)} classes, each against "
                f"{text.quoted(self.reference_class)}")

    def __str__(self):
        low, high = f"[{self.alpha / 2:.3g}", f"{1 - self.alpha / 2:.3g}]"
        name_width = min(max(len("term"), *(len(t) for t in self.terms)), 35)
        widths = (12, 11, 9, 9, 12, 12)
        line_width = name_width + sum(widths)
        rule, thin = "=" * line_width, "-" * line_width
        half = line_width // 2
        lines = [*textwrap.wrap(self._title(), line_width),
                 *(line for note in self.notes for line in textwrap.wrap(note, line_width)),
                 rule]
        figures = self._figures()
        for left, right in zip(figures[::2], figures[1::2]):
            lines.append(f"{left[0] + ':':<22}{left[1]:>{half - 24}}  "
                         f"{right[0] + ':':<22}{right[1]:>{line_width - half - 22}}")
        lines.append(rule)
        header = f"{'term':<{name_width}}" + "".join(
            f"{title:>{w}}" for title, w in zip(("coef", "std err", "z", "P>|z|", low, high),
                                                 widths))
        for equation, rows in self._rows():
            if len(self.classes) > 2:
                lines.append(f"{text.quoted(equation)} against "
                             f"{text.quoted(self.reference_class)}")
            lines += [header, thin]
            for term, row in zip(self.terms, rows):
                coef, se, z, p, ci_low, ci_high = row
                lines.append(f"{_clipped(term, name_width):<{name_width}}"
                             + "".join(f"{text.fixed(v, d):>{w}}" for v, d, w in zip(
                                 (coef, se, z, p, ci_low, ci_high), (4, 4, 3, 3, 4, 4),
                                 widths)))
            lines.append(rule)
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        """An HTML table for notebooks."""
        e = html.escape
        heads = ["term", "coef", "std err", "z", "P>|z|", f"[{self.alpha / 2:.3g}",
                 f"{1 - self.alpha / 2:.3g}]"]
        parts = [f"<div><p><b>{e(self._title())}</b></p>"]
        parts += [f"<p>{e(note)}</p>" for note in self.notes]
        parts.append("<table><tbody>" + "".join(
            f"<tr><th>{e(name)}</th><td>{e(value)}</td></tr>" for name, value in self._figures())
            + "</tbody></table>")
        for equation, rows in self._rows():
            if len(self.classes) > 2:
                parts.append(f"<p>{e(text.quoted(equation))} against "
                             f"{e(text.quoted(self.reference_class))}</p>")
            body = "".join(
                f"<tr><th>{e(term)}</th>" + "".join(f"<td>{text.fixed(v, 4)}</td>" for v in row) + "</tr>"
                for term, row in zip(self.terms, rows))
            parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in heads)
                         + f"</tr></thead><tbody>{body}</tbody></table>")
        return "".join(parts) + "</div>"

    def to_frame(self):
        """The table as a pandas DataFrame: one row per term (for K classes indexed by
        (class, term)), columns ``coef``, ``std_err``, ``z``, ``p_value``, ``ci_low``,
        ``ci_high``.

        Returns
        -------
        pandas.DataFrame
        """
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("to_frame needs pandas, which is not installed: pip "
                                         "install pandas (or use to_dict()).") from None
        rows = self._rows()
        values = np.concatenate([table for _, table in rows])
        if len(self.classes) == 2:
            index = pd.Index(self.terms, name="term")
        else:
            index = pd.MultiIndex.from_product([self.equations, self.terms],
                                               names=["class", "term"])
        return pd.DataFrame(values, index=index, columns=list(COLUMNS))

    def to_dict(self):
        """Every figure as plain Python (JSON-able): the fit's figures and a list of
        ``coefficients``, one dict per term (and class, for K ≥ 3).

        Returns
        -------
        dict
        """
        coefficients = []
        for equation, table in self._rows():
            for term, row in zip(self.terms, table):
                entry = {"class": equation, "term": term} if len(self.classes) > 2 else \
                    {"term": term}
                entry.update({name: float(v) for name, v in zip(COLUMNS, row)})
                coefficients.append(entry)
        return {
            "classes": self.classes, "reference_class": self.reference_class,
            "alpha": self.alpha, "n_obs": self.n_obs, "n_examples": self.n_examples,
            "n_params": self.n_params, "log_likelihood": self.log_likelihood,
            "null_log_likelihood": self.null_log_likelihood, "pseudo_r2": self.pseudo_r2,
            "aic": self.aic, "bic": self.bic, "converged": bool(self.converged),
            "newton_decrement": self.newton_decrement, "gradient_max": self.gradient_max,
            "condition_number": self.condition_number, "notes": list(self.notes),
            "coefficients": coefficients,
        }


def _number(value):
    return str(int(value)) if float(value).is_integer() else text.number(value, 4)


def _clipped(term, width):
    return term if len(term) <= width else term[:width - 1] + "…"
