"""The TensorFlow/Keras regression snippet, run by ember: ``import ember as tf`` and nothing else changes.

    python examples/keras_regression.py

A two-layer network learns a noisy linear function of 8 features; ``fit`` prints Keras's progress bar and
``evaluate`` returns ``[loss, mae]`` because one metric was compiled.
"""
import numpy as np

import ember as tf

rng = np.random.default_rng(0)
X = rng.normal(size=(1000, 8)).astype("float32")
true_w = rng.normal(size=8).astype("float32")
y = X @ true_w + 0.1 * rng.normal(size=1000).astype("float32")
X_train, X_test, y_train, y_test = X[:800], X[800:], y[:800], y[800:]

tf.keras.utils.set_random_seed(0)
model = tf.keras.models.Sequential([
    tf.keras.layers.Dense(10, activation='relu', input_shape=(X_train.shape[1],)),
    tf.keras.layers.Dense(1)
])
model.compile(optimizer='adam', loss='mse', metrics=['mae'])
model.summary()

history = model.fit(X_train, y_train, epochs=10, batch_size=32, validation_split=0.1)
loss, mae = model.evaluate(X_test, y_test)
print(f"test loss {loss:.4f}  test mae {mae:.4f}")
print("history keys:", list(history.history))
print("first predictions:", model.predict(X_test[:3], verbose=0).ravel().round(3), "targets:", y_test[:3].round(3))
