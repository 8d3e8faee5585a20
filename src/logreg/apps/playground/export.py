"""Exports of a playground run: the model file and a Python script that reproduces the run.

The model file is written by the estimator's own ``save``: a fitted ``LogisticRegression``
built from the session's w, b, classes, feature names and costs. It takes the raw features
(x1, x2, x1sq, ... as the features module computes them from the original coordinates): the
standardisation is folded into its parameters, w_raw = w / σ and b_raw = b − Σ_j w_j μ_j / σ_j,
so ``logreg.load(path).predict_proba(rows)`` gives the page's ŷ.

The script rebuilds the same data and features, standardises them as the session did and
trains with ``LogisticRegression(solver="gd", ...)`` for the same number of iterations.
"""

import os
import tempfile

import numpy as np

from logreg.errors import InvalidInputError
from logreg.apps.playground.features import FEATURES



def fitted_model(session):
    """A fitted ``LogisticRegression`` holding the session's model, on the raw features.

    Parameters
    ----------
    session : Session

    Returns
    -------
    logreg.LogisticRegression
        ``coef_``, ``intercept_`` (standardisation folded in), ``classes_``,
        ``feature_names_in_``, ``costs_``, ``n_iter_`` and ``learning_rate_`` of the run.
    """
    from logreg.model.estimator import LogisticRegression
    from logreg.model.persistence import history_of
    from logreg.model.validation import coef_and_intercept

    with session.lock:
        s = session.settings
        w, b = np.array(session.w, dtype=np.float64), session.b
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise InvalidInputError("the parameters are not finite numbers; press Reset and "
                                    "train with a smaller learning rate.")
        # z = Σ_j w_j (r_j − μ_j)/σ_j + b = Σ_j (w_j/σ_j) r_j + (b − Σ_j w_j μ_j/σ_j)
        W_raw = w / session.std[:, None]
        b_raw = np.reshape(b, -1) - (session.mean / session.std) @ w
        estimator = LogisticRegression(learning_rate=s["learning_rate"], l2=s["l2"],
                                       num_iterations=max(session.iteration, 1), solver="gd")
        estimator.classes_ = np.asarray(session.classes)
        estimator.coef_, estimator.intercept_ = coef_and_intercept(W_raw, b_raw)
        estimator.n_features_in_ = len(session.feature_names)
        estimator.feature_names_in_ = np.asarray(session.feature_names, dtype=object)
        estimator.costs_ = [float(c) for c in session.costs["train"][:session.iteration]]
        estimator.n_iter_ = session.iteration
        estimator.learning_rate_ = float(s["learning_rate"])
        estimator.history_ = history_of(estimator.costs_)
        estimator.best_iteration_ = None
        estimator.best_validation_cost_ = None
        estimator.engine_ = {"name": session.plan.engine.name}
        record = {"features": list(session.feature_names),
                  "standardisation": {"mean": session.mean.tolist(),
                                      "std": session.std.tolist(),
                                      "folded": True},
                  "settings": {k: v for k, v in s.items() if v is not None},
                  "iteration": session.iteration}
        return estimator, record


def model_bytes(session):
    """The session's model as the bytes of a logreg model file (``logreg.load`` reads it).

    Parameters
    ----------
    session : Session

    Returns
    -------
    bytes
    """
    estimator, record = fitted_model(session)
    with tempfile.TemporaryDirectory(prefix="logreg-playground-") as folder:
        path = os.path.join(folder, "playground-model.safetensors")
        estimator.save(path, playground=record)
        with open(path, "rb") as file:
            return file.read()


def snippet(session):
    """A Python script that reproduces the session's run with logreg: its data, split and
    features made by the same functions as the page's (``logreg.apps.playground``'s).

    Parameters
    ----------
    session : Session

    Returns
    -------
    str
        The script: the data, the split, the features, their standardisation, then
        ``LogisticRegression(solver="gd", learning_rate=α, l2=λ, num_iterations=T)``; it
        prints ``coef_`` and ``intercept_`` (on the standardised features, the page's w, b).
    """
    run = _run_of(session)
    lines = _data_lines(run) + _caveat_lines(run) + _fit_lines(run)
    return "\n".join(lines)


