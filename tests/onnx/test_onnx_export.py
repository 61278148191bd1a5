"""ember.onnx.export: exported models pass onnx's checker and, run by onnxruntime, give ember's eval forward (and
torch's, for the same weights loaded into the same torch model)."""
import io
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import ember
from ember.nn import functional as F
from ember.onnx.errors import OnnxExporterError, UnsupportedOperatorError

RTOL, ATOL = 1e-5, 1e-6


def export_bytes(model, args, **kwargs):
    buf = io.BytesIO()
    ember.onnx.export(model, args, buf, **kwargs)
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    return data


def run_ort(data, *inputs):
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: np.asarray(x) for i, x in zip(session.get_inputs(), inputs)})


def flat_numpy(out):
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in flat_numpy(o)]
    return [out.detach().numpy() if isinstance(out, torch.Tensor) else out.numpy()]


def eager(model, *inputs):
    with ember.no_grad():
        return flat_numpy(model(*inputs))


def assert_outputs(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)


# ---- models, built from either library's namespace (ember mirrors torch's API and state_dict keys) ----------------
def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))


def cnn(lib):
    nn = lib.nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)
            self.pool1 = nn.MaxPool2d(2)
            self.conv2, self.bn2 = nn.Conv2d(4, 8, 3, stride=1, padding=1, groups=2), nn.BatchNorm2d(8)
            self.pool2 = nn.AvgPool2d(2)
            self.drop, self.fc = nn.Dropout(0.5), nn.Linear(8 * 2 * 2, 5)

        def forward(self, x):
            x = self.pool1(lib.relu(self.bn1(self.conv1(x))))
            x = self.pool2(nn.functional.relu(self.bn2(self.conv2(x))))
            return self.fc(self.drop(lib.flatten(x, 1)))

    return CNN()


