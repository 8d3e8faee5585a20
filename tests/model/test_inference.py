"""Inference at the fitted parameters (``model.summary()``, ``logreg summary``).

Truth comes from outside: statsmodels' ``Logit`` and ``MNLogit`` on the data sets that ship
with statsmodels and scikit-learn, the textbook 2×2 table (log odds ratio and its standard
error √(1/a + 1/b + 1/c + 1/d)), and replicated rows for frequency weights. Every guard is
triggered on data crafted to need it.

``pytest tests/model/test_inference.py -k statsmodels -s`` prints the largest relative difference
against statsmodels per data set.
"""

import json
import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning

import logreg
from logreg import LogisticRegression
from logreg.errors import InferenceError, InferenceWarning, InvalidInputError, LogregError

sm = pytest.importorskip("statsmodels.api")
pd = pytest.importorskip("pandas")

RTOL = 1e-6
FIGURES = ("llf", "llnull", "prsquared", "aic", "bic")


def newton(**params):
    return LogisticRegression(**{"solver": "newton", "l2": 0.0, "tol": 1e-12,
                                 "num_iterations": 200, **params})


def statsmodels_fit(model):
    return model.fit(method="newton", tol=1e-12, maxiter=200, disp=0)


def relative(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)))


def compare(name, summary, result, alpha=0.05, transpose=False):
    """Every figure of ``summary`` against statsmodels' ``result`` to RTOL; prints the
    largest relative difference (the issue's equality figures)."""
    arrays = {"params": (summary.coef, result.params), "bse": (summary.std_err, result.bse),
              "tvalues": (summary.z, result.tvalues), "pvalues": (summary.p_value,
                                                                   result.pvalues)}
    differences = {}
    for key, (ours, theirs) in arrays.items():
        theirs = np.asarray(theirs).T if transpose else np.asarray(theirs)
        differences[key] = relative(ours, theirs)
    interval = np.asarray(result.conf_int(alpha=alpha))
    if transpose:  # MNLogit: (equations, terms, 2)
        interval = interval.reshape(len(summary.equations), -1, 2) if interval.ndim == 3 else \
            interval.reshape(-1, len(summary.equations), 2, order="F").transpose(1, 0, 2)
    low, high = interval[..., 0], interval[..., 1]
    differences["conf_int"] = max(relative(summary.ci_low, low), relative(summary.ci_high, high))
    ours = {"llf": summary.log_likelihood, "llnull": summary.null_log_likelihood,
            "prsquared": summary.pseudo_r2, "aic": summary.aic, "bic": summary.bic}
    for key in FIGURES:
        differences[key] = relative(ours[key], getattr(result, key))
    worst = max(differences, key=differences.get)
    print(f"\n{name}: largest relative difference {differences[worst]:.1e} ({worst}); "
          + ", ".join(f"{k} {v:.0e}" for k, v in differences.items()))
    assert all(value < RTOL for value in differences.values()), differences
    return differences


# --- against statsmodels -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog, data.endog


def test_statsmodels_spector_logit_with_names(spector):
    X, y = spector
    summary = newton().fit(X, y).summary()
    result = statsmodels_fit(sm.Logit(y, sm.add_constant(X)))
    assert summary.terms == ["intercept", "GPA", "TUCE", "PSI"]
    compare("spector (Logit, with intercept)", summary, result)
    assert summary.converged and summary.n_params == 4 and summary.n_obs == 32
    # the covariance too: the inverse observed information
    np.testing.assert_allclose(summary.covariance, result.cov_params(), rtol=RTOL)


