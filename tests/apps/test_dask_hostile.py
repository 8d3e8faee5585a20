"""Hostile options of `logreg train --engine dask`: sizes the machine cannot hold, scheduler
addresses that lead nowhere, a port 8787 already taken. Each is one line on stderr and exit
status 2, refused before a cluster starts or a wait begins; never a traceback, a hang, or
"Exception ignored" at exit.

Truth comes from outside the engine: this process's CPU affinity and psutil's memory total
for the limits, a port this test has just closed for an address where nothing listens, and a
real child process for what reaches stderr at exit. Only loopback addresses are ever tried.
"""

import os
import socket
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")
pytest.importorskip("zarr")

import psutil  # noqa: E402

from helpers import run_cli  # noqa: E402
from logreg.apps import outofcore as dask_engine  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return dask_engine.synth(tmp_path_factory.mktemp("dask") / "d.zarr", 100, 2, chunk_rows=25)


@pytest.fixture
def no_cluster(monkeypatch):
    """A cluster that starts fails the test: every refusal comes before one."""
    import distributed

    def refuse(*args, **kwargs):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(distributed, "LocalCluster", refuse)
    monkeypatch.setattr(distributed, "Client", refuse)


def one_line(result, *fragments):
    code, out, err = result
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1, (code, err)
    assert "Traceback" not in out + err and ": error: " in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def closed_port():
    """A loopback port nothing listens on: bound by this test, then closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CPUS = len(os.sched_getaffinity(0))
TOTAL = psutil.virtual_memory().total


@pytest.mark.parametrize("options, fragments", [
    (["--workers", 1000], ["1000 workers", f"may use {CPUS} CPUs", f"at most {4 * CPUS}"]),
    (["--workers", "99999999999999999999"], ["99999999999999999999 workers"]),
    (["--workers", 4 * CPUS + 1], [f"{4 * CPUS + 1} workers", f"at most {4 * CPUS}"]),
    (["--worker-memory", "1KiB"], ["worker memory '1KiB'", "128.00 MiB"]),
    (["--worker-memory", "127MiB"], ["worker memory '127MiB'", "128.00 MiB"]),
    (["--worker-memory", "1e400"], ["worker memory '1e400'"]),
    (["--worker-memory", "nan"], ["worker memory 'nan'"]),
    (["--worker-memory", "1PiB"], ["worker memory '1PiB'", "machine's memory"]),
    (["--worker-memory", str(TOTAL + 1)], ["machine's memory"]),
    # two workers of 60 % of the memory each: 120 % of the machine
    (["--workers", 2, "--worker-memory", str(int(0.6 * TOTAL))], ["2 workers ×",
                                                                  "more than this machine"]),
    (["--image-size", 8, 8], ["--image-size", "Zarr store"]),
    (["--label-column", "y"], ["--label-column 'y'", "no CSV"]),
], ids=["1000", "20-digits", "4-per-cpu-plus-1", "1KiB", "127MiB", "1e400", "nan", "1PiB",
        "total+1", "sum-over-total", "image-size", "label-column"])
def test_local_cluster_the_machine_cannot_hold_is_refused_before_it_starts(
        options, fragments, store, tmp_path, capsys, no_cluster):
    one_line(run_cli(["train", "--engine", "dask", "--data", store, *options, "--out",
                      tmp_path / "o"], capsys), *fragments)
    assert list(tmp_path.iterdir()) == []  # no --out folder left behind


def test_limits_themselves_are_accepted():
    assert dask_engine.check_local_cluster(4 * CPUS, "128MiB") == (4 * CPUS, 128 * 2**20)
    assert dask_engine.check_local_cluster(1, TOTAL) == (1, TOTAL)


@pytest.mark.parametrize("address, fragments", [
    ("nonsense", ["'nonsense'", "missing port"]),
    ("", ["''", "missing port"]),
    ("inproc://x", ["'inproc://x'"]),
    ("nonsense://127.0.0.1:1", ["tcp://HOST:PORT"]),
    ("tcp://127.0.0.1:99999", ["PORT from 1 to 65535"]),
    ("tcp://127.0.0.1:{closed}", ["Connection refused"]),
])
def test_scheduler_that_cannot_be_reached_is_one_line_at_once(address, fragments, store,
                                                              tmp_path, capsys, monkeypatch):
    import distributed

    monkeypatch.setattr(distributed, "LocalCluster", None)  # never a local cluster instead
    monkeypatch.setattr(dask_engine.clusters, "CONNECT_TIMEOUT", "5s")
    address = address.format(closed=closed_port())
    line = one_line(run_cli(["train", "--engine", "dask", "--data", store, "--scheduler",
                             address, "--out", tmp_path / "o"], capsys),
                    "cannot reach the Dask scheduler", *fragments)
    assert "tcp://127.0.0.1:8786" in line  # what would work
    assert list(tmp_path.iterdir()) == []


CHILD = textwrap.dedent("""
    import gc, socket, sys, threading
    from logreg.apps import outofcore as dask_engine
    from logreg.apps.cli import main

    dask_engine.CONNECT_TIMEOUT = "5s"
    if sys.argv[1] == "closed":
        probe = socket.socket(); probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]; probe.close()
    else:  # a server that answers, but is no Dask scheduler
        server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
        port = server.getsockname()[1]

        def answer():
            while True:
                peer, _ = server.accept()
                peer.sendall(b"HTTP/1.0 400 Bad Request\\r\\n\\r\\n"); peer.close()

        threading.Thread(target=answer, daemon=True).start()
    code = main(["train", "--engine", "dask", "--data", sys.argv[2], "--scheduler",
                 f"tcp://127.0.0.1:{port}", "--out", sys.argv[3]])
    gc.collect()  # a half-built Client's __del__ runs here, not after the test
    sys.exit(code)
""")


@pytest.mark.parametrize("server", ["closed", "not-a-scheduler"])
def test_failed_connection_prints_nothing_more_at_exit(server, store, tmp_path):
    """The red team's run printed the error, waited 20 s, then 9 lines of "Exception ignored
    in Client.__del__"; a real process shows what reaches stderr up to its exit."""
    done = subprocess.run([sys.executable, "-c", CHILD, server, str(store),
                           str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0], done.stderr
    assert not (tmp_path / "o").exists()


def test_port_8787_in_use_gives_no_warning(store, tmp_path, capsys):
    """Another program on the dashboard's usual port: the run says nothing about it."""
    taken = socket.socket()
    try:
        try:
            taken.bind(("", 8787))
            taken.listen()
        except OSError:  # already taken by someone else: the same situation
            pass
        code, out, err = run_cli(["train", "--engine", "dask", "--workers", 1, "--data", store,
                                  "--iterations", 2, "--quiet", "--out", tmp_path / "o"],
                                 capsys)
    finally:
        taken.close()
    assert code == 0, err
    assert err == ""
    assert (tmp_path / "o" / "model.safetensors").exists()
