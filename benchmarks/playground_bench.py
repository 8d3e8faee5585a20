"""The playground in headless Chromium: frames and steps per second at 1000 points.

    .venv/bin/python benchmarks/playground_bench.py
    .venv/bin/python benchmarks/playground_bench.py --screenshots docs

The server runs in its own process (as ``logreg playground`` does), the page in Debian's
Chromium driven by Playwright. For each steps-per-frame setting the page plays the circles
(1000 points, features x1, x2, x1², x2²) and is read every window of 5 s: frames drawn with
a new state per second (each frame is one "step" message answered and drawn: the page sends
the next step only when the last state came back), animation frames per second (the
browser's requestAnimationFrame rate, 60 at most), gradient-descent steps per second, and
the page's mean time to draw one frame. Prints the median of the windows and the machine's
load. ``--screenshots DIR`` also writes the pictures of the page kept in docs/.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import machine  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SERVER = ("import sys, uvicorn; from logreg.apps.playground.server import create_app; "
          "uvicorn.run(create_app(), host='127.0.0.1', port=int(sys.argv[1]), "
          "log_level='warning')")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server():
    """The playground's server in a subprocess; returns (process, base URL)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/health", timeout=2).read()
            return process, url
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the playground's server did not start")
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the playground's server did not answer within 60 s")


def read(page):
    return page.evaluate("() => ({stats: Object.assign({}, window.playground.stats),"
                         " iteration: window.playground.state.iteration, now: performance.now()})")


def measure(page, url, steps_per_frame, points, seconds, windows):
    """Median figures of ``windows`` windows of ``seconds`` s while the page plays."""
    page.goto(f"{url}/?data=circles&points={points}&noise=0.1&features=x1,x2,x1sq,x2sq"
              f"&learning_rate=0.5&steps_per_frame={steps_per_frame}&autoplay=1")
    page.wait_for_function("() => window.playground.playing", timeout=30000)
    page.wait_for_timeout(1000)  # warm up
    rows = []
    for _ in range(windows):
        before = read(page)
        page.wait_for_timeout(seconds * 1000)
        after = read(page)
        dt = (after["now"] - before["now"]) / 1000
        renders = after["stats"]["renders"] - before["stats"]["renders"]
        rows.append({
            "fps": renders / dt,
            "raf": (after["stats"]["frames"] - before["stats"]["frames"]) / dt,
            "steps": (after["iteration"] - before["iteration"]) / dt,
            "draw_ms": (after["stats"]["drawMs"] - before["stats"]["drawMs"]) / max(renders, 1),
        })
    page.click("#play")
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def wait_iteration(page, at_least):
    page.wait_for_function(f"() => window.playground.state.iteration >= {at_least}"
                           f" && Number(document.getElementById('iteration').textContent)"
                           f" >= {at_least}", timeout=60000)


def screenshots(page, url, folder):
    """The pictures kept in docs/: the page (the circles with x1², x2², one point's graph),
    the circles with x1, x2 only (no circle can be drawn), one point's computation graph, a
    diverging learning rate and three classes (the softmax layer)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    circles = f"{url}/?data=circles&points=400&noise=0.1&learning_rate=0.5&steps_per_frame=300"

    page.goto(circles + "&features=x1,x2")
    page.wait_for_function("() => window.playground.points")
    page.click("#step")
    wait_iteration(page, 300)
    page.locator("#view").screenshot(path=folder / "playground-circles.png")
    written.append(folder / "playground-circles.png")

    page.goto(circles + "&features=x1,x2,x1sq,x2sq")
    page.wait_for_function("() => window.playground.points")
    page.click("#step")
    wait_iteration(page, 300)
    # click the training point farthest from the centre on the right: its graph
    target = page.evaluate("""() => {
        const pts = window.playground.points.train;
        let best = 0;
        pts.forEach((p, i) => { if (p[0] - Math.abs(p[1]) > pts[best][0] - Math.abs(pts[best][1]))
          best = i; });
        return best;
    }""")
    box = page.evaluate("""(i) => {
        const st = window.playground.state, p = window.playground.points.train[i];
        const g = st.grid, n = g.size, c = document.getElementById('plot');
        const hx = (g.x1[1] - g.x1[0]) / (n - 1), hy = (g.x2[1] - g.x2[0]) / (n - 1);
        const x0 = g.x1[0] - hx / 2, x1 = g.x1[1] + hx / 2;
        const y0 = g.x2[0] - hy / 2, y1 = g.x2[1] + hy / 2;
        return [(p[0] - x0) / (x1 - x0) * c.clientWidth,
                (1 - (p[1] - y0) / (y1 - y0)) * c.clientHeight];
    }""", target)
    page.click("#plot", position={"x": box[0], "y": box[1]})
    page.wait_for_selector("#graph-table", state="visible")
    page.screenshot(path=folder / "playground.png", full_page=True)
    written.append(folder / "playground.png")
    page.locator("#graph").screenshot(path=folder / "playground-graph.png")
    written.append(folder / "playground-graph.png")

    page.goto(f"{url}/?data=overlap&points=400&learning_rate=1e9&steps_per_frame=100")
    page.wait_for_function("() => window.playground.points")
    page.click("#step")
    page.wait_for_selector("#diverged", state="visible")
    page.locator("#view").screenshot(path=folder / "playground-diverged.png")
    written.append(folder / "playground-diverged.png")

    page.goto(f"{url}/?data=blobs&classes=3&points=400&noise=0.5&learning_rate=0.5"
              f"&steps_per_frame=100&features=x1,x2")
    page.wait_for_function("() => window.playground.points")
    page.click("#step")
    wait_iteration(page, 100)
    page.locator("#view").screenshot(path=folder / "playground-softmax.png")
    written.append(folder / "playground-softmax.png")
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--steps-per-frame", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--screenshots", metavar="DIR",
                        help="also write the page's pictures (docs/playground*.png) here")
    parser.add_argument("--no-bench", action="store_true", help="only the screenshots")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    process, url = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            if not args.no_bench:
                load_before = os.getloadavg()
                print(f"# playground in headless Chromium, circles, {args.points} points, "
                      f"features x1 x2 x1sq x2sq; median of {args.windows} windows of "
                      f"{args.seconds:g} s")
                print(f"# {machine()}")
                print("steps/frame  frames/s (new state drawn)  animation frames/s  steps/s"
                      "  draw ms/frame")
                for spf in args.steps_per_frame:
                    r = measure(page, url, spf, args.points, args.seconds, args.windows)
                    print(f"{spf:>11}  {r['fps']:>26.1f}  {r['raf']:>18.1f}  {r['steps']:>7.0f}"
                          f"  {r['draw_ms']:>13.2f}")
                load_after = os.getloadavg()
                print(f"# load average (1 min) {load_before[0]:.2f} before, "
                      f"{load_after[0]:.2f} after, on {os.cpu_count()} cores")
            if args.screenshots:
                for path in screenshots(page, url, args.screenshots):
                    print(f"wrote {path}")
            browser.close()
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
