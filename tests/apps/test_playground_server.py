"""The playground's server through Starlette's TestClient (every route, the WebSocket), and
the command: a port in use, the missing extra, a real start and a clean stop on Ctrl-C."""

import builtins
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from starlette.testclient import TestClient  # noqa: E402

import logreg  # noqa: E402
from logreg.core import neuron  # noqa: E402
from logreg.apps.playground.server import STATIC, create_app  # noqa: E402
from tests.helpers import default_sigint, run_cli  # noqa: E402

CSV = ("a,b,kind\n" + "\n".join(f"{i % 7 + (i % 2) * 9},{(i * 3) % 5},{'yes' if i % 2 else 'no'}"
                                for i in range(40))).encode()


@pytest.fixture
def client():
    with TestClient(create_app()) as test_client:
        yield test_client


def sessions(client):
    return client.get("/api/health").json()["sessions"]


def test_the_page_and_its_static_files(client):
    page = client.get("/")
    if (STATIC / "index.html").is_file():
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    else:
        assert page.status_code == 500 and "reinstall" in page.text
    for name in ("playground.js", "playground.css"):
        if (STATIC / name).is_file():
            assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/nothing-here.js").status_code == 404


def test_health_counts_live_sessions(client):
    assert sessions(client) == 0
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        assert sessions(client) == 1
    deadline = time.monotonic() + 5
    while sessions(client) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sessions(client) == 0


def test_hello_config_step_state_reset_graph_and_errors(client):
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["session"]
        assert hello["datasets"] == ["blobs", "overlap", "xor", "circles", "moons"]
        assert hello["features"] == ["x1", "x2", "x1sq", "x2sq", "x1x2", "sin1", "sin2"]
        assert hello["limits"] == {"points": [10, 5000], "steps_per_frame": [1, 1000],
                                   "upload_bytes": 2097152}
        ws.send_json({"type": "config", "data": "circles", "points": 200,
                      "features": ["x1", "x2", "x1sq", "x2sq"], "learning_rate": 0.8})
        state = ws.receive_json()
        assert state["type"] == "state" and state["iteration"] == 0
        assert len(state["points"]["train"]) == 160 and len(state["points"]["test"]) == 40
        assert state["train_cost"] == pytest.approx(np.log(2))
        assert len(state["grid"]["values"]) == 64 * 64
        ws.send_json({"type": "step", "steps": 25})
        state = ws.receive_json()
        assert state["iteration"] == 25 and "points" not in state
        assert len(state["costs"]["train"]) == 25
        assert state["costs"]["train"][-1] < state["costs"]["train"][0]
        ws.send_json({"type": "step"})  # steps_per_frame, 10 by default
        assert ws.receive_json()["iteration"] == 35
        ws.send_json({"type": "step", "steps": 1, "since": 30})
        state = ws.receive_json()
        assert state["costs_from"] == 30 and len(state["costs"]["train"]) == 6
        # the state's w, b are the notes' steps: check its cost with logreg.core.neuron
        train = np.array(state["points"]["train"]) if "points" in state else None
        assert train is None
        ws.send_json({"type": "graph", "index": 3, "split": "train"})
        graph = ws.receive_json()
        nodes = {node["name"]: node for node in graph["nodes"]}
        assert graph["type"] == "graph" and graph["index"] == 3
        assert nodes["z"]["grad"] == pytest.approx(nodes["a"]["value"] - graph["y"])
        for bad in ("not json", json.dumps([1]), json.dumps({"type": "fly"}),
                    json.dumps({"type": "step", "steps": 0}),
                    json.dumps({"type": "config", "noise": "loud"}),
                    json.dumps({"type": "graph", "index": 10 ** 6})):
            ws.send_text(bad)
            reply = ws.receive_json()
            assert reply["type"] == "error" and "\n" not in reply["message"]
        ws.send_json({"type": "state"})
        state = ws.receive_json()
        assert state["iteration"] == 36 and "points" in state
        ws.send_json({"type": "reset"})
        state = ws.receive_json()
        assert state["iteration"] == 0 and state["costs"]["train"] == []


def test_state_parameters_are_the_notes_steps(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "config", "data": "overlap", "test_fraction": 0.0})
        points = np.array(ws.receive_json()["points"]["train"])
        ws.send_json({"type": "step", "steps": 20})
        state = ws.receive_json()
    X = points[:, :2]
    X = ((X - X.mean(axis=0)) / X.std(axis=0)).T
    Y = points[:, 2].reshape(1, -1)
    w, b = np.zeros((2, 1)), 0.0
    for _ in range(20):
        w, b, _ = neuron.gradient_step(w, b, X, Y, 0.5)
    assert np.allclose(state["w"], w, rtol=0, atol=1e-12)
    assert state["b"][0] == pytest.approx(b, abs=1e-12)


def test_two_sockets_are_independent(client):
    with client.websocket_connect("/ws") as one, client.websocket_connect("/ws") as two:
        first, second = one.receive_json()["session"], two.receive_json()["session"]
        assert first != second and sessions(client) == 2
        one.send_json({"type": "config", "data": "blobs", "classes": 3})
        assert one.receive_json()["K"] == 3
        one.send_json({"type": "step", "steps": 30})
        assert one.receive_json()["iteration"] == 30
        two.send_json({"type": "state"})
        state = two.receive_json()
        assert state["iteration"] == 0 and state["K"] == 2
        assert state["settings"]["data"] == "circles"


