"""compile / fit / evaluate / predict: Keras's return structures, History keys, progress output, optimizer
defaults, parity with a torch training loop, and errors for bad input."""
import re

import numpy as np
import pytest
import torch

import ember
import ember as tf
from ember import keras
from ember.keras import layers

RNG = np.random.default_rng(2)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def regression_data(n=120, d=8):
    x = rand(n, d)
    y = x @ RNG.normal(size=d) + 0.1 * RNG.normal(size=n)
    return x, y


def test_seed_program_runs_as_written():
    # /work/shared/seeds/001: the TensorFlow snippet, with `import ember as tf`
    X_train, y_train = regression_data(200)
    X_test, y_test = regression_data(50)
    model = tf.keras.models.Sequential([
        tf.keras.layers.Dense(10, activation='relu', input_shape=(X_train.shape[1],)),
        tf.keras.layers.Dense(1)
    ])
    model.compile(optimizer='adam', loss='mse', metrics=['mae'])
    history = model.fit(X_train, y_train, epochs=10, batch_size=32, verbose=0)
    loss, mae = model.evaluate(X_test, y_test, verbose=0)
    assert list(history.history) == ["loss", "mae"] and len(history.history["loss"]) == 10
    assert history.history["loss"][-1] < history.history["loss"][0]
    pred = model.predict(X_test, verbose=0)
    assert pred.shape == (50, 1) and pred.dtype == np.float32
    assert mae == pytest.approx(np.mean(np.abs(pred[:, 0] - y_test)), rel=1e-5)
    assert loss == pytest.approx(np.mean((pred[:, 0] - y_test) ** 2), rel=1e-4)


SEED_SNIPPET = """\
import tensorflow as tf

# 定义模型
model = tf.keras.models.Sequential([
  tf.keras.layers.Dense(10, activation='relu'),
  tf.keras.layers.Dense(1)
])

# 编译模型
model.compile(optimizer='adam',
              loss='mse',
              metrics=['mae'])

# 训练模型
model.fit(x_train, y_train, epochs=10)

# 评估模型
model.evaluate(x_test, y_test)
"""


def test_seed_snippet_verbatim_with_import_swapped(capsys):
    x_train, y_train = regression_data(64)
    x_test, y_test = regression_data(20)
    source = SEED_SNIPPET.replace("import tensorflow as tf", "import ember as tf")
    namespace = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    exec(compile(source, "seed_001", "exec"), namespace)
    out = capsys.readouterr().out
    assert out.count("Epoch ") == 10 and "Epoch 10/10" in out
    assert re.search(r"^1/1 ━{20} \d+s .*/step - loss: [\d.]+ - mae: [\d.]+$", out, re.M)  # evaluate's bar
    assert namespace["model"].layers[0].kernel.shape == (8, 10)


def test_fit_is_reproducible_with_set_random_seed():
    x, y = regression_data(50, 3)

    def train():
        keras.utils.set_random_seed(7)
        model = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dropout(0.3), layers.Dense(1)])
        model.compile("adam", "mse")
        return model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"], model.get_weights()

    (loss_a, weights_a), (loss_b, weights_b) = train(), train()
    assert loss_a == loss_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)


def test_training_matches_torch_sgd_loop():
    x, y = regression_data(40, 3)
    model = keras.Sequential([layers.Dense(4, activation="tanh", input_shape=(3,)), layers.Dense(1)])
    k1, b1, k2, b2 = (torch.tensor(w, requires_grad=True) for w in model.get_weights())
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    opt = torch.optim.SGD([k1, b1, k2, b2], lr=0.1, momentum=0.9)
    xt, yt = torch.tensor(x), torch.tensor(y, dtype=torch.float32)
    epoch_losses = []
    for _ in range(3):
        total = 0.0
        for start in range(0, 40, 16):
            xb, yb = xt[start:start + 16], yt[start:start + 16]
            loss = (((torch.tanh(xb @ k1 + b1) @ k2 + b2)[:, 0] - yb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        epoch_losses.append(total / 40)
    np.testing.assert_allclose(history.history["loss"], epoch_losses, rtol=1e-5)
    for w, ref in zip(model.get_weights(), (k1, b1, k2, b2)):
        np.testing.assert_allclose(w, ref.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,cls,expected", [
    ("adam", torch.optim.Adam, {"lr": 0.001, "eps": 1e-7, "betas": (0.9, 0.999)}),
    ("sgd", torch.optim.SGD, {"lr": 0.01, "momentum": 0.0}),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.001, "alpha": 0.9, "eps": 1e-7}),
    ("adagrad", torch.optim.Adagrad, {"lr": 0.001, "initial_accumulator_value": 0.1, "eps": 1e-7}),
    ("adamw", torch.optim.AdamW, {"lr": 0.001, "eps": 1e-7}),
])
def test_optimizer_strings_use_keras_defaults(name, cls, expected):
    model = keras.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer=name, loss="mse")
    model.train_on_batch(rand(4, 2), rand(4, 1))
    group = model.optimizer.torch_optimizer.param_groups[0]
    assert type(model.optimizer.torch_optimizer).__name__ == cls.__name__
    for key, value in expected.items():
        assert group[key] == value
    if name == "adamw":
        assert model.optimizer.weight_decay == 0.004
    model.optimizer.learning_rate = 0.5
    assert group["lr"] == 0.5 and model.optimizer.learning_rate == 0.5


