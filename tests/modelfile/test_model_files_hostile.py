"""Model files as an attacker or a damaged disk would hand them over, and outputs on a full
disk: every case is a ModelFileError / OutputError (the command: one line, exit 2), never
another exception, and a failed write leaves the old model and its picture a matching pair."""

import copy
import errno
import json
import os
import stat
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logreg
from logreg.apps import cli
from logreg.apps.cli import train as cli_train
from logreg.apps.cli.train import CURVE_NAME, MODEL_NAME
from logreg.modelfile import io as lio
from logreg.modelfile import schema as model_schema
from logreg.errors import InvalidInputError, LogregError, ModelFileError

N_X = 3
W, B = np.array([[1.0], [-2.0], [0.5]]), 0.25
# what `logreg train --data table.csv` writes for three features (format version 2)
VALID = {
    "format": "logreg-model", "format_version": 2, "n_x": N_X, "logreg_version": "0.1.0",
    "classes": ["no", "yes"], "dtype": "float64", "feature_names": ["f0", "f1", "f2"],
    "params": {"learning_rate": 0.1, "num_iterations": 4, "solver": "gd"},
    "engine": {"name": "vectorized"},
    "training": {"solver": "gd", "learning_rate": 0.1, "num_iterations": 4, "tol": 0.0,
                 "backprop": "closed-form", "implementation": "auto", "l2": 0.0, "n_iter": 4},
    "data": "table.csv", "accuracy": {"train": 75.0},
    "preprocessing": {"scaling": {"kind": "standardize", "mean": [0.5, 1.0, -1.0],
                                  "spread": [2.0, 1.0, 0.5]},
                      "image_shape": None, "label_column": "label"},
}
COSTS = np.array([0.69, 0.6, 0.55, 0.5])


def write_raw(path, metadata, tensors=None):
    """A model file made with safetensors itself: ``metadata`` is a dict or raw JSON text."""
    from safetensors.numpy import save_file

    text = metadata if isinstance(metadata, str) else json.dumps(metadata)
    tensors = {"w": W, "b": np.array([B]), "costs": COSTS} if tensors is None else tensors
    save_file(tensors, str(path), metadata={"logreg": text})
    return path


def changed(path_in_metadata, value, base=VALID):
    """A copy of ``base`` with the value at ``path_in_metadata`` (a tuple of keys) replaced,
    or deleted where ``value`` is DELETE."""
    record = copy.deepcopy(base)
    *parents, last = path_in_metadata
    holder = record
    for key in parents:
        holder = holder[key]
    if value is DELETE:
        del holder[last]
    else:
        holder[last] = value
    return record


DELETE = object()


def rows(clf, X):
    """X as the estimator expects it: a DataFrame with its feature names, if it has them."""
    if not hasattr(clf, "feature_names_in_"):
        return X
    import pandas as pd

    return pd.DataFrame(X, columns=clf.feature_names_in_)


def test_the_valid_file_is_valid(tmp_path):
    """The starting point of every case below loads and predicts as its w and b say."""
    clf = logreg.load(write_raw(tmp_path / "m.safetensors", VALID))
    X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert clf.predict(rows(clf, X)).tolist() == ["yes", "no"]
    assert clf.costs_ == COSTS.tolist()
    assert model_schema.problem(VALID) is None


# --- metadata of the wrong types: the key path and what was expected ----------------------


