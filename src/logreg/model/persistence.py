"""The estimator in a model file: what ``save`` records (the parameters, ``get_params()`` as
JSON can hold them, the training record with ``history_``'s columns) and what ``load`` reads
back from it (the history, the numbers and the class weights of the record), through
``logreg.modelfile.io`` (safetensors + JSON metadata, never pickle).
"""

import warnings
from numbers import Integral

import numpy as np

from logreg import __version__
from logreg.core import arrays, text
from logreg.model.parameters import tolerance
from logreg.model.validation import check_fitted
from logreg.modelfile import io
from logreg.solvers.record import HISTORY_KEYS, VALIDATION_KEY


def save(estimator, path, **metadata):
    """Write ``estimator``'s model file (``LogisticRegression.save``): its parameters, its
    ``get_params()`` and its training record, with ``metadata``'s entries added."""
    check_fitted(estimator)
    coef, intercept = arrays.to_numpy(estimator.coef_), arrays.to_numpy(estimator.intercept_)
    record = {
        "logreg_version": __version__,
        "classes": estimator.classes_.tolist(),
        "dtype": str(coef.dtype),
        "feature_names": getattr(estimator, "feature_names_in_", None),
        "params": _jsonable_params(_savable_params(estimator.get_params())),
        "engine": estimator.engine_,
        "training": {"solver": estimator.solver, "learning_rate": estimator.learning_rate_,
                     "num_iterations": estimator.num_iterations,
                     "tol": tolerance(estimator.solver, estimator.tol),
                     "backprop": estimator.backprop, "implementation": estimator.implementation,
                     "l2": estimator.l2, "n_iter": estimator.n_iter_, "costs": estimator.costs_,
                     "history": _saved_history(getattr(estimator, "history_", None),
                                               len(estimator.costs_)),
                     "best_iteration": getattr(estimator, "best_iteration_", None),
                     "best_validation_cost": getattr(estimator, "best_validation_cost_", None)},
        **metadata,
    }
    io.write_model(path, coef.T, intercept, record)


def _saved_history(history, n):
    """history_'s columns beside the costs, as the model file keeps them; None where there
    are none, or where they no longer match the ``n`` costs (``costs_`` set by hand)."""
    if not history or any(len(history[key]) != n for key in history):
        return None
    return {key: history[key] for key in (*HISTORY_KEYS[2:], VALIDATION_KEY) if key in history}


def history_of(costs, **columns):
    """A ``history_`` for ``costs`` alone (a fit's or a file's record without its other
    columns): the other columns NaN unless given."""
    n = len(costs)
    history = {"iteration": np.arange(n, dtype=np.int64),
               "cost": np.asarray(costs, dtype=np.float64).reshape(-1)}
    for key in HISTORY_KEYS[2:]:
        history[key] = np.asarray(columns.get(key, np.full(n, np.nan)), dtype=np.float64)
    if VALIDATION_KEY in columns:
        history[VALIDATION_KEY] = np.asarray(columns[VALIDATION_KEY], dtype=np.float64)
    return history


def saved_number(value, kind):
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
                      stacklevel=4)  # the caller of LogisticRegression.save
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


def class_weight_keys(path, class_weight, classes):
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