def test_evaluate_return_structure():
    x, y = regression_data(30, 4)
    plain = keras.Sequential([layers.Dense(1, input_shape=(4,))])
    plain.compile("sgd", "mse")
    result = plain.evaluate(x, y, verbose=0)
    assert isinstance(result, float)
    with_metrics = keras.Sequential([layers.Dense(1, input_shape=(4,))])
    with_metrics.compile("sgd", "mse", metrics=["mae", "mse"])
    values = with_metrics.evaluate(x, y, verbose=0)
    as_dict = with_metrics.evaluate(x, y, verbose=0, return_dict=True)
    assert isinstance(values, list) and len(values) == 3
    assert list(as_dict) == ["loss", "mae", "mse"] and values == [as_dict["loss"], as_dict["mae"], as_dict["mse"]]
    assert values[0] == pytest.approx(values[2], rel=1e-6)  # the mse metric equals the mse loss


def test_history_keys_are_sorted_like_keras():
    x = rand(60, 4)
    y = (x[:, 0] > 0).astype(np.float32)
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile("adam", "binary_crossentropy", metrics=["mse", "accuracy", "mae", keras.metrics.AUC()])
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    assert list(history.history) == ["accuracy", "auc", "loss", "mae", "mse", "val_accuracy", "val_auc",
                                      "val_loss", "val_mae", "val_mse"]
    assert history.epoch == [0, 1] and history.params["epochs"] == 2
    # evaluate lists loss first, then the metrics in compile order
    values = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert values == [logs["loss"], logs["mse"], logs["accuracy"], logs["mae"], logs["auc"]]


def test_validation_split_uses_the_last_samples():
    x, y = regression_data(50, 3)
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=["mae"])
    history = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0, batch_size=8)
    assert history.params["steps"] == 5  # 40 training samples / 8
    val_loss, val_mae = model.evaluate(x[40:], y[40:], verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_mae"][-1] == pytest.approx(val_mae, rel=1e-6)


def test_validation_data_and_multi_output_keys():
    a = keras.Input((3,), name="a")
    h = layers.Dense(4, activation="relu")(a)
    model = keras.Model(a, [layers.Dense(1, name="reg")(h), layers.Dense(3, activation="softmax", name="cls")(h)])
    model.compile("adam", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  metrics={"reg": ["mae"], "cls": ["accuracy"]}, loss_weights=[1.0, 0.5])
    x, yr, yc = rand(40, 3), rand(40), RNG.integers(0, 3, 40)
    history = model.fit(x, [yr, yc], epochs=1, verbose=0, validation_data=(x, {"reg": yr, "cls": yc}))
    assert sorted(history.history) == list(history.history)
    assert set(history.history) == {"loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy", "val_loss",
                                    "val_reg_loss", "val_cls_loss", "val_reg_mae", "val_cls_accuracy"}
    logs = model.evaluate(x, [yr, yc], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["reg_loss"] + 0.5 * logs["cls_loss"], rel=1e-5)
    values = model.evaluate(x, [yr, yc], verbose=0)
    assert values == [logs[k] for k in ("loss", "reg_loss", "cls_loss", "cls_accuracy", "reg_mae")]


def test_predict_is_batched_and_matches_call():
    model = keras.Sequential([layers.Dense(3, activation="relu", input_shape=(5,)), layers.Dense(2)])
    x = rand(23, 5)
    direct = model(x).detach().numpy()
    np.testing.assert_allclose(model.predict(x, batch_size=4, verbose=0), direct, rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), direct, rtol=1e-6)


