"""Sequential / functional / subclassed models: building, shapes, summary text, weights, saving."""
import os
import zipfile

import numpy as np
import pytest

import ember
import ember as tf
from ember import keras
from ember.keras import layers

RNG = np.random.default_rng(1)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def summary_text(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines)


def test_tf_keras_alias_and_lazy_import():
    assert tf.keras is keras
    assert tf.keras.models.Sequential is keras.Sequential
    assert tf.keras.layers.Dense is layers.Dense
    for name in ("layers", "models", "optimizers", "losses", "metrics", "callbacks", "activations"):
        assert hasattr(tf.keras, name)
    assert tf.keras.Input is layers.Input and tf.keras.Model is keras.models.Model


# ---- Sequential ---------------------------------------------------------------------------------------------------
def test_sequential_built_from_input_shape():
    model = keras.Sequential([layers.Dense(10, activation="relu", input_shape=(8,)), layers.Dense(1)])
    assert model.built and model.output_shape == (None, 1)
    assert [w.shape for w in model.get_weights()] == [(8, 10), (10,), (10, 1), (1,)]
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.count_params() == 8 * 10 + 10 + 10 + 1


def test_sequential_with_input_and_add():
    model = keras.Sequential()
    model.add(keras.Input(shape=(5, 5, 3)))
    model.add(layers.Conv2D(4, 3))
    assert model.built and model.output_shape == (None, 3, 3, 4)
    model.add(layers.Flatten())
    model.add(layers.Dense(2))
    assert model.output_shape == (None, 2)
    assert model.pop().name == "dense" and model.output_shape == (None, 36)


def test_sequential_unbuilt_until_called():
    model = keras.Sequential([layers.Dense(3), layers.Dense(1)])
    assert not model.built
    text = summary_text(model, line_length=88)
    assert "0 (unbuilt)" in text and "?" in text
    out = model(rand(4, 6))
    assert tuple(out.shape) == (4, 1) and model.built
    assert model.layers[0].kernel.shape == (6, 3)


def test_sequential_rejects_duplicates_and_non_layers():
    dense = layers.Dense(2)
    model = keras.Sequential([dense])
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name=dense.name))
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        model.add("dense")