WRONG = [
    (("training", "costs"), "abc", "training.costs is a string; expected a list of numbers"),
    (("training", "costs"), [0.5, "x"], "training.costs[1] is a string; expected a number"),
    (("training", "costs"), {"a": 1}, "training.costs is an object of 1 key; expected a list"),
    (("training",), "fast", "training is a string; expected an object"),
    (("training", "learning_rate"), "fast", 'training.learning_rate is "fast"; expected a '
                                            'number > 0, "auto" or null'),
    (("training", "learning_rate"), -1, "training.learning_rate is -1; expected a number > 0"),
    (("training", "num_iterations"), 2.5, "training.num_iterations is 2.5; expected an "
                                          "integer ≥ 0"),
    (("training", "n_iter"), "3", "training.n_iter is a string; expected an integer ≥ 0"),
    (("training", "n_iter"), None, "training.n_iter is null; expected an integer ≥ 0"),
    (("training", "l2"), -0.5, "training.l2 is -0.5; expected a number ≥ 0"),
    (("training", "tol"), [], "training.tol is []; expected a number ≥ 0"),
    (("training", "solver"), 3, "training.solver is 3; expected a string or null"),
    (("n_x",), "3", "n_x is a string; expected an integer ≥ 1"),
    (("n_x",), 0, "n_x is 0; expected an integer ≥ 1"),
    (("n_x",), True, "n_x is true; expected an integer ≥ 1"),
    (("n_x",), 3.0, "n_x is 3.0; expected an integer ≥ 1"),
    (("n_x",), DELETE, "the key 'n_x' is missing; expected an integer ≥ 1"),
    (("classes",), "ab", "classes is a string; expected a list of 2 or more distinct labels"),
    (("classes",), ["a"], 'classes is ["a"]; expected a list of 2 or more'),
    (("classes",), ["a", "a"], 'classes is ["a", "a"]; expected a list of 2 or more distinct'),
    (("classes",), [1, 1.0], "classes is [1, 1.0]; expected a list of 2 or more distinct"),
    (("classes",), [None, "a"], "classes[0] is null; expected a string, a boolean or a number"),
    (("classes",), [[1], [2]], "classes[0] is [1]; expected a string, a boolean or a number"),
    (("classes",), [10**20, 1], "classes[0] is an integer of 67 bits; expected a string, a "
                                "boolean or a number"),
    (("classes",), [1, True], "classes mixes booleans and numbers; expected labels all of one"),
    (("classes",), ["1", 1], "classes mixes numbers and strings"),
    (("classes",), ["a\0", "a"], "NumPy holds it as"),
    (("classes",), DELETE, "the key 'classes' is missing"),
    (("feature_names",), ["f0", "f1"], 'feature_names is ["f0", "f1"]; expected null or a '
                                       'list of n_x = 3 distinct strings'),
    (("feature_names",), ["f0", 1, "f2"], "feature_names[1] is 1; expected a string"),
    (("feature_names",), ["f0", "f0", "f2"], "expected null or a list of n_x = 3 distinct"),
    (("feature_names",), "f0,f1,f2", "feature_names is a string; expected null or a list"),
    (("preprocessing",), [], "preprocessing is []; expected an object"),
    (("preprocessing", "scaling"), "standardize", "preprocessing.scaling is a string; "
                                                  "expected an object with kind, mean"),
    (("preprocessing", "scaling", "kind"), "log", 'preprocessing.scaling.kind is "log"; '
                                                  'expected one of "image", "standardize"'),
    (("preprocessing", "scaling", "mean"), DELETE, "the key 'mean' is missing in "
                                                   "preprocessing.scaling"),
    (("preprocessing", "scaling", "mean"), "0", "preprocessing.scaling.mean is a string; "
                                                "expected a list of finite numbers"),
    (("preprocessing", "scaling", "mean"), [1, 2], "preprocessing.scaling.mean is [1, 2]; "
                                                   "expected a list of n_x = 3 finite numbers "
                                                   '(one mean per feature) for kind '
                                                   '"standardize"'),
    # (x − μ) / σ per feature: one mean broadcast over three features is not what was trained
    (("preprocessing", "scaling", "mean"), [1.0], "preprocessing.scaling.mean is [1.0]; "
                                                  "expected a list of n_x = 3 finite numbers"),
    (("preprocessing", "scaling", "spread"), [2.0], "preprocessing.scaling.spread is [2.0]; "
                                                    "expected a list of n_x = 3 finite numbers "
                                                    "> 0"),
    (("preprocessing", "scaling", "spread"), [-1, -1, -1], "preprocessing.scaling.spread[0] "
                                                           "is -1; expected a number > 0"),
    (("preprocessing", "scaling", "spread"), [1, 2, -1e-300], "preprocessing.scaling.spread[2]"
                                                              " is -1e-300; expected a number "
                                                              "> 0"),
    (("preprocessing", "scaling"), {"kind": "image", "mean": [0], "spread": [-255]},
     "preprocessing.scaling.spread[0] is -255; expected a number > 0"),
    (("preprocessing", "scaling"), {"kind": "image", "mean": [0, 0, 0], "spread": [255] * 3},
     'preprocessing.scaling.mean is [0, 0, 0]; expected [0] for kind "image" (x / 255)'),
    (("preprocessing", "scaling"), {"kind": "image", "mean": [0], "spread": [1]},
     'preprocessing.scaling.spread is [1]; expected [255] for kind "image" (x / 255)'),
    (("preprocessing", "scaling"), {"kind": "none", "mean": [0.5], "spread": [1]},
     'preprocessing.scaling.mean is [0.5]; expected [0] for kind "none"'),
    (("preprocessing", "scaling", "mean"), [1, None, 2], "preprocessing.scaling.mean[1] is "
                                                         "null; expected a number"),
    (("preprocessing", "scaling", "mean"), [1, True, 2], "mean[1] is true; expected a number"),
    (("preprocessing", "scaling", "mean"), [1, 10**400, 2], "mean[1] is an integer of 1329 "
                                                            "bits; expected a number within"),
    (("training", "costs"), [0.5, 10**400], "training.costs[1] is an integer of 1329 bits; "
                                            "expected a number within float64's range"),
    (("preprocessing", "scaling", "spread"), [1, 0, 1], "preprocessing.scaling.spread[1] is "
                                                        "0; expected a non-zero number"),
    (("preprocessing", "image_shape"), [1, 1, 2], "preprocessing.image_shape is [1, 1, 2] "
                                                  "(H×W×C = 2); expected an image shape with "
                                                  "H×W×C = n_x = 3"),
    (("preprocessing", "image_shape"), [3, 1], "preprocessing.image_shape is [3, 1]; expected "
                                               "null or [H, W, C]"),
    (("preprocessing", "image_shape"), [3, 1, 1.5], "preprocessing.image_shape[2] is 1.5; "
                                                    "expected a positive integer"),
    (("preprocessing", "image_shape"), [-1, -3, 1], "preprocessing.image_shape[0] is -1"),
    (("preprocessing", "label_column"), 5, "preprocessing.label_column is 5; expected a "
                                           "string or null"),
    (("accuracy",), {"train": "high"}, 'accuracy.train is a string; expected a number'),
    (("accuracy",), [99.0], "accuracy is [99.0]; expected an object of numbers"),
    (("data",), 5, "data is 5; expected a string"),
    (("engine",), "dask", "engine is a string; expected an object"),
    (("engine",), {"name": "os:system"}, 'engine.name is "os:system"; expected one of '
                                         '"vectorized", "example-space"'),
    (("engine",), {"name": 3}, 'engine.name is 3; expected one of "vectorized"'),
    (("engine",), {"persisted": True}, "the key 'name' is missing in engine; expected one of"),
    (("params",), [], "params is []; expected an object"),
    (("params",), {"solver": "gd", "evil": 1}, 'params holds the key "evil"; expected only '
                                               "keys among backprop, class_weight, dtype"),
    (("params", "__class__"), "os.system", 'params holds the key "__class__"'),
    (("logreg_version",), 1.0, "logreg_version is 1.0; expected a string"),
    (("dtype",), 64, "dtype is 64; expected a string"),
]


