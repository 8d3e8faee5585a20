"""Out-of-core training on Dask (logreg.apps.outofcore, `logreg data synth`, `train --engine dask`).

Truth comes from outside the engine: the same gradient descent in memory on NumPy
(LogisticRegression(implementation="vectorized")), reads counted at the Zarr store itself, the
store read back with zarr, and the workers' own high-water marks of resident memory.
"""

from collections import Counter

import numpy as np
import pytest

dask = pytest.importorskip("dask")
pytest.importorskip("distributed")
zarr = pytest.importorskip("zarr")

import dask.array as da  # noqa: E402

import logreg  # noqa: E402
from logreg import LogisticRegression  # noqa: E402
from logreg.apps import outofcore as dask_engine
from logreg.data.scaling import Scaling  # noqa: E402


from helpers import run_cli  # noqa: E402


def problem(m=2000, n=5, seed=0):
    """Rows (m, n) and 0/1 labels from a true logistic model (a finite optimum)."""
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((m, n))
    z = rows @ rng.standard_normal(n) + 0.3
    return rows, (rng.random(m) < 1 / (1 + np.exp(-z))).astype(np.int64)


@pytest.fixture
def threads_cluster():
    """A dask.distributed LocalCluster of 2 worker processes on loopback. (In-process
    workers, threads, were faster, but in full runs the client's gather sometimes waited
    forever on them, every worker idle: issue 12's note.)"""
    with dask_engine.cluster(workers=2, worker_memory="1GiB", processes=True) as client:
        yield client


# --- the mathematics: the same numbers as NumPy in memory -------------------------------


@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_fit_equals_numpy_gradient_descent(threads_cluster, l2):
    rows, y = problem(m=1500)
    settings = dict(learning_rate=0.5, num_iterations=20, l2=l2, implementation="vectorized")
    ours = dask_engine.fit(da.from_array(rows, chunks=(500, 5)), da.from_array(y, chunks=500),
                           persist=False, **settings)
    numpy = LogisticRegression(**settings).fit(rows, y)
    assert isinstance(ours.coef_, np.ndarray) and isinstance(ours.intercept_, np.ndarray)
    np.testing.assert_allclose(ours.coef_, numpy.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, numpy.intercept_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.costs_, numpy.costs_, rtol=0, atol=1e-10)
    assert ours.n_iter_ == 20 and ours.classes_.tolist() == [0, 1]
    assert ours.engine_["chunks"] == 3 and not ours.engine_["persisted"]


