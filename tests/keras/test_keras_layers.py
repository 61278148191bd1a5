"""Keras layers against torch twins with the same (transposed / reordered) weights: outputs and gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
from ember import keras
from ember.keras import layers

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def close(a, b, tol=1e-5):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def run_layer(layer, x):
    """Output and input gradient of sum(out * w) for a fixed random w."""
    xe = ember.tensor(x, requires_grad=True)
    out = layer(xe)
    w = rand(*out.shape)
    (out * ember.tensor(w)).sum().backward()
    return out, xe.grad, w


def torch_run(fn, x, w):
    xt = torch.tensor(x, requires_grad=True)
    out = fn(xt)
    (out * torch.tensor(w)).sum().backward()
    return out, xt.grad


# ---- Dense ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3)])
@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "softmax"])
def test_dense_matches_torch_linear(shape, activation):
    layer = layers.Dense(6, activation=activation)
    x = rand(*shape)
    out, gx, w = run_layer(layer, x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 6) and bias.shape == (6,)
    act = {None: lambda t: t, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "softmax": lambda t: torch.softmax(t, -1)}[activation]
    kt, bt = torch.tensor(kernel, requires_grad=True), torch.tensor(bias, requires_grad=True)
    ref, gref = torch_run(lambda t: act(TF.linear(t, kt.T, bt)), x, w)
    close(out, ref)
    close(gx, gref)
    close(layer.kernel.grad, kt.grad)
    close(layer.bias.grad, bt.grad)


def test_dense_default_initializers_are_glorot_uniform_and_zeros():
    layer = layers.Dense(300)
    layer.build((None, 200))
    kernel, bias = layer.get_weights()
    limit = np.sqrt(6 / (200 + 300))
    assert np.all(np.abs(kernel) <= limit) and kernel.max() > 0.9 * limit and kernel.min() < -0.9 * limit
    assert np.all(bias == 0)
    # uniform on [-limit, limit] has variance limit^2 / 3
    assert abs(kernel.var() - limit ** 2 / 3) < 0.05 * limit ** 2 / 3


def test_dense_without_bias_and_weight_names():
    layer = layers.Dense(2, use_bias=False)
    layer(np.ones((1, 3), np.float32))
    assert [n for n, _ in layer._named_weights()] == ["kernel"]
    assert layer.bias is None and layer.count_params() == 6


# ---- Conv2D / Conv1D -------------------------------------------------------------------------------------------
def tf_same_pads(n, k, s, d=1):
    """TensorFlow's 'same': output ceil(n / s); the odd extra padding goes after."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


