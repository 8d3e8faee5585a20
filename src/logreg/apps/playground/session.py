"""One browser tab's playground: its data, features, parameters and training record.

A ``Session`` holds the raw points and their split, the chosen features standardised with the
training part's mean and standard deviation (so one learning rate suits every set), the
parameters w, b, the cost histories and the divergence state. Training is the library's own:
``logreg.engines.resolve`` picks the engine once per data set, and the steps are
``logreg.solvers.gradient_descent_steps`` with that engine's (J, dw, db), in float64, from
w = 0, b = 0, judged by the library's divergence rule (``solvers.Divergence``); two classes
are the notes' neuron, three or four a softmax layer.

Every public method takes and returns plain Python data (the WebSocket's JSON messages);
``handle`` dispatches one message and returns its one reply.
"""

import itertools
import math
import secrets
import threading

import numpy as np

from logreg import engines, solvers
from logreg.core import neuron
from logreg.errors import InvalidInputError
from logreg.apps.playground import datasets
from logreg.apps.playground.features import (
    FEATURES,
    check_features,
    feature_matrix,
    standardisation,
)

DEFAULTS = {"data": "circles", "noise": 0.1, "points": 400, "seed": 0, "test_fraction": 0.2,
            "classes": 2, "features": ["x1", "x2"], "learning_rate": 0.5, "l2": 0.0,
            "steps_per_frame": 10}
DATA_KEYS = ("data", "noise", "points", "seed", "test_fraction", "classes", "features",
             "columns")
LIMITS = {"points": [10, datasets.MAX_ROWS], "steps_per_frame": [1, 1000],
          "upload_bytes": datasets.MAX_UPLOAD_BYTES}
MAX_STEPS = 10000  # one "step" message runs at most this many steps
# a session keeps every cost (train and test): a tab left playing stops here, not at the
# machine's memory (two lists of 10⁶ floats: about 64 MB)
MAX_ITERATIONS = 1_000_000
GRID = 64  # the heat map of ŷ: GRID × GRID points over the original x1, x2


def _number(settings, name, value, low, high, integer=False):
    """``value`` checked as a number in [low, high] (a whole number when ``integer``)."""
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            integer and not float(value).is_integer()) or not math.isfinite(value):
        raise InvalidInputError(f"{name} must be {kind} from {low:g} to {high:g}, got "
                                f"{value!r:.40}.")
    if not low <= value <= high:
        raise InvalidInputError(f"{name} = {value:g} is out of range; expected {kind} from "
                                f"{low:g} to {high:g}.")
    settings[name] = int(value) if integer else float(value)


def checked_settings(current, message):
    """The settings after a "config" message: ``current`` updated with the message's fields.

    Parameters
    ----------
    current : dict
        The session's settings (see ``DEFAULTS``).
    message : dict
        A "config" message; any field may be omitted (the current value is kept).

    Returns
    -------
    dict
        The new settings; a field out of range raises ``InvalidInputError`` naming it and
        the range.
    """
    settings = dict(current)
    unknown = sorted(set(message) - set(DEFAULTS) - {"type", "columns"})
    if unknown:
        raise InvalidInputError(f"unknown config field {unknown[0]!r:.40}; expected some of "
                                f"{', '.join(list(DEFAULTS) + ['columns'])}.")
    if "data" in message:
        if message["data"] not in datasets.DATASETS + ("upload",):
            raise InvalidInputError(f"data must be one of {', '.join(datasets.DATASETS)} or "
                                    f"upload, got {message['data']!r:.40}.")
        settings["data"] = message["data"]
    ranges = {"noise": (0, 1, False), "points": (*LIMITS["points"], True),
              "seed": (0, 2**32 - 1, True), "test_fraction": (0, 0.5, False),
              "classes": (2, datasets.MAX_CLASSES, True), "learning_rate": (1e-9, 1e9, False),
              "l2": (0, 1e6, False), "steps_per_frame": (*LIMITS["steps_per_frame"], True)}
    for name, (low, high, integer) in ranges.items():
        if name in message:
            _number(settings, name, message[name], low, high, integer)
    if "features" in message:
        settings["features"] = check_features(message["features"])
    if "columns" in message:
        columns = message["columns"]
        if columns is not None and not (isinstance(columns, dict) and all(
                isinstance(columns.get(role), str) for role in ("x1", "x2", "label"))):
            raise InvalidInputError('columns must be {"x1": name, "x2": name, "label": '
                                    'name}, naming columns of the uploaded CSV.')
        settings["columns"] = columns
    return settings