def test_one_step_gives_numpy_results(threads_cluster):
    rows, y = problem(m=900, n=3)
    X, Y = da.from_array(rows.T, chunks=(3, 300)), da.from_array(y.reshape(1, -1) * 1.0)
    w, b = np.full((3, 1), 0.1), np.float64(-0.2)
    cost, dw, db = dask_engine.loss_and_gradient(w, b, X, Y)
    assert type(dw) is np.ndarray and dw.shape == (3, 1)
    assert isinstance(cost, np.floating) and isinstance(db, np.floating)
    expected = logreg.core.neuron.loss_and_gradient(w, b, rows.T, y.reshape(1, -1) * 1.0)
    for got, want in zip((cost, dw, db), expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_persisted_and_lbfgs_agree_with_numpy(threads_cluster):
    rows, y = problem(m=800, n=4, seed=2)
    ours = dask_engine.fit(da.from_array(rows, chunks=(400, 4)), y, persist=True,
                           learning_rate=0.5, num_iterations=10)
    numpy = LogisticRegression(learning_rate=0.5, num_iterations=10,
                               implementation="vectorized").fit(rows, y)
    assert ours.engine_["persisted"]
    np.testing.assert_allclose(ours.coef_, numpy.coef_, rtol=0, atol=1e-10)
    lbfgs = dask_engine.fit(da.from_array(rows, chunks=(400, 4)), y, solver="lbfgs",
                            num_iterations=50, persist=False)
    reference = LogisticRegression(solver="lbfgs", num_iterations=50).fit(rows, y)
    np.testing.assert_allclose(lbfgs.coef_, reference.coef_, rtol=0, atol=1e-6)


def test_standardize_matches_numpy_in_one_pass():
    rows, _ = problem(m=1000, n=4)
    rows = rows * [1, 10, 100, 0] + [5, -3, 0, 7]  # the last feature is constant
    scaling = dask_engine.standardize(da.from_array(rows, chunks=(300, 4)))
    want = logreg.data.standardize(rows.T)
    np.testing.assert_allclose(scaling.mean, want.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaling.spread, want.spread, rtol=1e-12)
    assert scaling.spread[3, 0] == 1.0
    with pytest.raises(logreg.LogregError, match="NaN or infinite"):
        dask_engine.standardize(da.from_array(np.array([[1.0], [np.nan]])))


def test_fit_refuses_what_it_cannot_do():
    rows, y = problem(m=100, n=2)
    with pytest.raises(ValueError, match="learning_rate='auto'"):
        dask_engine.fit(rows, y)
    with pytest.raises(ValueError, match="backprop='graph' .* on Dask arrays .* NumPy arrays "
                                         "only.*What would work: backprop='closed-form'"):
        dask_engine.fit(rows, y, learning_rate=0.1, backprop="graph")
    with pytest.raises(ValueError, match="implementation='loop' .* on Dask arrays"):
        dask_engine.fit(rows, y, learning_rate=0.1, implementation="loop")
    with pytest.raises(ValueError, match="one class only"):
        dask_engine.fit(rows, np.zeros(100), learning_rate=0.1)
    with pytest.raises(ValueError, match="one label per row"):
        dask_engine.fit(rows, y[:50], learning_rate=0.1)


# --- one pass over the chunks per step ---------------------------------------------------

READS = Counter()  # store key → times read, filled by CountingStore (in this process)


class CountingStore(zarr.storage.WrapperStore):
    """A Zarr store that counts every read of every key."""

    async def get(self, key, prototype, byte_range=None):
        READS[key] += 1
        return await self._store.get(key, prototype, byte_range)

    async def get_partial_values(self, prototype, key_ranges):
        key_ranges = list(key_ranges)
        for key, _ in key_ranges:
            READS[key] += 1
        return await self._store.get_partial_values(prototype, key_ranges)


def counted_store(path):
    store = CountingStore(zarr.storage.LocalStore(str(path), read_only=True))
    group = zarr.open_group(store, mode="r")
    X_rows = da.from_zarr(group["X"])
    return X_rows, da.from_zarr(group["y"], chunks=(X_rows.chunks[0],))


@pytest.mark.parametrize("scheduler", ["synchronous", "threads", "distributed"])
def test_each_step_reads_each_chunk_of_X_once(tmp_path, scheduler):
    dask_engine.synth(tmp_path / "d.zarr", 1000, 3, chunk_rows=200, seed=1)
    X_rows, y = counted_store(tmp_path / "d.zarr")
    x_keys = [f"X/c/{i}/0" for i in range(5)]

    def train():
        READS.clear()
        scaling = dask_engine.standardize(X_rows)  # μ and σ: one pass too
        assert {key: READS[key] for key in x_keys} == {key: 1 for key in x_keys}
        READS.clear()
        clf = dask_engine.fit(dask_engine.scaled(X_rows, scaling), y, learning_rate=0.1,
                              num_iterations=3, persist=False)
        assert clf.n_iter_ == 3

    if scheduler == "distributed":
        with dask_engine.cluster(workers=1, processes=False):
            train()
    else:
        with dask.config.set(scheduler=scheduler):
            train()
    assert {key: READS[key] for key in x_keys} == {key: 3 for key in x_keys}
    assert not [key for key in READS if key.startswith("X/c/") and key not in x_keys]


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


# --- logreg train --engine dask, end to end (real worker processes) ----------------------


def test_train_engine_dask_end_to_end(tmp_path, capsys):
    store = tmp_path / "d.zarr"
    dask_engine.synth(store, 2000, 4, chunk_rows=1000, seed=5)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["train", "--data", store, "--engine", "dask", "--iterations",
                                 101, "--learning-rate", 0.5, "--test-size", 0.4, "--workers", 2,
                                 "--worker-memory", "512MiB", "--out", out], capsys)
    assert code == 0, err
    assert "Cost after iteration 0: 0.693147" in stdout
    assert "Cost after iteration 100: " in stdout
    assert "train accuracy: " in stdout and "test accuracy: " in stdout
    # the held-out part: whole chunks, the share nearest --test-size (here the last 1000)
    assert "Training on" in stdout and "1000 examples of 4 features, testing on 1000" in stdout
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the model: the same as NumPy's gradient descent on the first 3 chunks, standardised
    rows = zarr.open_group(store, mode="r")["X"][:]
    y = zarr.open_group(store, mode="r")["y"][:]
    train_rows, test_rows = rows[:1000], rows[1000:]
    scaling = logreg.data.standardize(train_rows.T)
    numpy = LogisticRegression(learning_rate=0.5, num_iterations=101,
                               implementation="vectorized").fit(scaling.apply(train_rows.T).T,
                                                                y[:1000])
    model = logreg.load(out / "model.safetensors")
    np.testing.assert_allclose(model.coef_, numpy.coef_, rtol=0, atol=1e-10)
    stored = Scaling.from_dict(model.metadata_["preprocessing"]["scaling"], 4)
    np.testing.assert_allclose(stored.mean, scaling.mean, rtol=1e-12)
    assert model.metadata_["engine"]["name"] == "dask"
    # the progress lines and the final line print the record the model file keeps
    history = model.history_
    assert f"Cost after iteration 100: {history['cost'][100]:.6f}" in stdout
    assert (f"stopped after {model.n_iter_} iterations: cost {history['cost'][-1]:.6g}, ‖∇J‖ "
            f"{history['gradient_norm'][-1]:.3g} (the limit)") in stdout
    predictions = model.predict(stored.apply(test_rows.T).T)
    assert set(np.unique(predictions).tolist()) <= {0, 1}
    test_accuracy = float(stdout.split("test accuracy: ")[1].split(" %")[0])
    assert test_accuracy == pytest.approx(100 * np.mean(predictions == y[1000:]), abs=1e-9)


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