@pytest.mark.parametrize("where, value, message", WRONG,
                         ids=[".".join(map(str, w)) + ("=DELETE" if v is DELETE else
                                                       f"={v!r}"[:30]) for w, v, _ in WRONG])
def test_metadata_of_the_wrong_type_is_refused_by_name(tmp_path, where, value, message):
    path = write_raw(tmp_path / "m.safetensors", changed(where, value), tensors={
        "w": W, "b": np.array([B])})  # costs in the JSON, as version 1 kept them
    with pytest.raises(ModelFileError) as caught:
        logreg.load(path)
    text = str(caught.value)
    assert message in text and str(path) in text and "\n" not in text


def test_the_wrong_type_is_one_line_and_exit_2_from_the_command(tmp_path, capsys):
    path = write_raw(tmp_path / "m.safetensors", changed(("training", "costs"), "abc"),
                     tensors={"w": W, "b": np.array([B])})
    (tmp_path / "x.csv").write_text("f0,f1,f2\n1,2,3\n")
    for argv in (["predict", path, tmp_path / "x.csv"],
                 ["evaluate", path, "--data", tmp_path / "x.csv"]):
        code, out, err = run_cli(argv, capsys)
        assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
        assert "training.costs is a string; expected a list of numbers" in err


@pytest.mark.parametrize("where, value", [
    (("future_key",), {"anything": [1, "a", None]}),
    (("engine",), {"name": "dask", "chunks": 4, "persisted": True}),
    (("training", "learning_rate"), "auto"),
    (("training", "learning_rate"), None),
    (("training", "tol"), None),
    (("training", "momentum"), 0.9),
    (("preprocessing", "scaling"), None),
    (("preprocessing", "scaling"), {"kind": "image", "mean": [0.0], "spread": [255.0]}),
    (("preprocessing", "scaling"), {"kind": "none", "mean": [0], "spread": [1]}),
    (("preprocessing", "scaling", "spread"), [1e-300, 1.0, 2.0]),
    (("preprocessing", "image_shape"), [1, 3, 1]),
    (("engine",), {"name": "unrecorded"}),
    (("engine", "name"), "fused"),
    (("params",), {}),  # every parameter at its default
    (("params", "solver"), DELETE),
    (("params",), {"solver": "lbfgs", "tol": None, "verbose": 0, "warm_start": False}),
    (("feature_names",), None),
    (("classes",), [0, 1]),
    (("classes",), [False, True]),
    (("classes",), [-1.5, 2.5]),
    (("training",), DELETE),
    (("preprocessing",), DELETE),
], ids=lambda v: "DELETE" if v is DELETE else str(v)[:30])
def test_what_a_future_or_older_logreg_may_write_is_accepted(tmp_path, where, value):
    clf = logreg.load(write_raw(tmp_path / "m.safetensors", changed(where, value)))
    assert clf.predict(rows(clf, np.zeros((1, N_X)))).shape == (1,)


# --- edited files that would give wrong answers: scaling, engine, params, tensors ----------


def test_the_schemas_parameter_names_are_the_estimators():
    """model_schema lists them so that reading a model never imports scikit-learn."""
    assert sorted(model_schema.PARAMS) == sorted(logreg.LogisticRegression().get_params())


@pytest.mark.parametrize("name", [*__import__("logreg.engines").engines.ENGINES, "unrecorded"])
def test_every_engine_of_the_table_is_a_valid_engine_name(tmp_path, name):
    clf = logreg.load(write_raw(tmp_path / "m.safetensors", changed(("engine",), {"name": name})))
    assert clf.engine_["name"] == name


