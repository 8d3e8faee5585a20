"""scikit-learn's own estimator checks, every one, on logreg.LogisticRegression: with the
notes' gradient descent (the default), with each faster solver, and with early stopping."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from logreg import LogisticRegression

EXPECTED_FAILED_CHECKS = {}
# early stopping holds out a random part of the examples: a row repeated twice and the same
# row weighted 2 land in the held-out part differently, so the fits differ (as SGD's do)
EARLY_STOPPING_FAILS = {
    "check_sample_weight_equivalence_on_dense_data": "the held-out split sees rows, not weights",
    "check_sample_weight_equivalence_on_sparse_data": "the held-out split sees rows, not weights",
}


def _expected_failures(estimator):
    return EARLY_STOPPING_FAILS if estimator.early_stopping else EXPECTED_FAILED_CHECKS


@parametrize_with_checks([LogisticRegression(), LogisticRegression(solver="lbfgs"),
                          LogisticRegression(solver="newton", l2=1.0),
                          LogisticRegression(early_stopping=True, random_state=0)],
                         expected_failed_checks=_expected_failures)
def test_scikit_learn_check(estimator, check):
    check(estimator)
