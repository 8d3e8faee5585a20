// logreg playground: the page. Plain JavaScript, canvas and SVG; nothing fetched but the
// local server. Training happens on the server, with logreg's own engines; this page only
// sends settings and "step" messages over one WebSocket and draws the "state" it gets back.
(function () {
  "use strict";

  const FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sin1", "sin2"];
  const FEATURE_LABELS = {
    x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁x₂", sin1: "sin x₁", sin2: "sin x₂",
  };
  const DEFAULTS = {
    data: "circles", noise: 0.1, points: 400, seed: 0, test_fraction: 0.2, classes: 2,
    features: ["x1", "x2"], learning_rate: 0.5, l2: 0, steps_per_frame: 10,
  };
  const NUMBER_FIELDS = ["noise", "points", "seed", "test_fraction", "classes",
    "learning_rate", "l2", "steps_per_frame"];
  const INTEGER_FIELDS = ["points", "seed", "classes", "steps_per_frame"];
  // class colours: points (strong) and heat map (the same hues, mixed with white)
  const CLASS_RGB = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [148, 103, 189]];
  const GRID_PIXELS = 64;

  const $ = (id) => document.getElementById(id);
  const app = {
    settings: Object.assign({}, DEFAULTS),
    columns: null,          // {x1, x2, label} for an uploaded CSV
    uploaded: null,         // the upload's reply: {columns, rows, numeric}
    ws: null, session: null, limits: null,
    pending: [],            // one resolver per message sent, answered in order
    playing: false, stepInFlight: false,
    state: null, points: null, selected: null,
    dirty: false, closing: false, reconnectDelay: 500, connected: false,
    stats: { frames: 0, renders: 0, steps: 0, drawMs: 0 },
    heat: null, pointsLayer: null, pointsKey: null,
  };
  window.playground = app;  // read by the browser tests and the benchmark

  // ---------------------------------------------------------------- messages in the page
  function showMessage(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = kind === "info" ? "info" : "";
    box.hidden = false;
  }
  function clearMessage() {
    const box = $("message");
    box.textContent = "";
    box.hidden = true;
  }

  // ---------------------------------------------------------------- numbers as text
  function fmt(x, digits) {
    if (x === null || x === undefined) return "–";
    if (typeof x !== "number") return String(x);
    if (!isFinite(x)) return x > 0 ? "∞" : (x < 0 ? "−∞" : "undefined");
    const d = digits || 4;
    if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(d - 1);
    return Number(x.toPrecision(d)).toString();
  }
  function fmtArray(a, limit) {
    if (!Array.isArray(a)) return fmt(a);
    // a column (n × 1, the neuron's w and dw) reads as a list
    if (a.length && a.every((v) => Array.isArray(v) && v.length === 1)) a = a.map((v) => v[0]);
    const n = limit || 4;
    const items = a.slice(0, n).map((v) => (Array.isArray(v) ? fmtArray(v, n) : fmt(v)));
    return "[" + items.join(", ") + (a.length > n ? ", …" : "") + "]";
  }

  // ---------------------------------------------------------------- settings and the URL
  function readUrl() {
    const q = new URLSearchParams(location.search);
    const ignored = [];
    const s = Object.assign({}, DEFAULTS);
    if (q.has("data")) {
      const d = q.get("data");
      if (["blobs", "overlap", "xor", "circles", "moons"].includes(d)) s.data = d;
      else if (d === "upload") ignored.push("data=upload (an uploaded CSV is not kept in the "
        + "address: upload it again)");
      else ignored.push("data=" + d + " (choose blobs, overlap, xor, circles or moons)");
    }
    for (const key of NUMBER_FIELDS) {
      if (!q.has(key)) continue;
      const v = Number(q.get(key));
      if (q.get(key) === "" || !isFinite(v)) {
        ignored.push(key + "=" + q.get(key) + " (not a number)");
      }
      else s[key] = INTEGER_FIELDS.includes(key) ? Math.round(v) : v;
    }
    if (q.has("features")) {
      const f = q.get("features").split(",").map((x) => x.trim()).filter((x) => x);
      const bad = f.filter((x) => !FEATURES.includes(x));
      if (bad.length || !f.length) {
        ignored.push("features=" + q.get("features") + " (use " + FEATURES.join(",") + ")");
      } else s.features = FEATURES.filter((x) => f.includes(x));
    }
    if (ignored.length) showMessage("Ignored in the address: " + ignored.join("; ") + ".");
    return { settings: s, autoplay: q.get("autoplay") === "1" };
  }
  function writeUrl() {
    const s = app.settings;
    const q = new URLSearchParams();
    q.set("data", s.data);
    for (const key of NUMBER_FIELDS) {
      if (key === "classes" && s.data !== "blobs") continue;
      q.set(key, String(s[key]));
    }
    q.set("features", s.features.join(","));
    if (app.playing) q.set("autoplay", "1");
    const url = location.pathname + "?" + q.toString().replace(/%2C/g, ",");
    try { history.replaceState(null, "", url); } catch (e) { /* file:// or sandboxed */ }
  }
  function settingsToControls(s) {
    $("data").value = s.data;
    for (const key of NUMBER_FIELDS) {
      if (s[key] !== undefined && s[key] !== null) $(key).value = String(s[key]);
    }
    document.querySelectorAll("input[name=feature]").forEach((box) => {
      box.checked = (s.features || []).includes(box.value);
    });
    showsFor(s.data);
  }
  function showsFor(data) {
    // classes apply to blobs; noise and points to the built-in sets, not to a CSV
    document.querySelectorAll(".blobs-only").forEach((el) => { el.hidden = data !== "blobs"; });
    $("noise").disabled = data === "upload";
    $("points").disabled = data === "upload";
  }
  function controlsToSettings() {
    const s = Object.assign({}, app.settings);
    s.data = $("data").value;
    const bad = [];
    for (const key of NUMBER_FIELDS) {
      const raw = $(key).value;
      const v = Number(raw);
      if (raw === "" || !isFinite(v)) bad.push(key.replace("_", " "));
      else s[key] = INTEGER_FIELDS.includes(key) ? Math.round(v) : v;
    }
    s.features = Array.from(document.querySelectorAll("input[name=feature]:checked"))
      .map((box) => box.value);
    return { settings: s, bad: bad };
  }
  function configMessage(s) {
    const m = { type: "config" };
    for (const key of ["data", "noise", "points", "seed", "test_fraction", "learning_rate",
      "l2", "steps_per_frame"]) m[key] = s[key];
    m.features = s.features.slice();
    if (s.data === "blobs") m.classes = s.classes;
    if (s.data === "upload") m.columns = Object.assign({}, app.columns);
    return m;
  }

  // ---------------------------------------------------------------- the connection
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    let ws;
    try {
      ws = new WebSocket(scheme + location.host + "/ws");
    } catch (e) {
      scheduleReconnect();
      return;
    }
    app.ws = ws;
    ws.onmessage = (event) => {
      let msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.type === "hello") { onHello(msg); return; }
      const resolve = app.pending.shift();
      if (resolve) resolve(msg);
    };
    ws.onclose = () => {
      if (app.ws !== ws) return;
      app.connected = false;
      app.ws = null;
      const waiting = app.pending;
      app.pending = [];
      waiting.forEach((resolve) => resolve({ type: "closed" }));
      app.stepInFlight = false;
      if (!app.closing) {
        showMessage("Connection lost, reconnecting…");
        scheduleReconnect();
      }
    };
  }
  function scheduleReconnect() {
    const delay = app.reconnectDelay;
    app.reconnectDelay = Math.min(5000, delay * 2);
    setTimeout(() => { if (!app.closing && !app.ws) connect(); }, delay);
  }
  function send(msg) {
    return new Promise((resolve) => {
      if (!app.ws || app.ws.readyState !== WebSocket.OPEN) {
        resolve({ type: "closed" });
        return;
      }
      app.pending.push(resolve);
      app.ws.send(JSON.stringify(msg));
    });
  }
  let firstHello = true;
  let autoplayAtLoad = false;
  async function onHello(msg) {
    const wasReconnect = !firstHello;
    firstHello = false;
    app.session = msg.session;
    app.limits = msg.limits || null;
    app.connected = true;
    app.reconnectDelay = 500;
    if (app.limits && app.limits.points) {
      $("points").min = app.limits.points[0];
      $("points").max = app.limits.points[1];
    }
    if (app.limits && app.limits.steps_per_frame) {
      $("steps_per_frame").min = app.limits.steps_per_frame[0];
      $("steps_per_frame").max = app.limits.steps_per_frame[1];
    }
    if (wasReconnect && app.settings.data === "upload") {
      // the uploaded table lived with the old session
      app.settings.data = DEFAULTS.data;
      app.uploaded = null;
      $("data").querySelector("option[value=upload]").disabled = true;
      settingsToControls(app.settings);
      showMessage("Reconnected; the uploaded CSV was kept by the old connection: upload it "
        + "again to go on with it.");
    } else if (wasReconnect) {
      showMessage("Reconnected (a fresh session: training starts again).", "info");
      setTimeout(() => { if ($("message").className === "info") clearMessage(); }, 3000);
    }
    const reply = await sendConfig(app.settings);
    if (reply && reply.type === "state" && (autoplayAtLoad || (wasReconnect && app.playing))) {
      autoplayAtLoad = false;
      setPlaying(true);
    }
  }

  // ---------------------------------------------------------------- talking to the server
  async function sendConfig(s) {
    const reply = await send(configMessage(s));
    if (reply.type === "state") {
      app.settings = s;
      onState(reply);
      writeUrl();
    } else if (reply.type === "error") {
      setPlaying(false);
      showMessage(reply.message);
      // take the server's settings back, so the controls show what is in use
      const now = await send({ type: "state" });
      if (now.type === "state") {
        if (now.settings) adoptSettings(now.settings);
        onState(now);
      }
    }
    return reply;
  }
  function adoptSettings(server) {
    const s = Object.assign({}, app.settings);
    for (const key of Object.keys(DEFAULTS)) {
      if (server[key] !== undefined && server[key] !== null) s[key] = server[key];
    }
    if (server.columns) app.columns = server.columns;
    app.settings = s;
    settingsToControls(s);
    writeUrl();
  }
  function onState(st) {
    app.state = st;
    if (st.points) {
      app.points = st.points;
      app.selected = null;
      $("graph-svg").innerHTML = "";
      $("graph-table").hidden = true;
      $("graph-help").hidden = false;
    }
    if (st.diverged) {
      const d = st.diverged;
      // the library's words: "gradient descent diverged at iteration t: ..."
      const text = d.message.charAt(0).toUpperCase() + d.message.slice(1);
      $("diverged").textContent = text;
      $("diverged").hidden = false;
      showMessage(text);
      setPlaying(false);
    } else {
      $("diverged").hidden = true;
      if (!$("message").hidden
          && /^Gradient descent diverged at iteration/.test($("message").textContent)) {
        clearMessage();
      }
    }
    app.dirty = true;
    requestDraw();
  }
  async function step(n) {
    app.stepInFlight = true;
    const before = app.state ? app.state.iteration : 0;
    // only the costs after those already held come back ("since"), appended here
    const held = app.state && app.state.costs ? app.state.costs.train.length : 0;
    const reply = await send({ type: "step", steps: n, since: held });
    app.stepInFlight = false;
    if (reply.type === "state") {
      if (reply.costs_from && app.state && app.state.costs) {
        const from = reply.costs_from;
        reply.costs = {
          train: app.state.costs.train.slice(0, from).concat(reply.costs.train),
          test: app.state.costs.test.slice(0, from).concat(reply.costs.test),
        };
        reply.costs_from = 0;
      }
      app.stats.steps += Math.max(0, reply.iteration - before);
      onState(reply);
    } else if (reply.type === "error") {
      setPlaying(false);
      showMessage(reply.message);
    }
    return reply;
  }

  // ---------------------------------------------------------------- play loop
  function setPlaying(on) {
    if (on && app.state && app.state.diverged) {
      on = false;
      showMessage("Training diverged: lower the learning rate (it goes on from the last "
        + "finite parameters) or press Reset.");
    }
    app.playing = on;
    const button = $("play");
    button.textContent = on ? "Pause" : "Play";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    writeUrl();
    if (on) requestDraw();
  }
  let frameRequested = false;
  function requestDraw() {
    if (!frameRequested) {
      frameRequested = true;
      requestAnimationFrame(frame);
    }
  }
  function frame() {
    frameRequested = false;
    app.stats.frames += 1;
    if (app.dirty) {
      app.dirty = false;
      const started = performance.now();
      draw();
      app.stats.drawMs += performance.now() - started;
      app.stats.renders += 1;
    }
    // one step at a time: the next is sent only when the last state came back (no backlog)
    if (app.playing && !app.stepInFlight && app.connected) step(app.settings.steps_per_frame);
    if (app.playing) requestDraw();
  }

  // ---------------------------------------------------------------- drawing
  function draw() {
    const st = app.state;
    if (!st) return;
    $("iteration").textContent = String(st.iteration);
    $("cost").textContent = st.train_cost === null || st.train_cost === undefined
      ? "–" : String(Number(st.train_cost.toPrecision(6)));
    $("test-cost").textContent = st.test_cost === null || st.test_cost === undefined
      ? "–" : String(Number(st.test_cost.toPrecision(6)));
    const acc = st.accuracy || {};
    $("acc-train").textContent = acc.train === null || acc.train === undefined
      ? "–" : fmt(acc.train, 4) + " %";
    $("acc-test").textContent = acc.test === null || acc.test === undefined
      ? "–" : fmt(acc.test, 4) + " %";
    drawPlot(st);
    drawChart(st);
    drawEquations(st);
  }

  function plotFrame(canvas, grid) {
    // the plotted square: the grid's extent, each grid value the centre of its pixel
    const n = grid.size || GRID_PIXELS;
    const hx = (grid.x1[1] - grid.x1[0]) / (n - 1);
    const hy = (grid.x2[1] - grid.x2[0]) / (n - 1);
    const x0 = grid.x1[0] - hx / 2, x1 = grid.x1[1] + hx / 2;
    const y0 = grid.x2[0] - hy / 2, y1 = grid.x2[1] + hy / 2;
    const W = canvas.width, H = canvas.height;
    return {
      n: n, x0: x0, x1: x1, y0: y0, y1: y1,
      px: (x) => ((x - x0) / (x1 - x0)) * W,
      py: (y) => H - ((y - y0) / (y1 - y0)) * H,
      gx: (i) => ((i + 0.5) / n) * W,       // pixel of grid column i
      gy: (j) => H - ((j + 0.5) / n) * H,   // pixel of grid row j (rows from x2 min)
    };
  }
  function mix(rgb, t) {
    // white mixed with the colour: t = 0 white, t = 1 the colour
    return [255 + (rgb[0] - 255) * t, 255 + (rgb[1] - 255) * t, 255 + (rgb[2] - 255) * t];
  }
  function heatColour(st, k) {
    const g = st.grid;
    if (st.K > 2 && g.classes) {
      const c = g.classes[k], p = g.values[k];
      const t = Math.max(0, Math.min(1, (p - 1 / st.K) / (1 - 1 / st.K)));
      return mix(CLASS_RGB[c % CLASS_RGB.length], 0.15 + 0.55 * t);
    }
    const p = g.values[k];
    if (p === null || !isFinite(p)) return [200, 200, 200];
    // two classes: blue (class 0) ↔ orange (class 1) by P(class 1)
    return p < 0.5 ? mix(CLASS_RGB[0], (0.5 - p) * 2 * 0.7)
      : mix(CLASS_RGB[1], (p - 0.5) * 2 * 0.7);
  }
  function drawPlot(st) {
    const canvas = $("plot");
    const ctx = canvas.getContext("2d");
    const g = st.grid;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!g || !g.values) return;
    const f = plotFrame(canvas, g);
    const n = f.n;
    // heat map: an offscreen n×n image, scaled up
    if (!app.heat || app.heat.width !== n) {
      app.heat = document.createElement("canvas");
      app.heat.width = n;
      app.heat.height = n;
    }
    const hctx = app.heat.getContext("2d");
    const img = hctx.createImageData(n, n);
    for (let j = 0; j < n; j++) {
      const row = n - 1 - j;  // image rows go down, grid rows go up in x2
      for (let i = 0; i < n; i++) {
        const c = heatColour(st, j * n + i);
        const o = (row * n + i) * 4;
        img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2]; img.data[o + 3] = 255;
      }
    }
    hctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(app.heat, 0, 0, canvas.width, canvas.height);
    drawBoundary(ctx, st, f);
    drawPoints(ctx, st, f);
    if (app.selected) {
      const p = app.points[app.selected.split][app.selected.index];
      if (p) {
        ctx.beginPath();
        ctx.arc(f.px(p[0]), f.py(p[1]), 8, 0, 2 * Math.PI);
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 2;
        ctx.stroke();
      }
    }
  }
  function drawBoundary(ctx, st, f) {
    const g = st.grid, n = f.n;
    ctx.strokeStyle = "rgba(20, 20, 20, 0.85)";
    ctx.lineWidth = 2;
    ctx.beginPath();
    if (st.K > 2 && g.classes) {
      // K classes: where the predicted class changes, the 0.5 contour of "class = k"
      for (let k = 0; k < st.K; k++) {
        const inside = new Float32Array(n * n);
        for (let i = 0; i < n * n; i++) inside[i] = g.classes[i] === k ? 1 : 0;
        contour(ctx, f, inside, 0.5);
      }
    } else {
      // two classes: the ŷ = 0.5 contour
      contour(ctx, f, g.values, 0.5);
    }
    ctx.stroke();
  }
  function contour(ctx, f, v, level) {
    // marching squares over the grid: each cell's crossings, joined in pairs
    const n = f.n;
    const cut = (a, b) => (level - a) / (b - a);
    for (let j = 0; j + 1 < n; j++) {
      for (let i = 0; i + 1 < n; i++) {
        const a = v[j * n + i], b = v[j * n + i + 1];
        const c = v[(j + 1) * n + i + 1], d = v[(j + 1) * n + i];
        if (a === null || b === null || c === null || d === null) continue;
        const pts = [];
        // edges in order: bottom (a→b), right (b→c), top (d→c), left (a→d)
        if ((a < level) !== (b < level)) pts.push([i + cut(a, b), j]);
        if ((b < level) !== (c < level)) pts.push([i + 1, j + cut(b, c)]);
        if ((d < level) !== (c < level)) pts.push([i + cut(d, c), j + 1]);
        if ((a < level) !== (d < level)) pts.push([i, j + cut(a, d)]);
        for (let k = 0; k + 1 < pts.length; k += 2) {
          ctx.moveTo(f.gx(pts[k][0]), f.gy(pts[k][1]));
          ctx.lineTo(f.gx(pts[k + 1][0]), f.gy(pts[k + 1][1]));
        }
      }
    }
  }
  function drawPoints(ctx, st, f) {
    // the points change only with the data: drawn once to their own layer
    const canvas = ctx.canvas;
    const key = app.points ? [app.points.train.length, app.points.test.length, f.x0, f.x1, f.y0,
      f.y1].join(",") : "";
    if (!app.pointsLayer || app.pointsKey !== key || app.pointsSource !== app.points) {
      app.pointsLayer = app.pointsLayer || document.createElement("canvas");
      app.pointsLayer.width = canvas.width;
      app.pointsLayer.height = canvas.height;
      const pctx = app.pointsLayer.getContext("2d");
      pctx.clearRect(0, 0, canvas.width, canvas.height);
      if (app.points) {
        for (const p of app.points.train) {
          const rgb = CLASS_RGB[p[2] % CLASS_RGB.length];
          pctx.beginPath();
          pctx.arc(f.px(p[0]), f.py(p[1]), 3.6, 0, 2 * Math.PI);
          pctx.fillStyle = "rgb(" + rgb.join(",") + ")";
          pctx.fill();
          pctx.lineWidth = 0.8;
          pctx.strokeStyle = "#fff";
          pctx.stroke();
        }
        for (const p of app.points.test) {
          const rgb = CLASS_RGB[p[2] % CLASS_RGB.length];
          pctx.beginPath();
          pctx.arc(f.px(p[0]), f.py(p[1]), 3.8, 0, 2 * Math.PI);
          pctx.lineWidth = 1.8;
          pctx.strokeStyle = "rgb(" + rgb.join(",") + ")";
          pctx.stroke();
        }
      }
      app.pointsKey = key;
      app.pointsSource = app.points;
    }
    ctx.drawImage(app.pointsLayer, 0, 0);
  }

  function drawChart(st) {
    const canvas = $("chart");
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    const L = 48, R = 10, T = 34, B = 26;
    ctx.clearRect(0, 0, W, H);
    const costs = st.costs || { train: [], test: [] };
    const train = costs.train || [], test = costs.test || [];
    const count = Math.max(train.length, test.length, 1);
    const finite = train.concat(test).filter((x) => x !== null && isFinite(x));
    const first = train.find((x) => x !== null && isFinite(x));
    let hi = finite.length ? Math.max.apply(null, finite) : 1;
    // a sensible y axis when the cost explodes: at most 4 × the first cost, the rest clipped
    const clipped = first !== undefined && hi > 4 * first;
    if (clipped) hi = 4 * first;
    if (!(hi > 0)) hi = 1;
    hi *= 1.05;
    const xs = (i) => L + (i / Math.max(1, count - 1)) * (W - L - R);
    const ys = (v) => T + (1 - Math.min(v, hi) / hi) * (H - T - B);
    // axes and ticks
    ctx.strokeStyle = "#999";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(L, T); ctx.lineTo(L, H - B); ctx.lineTo(W - R, H - B);
    ctx.stroke();
    ctx.fillStyle = "#555";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let k = 0; k <= 4; k++) {
      const v = (hi / 1.05) * k / 4;
      ctx.fillText(fmt(v, 3), L - 4, ys(v));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText("0", L, H - B + 4);
    ctx.fillText(String(Math.max(0, count - 1)), W - R - 10, H - B + 4);
    ctx.fillText("iteration", (L + W - R) / 2, H - B + 4);
    ctx.save();
    ctx.translate(10, (T + H - B) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText("cost J", 0, -6);
    ctx.restore();
    // curves, thinned to at most ~2 points per pixel
    const stride = Math.max(1, Math.floor(count / ((W - L - R) * 2)));
    const curve = (values, colour, dash) => {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      ctx.setLineDash(dash);
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < values.length; i += stride) {
        const v = values[i];
        if (v === null || !isFinite(v)) { pen = false; continue; }
        if (pen) ctx.lineTo(xs(i), ys(v)); else ctx.moveTo(xs(i), ys(v));
        pen = true;
      }
      const last = values.length - 1;
      if (last >= 0 && last % stride && values[last] !== null && isFinite(values[last])) {
        ctx.lineTo(xs(last), ys(values[last]));
      }
      ctx.stroke();
      ctx.setLineDash([]);
    };
    curve(train, "rgb(31,119,180)", []);
    curve(test, "rgb(255,127,14)", [5, 3]);
    // legend
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillStyle = "rgb(31,119,180)";
    ctx.fillText("— train", W - R - 110, 10);
    ctx.fillStyle = "rgb(255,127,14)";
    ctx.fillText("- - test", W - R - 55, 10);
    if (clipped) {
      ctx.fillStyle = "#777";
      ctx.textAlign = "left";
      ctx.fillText("↑ costs above " + fmt(hi / 1.05, 3) + " drawn at the top", L, 10);
    }
    if (st.diverged) {
      const t = st.diverged.iteration;
      const x = xs(Math.min(t, count - 1));
      ctx.strokeStyle = "#c0392b";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, T); ctx.lineTo(x, H - B);
      ctx.stroke();
      ctx.fillStyle = "#c0392b";
      ctx.font = "bold 12px system-ui, sans-serif";
      ctx.textAlign = x > W / 2 ? "right" : "left";
      ctx.fillText("diverged at iteration " + t, x + (x > W / 2 ? -4 : 4), 24);
    }
  }

  function drawEquations(st) {
    const eq = st.equations || {};
    const K = st.K || 2;
    const softmax = K > 2;
    const l2 = eq.l2 || 0;
    const alpha = eq.learning_rate;
    const wn = softmax ? "W" : "w";
    const rows = [
      [softmax ? "Z = WᵀX + b  (K × m)" : "Z = wᵀX + b", "Z[:3] = " + fmtArray(eq.Z, 3), "z"],
      [softmax ? "A = softmax(Z)" : "A = σ(Z) = 1 / (1 + e⁻ᶻ)",
        "A[:3] = " + fmtArray(eq.A, 3), "a"],
      [softmax ? "J = −(1/m) Σᵢ Σₖ Yₖ⁽ⁱ⁾ log Aₖ⁽ⁱ⁾" + (l2 ? " + (λ/2m)‖W‖²" : "")
        : "J = −(1/m) Σᵢ [y⁽ⁱ⁾ log a⁽ⁱ⁾ + (1 − y⁽ⁱ⁾) log(1 − a⁽ⁱ⁾)]" + (l2 ? " + (λ/2m)‖w‖²" : ""),
      "J = " + fmt(eq.J !== undefined ? eq.J : st.train_cost, 6), "j"],
      ["dZ = A − Y", "dZ[:3] = " + fmtArray(eq.dZ, 3), "dz"],
      ["d" + wn + " = X dZᵀ / m" + (l2 ? " + (λ/m) " + wn : ""),
        "m = " + fmt(eq.m) + (l2 ? ", λ = " + fmt(l2) : "") + ",  d" + wn + " = "
        + fmtArray(eq.dw, 7), "dw"],
      ["db = (1/m) Σᵢ dZ⁽ⁱ⁾", "db = " + fmtArray(eq.db, 4), "db"],
      [wn + " := " + wn + " − α d" + wn, "α = " + fmt(alpha) + ",  " + wn + " = "
        + fmtArray(st.w, 7), "w"],
      ["b := b − α db", "b = " + fmtArray(st.b, 4), "b"],
    ];
    const names = (st.feature_names || []).map((x) => FEATURE_LABELS[x] || x).join(", ");
    let html = "<p class='help'>iteration " + st.iteration + "; features (standardised): "
      + escapeHtml(names) + (softmax ? "; K = " + K + " classes (softmax layer)" : "") + "</p>";
    for (const r of rows) {
      html += "<div class='eq' data-eq='" + r[2] + "'><div class='f'>" + escapeHtml(r[0])
        + "</div><div class='n'>" + escapeHtml(r[1]) + "</div></div>";
    }
    $("eq-body").innerHTML = html;
  }
  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    })[c]);
  }

  // ---------------------------------------------------------------- the computation graph
  async function showGraph(split, index) {
    const reply = await send({ type: "graph", index: index, split: split });
    if (reply.type === "error") { showMessage(reply.message); return; }
    if (reply.type !== "graph") return;
    drawGraph(reply);
  }
  function nodeKind(n) {
    if (n.kind) return n.kind;
    if (n.name === "L") return "L";
    if (/^z\d*$/.test(n.name)) return "z";
    if (/^a\d*$/.test(n.name)) return "a";
    if (/^w/.test(n.name)) return "w";
    if (/^b\d*$/.test(n.name)) return "b";
    return "x";
  }
  function drawGraph(g) {
    const nodes = (g.nodes || []).map((n) => Object.assign({}, n, { kind: nodeKind(n) }));
    const edges = g.edges || [];
    // columns by the longest path from a leaf: x, w, b → z → a → L
    const layer = {};
    nodes.forEach((n) => { layer[n.name] = 0; });
    for (let pass = 0; pass < nodes.length; pass++) {
      let changed = false;
      for (const [a, b] of edges) {
        if (layer[a] !== undefined && layer[b] !== undefined && layer[b] < layer[a] + 1) {
          layer[b] = layer[a] + 1;
          changed = true;
        }
      }
      if (!changed) break;
    }
    const columns = [];
    nodes.forEach((n) => {
      const c = layer[n.name];
      (columns[c] = columns[c] || []).push(n);
    });
    // the leaves as the notes draw them: x1, w1, x2, w2, …, then b
    if (columns[0]) {
      const xs = columns[0].filter((n) => n.kind === "x");
      const rest = columns[0].filter((n) => n.kind !== "x");
      const ordered = [];
      xs.forEach((x, j) => {
        ordered.push(x);
        rest.filter((n) => n.kind === "w" && new RegExp("^w" + (j + 1) + "(_|$)").test(n.name))
          .forEach((n) => ordered.push(n));
      });
      rest.forEach((n) => { if (!ordered.includes(n)) ordered.push(n); });
      columns[0] = ordered;
    }
    const label1 = (n) => n.name + " = " + fmt(n.value, 5);
    const label2 = (n) => "dL/d" + n.name + " = " + fmt(n.grad, 5);
    const BW = Math.max(120, 16 + Math.max.apply(null, nodes.map((n) =>
      Math.max(label1(n).length * 7.9, label2(n).length * 6.7))));
    const many = nodes.length > 24;
    const BH = many ? 42 : 50, GX = 48, GY = many ? 6 : 14;
    const tallest = Math.max.apply(null, columns.map((c) => (c ? c.length : 0)));
    const height = tallest * (BH + GY) + GY;
    const width = columns.length * (BW + GX) - GX + 20;
    const pos = {};
    columns.forEach((col, c) => {
      const top = (height - col.length * (BH + GY) + GY) / 2;
      col.forEach((n, r) => { pos[n.name] = [10 + c * (BW + GX), top + r * (BH + GY)]; });
    });
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "computation graph of the chosen point");
    const el = (name, attrs, text) => {
      const e = document.createElementNS(ns, name);
      for (const k in attrs) e.setAttribute(k, attrs[k]);
      if (text !== undefined) e.textContent = text;
      svg.appendChild(e);
      return e;
    };
    const defs = document.createElementNS(ns, "defs");
    defs.innerHTML = "<marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7'"
      + " markerHeight='7' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#666'/></marker>";
    svg.appendChild(defs);
    // arrows into a box spread along its left side
    const incoming = {}, seen = {};
    for (const [a, b] of edges) if (pos[a] && pos[b]) incoming[b] = (incoming[b] || 0) + 1;
    for (const [a, b] of edges) {
      if (!pos[a] || !pos[b]) continue;
      const i = seen[b] = (seen[b] || 0) + 1;
      const y2 = pos[b][1] + BH * (0.15 + 0.7 * (i - 0.5) / incoming[b]);
      el("line", {
        x1: pos[a][0] + BW, y1: pos[a][1] + BH / 2, x2: pos[b][0], y2: y2,
        stroke: "#888", "stroke-width": 1.2, "marker-end": "url(#arrow)",
      });
    }
    for (const n of nodes) {
      const [x, y] = pos[n.name];
      const kind = n.kind === "x" ? "#eaf3fb" : (n.kind === "w" || n.kind === "b" ? "#fff4e6"
        : "#eef7ee");
      el("rect", { x: x, y: y, width: BW, height: BH, rx: 6, fill: kind, stroke: "#556" });
      el("text", { x: x + 8, y: y + (many ? 17 : 20), "font-size": 13, "font-weight": "bold" },
        label1(n));
      el("text", { x: x + 8, y: y + (many ? 34 : 40), "font-size": 11, fill: "#a33" },
        label2(n));
    }
    const holder = $("graph-svg");
    holder.innerHTML = "";
    holder.appendChild(svg);
    // the same numbers as a table, full precision in data attributes
    const body = $("graph-table").querySelector("tbody");
    body.innerHTML = "";
    for (const n of nodes) {
      const tr = document.createElement("tr");
      tr.setAttribute("data-node", n.name);
      tr.setAttribute("data-value", String(n.value));
      tr.setAttribute("data-grad", String(n.grad));
      const cells = [n.name, fmt(n.value, 6), fmt(n.grad, 6)];
      cells.forEach((text) => {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    const classes = (app.state && app.state.classes) || [];
    $("graph-caption").textContent = g.split + " point " + g.index + ": x = "
      + fmtArray(g.x, 8) + ", y = " + (classes[g.y] !== undefined ? classes[g.y] : g.y)
      + " (at iteration " + (app.state ? app.state.iteration : 0) + ")"
      + (g.note ? ". Note: " + g.note : "");
    $("graph-table").hidden = false;
    $("graph-table").setAttribute("data-split", g.split);
    $("graph-table").setAttribute("data-index", String(g.index));
    $("graph-help").hidden = true;
  }
  function onPlotClick(event) {
    if (!app.state || !app.points || !app.state.grid) return;
    const canvas = $("plot");
    const rect = canvas.getBoundingClientRect();
    // from the border box to the drawing's pixels
    const mx = (event.clientX - rect.left - canvas.clientLeft)
      * (canvas.width / canvas.clientWidth);
    const my = (event.clientY - rect.top - canvas.clientTop)
      * (canvas.height / canvas.clientHeight);
    const f = plotFrame(canvas, app.state.grid);
    let best = null, bestD = 10 * 10;
    for (const split of ["train", "test"]) {
      app.points[split].forEach((p, i) => {
        const dx = f.px(p[0]) - mx, dy = f.py(p[1]) - my;
        const d = dx * dx + dy * dy;
        if (d < bestD) { bestD = d; best = { split: split, index: i }; }
      });
    }
    if (!best) return;
    app.selected = best;
    app.dirty = true;
    requestDraw();
    showGraph(best.split, best.index);
  }

  // ---------------------------------------------------------------- CSV upload
  async function onCsvChosen() {
    const file = $("csv-file").files[0];
    if (!file) return;
    const cap = (app.limits && app.limits.upload_bytes) || 2097152;
    if (file.size > cap) {
      showMessage("The CSV is " + (file.size / 1048576).toFixed(1) + " MiB; the limit is "
        + (cap / 1048576).toFixed(0) + " MiB: use fewer rows.");
      return;
    }
    let reply, body;
    try {
      reply = await fetch("/api/upload?session=" + encodeURIComponent(app.session), {
        method: "POST", headers: { "Content-Type": "text/csv" }, body: await file.arrayBuffer(),
      });
      body = await reply.json();
    } catch (e) {
      showMessage("Could not upload the CSV: the server did not answer; try again.");
      return;
    }
    if (!reply.ok) {
      showMessage("The CSV was not accepted: " + (body && body.error ? body.error
        : "status " + reply.status));
      return;
    }
    clearMessage();
    app.uploaded = body;
    const numeric = body.numeric || [];
    const fill = (id, names, pick) => {
      const sel = $(id);
      sel.innerHTML = "";
      names.forEach((name) => {
        const o = document.createElement("option");
        o.value = name; o.textContent = name;
        sel.appendChild(o);
      });
      if (pick !== undefined) sel.value = pick;
    };
    const cols = body.columns || [];
    fill("col-x1", numeric, numeric[0]);
    fill("col-x2", numeric, numeric[1] !== undefined ? numeric[1] : numeric[0]);
    fill("col-label", cols, cols[cols.length - 1]);
    $("csv-columns").hidden = false;
    showMessage("Read " + body.rows + " rows, columns " + cols.join(", ")
      + ": choose x₁, x₂ and the label, then “Train on this CSV”.", "info");
  }
  async function useCsv() {
    app.columns = { x1: $("col-x1").value, x2: $("col-x2").value, label: $("col-label").value };
    const opt = $("data").querySelector("option[value=upload]");
    opt.disabled = false;
    const s = Object.assign({}, app.settings, { data: "upload" });
    setPlaying(false);
    const reply = await sendConfig(s);
    if (reply.type === "state") {
      clearMessage();
      settingsToControls(app.settings);
    }
  }

  // ---------------------------------------------------------------- export
  async function download(path, filename) {
    if (!app.session) { showMessage("Not connected yet."); return; }
    let reply;
    try {
      reply = await fetch(path + "?session=" + encodeURIComponent(app.session));
    } catch (e) {
      showMessage("The server did not answer; try again.");
      return null;
    }
    if (!reply.ok) {
      let text = "status " + reply.status;
      try { text = (await reply.json()).error || text; } catch (e) { /* not JSON */ }
      showMessage("Export failed: " + text);
      return null;
    }
    const blob = await reply.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    return blob;
  }

  // ---------------------------------------------------------------- controls
  async function onControlChange() {
    const read = controlsToSettings();
    if (read.bad.length) {
      showMessage("Not a number: " + read.bad.join(", ") + ". Type a number.");
      return;
    }
    if (!read.settings.features.length) {
      showMessage("Choose at least one feature.");
      settingsToControls(app.settings);
      return;
    }
    if (read.settings.data === "upload" && !app.columns) {
      showMessage("Upload a CSV first.");
      settingsToControls(app.settings);
      return;
    }
    showsFor(read.settings.data);
    if (!$("message").hidden && $("message").className !== "info"
        && !/^Diverged/.test($("message").textContent)) clearMessage();
    await sendConfig(read.settings);
  }
  function wire() {
    const inputs = ["data"].concat(NUMBER_FIELDS);
    inputs.forEach((id) => $(id).addEventListener("change", onControlChange));
    document.querySelectorAll("input[name=feature]").forEach((box) => {
      box.addEventListener("change", onControlChange);
    });
    // the clicked point's graph follows the parameters when training stops
    const refreshGraph = () => {
      if (app.selected && !app.playing) showGraph(app.selected.split, app.selected.index);
    };
    $("play").addEventListener("click", () => {
      setPlaying(!app.playing);
      if (!app.playing) refreshGraph();
    });
    $("step").addEventListener("click", async () => {
      setPlaying(false);
      if (app.stepInFlight) return;
      const reply = await step(app.settings.steps_per_frame);
      if (reply.type === "state") refreshGraph();
    });
    $("reset").addEventListener("click", async () => {
      setPlaying(false);
      const reply = await send({ type: "reset" });
      if (reply.type === "state") {
        clearMessage();
        onState(reply);
        refreshGraph();
      } else if (reply.type === "error") showMessage(reply.message);
    });
    $("plot").addEventListener("click", onPlotClick);
    $("csv-file").addEventListener("change", onCsvChosen);
    $("csv-use").addEventListener("click", useCsv);
    $("download-model").addEventListener("click", () => {
      download("/api/export/model", "playground-model.safetensors");
    });
    $("download-snippet").addEventListener("click", async () => {
      const blob = await download("/api/export/snippet", "playground_run.py");
      if (blob) {
        $("snippet").textContent = await blob.text();
        $("snippet-box").hidden = false;
      }
    });
    // a closed tab closes its socket, which frees the session on the server
    window.addEventListener("pagehide", () => {
      app.closing = true;
      if (app.ws) app.ws.close();
    });
  }

  function start() {
    wire();
    const url = readUrl();
    app.settings = url.settings;
    autoplayAtLoad = url.autoplay;
    settingsToControls(app.settings);
    connect();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