# ---- summary (Keras 3's table, checked against keras 3 output for the same models) -------------------------------
def test_summary_text_sequential():
    model = keras.Sequential([layers.Dense(10, activation="relu", input_shape=(8,)), layers.Dense(1)])
    expected = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ dense (Dense)                        │ (None, 10)                  │              90 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_1 (Dense)                      │ (None, 1)                   │              11 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 101 (404.00 B)
 Trainable params: 101 (404.00 B)
 Non-trainable params: 0 (0.00 B)"""
    assert summary_text(model, line_length=88) == expected


def test_summary_param_counts_and_wrapping():
    model = keras.Sequential([
        keras.Input((8, 8, 1)), layers.Conv2D(8, 3, padding="same", activation="relu"), layers.BatchNormalization(),
        layers.MaxPooling2D(), layers.Conv2D(16, 3, strides=2, padding="same"), layers.GlobalAveragePooling2D(),
        layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    text = summary_text(model, line_length=88)
    rows = [
        "│ conv2d (Conv2D)                      │ (None, 8, 8, 8)             │              80 │",
        "│ batch_normalization                  │ (None, 8, 8, 8)             │              32 │",
        "│ (BatchNormalization)                 │                             │                 │",
        "│ max_pooling2d (MaxPooling2D)         │ (None, 4, 4, 8)             │               0 │",
        "│ conv2d_1 (Conv2D)                    │ (None, 2, 2, 16)            │           1,168 │",
        "│ dense (Dense)                        │ (None, 10)                  │             170 │",
    ]
    for row in rows:
        assert row in text
    assert text.endswith(" Total params: 1,450 (5.66 KB)\n Trainable params: 1,434 (5.60 KB)\n"
                         " Non-trainable params: 16 (64.00 B)")


def test_summary_recurrent_and_embedding_param_counts():
    model = keras.Sequential([layers.LSTM(4, return_sequences=True, input_shape=(5, 3)), layers.GRU(6),
                              layers.Embedding(10, 3)])
    counts = [layer.count_params() for layer in model.layers]
    # LSTM 4 * (u * (in + u) + u); GRU (reset_after) 3 * (u * (in + u) + 2u); Embedding input_dim * output_dim
    assert counts == [4 * (4 * (3 + 4) + 4), 3 * (6 * (4 + 6) + 2 * 6), 30]
    assert [layer.output_shape for layer in model.layers] == [(None, 5, 4), (None, 6), (None, 6, 3)]
    assert layers.SimpleRNN(5).compute_output_shape((None, 7, 2)) == (None, 5)


def test_summary_functional_has_connected_to_column():
    a, b = keras.Input(shape=(8,), name="a"), keras.Input(shape=(4,), name="b")
    h = layers.Dense(16, activation="relu")(a)
    h2 = layers.concatenate([h, b])
    model = keras.Model(inputs=[a, b], outputs=[layers.Dense(1, name="reg")(h2),
                                                 layers.Dense(3, activation="softmax", name="cls")(h2)])
    text = summary_text(model, line_length=108)
    expected_rows = [
        "│ a (InputLayer)                │ (None, 8)                 │               0 │ -                          │",
        "│ dense (Dense)                 │ (None, 16)                │             144 │ a[0][0]                    │",
        "│ b (InputLayer)                │ (None, 4)                 │               0 │ -                          │",
        "│ concatenate (Concatenate)     │ (None, 20)                │               0 │ dense[0][0], b[0][0]       │",
        "│ reg (Dense)                   │ (None, 1)                 │              21 │ concatenate[0][0]          │",
        "│ cls (Dense)                   │ (None, 3)                 │              63 │ concatenate[0][0]          │",
    ]
    body = [line for line in text.splitlines() if line.startswith("│")]
    assert body == expected_rows
    assert text.startswith('Model: "functional"')
    assert [layer.name for layer in model.layers] == ["a", "dense", "b", "concatenate", "reg", "cls"]


# ---- functional ---------------------------------------------------------------------------------------------------
def test_functional_multi_input_multi_output_call():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(2,))
    merged = layers.Concatenate()([layers.Dense(4)(a), b])
    model = keras.Model([a, b], [layers.Dense(1)(merged), layers.Dense(2)(merged)])
    xa, xb = rand(5, 3), rand(5, 2)
    out1, out2 = model([xa, xb])
    assert tuple(out1.shape) == (5, 1) and tuple(out2.shape) == (5, 2)
    # the same computation by hand from the weights
    k0, b0, k1, b1, k2, b2 = model.get_weights()
    h = np.concatenate([xa @ k0 + b0, xb], 1)
    np.testing.assert_allclose(out1.detach().numpy(), h @ k1 + b1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out2.detach().numpy(), h @ k2 + b2, rtol=1e-5, atol=1e-5)
    pred = model.predict([xa, xb], verbose=0)
    assert isinstance(pred, list) and pred[1].shape == (5, 2)


def test_functional_dict_inputs_and_outputs():
    x = keras.Input(shape=(3,), name="features")
    model = keras.Model({"features": x}, {"score": layers.Dense(1)(x)})
    out = model({"features": rand(2, 3)})
    assert set(out) == {"score"} and tuple(out["score"].shape) == (2, 1)


def test_functional_shared_layer_and_nested_model():
    inner = keras.Sequential([layers.Dense(3, input_shape=(4,))])
    x1, x2 = keras.Input((4,)), keras.Input((4,))
    shared = layers.Dense(4)
    out = layers.Add()([inner(shared(x1)), inner(shared(x2))])
    model = keras.Model([x1, x2], out)
    assert model.output_shape == (None, 3)
    v1, v2 = rand(2, 4), rand(2, 4)
    k, b = shared.get_weights()
    ki, bi = inner.get_weights()
    expected = ((v1 @ k + b) @ ki + bi) + ((v2 @ k + b) @ ki + bi)
    np.testing.assert_allclose(model([v1, v2]).detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    assert len(model.trainable_weights) == 4


def test_functional_graph_disconnected():
    a, b = keras.Input((2,)), keras.Input((2,))
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)


def test_functional_rejects_wrong_input_shape():
    x = keras.Input((3,))
    model = keras.Model(x, layers.Dense(1)(x))
    with pytest.raises(ValueError, match=r'Input 0 of layer "functional" is incompatible with the layer: expected '
                                         r"shape=\(None, 3\), found shape=\(2, 4\)"):
        model(rand(2, 4))
    with pytest.raises(ValueError, match="expects 1 input"):
        model([rand(2, 3), rand(2, 3)])


def test_keras_tensor_repr_and_shape():
    x = keras.Input(shape=(None, 5), name="seq")
    assert x.shape == (None, None, 5)
    y = layers.LSTM(7, return_sequences=True)(x)
    assert y.shape == (None, None, 7)
    assert "shape=(None, None, 7)" in repr(y) and "dtype=float32" in repr(y)


# ---- subclassed -------------------------------------------------------------------------------------------------
class TwoLayer(keras.Model):
    def __init__(self, hidden=5, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.d1 = layers.Dense(hidden, activation="relu")
        self.d2 = layers.Dense(1)

    def call(self, inputs, training=False):
        return self.d2(self.d1(inputs))

    def get_config(self):
        return {"hidden": self.hidden, "name": self.name}


def test_subclassed_model_builds_on_call():
    model = TwoLayer()
    assert model.name == "two_layer" and not model.built
    model.build((None, 4))
    assert model.built and [w.shape for w in model.get_weights()] == [(4, 5), (5,), (5, 1), (1,)]
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    x = rand(3, 4)
    k1, b1, k2, b2 = model.get_weights()
    np.testing.assert_allclose(model(x).detach().numpy(), np.maximum(x @ k1 + b1, 0) @ k2 + b2, rtol=1e-5)


def test_subclassed_model_tracks_layer_lists():
    class Stack(keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [layers.Dense(3), layers.Dense(2)]

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    model = Stack()
    model(rand(1, 4))
    assert len(model.trainable_weights) == 4 and len(list(model.parameters())) == 4


# ---- weights and saving -----------------------------------------------------------------------------------------
def make_cnn():
    return keras.Sequential([keras.Input((6, 6, 2)), layers.Conv2D(3, 3, activation="relu"),
                             layers.BatchNormalization(), layers.Flatten(), layers.Dense(4, activation="softmax")])


def test_get_set_weights_roundtrip_and_errors():
    model = make_cnn()
    other = make_cnn()
    other.set_weights(model.get_weights())
    x = rand(2, 6, 6, 2)
    np.testing.assert_array_equal(model.predict(x, verbose=0), other.predict(x, verbose=0))
    names = [n for n, _ in model._named_weights()]
    assert names == ["conv2d/kernel", "conv2d/bias", "batch_normalization/gamma", "batch_normalization/beta",
                     "batch_normalization/moving_mean", "batch_normalization/moving_variance", "dense/kernel",
                     "dense/bias"]
    with pytest.raises(ValueError, match="expecting 8 weights"):
        model.set_weights(model.get_weights()[:-1])
    bad = model.get_weights()
    bad[0] = np.zeros((2, 2, 2, 3))
    with pytest.raises(ValueError, match=r"weight shape \(3, 3, 2, 3\) is not compatible"):
        model.set_weights(bad)


@pytest.mark.parametrize("as_dir", [False, True])
def test_save_and_load_model(tmp_path, as_dir):
    model = make_cnn()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = rand(8, 6, 6, 2), RNG.integers(0, 4, 8)
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "saved") + os.sep if as_dir else str(tmp_path / "m.keras")
    model.save(path)
    if not as_dir:
        with zipfile.ZipFile(path) as z:
            assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.safetensors"]
            assert b"pickle" not in z.read("config.json")
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert loaded.optimizer.learning_rate == pytest.approx(0.05)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)


def test_save_load_functional_and_subclassed(tmp_path):
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    out = layers.Dense(2, name="head")(layers.concatenate([layers.Dense(4)(a), b]))
    model = keras.Model([a, b], out)
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras")
    xa, xb = rand(3, 3), rand(3, 2)
    np.testing.assert_allclose(loaded.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0), rtol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]

    sub = TwoLayer(hidden=3)
    sub.build((None, 4))
    sub.save(tmp_path / "s.keras")
    with pytest.raises(ValueError, match="custom_objects"):
        keras.models.load_model(tmp_path / "s.keras")
    restored = keras.models.load_model(tmp_path / "s.keras", custom_objects={"TwoLayer": TwoLayer})
    x = rand(2, 4)
    np.testing.assert_allclose(restored.predict(x, verbose=0), sub.predict(x, verbose=0), rtol=1e-6)


def test_save_weights_load_weights(tmp_path):
    model, other = make_cnn(), make_cnn()
    model.save_weights(tmp_path / "w.weights.safetensors")
    loaded = ember.io.load_file(str(tmp_path / "w.weights.safetensors"))
    assert sorted(loaded) == sorted(["conv2d/kernel", "conv2d/bias", "batch_normalization/gamma",
                                     "batch_normalization/beta", "batch_normalization/moving_mean",
                                     "batch_normalization/moving_variance", "dense/kernel", "dense/bias"])
    assert other.layers[0].name == "conv2d_1"  # paths are positional, not the (different) layer names
    other.load_weights(tmp_path / "w.weights.safetensors")
    for w1, w2 in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(w1, w2)
    different = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="do not match"):
        different.load_weights(tmp_path / "w.weights.safetensors")


def test_save_rejects_unknown_extension(tmp_path):
    model = make_cnn()
    with pytest.raises(ValueError, match=r"Invalid filepath extension.*\.keras"):
        model.save(tmp_path / "model.h5")


def test_state_dict_of_keras_model_uses_layer_names():
    model = keras.Sequential([layers.Dense(2, input_shape=(3,)), layers.Dense(1)])
    assert list(model.state_dict()) == ["dense.kernel", "dense.bias", "dense_1.kernel", "dense_1.bias"]
    x = keras.Input((3,), name="x")
    functional = keras.Model(x, layers.Dense(1, name="out")(layers.BatchNormalization(name="bn")(x)))
    assert list(functional.state_dict()) == ["bn.gamma", "bn.beta", "bn.moving_mean", "bn.moving_variance",
                                             "out.kernel", "out.bias"]
