"""What a model file's JSON metadata may say: a JSON Schema, checked on every read and write.

Nothing a file says is trusted. ``problem(metadata)`` returns ``None`` for metadata that
logreg can use, else one sentence naming the key path, what it holds and what was expected
("training.costs is a string; expected a list of numbers"). Keys a future logreg may add are
allowed; keys logreg reads must have the right types. Lengths follow n_x (feature names,
scaling means and spreads, the image shape), so the schema is built for the file's n_x.

Long lists of numbers (costs, per-feature means) are checked by one custom keyword in bulk:
jsonschema's per-item checks take seconds for a million numbers. jsonschema is imported on
the first check, so that commands which read no model start without it.
"""

import json
import math
from functools import lru_cache

import numpy as np

FORMAT = "logreg-model"
FORMAT_VERSION = 4  # 4: history tensors; 3: W (n_x, K'), b (K',) for K classes; 2: costs tensor
LARGEST_FLOAT = 1.7976931348623157e308
INT64 = (-2**63, 2**63 - 1)
# the keys of logreg.LogisticRegression().get_params() (a test keeps them equal), listed here so
# that reading a model file does not import scikit-learn
PARAMS = ("backprop", "class_weight", "dtype", "fit_intercept", "implementation", "l2",
          "learning_rate", "n_threads", "num_iterations", "on_divergence", "solver", "tol",
          "verbose", "warm_start",
          # issue 13: early stopping and the callback (saved as None: a function is code)
          "early_stopping", "validation_fraction", "n_iter_no_change", "random_state",
          "callback")
UNRECORDED = "unrecorded"  # the engine of a model saved before logreg recorded it


def _node(expected, **schema):
    """A schema node with the words used in messages for what it expects."""
    return {"description": expected, **schema}


def _numbers(expected, finite=True, nonzero=False, positive=False, **schema):
    return _node(expected, type="array", numbers={"finite": finite, "nonzero": nonzero,
                                                  "positive": positive}, **schema)


def _when_kind(kind, mean, spread):
    """The scaling's mean and spread as its ``kind`` requires (``Scaling.to_dict`` writes)."""
    return {"if": {"required": ["kind"], "properties": {"kind": {"const": kind}}},
            "then": {"properties": {"mean": mean, "spread": spread}}}


def _scaling(n_x, count):
    """Per feature (x − μ) / σ: n_x means and n_x spreads σ > 0; the image kind is x / 255,
    no scaling x / 1, each one number; max-abs (sparse tables) x / max|x|: mean [0] (no
    centring) and n_x spreads > 0."""
    per_feature = _length(n_x, n_x)
    return _node(
        "an object with kind, mean and spread, or null", type=["object", "null"],
        required=["kind", "mean", "spread"], properties={
            "kind": _node('one of "image", "standardize", "none", "maxabs"',
                          enum=["image", "standardize", "none", "maxabs"]),
            "mean": _numbers("a list of finite numbers"),
            "spread": _numbers("a list of finite numbers > 0", nonzero=True, positive=True)},
        allOf=[
            _when_kind("standardize",
                       _numbers(f"a list of {count} finite numbers (one mean per feature) for "
                                f'kind "standardize"', **per_feature),
                       _numbers(f"a list of {count} finite numbers > 0 (one spread per "
                                f'feature) for kind "standardize"', nonzero=True,
                                positive=True, **per_feature)),
            _when_kind("image", _node('[0] for kind "image" (x / 255)', const=[0]),
                       _node('[255] for kind "image" (x / 255)', const=[255])),
            _when_kind("none", _node('[0] for kind "none"', const=[0]),
                       _node('[1] for kind "none"', const=[1])),
            _when_kind("maxabs", _node('[0] for kind "maxabs" (no centring)', const=[0]),
                       _numbers(f"a list of {count} finite numbers > 0 (one max|x| per "
                                f'feature) for kind "maxabs"', nonzero=True, positive=True,
                                **per_feature))])


def _split():
    """What `logreg train` held out of --data (logreg.data.split.split_record): the share, the
    rule and seed, m and how many held out, the data's SHA-256 and place; a file written
    before the fingerprint holds test_size, data and m only."""
    count = {"type": "integer", "minimum": 1}
    return _node(
        "null or an object with test_size, data and m (and rule, random_state, held_out, "
        "sha256)", type=["object", "null"], required=["test_size", "data", "m"], properties={
            "test_size": _node("a number > 0 and < 1", type="number", exclusiveMinimum=0,
                               exclusiveMaximum=1),
            "data": _node("a string", type="string"),
            "m": _node("an integer ≥ 2", type="integer", minimum=2),
            "held_out": _node("an integer ≥ 1", **count),
            "rule": _node('"stratified"', const="stratified"),
            "random_state": _node("an integer from 0 to 2**32 − 1", type="integer", minimum=0,
                                  maximum=2**32 - 1),
            "sha256": _node("64 hexadecimal digits", type="string",
                            pattern="^[0-9a-f]{64}$")})


