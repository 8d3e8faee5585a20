"""The command refusing a user's mistakes: exit status 2, one line on stderr naming the problem,
no traceback; a pickle is never unpickled; a failed or interrupted run writes nothing.

Everything is written under pytest's tmp_path.
"""

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from cli_helpers import digits_run  # noqa: F401  (a fixture)
from cli_helpers import PNG_MAGIC, run_script, sparse_problem, touch, write_csv
from helpers import assert_user_error, run_cli, run_quietly
from PIL import Image
from sklearn.datasets import dump_svmlight_file

import logreg


# --- a user's mistakes: exit 2, one line on stderr, no traceback -------------------------------


@pytest.fixture()
def small_csv(tmp_path):
    return write_csv(tmp_path / "ok.csv", ["a", "b", "label"],
                     [(1, 2, "x"), (3, 1, "y"), (5, 6, "x"), (7, 3, "y"), (2, 2, "x"),
                      (6, 1, "y"), (0, 4, "x"), (8, 2, "y")])


def _h5_without_keys(tmp_path):
    import h5py

    with h5py.File(tmp_path / "odd.h5", "w") as handle:
        handle["pictures"] = np.zeros((2, 4, 4, 3), np.uint8)
        handle["answers"] = np.array([0, 1])
    return tmp_path / "odd.h5"


def _model_file(tmp_path, w, meta):
    import json

    from safetensors.numpy import save_file

    path = tmp_path / "crafted.safetensors"
    save_file({"w": w, "b": np.zeros(1)}, str(path), metadata={"logreg": json.dumps(meta)})
    return path