def scaled_copy(tmp_path, scaling):
    """A table model (three features) whose file says ``scaling``; its CSV to evaluate."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, N_X)) * [1.0, 3.0, 0.5] + [0.5, -2.0, 1.0]
    y = (((X - [0.5, -2.0, 1.0]) / [1.0, 3.0, 0.5]) @ W.ravel() + B > 0).astype(int)
    csv = tmp_path / "x.csv"
    csv.write_text("f0,f1,f2,label\n" + "".join(f"{a},{b},{c},{t}\n"
                                                 for (a, b, c), t in zip(X, y)))
    metadata = changed(("preprocessing", "scaling"), scaling)
    metadata["classes"] = [0, 1]
    return write_raw(tmp_path / "m.safetensors", metadata), csv


@pytest.mark.parametrize("scaling, fragment", [
    ({"kind": "standardize", "mean": [0.5, -2.0, 1.0], "spread": [-1.0, -3.0, -0.5]},
     "preprocessing.scaling.spread[0] is -1.0; expected a number > 0"),
    ({"kind": "standardize", "mean": [0.5], "spread": [1.0, 3.0, 0.5]},
     "preprocessing.scaling.mean is [0.5]; expected a list of n_x = 3 finite numbers"),
    ({"kind": "standardize", "mean": [0.5, -2.0, 1.0], "spread": [2.0]},
     "preprocessing.scaling.spread is [2.0]; expected a list of n_x = 3 finite numbers > 0"),
], ids=["negative-spread", "one-mean", "one-spread"])
def test_an_edited_scaling_is_refused_by_the_command(tmp_path, capsys, scaling, fragment):
    """Before: evaluate reported 16.7 % (negative spreads flip every z) and predict flipped
    labels, exit 0; a single mean was broadcast over every feature."""
    path, csv = scaled_copy(tmp_path, scaling)
    for argv in (["evaluate", path, "--data", csv], ["predict", path, csv]):
        code, out, err = run_cli(argv, capsys)
        assert code == 2 and out == "" and err.count("\n") == 1, (argv, err)
        assert "Traceback" not in err and "warning" not in err
        assert fragment in err and "metadata is not valid" in err


def test_the_true_scaling_gives_the_published_accuracy(tmp_path, capsys):
    """The control for the test above: the same data, the spreads it was made with."""
    path, csv = scaled_copy(tmp_path, {"kind": "standardize", "mean": [0.5, -2.0, 1.0],
                                       "spread": [1.0, 3.0, 0.5]})
    code, out, err = run_cli(["evaluate", path, "--data", csv], capsys)
    assert code == 0 and err == "" and "accuracy: 100.0 %" in out


TENSORS = {"w": W, "b": np.array([B]), "costs": COSTS}


@pytest.mark.parametrize("version, tensors, fragment", [
    (2, {**TENSORS, "evil": np.ones(3)}, "it holds the tensors ['b', 'costs', 'evil', 'w'], "
                                         "expected exactly 'w', 'b' and 'costs'"),
    (2, {**TENSORS, "w2": W}, "expected exactly 'w', 'b' and 'costs'"),
    (1, TENSORS, "it holds the tensors ['b', 'costs', 'w'], expected exactly 'w' and 'b'"),
    (2, {"w": W, "b": np.array([B])}, "has a training record but no costs tensor"),
    (2, {**TENSORS, "costs": np.zeros(0)}, "the costs tensor is empty but training.n_iter is 4"),
], ids=["extra-tensor", "second-w", "costs-tensor-in-version-1", "costs-missing",
        "costs-empty"])
def test_tensors_other_than_w_b_and_costs_are_refused(tmp_path, capsys, version, tensors,
                                                      fragment):
    metadata = changed(("format_version",), version)
    if version == 1:
        metadata["training"]["costs"] = COSTS.tolist()
    path = write_raw(tmp_path / "m.safetensors", metadata, tensors)
    with pytest.raises(ModelFileError) as caught:
        logreg.load(path)
    assert fragment in str(caught.value) and str(path) in str(caught.value)
    (tmp_path / "x.csv").write_text("f0,f1,f2,label\n1,2,3,yes\n0,0,0,no\n")
    code, out, err = run_cli(["evaluate", path, "--data", tmp_path / "x.csv"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and fragment in err


def test_a_file_without_a_training_record_needs_no_costs(tmp_path):
    """A model written by write_model without a training record (the library's minimum)."""
    metadata = changed(("training",), DELETE)
    clf = logreg.load(write_raw(tmp_path / "m.safetensors", metadata,
                                {"w": W, "b": np.array([B])}))
    assert clf.costs_ == [] and clf.coef_.ravel().tolist() == W.ravel().tolist()


def test_a_training_record_is_always_written_with_its_costs_tensor(tmp_path):
    path = tmp_path / "m.safetensors"
    lio.write_model(path, W, B, {"classes": [0, 1], "training": {"solver": "gd"}})
    _, _, metadata = lio.read_model(path)  # before: format 2 with no costs tensor
    assert metadata["training"] == {"solver": "gd", "costs": []}
    with pytest.raises(InvalidInputError, match="training.n_iter is 3 but there are no costs"):
        lio.write_model(path, W, B, {"classes": [0, 1], "training": {"n_iter": 3}})
    assert lio.read_model(path)[2]["training"] == {"solver": "gd", "costs": []}  # kept


@pytest.mark.parametrize("labels, log_loss", [
    ([1, 1, 0, 0, 1], "0.000000"),  # every z on the right side: L = 0 each
    ([1, 1, 0, 0, 0], "20000000.000000"),  # z = 1e8 for y = 0: L = log(1 + e¹⁰⁰⁰⁰⁰⁰⁰⁰) = 1e8
    ([0, 1, 0, 0, 1], "inf"),  # z = +inf for y = 0: certain and wrong, L = inf
], ids=["all-right", "finite-wrong", "infinitely-wrong"])
def test_evaluate_of_a_model_with_huge_weights_prints_its_log_loss(tmp_path, capsys, labels,
                                                                    log_loss):
    """w = 1e308: z = wᵀx + b is ±inf. Before, "log loss: nan" and two RuntimeWarning lines
    (0·inf in y·z, inf − inf in log(1 + eᶻ) − y·z)."""
    metadata = changed(("preprocessing", "scaling"), {"kind": "none", "mean": [0],
                                                      "spread": [1]})
    metadata["classes"] = [0, 1]
    path = write_raw(tmp_path / "m.safetensors", metadata,
                     {"w": np.full((N_X, 1), 1e308), "b": np.array([0.0]), "costs": COSTS})
    X = [[1, 2, 3], [0.5, 0, 0], [-1, -2, -3], [0, 0, -1e-10], [1e-300, 0, 0]]
    (tmp_path / "x.csv").write_text("f0,f1,f2,label\n" + "".join(
        f"{a},{b},{c},{t}\n" for (a, b, c), t in zip(X, labels)))
    code, out, err = run_cli(["evaluate", path, "--data", tmp_path / "x.csv"], capsys)
    assert code == 0 and err == "", err
    assert f"log loss: {log_loss}\n" in out
    right = sum(labels[:2]) + sum(t == 0 for t in labels[2:4]) + labels[4]
    assert f"accuracy: {right / 5 * 100}" in out


# --- hostile JSON text and safetensors headers ---------------------------------------------


def deep(depth, leaf="0"):
    return "[" * depth + leaf + "]" * depth


def metadata_text(**replace):
    """VALID as JSON text, with some values replaced by raw JSON text."""
    record = {**VALID, **{key: f"@{key}@" for key in replace}}
    text = json.dumps(record)
    for key, raw in replace.items():
        text = text.replace(json.dumps(f"@{key}@"), raw)
    return text


@pytest.mark.parametrize("text, fragment", [
    (deep(100_000), "not valid JSON (it is nested too deeply)"),
    (metadata_text(future=deep(100_000)), "nested too deeply"),
    (metadata_text(engine='{"a": ' * 50_000 + "0" + "}" * 50_000), "nested too deeply"),
    (metadata_text(accuracy='{"train": NaN}'), "accuracy.train is not a finite number"),
    (metadata_text(accuracy='{"train": Infinity}'), "accuracy.train is not a finite number"),
    (metadata_text(accuracy='{"train": -Infinity}'), "accuracy.train is not a finite number"),
    (metadata_text(accuracy='{"train": 1e400}'), "accuracy.train is not a finite number"),
    (metadata_text(future="NaN"), "future is not a finite number"),
    (metadata_text(data='"x", "data": "y"'), "the key 'data' appears twice"),
    (metadata_text(n_x="3" + "0" * 5000), "not valid JSON"),
    (metadata_text(n_x="3") + "trailing", "not valid JSON"),
    ('{"format": "logreg-model"', "not valid JSON"),
    ("", "not valid JSON"),
], ids=["deep-100000", "deep-unknown-key", "deep-object", "NaN", "Infinity", "-Infinity",
        "1e400", "NaN-unknown-key", "duplicate-key", "5000-digits", "trailing", "cut",
        "empty"])
def test_hostile_json_is_refused(tmp_path, text, fragment):
    path = write_raw(tmp_path / "m.safetensors", text)
    with pytest.raises(ModelFileError) as caught:
        logreg.load(path)
    assert fragment in str(caught.value)


def test_deep_but_parsable_unknown_content_is_accepted(tmp_path):
    """Nesting Python can parse, under a key logreg never reads: kept, never walked by the
    schema, harmless."""
    text = metadata_text(future=deep(400))
    clf = logreg.load(write_raw(tmp_path / "m.safetensors", text))
    assert clf.predict(rows(clf, np.zeros((1, N_X)))).shape == (1,)


def raw_file(path, header_bytes, body=b""):
    path.write_bytes(struct.pack("<Q", len(header_bytes)) + header_bytes + body)
    return path


def tensors_header(metadata_value):
    return {"__metadata__": {"logreg": metadata_value},
            "w": {"dtype": "F64", "shape": [3, 1], "data_offsets": [0, 24]},
            "b": {"dtype": "F64", "shape": [1], "data_offsets": [24, 32]}}


@pytest.mark.parametrize("make, fragment", [
    (lambda p: p.write_bytes(struct.pack("<Q", 2**40) + b"{}"), "declares a header of"),
    (lambda p: p.write_bytes(struct.pack("<Q", 100_000_001) + b"{" + b" " * 64),
     "declares a header of"),
    (lambda p: raw_file(p, json.dumps(tensors_header("x")).encode().replace(b'"x"',
                                                                            b'"\xff\xfe"'),
                        bytes(32)), "not a readable model file"),
    (lambda p: raw_file(p, json.dumps(tensors_header("x")).encode() + b"\xc3", bytes(32)),
     "not a readable model file"),
    (lambda p: raw_file(p, json.dumps(tensors_header(5)).encode(), bytes(32)),
     "not a readable model file"),
    (lambda p: raw_file(p, json.dumps(tensors_header({"nested": 1})).encode(), bytes(32)),
     "not a readable model file"),
    (lambda p: raw_file(p, b"[" * 10_000 + b"]" * 10_000), "not a readable model file"),
    (lambda p: raw_file(p, json.dumps({**tensors_header("{}"), "w": {
        "dtype": "F64", "shape": [2**62, 2**62], "data_offsets": [0, 24]}}).encode(),
        bytes(32)), "not a readable model file"),
], ids=["length-2**40", "length-over-100MB", "non-utf8", "non-utf8-tail", "metadata-a-number",
        "metadata-an-object", "deep-header", "huge-shape"])
def test_hostile_safetensors_headers_are_refused(tmp_path, make, fragment):
    path = tmp_path / "m.safetensors"
    make(path)
    with pytest.raises(ModelFileError) as caught:
        logreg.load(path)
    assert fragment in str(caught.value) and str(path) in str(caught.value)


# --- paths that are not model files --------------------------------------------------------


@pytest.mark.parametrize("given", [None, 123, 1.5, b"m.safetensors", ["m"], "", "a\0b"],
                         ids=["None", "int", "float", "bytes", "list", "empty", "nul"])
def test_a_model_path_of_the_wrong_kind_is_refused(given):
    for read in (lio.read_model, logreg.load):
        with pytest.raises(ModelFileError) as caught:
            read(given)
        assert "expected" in str(caught.value)


def test_folders_and_missing_files_are_refused(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder"):
        logreg.load(tmp_path)
    with pytest.raises(ModelFileError, match="does not exist"):
        logreg.load(tmp_path / "absent.safetensors")
    with pytest.raises(ModelFileError, match="does not exist"):
        logreg.load(tmp_path / "absent" / "m.safetensors")


def test_a_file_without_read_permission_is_refused(tmp_path, monkeypatch):
    path = write_raw(tmp_path / "m.safetensors", VALID)

    def denied(file, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(file))

    monkeypatch.setattr(lio, "open", denied, raising=False)
    with pytest.raises(ModelFileError) as caught:
        logreg.load(path)
    assert str(caught.value) == (f"cannot read the model file {path}: Permission denied; "
                                 f"check its permissions or choose another file.")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission_is_refused_for_real(tmp_path):
    path = write_raw(tmp_path / "m.safetensors", VALID)
    path.chmod(0)
    with pytest.raises(ModelFileError, match="Permission denied"):
        logreg.load(path)


# --- every file logreg writes validates ----------------------------------------------------


@pytest.mark.parametrize("settings", [
    {}, {"learning_rate": "auto"}, {"solver": "lbfgs"}, {"dtype": "float32"}, {"l2": 0.5},
], ids=["default", "auto", "lbfgs", "float32", "l2"])
@pytest.mark.parametrize("labels", [("no", "yes"), (3, 8), (False, True), (-1, 1)],
                         ids=["strings", "ints", "bools", "signed"])
def test_what_the_estimator_writes_validates(tmp_path, settings, labels):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, N_X))
    y = np.where(X[:, 0] + rng.normal(0, 0.5, 30) > 0, labels[1], labels[0])
    clf = logreg.LogisticRegression(num_iterations=200, **settings).fit(X, y)
    path = tmp_path / "m.safetensors"
    clf.save(path, data="somewhere", accuracy={"train": 90.0})
    _, _, metadata = lio.read_model(path)  # schema-checked on the way in
    assert model_schema.problem(metadata) is None
    loaded = logreg.load(path)
    assert loaded.predict(X).tolist() == clf.predict(X).tolist()