def _engine_names():
    from logreg.engines import ENGINES  # on the first check only: io stays light

    return [*ENGINES, UNRECORDED]


def _length(n_x, length):
    """minItems / maxItems for a list of exactly ``length`` items (n_x unknown: none)."""
    return {} if n_x is None else {"minItems": length, "maxItems": length}


def schema(n_x=None):
    """The metadata's JSON Schema for a model of ``n_x`` features."""
    count = "n_x" if n_x is None else f"n_x = {n_x}"
    label = _node("a string, a boolean or a number (|x| < 2**63)",
                  anyOf=[{"type": ["string", "boolean"]},
                         {"type": "number", "minimum": INT64[0], "maximum": INT64[1]}])
    scaling = _scaling(n_x, count)
    positive = {"type": "integer", "minimum": 1}
    image_shape = _node(f"null or [H, W, C], three positive integers with H×W×C = {count}",
                        type=["array", "null"], minItems=3, maxItems=3, product=n_x,
                        items=_node("a positive integer", **positive))
    number = _node('a number ≥ 0, "auto" or null', anyOf=[
        {"type": "number", "minimum": 0}, {"const": "auto"}, {"type": "null"}])
    count_of = _node("an integer ≥ 0 or null", type=["integer", "null"], minimum=0)
    text = _node("a string", type="string")
    setting = _node("a string or null", type=["string", "null"])
    engine_names = _engine_names()
    return {
        "type": "object",
        "required": ["format", "format_version", "n_x", "classes"],
        "properties": {
            "format": _node(json.dumps(FORMAT), const=FORMAT),
            "format_version": _node(f"an integer from 1 to {FORMAT_VERSION}", type="integer",
                                    minimum=1, maximum=FORMAT_VERSION),
            "n_x": _node("an integer ≥ 1", **positive),
            "classes": _node("a list of 2 or more distinct labels, all strings, all booleans "
                             "or all numbers", type="array", minItems=2, uniqueItems=True,
                             items=label, oneKind=True),
            "dtype": text,
            "feature_names": _node(f"null or a list of {count} distinct strings",
                                   type=["array", "null"], uniqueItems=True, items=text,
                                   **_length(n_x, n_x)),
            "preprocessing": _node("an object (scaling, image_shape, label_column, sparse, "
                                   "zero_based)",
                                   type="object", properties={
                                       "scaling": scaling, "image_shape": image_shape,
                                       "label_column": _node("a string or null",
                                                             type=["string", "null"]),
                                       "sparse": _node("a boolean", type="boolean"),
                                       "zero_based": _node("a boolean or null",
                                                           type=["boolean", "null"])}),
            "training": _node("an object (the training settings and costs)", type="object",
                              properties={
                                  "solver": setting,
                                  "learning_rate": _node(
                                      'a number > 0, "auto" or null',
                                      anyOf=[{"type": "number", "exclusiveMinimum": 0},
                                             {"const": "auto"}, {"type": "null"}]),
                                  "num_iterations": count_of,
                                  "n_iter": _node("an integer ≥ 0", type="integer",
                                                  minimum=0),
                                  "tol": number, "l2": _node("a number ≥ 0 or null", type=[
                                      "number", "null"], minimum=0),
                                  "backprop": setting, "implementation": setting,
                                  "costs": _numbers("a list of numbers", finite=False)}),
            "accuracy": _node("an object of numbers", type="object",
                              additionalProperties=_node("a number", type="number")),
            "data": text,
            "split": _split(),
            "engine": _node("an object with a name", type="object", required=["name"],
                            properties={"name": _node(
                                "one of " + ", ".join(map(json.dumps, engine_names)),
                                enum=engine_names)}),
            "params": _node("an object (the estimator's get_params())", type="object",
                            knownKeys=list(PARAMS)),
            "logreg_version": text,
        },
    }


# --- custom keywords: bulk number lists, the image shape's product, one kind of label ------


def _numbers_keyword(validator, options, instance, schema):
    from jsonschema.exceptions import ValidationError

    if not isinstance(instance, list):
        return
    bad = _first_bad_number(instance, options["finite"], options["nonzero"],
                            options.get("positive", False))
    if bad is not None:
        index, message = bad
        yield ValidationError(message, path=(index,), instance=instance[index])


def _first_bad_number(values, finite, nonzero, positive=False):
    """(index, "is …; expected …") of the first unacceptable entry, or None."""
    if set(map(type, values)) <= {int, float}:  # the common case, checked in bulk
        try:
            array = np.asarray(values, dtype=np.float64)
        except OverflowError:  # an integer beyond float64: found by the loop below
            array = None
        if array is not None and (not finite or np.isfinite(array).all()) and (
                not nonzero or array.all()) and (not positive or (array > 0).all()):
            return None
    for index, value in enumerate(values):
        if type(value) not in (int, float):
            return index, f"is {describe(value, type_error=True)}; expected a number"
        if type(value) is int and abs(value) > LARGEST_FLOAT:
            return index, f"is {describe(value)}; expected a number within float64's range"
        if finite and not math.isfinite(value):
            return index, f"is {describe(value)}; expected a finite number"
        if nonzero and value == 0:
            return index, "is 0; expected a non-zero number"
        if positive and not value > 0:
            return index, f"is {describe(value)}; expected a number > 0"
    return None


