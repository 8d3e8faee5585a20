"""Early stopping (issue 13, item 2): a stratified held-out part, its log loss tracked per
iteration, the best parameters kept; checked against scikit-learn's own split and log loss."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import logreg
from logreg import LogisticRegression
from logreg.errors import InvalidInputError, InvalidParameterError, ParameterNotSavedWarning


@pytest.fixture(scope="module")
def scaled():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def overfitting(m=200, noise_features=100, seed=0):
    """Few examples, many noise features, one useful feature: without a penalty the training
    cost keeps falling while the held-out cost turns up."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal(m)
    y = (signal + 0.8 * rng.standard_normal(m) > 0).astype(int)
    X = np.column_stack([3 * signal, rng.standard_normal((m, noise_features))])
    return X, y


def held_out(X, y, fraction, random_state):
    """The split as scikit-learn makes it: train_test_split of the indices, stratified."""
    labels = np.unique(y, return_inverse=True)[1]
    train, held = train_test_split(np.arange(len(y)), test_size=fraction,
                                   random_state=random_state, stratify=labels)
    return np.sort(train), np.sort(held)


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton"])
def test_the_best_parameters_are_kept_and_their_validation_cost_is_sklearns(solver, scaled):
    X, y = scaled
    clf = LogisticRegression(solver=solver, early_stopping=True, random_state=3,
                             validation_fraction=0.2, num_iterations=5000).fit(X, y)
    _, held = held_out(X, y, 0.2, 3)
    validation = clf.history_["validation_cost"]
    assert len(validation) == len(clf.costs_)
    best = clf.best_iteration_
    assert validation[best] == clf.best_validation_cost_ == validation.min()
    # the returned coef_ has exactly that validation cost: scikit-learn's log loss
    truth = log_loss(y[held], clf.predict_proba(X[held]), labels=clf.classes_)
    assert truth == pytest.approx(clf.best_validation_cost_, rel=1e-9)
    # stopped n_iter_no_change rows after the best (without reaching num_iterations)
    assert len(clf.costs_) == best + clf.n_iter_no_change + 1
    assert clf.n_iter_ < 5000


def test_the_training_cost_is_that_of_the_training_part_only(scaled):
    X, y = scaled
    clf = LogisticRegression(early_stopping=True, random_state=0, num_iterations=3).fit(X, y)
    train, _ = held_out(X, y, 0.1, 0)
    plain = LogisticRegression(num_iterations=3).fit(X[train], y[train])
    np.testing.assert_allclose(clf.costs_, plain.costs_, rtol=1e-12)


def test_it_stops_on_an_overfitting_case_before_the_training_cost_stops_falling():
    X, y = overfitting()
    clf = LogisticRegression(num_iterations=20000, early_stopping=True,
                             validation_fraction=0.25, random_state=0).fit(X, y)
    assert clf.n_iter_ < 20000
    history = clf.history_
    assert np.all(np.diff(history["cost"]) < 0)  # the training cost never stopped falling
    validation = history["validation_cost"]
    assert validation[0] > clf.best_validation_cost_ < validation[-1]  # down, then up
    # trained on to num_iterations, the last parameters are worse on the held-out part
    train, held = held_out(X, y, 0.25, 0)
    full = LogisticRegression(num_iterations=20000).fit(X[train], y[train])
    early = log_loss(y[held], clf.predict_proba(X[held]))
    assert early == pytest.approx(clf.best_validation_cost_, rel=1e-9)
    assert early < log_loss(y[held], full.predict_proba(X[held]))


def test_the_same_random_state_gives_the_same_split(scaled):
    X, y = scaled
    settings = dict(solver="lbfgs", early_stopping=True, num_iterations=50)
    first = LogisticRegression(random_state=7, **settings).fit(X, y)
    again = LogisticRegression(random_state=7, **settings).fit(X, y)
    other = LogisticRegression(random_state=8, **settings).fit(X, y)
    np.testing.assert_array_equal(first.history_["validation_cost"],
                                  again.history_["validation_cost"])
    np.testing.assert_array_equal(first.coef_, again.coef_)
    assert not np.array_equal(first.history_["validation_cost"][:3],
                              other.history_["validation_cost"][:3])