def test_what_the_command_writes_validates(tmp_path, capsys):
    rows = ["f0,f1,f2,label"] + [f"{i % 7},{(i * 3) % 5},{i % 2},{'yes' if i % 3 else 'no'}"
                                 for i in range(40)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    code, out, err = run_cli(["train", "--data", tmp_path / "t.csv", "--iterations", "10",
                              "--quiet", "--out", tmp_path / "out"], capsys)
    assert code == 0, err
    _, _, metadata = lio.read_model(tmp_path / "out" / "model.safetensors")
    assert model_schema.problem(metadata) is None
    assert metadata["feature_names"] == ["f0", "f1", "f2"]
    assert metadata["preprocessing"]["scaling"]["kind"] == "standardize"
    assert len(metadata["training"]["costs"]) == 10


def test_what_the_dask_command_writes_validates(tmp_path):
    """cli_train.save_dask's record (no Dask needed: the estimator is fitted on NumPy data)."""
    from logreg.data import standardize

    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, N_X))
    clf = logreg.LogisticRegression(num_iterations=5).fit(X, X[:, 0] > 0)
    clf.engine_ = {"name": "dask", "persisted": True, "chunks": 3, "m": 30, "n_x": N_X}
    path = tmp_path / "m.safetensors"
    cli_train.save_dask(clf, path, tmp_path / "big.zarr", standardize(X.T),
                         {"train": np.float64(97.5), "test": 90.0})
    metadata = lio.read_model(path)[2]
    assert model_schema.problem(metadata) is None and metadata["engine"]["name"] == "dask"


