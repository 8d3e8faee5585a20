"""The one data policy: which rows of a data source are a model's training part and which its
held-out part.

`logreg train` holds out a share of --data by the one split (``split_indices``:
scikit-learn's ``train_test_split``, stratified by label, seed 0; the built-in sets take it too)
and records it once in the model file (``split_record``). evaluate, summary and predict ask
``model_rows`` which rows to use: the held-out part (evaluate, predict) or the training part
(summary) when, and only when, the data handed in are the data that split was made of, known
by their fingerprint (SHA-256 of the loaded X and labels: a copy at another path is
recognised, other data at the same path are not); ``all_rows`` takes every row; data that are
not the model's are used whole. Nothing the file says is trusted: the model file's schema
checks the record's form when it is read, and ``model_rows`` checks it against the data (the
number of examples, the number held out, and the record's SHA-256, which seals the data's
fingerprint with the share, rule and seed, so that an edited share or seed does not fit
either); a record that does not fit the data is not believed, and the data are used whole.
"""

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from logreg.data.builtin import BUILT_IN, BUILT_IN_IMAGES
from logreg.data.partition import split_indices
from logreg.data.sources import load_dataset
from logreg.errors import InvalidInputError

RULE = "stratified"  # train_test_split(stratify=labels, random_state=seed), as split_indices
SEED = 0
BLOCK = 4096  # examples hashed at a time: the fingerprint never copies the whole of X


@dataclass
class Rows:
    """The rows of a data source a command uses: ``kind`` "held-out", "training" or "all";
    ``index`` those rows in the data's order (None: all); ``total`` the data's m;
    ``held_out`` how many of them the model's training held out (0: the data are not the
    ones its split was made of, or it held out nothing)."""

    kind: str
    total: int
    index: np.ndarray = None
    held_out: int = 0

    @property
    def m(self):
        """How many rows are used."""
        return self.total if self.index is None else int(self.index.size)


def load_whole(source, prefer=None, **options):
    """The whole of a data source, as the split sees it: a built-in set whole (never one of
    its parts), a file as ``load_dataset`` reads it (``prefer``: an .h5's set, "train" or
    "test", where it holds both)."""
    if source in BUILT_IN_IMAGES:
        return BUILT_IN_IMAGES[source](test_size=0)[0]
    return load_dataset(source, split=prefer, **options)


def place(source):
    """Where data come from, as a record names it: a built-in set's name, a file's absolute
    path."""
    return source if source in BUILT_IN else str(Path(source).resolve())


def fingerprint(dataset):
    """SHA-256 (hex) of the loaded data: the shape and values of X (as float64, example by
    example; a sparse X by its canonical CSC arrays) and each example's label by name, so
    that the order in which the classes are listed does not matter."""
    from scipy import sparse

    digest = hashlib.sha256(json.dumps(list(dataset.X.shape)).encode())
    X = dataset.X
    if sparse.issparse(X):
        X = sparse.csc_matrix(X, copy=True)
        X.sum_duplicates()
        X.eliminate_zeros()
        for part, dtype in ((X.data, np.float64), (X.indices, np.int64), (X.indptr, np.int64)):
            digest.update(np.ascontiguousarray(part, dtype=dtype).tobytes())
    else:
        for start in range(0, X.shape[1], BLOCK):
            digest.update(np.ascontiguousarray(X[:, start:start + BLOCK].T,
                                               dtype=np.float64).tobytes())
    names = np.asarray([str(name) for name in dataset.classes])
    rank = np.empty(names.size, np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(names.size)  # classes by name
    digest.update(json.dumps(sorted(names.tolist())).encode())
    digest.update(rank[dataset.Y.ravel().astype(np.int64)].tobytes())
    return digest.hexdigest()


def split_record(whole, test, test_size, source):
    """What `logreg train` records of its split of ``whole`` (``test`` held out of it) to find
    the same rows again and to recognise the same data: the share, the rule and seed, the
    number of examples and of those held out, the sealed fingerprint, and where the data
    were."""
    return {"test_size": float(test_size), "rule": RULE, "random_state": SEED,
            "data": place(source), "m": whole.m, "held_out": test.m,
            "sha256": _sealed(fingerprint(whole), float(test_size), RULE, SEED)}


def _sealed(data_sha256, test_size, rule, seed):
    """SHA-256 of the data's fingerprint with the split's share, rule and seed."""
    split = json.dumps([data_sha256, test_size, rule, seed])
    return hashlib.sha256(split.encode()).hexdigest()


def model_rows(record, dataset, source, part, all_rows=False):
    """The ``Rows`` of ``dataset`` (the whole of ``source``, loaded) a command uses for a model
    whose split record is ``record``: ``part`` ("held-out" or "training") where they are the
    data the split was made of, every row with ``all_rows`` or where they are not."""
    parts = _recorded_parts(record, dataset, source)
    if parts is None:
        return Rows("all", dataset.m)
    train, test = parts
    if all_rows:
        return Rows("all", dataset.m, None, int(test.size))
    return Rows(part, dataset.m, np.sort(test if part == "held-out" else train),
                int(test.size))


def take(dataset, rows):
    """The rows ``rows`` of ``dataset`` (itself when they are all)."""
    if rows.index is None:
        return dataset
    return replace(dataset, X=dataset.X[:, rows.index], Y=dataset.Y[:, rows.index])


def _recorded_parts(record, dataset, source):
    """(train, test) indices of ``dataset`` if ``record`` is a split of these very data, else
    None. A record written before fingerprints (test_size, data, m only) is believed for the
    same place and the same number of examples, as it was then."""
    if not isinstance(record, dict):
        return None
    test_size, m = record.get("test_size"), record.get("m")
    if not (type(test_size) is float and 0.0 < test_size < 1.0 and type(m) is int
            and m == dataset.m):
        return None
    if "sha256" in record:
        seed, rule = record.get("random_state", SEED), record.get("rule", RULE)
        if rule != RULE or type(seed) is not int or \
                record["sha256"] != _sealed(fingerprint(dataset), test_size, rule, seed):
            return None
    elif record.get("data") == place(source):
        seed = SEED
    else:
        return None
    try:
        train, test = split_indices(dataset, test_size, seed)
    except (InvalidInputError, ValueError):  # a share these data cannot be split by
        return None
    held_out = record.get("held_out", test.size)
    return (train, test) if type(held_out) is int and held_out == test.size else None
