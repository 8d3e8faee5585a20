"""The scikit-learn face: ``LogisticRegression``, rows as examples, the notes' code underneath.

scikit-learn hands in X of shape (m, n_x), one row per example; the notes' neuron wants
(n_x, m). ``X.T`` is a view, never a copy, so the same ``neuron`` and ``solvers`` code runs on
the user's own memory (a SciPy CSR matrix's transpose is a CSC view of the same arrays).
Parameters are named as in the notes (``learning_rate``, ``num_iterations``); the fitted model
is ``coef_`` = wᵀ and ``intercept_`` = [b] for two classes (the notes' neuron), and for K ≥ 3
classes a layer of K neurons with softmax: ``coef_`` = Wᵀ (K, n_x), ``intercept_`` = b (K,).
"""

import math
import re
import warnings
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.utils.validation import check_is_fitted, validate_data

# scikit-learn's parameter constraints live in a private module: the one private import, kept
# here, checked against the minimum scikit-learn in pyproject.toml (tests/test_estimator.py)
from sklearn.utils._param_validation import (
    InvalidParameterError,
    Interval,
    Options,
    StrOptions,
)

from logreg import __version__, engines
from logreg.core import arrays, neuron, text
from logreg.engines import fused
from logreg.modelfile import io
from logreg.core.checks import check_sample_weight, classes_of_labels
from logreg.errors import InvalidInputError, InvalidTypeError, NotFittedError
from logreg.solvers.record import HISTORY_KEYS, VALIDATION_KEY, Recorder, Validation, ending
from logreg.solvers import SOLVERS, TrainingInterrupted, auto_learning_rate

try:  # scikit-learn's callback API (1.9 on); older ones get the plain ``callback`` only
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # pragma: no cover - scikit-learn < 1.9
    class CallbackSupportMixin:
        """Stands in for scikit-learn's callback support where it has none."""

    def with_callbacks(method):
        """Stands in for scikit-learn's decorator where it has none."""
        return method

LAYOUT = "one row per example and one column per feature, shape (m, n_features)"
FIXES = [  # (a fragment of scikit-learn's message, the fix logreg adds)
    ("NaN", "Remove or impute missing values first (e.g. sklearn.impute.SimpleImputer)."),
    ("infinity", "Replace infinite values with finite numbers first."),
    ("Complex", "Pass the real part (X.real) or the magnitude (abs(X))."),
    ("argument must be", "X must hold numbers only: convert or drop other objects first."),
    ("string", "Encode text as numbers first (e.g. sklearn.preprocessing.OneHotEncoder)."),
    ("Expected 2D array, got 1D", f"X needs {LAYOUT}."),
    ("dim", f"Flatten each example into one row first: X.reshape(len(X), -1), giving {LAYOUT}."),
    ("inconsistent numbers of samples", "Give one label per row of X."),
    ("0 sample", "Pass at least one example."),
    ("0 feature", "Pass at least one feature."),
    ("features, but", "Pass the same features, in the same order, as at fit."),
    ("feature names", "Pass the same feature names, in the same order, as at fit."),
]


def _with_fix(error):
    """scikit-learn's message on one line, without its dump of the array, plus the fix."""
    message = re.sub(r"array=\[.*?\]\s*", "", str(error), flags=re.S)
    message = re.sub(r"(contains NaN\.).*", r"\1", message, flags=re.S)  # drop the ads
    message = " ".join(message.split()).replace(": .", ".")
    fix = next((fix for fragment, fix in FIXES if fragment in message), f"X needs {LAYOUT}.")
    return f"{message} {fix}"


def _validated(estimator, X, y="no_validation", reset=True):
    """scikit-learn's own validation, its errors re-raised as logreg's with the fix added."""
    dtypes = {None: [np.float64, np.float32], "float32": np.float32, "float64": np.float64}
    dtype = dtypes.get(getattr(estimator, "dtype", None), [np.float64, np.float32])
    X = _refuse_text_and_dates(X)
    try:
        # its finiteness check sums X: finite values near 1.7e308 overflow there, harmlessly
        with np.errstate(over="ignore", invalid="ignore"):
            return validate_data(estimator, X, y, reset=reset, dtype=dtype,
                                 order="C",  # one memory layout: the same sums, bit for bit
                                 accept_sparse="csr",  # rows of examples; CSC, COO converted
                                 ensure_min_samples=1)
    except TypeError as error:
        raise InvalidTypeError(_with_fix(error)) from None
    except ValueError as error:
        raise InvalidInputError(_with_fix(error)) from None


TEXT_KINDS, DATE_KINDS = "USV", "Mm"  # dtype kinds scikit-learn would turn into numbers


def _refuse_text_and_dates(X):
    """Refuse, before scikit-learn converts them, strings ('0.5' would silently become 0.5),
    bytes, dates and durations in X; returns X (a list becomes the array it reads as)."""
    if engines.is_sparse(X):
        if X.dtype.kind in TEXT_KINDS + DATE_KINDS + "O":
            raise InvalidTypeError(f"X is a sparse matrix of {X.dtype}; expected numbers. "
                                   f"Convert it with X.astype(float).")
        return X
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # a DataFrame: its columns' kinds
        columns = [(name, dtype.kind, X.iloc[:, i])
                   for i, (name, dtype) in enumerate(X.dtypes.items())]
    else:
        if not hasattr(X, "dtype"):
            try:
                X = np.asarray(X)
            except (TypeError, ValueError):
                return X  # ragged or odd: scikit-learn's own error says what it is
        columns = [("", getattr(X.dtype, "kind", "f"), X)]
    for name, kind, values in columns:
        where = f" (column {name!r})" if name != "" else ""
        if kind in DATE_KINDS or (kind == "O" and _holds(values, (np.datetime64,
                                                                   np.timedelta64))):
            raise InvalidTypeError(
                f"X holds dates or durations{where}; expected numbers only. Encode them as "
                f"numbers first (e.g. days since a start date, or the day of the week).")
        if kind in TEXT_KINDS or (kind == "O" and _holds(values, (str, bytes))):
            # a ValueError, as float("0.5x") raises and scikit-learn's own refusal of text
            raise InvalidInputError(
                f"X holds strings{where}, such as {_first(values)!r}; expected numbers only, "
                f"never text. Encode them as numbers first (X.astype(float) for numbers "
                f"written as text, sklearn.preprocessing.OneHotEncoder for categories).")
    return X


