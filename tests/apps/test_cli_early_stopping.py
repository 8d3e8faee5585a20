"""`logreg train --early-stopping`: the estimator's early stopping from the command line."""

import numpy as np
import pytest

import logreg
from helpers import run_cli


def test_early_stopping_keeps_the_best_iteration_and_says_which(tmp_path, capsys):
    out_dir = tmp_path / "es"
    code, out, err = run_cli(["train", "--early-stopping", "--n-iter-no-change", "3",
                              "--validation-fraction", "0.2", "--seed", "4",
                              "--learning-rate", "0.5", "--iterations", "300",
                              "--out", out_dir], capsys)
    assert code == 0, err
    model = logreg.load(out_dir / "model.safetensors")
    params = model.get_params()
    assert params["early_stopping"] and params["n_iter_no_change"] == 3
    assert params["validation_fraction"] == 0.2 and params["random_state"] == 4
    # the final line names the kept row of the history, and the held-out cost there is its
    # lowest
    history = model.history_["validation_cost"]
    assert model.best_validation_cost_ == pytest.approx(np.min(history), rel=0, abs=0)
    (final,) = [line for line in out.splitlines() if line.startswith("stopped after")]
    assert final.startswith(f"stopped after {model.n_iter_} iterations: ")
    assert final.endswith(f"; kept iteration {model.best_iteration_}, held-out cost "
                          f"{model.best_validation_cost_:.6g})")


@pytest.mark.parametrize("options, named", [
    (["--seed", "3"], "--seed applies only with --early-stopping"),
    (["--validation-fraction", "0.2", "--n-iter-no-change", "2"],
     "--validation-fraction, --n-iter-no-change apply only with --early-stopping"),
    (["--early-stopping", "--validation-fraction", "1.5"], "validation_fraction"),
    (["--early-stopping", "--n-iter-no-change", "0"], "n_iter_no_change"),
])
def test_early_stopping_options_out_of_place_are_one_line_errors(tmp_path, capsys, options,
                                                                 named):
    code, out, err = run_cli(["train", *options, "--quiet", "--out", tmp_path / "m"], capsys)
    assert code == 2 and err.count("\n") == 1 and named in err, err
    assert not (tmp_path / "m").exists()