@pytest.mark.parametrize("extra, fragment", [
    ({"data": 5}, "data is 5; expected a string"),
    ({"accuracy": {"train": "high"}}, "accuracy.train is a string"),
    ({"accuracy": {"train": float("nan")}}, "accuracy.train is not finite"),
    ({"note": object()}, "cannot store 'object' values"),
    ({"preprocessing": {"image_shape": [2, 2, 2]}}, "H×W×C = n_x = 3"),
])
def test_metadata_a_reader_would_refuse_is_never_written(tmp_path, extra, fragment):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, N_X))
    clf = logreg.LogisticRegression(num_iterations=3).fit(X, X[:, 1] > 0)
    with pytest.raises(LogregError, match="expected") as caught:
        clf.save(tmp_path / "m.safetensors", **extra)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, (InvalidInputError, TypeError))
    assert list(tmp_path.iterdir()) == []


# --- fuzzing: mutated metadata, loaded by the library and by the command -------------------


def json_values(max_leaves=6):
    scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                        max_leaves=max_leaves)


def key_paths(record, prefix=()):
    """Every key path in ``record`` (into dicts and lists)."""
    paths = []
    items = record.items() if isinstance(record, dict) else enumerate(record) if isinstance(
        record, list) else ()
    for key, value in items:
        paths.append((*prefix, key))
        paths.extend(key_paths(value, (*prefix, key)))
    return paths