def test_statsmodels_spector_without_intercept(spector):
    """Without a constant statsmodels' llnull is still the intercept-only model's; so is
    ours (the module's notes), and AIC/BIC count the parameters there are."""
    X, y = spector
    summary = newton(fit_intercept=False).fit(X, y).summary()
    result = statsmodels_fit(sm.Logit(y, X))
    assert summary.terms == ["GPA", "TUCE", "PSI"] and summary.n_params == 3
    compare("spector (Logit, no intercept)", summary, result)


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_statsmodels_breast_cancer_three_columns(alpha):
    data = load_breast_cancer()
    X, y = data.data[:, [0, 1, 4]], data.target
    summary = newton().fit(X, y).summary(alpha=alpha)
    result = statsmodels_fit(sm.Logit(y, sm.add_constant(X)))
    assert summary.terms == ["intercept", "x0", "x1", "x2"]
    compare(f"breast_cancer[:, [0, 1, 4]] (Logit, alpha={alpha})", summary, result, alpha)


def test_statsmodels_anes96_multinomial():
    """K = 3 against MNLogit: the K − 1 equations of each class against the first."""
    data = sm.datasets.anes96.load_pandas().data
    # party identification in three groups: Democrat, independent, Republican
    y = np.select([data["PID"] <= 1, data["PID"] <= 4], ["dem", "ind"], "rep")
    X = data[["logpopul", "selfLR", "age", "educ", "income"]]
    summary = newton().fit(X, y).summary()
    result = statsmodels_fit(sm.MNLogit(pd.Series(y).astype("category").cat.codes,
                                        sm.add_constant(X)))
    assert summary.reference_class == "dem" and summary.equations == ["ind", "rep"]
    assert summary.coef.shape == (2, 6) and summary.n_params == 12
    compare("anes96 (MNLogit, K = 3)", summary, result, transpose=True)


def test_statsmodels_wine_multinomial_without_intercept():
    X, y = load_wine(return_X_y=True)
    X = X[:, [1, 2, 4]]
    summary = newton(fit_intercept=False).fit(X, y).summary()
    result = statsmodels_fit(sm.MNLogit(y, X))
    compare("wine[:, [1, 2, 4]] (MNLogit, K = 3, no intercept)", summary, result,
            transpose=True)


def test_statsmodels_iris_two_classes():
    X, y = load_iris(return_X_y=True)
    keep = y > 0  # versicolor against virginica: they overlap
    summary = newton().fit(X[keep][:, [0, 1]], y[keep]).summary()
    result = statsmodels_fit(sm.Logit((y[keep] == 2).astype(float),
                                      sm.add_constant(X[keep][:, [0, 1]])))
    compare("iris versicolor/virginica, sepal (Logit)", summary, result)


def test_statsmodels_frequency_weights_equal_replicated_rows(spector):
    X, y = spector
    counts = np.random.default_rng(0).integers(1, 4, len(y))
    weighted = newton().fit(X, y, sample_weight=counts).summary()
    replicated = statsmodels_fit(sm.Logit(np.repeat(y.values, counts),
                                          sm.add_constant(np.repeat(X.values, counts, axis=0))))
    compare("spector, integer weights = replicated rows", weighted, replicated)
    assert weighted.n_obs == counts.sum() and weighted.n_examples == len(y)


# --- a hand-worked case ----------------------------------------------------------------------


