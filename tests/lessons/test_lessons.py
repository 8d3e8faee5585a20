"""The notes' NumPy lessons, as the tutorial states them: broadcasting and rank-1 arrays."""

import numpy as np
import pytest

from logreg.core.checks import check_features, check_labels
from logreg.errors import InvalidInputError


def test_calories_broadcasting():
    A = np.array([[56.0, 0.0, 4.4, 68.0],
                  [1.2, 104.0, 52.0, 0.0],
                  [1.8, 135.0, 99.0, 0.9]])
    cal = A.sum(axis=0)
    np.testing.assert_allclose(cal, [59.0, 239.0, 155.4, 68.9])  # summed by hand
    percentage = 100 * A / cal.reshape(1, 4)  # (3, 4) / (1, 4): the row is copied 3 times
    np.testing.assert_allclose(percentage[:, 0], [5600 / 59, 120 / 59, 180 / 59])
    np.testing.assert_allclose(percentage.sum(axis=0), 100.0)


def test_rank_1_arrays_and_their_cures():
    a = np.random.default_rng(0).random(5)
    assert a.shape == (5,) and a.T.shape == (5,)  # a.T is a itself
    assert np.ndim(np.dot(a, a.T)) == 0  # a number, not the outer product one may expect
    column = a.reshape(5, 1)  # the cure: an explicit column vector
    assert column.T.shape == (1, 5)
    assert np.dot(column, column.T).shape == (5, 5)
    with pytest.raises(AssertionError):
        assert a.shape == (5, 1)  # the notes' assert catches the rank-1 array


def test_the_library_refuses_rank_1_X_and_reshapes_a_rank_1_label_row():
    with pytest.raises(InvalidInputError, match="rank-1"):
        check_features(np.ones(5))
    assert check_labels(np.array([0, 1, 1]), m=3).shape == (1, 3)