def similar(draw, value):
    """A value of the same JSON kind as ``value``: often right, sometimes absurd."""
    if isinstance(value, bool):
        return draw(st.booleans())
    if isinstance(value, int):
        return draw(st.integers(-3, 10**6) | st.sampled_from([0, 2**63, -2**63 - 1]))
    if isinstance(value, float):
        return draw(st.floats(-1e6, 1e6) | st.sampled_from([0.0, -0.0, 1e-300, 1e300]))
    if isinstance(value, str):
        return draw(st.text(max_size=8) | st.sampled_from(["auto", "gd", "lbfgs", "image"]))
    if isinstance(value, list):
        items = [similar(draw, v) for v in value]
        return items[:draw(st.integers(0, len(items)))] if draw(st.booleans()) else items
    return value


@st.composite
def mutated_metadata(draw):
    """VALID, changed 1 to 3 times: a value of the same kind or of another, a key deleted,
    deep nesting."""
    record = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in key_paths(record) if p[0] not in ("format", "format_version")]
        if draw(st.integers(0, 19)) == 0:
            paths = key_paths(record)  # now and then the format itself
        if not paths:
            break
        where = draw(st.sampled_from(paths))
        *parents, last = where
        holder = record
        for key in parents:
            holder = holder[key]
        action = draw(st.sampled_from(["similar", "similar", "similar", "replace", "replace",
                                       "delete", "nest"]))
        if action == "similar":
            holder[last] = similar(draw, holder[last])
        elif action == "replace":
            holder[last] = draw(json_values())
        elif action == "delete" and isinstance(holder, dict):
            del holder[last]
        else:
            for _ in range(draw(st.integers(1, 50))):
                holder[last] = [holder[last]]
    return record


@st.composite
def tensor_sets(draw):
    tensors = {"w": W, "b": np.array([B]), "costs": COSTS}
    change = draw(st.sampled_from(["none", "none", "none", "costs", "w", "drop"]))
    if change == "costs":
        tensors["costs"] = draw(st.sampled_from([np.zeros((2, 2)), np.zeros(3, np.int64),
                                                 np.array([np.nan, np.inf]), np.zeros(0)]))
    elif change == "w":
        tensors["w"] = draw(st.sampled_from([np.zeros((2, 1)), np.zeros((3,)),
                                             np.full((3, 1), np.nan),
                                             np.zeros((3, 1), np.float32)]))
    elif change == "drop":
        del tensors[draw(st.sampled_from(["w", "b", "costs"]))]
    return tensors


FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@FUZZ
@given(metadata=mutated_metadata(), tensors=tensor_sets())
def test_fuzzed_model_files_load_or_are_refused(tmp_path, metadata, tensors):
    path = tmp_path / "fuzz.safetensors"
    write_raw(path, json.dumps(metadata), tensors)  # NaN and Infinity as JSON tokens too
    try:
        clf = logreg.load(path)
    except ModelFileError as error:
        assert "\n" not in str(error) and str(path) in str(error)
        return
    # loaded: then it is a model that predicts, with classes that are the file's
    X = rows(clf, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
    predicted = clf.predict(X)
    assert set(predicted.tolist()) <= set(clf.classes_.tolist())
    assert np.all(np.isfinite(clf.predict_proba(X)))


@FUZZ
@given(metadata=mutated_metadata(), tensors=tensor_sets())
def test_fuzzed_model_files_in_the_command(tmp_path, capsys, metadata, tensors):
    path = tmp_path / "fuzz.safetensors"
    write_raw(path, json.dumps(metadata), tensors)
    csv = tmp_path / "x.csv"
    if not csv.exists():
        csv.write_text("f0,f1,f2,label\n1,0,0,yes\n0,1,0,no\n0,0,1,yes\n")
    code, out, err = run_cli(["predict", path, csv], capsys)
    assert "Traceback" not in err and "Warning" not in err
    if code == 0:
        assert err == "" and len(out.splitlines()) == 4
    else:
        assert code == 2 and out == "" and err.count("\n") == 1, err


# --- a full disk: the old model and its picture stay a pair --------------------------------


@pytest.fixture(scope="module")
def trained_pair(tmp_path_factory):
    """A model and its learning curve from one `logreg train` (the pair to protect)."""
    folder = tmp_path_factory.mktemp("pair")
    assert cli.main(["train", "--iterations", "20", "--quiet", "--out", str(folder)]) == 0
    return {name: (folder / name).read_bytes() for name in (MODEL_NAME, CURVE_NAME)}


def put_pair(folder, pair):
    for name, data in pair.items():
        (folder / name).write_bytes(data)


def assert_old_pair_kept(folder, pair):
    assert sorted(p.name for p in folder.iterdir()) == sorted(pair)  # no temporary files
    for name, data in pair.items():
        assert (folder / name).read_bytes() == data


@pytest.mark.parametrize("failing", ["model", "curve"])
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS])
def test_a_write_that_fails_keeps_the_old_pair(tmp_path, capsys, monkeypatch, trained_pair,
                                               failing, code):
    from matplotlib.figure import Figure

    put_pair(tmp_path, trained_pair)

    def refused(target, data=b"half"):
        with open(target, "wb") as handle:
            handle.write(data[:10])  # a part written, then the disk refuses
        raise OSError(code, os.strerror(code))

    if failing == "model":
        monkeypatch.setattr(Path, "write_bytes", refused)
    else:
        monkeypatch.setattr(Figure, "savefig", lambda self, target, **kwargs: refused(target))
    result = run_cli(["train", "--iterations", "30", "--quiet", "--out", tmp_path], capsys)
    monkeypatch.undo()
    code_, out, err = result
    target = tmp_path / (MODEL_NAME if failing == "model" else CURVE_NAME)
    assert code_ == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"cannot write {target}: {os.strerror(code)};" in err
    assert "another --out" in err
    assert_old_pair_kept(tmp_path, trained_pair)


