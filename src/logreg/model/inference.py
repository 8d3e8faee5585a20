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

import math
import warnings

import numpy as np

from logreg.core import arrays
from logreg.errors import InferenceError, InferenceWarning, InvalidInputError
from logreg.model.information import (
    NEAR_SINGULAR,
    check_at_maximum,
    check_design,
    check_separation,
    covariance,
    likelihood,
)
from logreg.model.summary_table import Summary


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
    check_design(X_tilde, s, terms, fit_intercept)
    check_separation(X_tilde, Y, terms, classes)
    theta = _parameters(estimator, fit_intercept)  # (K', p): one row per equation
    log_likelihood, gradient, information = likelihood(X_tilde, Y, s, theta)
    inverse, condition = covariance(information, terms, classes)
    decrement = float(math.sqrt(max(gradient @ inverse @ gradient, 0.0)))
    check_at_maximum(decrement, estimator)
    if condition > NEAR_SINGULAR:
        warnings.warn(
            f"the information matrix is nearly singular (condition number {condition:.2g} "
            f"with a unit diagonal, above {NEAR_SINGULAR:.0e}): some features are nearly "
            f"collinear, their standard errors are large and their last digits unreliable. "
            f"Drop or combine the correlated features for firmer figures.",
            InferenceWarning, stacklevel=3)
    return Summary.from_fit(
        theta=theta, covariance=inverse, alpha=alpha, terms=terms, classes=classes,
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
        kept = getattr(estimator, "training_data_", None)
        if kept is None:
            why = ("was fitted on arrays of another library (torch, CuPy, Dask), which it "
                   "does not keep" if hasattr(estimator, "training_data_") else
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



def _null_log_likelihood(Y, s):
    """ℓ₀ of the intercept-only model: Σ_k n_k log(n_k / n), n_k the weighted class counts."""
    from scipy.special import xlogy

    counts = s @ Y
    return float(np.sum(xlogy(counts, counts / counts.sum())))