def _holds(values, types):
    """Whether an object array or column holds any value of ``types`` (dates from pandas
    too)."""
    import datetime

    if types[0] is np.datetime64:
        types = types + (datetime.date, datetime.time, datetime.timedelta)
    return any(isinstance(value, types) for value in np.asarray(values, dtype=object).ravel())


def _first(values):
    value = np.asarray(values, dtype=object).ravel()[0]
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _check_same_namespace(X, estimator, method):
    """With scikit-learn's array_api_dispatch on: X in the namespace and on the device of
    fit's arrays (as scikit-learn's own estimators require)."""
    from sklearn import get_config

    if not get_config()["array_api_dispatch"] or not arrays.is_array_api_obj(X):
        return
    fitted = estimator.coef_
    if arrays.foreign(X) == arrays.foreign(fitted) and (
            not arrays.foreign(X) or (arrays.array_namespace(X) == arrays.array_namespace(
                fitted) and arrays.device(X) == arrays.device(fitted))):
        return
    raise InvalidInputError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the same namespace "
        f"and the same device as those passed to fit(). fit used "
        f"{arrays.array_namespace(fitted).__name__}, {method} got "
        f"{arrays.array_namespace(X).__name__}. Convert X to fit's library and device.")


def _check_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except SkNotFittedError as error:
        raise NotFittedError(f"{error} Call fit(X, y) first, or logreg.load(path).") from None


LBFGS_TOL = 1e-6  # L-BFGS's default gradient tolerance (tol=None)
NEWTON_TOL = 1e-10  # the Newton solver's (tol=None): its last iterations are cheap
COST_BYTES = 32  # one cost in costs_: a Python float (24 bytes) and its list entry (8)
# an iteration's record: costs_, and history_'s columns (cost, gradient_norm, step, elapsed,
# validation_cost under early stopping) as C doubles, 8 bytes each
ITERATION_BYTES = COST_BYTES + 5 * 8


def _sample_weight(sample_weight, X, class_weight=None, y=None, classes=None):
    """Sample weights as a (1, m) row in X's library and dtype, or None (``checks``); with
    ``class_weight`` each example's weight is multiplied by its class's, as scikit-learn does
    (``"balanced"``: m / (K · count of the class), counts weighted by ``sample_weight``)."""
    if sample_weight is None and class_weight is None:
        return None
    s = (None if sample_weight is None
         else check_sample_weight(arrays.to_numpy(sample_weight), X.shape[0]))
    if class_weight is not None:
        s = _with_class_weight(s, class_weight, arrays.to_numpy(y), classes)
    return arrays.as_like(s, X) if arrays.foreign(X) else s.astype(X.dtype)


def _with_class_weight(s, class_weight, y, classes):
    """(1, m) weights: s (or ones) times the weight of each example's class."""
    from sklearn.utils.class_weight import compute_class_weight

    try:
        weights = compute_class_weight(class_weight, classes=classes, y=y,
                                       sample_weight=None if s is None else s.ravel())
    except (ValueError, TypeError) as error:
        raise InvalidInputError(
            f"class_weight={class_weight!r} does not fit the classes "
            f"{', '.join(map(repr, classes.tolist()))} ({' '.join(str(error).split())}). Give "
            f"'balanced', or a dict from class label to a weight ≥ 0.") from None
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise InvalidInputError(f"class_weight={class_weight!r} holds a weight that is "
                                f"negative or not finite; expected finite weights ≥ 0.")
    # each example weighs s · class_weight[its class]
    per_example = weights[np.searchsorted(classes, y)].reshape(1, -1)
    s = per_example if s is None else s * per_example
    if not s.sum() > 0:
        raise InvalidInputError(f"class_weight={class_weight!r} gives every example weight "
                                f"zero; expected a positive weight for some class present.")
    return s


def targets(y, classes, dtype):
    """Y in the notes' layout: (1, m) of 0/1 for two classes (y = 1 for ``classes[1]``), the
    one-hot (K, m) for K ≥ 3 (row k is 1 where y is ``classes[k]``)."""
    if len(classes) == 2:
        return (y == classes[1]).reshape(1, -1).astype(dtype)
    return (np.asarray(classes).reshape(-1, 1) == y.reshape(1, -1)).astype(dtype)


def outputs(classes):
    """How many neurons: one (the notes' σ) for two classes, K (softmax) for K ≥ 3."""
    return 1 if len(classes) == 2 else len(classes)


