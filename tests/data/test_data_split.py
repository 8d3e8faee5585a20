"""The one data policy (issue 20, item 3): the split `logreg train` makes is recorded once in the
model file and honoured by evaluate, summary and predict. The rows are found independently
here, with scikit-learn's stratified train_test_split (seed 0) on the data as scikit-learn
ships them, and scored with scikit-learn's accuracy_score."""

import json
import shutil

import numpy as np
import pytest
from helpers import assert_user_error, run_cli, run_quietly
from safetensors import safe_open
from safetensors.numpy import load_file, save_file
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

import logreg
from logreg.modelfile import schema as model_schema
from logreg.data import load_breast_cancer_table
from logreg.data.split import Rows, fingerprint, model_rows, split_record
from logreg.data import split_dataset


def held_out_rows(y, test_size=0.25):
    """(kept, held out) row numbers of scikit-learn's stratified split, seed 0, sorted; ``y``
    as scikit-learn ships the labels (its stratification numbers the classes in sorted order,
    so breast cancer's targets 0, 1, not their names)."""
    kept, held = train_test_split(np.arange(len(y)), test_size=test_size, random_state=0,
                                  stratify=y)
    return np.sort(kept), np.sort(held)


def predicted(model_path, X_rows):
    """The stored model's labels for rows of raw features, by hand: scaling from the file,
    then z = x·w + b (two classes: classes[1] where z > 0; K: the largest z)."""
    model = logreg.load(model_path)
    scaling = model.metadata_["preprocessing"]["scaling"]
    X = (X_rows - np.asarray(scaling["mean"])) / np.asarray(scaling["spread"])
    W, b = np.asarray(model.coef_).T, np.asarray(model.intercept_)
    Z = X @ W + b
    index = (Z.ravel() > 0).astype(int) if Z.shape[1] == 1 else Z.argmax(axis=1)
    return model.classes_[index]


def first_line_and_accuracy(out):
    lines = out.splitlines()
    accuracy = next(float(line.split()[1]) for line in lines if line.startswith("accuracy:"))
    return lines[0], accuracy


def edited(model_path, target, **split):
    """A copy of a model file whose split record has ``split``'s entries (None: removed)."""
    with safe_open(str(model_path), "np") as handle:
        metadata = handle.metadata()
    record = json.loads(metadata["logreg"])
    for key, value in split.items():
        record["split"].pop(key) if value is None else record["split"].update({key: value})
    save_file(load_file(str(model_path)), str(target),
              metadata={**metadata, "logreg": json.dumps(record)})
    return target


# --- breast cancer, built in: the case ---------------------------------------------


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bc")
    code, _, err = run_quietly(["train", "--data", "breast-cancer", "--out", folder, "--quiet"])
    assert code == 0, err
    data = load_breast_cancer()
    return folder / "model.safetensors", data.data, data.target_names[data.target]


def test_evaluate_breast_cancer_scores_the_143_held_out_rows(cancer, capsys):
    model, X, y = cancer
    kept, held = held_out_rows(load_breast_cancer().target)
    code, out, err = run_cli(["evaluate", model, "--data", "breast-cancer"], capsys)
    assert code == 0, err
    first, accuracy = first_line_and_accuracy(out)
    assert first == ("Evaluated on 143 held-out examples of scikit-learn breast cancer (train "
                     "kept the other 426; --all-rows scores all 569)")
    assert (len(held), len(kept)) == (143, 426)
    assert accuracy == pytest.approx(100 * accuracy_score(y[held], predicted(model, X[held])),
                                     abs=1e-9)
    code, out, err = run_cli(["evaluate", model, "--data", "breast-cancer", "--json"], capsys)
    report = json.loads(out)
    assert (report["rows"], report["m"], report["m_data"], report["m_trained_on"]) == \
        ("held-out", 143, 569, 426)


