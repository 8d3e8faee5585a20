"""Who hears of each iteration of ``LogisticRegression.fit`` (observers of the fit's one
record, ``solvers.record.Recorder``): the verbose report, the user's ``callback``, and
scikit-learn's callback API (a sub-task per iteration). Each is called as
``observer(row, parameters)``; a truthy return stops training there.
"""

from logreg.core import text
from logreg.model.validation import coef_and_intercept
from logreg.solvers.record import ending


def observers(estimator, X, y, sample_weight, classes):
    """Who hears of every iteration and may stop it: ``callback`` (called with the row)
    and scikit-learn's callbacks (a sub-task per iteration, as its LogisticRegression's
    L-BFGS iterations)."""
    found = []
    if estimator.callback is not None:
        found.append(lambda row, parameters: estimator.callback(row))
    if hasattr(estimator, "_init_callback_context"):
        context = estimator._init_callback_context(
            max_subtasks=int(estimator.num_iterations) + 1)
        metadata = callback_metadata(sample_weight)
        context.call_on_fit_task_begin(estimator=estimator, X=X, y=y, metadata=metadata)
        if getattr(estimator, "_skl_callbacks", None):
            found.append(_iteration_task(estimator, context, X, y, metadata, classes))
    return found


def _iteration_task(estimator, context, X, y, metadata, classes):
    """An observer that runs each iteration as a scikit-learn callback task, its
    ``fitted_estimator`` predicting with that iteration's parameters."""
    def observe(row, parameters):
        def attributes():
            coef, intercept = coef_and_intercept(*parameters())
            return {"coef_": coef, "intercept_": intercept, "classes_": classes}

        task = context.subcontext(task_name="iteration")
        task.call_on_fit_task_begin(estimator=estimator, X=X, y=y, metadata=metadata,
                                    reconstruction_attributes=attributes)
        return task.call_on_fit_task_end(estimator=estimator, X=X, y=y, metadata=metadata,
                                         reconstruction_attributes=attributes)

    return observe


def callback_metadata(sample_weight):
    """The metadata scikit-learn's callbacks are given: the sample weights, if any."""
    return None if sample_weight is None else {"sample_weight": sample_weight}


def reporter(num_iterations, verbose, tol):
    """verbose: an observer of the fit's record (``fit.Recorder``) that prints row i of
    ``history_`` every 100 rows, "Cost after iteration i: J" as the exercise does (for gd
    iteration i's cost before its update; for lbfgs and newton the cost after iteration
    i, row 0 the start), with a bar at verbose 2; ``report.end(result)`` closes the bar
    and prints how the fit ended (``fit.ending``, with ``tol`` the solver's tolerance)."""
    from tqdm.auto import tqdm

    bar = tqdm(total=int(num_iterations), unit="it", leave=False,
               disable=None if verbose >= 2 else True)

    def report(row, parameters):
        i, cost = row["iteration"], row["cost"]
        bar.update(1)
        if i % 100 == 0:
            bar.set_postfix(cost=text.fixed(cost))
            tqdm.write("Cost after iteration %i: %s" % (i, text.fixed(cost)))

    def end(result=None):
        bar.close()
        if result is not None:
            tqdm.write(ending(result, int(num_iterations), tol))

    report.end = end
    return report