class LogisticRegression(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    """Logistic regression as a single neuron, trained as the notes train it; for K ≥ 3 classes
    a layer of K neurons with softmax (multinomial logistic regression).

    Two classes are the notes' neuron, ŷ = σ(wᵀx + b), exactly as the notes write it. K ≥ 3
    classes are K neurons, one per class: Z = WᵀX + b, A = softmax(Z), the cost the mean of
    −Σ_k y_k log a_k, and the same backward pass dZ = A − Y. X may be dense or a SciPy sparse
    matrix (CSR, CSC, COO; never densified).

    Parameters
    ----------
    learning_rate : float or "auto", default="auto"
        α in w := w − α dw. "auto" takes α = 1/L, L the smoothness constant of the cost on
        this X (found by power iteration), so that every step lowers the cost on any data,
        scaled or not. The exercise's recipe is ``learning_rate=0.005``.
    num_iterations : int, default=2000
        The most gradient-descent steps.
    solver : {"gd", "lbfgs", "newton"}, default="gd"
        "gd": the notes' batch gradient descent from w = 0, b = 0. "lbfgs": SciPy's L-BFGS-B
        on the same cost and gradients, a quasi-Newton method. "newton": a trust-region
        Newton method whose steps come from conjugate gradients on the notes' second
        derivative a(1 − a) (``logreg.solvers.trust_region``): a tight minimum in about ten iterations,
        the choice for sparse data and badly conditioned problems (separable data, small
        ``l2``, unscaled features); on large dense data "lbfgs" is faster. Neither of the
        last two takes ``learning_rate``. docs/solvers.md says which to use when.
    tol : float or None, default=None
        "gd": stop once a step lowers the cost by less than ``tol``; 0 runs every iteration.
        "lbfgs", "newton": the gradient tolerance (the largest |dJ/dθ| accepted as the
        minimum). None: the solver's own default, 0 for "gd" (the notes run every step),
        ``LBFGS_TOL`` = 1e-6 for "lbfgs" (below what changes a prediction; it stops there
        instead of warning at ``num_iterations``) and ``NEWTON_TOL`` = 1e-10 for "newton"
        (its last iterations are cheap).
    l2 : float, default=0.0
        λ of the cost's (λ / 2m)‖w‖² term (‖W‖² over all of W for K classes); 0 is the
        notes' unregularised cost. λ = 1 / C of scikit-learn's LogisticRegression (with sample
        weights, m is their sum, as there).
    fit_intercept : bool, default=True
        False fits no b: z = wᵀx (b stays 0).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight`` as scikit-learn does: a dict
        {label: weight}, or "balanced" (m / (K · the number of examples of the class)).
    warm_start : bool, default=False
        Start from the previous fit's parameters instead of zeros.
    verbose : int, default=0
        1 prints "Cost after iteration i: J" every 100 rows of ``history_`` (J its row i), as
        the exercise does, and at the end one line, "stopped after N iterations: cost J, ‖∇J‖
        g (converged)" (or "the limit", "early stopping" with the kept row, ...: see
        ``logreg.solvers.record.ending``), N = ``n_iter_``, J and ‖∇J‖ the last row of ``history_``; 2
        also shows a progress bar on a terminal.
    backprop : {"closed-form", "graph"}, default="closed-form"
        Where the gradients come from: the notes' dZ = A − Y, dw = X dZᵀ / m, or
        backpropagation through ``logreg.graph``'s computation graph (the same numbers).
    implementation : {"auto", "fused", "vectorized", "semi", "loop"}, default="auto"
        How the closed form is computed. "vectorized": the notes' NumPy lines, which read X
        twice per step; "fused": one pass over X per step (a compiled, multi-threaded kernel,
        ``logreg.engines.fused``); "auto": the fastest way to the same numbers — fused for NumPy data
        too large for the cache, gradient descent in the span of the examples when there are
        far more features than examples (``solvers._example_space_steps``), else vectorized.
        With solver="newton" the same engine computes the second derivatives (H v, diag H):
        "fused" in one pass over X (numba kernels), "vectorized" with NumPy and SciPy; "auto"
        takes fused where H is applied, not formed, on large X (sparse, or two classes).
        "semi" and "loop": the notes' loop versions (``logreg.engines.loop``), slow on purpose.
    dtype : {None, "float32", "float64"}, default=None
        The precision of the computation. None keeps float32 input as float32 and makes
        anything else float64; "float32" works end to end in float32 (half the memory, about
        twice the speed on large data); nothing is ever silently up-cast.
    on_divergence : {"raise", "warn"}, default="raise"
        When gradient descent diverges (``logreg.solvers.Divergence``: the cost not finite,
        or far above its start and not coming down): raise ``TrainingDivergedError``, or warn
        and keep the parameters with the lowest cost.
    n_threads : int or None, default=None
        The most threads the fused kernel runs on. None: an enclosing
        ``fused.thread_limit``, else the smallest limit threadpoolctl reads from the loaded
        BLAS/OpenMP libraries and numba's (as joblib sets them in its workers), at most the
        CPUs this process may use; -1: every CPU this process may use.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the examples (stratified by class, as
        scikit-learn's SGDClassifier and MLPClassifier do), track their cost (the log loss,
        without the l2 term) at every iteration, stop once ``n_iter_no_change`` iterations in
        a row did not improve on the best by more than ``tol`` (None: any decrease counts), and
        keep the parameters with the lowest validation cost seen, not the last. The model is
        trained on the rest. Stopping early is not a failure: no ConvergenceWarning.
    validation_fraction : float, default=0.1
        The share of the examples held out for early stopping, in (0, 1).
    n_iter_no_change : int, default=10
        Iterations without improvement before early stopping ends the fit. 10, as
        scikit-learn's SGD and MLP: full-batch iterations give a smooth validation curve, so
        ten in a row without improvement mean it has turned, not noise.
    random_state : int, RandomState instance or None, default=None
        The held-out split of early stopping (the same int gives the same split).
    callback : callable or None, default=None
        Called after every iteration as ``callback(record)``, ``record`` the iteration's row
        of ``history_`` as a dict; a truthy return stops training there (keeping the
        parameters of that row, or the best ones under early stopping). scikit-learn's
        callback API (``set_callbacks``, scikit-learn ≥ 1.9) works too. A model file cannot
        hold a function: ``save`` records None and warns.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
        The labels, sorted. For two, ``classes_[1]`` is the positive class (y = 1 in the
        notes).
    coef_ : ndarray of shape (1, n) for two classes, (K, n) else
        wᵀ, or Wᵀ (one row per class); n is ``n_features_in_``.
    intercept_ : ndarray of shape (1,) for two classes, (K,) else
        b (0 without ``fit_intercept``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when X was a DataFrame with string column names
    learning_rate_ : float or None
        The α used (the one "auto" found, or ``learning_rate``); None for "lbfgs" and "newton".
    n_iter_ : int
        Iterations run: for "gd" the rows of ``history_`` (one per iteration, its cost
        measured before its update); for "lbfgs" and "newton" the iterations after the start,
        ``history_`` holding one row more (row 0: the start).
    costs_ : list of float
        The cost J at every iteration (before that iteration's update).
    history_ : dict of 1-D arrays, one entry per entry of ``costs_``
        ``pandas.DataFrame(history_)`` gives a table. Keys: "iteration" (row i is i, int),
        "cost" (``costs_``), "gradient_norm" (the Euclidean norm of ∇J over the fitted
        parameters (w, b), with the l2 term), "step" (a parameter change ‖Δθ‖), "elapsed"
        (seconds since the solver began), and with early stopping "validation_cost" (the
        held-out log loss). For "gd" row i is iteration i: J, ‖∇J‖ at θᵢ (before its
        update) and the step it takes, ‖θᵢ₊₁ − θᵢ‖ = α‖∇J(θᵢ)‖. For "lbfgs" and "newton"
        row 0 is the start θ₀ (step 0) and row i the point θᵢ after iteration i, with the
        step ‖θᵢ − θᵢ₋₁‖ that reached it. Model files keep the whole history (format 4);
        one written before (format 3) loads with NaN in all but the costs.
    best_iteration_ : int or None
        Early stopping: the row of ``history_`` whose parameters were kept; None without.
    best_validation_cost_ : float or None
        Early stopping: the validation cost there; None without.
    engine_ : dict
        How the gradients were computed: ``engine_["name"]`` is the row of the engine table
        (``logreg.engines``) that served the fit (with solver="newton", its second
        derivatives too); the dask engine adds what it did.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = LogisticRegression(num_iterations=500).fit(X, y)
    >>> round(clf.score(X, y), 3)
    0.988
    """

    _parameter_constraints = {
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

    def __init__(self, learning_rate="auto", num_iterations=2000, solver="gd", tol=None, l2=0.0,
                 warm_start=False, verbose=0, backprop="closed-form", implementation="auto",
                 dtype=None, on_divergence="raise", n_threads=None, fit_intercept=True,
                 class_weight=None, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, random_state=None, callback=None):
        self.learning_rate = learning_rate
        self.num_iterations = num_iterations
        self.solver = solver
        self.tol = tol
        self.l2 = l2
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose
        self.backprop = backprop
        self.implementation = implementation
        self.dtype = dtype
        self.on_divergence = on_divergence
        self.n_threads = n_threads
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.callback = callback

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # SciPy sparse X, never densified
        # torch, cupy, dask, ...: the same code on their arrays (the Newton solver's products
        # are NumPy's and SciPy's: it declines them, saying which solvers take them)
        tags.array_api_support = self.solver != "newton"
        return tags

    def _check_params(self):
        """scikit-learn's validation of the settings, its error as logreg's with the fix; then
        what its constraints let through: booleans as numbers (True is an Integral), and
        integers beyond the float range (float(2**1100) overflows)."""
        from logreg.errors import InvalidParameterError as LogregInvalidParameterError

        try:
            self._validate_params()
        except InvalidParameterError as error:
            raise LogregInvalidParameterError(
                f"{error} Set it to one of those (see help(logreg.LogisticRegression)).") from None
        for name in ("learning_rate", "num_iterations", "tol", "l2", "n_threads",
                     "validation_fraction", "n_iter_no_change"):
            value = getattr(self, name)
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

    def _check_history_fits(self):
        """Refuse, before any work, a num_iterations whose record (``costs_`` and
        ``history_``: ``ITERATION_BYTES`` per iteration) cannot fit in memory. A record of at
        most a million iterations (72 MB) is not worth asking the system."""
        from logreg.core.checks import check_memory

        if int(self.num_iterations) <= 10**6:
            return
        check_memory(int(self.num_iterations) * ITERATION_BYTES,
                     f"num_iterations={int(self.num_iterations)}: its record (costs_ and "
                     f"history_, {ITERATION_BYTES} bytes per iteration)",
                     "choose fewer num_iterations")

    def plan(self, X, sample_weight=None, classes=2):
        """The engine table's choice for this estimator's settings on X (the notes' layout,
        (n_x, m), or an ``engines.Data``) and this many ``classes``: an ``engines.Plan``, or
        the error naming the combination and what would work. ``fit`` asks once, before any
        work."""
        return engines.resolve(X, backprop=self.backprop, implementation=self.implementation,
                               solver=self.solver, dtype=self.dtype,
                               sample_weight=sample_weight, l2=self.l2,
                               num_iterations=int(self.num_iterations), classes=classes,
                               fit_intercept=self.fit_intercept)

    @with_callbacks
    def fit(self, X, y, sample_weight=None):
        """Train on X (m, n_features; dense or SciPy sparse) and y (m,) of K ≥ 2 classes;
        returns self."""
        self._check_params()
        self._check_history_fits()
        if arrays.foreign(X):  # PyTorch, CuPy, Dask...: checked where it lives, never copied
            X = arrays.check_foreign_X(X, dtype=self.dtype)
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            classes, Y = arrays.class_labels(y, X, describe=classes_of_labels)
        else:
            X, y = _validated(self, X, y)
            classes = classes_of_labels(y)
            # Y (1, m) of 0/1 (y = 1 for classes_[1]), or one-hot (K, m) for K classes
            Y = targets(y, classes, X.dtype)
        sample_weight = _sample_weight(sample_weight, X, self.class_weight, y, classes)
        validation = None
        if self.early_stopping:  # the model trains on the rest
            X, y, Y, sample_weight, validation = self._held_out(X, y, Y, sample_weight)
        # kept by reference (no copy) for summary() without arguments; never saved or pickled
        self._training_data = None if arrays.foreign(X) else (X, y, sample_weight)
        # the notes' layout: X is (n_x, m) — a transposed view, no copy
        X_notes = X.T
        plan = self.plan(X_notes, sample_weight, len(classes))
        w, b = self._start(X, classes)
        recorder = Recorder(self._observers(X, y, sample_weight, classes), validation,
                            self.n_iter_no_change, self.tol or 0.0)
        with fused.thread_limit(self.n_threads):
            self._train(X_notes, Y, classes, w, b, sample_weight, plan, recorder)
        if hasattr(self, "_callback_fit_ctx"):  # scikit-learn's callbacks: the fit task ends
            self._callback_fit_ctx.call_on_fit_task_end(
                estimator=self, X=X, y=y, metadata=self._callback_metadata(sample_weight),
                reconstruction_attributes={})
        return self

    def _held_out(self, X, y, Y, sample_weight):
        """Early stopping's split, stratified by class (scikit-learn's ``train_test_split``
        on the example indices, ``random_state``): the training part (X, y, Y, weights) and
        the held-out part as a ``fit.Validation`` in the notes' layout."""
        from sklearn.model_selection import train_test_split

        host_Y = arrays.to_numpy(Y)
        labels = host_Y[0] if host_Y.shape[0] == 1 else np.argmax(host_Y, axis=0)
        m, K = len(labels), len(np.unique(labels))
        # at least one example of each class held out (scikit-learn's split needs as many)
        n_held = max(math.ceil(self.validation_fraction * m), K)
        try:
            train, held = train_test_split(np.arange(m), test_size=n_held,
                                           random_state=self.random_state, stratify=labels)
        except ValueError as error:
            raise InvalidInputError(
                f"early_stopping cannot hold out validation_fraction={self.validation_fraction:g}"
                f" of {m} examples with every class on both sides "
                f"({' '.join(str(error).split())}). Give more examples per class, raise "
                f"validation_fraction, or set early_stopping=False.") from None
        train, held = np.sort(train), np.sort(held)
        s_train = None if sample_weight is None else _take(sample_weight, train, 1)
        s_held = None if sample_weight is None else _take(sample_weight, held, 1)
        y_train = _take(y if hasattr(y, "shape") else np.asarray(y), train, 0)
        validation = Validation(_take(X, held, 0).T, _take(Y, held, 1), s_held)
        return _take(X, train, 0), y_train, _take(Y, train, 1), s_train, validation

    def _observers(self, X, y, sample_weight, classes):
        """Who hears of every iteration and may stop it: ``callback`` (called with the row)
        and scikit-learn's callbacks (a sub-task per iteration, as its LogisticRegression's
        L-BFGS iterations)."""
        observers = []
        if self.callback is not None:
            observers.append(lambda row, parameters: self.callback(row))
        if hasattr(self, "_init_callback_context"):
            context = self._init_callback_context(max_subtasks=int(self.num_iterations) + 1)
            metadata = self._callback_metadata(sample_weight)
            context.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
            if getattr(self, "_skl_callbacks", None):
                observers.append(self._iteration_task(context, X, y, metadata, classes))
        return observers

    def _iteration_task(self, context, X, y, metadata, classes):
        """An observer that runs each iteration as a scikit-learn callback task, its
        ``fitted_estimator`` predicting with that iteration's parameters."""
        def observe(row, parameters):
            def attributes():
                fitted = SimpleNamespace()
                LogisticRegression._set_parameters(fitted, *parameters())
                return {"coef_": fitted.coef_, "intercept_": fitted.intercept_,
                        "classes_": classes}

            task = context.subcontext(task_name="iteration")
            task.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata,
                                        reconstruction_attributes=attributes)
            return task.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata,
                                             reconstruction_attributes=attributes)

        return observe

    @staticmethod
    def _callback_metadata(sample_weight):
        return None if sample_weight is None else {"sample_weight": sample_weight}

    def _train(self, X, Y, classes, w, b, sample_weight, plan, recorder=None):
        """Run the solver on the notes' layout (X (n_x, m), Y (1, m) of 0/1 or one-hot
        (K, m)) from (w, b) with the planned engine, and keep the result."""
        self.learning_rate_ = (None if self.solver != "gd" else  # only gd takes a step α
                               auto_learning_rate(X, sample_weight, self.l2,
                                                  outputs=outputs(classes),
                                                  fit_intercept=self.fit_intercept)
                               if self.learning_rate == "auto" else float(self.learning_rate))
        recorder = recorder or Recorder()
        report = self._reporter() if self.verbose else None
        if report is not None:  # the progress lines come from the fit's one record
            recorder.observers.insert(0, report)
        try:
            result = SOLVERS[self.solver](
                X, Y, w, b, learning_rate=self.learning_rate_,
                num_iterations=int(self.num_iterations), tol=self._tol(),
                sample_weight=sample_weight, l2=self.l2, on_divergence=self.on_divergence,
                gradient=plan.loss_and_gradient, example_space=plan.example_space,
                curvature=plan.curvature, fit_intercept=self.fit_intercept, recorder=recorder)
        except TrainingInterrupted as stop:
            if stop.fit.n_iter:  # keep the last good parameters, then let Ctrl-C go on
                self._store(classes, stop.fit, plan)
            raise
        finally:
            if report is not None:
                report.end()  # the bar, on every way out
        if report is not None:
            report.end(result)
        return self._store(classes, result, plan)

    def _tol(self):
        if self.tol is not None:
            return float(self.tol)
        return {"lbfgs": LBFGS_TOL, "newton": NEWTON_TOL}.get(self.solver, 0.0)

    def _store(self, classes, result, plan):
        self.classes_ = classes
        self._set_parameters(result.w, result.b)
        self.costs_ = result.costs
        self.n_iter_ = result.n_iter
        self.history_ = result.history if result.history is not None else _history_of(
            result.costs)
        self.best_iteration_ = result.best_iteration
        self.best_validation_cost_ = result.best_validation_cost
        self.engine_ = {"name": plan.engine.name}
        return self

    def _start(self, X, classes):
        """w = 0, b = 0 as the notes start (W (n_x, K), b (K, 1) for K classes), or the
        previous fit's parameters (warm_start); in X's library, on X's device, in X's
        precision."""
        n_x, k = X.shape[1], outputs(classes)
        if (self.warm_start and hasattr(self, "coef_") and tuple(self.coef_.shape) == (k, n_x)
                and np.array_equal(self.classes_, classes)):
            w = arrays.to_numpy(self.coef_).T
            b = arrays.to_numpy(self.intercept_).reshape(-1, 1)
        else:
            w, b = np.zeros((n_x, k)), np.zeros((k, 1))
        if not self.fit_intercept:
            b = np.zeros_like(b)
        if k == 1:  # the notes' neuron: b is a number
            b = b[0, 0]
        if arrays.foreign(X) and not arrays.is_dask_array(X):
            return arrays.as_like(w, X), (float(b) if k == 1 else arrays.as_like(b, X))
        # NumPy (and dask: its steps bring results home)
        return w.astype(X.dtype), (X.dtype.type(b) if k == 1 else b.astype(X.dtype))

    def _set_parameters(self, w, b):
        """coef_ = wᵀ (K', n_x) and intercept_ = b (K',), from w (n_x, K') and b (a number,
        (K', 1) or (K',))."""
        if arrays.foreign(w):
            xp = arrays.array_namespace(w)
            self.coef_ = xp.reshape(w.T, (w.shape[1], -1))
            self.intercept_ = xp.reshape(xp.asarray(b, dtype=w.dtype, device=arrays.device(w)),
                                         (-1,))
            return
        w = np.asarray(w)
        self.coef_ = w.T.reshape(w.shape[1], -1).copy()
        self.intercept_ = np.asarray(b, dtype=self.coef_.dtype).reshape(-1)

    def _reporter(self):
        """verbose: an observer of the fit's record (``fit.Recorder``) that prints row i of
        ``history_`` every 100 rows, "Cost after iteration i: J" as the exercise does (for gd
        iteration i's cost before its update; for lbfgs and newton the cost after iteration
        i, row 0 the start), with a bar at verbose 2; ``report.end(result)`` closes the bar
        and prints how the fit ended (``fit.ending``)."""
        from tqdm.auto import tqdm

        bar = tqdm(total=int(self.num_iterations), unit="it", leave=False,
                   disable=None if self.verbose >= 2 else True)

        def report(row, parameters):
            i, cost = row["iteration"], row["cost"]
            bar.update(1)
            if i % 100 == 0:
                bar.set_postfix(cost=text.fixed(cost))
                tqdm.write("Cost after iteration %i: %s" % (i, text.fixed(cost)))

        def end(result=None):
            bar.close()
            if result is not None:
                tqdm.write(ending(result, int(self.num_iterations), self._tol()))

        report.end = end
        return report

    def decision_function(self, X):
        """z = wᵀx + b for each row of X: the log-odds of ``classes_[1]``, shape (m,), for two
        classes; Z = Wᵀx + b, shape (m, K), one score per class, for K ≥ 3."""
        Z = self._decision(X, "decision_function")
        return _ravel(Z) if Z.shape[1] == 1 else Z

    def _decision(self, X, method):
        """Z for each row of X, shape (m, K'): one column for two classes, K for K ≥ 3."""
        _check_fitted(self)
        _check_same_namespace(X, self, method)
        if arrays.foreign(X):
            X = arrays.check_foreign_X(X, self.n_features_in_)
            xp = arrays.array_namespace(X)
            if arrays.foreign(self.coef_):
                w, b = self.coef_.T, self.intercept_
            else:
                w = arrays.as_like(arrays.to_numpy(self.coef_).T, X)
                b = arrays.as_like(arrays.to_numpy(self.intercept_), X)
            b = b[0] if w.shape[1] == 1 else xp.reshape(b, (-1, 1))
            return neuron.decision_function(w, b, X.T).T
        X = _validated(self, X, reset=False)
        coef, intercept = arrays.to_numpy(self.coef_), arrays.to_numpy(self.intercept_)
        b = intercept[0] if len(intercept) == 1 else intercept.reshape(-1, 1)
        with np.errstate(over="ignore", invalid="ignore"):  # ±inf is a certain answer
            # Z = WᵀX + b, in the notes' layout, returned as rows
            Z = np.asarray(neuron.decision_function(coef.T, b, X.T)).T
        if np.isnan(Z).any():
            rows = np.flatnonzero(np.isnan(Z).any(axis=1))[:5].tolist()
            raise InvalidInputError(
                f"X's values are too large for this model: z = wᵀx + b is undefined (inf − "
                f"inf) for rows {rows}. Expected features on the scale of the training data: "
                f"scale X as it was scaled for fit.")
        return Z

    def predict_proba(self, X):
        """The probability of each class for each row, shape (m, K), rows summing to 1:
        [1 − ŷ, ŷ] with ŷ = σ(wᵀx + b) for two classes, softmax(Wᵀx + b) for K ≥ 3."""
        Z = self._decision(X, "predict_proba")
        xp = arrays.array_namespace(Z)
        if Z.shape[1] == 1:
            A = neuron.sigmoid(_ravel(Z))
            return xp.stack([1 - A, A], axis=1)
        # A = softmax(Z), column by column in the notes' layout
        return neuron.softmax(Z.T).T

    def predict_log_proba(self, X):
        """log of ``predict_proba``, computed from Z without rounding to 0 first: finite
        wherever Z is (log σ(z) = −log(1 + e⁻ᶻ); log softmax by log-sum-exp)."""
        Z = self._decision(X, "predict_log_proba")
        xp = arrays.array_namespace(Z)
        if Z.shape[1] == 1:
            z = _ravel(Z)
            zero = xp.zeros_like(z)
            # log σ(z) = −log(1 + e⁻ᶻ), log(1 − σ(z)) = −log(1 + eᶻ)
            return xp.stack([-xp.logaddexp(zero, z), -xp.logaddexp(zero, -z)], axis=1)
        return neuron.log_softmax(Z.T).T

    def predict(self, X):
        """The most probable class of each row: ``classes_[1]`` where ŷ > 0.5 (z > 0) for two
        classes, the class of the largest z (argmax of softmax) for K ≥ 3; numeric labels come
        back in X's library and device, text labels as NumPy."""
        Z = self._decision(X, "predict")
        xp = arrays.array_namespace(Z)
        # ŷ > 0.5 exactly where z > 0; for a layer, the largest a is the largest z
        index = (xp.astype(_ravel(Z) > 0, xp.int64) if Z.shape[1] == 1
                 else xp.argmax(Z, axis=1))
        if arrays.foreign(index) and self.classes_.dtype.kind in "biuf":
            classes = xp.asarray(self.classes_, device=arrays.device(index))
            return xp.take(classes, index, axis=0)
        return self.classes_[arrays.to_numpy(index).astype(int)]

    def score(self, X, y, sample_weight=None):
        """The mean accuracy of ``predict(X)`` against y (a fraction, weighted by
        ``sample_weight``), as scikit-learn's ``accuracy_score``; y is checked as ``fit``
        checks it: one label per row, of the model's classes only."""
        predicted = arrays.to_numpy(self.predict(X))
        labels = _labels_of_the_model(y, self.classes_, len(predicted))
        weights = (None if sample_weight is None else
                   check_sample_weight(arrays.to_numpy(sample_weight), len(predicted)).ravel())
        return float(np.average(predicted == labels, weights=weights))

    def summary(self, X=None, y=None, *, sample_weight=None, alpha=0.05):
        """Inference at the fitted parameters: each coefficient's estimate, standard error
        (from the observed information XᵀDX, D = a(1 − a)), z, p-value and confidence interval,
        with the log-likelihood, McFadden's pseudo-R², AIC and BIC (``logreg.model.inference``).

        Without ``X`` and ``y``, the training data of the last ``fit`` (kept by reference, not
        saved in model files); a loaded model needs them given."""
        from logreg.model.inference import summarize

        return summarize(self, X, y, sample_weight=sample_weight, alpha=alpha)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_training_data", None)  # a reference to the user's data, not the model's
        return state

    @property
    def metadata_(self):
        """The model file's metadata (preprocessing, training record), after ``load``."""
        try:
            return self._metadata
        except AttributeError:
            raise AttributeError("metadata_ exists on an estimator read by logreg.load(path); "
                                 "this one was not loaded from a file.") from None

    def save(self, path, **metadata):
        """Write the model file (safetensors + JSON metadata, never pickle); see ``load``.

        ``metadata`` adds entries, such as the command's preprocessing and data source. The
        file records ``get_params()`` as they were, so ``load`` gives an estimator with the
        same parameters and the same fitted attributes.
        """
        _check_fitted(self)
        coef, intercept = arrays.to_numpy(self.coef_), arrays.to_numpy(self.intercept_)
        record = {
            "logreg_version": __version__,
            "classes": self.classes_.tolist(),
            "dtype": str(coef.dtype),
            "feature_names": getattr(self, "feature_names_in_", None),
            "params": _jsonable_params(_savable_params(self.get_params())),
            "engine": self.engine_,
            "training": {"solver": self.solver, "learning_rate": self.learning_rate_,
                         "num_iterations": self.num_iterations, "tol": self._tol(),
                         "backprop": self.backprop, "implementation": self.implementation,
                         "l2": self.l2, "n_iter": self.n_iter_, "costs": self.costs_,
                         "history": _saved_history(getattr(self, "history_", None),
                                                   len(self.costs_)),
                         "best_iteration": getattr(self, "best_iteration_", None),
                         "best_validation_cost": getattr(self, "best_validation_cost_", None)},
            **metadata,
        }
        io.write_model(path, coef.T, intercept, record)


