"""Fixtures of the model-file tests."""

import numpy as np
import pytest


@pytest.fixture()
def fitted():
    """(X, y): 40 examples of 5 features, labels from a known linear rule with noise."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + rng.normal(0, 0.5, 40) > 0)
    return X, y