def test_on_batch_methods_reset_metrics():
    x, y = regression_data(16, 3)
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(0.0), "mse", metrics=["mae"])
    pred = model.predict(x, verbose=0)[:, 0]
    loss, mae = model.test_on_batch(x, y)
    assert loss == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5) and mae == pytest.approx(np.mean(abs(pred - y)),
                                                                                              rel=1e-5)
    assert model.train_on_batch(x[:8], y[:8]) == pytest.approx([np.mean((pred[:8] - y[:8]) ** 2),
                                                                np.mean(abs(pred[:8] - y[:8]))], rel=1e-5)
    assert model.test_on_batch(x, y, return_dict=True) == pytest.approx({"loss": loss, "mae": mae}, rel=1e-5)


def test_sample_weight_and_class_weight():
    x = rand(10, 2)
    y = np.array([0, 1] * 5, dtype=np.float32)
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(keras.optimizers.SGD(0.0), "binary_crossentropy")
    p = np.clip(model.predict(x, verbose=0)[:, 0], 1e-7, 1 - 1e-7)
    per_sample = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    weights = np.linspace(0, 2, 10).astype(np.float32)
    # sum_over_batch_size: sum(loss * w) / number of samples
    assert model.test_on_batch(x, y, sample_weight=weights) == pytest.approx(np.sum(per_sample * weights) / 10,
                                                                             rel=1e-5)
    loss = model.train_on_batch(x, y, class_weight={0: 1.0, 1: 3.0})
    assert loss == pytest.approx(np.sum(per_sample * np.where(y == 1, 3.0, 1.0)) / 10, rel=1e-5)
    with pytest.raises(ValueError, match="class_weight must contain all classes"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_regularization_losses_are_added():
    model = keras.Sequential([layers.Dense(1, input_shape=(3,), kernel_regularizer=keras.regularizers.L2(0.1))])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    x, y = regression_data(8, 3)
    pred = model.predict(x, verbose=0)[:, 0]
    kernel = model.get_weights()[0]
    assert model.evaluate(x, y, verbose=0) == pytest.approx(np.mean((pred - y) ** 2) + 0.1 * np.sum(kernel ** 2),
                                                            rel=1e-5)


@pytest.mark.parametrize("loss,activation,targets,kind", [
    ("binary_crossentropy", "sigmoid", "binary", "binary"),
    ("sparse_categorical_crossentropy", "softmax", "sparse", "sparse"),
    ("categorical_crossentropy", "softmax", "onehot", "categorical"),
    ("mse", "softmax", "onehot", "categorical"),
])
def test_accuracy_is_chosen_like_keras(loss, activation, targets, kind):
    x = rand(30, 4)
    labels = RNG.integers(0, 3, 30)
    units = 1 if targets == "binary" else 3
    y = {"binary": (labels == 0).astype(np.float32), "sparse": labels,
         "onehot": np.eye(3, dtype=np.float32)[labels]}[targets]
    model = keras.Sequential([layers.Dense(units, activation=activation, input_shape=(4,))])
    model.compile(keras.optimizers.SGD(0.0), loss, metrics=["accuracy"])
    acc = model.evaluate(x, y, verbose=0)[1]
    p = model.predict(x, verbose=0)
    expected = np.mean((p[:, 0] > 0.5) == (y > 0.5)) if kind == "binary" else np.mean(p.argmax(1) == labels)
    assert acc == pytest.approx(expected)
    cls = {"binary": "BinaryAccuracy", "sparse": "SparseCategoricalAccuracy",
           "categorical": "CategoricalAccuracy"}[kind]
    assert type(model._metric_objects[0][0]).__name__ == cls


def test_initial_epoch_steps_per_epoch_and_iterables():
    x, y = regression_data(64, 3)
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    assert history.epoch == [1, 2]
    history = model.fit(x, y, epochs=1, steps_per_epoch=2, batch_size=8, verbose=0)
    assert history.params["steps"] == 2

    def batches():
        while True:
            yield x[:16], y[:16]

    history = model.fit(batches(), epochs=2, steps_per_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 2
    loader = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(ember.tensor(x), ember.tensor(y)),
                                         batch_size=16)
    history = model.fit(loader, epochs=1, verbose=0, validation_data=loader)
    assert history.params["steps"] == 4 and "val_loss" in history.history
    assert model.evaluate(loader, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)


def test_batchnorm_and_dropout_follow_training_flag():
    model = keras.Sequential([layers.BatchNormalization(input_shape=(3,)), layers.Dropout(0.5), layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = rand(32, 3) * 3 + 2, rand(32)
    first = model.predict(x, verbose=0)
    np.testing.assert_array_equal(first, model.predict(x, verbose=0))  # inference: deterministic
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    moving_mean = model.layers[0].get_weights()[2]
    np.testing.assert_allclose(moving_mean, 0.01 * x.mean(0), rtol=1e-5)


# ---- progress output ---------------------------------------------------------------------------------------------
def test_verbose_1_prints_epochs_and_keras_progress_line(capsys):
    x, y = regression_data(64, 3)
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=32, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert re.fullmatch(r"2/2 ━{20} \d+s \d+(us|ms|s)/step - loss: \d+\.\d{4} - mae: \d+\.\d{4}", out[1]), out[1]
    model.evaluate(x, y, verbose=1)
    assert re.fullmatch(r"2/2 ━{20} \d+s \d+(us|ms|s)/step - loss: \d+\.\d{4} - mae: \d+\.\d{4}\n",
                        capsys.readouterr().out)


def test_verbose_2_and_0(capsys):
    x, y = regression_data(64, 3)
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=2, validation_split=0.25)
    out = capsys.readouterr().out
    assert re.fullmatch(r"3/3 - \d+s - \d+(us|ms|s)/step - loss: \d+\.\d{4} - val_loss: \d+\.\d{4}\n", out), out
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_on_a_terminal_shows_eta_and_redraws():
    class Tty:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    out = Tty()
    bar = keras.utils.Progbar(10, file=out, interval=0)
    bar.update(5, [("loss", 0.5)])
    assert out.text.startswith("\r") and "\x1b[1m 5/10\x1b[0m" in out.text and " - loss: 0.5000" in out.text
    assert re.search(r"\x1b\[32m━{10}\x1b\[0m\x1b\[37m━{10}\x1b\[0m \d+s", out.text)
    bar.update(10, [("loss", 0.25)])
    assert out.text.endswith("\n") and "loss: 0.2500" in out.text


# ---- bad input ----------------------------------------------------------------------------------------------------
def compiled_model():
    model = keras.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_mismatched_lengths():
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous.*'x' sizes: 10 'y' sizes: 9"):
        compiled_model().fit(rand(10, 4), np.zeros(9, np.int64), verbose=0)


def test_wrong_feature_count():
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(10, 5\)"):
        compiled_model().fit(rand(10, 5), np.zeros(10, np.int64), verbose=0)
    model = keras.Sequential([layers.Dense(3)])
    model.compile("sgd", "mse")
    model.fit(rand(10, 4), rand(10, 3), verbose=0)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 6\)"):
        model.predict(rand(2, 6), verbose=0)


def test_labels_out_of_range_for_sparse_categorical():
    with pytest.raises(ValueError, match=r"label value of 3 which is outside the valid range of \[0, 2\]"):
        compiled_model().fit(rand(10, 4), np.arange(10) % 4, verbose=0)
    with pytest.raises(ValueError, match=r"label value of -1"):
        compiled_model().evaluate(rand(2, 4), np.array([0, -1]), verbose=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"optimizer": "adamm", "loss": "mse"}, r"Could not interpret optimizer identifier: 'adamm'.*'adam'"),
    ({"optimizer": "adam", "loss": "msee"}, r"Unknown loss function: 'msee'.*'mse'"),
    ({"optimizer": "adam", "loss": "mse", "metrics": ["maee"]}, r"Unknown metric function: 'maee'.*'mae'"),
])
def test_unknown_identifiers(kwargs, match):
    model = keras.Sequential([layers.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match=match):
        model.compile(**kwargs)


def test_fit_before_compile_and_jit_compile_flag():
    model = keras.Sequential([layers.Dense(1, input_shape=(2,))])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(rand(4, 2), rand(4), verbose=0)
    model.compile("sgd", "mse", jit_compile=True)
    model.fit(rand(4, 2), rand(4), verbose=0)