def _take(array, index, axis):
    """The examples ``index`` (a sorted NumPy array) of ``array`` along ``axis``, in its own
    library: NumPy, SciPy sparse and Dask by indexing, other array libraries by ``take``."""
    if arrays.foreign(array) and not arrays.is_dask_array(array):
        xp = arrays.array_namespace(array)
        return xp.take(array, xp.asarray(index, device=arrays.device(array)), axis=axis)
    return array[index] if axis == 0 else array[:, index]


def _saved_history(history, n):
    """history_'s columns beside the costs, as the model file keeps them; None where there
    are none, or where they no longer match the ``n`` costs (``costs_`` set by hand)."""
    if not history or any(len(history[key]) != n for key in history):
        return None
    return {key: history[key] for key in (*HISTORY_KEYS[2:], VALIDATION_KEY) if key in history}


def _history_of(costs, **columns):
    """A ``history_`` for ``costs`` alone: the other columns NaN unless given."""
    n = len(costs)
    history = {"iteration": np.arange(n, dtype=np.int64),
               "cost": np.asarray(costs, dtype=np.float64).reshape(-1)}
    for key in HISTORY_KEYS[2:]:
        history[key] = np.asarray(columns.get(key, np.full(n, np.nan)), dtype=np.float64)
    if VALIDATION_KEY in columns:
        history[VALIDATION_KEY] = np.asarray(columns[VALIDATION_KEY], dtype=np.float64)
    return history


