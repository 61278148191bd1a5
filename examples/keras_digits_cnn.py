"""A convolutional network on the 8x8 digits with the Keras API: Sequential, callbacks, History.plot, save/load.

    python examples/keras_digits_cnn.py                 # 15 epochs, about 98 % test accuracy
    python examples/keras_digits_cnn.py --epochs 3      # a quick run
    tensorboard --logdir keras-digits/tensorboard       # the curves and the model graph

Images are channels-last (batch, 8, 8, 1), as Keras expects. Writes ``keras-digits/``: the best model
(``best.keras``, a zip of JSON config + safetensors weights), TensorBoard logs, a CSV log and ``curves.png``.
"""
import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # tiny matrices: one BLAS thread is fastest

import numpy as np  # noqa: E402

from ember import keras  # noqa: E402
from ember.datasets import Digits  # noqa: E402
from ember.keras import callbacks, layers  # noqa: E402


def load(train):
    split = Digits(train=train)
    return split.data.numpy().astype(np.float32)[..., None] / 255.0, split.targets.numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--out", default="keras-digits")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load(True), load(False)
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    os.makedirs(args.out, exist_ok=True)
    history = model.fit(
        x_train, y_train, epochs=args.epochs, batch_size=32, validation_split=0.15, verbose=2,
        callbacks=[
            callbacks.ModelCheckpoint(os.path.join(args.out, "best.keras"), monitor="val_accuracy",
                                      save_best_only=True),
            callbacks.EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True),
            callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2),
            callbacks.TensorBoard(os.path.join(args.out, "tensorboard")),
            callbacks.CSVLogger(os.path.join(args.out, "log.csv")),
        ])
    history.plot(os.path.join(args.out, "curves.png"))
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    best = keras.models.load_model(os.path.join(args.out, "best.keras"))
    best_loss, best_accuracy = best.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f}); best checkpoint: {best_accuracy:.4f}")


if __name__ == "__main__":
    main()
