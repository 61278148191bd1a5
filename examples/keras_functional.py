"""The functional API: a model with two inputs and two outputs (a regression head and a class head).

    python examples/keras_functional.py

Each output has its own loss and metrics; History holds ``loss``, ``price_loss``, ``kind_loss``,
``price_mae``, ``kind_accuracy`` and their ``val_`` twins. The model is saved and loaded back.
"""
import os
import tempfile

import numpy as np

from ember import keras
from ember.keras import layers

rng = np.random.default_rng(0)
n = 2000
numeric = rng.normal(size=(n, 6)).astype(np.float32)
category = rng.integers(0, 4, size=n)
onehot = np.eye(4, dtype=np.float32)[category]
price = (numeric @ rng.normal(size=6) + 2.0 * category).astype(np.float32)
kind = ((numeric[:, 0] + numeric[:, 1] > 0).astype(np.int64) + 2 * (category > 1)).astype(np.int64)

keras.utils.set_random_seed(0)
features = keras.Input(shape=(6,), name="features")
cat_in = keras.Input(shape=(4,), name="category")
x = layers.Dense(32, activation="relu")(features)
x = layers.concatenate([x, cat_in])
x = layers.Dense(32, activation="relu")(x)
outputs = {"price": layers.Dense(1, name="price")(x), "kind": layers.Dense(4, activation="softmax", name="kind")(x)}
model = keras.Model(inputs=[features, cat_in], outputs=outputs)
model.summary()

model.compile(optimizer="adam", loss={"price": "mse", "kind": "sparse_categorical_crossentropy"},
              loss_weights={"price": 0.1, "kind": 1.0}, metrics={"price": ["mae"], "kind": ["accuracy"]})
history = model.fit([numeric, onehot], {"price": price, "kind": kind}, epochs=8, batch_size=64,
                    validation_split=0.2, verbose=2)
print("history keys:", list(history.history))
results = model.evaluate([numeric, onehot], {"price": price, "kind": kind}, verbose=0, return_dict=True)
print({k: round(v, 4) for k, v in results.items()})

path = os.path.join(tempfile.mkdtemp(), "two_heads.keras")
model.save(path)
restored = keras.models.load_model(path)
same = np.allclose(restored.predict([numeric[:5], onehot[:5]], verbose=0)["price"],
                   model.predict([numeric[:5], onehot[:5]], verbose=0)["price"])
print("saved and restored:", path, "same predictions:", same)