@pytest.mark.parametrize("size,kernel,strides,padding,dilation", [
    ((7, 6), 3, 1, "valid", 1), ((7, 6), 3, 1, "same", 1), ((7, 6), (3, 2), (2, 1), "same", 1),
    ((8, 8), 2, 2, "same", 1), ((8, 9), 3, 2, "valid", 1), ((9, 9), 3, 1, "same", 2), ((5, 5), 4, 3, "same", 1),
])
def test_conv2d_matches_torch(size, kernel, strides, padding, dilation):
    layer = layers.Conv2D(4, kernel, strides=strides, padding=padding, dilation_rate=dilation, activation="relu")
    x = rand(2, *size, 3)
    out, gx, w = run_layer(layer, x)
    k, b = layer.get_weights()
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    assert k.shape == (kh, kw, 3, 4)
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    kt = torch.tensor(k.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)

    def ref(t):
        t = t.permute(0, 3, 1, 2)
        if padding == "same":
            ph = tf_same_pads(size[0], kh, sh, dilation)
            pw = tf_same_pads(size[1], kw, sw, dilation)
            t = TF.pad(t, (pw[0], pw[1], ph[0], ph[1]))
        return torch.relu(TF.conv2d(t, kt, bt, (sh, sw), dilation=dilation)).permute(0, 2, 3, 1)

    rout, rgx = torch_run(ref, x, w)
    assert tuple(out.shape) == tuple(rout.shape)
    if padding == "same":
        assert out.shape[1:3] == (-(-size[0] // sh), -(-size[1] // sw))
    close(out, rout, 1e-4)
    close(gx, rgx, 1e-4)
    close(layer.kernel.grad.numpy().transpose(3, 2, 0, 1), kt.grad, 1e-4)


def test_conv2d_same_stride_2_pads_after_like_tensorflow():
    # 4x4 ones, 3x3 ones kernel, stride 2: windows start at 0 and 2; the padding row/column is at the end
    layer = layers.Conv2D(1, 3, strides=2, padding="same", use_bias=False, kernel_initializer="ones")
    out = layer(np.ones((1, 4, 4, 1), np.float32)).detach().numpy()[0, :, :, 0]
    np.testing.assert_array_equal(out, [[9, 6], [6, 4]])


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_matches_torch(padding):
    layer = layers.Conv1D(5, 3, padding=padding)
    x = rand(2, 7, 4)
    out, gx, w = run_layer(layer, x)
    k, b = layer.get_weights()
    assert k.shape == (3, 4, 5)
    kt = torch.tensor(k.transpose(2, 1, 0).copy())
    pad = {"valid": (0, 0), "same": (1, 1), "causal": (2, 0)}[padding]
    rout, rgx = torch_run(lambda t: TF.conv1d(TF.pad(t.permute(0, 2, 1), pad), kt, torch.tensor(b)).permute(0, 2, 1),
                          x, w)
    close(out, rout, 1e-5)
    close(gx, rgx, 1e-5)


def test_conv2d_channels_first():
    layer = layers.Conv2D(2, 3, data_format="channels_first")
    x = rand(1, 3, 5, 5)
    out = layer(x)
    k, b = layer.get_weights()
    ref = TF.conv2d(torch.tensor(x), torch.tensor(k.transpose(3, 2, 0, 1).copy()), torch.tensor(b))
    close(out, ref, 1e-5)


# ---- pooling ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pool,strides", [(2, None), (3, 2), ((2, 3), (1, 2))])
def test_max_pooling2d_valid_matches_torch(pool, strides):
    x = rand(2, 7, 8, 3)
    layer = layers.MaxPooling2D(pool, strides)
    out, gx, w = run_layer(layer, x)
    k = pool if isinstance(pool, tuple) else (pool, pool)
    s = strides or k
    rout, rgx = torch_run(lambda t: TF.max_pool2d(t.permute(0, 3, 1, 2), k, s).permute(0, 2, 3, 1), x, w)
    close(out, rout)
    close(gx, rgx)


def test_average_pooling2d_same_averages_only_real_values():
    # 3x3 windows, stride 1, 'same': border windows average over the in-bounds values (TensorFlow semantics),
    # which torch gives with symmetric padding and count_include_pad=False
    x = rand(2, 5, 6, 2)
    out, gx, w = run_layer(layers.AveragePooling2D(3, strides=1, padding="same"), x)
    rout, rgx = torch_run(lambda t: TF.avg_pool2d(t.permute(0, 3, 1, 2), 3, 1, padding=1,
                                                  count_include_pad=False).permute(0, 2, 3, 1), x, w)
    close(out, rout)
    close(gx, rgx)


def test_pooling_same_with_odd_size_pads_after():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    mx = layers.MaxPooling2D(2, padding="same")(x).detach().numpy()[0, :, :, 0]
    np.testing.assert_array_equal(mx, [[5, 6], [8, 9]])
    av = layers.AveragePooling2D(2, padding="same")(x).detach().numpy()[0, :, :, 0]
    np.testing.assert_allclose(av, [[3.0, 4.5], [7.5, 9.0]])


def test_global_pooling():
    x = rand(2, 4, 5, 3)
    close(layers.GlobalAveragePooling2D()(x), x.mean(axis=(1, 2)))
    close(layers.GlobalMaxPooling2D()(x), x.max(axis=(1, 2)))
    assert tuple(layers.GlobalAveragePooling2D(keepdims=True)(x).shape) == (2, 1, 1, 3)
    close(layers.GlobalAveragePooling1D()(x[:, 0]), x[:, 0].mean(axis=1))


# ---- normalisation ---------------------------------------------------------------------------------------------
def test_batch_normalization_training_and_moving_statistics():
    layer = layers.BatchNormalization()
    assert (layer.momentum, layer.epsilon) == (0.99, 1e-3)
    x = rand(4, 3, 5, 6) * 2 + 1
    xe = ember.tensor(x, requires_grad=True)
    out = layer(xe, training=True)
    w = rand(*out.shape)
    (out * ember.tensor(w)).sum().backward()
    bn = torch.nn.BatchNorm2d(6, eps=1e-3, momentum=0.01)
    xt = torch.tensor(x, requires_grad=True)
    ref = bn(xt.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    (ref * torch.tensor(w)).sum().backward()
    close(out, ref, 1e-4)
    close(xe.grad, xt.grad, 1e-4)
    close(layer.gamma.grad, bn.weight.grad, 1e-4)
    close(layer.beta.grad, bn.bias.grad, 1e-4)
    _, _, moving_mean, moving_var = layer.get_weights()
    # Keras: moving = moving * 0.99 + batch * 0.01, with the batch's biased variance
    close(moving_mean, 0.01 * x.mean(axis=(0, 1, 2)))
    close(moving_var, 0.99 + 0.01 * x.var(axis=(0, 1, 2)), 1e-5)
    assert [w.shape for w in layer.get_weights()] == [(6,)] * 4


def test_batch_normalization_inference_uses_moving_statistics():
    layer = layers.BatchNormalization(epsilon=1e-3)
    x = rand(8, 4)
    layer(x)  # builds; inference by default
    mm, mv = rand(4), np.abs(rand(4)) + 0.5
    gamma, beta = rand(4), rand(4)
    layer.set_weights([gamma, beta, mm, mv])
    close(layer(x), (x - mm) / np.sqrt(mv + 1e-3) * gamma + beta, 1e-5)
    frozen = layers.BatchNormalization()
    frozen(x)
    frozen.trainable = False  # Keras: a frozen BatchNormalization runs in inference mode even when training
    close(frozen(x, training=True), x / np.sqrt(1 + 1e-3), 1e-5)
    assert len(frozen.trainable_weights) == 0 and len(frozen.non_trainable_weights) == 4


def test_layer_normalization_matches_torch():
    layer = layers.LayerNormalization()
    x = rand(3, 4, 5)
    out, gx, w = run_layer(layer, x)
    ln = torch.nn.LayerNorm(5, eps=1e-3)
    rout, rgx = torch_run(ln, x, w)
    close(out, rout, 1e-5)
    close(gx, rgx, 1e-4)
    assert [n for n, _ in layer._named_weights()] == ["gamma", "beta"]


# ---- embedding, reshape ----------------------------------------------------------------------------------------
def test_embedding_lookup_and_range_error():
    layer = layers.Embedding(10, 3)
    ids = np.array([[1, 2, 9], [0, 0, 4]])
    out = layer(ids)
    table = layer.get_weights()[0]
    assert table.shape == (10, 3) and np.all(np.abs(table) <= 0.05)
    close(out, table[ids])
    with pytest.raises(ValueError, match=r"index 10 is out of range.*\[0, 9\]"):
        layer(np.array([[10]]))


def test_flatten_reshape_permute():
    x = rand(2, 3, 4)
    assert tuple(layers.Flatten()(x).shape) == (2, 12)
    assert tuple(layers.Reshape((4, 3))(x).shape) == (2, 4, 3)
    assert tuple(layers.Reshape((-1, 2))(x).shape) == (2, 6, 2)
    close(layers.Permute((2, 1))(x), x.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="cannot reshape"):
        layers.Reshape((5,))(x)


def test_dropout_only_when_training():
    x = np.ones((200, 50), np.float32)
    layer = layers.Dropout(0.5)
    close(layer(x), x)
    y = layer(x, training=True).detach().numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6


# ---- recurrent -------------------------------------------------------------------------------------------------
def torch_lstm(kernel, recurrent, bias, units, in_dim):
    m = torch.nn.LSTM(in_dim, units, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.tensor(kernel.T))
        m.weight_hh_l0.copy_(torch.tensor(recurrent.T))
        m.bias_ih_l0.copy_(torch.tensor(bias))
        m.bias_hh_l0.zero_()
    return m


def gru_to_torch(w, units):
    """Keras GRU columns (z, r, h) -> torch rows (r, z, n)."""
    u = units
    return np.concatenate([w[..., u:2 * u], w[..., :u], w[..., 2 * u:]], axis=-1)


@pytest.mark.parametrize("return_sequences,go_backwards", [(False, False), (True, False), (True, True)])
def test_lstm_matches_torch(return_sequences, go_backwards):
    layer = layers.LSTM(4, return_sequences=return_sequences, return_state=True, go_backwards=go_backwards)
    x = rand(3, 5, 2)
    xe = ember.tensor(x, requires_grad=True)
    out, h, c = layer(xe)
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (2, 16) and recurrent.shape == (4, 16) and bias.shape == (16,)
    np.testing.assert_array_equal(bias[4:8], 1.0)  # unit_forget_bias
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)  # orthonormal rows
    m = torch_lstm(kernel, recurrent, bias, 4, 2)
    xt = torch.tensor(x, requires_grad=True)
    seq, (ht, ct) = m(xt.flip(1) if go_backwards else xt)
    ref = seq if return_sequences else seq[:, -1]
    close(out, ref, 1e-5)
    close(h, ht[0], 1e-5)
    close(c, ct[0], 1e-5)
    w = rand(*out.shape)
    (out * ember.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    close(xe.grad, xt.grad, 1e-5)
    close(layer.kernel.grad, m.weight_ih_l0.grad.T, 1e-5)
    close(layer.recurrent_kernel.grad, m.weight_hh_l0.grad.T, 1e-5)


def test_gru_reset_after_matches_torch():
    layer = layers.GRU(3, return_sequences=True, return_state=True)
    x = rand(2, 4, 5)
    xe = ember.tensor(x, requires_grad=True)
    out, h = layer(xe)
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (5, 9) and recurrent.shape == (3, 9) and bias.shape == (2, 9)
    m = torch.nn.GRU(5, 3, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.tensor(gru_to_torch(kernel, 3).T))
        m.weight_hh_l0.copy_(torch.tensor(gru_to_torch(recurrent, 3).T))
        m.bias_ih_l0.copy_(torch.tensor(gru_to_torch(rand(9), 3)))
        m.bias_hh_l0.copy_(torch.tensor(gru_to_torch(rand(9), 3)))
    # give the Keras layer the same (non-zero) biases, back in Keras's (z, r, h) order
    inverse = np.argsort(np.concatenate([np.arange(3, 6), np.arange(0, 3), np.arange(6, 9)]))
    b_ih, b_hh = m.bias_ih_l0.detach().numpy()[inverse], m.bias_hh_l0.detach().numpy()[inverse]
    layer.set_weights([kernel, recurrent, np.stack([b_ih, b_hh])])
    xe = ember.tensor(x, requires_grad=True)
    out, h = layer(xe)
    xt = torch.tensor(x, requires_grad=True)
    seq, ht = m(xt)
    close(out, seq, 1e-5)
    close(h, ht[0], 1e-5)
    w = rand(*out.shape)
    (out * ember.tensor(w)).sum().backward()
    (seq * torch.tensor(w)).sum().backward()
    close(xe.grad, xt.grad, 1e-5)
    close(layer.bias.grad[0], m.bias_ih_l0.grad.numpy()[inverse], 1e-5)


def numpy_gru_reset_before(x, kernel, recurrent, bias, units):
    """Keras GRU with reset_after=False: h~ = tanh(x W_h + (r * h) U_h + b_h)."""
    u = units
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h = np.zeros((x.shape[0], u), np.float64)
    for t in range(x.shape[1]):
        xp = x[:, t] @ kernel + bias
        z = sig(xp[:, :u] + h @ recurrent[:, :u])
        r = sig(xp[:, u:2 * u] + h @ recurrent[:, u:2 * u])
        hh = np.tanh(xp[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
        h = z * h + (1 - z) * hh
    return h


def test_gru_reset_before_matches_numpy_reference():
    layer = layers.GRU(3, reset_after=False, bias_initializer="random_normal")
    x = rand(2, 4, 5)
    out = layer(x)
    kernel, recurrent, bias = layer.get_weights()
    assert bias.shape == (9,)
    close(out, numpy_gru_reset_before(x, kernel, recurrent, bias, 3), 1e-5)


def test_simple_rnn_matches_torch_and_custom_activation_loop():
    layer = layers.SimpleRNN(4, return_sequences=True)
    x = rand(2, 3, 5)
    out = layer(x)
    kernel, recurrent, bias = layer.get_weights()
    m = torch.nn.RNN(5, 4, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.tensor(kernel.T))
        m.weight_hh_l0.copy_(torch.tensor(recurrent.T))
        m.bias_ih_l0.copy_(torch.tensor(bias))
        m.bias_hh_l0.zero_()
    close(out, m(torch.tensor(x))[0], 1e-5)
    # a non-fused activation runs the step loop: h = sigmoid(x W + h U + b)
    loop = layers.SimpleRNN(4, activation="sigmoid")
    y = loop(x)
    k, r, b = loop.get_weights()
    h = np.zeros((2, 4))
    for t in range(3):
        h = 1 / (1 + np.exp(-(x[:, t] @ k + h @ r + b)))
    close(y, h, 1e-5)


def test_lstm_loop_path_equals_fused_path():
    fused = layers.LSTM(3, return_sequences=True)
    x = rand(2, 4, 2)
    expected = fused(x)
    loop = layers.LSTM(3, return_sequences=True, activation=lambda t: ember.tanh(t))  # not the fused tanh
    loop(x)
    loop.set_weights(fused.get_weights())
    close(loop(x), expected, 1e-5)


def test_lstm_initial_state():
    layer = layers.LSTM(2, return_state=True)
    x = rand(1, 3, 2)
    h0, c0 = rand(1, 2), rand(1, 2)
    out, h, c = layer(x, initial_state=[h0, c0])
    k, r, b = layer.get_weights()
    m = torch_lstm(k, r, b, 2, 2)
    _, (ht, ct) = m(torch.tensor(x), (torch.tensor(h0)[None], torch.tensor(c0)[None]))
    close(h, ht[0], 1e-5)


# ---- merge and base behaviour -----------------------------------------------------------------------------------
def test_merge_layers():
    a, b = rand(2, 3), rand(2, 3)
    close(layers.Add()([a, b]), a + b)
    close(layers.Subtract()([a, b]), a - b)
    close(layers.Multiply()([a, b]), a * b)
    close(layers.Average()([a, b]), (a + b) / 2)
    close(layers.Maximum()([a, b]), np.maximum(a, b))
    close(layers.Concatenate()([a, b]), np.concatenate([a, b], -1))
    with pytest.raises(ValueError, match="list of at least 2 inputs"):
        layers.Add()([a])


def test_layer_names_count_per_class():
    names = [layers.Dense(1).name, layers.Dense(1).name, layers.Conv2D(1, 1).name, layers.BatchNormalization().name,
             layers.SimpleRNN(1).name, layers.MaxPooling2D().name, layers.Dense(1, name="out").name]
    assert names == ["dense", "dense_1", "conv2d", "batch_normalization", "simple_rnn", "max_pooling2d", "out"]


def test_unknown_constructor_argument_and_activation():
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to Dense: \{'unitz': 3\}"):
        layers.Dense(3, unitz=3)
    with pytest.raises(ValueError, match=r"Unknown activation function: 'relux'.*'relu'"):
        layers.Dense(3, activation="relux")
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)


def test_input_spec_rejects_wrong_feature_count():
    layer = layers.Dense(2)
    layer(np.ones((1, 4), np.float32))
    with pytest.raises(ValueError, match=r'Input 0 of layer "dense" is incompatible with the layer: expected axis -1 '
                                         r"of input shape to have value 4, but received input with shape \(1, 5\)"):
        layer(np.ones((1, 5), np.float32))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        layers.Conv2D(1, 3)(np.ones((1, 5, 5), np.float32))


def test_custom_layer_with_add_weight_and_trainable_flag():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")

        def call(self, inputs):
            return inputs * self.w

    layer = Scale()
    x = rand(2, 3)
    close(layer(x), x)
    assert layer.name == "scale"
    assert [w.shape for w in layer.trainable_weights] == [(3,)]
    assert len(layer.non_trainable_weights) == 1 and layer.count_params() == 4
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not layer.w.requires_grad


def test_keras_layers_are_ember_modules():
    layer = layers.Dense(3)
    layer(np.ones((1, 2), np.float32))
    assert isinstance(layer, ember.nn.Module)
    assert list(layer.state_dict()) == ["kernel", "bias"]
    assert [tuple(p.shape) for p in layer.parameters()] == [(2, 3), (3,)]
    assert keras.layers.Layer is layers.base.Layer