def _ravel(Z):
    """(m, 1) → (m,), in Z's library."""
    return arrays.array_namespace(Z).reshape(Z, (-1,))


def load(path):
    """A ``LogisticRegression`` from a model file written by ``save`` or ``logreg train``.

    Never unpickles. Its ``get_params()`` are the saved estimator's (a saved
    ``learning_rate="auto"`` stays "auto"; the α it found is ``learning_rate_``), and its
    fitted attributes are the same as after ``fit``. The file's metadata (preprocessing,
    training record) is ``metadata_``. A model trained by the command expects features scaled
    as ``metadata_["preprocessing"]`` says; ``logreg.data.Scaling.from_dict`` rebuilds it.
    """
    w, b, metadata = io.read_model(path)
    training = metadata.get("training") or {}
    params = _saved_params(path, metadata, training)
    if isinstance(params.get("class_weight"), dict):  # JSON wrote its keys as text
        params["class_weight"] = _class_weight_keys(path, params["class_weight"],
                                                    metadata["classes"])
    estimator = LogisticRegression(**params)
    estimator.classes_ = np.asarray(metadata["classes"])
    estimator._set_parameters(w, b)
    estimator.n_features_in_ = int(w.shape[0])
    if metadata.get("feature_names"):
        estimator.feature_names_in_ = np.asarray(metadata["feature_names"], dtype=object)
    estimator.costs_ = [float(cost) for cost in training.get("costs", [])]
    estimator.n_iter_ = int(training.get("n_iter", len(estimator.costs_)))
    estimator.learning_rate_ = training.get("learning_rate")
    estimator.history_ = _history_of(estimator.costs_, **(training.get("history") or {}))
    best = _saved_number(training.get("best_iteration"), int)
    # a row of the history, or nothing: a file cannot make the estimator claim another
    estimator.best_iteration_ = best if best is not None and 0 <= best < len(
        estimator.costs_) else None
    estimator.best_validation_cost_ = _saved_number(training.get("best_validation_cost"), float)
    estimator.engine_ = dict(metadata.get("engine") or {"name": "unrecorded"})
    estimator._metadata = metadata
    return estimator