def test_the_split_keeps_each_class_share():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    y = np.array([0] * 180 + [1] * 20)
    seen = []
    clf = LogisticRegression(early_stopping=True, validation_fraction=0.25, random_state=0,
                             num_iterations=2, callback=lambda row: seen.append(row))
    clf.fit(X, y)
    _, held = held_out(X, y, 0.25, 0)
    assert np.mean(y[held]) == pytest.approx(0.1, abs=0.01)
    cost = log_loss(y[held], np.full(len(held), 0.5), labels=[0, 1])  # w = 0, b = 0
    assert seen[0]["validation_cost"] == pytest.approx(cost, rel=1e-12)


def test_softmax_and_weights_use_the_weighted_held_out_log_loss():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((150, 3))
    y = np.argmax(X @ rng.standard_normal((3, 3)) + rng.standard_normal((150, 3)), axis=1)
    s = rng.uniform(0.5, 2.0, 150)
    clf = LogisticRegression(solver="newton", early_stopping=True, random_state=1,
                             l2=0.1).fit(X, y, sample_weight=s)
    _, held = held_out(X, y, 0.1, 1)
    truth = log_loss(y[held], clf.predict_proba(X[held]), sample_weight=s[held])
    assert truth == pytest.approx(clf.best_validation_cost_, rel=1e-9)


def test_example_space_tracks_the_same_validation_cost():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 500)), rng.integers(0, 2, 40)
    settings = dict(learning_rate=0.002, num_iterations=300, early_stopping=True,
                    random_state=0, validation_fraction=0.25)
    fast = LogisticRegression(**settings).fit(X, y)
    assert fast.engine_["name"] == "example-space"
    plain = LogisticRegression(implementation="vectorized", **settings).fit(X, y)
    np.testing.assert_allclose(fast.history_["validation_cost"],
                               plain.history_["validation_cost"], rtol=1e-9)
    np.testing.assert_allclose(fast.coef_, plain.coef_, rtol=1e-8, atol=1e-12)


class Held:
    """A held-out part whose costs are given, one per call, for hand-worked cases."""

    def __init__(self, values):
        self.values = iter(values)

    def cost(self, w, b):
        return next(self.values)


@pytest.mark.parametrize("values, threshold, stop_row, best_row", [
    # 0.49 is the best seen but improves on 0.50 by less than 0.05: patience runs out there
    ([1.0, 0.5, 0.52, 0.49, 0.495, 0.3], 0.05, 3, 3),
    # any decrease counts with threshold 0: 0.49 resets the count
    ([1.0, 0.5, 0.52, 0.49, 0.495, 0.6, 0.3], 0.0, 5, 3),
])
def test_the_improvement_threshold_by_hand(values, threshold, stop_row, best_row):
    from logreg.solvers.record import Fit, Recorder

    recorder = Recorder(validation=Held(values), patience=2, threshold=threshold)
    recorder.watch(None, lambda state: (state, 0.0))
    rows = 0
    for i in range(len(values)):
        rows += 1
        if recorder.record(1.0, 0.0, 0.0, state=i):
            break
    assert rows - 1 == stop_row and recorder.stopped_by == "early_stopping"
    fit = recorder.finish(Fit(None, None, [1.0] * rows))
    assert fit.best_iteration == best_row and fit.w == best_row
    assert fit.best_validation_cost == values[best_row]


def test_a_class_too_small_to_be_on_both_sides_is_a_clear_error():
    X, y = np.arange(12.0).reshape(6, 2), np.array([0, 0, 0, 0, 0, 1])
    with pytest.raises(InvalidInputError, match="early_stopping.*validation_fraction"):
        LogisticRegression(early_stopping=True, validation_fraction=0.1).fit(X, y)