def test_diverging_is_reported_and_the_socket_keeps_serving(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "config", "data": "overlap", "learning_rate": 1e6})
        ws.receive_json()
        ws.send_json({"type": "step", "steps": 500})
        state = ws.receive_json()
        assert state["diverged"]["message"].startswith("gradient descent diverged at")
        assert all(np.isfinite(state["w"][j][0]) for j in range(2))
        ws.send_json({"type": "config", "learning_rate": 0.05})
        ws.receive_json()
        ws.send_json({"type": "step", "steps": 5})
        assert ws.receive_json()["diverged"] is False


def test_upload_and_exports(client, tmp_path):
    assert client.post("/api/upload?session=nobody", content=CSV).status_code == 404
    assert client.get("/api/export/model?session=nobody").status_code == 404
    assert client.get("/api/export/snippet?session=nobody").status_code == 404
    with client.websocket_connect("/ws") as ws:
        session = ws.receive_json()["session"]
        reply = client.post(f"/api/upload?session={session}", content=CSV,
                            headers={"Content-Type": "text/csv"})
        assert reply.status_code == 200
        assert reply.json() == {"columns": ["a", "b", "kind"], "rows": 40,
                                "numeric": ["a", "b"]}
        bad = client.post(f"/api/upload?session={session}", content=b"a,b,c\nx,y,z\n" * 20,
                          headers={"Content-Type": "application/octet-stream"})
        assert bad.status_code == 400 and "\n" not in bad.json()["error"]
        big = client.post(f"/api/upload?session={session}", content=b"1" * (2 * 2**20 + 1))
        assert big.status_code == 413 and "2 MiB" in big.json()["error"]
        ws.send_json({"type": "config", "data": "upload",
                      "columns": {"x1": "a", "x2": "b", "label": "kind"}})
        state = ws.receive_json()
        assert state["classes"] == ["no", "yes"]
        ws.send_json({"type": "config", "data": "upload",
                      "columns": {"x1": "a", "x2": "kind", "label": "b"}})
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "step", "steps": 40})
        ws.receive_json()
        model = client.get(f"/api/export/model?session={session}")
        assert model.status_code == 200
        assert model.headers["content-type"] == "application/octet-stream"
        assert 'filename="playground-model.safetensors"' in \
            model.headers["content-disposition"]
        path = tmp_path / "playground-model.safetensors"
        path.write_bytes(model.content)
        loaded = logreg.load(path)
        assert list(loaded.classes_) == ["no", "yes"] and loaded.n_iter_ == 40
        script = client.get(f"/api/export/snippet?session={session}")
        assert script.status_code == 200 and "text/x-python" in script.headers["content-type"]
        assert "LogisticRegression(solver=\"gd\", learning_rate=0.5" in script.text
        compile(script.text, "snippet.py", "exec")


def test_the_cap_on_sessions_is_a_clear_error():
    with TestClient(create_app(max_sessions=1)) as client:
        with client.websocket_connect("/ws") as first:
            first.receive_json()
            with client.websocket_connect("/ws") as second:
                reply = second.receive_json()
                assert reply["type"] == "error" and "close a tab" in reply["message"]
            first.send_json({"type": "step", "steps": 1})
            assert first.receive_json()["iteration"] == 1


# -- the command -------------------------------------------------------------------------------


def test_a_port_in_use_is_one_line_and_exit_2(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, out, err = run_cli(["playground", "--port", port, "--no-browser"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "in use" in err and "--port" in err


def test_a_bad_port_is_a_usage_error(capsys):
    code, _, err = run_cli(["playground", "--port", "70000"], capsys)
    assert code == 2 and "not a port" in err


def test_missing_packages_name_the_extra(capsys, monkeypatch):
    real_import = builtins.__import__

    def without_uvicorn(name, *args, **kwargs):
        if name == "uvicorn" or name.startswith("uvicorn."):
            raise ImportError("No module named 'uvicorn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_uvicorn)
    code, _, err = run_cli(["playground", "--no-browser"], capsys)
    assert code == 2
    assert err == ("logreg playground: error: the playground needs: "
                   "pip install 'logreg[playground]'\n")


def test_the_command_starts_serves_and_stops_on_ctrl_c():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "logreg", "playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=default_sigint)
    try:
        line = process.stdout.readline()
        assert line.startswith("logreg playground: http://127.0.0.1:")
        assert line.rstrip().endswith("(Ctrl-C stops it)")
        url = line.split()[2]
        with urllib.request.urlopen(url + "api/health", timeout=10) as reply:
            assert json.loads(reply.read()) == {"sessions": 0}
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.strip() == "stopped" and err == ""


def test_another_host_warns_in_one_line():
    process = subprocess.Popen(
        [sys.executable, "-m", "logreg", "playground", "--host", "0.0.0.0", "--port", "0",
         "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"), preexec_fn=default_sigint)
    try:
        warning = process.stderr.readline()
        assert "anyone who can reach this address can use" in warning
        assert process.stdout.readline().startswith("logreg playground: http://0.0.0.0:")
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