def _finite(value):
    """A float, or None where it is not finite (JSON has no inf or NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _finite_list(array):
    """A nested list of floats with None for inf and NaN."""
    array = np.asarray(array, dtype=np.float64)
    if np.isfinite(array).all():
        return array.tolist()
    return _nested(array)


def _nested(array):
    if array.ndim == 0:
        return _finite(array)
    return [_nested(row) for row in array]


class Session:
    """One tab's playground: data, standardisation, w, b, histories, divergence, upload.

    Parameters
    ----------
    session_id : str, optional
        The session's name (a random URL-safe token when omitted).
    settings : dict, optional
        Settings as a "config" message gives them (the rest from ``DEFAULTS``).

    Attributes
    ----------
    id : str
    settings : dict
        The current configuration.
    table : datasets.Table or None
        The uploaded CSV, if any.
    iteration : int
        Gradient-descent steps taken since the last reset.
    w : ndarray of shape (n_x, K')
        The weights on the standardised features (K' = 1 for two classes).
    b : float or ndarray of shape (K, 1)
    costs : dict of lists
        "train" and "test": the cost before each step (logreg's ``costs_``), the test cost
        the mean logistic loss on the test part (no L2 term).
    lock : threading.RLock
        Held while the session computes: HTTP requests and the WebSocket never interleave.
    """

    def __init__(self, session_id=None, settings=None):
        self.id = session_id or secrets.token_urlsafe(12)
        self.lock = threading.RLock()
        self.table = None
        self.settings = dict(DEFAULTS, columns=None)
        if settings:
            self.settings = checked_settings(self.settings, settings)
        self._build()

    # -- data ------------------------------------------------------------------------------

    def _build(self):
        """Make the data, features and standardisation of the current settings; reset."""
        s = self.settings
        if s["data"] == "upload":
            if self.table is None:
                raise InvalidInputError("no CSV uploaded yet; upload one first (the Upload "
                                        "button, POST /api/upload?session=ID).")
            columns = s["columns"] or self.table.default_columns()
            X, y, classes = self.table.points(columns)
        else:
            X, y = datasets.make_points(s["data"], s["points"], s["noise"], s["seed"],
                                        s["classes"] if s["data"] == "blobs" else 2)
            classes = np.arange(int(y.max()) + 1)
        train, test = datasets.split(y, s["test_fraction"], s["seed"])
        names = check_features(s["features"])
        rows = feature_matrix(X[train], names)
        if s["data"] == "upload":
            s["columns"] = dict(columns)
        self.mean, self.std = standardisation(rows)
        self.raw = {"train": X[train], "test": X[test]}
        self.labels = {"train": y[train], "test": y[test]}
        self.classes = classes
        self.K = len(classes)
        self.feature_names = names
        # the notes' layout: X (n_x, m), each example a contiguous row of the (m, n_x) array
        self.X = {part: np.ascontiguousarray(self._standardised(self.raw[part])).T
                  for part in ("train", "test")}
        self.Y = {part: self._targets(self.labels[part]) for part in ("train", "test")}
        self._build_grid(X)
        self._resolve()
        self._reset()

    def _standardised(self, points):
        """The chosen features of raw points, standardised with the training mean and std."""
        return (feature_matrix(points, self.feature_names) - self.mean) / self.std

    def _targets(self, y):
        """Y (1, m) of 0/1 for two classes, one-hot (K, m) for K ≥ 3."""
        if self.K == 2:
            return y.reshape(1, -1).astype(np.float64)
        return np.eye(self.K)[:, y]

    def _build_grid(self, X):
        """The heat map's points: GRID × GRID over the original coordinates, padded 5 %."""
        low, high = X.min(axis=0), X.max(axis=0)
        pad = 0.05 * np.maximum(high - low, 1e-9)
        self.grid_range = [[float(low[0] - pad[0]), float(high[0] + pad[0])],
                           [float(low[1] - pad[1]), float(high[1] + pad[1])]]
        g1 = np.linspace(*self.grid_range[0], GRID)
        g2 = np.linspace(*self.grid_range[1], GRID)
        x1, x2 = np.meshgrid(g1, g2)  # row r is x2 = g2[r]: rows from x2 min to x2 max
        self.grid_X = np.ascontiguousarray(
            self._standardised(np.stack([x1.ravel(), x2.ravel()], axis=1))).T

    def _resolve(self):
        """Ask the engine table once for this data and L2 (the estimator's own choice)."""
        self.plan = engines.resolve(self.X["train"], solver="gd", l2=self.settings["l2"],
                                    classes=self.K, num_iterations=1)

    def _reset(self):
        """w = 0, b = 0 as the notes start; iteration 0; histories and divergence cleared."""
        n_x, k = len(self.feature_names), 1 if self.K == 2 else self.K
        self.w = np.zeros((n_x, k))
        self.b = 0.0 if k == 1 else np.zeros((k, 1))
        self.iteration = 0
        self.costs = {"train": [], "test": []}
        self.diverged = False
        self._rule = solvers.Divergence()  # judges the costs from w = 0, b = 0
        self.run_settings = {"learning_rate": self.settings["learning_rate"],
                             "l2": self.settings["l2"]}
        self.changes = []

    # -- messages ----------------------------------------------------------------------------

    def handle(self, message):
        """Answer one client message with one reply (a dict), as the protocol says.

        Parameters
        ----------
        message : dict
            {"type": "config" | "step" | "reset" | "graph" | "state", ...}.

        Returns
        -------
        dict
            A "state" or "graph" message; a bad message raises ``InvalidInputError``.
        """
        if not isinstance(message, dict):
            raise InvalidInputError("a message must be a JSON object with a \"type\".")
        kind = message.get("type")
        with self.lock:
            if kind == "config":
                return self.configure(message)
            if kind == "step":
                steps = message.get("steps", self.settings["steps_per_frame"])
                if isinstance(steps, bool) or not isinstance(steps, int) or not \
                        1 <= steps <= MAX_STEPS:
                    raise InvalidInputError(f"steps must be a whole number from 1 to "
                                            f"{MAX_STEPS}, got {steps!r:.40}.")
                self.step(steps)
                return self.state(since=message.get("since"))
            if kind == "reset":
                self._reset()
                return self.state()
            if kind == "graph":
                return self.graph(message.get("index"), message.get("split", "train"))
            if kind == "state":
                return self.state(points=True)
        raise InvalidInputError(f"unknown message type {kind!r:.40}; expected config, step, "
                                f"reset, graph or state.")

    def configure(self, message):
        """Apply a "config" message: rebuild (and reset) when the data or features change.

        Parameters
        ----------
        message : dict
            Any of the settings' fields.

        Returns
        -------
        dict
            The "state" message, with the points.
        """
        with self.lock:
            settings = checked_settings(self.settings, message)
            if settings["data"] != "upload":
                settings["columns"] = None
            old = self.settings
            if any(settings.get(key) != old.get(key) for key in DATA_KEYS):
                self.settings = settings
                try:  # _build changes nothing else before its last check passes
                    self._build()
                except Exception:
                    self.settings = old
                    raise
                return self.state(points=True)
            for name in ("learning_rate", "l2"):
                if settings[name] != old[name]:
                    if self.iteration > 0:
                        self.changes.append(f"{name} changed from {old[name]:g} to "
                                            f"{settings[name]:g} at iteration {self.iteration}")
                    else:
                        self.run_settings[name] = settings[name]
            self.settings = settings
            if settings["l2"] != old["l2"]:
                self._resolve()
            if self.diverged and (settings["learning_rate"] != old["learning_rate"]
                                  or settings["l2"] != old["l2"]):
                self._clear_divergence()
            return self.state(points=True)

    def _clear_divergence(self):
        """Train again from the kept parameters: the judged cost is measured anew."""
        self.diverged = False
        for part in ("train", "test"):
            del self.costs[part][self.iteration:]
        self._rule = solvers.Divergence()  # its start J₀: the cost of the kept parameters

    def upload(self, data):
        """Keep an uploaded CSV file's table (read as data only); the data do not change yet.

        Parameters
        ----------
        data : bytes
            The file's content.

        Returns
        -------
        dict
            {"columns": [...], "rows": m, "numeric": [...]}.
        """
        table = datasets.read_csv(data)
        with self.lock:
            old_table, old_settings = self.table, self.settings
            self.table = table
            if self.settings["data"] == "upload":  # a new table replaces the one in use
                self.settings = dict(old_settings, columns=None)
                try:
                    self._build()
                except Exception:  # the table in use stays, with its data and training
                    self.table, self.settings = old_table, old_settings
                    raise
        return table.describe()

    # -- training ----------------------------------------------------------------------------

    def step(self, steps):
        """Run gradient descent: ``steps`` times w := w − α dw, b := b − α db.

        Each step records the cost at the parameters it starts from (logreg's ``costs_``) and
        the test cost there. Stops, keeping the last parameters whose step stayed finite, when
        the library's divergence rule (``solvers.Divergence``) says the run diverged.

        Parameters
        ----------
        steps : int
            How many steps (at most; fewer when training diverges).

        Returns
        -------
        int
            The number of steps taken.
        """
        with self.lock:
            if self.diverged:
                return 0
            if self.iteration >= MAX_ITERATIONS:
                raise InvalidInputError(
                    f"this session has run {self.iteration:,} iterations, the playground's "
                    f"limit; press Reset to start again, or train longer with the Python "
                    f"snippet (Export).")
            steps = min(steps, MAX_ITERATIONS - self.iteration)
            train, test = self.costs["train"], self.costs["test"]
            has_test = self.X["test"].shape[1] > 0
            taken = 0
            with np.errstate(all="ignore"):  # overflow shows as a non-finite cost, judged
                descent = solvers.gradient_descent_steps(
                    self.X["train"], self.Y["train"], self.w, self.b,
                    self.settings["learning_rate"], l2=self.settings["l2"],
                    gradient=self.plan.loss_and_gradient, rule=self._rule,
                    iteration=self.iteration)
                for step in itertools.islice(descent, steps):
                    train.append(step.cost)
                    test.append(self._test_cost(*step.before) if has_test else None)
                    new_w, new_b = step.after
                    if step.diverged or not (np.isfinite(new_w).all()
                                             and np.isfinite(new_b).all()):
                        self._diverge(step)
                        break
                    self.w, self.b = new_w, new_b
                    taken += 1
            self.iteration += taken
            return taken

    def _test_cost(self, w, b):
        """J on the test part at (w, b): the mean loss, without the L2 term."""
        return float(neuron.cost_from_z(w.T @ self.X["test"] + b, self.Y["test"]))

    def _diverge(self, step):
        """Mark training as diverged at ``step``, in the library's words (α and the fix)."""
        reason = self._rule.reason or "the step from there made w or b non-finite"
        self.diverged = {"iteration": step.iteration,  # that of the kept parameters
                         "message": solvers.divergence_message(
                             reason, step.iteration, self.settings["learning_rate"], also="")}

    # -- what the page shows -------------------------------------------------------------------

    def probabilities(self, part="train"):
        """ŷ for every point of a part: shape (m, K), as ``predict_proba`` gives it.

        Parameters
        ----------
        part : {"train", "test"}

        Returns
        -------
        ndarray of shape (m, K)
            [1 − ŷ, ŷ] for two classes; softmax(Z) for K ≥ 3.
        """
        return self._probabilities(self.X[part])

    def _probabilities(self, X):
        with np.errstate(all="ignore"):
            # Z = wᵀX + b, A = σ(Z) or softmax(Z)
            A = neuron.activation(self.w.T @ X + self.b)
        return np.concatenate([1 - A, A]).T if self.K == 2 else A.T

    def feature_rows(self, part="train"):
        """The raw (unstandardised) features of a part's points, one row per point.

        The exported model takes these rows: the standardisation is folded into its w, b.

        Parameters
        ----------
        part : {"train", "test"}

        Returns
        -------
        ndarray of shape (m, n_x)
        """
        return feature_matrix(self.raw[part], self.feature_names)

    def _accuracy(self, part):
        if self.X[part].shape[1] == 0:
            return None
        # the estimator's decision: z > 0 for the neuron (ŷ > 0.5 without rounding σ), the
        # largest z for a layer
        Z = neuron.decision_function(self.w, self.b, self.X[part])
        predicted = (Z[0] > 0).astype(float) if self.K == 2 else np.argmax(Z, axis=0)
        return neuron.class_accuracy(predicted, self.labels[part], self.K)

    def equations(self):
        """The notes' quantities at the current w, b on the training part.

        Returns
        -------
        dict
            m, the first three columns of X, Y, Z, A and dZ = A − Y, dw = X dZᵀ/m (+ (λ/m)w),
            db, the cost J, α and λ.
        """
        X, Y = self.X["train"], self.Y["train"]
        l2 = self.settings["l2"]
        with np.errstate(all="ignore"):
            Z = self.w.T @ X[:, :3] + self.b  # Z = wᵀX + b
            A = neuron.activation(Z)  # A = σ(Z)
            dZ = A - Y[:, :3]  # dZ = A − Y
            cost, dw, db = self.plan.loss_and_gradient(self.w, self.b, X, Y, None, l2)
        first = (lambda M: _finite_list(M[0])) if self.K == 2 else (
            lambda M: _finite_list(M.T))
        return {"m": int(X.shape[1]), "X": _finite_list(X[:, :3].T),
                "Y": self.labels["train"][:3].tolist(), "Z": first(Z), "A": first(A),
                "dZ": first(dZ), "dw": _finite_list(dw),
                "db": _finite_list(np.reshape(db, -1)), "J": _finite(cost),
                "learning_rate": self.settings["learning_rate"], "l2": l2}

    def grid(self):
        """ŷ on the GRID × GRID points over the original x1, x2, row-major from x2's minimum.

        Returns
        -------
        dict
            {"x1": [min, max], "x2": [min, max], "size": GRID, "values": [...]}: P(class 1)
            for two classes; for K ≥ 3 "classes" (the predicted class index) and "values"
            (its probability).
        """
        P = self._probabilities(self.grid_X)
        reply = {"x1": self.grid_range[0], "x2": self.grid_range[1], "size": GRID}
        if self.K == 2:
            reply["values"] = np.round(np.nan_to_num(P[:, 1], nan=0.5), 5).tolist()
        else:
            reply["classes"] = np.argmax(P, axis=1).tolist()
            reply["values"] = np.round(np.nan_to_num(P.max(axis=1), nan=0.0), 5).tolist()
        return reply

    def points(self):
        """Every point's original coordinates and class index, per part.

        Returns
        -------
        dict
            {"train": [[x1, x2, label], ...], "test": [...]}, in the order that "graph"
            messages index.
        """
        return {part: [[float(x1), float(x2), int(y)] for (x1, x2), y in
                       zip(self.raw[part], self.labels[part])] for part in ("train", "test")}

    def state(self, points=False, since=None):
        """The "state" message: iteration, costs, w, b, equations, grid, accuracy, settings.

        Parameters
        ----------
        points : bool
            Include the points (after a change of data, or when asked).
        since : int, optional
            Send only the cost histories from this iteration on (with "costs_from"); the
            whole history by default.

        Returns
        -------
        dict
        """
        with self.lock:
            equations = self.equations()
            has_test = self.X["test"].shape[1] > 0
            start = 0
            if since is not None:
                if isinstance(since, bool) or not isinstance(since, int) or since < 0:
                    raise InvalidInputError(f"since must be a whole number ≥ 0, got "
                                            f"{since!r:.40}.")
                start = min(since, len(self.costs["train"]))
            reply = {
                "type": "state",
                "iteration": self.iteration,
                "train_cost": equations["J"],
                "test_cost": _finite(self._test_cost(self.w, self.b)) if has_test else None,
                "costs": {part: [None if c is None else _finite(c)
                                 for c in self.costs[part][start:]]
                          for part in ("train", "test")},
                "costs_from": start,
                "diverged": self.diverged,
                "classes": [str(c) for c in self.classes],
                "K": self.K,
                "w": _finite_list(self.w),
                "b": _finite_list(np.reshape(self.b, -1)),
                "feature_names": list(self.feature_names),
                "equations": equations,
                "grid": self.grid(),
                "accuracy": {"train": self._accuracy("train"), "test": self._accuracy("test")},
                "settings": {key: value for key, value in self.settings.items()
                             if key != "columns" or value is not None},
                "engine": self.plan.engine.name,
            }
            if points:
                reply["points"] = self.points()
            return reply

    def graph(self, index, part="train"):
        """The computation graph of one point's loss, forward and backward (logreg.graph).

        Parameters
        ----------
        index : int
            The point's position in its part (as in the "points" lists).
        part : {"train", "test"}

        Returns
        -------
        dict
            The "graph" message (see ``logreg.apps.playground.graphs``).
        """
        from logreg.apps.playground.graphs import point_graph

        if part not in ("train", "test"):
            raise InvalidInputError(f"split must be \"train\" or \"test\", got {part!r:.40}.")
        m = self.X[part].shape[1]
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < m:
            raise InvalidInputError(f"index must be a whole number from 0 to {m - 1} (the "
                                    f"{part} part has {m} points), got {index!r:.40}.")
        with self.lock:
            reply = point_graph(self.X[part][:, index], int(self.labels[part][index]), self.w,
                                self.b, self.feature_names, self.K)
        reply.update({"type": "graph", "index": index, "split": part,
                      "raw": self.raw[part][index].tolist()})
        return reply


__all__ = ["DEFAULTS", "FEATURES", "LIMITS", "Session", "checked_settings"]