def test_the_held_out_part_grows_to_one_example_of_each_class():
    # 10 % of 20 examples is 2, fewer than the 3 classes: one of each is held out instead
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 2)), np.repeat([0, 1, 2], [7, 7, 6])
    model = LogisticRegression(early_stopping=True, validation_fraction=0.1,
                               random_state=0, num_iterations=50).fit(X, y)
    kept_X, kept_y, _ = model.training_data_
    assert len(kept_y) == 17 and sorted(set(kept_y)) == [0, 1, 2]
    assert len(model.history_["validation_cost"]) == model.n_iter_


@pytest.mark.parametrize("settings", [dict(validation_fraction=0.0),
                                      dict(validation_fraction=1.0),
                                      dict(n_iter_no_change=0),
                                      dict(early_stopping="yes")])
def test_bad_settings_are_refused(settings):
    with pytest.raises(InvalidParameterError):
        LogisticRegression(**settings).fit(np.eye(4), [0, 1, 0, 1])


def test_settings_survive_clone_and_model_files(scaled, tmp_path):
    X, y = scaled
    clf = LogisticRegression(solver="lbfgs", early_stopping=True, validation_fraction=0.2,
                             n_iter_no_change=4, random_state=5).fit(X, y)
    assert clone(clf).get_params() == clf.get_params()
    clf.save(tmp_path / "m.safetensors")
    loaded = logreg.load(tmp_path / "m.safetensors")
    assert loaded.get_params() == clf.get_params()
    assert loaded.best_iteration_ == clf.best_iteration_
    assert loaded.best_validation_cost_ == clf.best_validation_cost_
    assert set(loaded.history_) == set(clf.history_)  # validation_cost included
    for key, column in clf.history_.items():  # the whole record, bit for bit (format 4)
        np.testing.assert_array_equal(loaded.history_[key], column)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_a_random_state_generator_is_saved_as_none_with_a_warning(scaled, tmp_path):
    X, y = scaled
    clf = LogisticRegression(early_stopping=True, num_iterations=5,
                             random_state=np.random.RandomState(0)).fit(X, y)
    with pytest.warns(ParameterNotSavedWarning, match="random_state"):
        clf.save(tmp_path / "m.safetensors")
    assert logreg.load(tmp_path / "m.safetensors").random_state is None


def test_without_early_stopping_the_best_attributes_are_none(scaled):
    X, y = scaled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = LogisticRegression(num_iterations=5).fit(X, y)
    assert clf.best_iteration_ is None and clf.best_validation_cost_ is None
    assert "validation_cost" not in clf.history_


def test_sparse_torch_and_dask_hold_out_the_same_examples(scaled):
    import scipy.sparse as sp

    X, y = scaled
    settings = dict(solver="lbfgs", early_stopping=True, random_state=0)
    reference = LogisticRegression(**settings).fit(X, y)
    fits = [LogisticRegression(**settings).fit(sp.csr_matrix(X), y)]
    torch = pytest.importorskip("torch")
    fits.append(LogisticRegression(**settings).fit(torch.from_numpy(X), torch.from_numpy(y)))
    da = pytest.importorskip("dask.array")
    fits.append(LogisticRegression(**settings).fit(da.from_array(X, chunks=(200, 30)),
                                                   da.from_array(y, chunks=200)))
    for clf in fits:
        assert clf.best_iteration_ == reference.best_iteration_
        np.testing.assert_allclose(clf.history_["validation_cost"],
                                   reference.history_["validation_cost"], rtol=1e-10)
        np.testing.assert_allclose(logreg.core.arrays.to_numpy(clf.coef_), reference.coef_,
                                   rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("written", [-5, 10**30, 4.5e300])
def test_a_best_iteration_outside_the_history_is_not_believed(scaled, tmp_path, written):
    X, y = scaled
    clf = LogisticRegression(num_iterations=5).fit(X, y)
    clf.best_iteration_ = written  # as an edited file would say
    clf.save(tmp_path / "m.safetensors")
    assert logreg.load(tmp_path / "m.safetensors").best_iteration_ is None
