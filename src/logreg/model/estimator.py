"""The scikit-learn face: ``LogisticRegression``, rows as examples, the notes' code underneath.

scikit-learn hands in X of shape (m, n_x), one row per example; the notes' neuron wants
(n_x, m). ``X.T`` is a view, never a copy, so the same ``neuron`` and ``solvers`` code runs on
the user's own memory (a SciPy CSR matrix's transpose is a CSC view of the same arrays).
Parameters are named as in the notes (``learning_rate``, ``num_iterations``); the fitted model
is ``coef_`` = wᵀ and ``intercept_`` = [b] for two classes (the notes' neuron), and for K ≥ 3
classes a layer of K neurons with softmax: ``coef_`` = Wᵀ (K, n_x), ``intercept_`` = b (K,).
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from logreg import engines
from logreg.core import arrays, neuron
from logreg.core.checks import check_sample_weight, classes_of_labels
from logreg.engines import threads
from logreg.errors import InvalidInputError
from logreg.model import persistence
from logreg.model.observers import callback_metadata, observers, reporter
from logreg.model.parameters import (
    PARAMETER_CONSTRAINTS,
    check_history_fits,
    check_params,
    tolerance,
)
from logreg.model.validation import (
    check_fitted,
    check_same_namespace,
    coef_and_intercept,
    held_out,
    labels_of_the_model,
    outputs,
    sample_weights,
    targets,
    validated,
)
from logreg.modelfile import io
from logreg.solvers import SOLVERS, TrainingInterrupted, auto_learning_rate
from logreg.solvers.record import Recorder

try:  # scikit-learn's callback API (1.9 on); older ones get the plain ``callback`` only
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # pragma: no cover - scikit-learn < 1.9
    class CallbackSupportMixin:
        """Stands in for scikit-learn's callback support where it has none."""

    def with_callbacks(method):
        """Stands in for scikit-learn's decorator where it has none."""
        return method


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
        minimum). None: the solver's own default (``logreg.solvers.SOLVERS[solver].tol``),
        0 for "gd" (the notes run every step), 1e-6 for "lbfgs" (below what changes a
        prediction; it stops there instead of warning at ``num_iterations``) and 1e-10 for
        "newton" (its last iterations are cheap).
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
        far more features than examples (``logreg.solvers.gradient_descent.example_space_steps``), else vectorized.
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
        ``threads.thread_limit``, else the smallest limit threadpoolctl reads from the loaded
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

    _parameter_constraints = PARAMETER_CONSTRAINTS


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
        # torch, cupy, dask, ...: the same code on their arrays, for the solvers that take
        # them (the Newton solver's products are NumPy's and SciPy's: it declines them)
        tags.array_api_support = getattr(SOLVERS.get(self.solver), "array_api", True)
        return tags

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
        check_params(self)
        check_history_fits(self.num_iterations)
        if arrays.foreign(X):  # PyTorch, CuPy, Dask...: checked where it lives, never copied
            X = arrays.check_foreign_X(X, dtype=self.dtype)
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            classes, Y = arrays.class_labels(y, X, describe=classes_of_labels)
        else:
            X, y = validated(self, X, y)
            classes = classes_of_labels(y)
            # Y (1, m) of 0/1 (y = 1 for classes_[1]), or one-hot (K, m) for K classes
            Y = targets(y, classes, X.dtype)
        sample_weight = sample_weights(sample_weight, X, self.class_weight, y, classes)
        validation = None
        if self.early_stopping:  # the model trains on the rest
            X, y, Y, sample_weight, validation = held_out(
                X, y, Y, sample_weight, self.validation_fraction, self.random_state)
        # kept by reference (no copy) for summary() without arguments; never saved or pickled
        self._training_data = None if arrays.foreign(X) else (X, y, sample_weight)
        # the notes' layout: X is (n_x, m) — a transposed view, no copy
        X_notes = X.T
        plan = self.plan(X_notes, sample_weight, len(classes))
        w, b = self._start(X, classes)
        recorder = Recorder(observers(self, X, y, sample_weight, classes), validation,
                            self.n_iter_no_change, self.tol or 0.0)
        with threads.thread_limit(self.n_threads):
            self._train(X_notes, Y, classes, w, b, sample_weight, plan, recorder)
        if hasattr(self, "_callback_fit_ctx"):  # scikit-learn's callbacks: the fit task ends
            self._callback_fit_ctx.call_on_fit_task_end(
                estimator=self, X=X, y=y, metadata=callback_metadata(sample_weight),
                reconstruction_attributes={})
        return self

    def _train(self, X, Y, classes, w, b, sample_weight, plan, recorder=None):
        """Run the solver on the notes' layout (X (n_x, m), Y (1, m) of 0/1 or one-hot
        (K, m)) from (w, b) with the planned engine, and keep the result."""
        self.learning_rate_ = (None if not SOLVERS[self.solver].takes_learning_rate else
                               auto_learning_rate(X, sample_weight, self.l2,
                                                  outputs=outputs(classes),
                                                  fit_intercept=self.fit_intercept)
                               if self.learning_rate == "auto" else float(self.learning_rate))
        recorder = recorder or Recorder()
        report = (reporter(self.num_iterations, self.verbose, self._tol()) if self.verbose
                  else None)
        if report is not None:  # the progress lines come from the fit's one record
            recorder.observers.insert(0, report)
        try:
            result = SOLVERS[self.solver].function(
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
        return tolerance(self.solver, self.tol)

    def _store(self, classes, result, plan):
        self.classes_ = classes
        self.coef_, self.intercept_ = coef_and_intercept(result.w, result.b)
        self.costs_ = result.costs
        self.n_iter_ = result.n_iter
        self.history_ = result.history if result.history is not None else persistence.history_of(
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

    def decision_function(self, X):
        """z = wᵀx + b for each row of X: the log-odds of ``classes_[1]``, shape (m,), for two
        classes; Z = Wᵀx + b, shape (m, K), one score per class, for K ≥ 3."""
        Z = self._decision(X, "decision_function")
        return _ravel(Z) if Z.shape[1] == 1 else Z

    def _decision(self, X, method):
        """Z for each row of X, shape (m, K'): one column for two classes, K for K ≥ 3."""
        check_fitted(self)
        check_same_namespace(X, self, method)
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
        X = validated(self, X, reset=False)
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
        labels = labels_of_the_model(y, self.classes_, len(predicted))
        weights = (None if sample_weight is None else
                   check_sample_weight(arrays.to_numpy(sample_weight), len(predicted)).ravel())
        return float(np.average(predicted == labels, weights=weights))

    def summary(self, X=None, y=None, *, sample_weight=None, alpha=0.05):
        """Inference at the fitted parameters: each coefficient's estimate, standard error
        (from the observed information XᵀDX, D = a(1 − a)), z, p-value and confidence interval,
        with the log-likelihood, McFadden's pseudo-R², AIC and BIC (``logreg.model.inference``).

        Without ``X`` and ``y``, the training data of the last ``fit`` (``training_data_``:
        kept by reference, not saved in model files); a loaded model needs them given."""
        from logreg.model.inference import summarize

        return summarize(self, X, y, sample_weight=sample_weight, alpha=alpha)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_training_data", None)  # a reference to the user's data, not the model's
        return state

    @property
    def training_data_(self):
        """The last ``fit``'s training data, which ``summary()`` without arguments uses.

        Kept by reference (no copy), never saved in model files or pickles.

        Returns
        -------
        tuple of (X, y, sample_weight) or None
            The rows, labels and weights as ``fit`` took them after its checks (with
            ``early_stopping``, the part it trained on, without the held-out part); None when
            the fit was on another library's arrays (PyTorch, CuPy, Dask), which are not kept.

        Raises
        ------
        AttributeError
            When this estimator ran no ``fit`` of its own: not fitted, read by
            ``logreg.load``, or unpickled (``getattr(model, "training_data_", None)`` is None).
        """
        try:
            return self._training_data
        except AttributeError:
            raise AttributeError("training_data_ exists after fit; this estimator was not "
                                 "fitted here (not fitted, loaded from a file or "
                                 "unpickled).") from None

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
        persistence.save(self, path, **metadata)



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
        params["class_weight"] = persistence.class_weight_keys(path, params["class_weight"],
                                                    metadata["classes"])
    estimator = LogisticRegression(**params)
    estimator.classes_ = np.asarray(metadata["classes"])
    estimator.coef_, estimator.intercept_ = coef_and_intercept(w, b)
    estimator.n_features_in_ = int(w.shape[0])
    if metadata.get("feature_names"):
        estimator.feature_names_in_ = np.asarray(metadata["feature_names"], dtype=object)
    estimator.costs_ = [float(cost) for cost in training.get("costs", [])]
    estimator.n_iter_ = int(training.get("n_iter", len(estimator.costs_)))
    estimator.learning_rate_ = training.get("learning_rate")
    estimator.history_ = persistence.history_of(estimator.costs_, **(training.get("history") or {}))
    best = persistence.saved_number(training.get("best_iteration"), int)
    # a row of the history, or nothing: a file cannot make the estimator claim another
    estimator.best_iteration_ = best if best is not None and 0 <= best < len(
        estimator.costs_) else None
    estimator.best_validation_cost_ = persistence.saved_number(training.get("best_validation_cost"), float)
    estimator.engine_ = dict(metadata.get("engine") or {"name": "unrecorded"})
    estimator._metadata = metadata
    return estimator



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
        check_params(LogisticRegression(**params))
    except InvalidInputError as error:
        from logreg.errors import ModelFileError

        raise ModelFileError(f"{path}: its saved settings are not valid ({error}) The file "
                             f"was edited or damaged; train again or restore a good copy.") \
            from None
    return params