MISTAKES = {
    "missing --data path": (
        lambda t, m: ["train", "--data", t / "nope.h5", "--out", t / "o"],
        ["nope.h5", "does not exist"]),
    "unknown suffix": (
        lambda t, m: ["train", "--data", touch(t / "data.txt", b"1,2\n"), "--out", t / "o"],
        ["data.txt", ".txt"]),
    "corrupt image to predict": (
        lambda t, m: ["predict", m, touch(t / "broken.png", PNG_MAGIC + os.urandom(200))],
        ["broken.png", "image"]),
    "h5 without the expected keys": (
        lambda t, m: ["train", "--data", _h5_without_keys(t), "--out", t / "o"],
        ["odd.h5", "train_set_x"]),
    "csv without the label column": (
        lambda t, m: ["train", "--data", write_csv(t / "nolabel.csv", ["a", "b", "kind"],
                                                   [(1, 2, "x"), (3, 4, "y")]),
                      "--out", t / "o"],
        ["nolabel.csv", "'label'"]),
    "csv with ragged rows": (
        lambda t, m: ["train", "--data", touch(t / "ragged.csv",
                                               b"a,b,label\n1,2,x\n3,4\n5,6,y\n"),
                      "--out", t / "o"],
        ["ragged.csv", "line 3"]),
    "csv with NaN": (
        lambda t, m: ["train", "--data", touch(t / "nan.csv",
                                               b"a,b,label\n1,2,x\n3,nan,y\n5,6,x\n7,8,y\n"),
                      "--test-size", "0", "--out", t / "o"],
        ["nan"]),
    "one class only": (
        lambda t, m: ["train", "--data", touch(t / "one.csv",
                                               b"a,b,label\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n"),
                      "--test-size", "0", "--out", t / "o"],
        ["one class"]),
    "truncated model file": (
        lambda t, m: ["predict", touch(t / "cut.safetensors",
                                       m.read_bytes()[: len(m.read_bytes()) // 2]),
                      touch(t / "x.png", b"")],
        ["cut.safetensors", "truncated"]),
    "random bytes as model": (
        lambda t, m: ["predict", touch(t / "noise.safetensors",
                                       np.random.default_rng(0).bytes(4096)),
                      touch(t / "x.png", b"")],
        ["noise.safetensors", "model file"]),
    "model from a newer format": (
        lambda t, m: ["predict", _model_file(t, np.zeros((4, 1)), {
            "format": "logreg-model", "format_version": 999, "n_x": 4,
            "classes": ["a", "b"]}), touch(t / "x.csv", b"a,b,c,d\n1,2,3,4\n")],
        ["999", "newer"]),
    "weights not matching metadata": (
        lambda t, m: ["predict", _model_file(t, np.zeros((3, 1)), {
            "format": "logreg-model", "format_version": 1, "n_x": 4,
            "classes": ["a", "b"]}), touch(t / "x.csv", b"a,b,c,d\n1,2,3,4\n")],
        ["(3, 1)", "n_x = 4"]),
    "missing model file": (
        lambda t, m: ["predict", t / "absent.safetensors", touch(t / "x.png", b"")],
        ["absent.safetensors", "does not exist"]),
    "out under a regular file (.safetensors)": (
        lambda t, m: ["train", "--iterations", "1", "--out",
                      touch(t / "afile", b"x") / "model.safetensors"],
        ["afile"]),
    "out under a regular file (folder)": (
        lambda t, m: ["train", "--iterations", "1", "--out", touch(t / "afile", b"x") / "sub"],
        ["afile"]),
    "out is a regular file": (
        lambda t, m: ["train", "--iterations", "1", "--out", touch(t / "afile", b"x")],
        ["afile", "is a file"]),
    "out under a missing folder": (
        lambda t, m: ["train", "--iterations", "1", "--out", t / "no" / "where.safetensors"],
        ["where.safetensors", "does not exist"]),
    "unknown option": (
        lambda t, m: ["train", "--bogus"], ["--bogus"]),
    "unknown command": (
        lambda t, m: ["fly"], ["fly"]),
    "test-size out of range (csv)": (
        lambda t, m: ["train", "--data", t / "ok.csv", "--test-size", "1.5", "--out", t / "o"],
        ["--test-size", "1.5"]),
    "zero iterations": (
        lambda t, m: ["train", "--iterations", "0", "--out", t / "o"], ["iterations"]),
    "negative learning rate": (
        lambda t, m: ["train", "--learning-rate", "-1", "--out", t / "o"], ["learning"]),
    "image model given a folder without images": (
        lambda t, m: ["predict", m, _mkdir(t / "empty")], ["no image files"]),
    "table model given images": (
        lambda t, m: ["predict", _table_model(t), touch(t / "x.png", b"")], ["table"]),
}


def _mkdir(path):
    path.mkdir()
    return path


def _table_model(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["a", "label"], [(1, "x"), (2, "y"), (3, "x"),
                                                         (4, "y")])
    run_quietly(["train", "--data", path, "--test-size", "0", "--iterations", "3", "--out",
                 tmp_path / "t.safetensors"])
    return tmp_path / "t.safetensors"


def mistake(name, root):
    """(argv, fragments) of one mistake, its files made under ``root``."""
    rows, y = sparse_problem(m=30, n=6)
    sp.save_npz(root / "x.npz", rows)
    np.save(root / "y.npy", y)
    np.save(root / "y29.npy", y[:29])
    dump_svmlight_file(rows, y, str(root / "d.svm"), zero_based=False)
    np.savez(root / "plain.npz", X=rows.toarray(), y=y)
    out = ["--out", root / "o"]
    if name == "labels with svmlight":
        return ["train", "--data", root / "d.svm", "--labels", root / "y.npy", *out], \
            ["--labels", "svmlight file holds its labels"]
    if name == "labels with the built-in set":
        return ["train", "--labels", root / "y.npy", *out], ["--labels", "no .npz"]
    if name == "sparse npz without labels":
        return ["train", "--data", root / "x.npz", *out], ["sparse matrix", "--labels FILE"]
    if name == "labels count":
        return ["train", "--data", root / "x.npz", "--labels", root / "y29.npy", *out], \
            ["30 examples (rows)", "29 labels"]
    if name == "plain npz with labels":
        return ["train", "--data", root / "plain.npz", "--labels", root / "y.npy", *out], \
            ["not a SciPy sparse matrix", "leave --labels out"]
    if name == "malformed svmlight":
        (root / "bad.svm").write_text("1 1:2 2:x\n2 1:1\n")
        return ["train", "--data", root / "bad.svm", *out], ["not a readable svmlight"]
    if name == "test labels without test data":
        return ["train", "--data", root / "x.npz", "--labels", root / "y.npy",
                "--test-labels", root / "y.npy", *out], ["--test-labels", "no --test-data"]
    if name == "dense test data for sparse training":
        (root / "t.csv").write_text("a,b,label\n1,2,1\n3,4,2\n")
        return ["train", "--data", root / "d.svm", "--test-data", root / "t.csv", *out], \
            ["t.csv is no sparse table", "a sparse table of 6 features"]
    if name == "image size for svmlight":
        return ["train", "--data", root / "d.svm", "--image-size", 8, 8, *out], \
            ["--image-size", "is a table"]
    if name == "class without examples":
        import h5py

        with h5py.File(root / "k.h5", "w") as handle:
            handle["train_set_x"] = np.zeros((4, 2, 2, 3), np.uint8)
            handle["train_set_y"] = np.array([0, 1, 0, 1])
            handle["list_classes"] = np.array([b"a", b"b", b"c"])
        return ["train", "--data", root / "k.h5", "--test-size", 0, *out], \
            ["no training example of 'c'"]
    if name == "empty class folder":
        for label in "ab":
            (root / "imgs" / label).mkdir(parents=True)
            Image.new("RGB", (4, 4)).save(root / "imgs" / label / "0.png")
        (root / "imgs" / "c").mkdir()
        return ["train", "--data", root / "imgs", *out], ["one class ('c') has no image"]
    raise AssertionError(name)


# mistakes that need classes, sparse tables or labels files: mistake() makes their files
SPARSE_AND_CLASS_MISTAKES = ["labels with svmlight", "labels with the built-in set",
            "sparse npz without labels", "labels count", "plain npz with labels",
            "malformed svmlight", "test labels without test data",
            "dense test data for sparse training", "image size for svmlight",
            "class without examples", "empty class folder"]
MISTAKES.update({name: (None, None) for name in SPARSE_AND_CLASS_MISTAKES})


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_user_mistake_is_one_line_exit_2(case, tmp_path, small_csv, digits_run, capsys):
    build, fragments = MISTAKES[case]
    if build is None:
        argv, fragments = mistake(case, tmp_path)
    else:
        argv = build(tmp_path, digits_run.model)
    assert_user_error(run_cli(argv, capsys), *fragments)
    assert not (tmp_path / "o").exists()


def test_test_size_out_of_range_with_default_data(tmp_path, capsys):
    assert_user_error(run_cli(["train", "--test-size", "1.5", "--iterations", "1",
                               "--out", tmp_path / "o"], capsys), "--test-size")


def test_test_data_missing_with_default_data(tmp_path, capsys):
    assert_user_error(run_cli(["train", "--test-data", tmp_path / "absent.csv",
                               "--iterations", "1", "--out", tmp_path / "o"], capsys),
                      "absent.csv")


def test_out_under_regular_file_names_the_real_problem(tmp_path, capsys):
    parent = touch(tmp_path / "afile", b"x")
    line = assert_user_error(run_cli(["train", "--iterations", "1", "--out",
                                      parent / "m.safetensors"], capsys), "afile")
    assert "does not exist" not in line
    assert "not a folder" in line or "is a file" in line


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can write to read-only folders")
def test_out_in_read_only_folder(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert_user_error(run_cli(["train", "--iterations", "1", "--out",
                                   folder / "m.safetensors"], capsys), "permission")
    finally:
        folder.chmod(0o755)


def test_user_mistakes_as_real_processes(tmp_path):
    assert_user_error(run_script(["train", "--data", "missing.h5", "--out", "o"], tmp_path),
                      "missing.h5")
    assert_user_error(run_script(["predict", "--nope", "m.safetensors", "x.png"], tmp_path),
                      "--nope")
    assert_user_error(run_script(["evaluate", "m.safetensors"], tmp_path, module=True),
                      "--data")


# --- model files and data of another kind ------------------------------------------------------


class _Payload:
    """A pickle that, if ever unpickled, creates a file: proof of code execution."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_payload_is_never_unpickled(tmp_path, capsys):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Payload(control))).close()
    assert control.exists(), "the payload must be live for this test to mean anything"

    marker = tmp_path / "PWNED"
    evil = touch(tmp_path / "model.safetensors", pickle.dumps(_Payload(marker)))
    with pytest.raises(logreg.LogregError):
        logreg.load(evil)
    assert_user_error(run_cli(["predict", evil, touch(tmp_path / "x.png", b"")],
                              capsys), "model.safetensors")
    assert_user_error(run_script(["evaluate", evil, "--data", "digits"], tmp_path),
                      "model.safetensors")
    assert not marker.exists()


def test_crafted_model_whose_columns_disagree_with_its_classes(tmp_path, capsys):
    from safetensors.numpy import save_file

    record = {"format": "logreg-model", "format_version": 3, "n_x": 2,
              "classes": ["a", "b", "c"],
              "preprocessing": {"scaling": {"kind": "none", "mean": [0], "spread": [1]}}}
    save_file({"W": np.zeros((2, 2)), "b": np.zeros(2)}, str(tmp_path / "m.safetensors"),
              metadata={"logreg": json.dumps(record)})
    (tmp_path / "x.csv").write_text("f0,f1\n1,2\n")
    assert_user_error(run_cli(["predict", tmp_path / "m.safetensors", tmp_path / "x.csv"],
                              capsys),
                      "W has 2 column(s) but the metadata names 3 classes")


@pytest.fixture(scope="module")
def sparse_and_dense_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("kinds")
    rows, y = sparse_problem(m=30, n=6)
    dump_svmlight_file(rows, y, str(root / "d.svm"), zero_based=False)
    sp.save_npz(root / "x.npz", rows)
    np.save(root / "y.npy", y)
    (root / "t.csv").write_text("a,b,label\n1,2,x\n3,4,y\n5,1,x\n0,3,y\n")
    for data, model in ((root / "d.svm", "sparse"), (root / "t.csv", "dense")):
        code, _, err = run_quietly(["train", "--data", data, "--iterations", 5, "--test-size",
                                    0, "--out", root / f"{model}.safetensors"])
        assert code == 0, err
    return root


@pytest.mark.parametrize("argv, fragments", [
    (["predict", "{sparse}", "{root}/t.csv"], ["trained on a sparse table of 6 features",
                                               "one svmlight file"]),
    (["predict", "{sparse}", "{root}/d.svm", "{root}/d.svm"], ["not 2 input(s)"]),
    (["predict", "{dense}", "{root}/d.svm"], ["trained on a table of 2 features",
                                              "one CSV"]),
    (["evaluate", "{sparse}", "--data", "{root}/t.csv"], ["t.csv is no sparse table",
                                                          "a sparse table of 6 features"]),
    (["evaluate", "{dense}", "--data", "{root}/d.svm"], ["d.svm is a sparse table",
                                                         "a table of 2 features"]),
    (["evaluate", "{sparse}", "--data", "{root}/x.npz"], ["--labels FILE"]),
    (["evaluate", "{sparse}", "--data", "{root}/d.svm", "--labels", "{root}/y.npy"],
     ["svmlight file holds its labels"]),
    (["evaluate", "{dense}", "--data", "digits10"], ["holds images"]),
], ids=["sparse-model-csv", "sparse-model-two-inputs", "dense-model-svm",
        "sparse-model-csv-evaluate", "dense-model-svm-evaluate", "npz-without-labels",
        "svm-with-labels", "table-model-on-digits10"])
def test_data_of_another_kind_than_the_models(sparse_and_dense_models, capsys, argv,
                                              fragments):
    root = sparse_and_dense_models
    argv = [a.format(root=root, sparse=root / "sparse.safetensors",
                     dense=root / "dense.safetensors") for a in argv]
    assert_user_error(run_cli(argv, capsys), *fragments)


def test_dense_model_refuses_sparse_test_data(sparse_and_dense_models, capsys):
    root = sparse_and_dense_models
    assert_user_error(run_cli(["evaluate", root / "dense.safetensors", "--data",
                               root / "x.npz", "--labels", root / "y.npy"], capsys),
                      "x.npz is a sparse table", "a table of 2 features")


def test_sparse_model_refuses_a_dense_npz(sparse_and_dense_models, capsys):
    """An .npz of plain arrays X, y: its content tells, once read."""
    root = sparse_and_dense_models
    np.savez(root / "plain.npz", X=np.ones((4, 6)), y=[1, 2, 3, 1])
    assert_user_error(run_cli(["evaluate", root / "sparse.safetensors", "--data",
                               root / "plain.npz"], capsys),
                      "plain.npz holds a dense table or images",
                      "a sparse table (svmlight, or a sparse .npz with --labels)")


def test_sparse_model_files_are_small(sparse_and_dense_models):
    """A model of a sparse table records its scaling (n_x spreads) and numbering."""
    model = logreg.load(sparse_and_dense_models / "sparse.safetensors")
    preprocessing = model.metadata_["preprocessing"]
    assert preprocessing["sparse"] is True and preprocessing["zero_based"] is False
    assert len(preprocessing["scaling"]["spread"]) == 6
    assert Path(sparse_and_dense_models / "sparse.safetensors").stat().st_size < 10_000


# --- a failed run writes nothing -----------------------------------------------------------


def _no_temporaries(folder):
    """Temporary files (".<name>.<random><suffix>") left behind."""
    return [p for p in Path(folder).rglob(".*")]


@pytest.mark.parametrize("bad_test_data", ["absent.csv", "wrong-columns.csv", "ragged.csv"])
def test_failed_train_leaves_existing_files(tmp_path, small_csv, capsys, bad_test_data):
    out = tmp_path / "out"
    out.mkdir()
    sentinel_model, sentinel_curve = b"sentinel model bytes", PNG_MAGIC + b"old curve"
    (out / "model.safetensors").write_bytes(sentinel_model)
    (out / "learning_curve.png").write_bytes(sentinel_curve)
    write_csv(tmp_path / "wrong-columns.csv", ["a", "c", "label"], [(1, 2, "x"), (3, 4, "y")])
    touch(tmp_path / "ragged.csv", b"a,b,label\n1,2,x\n3\n")
    assert_user_error(run_cli(["train", "--data", small_csv, "--test-data",
                               tmp_path / bad_test_data, "--iterations", "5",
                               "--out", out], capsys), bad_test_data)
    assert (out / "model.safetensors").read_bytes() == sentinel_model
    assert (out / "learning_curve.png").read_bytes() == sentinel_curve
    assert sorted(p.name for p in out.iterdir()) == ["learning_curve.png", "model.safetensors"]
    assert not _no_temporaries(tmp_path)


def test_failed_train_on_bad_settings_leaves_existing_model(tmp_path, small_csv, capsys):
    target = touch(tmp_path / "keep.safetensors", b"do not touch")
    assert_user_error(run_cli(["train", "--data", small_csv, "--learning-rate", "0",
                               "--out", target], capsys), "learning")
    assert target.read_bytes() == b"do not touch"
    assert not (tmp_path / "keep.png").exists()
    assert not _no_temporaries(tmp_path)


def test_interrupted_train_writes_nothing(tmp_path, small_csv, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    touch(out / "model.safetensors", b"old")

    def interrupted(self, X, y, sample_weight=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(logreg.LogisticRegression, "fit", interrupted)
    code, _, err = run_cli(["train", "--data", small_csv, "--out", out], capsys)
    assert code == 130
    assert "nothing was written" in err and "Traceback" not in err
    assert (out / "model.safetensors").read_bytes() == b"old"
    assert not (out / "learning_curve.png").exists()
    assert not _no_temporaries(tmp_path)


def test_successful_train_replaces_existing_model(tmp_path, small_csv, capsys):
    out = tmp_path / "out"
    out.mkdir()
    touch(out / "model.safetensors", b"old")
    code, _, err = run_cli(["train", "--data", small_csv, "--iterations", "5",
                            "--out", out], capsys)
    assert code == 0, err
    assert logreg.load(out / "model.safetensors").classes_.tolist() == ["x", "y"]
    assert not _no_temporaries(tmp_path)