def _known_keys_keyword(validator, known, instance, schema):
    from jsonschema.exceptions import ValidationError

    if not isinstance(instance, dict):
        return
    unknown = [key for key in instance if key not in known]
    if unknown:
        yield ValidationError(f"holds the key {_short(json.dumps(unknown[0]))}; expected only "
                              f"keys among {', '.join(known)}")


def _product_keyword(validator, n_x, instance, schema):
    from jsonschema.exceptions import ValidationError

    if n_x is None or not isinstance(instance, list) or len(instance) != 3 or not all(
            type(v) is int and v >= 1 for v in instance):
        return  # the other keywords report these
    if math.prod(instance) != n_x:
        yield ValidationError(f"is {instance} (H×W×C = {math.prod(instance)}); expected an "
                              f"image shape with H×W×C = n_x = {n_x}")


def _one_kind_keyword(validator, value, instance, schema):
    from jsonschema.exceptions import ValidationError

    if not isinstance(instance, list) or len(instance) < 2:
        return
    kinds = {"strings" if isinstance(v, str) else "booleans" if isinstance(v, bool)
             else "numbers" if isinstance(v, (int, float)) else "other" for v in instance}
    if "other" in kinds:
        return  # items' own check reports it
    if len(kinds) > 1:
        yield ValidationError(f"mixes {' and '.join(sorted(kinds))}; expected labels all of "
                              f"one kind")
        return
    held = np.asarray(instance)  # what the estimator's classes_ will be
    if held.tolist() != instance or np.unique(held).size != len(instance):
        yield ValidationError(f"is {describe(instance)} and NumPy holds it as "
                              f"{describe(held.tolist())}; expected labels NumPy keeps "
                              f"distinct and unchanged")


_CUSTOM = {"numbers": _numbers_keyword, "product": _product_keyword,
           "oneKind": _one_kind_keyword, "knownKeys": _known_keys_keyword}


@lru_cache(maxsize=16)
def _validator(n_x):
    """A Draft 2020-12 validator with the keywords above, for a model of n_x features."""
    from jsonschema import Draft202012Validator, validators

    # "integer" means a JSON integer: 3, never 3.0 (Draft 2020-12 would take 3.0)
    strict = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda checker, value: type(value) is int)
    return validators.extend(Draft202012Validator, _CUSTOM, type_checker=strict)(schema(n_x))


# --- messages ------------------------------------------------------------------------------


def problem(metadata):
    """None if ``metadata`` (parsed JSON) is a model's metadata logreg can use, else why not."""
    n_x = metadata.get("n_x") if isinstance(metadata, dict) else None
    if type(n_x) is not int or n_x < 1:
        n_x = None  # reported by the schema; lengths cannot be checked
    error = next(_validator(n_x).iter_errors(metadata), None)
    return None if error is None else message(error)


def message(error):
    """One sentence from a jsonschema error: the key path, what it holds, what was expected."""
    where = key_path(error.absolute_path) or "the metadata"
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        expected = error.schema["properties"][missing].get("description", "a value")
        inside = "" if where == "the metadata" else f" in {where}"
        return f"the key {missing!r} is missing{inside}; expected {expected}"
    if error.validator in _CUSTOM:
        return f"{where} {error.message}"
    expected = error.schema.get("description") or _expected_from(error)
    return f"{where} is {describe(error.instance, error.validator == 'type')}; expected " \
           f"{expected}"


def _expected_from(error):
    """The words for a schema node with no description (list entries: the keyword's value)."""
    if error.validator == "type":
        kinds = error.validator_value
        return " or ".join(kinds) if isinstance(kinds, list) else f"a {kinds}"
    return f"{error.validator} {error.validator_value!r}"


def key_path(parts):
    """("training", "costs", 3) → "training.costs[3]"."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe(value, type_error=False):
    """A short description of a JSON value for a message, never its whole text."""
    if isinstance(value, str):
        return "a string" if type_error else _short(json.dumps(value))
    if value is None or isinstance(value, (bool, int, float)):
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
            return f"an integer of {value.bit_length()} bits"
        return json.dumps(value) if isinstance(value, bool) or value is None else repr(value)
    if isinstance(value, list):
        if len(value) <= 4 and all(isinstance(v, (str, int, float)) or v is None
                                   for v in value):
            return _short(json.dumps(value))
        return f"a list of {_count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"an object of {_count(len(value), 'key')}"
    return type(value).__name__


def _count(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _short(text, limit=60):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def non_finite(value, skip=(("training", "costs"),)):
    """The key path of the first NaN or infinity in parsed JSON (none but under ``skip``)."""
    stack = [((), value)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return key_path(path)
        if isinstance(value, dict) and path not in skip:
            stack.extend(((*path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list) and path not in skip:
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
    return None