def test_enospc_message_in_full(tmp_path, capsys, monkeypatch, trained_pair):
    from matplotlib.figure import Figure

    put_pair(tmp_path, trained_pair)

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full)
    code, out, err = run_cli(["train", "--iterations", "5", "--quiet", "--out", tmp_path],
                             capsys)
    assert code == 2
    assert err == (f"logreg train: error: cannot write {tmp_path / CURVE_NAME}: No space "
                   f"left on device; free space or choose another --out.\n")
    assert_old_pair_kept(tmp_path, trained_pair)


@pytest.fixture()
def small_disk(tmp_path):
    """A 256 KiB tmpfs mounted for the test (root only), unmounted after it."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip() or 'no mount'})"
                    f"; the monkeypatched full-disk tests cover the same path")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder, leave):
    """Fill the file system of ``folder`` until ``leave`` bytes are free."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    (folder / "filler").write_bytes(bytes(max(0, free - leave)))


@pytest.mark.parametrize("leave, failing", [(1024, MODEL_NAME), (8 * 1024, MODEL_NAME),
                                            (112 * 1024, CURVE_NAME)])
def test_a_real_full_disk_keeps_the_old_pair(small_disk, capsys, trained_pair, leave,
                                             failing):
    """A real full disk, at three points: no room for a byte of the model, for all of it
    (3000 iterations of costs and history: 96 kB), or room for the model but not for the
    picture (about 30 kB)."""
    put_pair(small_disk, trained_pair)
    fill(small_disk, leave)
    before = {p.name: p.read_bytes() for p in small_disk.iterdir()}
    code, out, err = run_cli(["train", "--iterations", "3000", "--quiet", "--out", small_disk],
                             capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"cannot write {small_disk / failing}: No space left on device; free space or " \
           f"choose another --out." in err
    assert {p.name: p.read_bytes() for p in small_disk.iterdir()} == before


def test_a_real_disk_with_room_writes_the_new_pair(small_disk, capsys, trained_pair):
    put_pair(small_disk, trained_pair)
    code, out, err = run_cli(["train", "--iterations", "7", "--quiet", "--out", small_disk],
                             capsys)
    assert code == 0, err
    assert sorted(p.name for p in small_disk.iterdir()) == sorted(trained_pair)
    assert len(logreg.load(small_disk / MODEL_NAME).costs_) == 7


def test_pipes_devices_and_odd_names_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(ModelFileError, match="not a regular file"):
        logreg.load(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        logreg.load("/dev/zero")
    loop = tmp_path / "loop.safetensors"
    loop.symlink_to(loop)
    with pytest.raises(ModelFileError, match="symbolic links"):
        logreg.load(loop)
    with pytest.raises(ModelFileError, match="too long"):
        logreg.load(tmp_path / ("x" * 5000))


def test_save_on_interrupt_writes_the_model_and_its_curve_as_a_pair(tmp_path, capsys,
                                                                    trained_pair):
    """--save-on-interrupt: the model so far and the curve so far, never a new model beside
    the old run's picture."""
    import argparse

    put_pair(tmp_path, trained_pair)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, N_X))
    clf = logreg.LogisticRegression(num_iterations=6).fit(X, X[:, 0] > 0)
    args = argparse.Namespace(save_on_interrupt=True, out=str(tmp_path))
    model_path = tmp_path / MODEL_NAME
    assert cli_train.interrupted(args, clf, lambda accuracies: clf.save(model_path),
                                 model_path) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "saved the last good parameters" in err
    assert logreg.load(model_path).costs_ == clf.costs_
    curve = (tmp_path / CURVE_NAME).read_bytes()
    assert curve.startswith(b"\x89PNG") and curve != trained_pair[CURVE_NAME]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(trained_pair)


@pytest.mark.parametrize("fifo_name", [MODEL_NAME, CURVE_NAME])
def test_train_refuses_an_output_that_is_a_fifo_before_training(tmp_path, capsys, fifo_name):
    """Before: the FIFO was replaced by a regular file without a word."""
    rows = ["f0,f1,f2,label"] + [f"{i % 7},{(i * 3) % 5},{i % 2},{i % 3 > 0}"
                                 for i in range(40)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / fifo_name)
    code, stdout, err = run_cli(["train", "--data", tmp_path / "t.csv", "--iterations", "3",
                                 "--out", out], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"cannot write {out / fifo_name}: it is a FIFO (named pipe), not a regular " \
           f"file; choose another path." in err
    assert "cost" not in stdout  # refused before any training
    assert [p.name for p in out.iterdir()] == [fifo_name]
    assert stat.S_ISFIFO(os.lstat(out / fifo_name).st_mode)