def _labels_of_the_model(y, classes, m):
    """y (NumPy, 1-D) of m labels, each one of ``classes``, or the error that says which are
    not."""
    try:
        labels = arrays.to_numpy(y)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"y could not be read as labels ({error}); expected one label "
                                f"per row of X.") from None
    if labels.ndim == 2 and 1 in labels.shape:
        labels = labels.ravel()
    if labels.ndim != 1 or len(labels) != m:
        raise InvalidInputError(
            f"y has {labels.size} labels (shape {labels.shape}) but X has {m} rows; expected "
            f"one label per row of X.")
    known = set(classes.tolist())
    unknown = [label for label in dict.fromkeys(labels.tolist()) if not _among(label, known)]
    if unknown:
        shown = ", ".join(map(repr, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        raise InvalidInputError(
            f"y holds {shown}, which the model does not know; expected only its classes "
            f"{', '.join(map(repr, classes.tolist()))}. Pass labels of the same kind as at fit.")
    return labels


def _among(label, known):
    try:
        return label in known
    except TypeError:  # an unhashable label
        return False


def _saved_number(value, kind):
    """A number of the training record as ``kind``, or None (absent, or not a number)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return kind(value)
    return None


def _savable_params(params):
    """get_params() as a model file can hold them: a ``callback`` function or a
    ``random_state`` generator is code or state, not data; each is saved as None, with a
    ``ParameterNotSavedWarning`` saying to set it again after ``load``."""
    from logreg.errors import ParameterNotSavedWarning

    unsaved = {name: value for name, value in params.items()
               if (name == "callback" and value is not None)
               or (name == "random_state" and value is not None
                   and not isinstance(value, Integral))}
    for name, value in unsaved.items():
        warnings.warn(f"the model file saves {name}=None: {name}={value!r} is "
                      f"{'a function' if name == 'callback' else 'a generator'}, which a model "
                      f"file (data, never code) cannot hold. Set it again after logreg.load "
                      f"(estimator.set_params({name}=...)).", ParameterNotSavedWarning,
                      stacklevel=3)
    if unsaved:
        params = {**params, **{name: None for name in unsaved}}
    if isinstance(params.get("random_state"), Integral):
        params = {**params, "random_state": int(params["random_state"])}
    return params


def _jsonable_params(params):
    """get_params() as JSON can hold them: a class_weight dict's keys become text ({1: 2.0}
    → {"1": 2.0}; ``load`` turns them back into the classes)."""
    weights = params.get("class_weight")
    if isinstance(weights, dict):
        params = {**params, "class_weight": {
            str(getattr(key, "item", lambda: key)()): float(value)
            for key, value in weights.items()}}
    return params


def _class_weight_keys(path, class_weight, classes):
    """A saved class_weight dict with its keys as the classes themselves again (JSON keys are
    text: {"1": 2.0} was {1: 2.0})."""
    by_text = {str(label): label for label in classes}
    unknown = [key for key in class_weight if key not in by_text]
    if unknown:
        from logreg.errors import ModelFileError

        raise ModelFileError(f"{path}: its class_weight names {unknown[0]!r}, which is none of "
                             f"its classes {text.quoted_list(classes)}. The file was edited or "
                             f"damaged; train again or restore a good copy.")
    return {by_text[key]: value for key, value in class_weight.items()}


def _saved_params(path, metadata, training):
    """The saved ``get_params()``, checked as ``fit`` checks them; files written before they
    were recorded give what their training record says."""
    known = LogisticRegression().get_params()
    if isinstance(metadata.get("params"), dict):
        params = {key: value for key, value in metadata["params"].items() if key in known}
    else:
        params = {key: training[key] for key in ("learning_rate", "num_iterations", "tol",
                                                 "l2", "solver", "backprop", "implementation")
                  if training.get(key) is not None}
    try:
        LogisticRegression(**params)._check_params()
    except InvalidInputError as error:
        from logreg.errors import ModelFileError

        raise ModelFileError(f"{path}: its saved settings are not valid ({error}) The file "
                             f"was edited or damaged; train again or restore a good copy.") \
            from None
    return params
