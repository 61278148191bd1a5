"""End-to-end: the model examples (MLP, CNN, LSTM on the 8x8 digits; compile mode) train to their accuracy
thresholds, and the PyTorch-style ones also run unchanged under PyTorch (only the import line swapped)."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EMBER_IMPORT = "import ember as torch\n"


def run_script(source, *args):
    r = subprocess.run([sys.executable, "-", *args], input=source, capture_output=True, text=True, timeout=600,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def run_example(name, *args):
    return run_script((EXAMPLES / name).read_text(), *args)


def final_accuracy(out):
    """The percentage on the example's last 'test accuracy NN.NN %' line."""
    found = re.findall(r"^test accuracy ([\d.]+) %$", out, re.M)
    assert found, f"no final accuracy line in:\n{out}"
    return float(found[-1])


def epoch_losses(out):
    return [float(v) for v in re.findall(r"^epoch\s+\d+\s.*?loss ([\d.]+)", out, re.M)]


def test_cnn_reaches_97_percent_with_default_settings():
    out = run_example("cnn_digits.py")
    losses = epoch_losses(out)
    assert len(losses) == 20
    assert losses[-1] < losses[0] / 10, losses
    assert final_accuracy(out) >= 97.0, out


def test_mlp_learns_and_its_checkpoint_reloads():
    out = run_example("mlp.py")
    losses = epoch_losses(out)
    assert len(losses) == 30
    assert losses[-1] < losses[0] / 10, losses
    assert "checkpoint reloaded: same test accuracy" in out
    assert final_accuracy(out) >= 95.0, out


def test_lstm_classifier_learns():
    out = run_example("lstm_classifier.py")
    losses = epoch_losses(out)
    assert len(losses) == 15
    assert losses[-1] < losses[0] / 10, losses
    assert final_accuracy(out) >= 95.0, out


def compile_report(out):
    speed = re.search(r"^speed-up \(median step\): ([\d.]+)x$", out, re.M)
    acc = re.search(r"^test accuracy eager ([\d.]+) %, compiled ([\d.]+) %$", out, re.M)
    traces = re.search(r"^traces: (\d+)$", out, re.M)
    assert speed and acc and traces, out
    return float(speed.group(1)), float(acc.group(1)), float(acc.group(2)), int(traces.group(1))


def test_compiled_mlp_training_equals_eager_and_reports_its_graph():
    out = run_example("compile_step.py")
    speed_up, eager_acc, compiled_acc, traces = compile_report(out)
    assert "losses of the 440 steps: identical" in out
    assert traces == 1
    assert speed_up > 0
    assert eager_acc == compiled_acc >= 95.0
    assert "\ngraph(%x1: f32[32,64], %x2: i64[32]):\n" in out
    assert "\ndef train_step(x1, x2):\n" in out
    assert re.search(r"^nodes by op: .*Matmul x\d+", out, re.M), out
    losses = np.array(re.findall(r"^epoch\s+\d+\s+loss eager ([\d.]+)\s+compiled ([\d.]+)$", out, re.M), float)
    assert losses.shape == (10, 2)
    np.testing.assert_array_equal(losses[:, 0], losses[:, 1])


def test_compiled_cnn_with_dropout_equals_eager():
    out = run_example("compile_step.py", "--model", "cnn", "--epochs", "2")
    _, eager_acc, compiled_acc, traces = compile_report(out)
    assert "losses of the 88 steps: identical" in out
    assert traces == 1
    assert eager_acc == compiled_acc >= 80.0
    assert re.search(r"^nodes by op: .*Convolution x2", out, re.M), out


def test_compiled_mlp_in_reduce_overhead_mode_trains_within_rounding_of_eager():
    out = run_example("compile_step.py", "--mode", "reduce-overhead", "--epochs", "2")
    _, eager_acc, compiled_acc, traces = compile_report(out)
    assert traces == 1
    assert re.search(r"^graph: .*\d+ native", out, re.M), out  # the node kinds' counts name the kernels
    gap = re.search(r"^losses of the 88 steps: (identical|differ \(largest gap ([\d.e+-]+)\))$", out, re.M)
    assert gap, out
    assert gap.group(1) == "identical" or float(gap.group(2)) < 1e-4
    assert abs(eager_acc - compiled_acc) <= 1.0 and compiled_acc >= 80.0


@pytest.mark.parametrize("name", ["mlp.py", "cnn_digits.py", "lstm_classifier.py"])
def test_example_runs_under_pytorch_with_only_the_import_changed(name):
    source = (EXAMPLES / name).read_text()
    assert source.count(EMBER_IMPORT) == 1 and "\nimport torch" not in source
    as_torch = source.replace(EMBER_IMPORT, "import torch\n")
    out = run_script(as_torch, "--epochs", "3")
    assert len(epoch_losses(out)) == 3
    assert final_accuracy(out) >= 80.0, out