def test_two_by_two_table_by_hand():
    """x ∈ {0, 1}: b = log odds at x = 0, w = the log odds ratio, se(w) = √(1/a+1/b+1/c+1/d)
    (a, b, c, d the cell counts); as frequency weights of four rows."""
    X = np.array([[0.0], [0.0], [1.0], [1.0]])
    y = np.array([1, 0, 1, 0])
    counts = np.array([2.0, 4.0, 3.0, 1.0])  # x=0: 2 of 6 positive; x=1: 3 of 4
    summary = newton().fit(X, y, sample_weight=counts).summary()
    np.testing.assert_allclose(summary.coef, [math.log(2 / 4), math.log((3 / 1) / (2 / 4))],
                               rtol=1e-9)
    np.testing.assert_allclose(summary.std_err, [math.sqrt(1 / 2 + 1 / 4),
                                                 math.sqrt(1 / 2 + 1 / 4 + 1 / 3 + 1)],
                               rtol=1e-9)
    log_likelihood = 2 * math.log(2 / 6) + 4 * math.log(4 / 6) + 3 * math.log(3 / 4) + \
        math.log(1 / 4)
    null = 5 * math.log(5 / 10) + 5 * math.log(5 / 10)
    assert summary.log_likelihood == pytest.approx(log_likelihood, rel=1e-12)
    assert summary.null_log_likelihood == pytest.approx(null, rel=1e-12)
    assert summary.aic == pytest.approx(4 - 2 * log_likelihood, rel=1e-12)
    assert summary.bic == pytest.approx(2 * math.log(10) - 2 * log_likelihood, rel=1e-12)
    z = summary.coef / summary.std_err
    np.testing.assert_allclose(summary.p_value, [math.erfc(abs(v) / math.sqrt(2)) for v in z],
                               rtol=1e-12)
    np.testing.assert_allclose(summary.ci_high - summary.coef, 1.959963984540054 *
                               summary.std_err, rtol=1e-12)


# --- the outputs -------------------------------------------------------------------------------


def test_text_html_frame_and_dict_agree(spector):
    X, y = spector
    summary = newton().fit(X, y).summary()
    text = str(summary)
    assert all(len(line) <= 100 for line in text.splitlines())
    for term, coef in zip(summary.terms, summary.coef):
        row = next(line for line in text.splitlines() if line.startswith(term + " "))
        assert float(row.split()[1]) == pytest.approx(coef, abs=5e-5)
    assert "<table>" in summary._repr_html_() and "GPA" in summary._repr_html_()
    frame = summary.to_frame()
    assert list(frame.index) == summary.terms
    np.testing.assert_array_equal(frame["std_err"], summary.std_err)
    data = json.loads(json.dumps(summary.to_dict()))
    assert [row["term"] for row in data["coefficients"]] == summary.terms
    assert [row["p_value"] for row in data["coefficients"]] == summary.p_value.tolist()
    assert data["aic"] == summary.aic and data["converged"] is True


def test_multinomial_frame_is_indexed_by_class_and_term():
    X, y = load_wine(return_X_y=True)
    summary = newton().fit(X[:, [1, 2, 4]], y).summary()
    frame = summary.to_frame()
    assert frame.index.names == ["class", "term"] and len(frame) == 2 * 4
    np.testing.assert_array_equal(frame.loc[2]["coef"], summary.coef[1])
    assert str(summary).count("against 0") == 3  # the title and one header per equation
    assert {row["class"] for row in summary.to_dict()["coefficients"]} == {1, 2}


def test_to_frame_without_pandas_says_so(spector, monkeypatch):
    import builtins

    X, y = spector
    summary = newton().fit(X, y).summary()
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        summary.to_frame()
    assert summary.to_dict()["n_params"] == 4


# --- the guards ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def overlap():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    return X, (X[:, 0] + rng.normal(size=200) > 0).astype(int)


def test_penalised_fit_is_refused(overlap):
    with pytest.raises(InferenceError, match="l2=0.5.*Refit with l2=0"):
        newton(l2=0.5).fit(*overlap).summary()


def test_complete_separation_is_refused():
    X = np.array([[0.0], [0.5], [1.0], [1.5], [2.0], [2.5]])
    y = np.array([0, 0, 1, 1, 1, 1])
    with pytest.raises(InferenceError, match="complete separation.*no maximum"):
        newton().fit(X, y).summary()


