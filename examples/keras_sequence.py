"""Recurrent layers: an LSTM and a GRU tell a noisy sine wave from noise, and a subclassed Model does the same.

    python examples/keras_sequence.py
"""
import numpy as np

from ember import keras
from ember.keras import layers

rng = np.random.default_rng(0)
steps = 24
t = np.linspace(0, 4 * np.pi, steps, dtype=np.float32)
n = 600
labels = rng.integers(0, 2, n)
phase = rng.uniform(0, 2 * np.pi, size=(n, 1)).astype(np.float32)
signal = np.where(labels[:, None] == 1, np.sin(t + phase), 0.0)
x = (signal + 0.6 * rng.normal(size=(n, steps))).astype(np.float32)[..., None]  # (batch, steps, 1)

keras.utils.set_random_seed(0)
stacked = keras.Sequential([
    keras.Input(shape=(steps, 1)),
    layers.LSTM(16, return_sequences=True),
    layers.GRU(8),
    layers.Dense(1, activation="sigmoid"),
])
stacked.summary()
stacked.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", keras.metrics.AUC()])
stacked.fit(x[:500], labels[:500], epochs=6, batch_size=32, verbose=2)
loss, accuracy, auc = stacked.evaluate(x[500:], labels[500:], verbose=0)
print(f"stacked LSTM/GRU: test loss {loss:.4f}  accuracy {accuracy:.4f}  auc {auc:.4f}")


class SequenceClassifier(keras.Model):
    """A subclassed model: layers are attributes, call() wires them."""

    def __init__(self, units=16, **kwargs):
        super().__init__(**kwargs)
        self.rnn = layers.LSTM(units, return_state=True)
        self.head = layers.Dense(1, activation="sigmoid")

    def call(self, inputs):
        output, state_h, state_c = self.rnn(inputs)
        return self.head(state_h)


model = SequenceClassifier()
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x[:500], labels[:500], epochs=6, batch_size=32, verbose=0)
loss, accuracy = model.evaluate(x[500:], labels[500:], verbose=0)
print(f"subclassed LSTM:  test loss {loss:.4f}  accuracy {accuracy:.4f}")