def embed_mean(lib):
    nn = lib.nn

    class EmbedMean(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.fc = nn.Embedding(20, 8), nn.Linear(8, 4)

        def forward(self, idx):
            return self.fc(self.emb(idx).mean(1))

    return EmbedMean()


def norm_gelu(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(6, 12), nn.LayerNorm(12), nn.GELU(), nn.Linear(12, 12), nn.LayerNorm(12),
                         nn.GELU(approximate="tanh"), nn.Linear(12, 2))


def recurrent(lib):
    nn = lib.nn

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True)
            self.gru = nn.GRU(6, 5, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(10, 3)

        def forward(self, x):
            y, (h, c) = self.lstm(x)
            z, hz = self.gru(y)
            return self.fc(z[:, -1]), h, c, hz

    return Recurrent()


def twins(factory):
    """The ember model (with non-trivial BatchNorm statistics) and the torch model holding the same weights."""
    model = factory(ember)
    for name, buf in model.named_buffers():
        if name.endswith("running_mean"):
            buf.copy_(ember.randn(*buf.shape) * 0.5)
        elif name.endswith("running_var"):
            buf.copy_(ember.rand(*buf.shape) + 0.5)
    reference = factory(torch)
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return model.eval(), reference.eval()


MODELS = {  # factory, input maker, dynamic axes of the input
    "mlp": (mlp, lambda b: ember.randn(b, 6), {0: "batch"}),
    "cnn": (cnn, lambda b: ember.randn(b, 1, 8, 8), {0: "batch"}),
    "embed_mean": (embed_mean, lambda b: ember.randint(0, 20, (b, 7)), {0: "batch", 1: "seq"}),
    "norm_gelu": (norm_gelu, lambda b: ember.randn(b, 6), {0: "batch"}),
    "recurrent": (recurrent, lambda b: ember.randn(b, 5, 4), {0: "batch", 1: "seq"}),
    "transformer": (lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                    lambda b: ember.randn(b, 5, 8), {0: "batch", 1: "seq"}),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_model_matches_ember_and_torch(name):
    factory, make_input, _ = MODELS[name]
    model, reference = twins(factory)
    x = make_input(3)
    got = run_ort(export_bytes(model, (x,)), x.numpy())
    assert_outputs(got, eager(model, x))
    with torch.no_grad():
        assert_outputs(got, flat_numpy(reference(torch.from_numpy(x.numpy()))))


@pytest.mark.parametrize("name", list(MODELS))
def test_dynamic_axes_run_at_other_sizes(name):
    factory, make_input, axes = MODELS[name]
    model, _ = twins(factory)
    data = export_bytes(model, (make_input(2),), input_names=["x"], dynamic_axes={"x": axes})
    graph = onnx.load_from_string(data).graph
    dims = graph.input[0].type.tensor_type.shape.dim
    assert {k: dims[k].dim_param for k in axes} == axes
    x = make_input(5)
    if 1 in axes:  # a longer sequence too
        x = ember.cat([x, x[:, :3]], 1)
    assert_outputs(run_ort(data, x.numpy()), eager(model, x))


def test_output_dynamic_axes_named_and_inferred():
    model, _ = twins(mlp)
    data = export_bytes(model, ember.randn(2, 6), input_names=["x"], output_names=["y"],
                        dynamic_axes={"x": [0]})
    graph = onnx.load_from_string(data).graph
    assert graph.output[0].name == "y"
    out_dims = graph.output[0].type.tensor_type.shape.dim
    assert out_dims[0].dim_param == "x_dynamic_axes_1" and out_dims[1].dim_value == 3


# ---- ops, one function per line (ember's eager result is the reference) -------------------------------------------
W, B = ember.randn(5, 4), ember.randn(5)
LSTM, RNN = ember.nn.LSTM(4, 3, bidirectional=True).eval(), ember.nn.RNN(4, 3, num_layers=2, bias=False).eval()
K1, K2, KT = ember.randn(4, 3, 3), ember.randn(6, 3, 3, 3), ember.randn(3, 2, 3, 3)
IDX = ember.tensor([[[0], [1], [3]], [[2], [2], [0]]])
x234, x34, x3x7, x39 = (lambda: ember.randn(2, 3, 4)), (lambda: ember.randn(3, 4)), \
    (lambda: ember.randn(2, 3, 7, 7)), (lambda: ember.randn(2, 3, 9))

OPS = [
    ("arith", lambda a: (a + 1) * 2 - a / 3 + 2 ** a - (-a) + a.abs().pow(0.5) + a ** 2, [x234]),
    ("broadcast", lambda a, b: a * b + a - b / (b.abs() + 1), [x234, lambda: ember.randn(3, 1)]),
    ("max_min", lambda a, b: ember.maximum(a, b) + ember.minimum(a, b), [x34, lambda: ember.randn(4)]),
    ("unary", lambda a: (a.exp(), a.abs().log(), a.abs().sqrt(), a.sin(), ember.erf(a), a.abs().rsqrt(),
                         a.abs().log1p(), a.expm1(), a.floor(), a.ceil(), a.round(), a.sign(), a.reciprocal()), [x34]),
    ("activations", lambda a: (ember.sigmoid(a), ember.tanh(a), F.relu(a), F.gelu(a), F.gelu(a, approximate="tanh"),
                               F.silu(a), F.leaky_relu(a, 0.1), F.elu(a, 0.5), F.selu(a), F.celu(a, 2.0),
                               F.softplus(a, 2, 1), F.softplus(a), F.hardtanh(a, -0.5, 0.7), F.relu6(a * 4),
                               F.hardsigmoid(a * 4), F.hardswish(a * 4), F.logsigmoid(a), F.mish(a)), [x34]),
    ("softmax", lambda a: (F.softmax(a, -1), F.log_softmax(a, 1), ember.softmax(a, 0)), [x234]),
    ("views", lambda a: (a.view(6, 4), a.reshape(-1), ember.flatten(a, 1), a.transpose(0, 2), a.permute(2, 0, 1),
                         a.unsqueeze(1), a[:, None].squeeze(1), a.mT, a[:1].squeeze()), [x234]),
    ("cat_stack", lambda a: (ember.cat([a, a * 2], 1), ember.stack([a, a + 1], 2), ember.stack([a], 0)), [x234]),
    ("split_chunk", lambda a: (*a.split(2, -1), *a.chunk(2, 1), *a.split([1, 3], 2), *a.unbind(0)), [x234]),
    ("slices", lambda a: (a[:, 1:3], a[..., ::2], a[0], a[:, -1], a[1, :, 2:], a.narrow(2, 1, 2), a.select(1, 0),
                          a[:, -2:, 1], a[None, 1, ..., 0]), [x234]),
    ("tensor_index", lambda a: (a[:, [0, 2]], a[[1, 0]], a.index_select(2, ember.tensor([3, 0, 0])),
                                ember.gather(a, 2, IDX), a[0, [2, 1]]), [x234]),
    ("reductions", lambda a: (a.mean(), a.sum(), a.mean(-1), a.sum((0, 2), keepdim=True), a.amax(1), a.max(),
                              a.min(), a.max(1)[0], a.max(1)[1], a.argmax(-1), a.argmin(), a.logsumexp(1),
                              a.var(1), a.std(), a.prod(2)), [x234]),
    ("clamp", lambda a: (a.clamp(-0.5, 0.5), a.clamp(min=0), ember.clamp(a, max=0.2),
                         a.clamp(min=ember.zeros(4))), [x234]),
    ("pad", lambda a: (F.pad(a, (1, 2)), F.pad(a, (1, 1, 2, 0), value=3.0), F.pad(a, (-1, 1))), [x234]),
    ("matmul", lambda a: (a @ W.t(), F.linear(a, W, B), F.linear(a[0], W, B), F.linear(a, W),
                          ember.addmm(B, a[0], W.t()), ember.bmm(a, a.transpose(1, 2)), a[0, 0] @ a[0, 1],
                          ember.einsum("bij,kj->bik", a, W)), [x234]),
    ("conv1d", lambda a: (F.conv1d(a, K1, ember.ones(4), stride=2, padding=1, dilation=2),
                          F.conv1d(a, K1[:3, :1], groups=3, padding="same")), [x39]),
    ("conv2d", lambda a: (F.conv2d(a, K2, stride=2, padding=1), F.conv2d(a, K2[:, :1], groups=3, dilation=2,
                                                                          padding=(2, 1)),
                          F.conv_transpose2d(a, KT, stride=2, padding=1, output_padding=1)), [x3x7]),
    ("pool2d", lambda a: (F.max_pool2d(a, 3, 2, 1), F.avg_pool2d(a, 2), F.avg_pool2d(a, 3, 2, 1),
                          F.avg_pool2d(a, 3, 2, 1, count_include_pad=False), F.adaptive_avg_pool2d(a, 1),
                          F.max_pool2d(a, 2, ceil_mode=True), F.avg_pool2d(a, 2, ceil_mode=True),
                          F.max_pool2d(a, 2, dilation=2), F.avg_pool2d(a, 3, divisor_override=2)), [x3x7]),
    ("pool1d", lambda a: (F.max_pool1d(a, 2), F.avg_pool1d(a, 3, 1, 1), F.adaptive_avg_pool1d(a, 1)), [x39]),
    ("norms", lambda a: (F.layer_norm(a, (4,)), F.layer_norm(a, (3, 4), W[:3] * 2, W[1:4]), F.group_norm(a, 1),
                         F.instance_norm(a), F.batch_norm(a, B[:3], B[:3].abs() + 0.5, W[0, :3], W[1, :3])), [x234]),
    ("logic", lambda a, b: (ember.where(a > 0, a, b), (a >= b).float(), (a == b).long(), a.ne(b), ember.isnan(a),
                            ember.logical_and(a > 0, b > 0), a.masked_fill(a < 0, 0.0)), [x34, x34]),
    ("rearrange", lambda a: (a.flip(0), a.flip(1, 2), a.repeat(1, 2, 1), a.repeat(2, 1, 1, 1), a.tril(), a.triu(1),
                             a.expand(3, 2, 3, 4), a[:, :1].expand(2, 3, 4)), [x234]),
    ("casts", lambda a: (a.double() * 2, (a * 5).long(), (a * 5).to(ember.int32) + 1, a.bool(),
                         (a * 5).long().float() / 3), [x34]),
    ("lstm_states", lambda a, h, c: LSTM(a, (h, c)), [x234, lambda: ember.randn(2, 3, 3), lambda: ember.randn(2, 3, 3)]),
    ("rnn_tanh", RNN, [x234]),
    ("in_place", lambda a: (a.clone().relu_() + 1, a.clone().add_(2), a.clone().mul_(ember.ones(4)),
                            a.clone().clamp_(-0.1, 0.1), a.clone().fill_(2.0), a.clone().copy_(ember.ones(4))), [x34]),
]


@pytest.mark.parametrize("fn, makers", [(fn, makers) for _, fn, makers in OPS], ids=[name for name, _, _ in OPS])
def test_op_matches_ember(fn, makers):
    args = [make() for make in makers]
    assert_outputs(run_ort(export_bytes(fn, tuple(args)), *[a.numpy() for a in args]), eager(fn, *args))


class Residual(ember.nn.Module):
    """In-place relu and `out += x`, a batch taken from x.size(0), zeros made inside forward."""

    def __init__(self):
        super().__init__()
        nn = ember.nn
        self.conv, self.bn, self.relu = nn.Conv2d(3, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.ReLU(True)

    def forward(self, x):
        out = self.relu(self.bn(self.conv(x)))
        out += x
        out = self.relu(out)
        pooled = F.max_pool2d(out, 2).view(x.size(0), -1)
        return pooled, ember.zeros(x.shape[0], 3) + out.mean((2, 3)), out.flatten(1).reshape(x.size(0), 3, -1)


@pytest.mark.parametrize("axes, new_shape", [({0: "N"}, (5, 3, 6, 6)), ({0: "N", 2: "H", 3: "W"}, (3, 3, 10, 8))])
def test_dynamic_axes_follow_reshapes_and_made_tensors(axes, new_shape):
    model = Residual().eval()
    data = export_bytes(model, ember.randn(2, 3, 6, 6), input_names=["x"], dynamic_axes={"x": axes})
    x = ember.randn(*new_shape)
    assert_outputs(run_ort(data, x.numpy()), eager(model, x))


# ---- errors -------------------------------------------------------------------------------------------------------
def uses_cumsum(x):
    return x.cumsum(0) * 2


def draws_noise(x):
    return x + ember.randn_like(x)


CUMSUM_LINE = uses_cumsum.__code__.co_firstlineno + 1
NOISE_LINE = draws_noise.__code__.co_firstlineno + 1


@pytest.mark.parametrize("fn, op, line", [(uses_cumsum, "Cumsum", CUMSUM_LINE), (draws_noise, "Draw", NOISE_LINE)])
def test_unsupported_op_names_op_and_source_line(fn, op, line):
    with pytest.raises(UnsupportedOperatorError, match=f"'{op}'") as info:
        ember.onnx.export(fn, ember.randn(3, 2), io.BytesIO())
    assert isinstance(info.value, RuntimeError)
    assert info.value.op_name == op and info.value.site == f"{__file__}:{line}"
    assert f"{__file__}:{line}" in str(info.value)


@pytest.mark.parametrize("fn, match", [
    (lambda x: x * 2 if x.sum() > 0 else x, "bool.. reads a tensor's value"),
    (lambda x: x[x > 0], "depends on tensor values"),
])
def test_data_dependent_control_flow_raises(fn, match):
    with pytest.raises(OnnxExporterError, match=match):
        ember.onnx.export(fn, ember.randn(3, 2), io.BytesIO())


@pytest.mark.parametrize("fn, match", [
    (lambda x: x[: x.shape[0] - 1], "changes with the size of a dynamic axis"),
    (lambda x: x.sum() + ember.zeros(x.shape[0] + 1), "not a product"),
])
def test_sizes_that_would_be_hard_coded_raise(fn, match):
    with pytest.raises(OnnxExporterError, match=match):
        ember.onnx.export(fn, ember.randn(3, 2), io.BytesIO(), input_names=["x"], dynamic_axes={"x": [0]})


def test_max_pool_indices_are_unsupported():
    pool = ember.nn.MaxPool2d(2, return_indices=True)
    with pytest.raises(UnsupportedOperatorError, match="MaxPool"):
        ember.onnx.export(pool, ember.randn(1, 1, 4, 4), io.BytesIO())


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"dynamic_axes": {"nope": [0]}}, ValueError, "neither an input name"),
    ({"input_names": ["x"], "dynamic_axes": {"x": [2]}}, ValueError, "out of range"),
    ({"opset_version": 11}, ValueError, "opset_version"),
    ({"input_names": ["a", "b"]}, ValueError, "input_names"),
    ({"input_names": ["x"], "output_names": ["x"]}, ValueError, "both an input and an output"),
])
def test_invalid_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ember.onnx.export(mlp(ember), ember.randn(2, 6), io.BytesIO(), **kwargs)


