"""scikit-learn's own estimator checks, every one, on logreg.LogisticRegression: with the
notes' gradient descent (the default) and with each faster solver."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from logreg import LogisticRegression

EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks([LogisticRegression(), LogisticRegression(solver="lbfgs"),
                          LogisticRegression(solver="newton", l2=1.0)],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_scikit_learn_check(estimator, check):
    check(estimator)