def test_evaluate_all_rows_scores_all_569(cancer, capsys):
    model, X, y = cancer
    code, out, err = run_cli(["evaluate", model, "--data", "breast-cancer", "--all-rows"],
                             capsys)
    assert code == 0, err
    first, accuracy = first_line_and_accuracy(out)
    assert first.startswith("Evaluated on all 569 examples of scikit-learn breast cancer")
    assert accuracy == pytest.approx(100 * accuracy_score(y, predicted(model, X)), abs=1e-9)
    code, out, _ = run_cli(["evaluate", model, "--data", "breast-cancer", "--all-rows",
                            "--json"], capsys)
    assert (json.loads(out)["rows"], json.loads(out)["m"]) == ("all", 569)


@pytest.mark.parametrize("edit", [
    {"sha256": "0" * 64},                     # the data's fingerprint
    {"m": 570},                               # the number of examples
    {"held_out": 142},                        # how many were held out
    {"test_size": 0.3},                       # the share (0.3 holds out 171, not 143)
    {"random_state": 1},                      # another seed (sealed with the share)
    {"sha256": None, "data": "digits"},       # an older record naming other data
])
def test_an_edited_split_record_is_not_believed(cancer, tmp_path, capsys, edit):
    """A record that does not fit the data (the rows it names differ) scores them whole."""
    path = edited(cancer[0], tmp_path / "edited.safetensors", **edit)
    code, out, err = run_cli(["evaluate", path, "--data", "breast-cancer", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert (report["rows"], report["m"], report["m_trained_on"]) == ("all", 569, 0)


def test_an_older_record_without_a_fingerprint_is_still_read(cancer, tmp_path, capsys):
    model, X, y = cancer
    path = edited(model, tmp_path / "old.safetensors", sha256=None, rule=None,
                  random_state=None, held_out=None)
    code, out, err = run_cli(["evaluate", path, "--data", "breast-cancer", "--json"], capsys)
    assert code == 0, err
    assert (json.loads(out)["rows"], json.loads(out)["m"]) == ("held-out", 143)


@pytest.mark.parametrize("edit, message", [
    ({"test_size": "0.25"}, "split.test_size is a string; expected a number > 0 and < 1"),
    ({"test_size": 1.5}, "split.test_size is 1.5; expected a number > 0 and < 1"),
    ({"m": 569.0}, "split.m is 569.0; expected an integer ≥ 2"),
    ({"sha256": "not hex"}, 'split.sha256 is "not hex"; expected 64 hexadecimal digits'),
    ({"rule": "by hand"}, 'split.rule is "by hand"; expected "stratified"'),
    ({"test_size": None}, "the key 'test_size' is missing in split"),
])
def test_a_split_record_of_the_wrong_form_is_refused(cancer, tmp_path, capsys, edit,
                                                     message):
    path = edited(cancer[0], tmp_path / "bad.safetensors", **edit)
    assert_user_error(run_cli(["evaluate", path, "--data", "breast-cancer"], capsys),
                      message)


# --- a CSV: a copy elsewhere is the same data, one value changed is not ------------------


@pytest.fixture(scope="module")
def cancer_csv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv")
    frame = load_breast_cancer(as_frame=True).frame
    csv = folder / "tumours.csv"
    frame.to_csv(csv, index=False)
    model = folder / "m.safetensors"
    code, _, err = run_quietly(["train", "--data", csv, "--label-column", "target",
                                "--iterations", "300", "--out", model, "--quiet"])
    assert code == 0, err
    return model, csv, frame


def test_a_copy_at_another_path_is_recognised(cancer_csv, tmp_path, capsys):
    model, csv, frame = cancer_csv
    copy = shutil.copy(csv, tmp_path / "elsewhere.csv")
    code, out, err = run_cli(["evaluate", model, "--data", copy], capsys)
    assert code == 0, err
    first, accuracy = first_line_and_accuracy(out)
    assert first.startswith("Evaluated on 143 held-out examples of")
    X, y = frame.iloc[:, :30].to_numpy(), frame["target"].to_numpy()
    _, held = held_out_rows(y)
    assert accuracy == pytest.approx(100 * accuracy_score(y[held], predicted(model, X[held])),
                                     abs=1e-9)


def test_a_csv_with_one_value_changed_is_scored_whole(cancer_csv, tmp_path, capsys):
    model, csv, frame = cancer_csv
    changed = frame.copy()
    changed.iloc[200, 3] += 1.0
    changed.to_csv(tmp_path / "tumours.csv", index=False)
    code, out, err = run_cli(["evaluate", model, "--data", tmp_path / "tumours.csv"], capsys)
    assert code == 0, err
    assert out.splitlines()[0].endswith(": 569 examples")


def test_predict_on_the_training_csv_predicts_the_held_out_rows(cancer_csv, capsys):
    model, csv, frame = cancer_csv
    X, y = frame.iloc[:, :30].to_numpy(), frame["target"].to_numpy()
    _, held = held_out_rows(y)
    code, out, err = run_cli(["predict", model, csv], capsys)
    assert code == 0
    assert err.count("\n") == 1 and "143 held-out examples" in err and "all 569" in err
    lines = [line.split() for line in out.splitlines()[1:]]
    assert [f"{name} {number}" for name, number, *_ in lines] == \
        [f"row {i + 1}" for i in held]
    assert [int(line[-1]) for line in lines] == predicted(model, X[held]).tolist()
    code, out, err = run_cli(["predict", model, csv, "--all-rows"], capsys)
    assert code == 0 and err == "" and len(out.splitlines()) == 1 + 569


def test_predict_on_rows_without_labels_predicts_them_all(cancer_csv, tmp_path, capsys):
    model, csv, frame = cancer_csv
    frame.drop(columns="target").to_csv(tmp_path / "rows.csv", index=False)
    code, out, err = run_cli(["predict", model, tmp_path / "rows.csv"], capsys)
    assert code == 0 and err == "" and len(out.splitlines()) == 1 + 569


def test_a_sparse_table_takes_the_same_policy(tmp_path, capsys):
    """svmlight: evaluate a copy scores the held-out rows, predict predicts them (a sparse X's
    fingerprint is its canonical CSC arrays)."""
    from sklearn.datasets import dump_svmlight_file

    data = load_breast_cancer()
    dump_svmlight_file(data.data, data.target, str(tmp_path / "bc.svm"))
    code, _, err = run_quietly(["train", "--data", tmp_path / "bc.svm", "--iterations", "50",
                                "--out", tmp_path / "m", "--quiet"])
    assert code == 0, err
    model = tmp_path / "m" / "model.safetensors"
    copy = shutil.copy(tmp_path / "bc.svm", tmp_path / "copy.svm")
    _, held = held_out_rows(data.target)
    code, out, err = run_cli(["evaluate", model, "--data", copy, "--json"], capsys)
    assert code == 0, err
    assert (json.loads(out)["rows"], json.loads(out)["m"]) == ("held-out", 143)
    code, out, err = run_cli(["predict", model, copy], capsys)
    assert code == 0 and "143 held-out examples" in err
    assert [line.split()[1] for line in out.splitlines()[1:]] == [str(i + 1) for i in held]
    code, out, err = run_cli(["predict", model, copy, "--all-rows"], capsys)
    assert code == 0 and err == "" and len(out.splitlines()) == 1 + 569


def test_summary_on_a_copy_uses_the_training_part(tmp_path, capsys):
    """summary takes the 426 training rows of a copy as of the file itself (the figures
    against statsmodels: test_inference's test of the training part)."""
    frame = load_breast_cancer(as_frame=True).frame
    frame[["mean radius", "mean texture", "mean smoothness", "target"]].to_csv(
        tmp_path / "tumours.csv", index=False)
    model = tmp_path / "m.safetensors"
    code, _, err = run_quietly(["train", "--data", tmp_path / "tumours.csv", "--label-column",
                                "target", "--solver", "newton", "--tol", "1e-12", "--out",
                                model, "--quiet"])
    assert code == 0, err
    copy = shutil.copy(tmp_path / "tumours.csv", tmp_path / "copy.csv")
    figures = []
    for data in (tmp_path / "tumours.csv", copy):
        code, out, err = run_cli(["summary", model, "--data", data, "--json"], capsys)
        assert code == 0, err
        figures.append(json.loads(out))
    assert figures[0]["n_obs"] == figures[1]["n_obs"] == 426
    assert figures[0]["coefficients"] == figures[1]["coefficients"]
    assert any("426 training examples" in note and "143 of 569 held out" in note
               for note in figures[1]["notes"])


# --- digits (built in) and digits10 (K classes) -----------------------------------------


@pytest.mark.parametrize("name, digits, held_out, total, options", [
    ("digits", (3, 8), 90, 357, []),
    ("digits10", tuple(range(10)), 450, 1797, ["--solver", "lbfgs", "--iterations", "100"]),
])
def test_built_in_image_sets_take_the_same_policy(tmp_path, capsys, name, digits, held_out,
                                                  total, options):
    folder = tmp_path / name
    code, _, err = run_quietly(["train", "--data", name, "--out", folder, "--quiet",
                                *options])
    assert code == 0, err
    data = load_digits()
    keep = np.isin(data.target, digits)
    # the command's pixels: 0..16 → 0..255, divided by 255 (scaling "image")
    X = np.round(data.images[keep] * (255 / 16)).reshape(keep.sum(), -1)
    y = data.target[keep].astype(str)
    _, held = held_out_rows(y)
    model = folder / "model.safetensors"
    code, out, err = run_cli(["evaluate", model, "--data", name], capsys)
    assert code == 0, err
    first, accuracy = first_line_and_accuracy(out)
    assert first.endswith(f"{held_out} held-out examples of {first.split(' of ', 1)[1]}")
    assert f"train kept the other {total - held_out}; --all-rows scores all {total}" in first
    assert len(held) == held_out
    assert accuracy == pytest.approx(100 * accuracy_score(y[held], predicted(model, X[held])),
                                     abs=1e-9)
    code, out, err = run_cli(["evaluate", model, "--data", name, "--all-rows"], capsys)
    first, accuracy = first_line_and_accuracy(out)
    assert first.startswith(f"Evaluated on all {total} examples")
    assert accuracy == pytest.approx(100 * accuracy_score(y, predicted(model, X)), abs=1e-9)


def test_a_model_trained_without_a_held_out_part_scores_data_whole(tmp_path, capsys):
    folder = tmp_path / "all"
    code, _, err = run_quietly(["train", "--data", "digits", "--test-size", "0", "--out",
                                folder, "--quiet", "--iterations", "10"])
    assert code == 0, err
    assert logreg.load(folder / "model.safetensors").metadata_.get("split") is None
    code, out, err = run_cli(["evaluate", folder / "model.safetensors", "--data", "digits"],
                             capsys)
    assert code == 0, err
    assert out.splitlines()[0] == "Evaluated on scikit-learn digits, 3 against 8: 357 examples"


# --- the policy itself ----------------------------------------------------------------------


def test_the_fingerprint_knows_the_data_not_their_order_of_classes():
    data = load_breast_cancer_table()
    same = load_breast_cancer_table()
    same.classes = same.classes[::-1]
    same.Y = 1 - same.Y  # the same labels, the classes listed the other way round
    assert fingerprint(same) == fingerprint(data)
    other = load_breast_cancer_table()
    other.X = other.X.copy()
    other.X[4, 100] = np.nextafter(other.X[4, 100], np.inf)
    assert fingerprint(other) != fingerprint(data)
    relabelled = load_breast_cancer_table()
    relabelled.Y = relabelled.Y.copy()
    relabelled.Y[0, 7] = 1 - relabelled.Y[0, 7]
    assert fingerprint(relabelled) != fingerprint(data)


def test_model_rows_follow_the_record():
    data = load_breast_cancer_table()
    train, test = split_dataset(data, 0.25)
    record = split_record(data, test, 0.25, "breast-cancer")
    assert model_schema.problem({"format": "logreg-model", "format_version": 4, "n_x": 30,
                                 "classes": ["a", "b"], "split": record}) is None
    kept, held = held_out_rows(data.Y.ravel())
    rows = model_rows(record, data, "anywhere.csv", "held-out")
    assert (rows.kind, rows.m, rows.total, rows.held_out) == ("held-out", 143, 569, 143)
    np.testing.assert_array_equal(rows.index, held)
    np.testing.assert_array_equal(model_rows(record, data, "x", "training").index, kept)
    assert model_rows(record, data, "x", "held-out", all_rows=True) == Rows("all", 569, None,
                                                                             143)
    assert model_rows(None, data, "breast-cancer", "held-out") == Rows("all", 569)
