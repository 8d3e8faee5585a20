"""Model files written by hand for the tests of ``logreg.modelfile.io``: raw safetensors with the
metadata a test chooses, and the temporaries a failed write may leave."""

import json
from pathlib import Path


def save_raw(path, tensors, metadata):
    from safetensors.numpy import save_file

    save_file(tensors, str(path), metadata=metadata)
    return path


def logreg_metadata(**changes):
    record = {"format": "logreg-model", "format_version": 1, "n_x": 3, "classes": ["a", "b"]}
    record.update(changes)
    return {"logreg": json.dumps(record)}


def record(**changes):
    """The metadata of a three-class model of format version 3 (n_x = 4), changed."""
    base = {"format": "logreg-model", "format_version": 3, "n_x": 4, "classes": ["a", "b", "c"]}
    return {**base, **changes}


def save_record(path, tensors, fields):
    """``save_raw`` with ``fields`` as the JSON under the "logreg" key."""
    return save_raw(path, tensors, {"logreg": json.dumps(fields)})


def temporaries(folder):
    """Temporary files (".<name>.<random><suffix>") left behind."""
    return [p for p in Path(folder).iterdir() if p.name.startswith(".")]
