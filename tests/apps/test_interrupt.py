"""Ctrl-C during `logreg train`: a clean stop, no half-written file, and with
--save-on-interrupt the last good parameters saved and said so."""

import os
import signal
import subprocess
import sys

import pytest

import logreg
from helpers import default_sigint


def train_until_interrupted(out, *extra):
    """Start a long `logreg train`, send SIGINT once it has printed iteration 200."""
    process = subprocess.Popen(
        [sys.executable, "-m", "logreg", "train", "--iterations", "100000000",
         "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=default_sigint)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("Cost after iteration 200:"):
            process.send_signal(signal.SIGINT)
            break
    else:
        process.kill()
        pytest.fail("training ended before it could be interrupted: " + "".join(seen))
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def test_interrupt_writes_nothing_and_keeps_old_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"the previous model")
    code, stderr = train_until_interrupted(out)
    assert code == 130
    assert stderr.strip().splitlines() == [
        "logreg train: interrupted; nothing was written."]
    assert (out / "model.safetensors").read_bytes() == b"the previous model"
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors"]  # no .part files


def test_save_on_interrupt_saves_the_last_good_parameters(tmp_path):
    out = tmp_path / "out"
    code, stderr = train_until_interrupted(out, "--save-on-interrupt")
    assert code == 130
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "saved the last good parameters" in lines[0]
    model = logreg.load(out / "model.safetensors")
    assert model.n_iter_ > 200
    assert len(model.costs_) == model.n_iter_
    assert min(model.costs_) < model.costs_[0]
    # the model and its learning curve, a matching pair, and no temporary file
    assert sorted(p.name for p in out.iterdir()) == ["learning_curve.png", "model.safetensors"]
