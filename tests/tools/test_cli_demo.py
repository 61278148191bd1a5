"""`ember demo` end to end, through the command line (subprocess), for both APIs."""
import os
import re
import subprocess
import sys

from matplotlib.image import imread
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import ember


def run_cli(*args, timeout=180):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, "-m", "ember", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)
    return proc


def test_help_lists_the_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert re.search(r"^\s+demo\s", proc.stdout, re.M) and re.search(r"^\s+info\s", proc.stdout, re.M)
    demo_help = run_cli("demo", "--help").stdout
    for option in ("--api {nn,keras}", "--out DIR", "--epochs"):
        assert option in demo_help


def test_demo_nn_default_run_reaches_97_percent(tmp_path):
    out = tmp_path / "demo"
    proc = run_cli("demo", "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    accuracy = float(re.search(r"test accuracy: (\d\.\d+) \(nn API", proc.stdout).group(1))
    assert accuracy >= 0.97
    assert "Layer (type:depth-idx)" in proc.stdout and "Total params: 38,282" in proc.stdout
    assert len(re.findall(r"^epoch +\d+/20 ", proc.stdout, re.M)) == 20
    assert imread(out / "curves.png").shape[2] in (3, 4)
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    test_curve = [e.value for e in events.Scalars("accuracy/test")]
    assert len(test_curve) == 20 and abs(test_curve[-1] - accuracy) < 1e-4
    assert events.Tags()["graph"]
    # the checkpoint restores a model with the reported accuracy
    from ember.tools import demo

    ckpt = ember.io.load_checkpoint(str(out / "checkpoint.safetensors"), restore_rng=False)
    model = demo._model()
    model.load_state_dict(ckpt["model_state"])
    _, _, x_test, y_test = demo.load_digits()
    assert ckpt["epoch"] == 20 and abs(demo._accuracy(model, ember.from_numpy(x_test[:, None]), y_test) - accuracy) < 1e-4


def test_demo_keras_api_writes_outputs(tmp_path):
    out = tmp_path / "kdemo"
    proc = run_cli("demo", "--api", "keras", "--epochs", "3", "--out", str(out))
    assert "test accuracy:" in proc.stdout, proc.stdout + proc.stderr
    assert 'Model: "digits_cnn"' in proc.stdout and "Epoch 3/3" in proc.stdout
    # Keras's final progress line: sorted metrics, then what callbacks added (the learning rate)
    assert re.search(r"^45/45 ━{20} \d+s \d+(ms|us|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - "
                     r"val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - learning_rate: ", proc.stdout, re.M), proc.stdout
    accuracy = float(re.search(r"test accuracy: (\d\.\d+) \(keras API", proc.stdout).group(1))
    assert accuracy > 0.8
    from ember import keras

    model = keras.models.load_model(out / "model.keras")
    from ember.tools.demo import load_digits

    _, _, x_test, y_test = load_digits()
    assert abs(model.evaluate(x_test[..., None], y_test, verbose=0)[1] - accuracy) < 1e-4
    for run in ("train", "validation"):
        events = EventAccumulator(str(out / "tensorboard" / run))
        events.Reload()
        assert len(events.Scalars("epoch_accuracy")) == 3
    assert imread(out / "curves.png").shape[0] > 100
