"""Out-of-core training on Dask, the stores and the commands: `logreg data synth` (two and K
classes), `logreg train --engine dask` end to end with real worker processes, its bad inputs and
schedulers, and data four times the workers' memory; ``test_dask.py`` has the engine itself.

Truth comes from outside the engine: the store read back with zarr, the true softmax model's
probabilities, the same gradient descent in memory on NumPy
(LogisticRegression(implementation="vectorized")), scikit-learn's ``accuracy_score``, and the
workers' own high-water marks of resident memory.
"""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
pytest.importorskip("distributed")
zarr = pytest.importorskip("zarr")

from scipy.special import softmax  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402

import logreg  # noqa: E402
from logreg import LogisticRegression  # noqa: E402
from logreg.apps import outofcore as dask_engine  # noqa: E402
from logreg.data.scaling import Scaling  # noqa: E402
from logreg.errors import InvalidInputError  # noqa: E402

from helpers import run_cli  # noqa: E402

K = 3


# --- logreg data synth ------------------------------------------------------------------


def test_synth_writes_a_readable_store(tmp_path, capsys):
    out = tmp_path / "big.zarr"
    code, stdout, err = run_cli(["data", "synth", "--rows", 1000, "--features", 3,
                                 "--chunk-rows", 300, "--seed", 3, "--out", out], capsys)
    assert code == 0, err
    assert "written to" in stdout
    group = zarr.open_group(out, mode="r")
    X, y = group["X"], group["y"]
    assert X.shape == (1000, 3) and X.chunks == (300, 3) and X.dtype == np.float64
    assert y.shape == (1000,) and y.chunks == (300,)
    labels = y[:]
    assert set(np.unique(labels).tolist()) == {0, 1}
    assert np.isfinite(X[:]).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.zarr"]  # no temporary left
    # the same seed writes the same data; the truth is recorded
    again = tmp_path / "again.zarr"
    dask_engine.synth(again, 1000, 3, chunk_rows=300, seed=3)
    np.testing.assert_array_equal(zarr.open_group(again, mode="r")["X"][:], X[:])
    assert len(group.attrs["logreg"]["w"]) == 3