# ---- file, arguments, options ----------------------------------------------------------------------------------------
def test_written_atomically_to_a_path(tmp_path, monkeypatch):
    path = tmp_path / "model.onnx"
    model = mlp(ember).eval()
    ember.onnx.export(model, ember.randn(2, 6), str(path))
    x = ember.randn(2, 6)
    assert_outputs(run_ort(str(path), x.numpy()), eager(model, x))
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(ember.io.atomic.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        ember.onnx.export(norm_gelu(ember), ember.randn(2, 6), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.onnx"]


def test_parameters_are_named_float32_initializers():
    model = mlp(ember)
    graph = onnx.load_from_string(export_bytes(model, ember.randn(2, 6))).graph
    inits = {i.name: i for i in graph.initializer}
    for name, p in model.state_dict().items():
        assert inits[name].data_type == onnx.TensorProto.FLOAT
        np.testing.assert_array_equal(onnx.numpy_helper.to_array(inits[name]), p.numpy())
    assert [n.op_type for n in graph.node] == ["Gemm", "Relu", "Gemm", "Tanh", "Gemm"]


def test_export_params_false_makes_parameters_inputs():
    model = mlp(ember)
    data = export_bytes(model, ember.randn(2, 6), input_names=["x"], export_params=False)
    graph = onnx.load_from_string(data).graph
    assert not graph.initializer
    names = [i.name for i in graph.input]
    state = model.state_dict()
    assert names[0] == "x" and sorted(names[1:]) == sorted(state)
    x = ember.randn(2, 6)
    feeds = [x.numpy()] + [state[n].numpy() for n in names[1:]]
    assert_outputs(run_ort(data, *feeds), eager(model.eval(), x))


def test_eval_mode_used_and_training_flags_restored():
    model, _ = twins(cnn)
    model.train()
    model.conv1.eval()
    x = ember.randn(2, 1, 8, 8)
    data = export_bytes(model, x)
    assert model.training and model.bn1.training and not model.conv1.training
    ops = {n.op_type for n in onnx.load_from_string(data).graph.node}
    assert "Dropout" not in ops and "Conv" in ops
    assert_outputs(run_ort(data, x.numpy()), eager(model.eval(), x))


def test_constant_folding_switch():
    model, _ = twins(cnn)
    x = ember.randn(2, 1, 8, 8)
    folded, unfolded = (export_bytes(model, x, do_constant_folding=flag) for flag in (True, False))
    ops = [n.op_type for n in onnx.load_from_string(unfolded).graph.node]
    assert "Sqrt" in ops and "Sqrt" not in [n.op_type for n in onnx.load_from_string(folded).graph.node]
    assert_outputs(run_ort(unfolded, x.numpy()), run_ort(folded, x.numpy()))


def test_args_tuple_with_kwargs_and_verbose(capsys):
    def scaled(x, y, scale=1.0, bias=None):
        return x * scale + y + bias

    x, y, bias = ember.randn(2, 3), ember.randn(2, 3), ember.randn(3)
    data = export_bytes(scaled, (x, y, {"scale": 3.0, "bias": bias}), output_names=["z"], verbose=True)
    printed = capsys.readouterr().out
    assert printed.startswith("scaled (") and "Mul" in printed
    graph = onnx.load_from_string(data).graph
    assert [i.name for i in graph.input] == ["input_0", "input_1", "input_2"] and graph.output[0].name == "z"
    assert_outputs(run_ort(data, x.numpy(), y.numpy(), bias.numpy()), eager(lambda *a: scaled(*a[:2], 3.0, a[2]),
                                                                             x, y, bias))


@pytest.mark.parametrize("opset, present, absent", [(13, "Erf", "LayerNormalization"), (17, "LayerNormalization", "Gelu"),
                                                    (20, "Gelu", "Erf")])
def test_opset_versions(opset, present, absent):
    model = norm_gelu(ember).eval()
    x = ember.randn(3, 6)
    data = export_bytes(model, x, opset_version=opset)
    proto = onnx.load_from_string(data)
    ops = {n.op_type for n in proto.graph.node}
    assert present in ops and absent not in ops and proto.opset_import[0].version == opset
    assert_outputs(run_ort(data, x.numpy()), eager(model, x))


def test_import_ember_does_not_import_onnx():
    code = ("import sys, ember; ember.onnx.export; "
            "assert 'onnx' not in sys.modules and 'onnxruntime' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
