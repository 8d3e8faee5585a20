"""The playground in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright, against the playground's server started on a free port in a thread.

What the page shows is checked against independent truth: the notes' neuron
(``logreg.core.neuron``) and the computation graph (``logreg.graph.Value``) computed here from the
points, the weights and the settings the page itself holds, and a model file loaded with
``logreg.load``. Skipped, with the reason, where Chromium or Playwright is missing.
"""

import csv
import io
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package "
                "(make test installs it) to run the browser tests", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is missing: pip install logreg[dev,playground]")
uvicorn = pytest.importorskip(
    "uvicorn", reason="uvicorn is missing: pip install logreg[playground]")
server_module = pytest.importorskip(
    "logreg.apps.playground.server", reason="logreg.apps.playground.server is not importable")

from logreg.core import neuron  # noqa: E402
from logreg.graph import Value  # noqa: E402

TIMEOUT_MS = 20_000
FEATURE_FORMULAS = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1sq": lambda x1, x2: x1 * x1,
    "x2sq": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sin1": lambda x1, x2: np.sin(x1),
    "sin2": lambda x1, x2: np.sin(x2),
}


# ---------------------------------------------------------------------------- fixtures


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url():
    port = _free_port()
    config = uvicorn.Config(server_module.create_app(), host="127.0.0.1", port=port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the playground's server did not start within 30 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert not errors, f"JavaScript errors in the page: {errors}"


# ---------------------------------------------------------------------------- helpers


def open_page(page, base_url, query=""):
    """Load the page and wait for its first state with points."""
    page.goto(f"{base_url}/{query}")
    page.wait_for_function("() => window.playground && window.playground.state"
                           " && window.playground.points && !window.playground.dirty")
    return page


def wait_state(page, condition):
    """Wait for a state that meets ``condition`` (JavaScript), drawn in the page."""
    page.wait_for_function(f"() => window.playground.state && ({condition})"
                           " && !window.playground.dirty")


def state(page):
    return page.evaluate("() => window.playground.state")


def points(page):
    return page.evaluate("() => window.playground.points")


def iteration(page):
    return int(page.text_content("#iteration"))


def cost(page):
    return float(page.text_content("#cost"))


def percent(page, element):
    return float(page.text_content(element).replace("%", ""))


def wait_iteration(page, at_least):
    page.wait_for_function(
        f"() => window.playground.state && window.playground.state.iteration >= {at_least}"
        f" && Number(document.getElementById('iteration').textContent) >= {at_least}")


def press_step(page, expected):
    page.click("#step")
    wait_iteration(page, expected)
    page.wait_for_function(f"() => document.getElementById('iteration').textContent"
                           f" === '{expected}'")


def health(base_url):
    with urllib.request.urlopen(f"{base_url}/api/health", timeout=10) as reply:
        return json.load(reply)["sessions"]


def raw_features(pts, names):
    """The features (m, n) computed here from the points' original coordinates."""
    rows = np.asarray(pts, dtype=float).reshape(-1, 3)
    return np.column_stack([FEATURE_FORMULAS[n](rows[:, 0], rows[:, 1]) for n in names])


def features_of(pts, names, train_pts):
    """The session's standardised feature matrix (m, n), computed here: the features,
    standardised with the training part's mean and spread."""
    def raw(rows):
        return raw_features(rows, names)

    train = raw(train_pts)
    mean, spread = train.mean(axis=0), train.std(axis=0)
    spread[spread == 0] = 1.0
    return (raw(pts) - mean) / spread


def labels_of(pts):
    return np.asarray(pts, dtype=float).reshape(-1, 3)[:, 2].astype(int)


def parameters(st):
    """w (n_x, K') and b (K', 1) from a state message."""
    return np.asarray(st["w"], dtype=float), np.asarray(st["b"], dtype=float).reshape(-1, 1)


def click_point(page, st, split, index):
    """Click on a point of the plot, where the page draws it (the grid's extent, each grid
    value the centre of its pixel)."""
    x, y = points(page)[split][index][:2]
    grid = st["grid"]
    n = grid["size"]
    hx = (grid["x1"][1] - grid["x1"][0]) / (n - 1)
    hy = (grid["x2"][1] - grid["x2"][0]) / (n - 1)
    x0, x1 = grid["x1"][0] - hx / 2, grid["x1"][1] + hx / 2
    y0, y1 = grid["x2"][0] - hy / 2, grid["x2"][1] + hy / 2
    box = page.eval_on_selector("#plot", "c => [c.width, c.height, c.clientWidth,"
                                " c.clientHeight]")
    px = (x - x0) / (x1 - x0) * box[0] * box[2] / box[0]
    py = (box[1] - (y - y0) / (y1 - y0) * box[1]) * box[3] / box[1]
    page.click("#plot", position={"x": px, "y": py})


def isolated_point(page, st, split):
    """A point with no other within 15 pixels, so that a click picks it for sure."""
    pts = points(page)
    every = np.asarray(pts["train"] + pts["test"], dtype=float)[:, :2]
    grid = st["grid"]
    scale = np.array([480 / (grid["x1"][1] - grid["x1"][0]),
                      480 / (grid["x2"][1] - grid["x2"][0])])
    offset = 0 if split == "train" else len(pts["train"])
    for index in range(len(pts[split])):
        d = np.sqrt((((every - every[offset + index]) * scale) ** 2).sum(axis=1))
        d[offset + index] = np.inf
        if d.min() > 15:
            return index
    pytest.fail("no isolated point to click")


# ---------------------------------------------------------------------------- the tests


def test_page_loads_with_the_notes_starting_cost(page, base_url):
    open_page(page, base_url, "?data=overlap&points=300&test_fraction=0.2&seed=3")
    assert page.title().startswith("logreg playground")
    assert iteration(page) == 0
    # w = 0, b = 0: a = 1/2 for every example, J = ln 2 (the notes' start)
    assert cost(page) == pytest.approx(math.log(2), abs=1e-5)
    pts = points(page)
    assert len(pts["train"]) + len(pts["test"]) == 300
    assert len(pts["test"]) == pytest.approx(60, abs=1)
    st = state(page)
    assert st["settings"]["seed"] == 3
    assert len(st["grid"]["values"]) == 64 * 64
    # the heat map and the equations are drawn; the controls show the address's settings
    assert page.input_value("#data") == "overlap"
    assert page.input_value("#points") == "300"
    assert "Z = wᵀX + b" in page.text_content("#equations")
    assert "dZ = A − Y" in page.text_content("#equations")
    painted = page.evaluate("""() => {
        const c = document.getElementById('plot');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let coloured = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 2]) coloured++;
        return coloured / (d.length / 4);
    }""")
    assert painted > 0.01  # the points at least


def test_autoplay_makes_the_cost_fall_in_the_page(page, base_url):
    open_page(page, base_url, "?data=blobs&steps_per_frame=5&learning_rate=0.5&autoplay=1")
    page.wait_for_function("() => window.playground.playing")
    first_iteration, first_cost = iteration(page), cost(page)
    wait_iteration(page, first_iteration + 60)
    assert iteration(page) > first_iteration
    assert cost(page) < first_cost
    assert "autoplay=1" in page.url
    page.click("#play")  # pause
    page.wait_for_function("() => !window.playground.playing && !window.playground.stepInFlight"
                           " && document.getElementById('iteration').textContent"
                           " === String(window.playground.state.iteration)")
    stopped = iteration(page)
    page.wait_for_timeout(400)
    assert iteration(page) == stopped
    assert "autoplay" not in page.url


def test_step_runs_steps_per_frame_of_the_notes_gradient_descent(page, base_url):
    open_page(page, base_url, "?data=moons&points=200&noise=0.2&steps_per_frame=7"
              "&learning_rate=0.3&features=x1,x2,x1x2")
    press_step(page, 7)
    press_step(page, 14)
    st = state(page)
    assert st["iteration"] == 14
    # the same 14 steps of the notes' gradient descent, computed here
    pts = points(page)
    X = features_of(pts["train"], ["x1", "x2", "x1x2"], pts["train"]).T
    Y = labels_of(pts["train"]).reshape(1, -1).astype(float)
    w, b = np.zeros((3, 1)), 0.0
    costs = []
    for _ in range(14):
        w, b, (J, _, _) = neuron.gradient_step(w, b, X, Y, 0.3)
        costs.append(float(J))
    page_w, page_b = parameters(st)
    np.testing.assert_allclose(page_w, w, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(page_b, [[b]], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(st["costs"]["train"], costs, rtol=1e-7)
    assert len(st["costs"]["test"]) == 14
    # the page's cost is the cost at the current parameters
    J_now = float(neuron.loss_and_gradient(w, b, X, Y)[0])
    assert cost(page) == pytest.approx(J_now, rel=1e-5)


def test_switching_data_sets_redraws_and_resets(page, base_url):
    open_page(page, base_url, "?data=circles&steps_per_frame=5")
    press_step(page, 5)
    before_points = points(page)
    before_picture = page.eval_on_selector("#plot", "c => c.toDataURL()")
    page.select_option("#data", "xor")
    wait_state(page, "window.playground.state.settings.data === 'xor'")
    assert iteration(page) == 0
    assert cost(page) == pytest.approx(math.log(2), abs=1e-5)
    assert points(page) != before_points
    page.wait_for_function(f"() => document.getElementById('plot').toDataURL() !== "
                           f"{json.dumps(before_picture)}")
    assert "data=xor" in page.url
    # the noise field: a new data set too, and the address follows
    page.fill("#noise", "0.3")
    page.press("#noise", "Enter")
    wait_state(page, "window.playground.state.settings.noise === 0.3")
    assert "noise=0.3" in page.url


def test_circles_need_the_squares(page, base_url):
    query = "?data=circles&noise=0.05&points=400&learning_rate=1&steps_per_frame=300"
    open_page(page, base_url, query + "&features=x1,x2")
    press_step(page, 300)
    assert percent(page, "#acc-train") < 75
    open_page(page, base_url, query + "&features=x1,x2,x1sq,x2sq")
    assert page.is_checked("input[value=x1sq]") and page.is_checked("input[value=x2sq]")
    press_step(page, 300)
    assert percent(page, "#acc-train") > 95
    assert percent(page, "#acc-test") > 90
    # the page's accuracy is the neuron's on the training points, computed here
    st, pts = state(page), points(page)
    names = ["x1", "x2", "x1sq", "x2sq"]
    X = features_of(pts["train"], names, pts["train"]).T
    w, b = parameters(st)
    predicted = neuron.predict(w, b[0, 0], X)
    truth = neuron.accuracy(predicted, labels_of(pts["train"]).reshape(1, -1))
    assert percent(page, "#acc-train") == pytest.approx(truth, abs=0.01)


def _csv_bytes(rows, header):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def test_upload_a_good_csv_then_train_on_it(page, base_url):
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=120, centers=[[-2, 0], [2, 1]], cluster_std=0.6, random_state=4)
    names = np.array(["cat", "dog"])[y]
    rows = [[f"{a:.6f}", f"{i}", f"{b:.6f}", label]
            for i, ((a, b), label) in enumerate(zip(X, names))]
    data = _csv_bytes(rows, ["width", "row", "height", "animal"])
    open_page(page, base_url, "?data=moons")
    page.set_input_files("#csv-file", files=[{"name": "animals.csv", "mimeType": "text/csv",
                                              "buffer": data}])
    page.wait_for_selector("#csv-columns", state="visible")
    # a label column with a class per row: refused with a message, the page goes on
    page.select_option("#col-x1", "width")
    page.select_option("#col-x2", "height")
    page.select_option("#col-label", "row")
    page.click("#csv-use")
    page.wait_for_function("() => !document.getElementById('message').hidden"
                           " && /label|class/i.test(document.getElementById('message')"
                           ".textContent)")
    wait_state(page, "window.playground.state.settings.data === 'moons'")
    assert page.input_value("#data") == "moons"
    page.select_option("#col-label", "animal")
    page.click("#csv-use")
    wait_state(page, "window.playground.state.settings.data === 'upload'")
    st, pts = state(page), points(page)
    assert st["classes"] == ["cat", "dog"]
    assert len(pts["train"]) + len(pts["test"]) == 120
    # the points are the file's width and height columns
    got = np.array([p[:2] for p in pts["train"] + pts["test"]])
    np.testing.assert_allclose(got[np.lexsort(got.T)], X[np.lexsort(X.T)], atol=1e-6)
    assert page.input_value("#data") == "upload"
    page.fill("#steps_per_frame", "50")
    page.press("#steps_per_frame", "Enter")
    wait_state(page, "window.playground.state.settings.steps_per_frame === 50")
    press_step(page, 50)
    assert cost(page) < math.log(2)
    assert percent(page, "#acc-train") > 95


def test_a_bad_csv_shows_a_message_and_the_page_still_works(page, base_url):
    open_page(page, base_url, "?data=blobs&steps_per_frame=3")
    bad = b"a,b,label\n1,2,x\n3,oops,y\n"
    page.set_input_files("#csv-file", files=[{"name": "bad.csv", "mimeType": "text/csv",
                                              "buffer": bad}])
    page.wait_for_selector("#message", state="visible")
    message = page.text_content("#message")
    assert "CSV" in message and len(message) > 20
    assert "Traceback" not in message
    # binary garbage: a message too
    page.set_input_files("#csv-file", files=[{"name": "x.csv", "mimeType": "text/csv",
                                              "buffer": bytes(range(256)) * 4}])
    page.wait_for_function(f"() => document.getElementById('message').textContent !== "
                           f"{json.dumps(message)}")
    assert "Traceback" not in page.text_content("#message")
    # over the 2 MiB cap: refused before sending, with the limit
    page.set_input_files("#csv-file", files=[{"name": "big.csv", "mimeType": "text/csv",
                                              "buffer": b"a,b,c\n" + b"1,2,0\n" * 400_000}])
    page.wait_for_function("() => /MiB/.test(document.getElementById('message').textContent)")
    press_step(page, 3)
    assert cost(page) < math.log(2)


def test_every_control_has_a_label(page, base_url):
    open_page(page, base_url)
    unnamed = page.evaluate("""() => Array.from(document.querySelectorAll(
        'input, select, button')).filter(el => {
            const name = (el.labels && el.labels.length ? el.labels[0].textContent : '')
                || el.getAttribute('aria-label') || (el.tagName === 'BUTTON'
                ? el.textContent : '');
            return !name.trim();
        }).map(el => el.outerHTML.slice(0, 80))""")
    assert unnamed == []
    assert page.get_by_label("Learning rate α").input_value() == "0.5"
    assert page.get_by_role("button", name="Step").is_visible()


def test_a_clicked_points_graph_matches_logreg_graph(page, base_url):
    open_page(page, base_url, "?data=overlap&points=120&noise=0.4&steps_per_frame=20"
              "&learning_rate=0.5&features=x1,x2,sin1")
    press_step(page, 20)
    st = state(page)
    index = isolated_point(page, st, "train")
    click_point(page, st, "train", index)
    page.wait_for_selector("#graph-table", state="visible")
    table = page.eval_on_selector_all(
        "#graph-table tr[data-node]",
        "rows => rows.map(r => [r.dataset.node, Number(r.dataset.value),"
        " Number(r.dataset.grad)])")
    got = {name: (value, grad) for name, value, grad in table}
    assert page.get_attribute("#graph-table", "data-split") == "train"
    assert int(page.get_attribute("#graph-table", "data-index")) == index
    # the same graph built here with logreg.graph: z = Σ w_j x_j + b, a = σ(z), L
    pts = points(page)
    names = ["x1", "x2", "sin1"]
    x = features_of([pts["train"][index]], names, pts["train"])[0]
    y = float(labels_of([pts["train"][index]])[0])
    w, b = parameters(st)
    xs = [Value(float(v), name=name) for v, name in zip(x, names)]
    ws = [Value(float(v), name=f"w{j + 1}") for j, v in enumerate(w[:, 0])]
    bv = Value(float(b[0, 0]), name="b")
    z = bv
    for xj, wj in zip(xs, ws):
        z = z + wj * xj
    a = z.sigmoid()
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.backward()
    expected = dict(zip(names, xs))
    expected.update({f"w{j + 1}": wj for j, wj in enumerate(ws)})
    expected.update({"b": bv, "z": z, "a": a, "L": L})
    assert set(expected) <= set(got)
    for name, node in expected.items():
        value, grad = got[name]
        assert value == pytest.approx(float(node.data), rel=1e-9, abs=1e-12), name
        assert grad == pytest.approx(float(node.grad), rel=1e-7, abs=1e-12), name
    # and the notes' closed forms: dL/dz = a − y, dL/dw_j = x_j (a − y)
    assert got["z"][1] == pytest.approx(float(a.data) - y, rel=1e-9)
    # the SVG shows the boxes
    assert page.locator("#graph-svg svg rect").count() == len(table)
    # a Step redraws the point's graph at the new parameters
    press_step(page, 40)
    page.wait_for_function("() => /iteration 40\\)/.test("
                           "document.getElementById('graph-caption').textContent)")
    w, b = parameters(state(page))
    z_now = float(page.get_attribute("#graph-table tr[data-node=z]", "data-value"))
    assert z_now == pytest.approx(float(x @ w[:, 0] + b[0, 0]), rel=1e-9, abs=1e-12)


def test_a_softmax_points_graph(page, base_url):
    open_page(page, base_url, "?data=blobs&classes=3&points=150&noise=0.6&steps_per_frame=15"
              "&features=x1,x2")
    press_step(page, 15)
    st = state(page)
    index = isolated_point(page, st, "test")
    click_point(page, st, "test", index)
    page.wait_for_function("() => document.querySelector('#graph-table')"
                           ".getAttribute('data-split') === 'test'")
    got = dict(page.eval_on_selector_all(
        "#graph-table tr[data-node]",
        "rows => rows.map(r => [r.dataset.node, [Number(r.dataset.value),"
        " Number(r.dataset.grad)]])"))
    # the softmax layer computed here: z = Wᵀx + b, a = softmax(z), L = −log a_y
    pts = points(page)
    x = features_of([pts["test"][index]], ["x1", "x2"], pts["train"])[0]
    y = int(labels_of([pts["test"][index]])[0])
    W, b = parameters(st)
    z = W.T @ x + b[:, 0]
    a = neuron.softmax(z.reshape(-1, 1))[:, 0]
    for k in range(3):
        assert got[f"z{k + 1}"][0] == pytest.approx(z[k], rel=1e-9, abs=1e-12)
        assert got[f"a{k + 1}"][0] == pytest.approx(a[k], rel=1e-9, abs=1e-12)
        # dL/dz_k = a_k − y_k, the notes' dZ = A − Y
        assert got[f"z{k + 1}"][1] == pytest.approx(a[k] - (k == y), rel=1e-7, abs=1e-12)
    assert got["L"][0] == pytest.approx(-math.log(a[y]), rel=1e-9)
    assert "softmax" in page.text_content("#equations")


def test_export_the_model_and_load_it_with_logreg(page, base_url, tmp_path):
    import logreg

    pd = pytest.importorskip("pandas")
    open_page(page, base_url, "?data=moons&points=300&steps_per_frame=40&learning_rate=0.8"
              "&features=x1,x2,x2sq")
    press_step(page, 40)
    with page.expect_download() as info:
        page.click("#download-model")
    path = tmp_path / "model.safetensors"
    info.value.save_as(path)
    model = logreg.load(path)
    st, pts = state(page), points(page)
    names = ["x1", "x2", "x2sq"]
    X = features_of(pts["train"], names, pts["train"])
    w, b = parameters(st)
    # the model takes the raw features (the page's standardisation is folded into its w and
    # b); its ŷ is the page's σ(wᵀx + b) on the standardised ones
    assert list(model.feature_names_in_) == names
    raw = pd.DataFrame(raw_features(pts["train"], names), columns=names)
    np.testing.assert_allclose(model.predict_proba(raw)[:, 1],
                               neuron.sigmoid(w.T @ X.T + b)[0], rtol=1e-9, atol=1e-12)
    # and the heat map's ŷ on the grid
    grid = st["grid"]
    n = grid["size"]
    g1 = np.linspace(grid["x1"][0], grid["x1"][1], n)
    g2 = np.linspace(grid["x2"][0], grid["x2"][1], n)
    G1, G2 = np.meshgrid(g1, g2)  # rows from x2 min to x2 max
    grid_points = np.column_stack([G1.ravel(), G2.ravel(), np.zeros(n * n)])
    G = pd.DataFrame(raw_features(grid_points, names), columns=names)
    # (the grid travels rounded to 5 decimals)
    np.testing.assert_allclose(model.predict_proba(G)[:, 1], grid["values"], rtol=0,
                               atol=6e-6)
    assert list(model.classes_) == [0, 1] or list(map(str, model.classes_)) == st["classes"]
    predicted = (model.predict(raw) == model.classes_[1]).astype(int)
    truth = neuron.accuracy(predicted.reshape(1, -1), labels_of(pts["train"])[None])
    assert percent(page, "#acc-train") == pytest.approx(truth, abs=0.01)
    # the snippet: Python that names the library's estimator and the run's settings
    with page.expect_download() as info:
        page.click("#download-snippet")
    snippet = Path(info.value.path()).read_text()
    compile(snippet, "snippet.py", "exec")
    assert "LogisticRegression" in snippet and "num_iterations=40" in snippet.replace(" ", "")
    assert page.is_visible("#snippet")


def test_a_diverging_learning_rate_is_shown_as_such(page, base_url):
    open_page(page, base_url, "?data=overlap&steps_per_frame=100&learning_rate=1e9")
    page.click("#step")
    page.wait_for_selector("#diverged", state="visible")
    text = page.text_content("#diverged")
    assert "iteration" in text and "learning rate" in text
    assert "NaN" not in page.text_content("body")
    assert page.is_visible("#message")
    assert "nan" not in page.text_content("#cost").lower()
    assert not page.evaluate("window.playground.playing")
    # a smaller learning rate clears it and training goes on
    page.fill("#learning_rate", "0.5")
    page.press("#learning_rate", "Enter")
    wait_state(page, "!window.playground.state.diverged")
    page.click("#reset")
    wait_state(page, "window.playground.state.iteration === 0")
    page.fill("#steps_per_frame", "20")
    page.press("#steps_per_frame", "Enter")
    wait_state(page, "window.playground.state.settings.steps_per_frame === 20")
    press_step(page, 20)
    assert page.is_hidden("#diverged")
    assert cost(page) < math.log(2)


def test_two_pages_train_independently(context, base_url):
    first, second = context.new_page(), context.new_page()
    open_page(first, base_url, "?data=blobs&steps_per_frame=30")
    open_page(second, base_url, "?data=moons&steps_per_frame=4")
    assert first.evaluate("window.playground.session") != \
        second.evaluate("window.playground.session")
    press_step(first, 30)
    second.wait_for_timeout(200)
    assert iteration(second) == 0
    press_step(second, 4)
    assert iteration(first) == 30
    assert state(first)["settings"]["data"] == "blobs"
    assert state(second)["settings"]["data"] == "moons"


def test_closing_a_page_frees_its_session(context, base_url):
    before = health(base_url)
    page = context.new_page()
    open_page(page, base_url)
    assert health(base_url) == before + 1
    page.close()
    deadline = time.monotonic() + 10
    while health(base_url) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert health(base_url) == before


def test_a_lost_connection_reconnects_with_the_same_settings(page, base_url):
    open_page(page, base_url, "?data=xor&noise=0.2&steps_per_frame=6")
    old = page.evaluate("window.playground.session")
    press_step(page, 6)
    page.evaluate("window.playground.ws.close()")
    page.wait_for_function("() => /reconnect/i.test(document.getElementById('message')"
                           ".textContent)")
    page.wait_for_function(f"() => window.playground.session !== {json.dumps(old)}"
                           " && window.playground.connected && window.playground.state"
                           " && window.playground.state.iteration === 0"
                           " && window.playground.state.settings.data === 'xor'"
                           " && !window.playground.dirty")
    st = state(page)
    assert st["settings"]["noise"] == 0.2
    assert st["iteration"] == 0
    press_step(page, 6)


def test_settings_live_in_the_address(page, base_url):
    open_page(page, base_url, "?data=blobs&classes=3&points=150&seed=2&l2=0.1"
              "&features=x1,x2,x1x2&learning_rate=0.25&steps_per_frame=9")
    st = state(page)
    assert st["K"] == 3 and len(st["classes"]) == 3
    assert st["settings"]["l2"] == 0.1 and st["settings"]["seed"] == 2
    assert page.input_value("#classes") == "3"
    assert page.is_checked("input[value=x1x2]") and not page.is_checked("input[value=x1sq]")
    page.uncheck("input[value=x1x2]")
    wait_state(page, "window.playground.state.feature_names.length === 2")
    assert "features=x1,x2&" in page.url + "&"
    page.fill("#learning_rate", "0.125")
    page.press("#learning_rate", "Enter")
    wait_state(page, "window.playground.state.settings.learning_rate === 0.125")
    assert "learning_rate=0.125" in page.url
    # three classes: the softmax layer's equations, and a step lowers its cost from ln 3
    assert "softmax" in page.text_content("#equations")
    assert cost(page) == pytest.approx(math.log(3), abs=1e-5)
    press_step(page, 9)
    assert cost(page) < math.log(3)
    # a bad value in the address is named, not used
    open_page(page, base_url, "?data=blobs&noise=abc")
    assert "noise=abc" in page.text_content("#message")



def _start_command(port):
    """``logreg playground --port N --no-browser`` in a subprocess; returns (process, URL)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "logreg", "playground", "--port", str(port), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    line = process.stdout.readline()
    if "http://" not in line:
        process.kill()
        pytest.fail(f"logreg playground printed {line!r}; stderr: {process.stderr.read()}")
    return process, line.split("http://", 1)[1].split()[0].rstrip("/")


def _stop_command(process):
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    return out


def test_the_command_serves_the_page_and_a_broken_connection_recovers(page):
    process, address = _start_command(0)
    port = int(address.rsplit(":", 1)[1])
    try:
        open_page(page, f"http://{address}", "?data=moons&noise=0.25&steps_per_frame=8")
        press_step(page, 8)
    finally:
        out = _stop_command(process)
    assert "stopped" in out
    # the server is gone: the page says so and keeps trying
    page.wait_for_function("() => /connection lost, reconnecting/i.test("
                           "document.getElementById('message').textContent)")
    assert not page.evaluate("window.playground.connected")
    # a server on the same address again: a fresh session with the page's settings
    process, _ = _start_command(port)
    try:
        page.wait_for_function("() => window.playground.connected && window.playground.state"
                               " && window.playground.state.iteration === 0"
                               " && !window.playground.dirty", timeout=30_000)
        st = state(page)
        assert st["settings"]["data"] == "moons" and st["settings"]["noise"] == 0.25
        press_step(page, 8)
    finally:
        _stop_command(process)
