"""Callbacks: Keras's hook order and the behaviour of each built-in callback."""
import csv
import os

import numpy as np
import pytest

from ember import keras
from ember.keras import callbacks, layers

RNG = np.random.default_rng(4)


class StubOptimizer:
    learning_rate = 1.0


class StubModel:
    """Enough of a model for callbacks driven with synthetic logs."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(1)]
        self.saved = []
        self.optimizer = StubOptimizer()

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]

    def save(self, path):
        self.saved.append(("model", path))

    def save_weights(self, path):
        self.saved.append(("weights", path))


def drive(callback, values, key="val_loss", model=None):
    """Run epochs with ``logs[key] = value``; the model's weight is the epoch number; returns stopped epoch."""
    model = model or StubModel()
    callback.set_model(model)
    callback.on_train_begin()
    last = None
    for epoch, v in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {key: v, "loss": v})
        last = epoch
        if model.stop_training:
            break
    callback.on_train_end()
    return last, model


def regression_model():
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(0.05), "mse", metrics=["mae"])
    x = RNG.normal(size=(32, 3)).astype(np.float32)
    return model, x, x @ np.array([1.0, -2.0, 0.5], np.float32)


def test_hook_order_in_fit():
    events = []

    class Recorder(callbacks.Callback):
        def __getattribute__(self, name):
            if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end"):
                return lambda *args: events.append(name)
            return super().__getattribute__(name)

    model, x, y = regression_model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_split=0.5, callbacks=[Recorder()])
    epoch = ["on_epoch_begin", "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_batch_begin",
             "on_test_batch_end", "on_test_end", "on_epoch_end"]
    assert events == ["on_train_begin"] + epoch * 2 + ["on_train_end"]


def test_early_stopping_patience_and_restore():
    # best at epoch 1; with patience 2 training stops at epoch 3 and weights come back from epoch 1
    stopper = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    last, model = drive(stopper, [1.0, 0.5, 0.6, 0.7, 0.1])
    assert last == 3 and stopper.stopped_epoch == 3 and stopper.best_epoch == 1
    assert model.weights[0][0] == 1.0


def test_early_stopping_min_delta_mode_and_baseline():
    # improvements smaller than min_delta do not count
    last, _ = drive(callbacks.EarlyStopping(patience=1, min_delta=0.1), [1.0, 0.95, 0.92])
    assert last == 1
    # 'accuracy' is maximised in auto mode
    last, _ = drive(callbacks.EarlyStopping(monitor="val_accuracy", patience=1), [0.5, 0.6, 0.7, 0.65, 0.6],
                    key="val_accuracy")
    assert last == 3
    # a first epoch that misses the baseline does not reset the wait: with a flat loss training stops one epoch
    # earlier than without a baseline (and an improving loss never stops, as in Keras)
    assert drive(callbacks.EarlyStopping(patience=2), [1.0] * 5)[0] == 2
    assert drive(callbacks.EarlyStopping(patience=2, baseline=0.1), [1.0] * 5)[0] == 1
    assert drive(callbacks.EarlyStopping(patience=2, baseline=0.1), [1.0, 0.9, 0.8, 0.7])[0] == 3


def test_early_stopping_in_fit_stops_training():
    model, x, y = regression_model()
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[
        callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)])
    assert len(history.history["loss"]) == 2


def test_model_checkpoint_formats_path_and_saves_best_only(tmp_path):
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{val_loss:.2f}.keras"), save_best_only=True)
    _, model = drive(ckpt, [0.5, 0.7, 0.25])
    assert model.saved == [("model", str(tmp_path / "m-01-0.50.keras")), ("model", str(tmp_path / "m-03-0.25.keras"))]
    weights = callbacks.ModelCheckpoint(str(tmp_path / "w{epoch}.weights.safetensors"), save_weights_only=True)
    _, model = drive(weights, [3.0, 2.0])
    assert model.saved == [("weights", str(tmp_path / "w1.weights.safetensors")),
                           ("weights", str(tmp_path / "w2.weights.safetensors"))]


def test_model_checkpoint_in_fit_writes_loadable_files(tmp_path):
    model, x, y = regression_model()
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="val_mae")])
    restored = keras.models.load_model(tmp_path / "best.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_reduce_lr_on_plateau():
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_lr=0.2)
    model = StubModel()
    cb.set_model(model)
    cb.on_train_begin()
    lrs = []
    for epoch, v in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        logs = {"val_loss": v}
        cb.on_epoch_end(epoch, logs)
        lrs.append(model.optimizer.learning_rate)
        assert logs["learning_rate"] == (lrs[-2] if epoch else 1.0)
    # epoch 1: reduce; epoch 2: cooldown; epoch 3: reduce; epoch 4: cooldown; epoch 5: floor at min_lr
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25, 0.2]
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_in_fit():
    model, x, y = regression_model()
    history = model.fit(x, y, epochs=3, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert model.optimizer.torch_optimizer.param_groups[0]["lr"] == pytest.approx(0.1 / 3)


def test_csv_logger(tmp_path):
    model, x, y = regression_model()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.CSVLogger(str(path))])
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "mae"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], history.history["loss"], rtol=1e-6)


def test_terminate_on_nan_and_lambda_callback():
    model, x, y = regression_model()
    seen = []
    y_bad = y.copy()
    y_bad[0] = np.nan
    history = model.fit(x, y_bad, epochs=3, batch_size=8, verbose=0, callbacks=[
        callbacks.TerminateOnNaN(), callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))])
    assert seen == [0] and np.isnan(history.history["loss"][0])


def test_tensorboard_callback_writes_epoch_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model, x, y = regression_model()
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[callbacks.TensorBoard(str(tmp_path), histogram_freq=1)])
    train = EventAccumulator(str(tmp_path / "train"), size_guidance={"scalars": 0, "histograms": 0})
    train.Reload()
    assert {"epoch_loss", "epoch_mae"} <= set(train.Tags()["scalars"])
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in train.Scalars("epoch_loss")], history.history["loss"], rtol=1e-6)
    assert "dense/kernel" in train.Tags()["histograms"] and train.Tags()["graph"]
    val = EventAccumulator(str(tmp_path / "validation"))
    val.Reload()
    np.testing.assert_allclose([e.value for e in val.Scalars("epoch_loss")], history.history["val_loss"], rtol=1e-6)
    assert os.listdir(tmp_path / "train")
