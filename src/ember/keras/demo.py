"""``ember demo --api keras``: the digits CNN written with ember.keras (Sequential, compile, fit, callbacks).

Writes ``curves.png`` (``History.plot``), ``tensorboard/`` (the TensorBoard callback: ``train`` and
``validation`` runs) and ``model.keras`` (ModelCheckpoint: JSON config + safetensors weights) to the output
folder; ``ember.tools.demo`` is the PyTorch-style twin.
"""
import math
import os
import time

import numpy as np

from ..tools.demo import load_digits, shifted, small_blas
from . import callbacks, layers, optimizers, utils
from .models import Sequential

__all__ = ["run"]


class ShiftedDigits(utils.PyDataset):
    """Training batches of randomly shifted digits, re-drawn every epoch."""

    def __init__(self, x, y, batch_size, seed):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        rows = self.order[i * self.batch_size:(i + 1) * self.batch_size]
        return self.images[rows], self.y[rows]

    def on_epoch_end(self):
        self.images = shifted(self.x, self.rng)[..., None]
        self.order = self.rng.permutation(len(self.x))


def build_model():
    return Sequential([
        layers.Input(shape=(8, 8, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.25),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="digits_cnn")


def run(out="ember-demo", epochs=20, batch_size=32, lr=3e-3, seed=0, progress=True):
    """Train with fit(), report and save; returns a dict like ``ember.tools.demo.run``."""
    with small_blas():
        return _run(out, epochs, batch_size, lr, seed, progress)


def _run(out, epochs, batch_size, lr, seed, progress):
    start = time.time()
    utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = load_digits()
    print(f"ember demo (Keras API): a CNN on {len(x_train)} + {len(x_test)} 8x8 digit images\n")
    model = build_model()
    model.summary()
    model.compile(optimizer=optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    os.makedirs(out, exist_ok=True)
    paths = {"curves": os.path.join(out, "curves.png"), "tensorboard": os.path.join(out, "tensorboard"),
             "checkpoint": os.path.join(out, "model.keras")}
    cosine = callbacks.LearningRateScheduler(lambda epoch: lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs)))
    history = model.fit(ShiftedDigits(x_train, y_train, batch_size, seed), epochs=epochs,
                        validation_data=(x_test[..., None], y_test), verbose=1 if progress else 2,
                        callbacks=[cosine, callbacks.TensorBoard(paths["tensorboard"]),
                                   callbacks.ModelCheckpoint(paths["checkpoint"])])
    loss, accuracy = model.evaluate(x_test[..., None], y_test, verbose=0)
    history.plot(paths["curves"], title="ember demo (Keras API)")
    return {"accuracy": float(accuracy), "history": history.history, "paths": paths,
            "seconds": time.time() - start}