def test_synth_is_atomic_and_never_replaces_other_things(tmp_path, monkeypatch):
    out = tmp_path / "big.zarr"
    dask_engine.synth(out, 100, 2, chunk_rows=50, seed=0)
    before = zarr.open_group(out, mode="r")["X"][:]

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(dask_engine.store, "_synth_chunk", fail)
    with pytest.raises(OSError, match="disk full"):
        dask_engine.synth(out, 100, 2, chunk_rows=50, seed=1)
    np.testing.assert_array_equal(zarr.open_group(out, mode="r")["X"][:], before)
    with pytest.raises(OSError):
        dask_engine.synth(tmp_path / "new.zarr", 100, 2, chunk_rows=50)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.zarr"]
    monkeypatch.undo()
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(logreg.LogregError, match="not a Zarr store"):
        dask_engine.synth(tmp_path / "notes.txt", 10, 2)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    dask_engine.synth(out, 100, 2, chunk_rows=50, seed=1)  # a store is replaced
    assert not np.array_equal(zarr.open_group(out, mode="r")["X"][:], before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.zarr", "notes.txt"]


def test_synth_draws_labels_from_the_true_softmax_model(tmp_path):
    store = dask_engine.synth(tmp_path / "k.zarr", 20000, 3, chunk_rows=5000, seed=4,
                              classes=4)
    group = zarr.open_group(store, mode="r")
    X, y, attrs = group["X"][:], group["y"][:], group.attrs["logreg"]
    assert y.dtype == np.uint8 and set(np.unique(y).tolist()) == {0, 1, 2, 3}
    W, b = np.array(attrs["w"]), np.array(attrs["b"])
    assert W.shape == (3, 4) and b.shape == (4,) and attrs["classes"] == 4
    s = (X - np.array(attrs["offset"])) / np.array(attrs["spread"])  # the standardised rows
    A = softmax(s @ W + b, axis=1)  # the true probabilities of each example's class
    # each class's share equals the mean of its true probability (m = 20000: σ ≈ 0.0035)
    np.testing.assert_allclose(np.bincount(y, minlength=4) / len(y), A.mean(axis=0), atol=0.015)
    # labels follow the probabilities: the true model's log-likelihood beats a shuffle's
    assert np.mean(np.log(A[np.arange(len(y)), y])) > np.mean(np.log(A[:, ::-1][
        np.arange(len(y)), y])) + 0.1
    again = dask_engine.synth(tmp_path / "again.zarr", 20000, 3, chunk_rows=5000, seed=4,
                              classes=4)
    np.testing.assert_array_equal(zarr.open_group(again, mode="r")["y"][:], y)
    binary = dask_engine.synth(tmp_path / "b.zarr", 200, 3, chunk_rows=100, seed=4)
    assert "classes" not in zarr.open_group(binary, mode="r").attrs["logreg"]


@pytest.mark.parametrize("classes", [1, 0, 257, 2.5, True, "3"])
def test_synth_refuses_a_number_of_classes_it_cannot_write(tmp_path, classes):
    with pytest.raises(InvalidInputError, match="classes="):
        dask_engine.synth(tmp_path / "k.zarr", 10, 2, classes=classes)
    assert not (tmp_path / "k.zarr").exists()


# --- logreg train --engine dask, end to end (real worker processes) ----------------------


@pytest.mark.parametrize("classes, chunk_rows, iterations, test_size, held_out, cluster",
                         [(2, 1000, 101, 0.4, 1000, ["--workers", 2, "--worker-memory",
                                                     "512MiB"]),
                          (K, 500, 60, 0.25, 500, ["--workers", 1])],
                         ids=["two-classes", "three-classes"])
def test_train_engine_dask_end_to_end(tmp_path, capsys, classes, chunk_rows, iterations,
                                      test_size, held_out, cluster):
    store = tmp_path / "d.zarr"
    dask_engine.synth(store, 2000, 4, chunk_rows=chunk_rows, seed=5, classes=classes)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["train", "--data", store, "--engine", "dask", "--iterations",
                                 iterations, "--learning-rate", 0.5, "--test-size", test_size,
                                 *cluster, "--out", out], capsys)
    assert code == 0, err
    last = (iterations - 1) // 100 * 100  # the last progress line: every 100 iterations
    assert f"Cost after iteration 0: {np.log(classes):.6f}" in stdout  # log 2: 0.693147
    assert f"Cost after iteration {last}: " in stdout
    assert "train accuracy: " in stdout and "test accuracy: " in stdout
    # the held-out part: whole chunks, the share nearest --test-size (here the last ones)
    trained = 2000 - held_out
    assert ("Training on" in stdout
            and f"{trained} examples of 4 features, testing on {held_out}" in stdout)
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the model: the same as NumPy's gradient descent on the training chunks, standardised
    rows = zarr.open_group(store, mode="r")["X"][:]
    y = zarr.open_group(store, mode="r")["y"][:]
    train_rows, test_rows = rows[:trained], rows[trained:]
    scaling = logreg.data.standardize(train_rows.T)
    numpy = LogisticRegression(learning_rate=0.5, num_iterations=iterations,
                               implementation="vectorized").fit(scaling.apply(train_rows.T).T,
                                                                y[:trained])
    model = logreg.load(out / "model.safetensors")
    assert model.coef_.shape == (1 if classes == 2 else classes, 4)
    assert model.classes_.tolist() == list(range(classes))
    np.testing.assert_allclose(model.coef_, numpy.coef_, rtol=0, atol=1e-10)
    stored = Scaling.from_dict(model.metadata_["preprocessing"]["scaling"], 4)
    np.testing.assert_allclose(stored.mean, scaling.mean, rtol=1e-12)
    assert model.metadata_["engine"]["name"] == "dask"
    # the progress lines and the final line print the record the model file keeps
    history = model.history_
    assert f"Cost after iteration {last}: {history['cost'][last]:.6f}" in stdout
    assert (f"stopped after {model.n_iter_} iterations: cost {history['cost'][-1]:.6g}, ‖∇J‖ "
            f"{history['gradient_norm'][-1]:.3g} (the limit)") in stdout
    predictions = model.predict(stored.apply(test_rows.T).T)
    assert set(np.unique(predictions).tolist()) <= set(range(classes))
    test_accuracy = float(stdout.split("test accuracy: ")[1].split(" %")[0])
    assert test_accuracy == pytest.approx(100 * np.mean(predictions == y[trained:]), abs=1e-9)
    assert test_accuracy == pytest.approx(100 * accuracy_score(y[trained:], predictions),
                                          abs=1e-9)


def test_ctrl_c_saves_the_last_good_parameters(tmp_path, capsys, monkeypatch):
    store = tmp_path / "d.zarr"
    dask_engine.synth(store, 400, 2, chunk_rows=200)
    from logreg.engines import dask_gradient

    step = dask_gradient.loss_and_gradient
    calls = []

    def interrupted_at_the_fourth_step(*args):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return step(*args)

    monkeypatch.setattr(dask_gradient, "loss_and_gradient", interrupted_at_the_fourth_step)
    threads = dask_engine.cluster
    monkeypatch.setattr(dask_engine, "cluster",
                        lambda *args, **kwargs: threads(*args, processes=False, **kwargs))
    code, _, err = run_cli(["train", "--engine", "dask", "--data", store, "--iterations", 10,
                            "--save-on-interrupt", "--out", tmp_path / "o"], capsys)
    assert code == 130 and "interrupted after 3 iterations" in err
    assert logreg.load(tmp_path / "o" / "model.safetensors").n_iter_ == 3


# --- bad inputs: one line on stderr, exit status 2 ---------------------------------------