def test_quasi_complete_separation_is_refused():
    """x < 1: always 0, x > 1: always 1, both at x = 1: no finite maximum either, though the
    classes are not perfectly separated."""
    X = np.array([[0.0], [0.0], [1.0], [1.0], [2.0], [2.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    with pytest.raises(InferenceError, match="quasi-complete separation: at least 4 of 6"):
        newton().fit(X, y).summary()


def test_separation_of_one_class_among_three_is_refused():
    X, y = load_iris(return_X_y=True)  # setosa is linearly separable from the others
    with pytest.raises(InferenceError, match="separation"):
        newton(num_iterations=50).fit(X[:, [0, 1]], y).summary()


def test_breast_cancer_whole_is_separable():
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit does not settle: there is no maximum
        model = newton(num_iterations=50).fit(X, y)
    # the witness: a hyperplane that classifies every example right separates them
    assert model.score(X, y) == 1.0
    with pytest.raises(InferenceError, match="complete separation"):
        model.summary()


@pytest.mark.parametrize("make, fragment", [
    (lambda X: np.hstack([X, X[:, :1]]), "duplicate columns: x0 = x2"),
    (lambda X: np.hstack([X, np.full((len(X), 1), 3.0)]), "x2 is constant"),
    (lambda X: np.hstack([X, 2 * X[:, :1] - X[:, 1:2]]), "x0, x1, x2 are linearly dependent"),
])
def test_singular_design_names_the_columns(overlap, make, fragment):
    X, y = overlap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit itself may not settle on such data
        model = newton(num_iterations=30).fit(make(X), y)
    with pytest.raises(InferenceError, match="singular: " + fragment.replace("(", r"\(")):
        model.summary()


def test_zero_column_without_intercept_is_named(overlap):
    X, y = overlap
    X = np.hstack([X, np.zeros((len(X), 1))])
    model = newton(fit_intercept=False).fit(X, y)
    with pytest.raises(InferenceError, match="x2 is zero in every example"):
        model.summary()


def test_more_parameters_than_examples(overlap):
    X, y = overlap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = newton(num_iterations=5).fit(np.hstack([X[:4], np.eye(4)]), [0, 1, 0, 1])
    with pytest.raises(InferenceError, match="7 parameters but only 4 examples"):
        model.summary()


def test_nearly_collinear_features_warn_with_the_condition_number(overlap):
    X, y = overlap
    noise = np.random.default_rng(1).normal(size=(len(X), 1))
    X = np.hstack([X, X[:, :1] + 1e-4 * noise])
    with pytest.warns(InferenceWarning, match=r"nearly singular \(condition number"):
        summary = newton().fit(X, y).summary()
    assert summary.condition_number > 1e8
    assert np.all(np.isfinite(summary.std_err)) and summary.std_err[1] > 100


def test_unconverged_gradient_descent_is_refused(overlap):
    model = LogisticRegression(num_iterations=5).fit(*overlap)
    with pytest.raises(InferenceError, match="not converged.*solver='newton'"):
        model.summary()


def test_nearly_converged_fit_warns(overlap):
    X, y = overlap
    model = newton().fit(X, y)
    # move the parameters a hundredth of a standard error away from the maximum
    exact = model.summary()
    model.coef_ = model.coef_ + 0.01 * exact.std_err[1:]
    with pytest.warns(ConvergenceWarning, match="not converged"):
        moved = model.summary()
    assert not moved.converged and 0.001 < moved.newton_decrement <= 0.1


def test_loaded_model_needs_the_data(tmp_path, overlap):
    X, y = overlap
    model = newton().fit(X, y)
    model.save(tmp_path / "m.safetensors")
    loaded = logreg.load(tmp_path / "m.safetensors")
    with pytest.raises(InferenceError, match=r"loaded from a file.*summary\(X, y\)"):
        loaded.summary()
    np.testing.assert_allclose(loaded.summary(X, y).std_err, model.summary().std_err,
                               rtol=1e-12)


def test_foreign_arrays_need_the_data(overlap):
    torch = pytest.importorskip("torch")
    X, y = overlap
    model = LogisticRegression(solver="lbfgs", tol=1e-10, num_iterations=500).fit(
        torch.asarray(X), torch.asarray(y))
    with pytest.raises(InferenceError, match="another library.*summary\\(X, y\\)"):
        model.summary()
    summary = model.summary(torch.asarray(X), torch.asarray(y))
    np.testing.assert_allclose(summary.std_err, newton().fit(X, y).summary().std_err,
                               rtol=1e-4)


@pytest.mark.parametrize("call, error, fragment", [
    (lambda m, X, y: m.summary(X), InvalidInputError, "X without y"),
    (lambda m, X, y: m.summary(X, y + 5), InvalidInputError, "does not know"),
    (lambda m, X, y: m.summary(alpha=1.5), InvalidInputError, "between 0 and 1"),
    (lambda m, X, y: m.summary(sample_weight=np.ones(len(y))), InvalidInputError,
     "without X and y"),
    (lambda m, X, y: m.summary(X[:, :1], y), LogregError, "feature"),
])
def test_user_mistakes_are_one_clear_error(overlap, call, error, fragment):
    X, y = overlap
    with pytest.raises(error, match=fragment):
        call(newton().fit(X, y), X, y)


def test_unfitted_model_is_refused():
    from logreg.errors import NotFittedError

    with pytest.raises(NotFittedError, match="fit"):
        LogisticRegression().summary()


def test_class_weight_warns_and_matches_the_weights(overlap):
    X, y = overlap
    with pytest.warns(InferenceWarning, match="frequency weights"):
        weighted = newton(class_weight={0: 2.0, 1: 1.0}).fit(X, y).summary()
    explicit = newton().fit(X, y, sample_weight=np.where(y == 0, 2.0, 1.0)).summary()
    np.testing.assert_allclose(weighted.std_err, explicit.std_err, rtol=1e-9)


def test_sparse_equals_dense(overlap):
    from scipy import sparse

    X, y = overlap
    model = newton().fit(X, y)
    dense, on_sparse = model.summary(), model.summary(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(on_sparse.std_err, dense.std_err, rtol=1e-12)
    np.testing.assert_allclose(on_sparse.covariance, dense.covariance, rtol=1e-12)
    # and a model fitted on the sparse matrix keeps it for summary()
    np.testing.assert_allclose(newton().fit(sparse.csr_matrix(X), y).summary().std_err,
                               dense.std_err, rtol=1e-6)


# --- the command ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spector_csv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("summary")
    data = sm.datasets.spector.load_pandas().data
    path = folder / "spector.csv"
    data.to_csv(path, index=False)
    return folder, path, data


def train(folder, csv, *options):
    from helpers import run_quietly

    out = folder / ("m" + "".join(o.strip("-") for o in options))
    code, _, err = run_quietly(["train", "--data", csv, "--label-column", "GRADE",
                                "--test-size", "0", "--out", out, "--quiet", *options])
    assert code == 0, err
    return out / "model.safetensors"


def test_command_summary_equals_statsmodels(spector_csv, capsys):
    """The command's features are the model's standardised ones: z and p of each feature,
    the likelihoods, AIC and BIC do not depend on that affine scaling."""
    from helpers import run_cli

    folder, csv, data = spector_csv
    model = train(folder, csv, "--solver", "newton", "--tol", "1e-12")
    code, out, err = run_cli(["summary", model, "--data", csv], capsys)
    assert code == 0, err
    assert "standardised" in out and "GPA" in out
    code, out, err = run_cli(["summary", model, "--data", csv, "--json"], capsys)
    assert code == 0, err
    figures = json.loads(out)
    result = statsmodels_fit(sm.Logit(data["GRADE"], sm.add_constant(
        data[["GPA", "TUCE", "PSI"]])))
    rows = figures["coefficients"]
    assert [row["term"] for row in rows] == ["intercept", "GPA", "TUCE", "PSI"]
    np.testing.assert_allclose([row["z"] for row in rows[1:]], result.tvalues[1:], rtol=RTOL)
    np.testing.assert_allclose([row["p_value"] for row in rows[1:]], result.pvalues[1:],
                               rtol=RTOL)
    for ours, theirs in [("log_likelihood", "llf"), ("null_log_likelihood", "llnull"),
                         ("aic", "aic"), ("bic", "bic"), ("pseudo_r2", "prsquared")]:
        assert figures[ours] == pytest.approx(getattr(result, theirs), rel=RTOL)


def test_command_summary_finds_the_training_part_that_train_kept(tmp_path, capsys,
                                                                   monkeypatch):
    """`logreg train` holds out 25 % of --data by default; `summary --data` on the same file
    (by another path, from another folder) gives the standard errors of the examples the
    model was fitted to: statsmodels' Logit on those rows (scikit-learn's stratified split,
    seed 0, as the command documents it); the whole file would not be at the maximum."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    from helpers import run_cli, run_quietly

    cancer = load_breast_cancer(as_frame=True).frame
    data = cancer[["mean radius", "mean texture", "mean smoothness", "target"]]
    csv = tmp_path / "tumours.csv"
    data.to_csv(csv, index=False)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_quietly(["train", "--data", "tumours.csv", "--label-column", "target",
                                "--solver", "newton", "--tol", "1e-12", "--quiet",
                                "--out", "m"])
    assert code == 0, err
    monkeypatch.chdir("/")
    code, out, err = run_cli(["summary", tmp_path / "m" / "model.safetensors", "--data", csv,
                              "--json"], capsys)
    assert code == 0, err
    figures = json.loads(out)
    kept, _ = train_test_split(np.arange(len(data)), test_size=0.25, random_state=0,
                               stratify=data["target"])
    rows = data.iloc[np.sort(kept)]
    result = statsmodels_fit(sm.Logit(rows["target"], sm.add_constant(rows.iloc[:, :3])))
    assert figures["n_obs"] == len(kept) == 426
    np.testing.assert_allclose([row["z"] for row in figures["coefficients"][1:]],
                               result.tvalues[1:], rtol=RTOL)
    assert figures["log_likelihood"] == pytest.approx(result.llf, rel=RTOL)
    assert any("426 training examples" in note for note in figures["notes"]), figures["notes"]
    # another file at the same path is no longer the training data: taken whole, and refused
    data.iloc[:500].to_csv(csv, index=False)
    code, out, err = run_cli(["summary", tmp_path / "m" / "model.safetensors", "--data", csv],
                             capsys)
    assert code == 2 and "training rows" in err, err


def test_command_refuses_a_penalised_model(spector_csv, capsys):
    from helpers import assert_user_error, run_cli

    folder, csv, _ = spector_csv
    model = train(folder, csv, "--solver", "newton", "--l2", "1")
    assert_user_error(run_cli(["summary", model, "--data", csv], capsys), "l2=1", "refit")


def test_command_names_the_constant_pixels_of_an_image_model(tmp_path, capsys):
    """The built-in digits (8×8 pixels): some pixels are blank in every image."""
    from helpers import assert_user_error, run_cli

    code, _, err = run_cli(["train", "--out", tmp_path, "--quiet", "--iterations", "20"],
                           capsys)
    assert code == 0, err
    line = assert_user_error(run_cli(["summary", tmp_path / "model.safetensors", "--data",
                                      "digits"], capsys), "singular", "constant")
    assert "pixel[0,0]" in line


@pytest.mark.parametrize("extra, fragment", [
    (["--alpha", "3"], "between 0 and 1"),
    (["--label-column", "GRADE", "--data", "digits"], "no csv"),
    (["--data", "missing.csv"], "does not exist"),
])
def test_command_user_mistakes_exit_2_with_one_line(spector_csv, capsys, extra, fragment):
    from helpers import assert_user_error, run_cli

    folder, csv, _ = spector_csv
    model = train(folder, csv, "--solver", "newton", "--tol", "1e-12")
    argv = ["summary", model, "--data", csv, *extra]
    assert_user_error(run_cli(argv, capsys), fragment)
