"""The examples/keras_*.py scripts run and learn (subprocess, as a user runs them)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(name, *args, cwd):
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_keras_regression_seed_program(tmp_path):
    out = run("keras_regression.py", cwd=tmp_path)
    assert "Epoch 10/10" in out and "history keys: ['loss', 'mae', 'val_loss', 'val_mae']" in out
    losses = [float(v) for v in re.findall(r"^\d+/\d+ ━+ .* - loss: ([\d.]+)", out, re.M)]
    assert losses[9] < losses[0]  # the 10 epoch lines (the 11th is evaluate's)


def test_keras_digits_cnn(tmp_path):
    out = run("keras_digits_cnn.py", "--epochs", "3", "--out", str(tmp_path / "run"), cwd=tmp_path)
    accuracy = float(re.search(r"test accuracy ([\d.]+)", out).group(1))
    assert accuracy > 0.85
    assert {p.name for p in (tmp_path / "run").iterdir()} == {"best.keras", "tensorboard", "log.csv", "curves.png"}


@pytest.mark.parametrize("name,pattern", [
    ("keras_functional.py", r"same predictions: True"),
    ("keras_sequence.py", r"subclassed LSTM: +test loss [\d.]+ +accuracy 0\.[6-9]\d*"),
])
def test_other_keras_examples(tmp_path, name, pattern):
    assert re.search(pattern, run(name, cwd=tmp_path))