def _run_of(session):
    """What the script needs of the session, read at once under its lock: the settings, the
    iteration, the changes, the divergence, the feature names and the data's lines."""
    with session.lock:
        s = dict(session.settings)
        run = {"settings": s, "iteration": session.iteration,
               "changes": list(session.changes), "diverged": session.diverged,
               "names": list(session.feature_names)}
        if s["data"] == "upload":
            X, y, classes = session.table.points(s["columns"])
            labels = np.asarray(classes)[y].tolist()
            run["data"] = [
                f"# the uploaded CSV's columns {s['columns']['x1']!r} (x1), "
                f"{s['columns']['x2']!r} (x2) and {s['columns']['label']!r} (the label)",
                f"X = np.array({X.tolist()!r})",
                f"y = np.array({labels!r})"]
        else:
            classes = s["classes"] if s["data"] == "blobs" else 2
            run["data"] = [
                f"# the data set {s['data']!r}, as the playground makes it",
                f"X, y = datasets.make_points({s['data']!r}, points={s['points']}, "
                f"noise={s['noise']!r}, seed={s['seed']}, classes={classes})"]
    return run


def _data_lines(run):
    """The script's docstring, imports, data, split and standardised features."""
    s, names = run["settings"], run["names"]
    return [
        '"""Reproduces a run of the logreg playground with the library itself.',
        "",
        f"Data {s['data']!r}, features {', '.join(names)}, learning rate "
        f"{s['learning_rate']!r}, L2 {s['l2']!r}, {run['iteration']} iterations of gradient "
        "descent from w = 0, b = 0.",
        '"""',
        "",
        "import numpy as np",
        "",
        "from logreg import LogisticRegression",
        "from logreg.apps.playground import datasets, features",
        "",
        *run["data"],
        "",
        "# the split: stratified by class, seeded (a test_fraction of 0 leaves test empty)",
        f"train, test = datasets.split(y, {s['test_fraction']!r}, {s['seed']})",
        "",
        "# the features of the original coordinates, standardised with the training part's",
        "# mean and standard deviation",
        f"feature_names = {names!r}",
        "rows = features.feature_matrix(X, feature_names)",
        "mean, std = features.standardisation(rows[train])",
        "X_train, X_test = (rows[train] - mean) / std, (rows[test] - mean) / std",
        "",
    ]


def _caveat_lines(run):
    """Comments on where the script differs from the run: settings changed during it, a
    divergence, no step taken."""
    lines = []
    if run["changes"]:
        lines.append("# settings were changed during the run, so this script (which uses the "
                     "last ones throughout)")
        lines.append("# does not reproduce it exactly: " + "; ".join(run["changes"]))
    if run["diverged"]:
        lines.append(f"# the run diverged ({run['diverged']['message']}); on_divergence='warn' "
                     f"keeps the best parameters")
    if run["iteration"] == 0:
        lines.append("# the page had taken no step yet (w = 0, b = 0); one step is the least "
                     "that fit takes")
    return lines


def _fit_lines(run):
    """The estimator, its fit, and the prints of its accuracies and parameters."""
    s = run["settings"]
    divergence = ', on_divergence="warn"' if run["diverged"] else ""
    return [
        f"model = LogisticRegression(solver=\"gd\", learning_rate={s['learning_rate']!r}, "
        f"l2={s['l2']!r},",
        f"                           num_iterations={max(run['iteration'], 1)}{divergence})",
        "model.fit(X_train, y[train])",
        "",
        'print("train accuracy:", model.score(X_train, y[train]) * 100, "%")',
        'if test.size:',
        '    print("test accuracy:", model.score(X_test, y[test]) * 100, "%")',
        'print("coef_ =", model.coef_.tolist())',
        'print("intercept_ =", model.intercept_.tolist())',
        "",
    ]