def one_line_error(code, err):
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_store_without_y_or_not_a_store(tmp_path, capsys):
    only_X = tmp_path / "onlyX.zarr"
    zarr.open_group(only_X, mode="w").create_array("X", shape=(10, 2), dtype="f8")
    only_y = tmp_path / "onlyY.zarr"
    zarr.open_group(only_y, mode="w").create_array("y", shape=(10,), dtype="u1")
    empty = tmp_path / "empty.zarr"
    empty.mkdir()
    table = tmp_path / "t.csv"
    table.write_text("a,label\n1,0\n2,1\n")
    for data, message in ((only_X, "has no y"), (only_y, "has no X"),
                          (empty, "not a readable Zarr store"),
                          (table, "not a readable Zarr store"),
                          (tmp_path / "missing.zarr", "does not exist"),
                          ("digits", "does not exist")):
        code, _, err = run_cli(["train", "--engine", "dask", "--data", data, "--out",
                                tmp_path / "o"], capsys)
        assert message in one_line_error(code, err), err


def test_zarr_without_engine_and_engine_options_without_dask(tmp_path, capsys):
    store = tmp_path / "d.zarr"
    dask_engine.synth(store, 100, 2)
    code, _, err = run_cli(["train", "--data", store, "--out", tmp_path / "o"], capsys)
    assert "--engine dask" in one_line_error(code, err)
    code, _, err = run_cli(["train", "--scheduler", "tcp://127.0.0.1:8786", "--out",
                            tmp_path / "o"], capsys)
    assert "--engine dask" in one_line_error(code, err)
    for extra, message in ((["--learning-rate", "auto"], "learning_rate='auto'"),
                           (["--worker-memory", "lots"], "worker memory 'lots'"),
                           (["--backprop", "graph"], "NumPy arrays only"),
                           (["--implementation", "semi"], "on Dask arrays"),
                           (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
                            "one or the other")):
        code, _, err = run_cli(["train", "--engine", "dask", "--data", store, "--out",
                                tmp_path / "o", *extra], capsys)
        assert message in one_line_error(code, err), err


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "nonsense://x:1"])
def test_bad_scheduler_address(tmp_path, capsys, monkeypatch, address):
    monkeypatch.setattr(dask_engine.clusters, "CONNECT_TIMEOUT", "1s")
    store = tmp_path / "d.zarr"
    dask_engine.synth(store, 100, 2)
    scheduler_before = dask.config.get("scheduler", None)
    code, _, err = run_cli(["train", "--engine", "dask", "--data", store, "--scheduler",
                            address, "--out", tmp_path / "o"], capsys)
    assert "cannot reach the Dask scheduler" in one_line_error(code, err)
    assert dask.config.get("scheduler", None) == scheduler_before  # the failed client is gone
    assert not (tmp_path / "o" / "model.safetensors").exists()


def test_existing_scheduler_is_used(tmp_path, capsys):
    from distributed import LocalCluster

    store = tmp_path / "d.zarr"
    dask_engine.synth(store, 400, 2, chunk_rows=100)
    with LocalCluster(n_workers=1, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address=None) as running:
        code, stdout, err = run_cli(["train", "--engine", "dask", "--data", store,
                                     "--scheduler", running.scheduler_address,
                                     "--iterations", 3, "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    assert f"at {running.scheduler_address}" in stdout
    assert (tmp_path / "o" / "model.safetensors").exists()


# --- out of core: data 4× the workers' memory --------------------------------------------

WORKERS, WORKER_MEMORY = 2, 192 * 2**20
FEATURES, CHUNK_ROWS = 64, 16384  # chunks of 8 MiB


@pytest.mark.slow
def test_trains_on_data_four_times_the_workers_memory(tmp_path):
    """2 worker processes × 192 MiB, 1.5 GiB of X: a gradient step streams it without a worker
    being killed or restarted, and no worker's resident memory ever reaches dask's pause
    threshold (80 % of its limit)."""
    rows = 4 * WORKERS * WORKER_MEMORY // (8 * FEATURES)
    store = dask_engine.synth(tmp_path / "big.zarr", rows, FEATURES, chunk_rows=CHUNK_ROWS)
    X_rows, y = dask_engine.open_store(store)
    assert X_rows.nbytes >= 4 * WORKERS * WORKER_MEMORY
    with dask_engine.cluster(workers=WORKERS, worker_memory=WORKER_MEMORY,
                             threads_per_worker=1) as client:
        workers = set(dask_engine.workers_of(client))
        at_start = dask_engine.workers_peak_memory(client)
        clf = dask_engine.fit(X_rows, y, learning_rate=1e-3, num_iterations=1)
        peaks = dask_engine.workers_peak_memory(client)
        assert set(dask_engine.workers_of(client)) == workers  # none restarted
    assert not clf.engine_["persisted"] and clf.engine_["chunks"] == rows // CHUNK_ROWS
    assert clf.costs_ == [pytest.approx(np.log(2))]
    assert np.isfinite(clf.coef_).all() and np.abs(clf.coef_).max() > 0
    print({address: f"{at_start[address] / 2**20:.0f} → {peak / 2**20:.0f} MiB"
           for address, peak in peaks.items()})
    assert len(peaks) == WORKERS
    for peak in peaks.values():
        assert peak < 0.8 * WORKER_MEMORY, {a: p / 2**20 for a, p in peaks.items()}
