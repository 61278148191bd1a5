"""Every layer against torch.nn: same weights (copied through state_dict), same inputs; outputs, input
gradients, parameter gradients and buffers compared in float32 and float64, in train and eval mode."""
import re

import numpy as np
import pytest
import torch

import ember
import ember.nn
from nn_oracle import check_layer, twin_modules
from oracle import assert_close

_rng = np.random.default_rng(1234)


def R(*shape, scale=1.0):
    return _rng.standard_normal(shape) * scale


def I(high, *shape):  # noqa: E743
    return _rng.integers(0, high, size=shape).astype(np.int64)


# (id, make(lib) -> module, inputs, options)
CASES = [
    ("identity", lambda lib: lib.nn.Identity(3, unused=True), [R(2, 3)], {}),
    ("linear", lambda lib: lib.nn.Linear(4, 3), [R(5, 4)], {}),
    ("linear_3d_input", lambda lib: lib.nn.Linear(4, 3), [R(2, 5, 4)], {}),
    ("linear_1d_input", lambda lib: lib.nn.Linear(4, 3), [R(4)], {}),
    ("linear_no_bias", lambda lib: lib.nn.Linear(4, 2, bias=False), [R(3, 4)], {}),
    ("bilinear", lambda lib: lib.nn.Bilinear(3, 4, 2), [R(5, 3), R(5, 4)], {}),
    ("bilinear_no_bias", lambda lib: lib.nn.Bilinear(3, 2, 4, bias=False), [R(2, 6, 3), R(2, 6, 2)], {}),
    ("flatten", lambda lib: lib.nn.Flatten(), [R(2, 3, 4, 5)], {}),
    ("flatten_range", lambda lib: lib.nn.Flatten(0, 2), [R(2, 3, 4, 5)], {}),
    ("unflatten", lambda lib: lib.nn.Unflatten(1, (3, 4)), [R(2, 12)], {}),
    ("conv1d", lambda lib: lib.nn.Conv1d(3, 4, 3), [R(2, 3, 10)], {}),
    ("conv1d_options", lambda lib: lib.nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
     [R(2, 4, 11)], {}),
    ("conv1d_same_reflect", lambda lib: lib.nn.Conv1d(2, 3, 4, padding="same", padding_mode="reflect"),
     [R(2, 2, 9)], {}),
    ("conv1d_unbatched", lambda lib: lib.nn.Conv1d(2, 3, 3, bias=False), [R(2, 7)], {}),
    ("conv2d", lambda lib: lib.nn.Conv2d(3, 5, 3), [R(2, 3, 8, 7)], {}),
    ("conv2d_options", lambda lib: lib.nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                                 groups=2), [R(2, 4, 9, 8)], {}),
    ("conv2d_depthwise", lambda lib: lib.nn.Conv2d(3, 6, 3, padding=1, groups=3, bias=False), [R(2, 3, 6, 6)], {}),
    ("conv2d_same", lambda lib: lib.nn.Conv2d(2, 3, (4, 3), padding="same", dilation=2), [R(1, 2, 9, 8)], {}),
    ("conv2d_valid", lambda lib: lib.nn.Conv2d(2, 3, 3, padding="valid"), [R(1, 2, 6, 6)], {}),
    ("conv2d_replicate", lambda lib: lib.nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate"),
     [R(2, 2, 5, 6)], {}),
    ("conv2d_circular", lambda lib: lib.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="circular"),
     [R(2, 2, 5, 6)], {}),
    ("conv2d_reflect_stride", lambda lib: lib.nn.Conv2d(2, 2, 3, stride=2, padding=1, padding_mode="reflect"),
     [R(1, 2, 7, 7)], {}),
    ("conv2d_unbatched", lambda lib: lib.nn.Conv2d(2, 3, 3), [R(2, 5, 5)], {}),
    ("conv_transpose1d", lambda lib: lib.nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1),
     [R(2, 3, 6)], {}),
    ("conv_transpose1d_groups", lambda lib: lib.nn.ConvTranspose1d(4, 6, 2, groups=2, dilation=2), [R(2, 4, 5)], {}),
    ("conv_transpose2d", lambda lib: lib.nn.ConvTranspose2d(3, 4, 3), [R(2, 3, 5, 4)], {}),
    ("conv_transpose2d_options", lambda lib: lib.nn.ConvTranspose2d(4, 2, (3, 2), stride=(2, 3), padding=(1, 0),
                                                                    output_padding=(1, 2), groups=2, bias=False),
     [R(2, 4, 4, 3)], {}),
    ("conv_transpose2d_output_size", lambda lib: lib.nn.ConvTranspose2d(2, 3, 3, stride=2), [R(1, 2, 4, 4)],
     dict(call=lambda m, x: m(x, output_size=[10, 10]))),
    ("maxpool1d", lambda lib: lib.nn.MaxPool1d(3, 2), [R(2, 3, 11)], {}),
    ("maxpool1d_options", lambda lib: lib.nn.MaxPool1d(3, 2, padding=1, dilation=2, ceil_mode=True),
     [R(2, 3, 12)], {}),
    ("maxpool2d", lambda lib: lib.nn.MaxPool2d(2), [R(2, 3, 8, 6)], {}),
    ("maxpool2d_options", lambda lib: lib.nn.MaxPool2d((3, 2), stride=(2, 1), padding=1, ceil_mode=True),
     [R(2, 2, 7, 6)], {}),
    ("maxpool2d_indices", lambda lib: lib.nn.MaxPool2d(2, return_indices=True), [R(2, 2, 6, 6)], {}),
    ("maxpool2d_unbatched", lambda lib: lib.nn.MaxPool2d(3, 1), [R(2, 5, 5)], {}),
    ("avgpool1d", lambda lib: lib.nn.AvgPool1d(3, 2, 1), [R(2, 3, 10)], {}),
    ("avgpool1d_ceil_exclude", lambda lib: lib.nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False),
     [R(2, 3, 10)], {}),
    ("avgpool2d", lambda lib: lib.nn.AvgPool2d(2), [R(2, 3, 8, 6)], {}),
    ("avgpool2d_options", lambda lib: lib.nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                       count_include_pad=False), [R(2, 2, 7, 8)], {}),
    ("avgpool2d_divisor", lambda lib: lib.nn.AvgPool2d((2, 3), divisor_override=4), [R(2, 2, 6, 6)], {}),
    ("adaptive_avgpool1d", lambda lib: lib.nn.AdaptiveAvgPool1d(4), [R(2, 3, 10)], {}),
    ("adaptive_avgpool2d", lambda lib: lib.nn.AdaptiveAvgPool2d((3, 4)), [R(2, 3, 7, 9)], {}),
    ("adaptive_avgpool2d_global", lambda lib: lib.nn.AdaptiveAvgPool2d(1), [R(2, 3, 5, 5)], {}),
    ("adaptive_avgpool2d_none", lambda lib: lib.nn.AdaptiveAvgPool2d((None, 2)), [R(2, 3, 5, 5)], {}),
    ("adaptive_maxpool2d", lambda lib: lib.nn.AdaptiveMaxPool2d((2, 3)), [R(2, 3, 7, 8)], {}),
    ("adaptive_maxpool2d_indices", lambda lib: lib.nn.AdaptiveMaxPool2d(3, return_indices=True),
     [R(2, 3, 7, 7)], {}),
    ("batchnorm1d", lambda lib: lib.nn.BatchNorm1d(4), [R(8, 4)], {}),
    ("batchnorm1d_3d", lambda lib: lib.nn.BatchNorm1d(3, momentum=0.3), [R(4, 3, 5)], {}),
    ("batchnorm1d_no_affine", lambda lib: lib.nn.BatchNorm1d(4, affine=False), [R(6, 4)], {}),
    ("batchnorm1d_untracked", lambda lib: lib.nn.BatchNorm1d(4, track_running_stats=False), [R(6, 4)], {}),
    ("batchnorm1d_cumulative", lambda lib: lib.nn.BatchNorm1d(4, momentum=None), [R(6, 4)], {}),
    ("batchnorm2d", lambda lib: lib.nn.BatchNorm2d(3), [R(4, 3, 5, 5)], {}),
    ("batchnorm2d_eps", lambda lib: lib.nn.BatchNorm2d(3, eps=1e-2, bias=False), [R(2, 3, 4, 4)], {}),
    ("layernorm", lambda lib: lib.nn.LayerNorm(5), [R(3, 4, 5)], {}),
    ("layernorm_2d_shape", lambda lib: lib.nn.LayerNorm([4, 5], eps=1e-3), [R(3, 4, 5)], {}),
    ("layernorm_no_affine", lambda lib: lib.nn.LayerNorm(5, elementwise_affine=False), [R(3, 5)], {}),
    ("layernorm_no_bias", lambda lib: lib.nn.LayerNorm(5, bias=False), [R(3, 5)], {}),
    ("groupnorm", lambda lib: lib.nn.GroupNorm(2, 6), [R(3, 6, 4, 4)], {}),
    ("groupnorm_3d", lambda lib: lib.nn.GroupNorm(3, 3, eps=1e-3), [R(3, 3, 7)], {}),
    ("groupnorm_no_affine", lambda lib: lib.nn.GroupNorm(1, 4, affine=False), [R(2, 4, 3, 3)], {}),
    ("instancenorm1d", lambda lib: lib.nn.InstanceNorm1d(3), [R(2, 3, 8)], {}),
    ("instancenorm2d_affine_tracked", lambda lib: lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
     [R(2, 3, 5, 5)], {}),
    ("instancenorm1d_unbatched", lambda lib: lib.nn.InstanceNorm1d(3, affine=True), [R(3, 8)], {}),
    ("embedding", lambda lib: lib.nn.Embedding(10, 4), [I(10, 3, 5)], {}),
    ("embedding_padding", lambda lib: lib.nn.Embedding(10, 4, padding_idx=2),
     [np.array([[2, 1, 2], [0, 2, 9]], dtype=np.int64)], {}),
    ("embedding_negative_padding", lambda lib: lib.nn.Embedding(6, 3, padding_idx=-1),
     [np.array([5, 1, 5, 0], dtype=np.int64)], {}),
    ("dropout_eval_or_zero", lambda lib: lib.nn.Dropout(0.0), [R(4, 5)], {}),
    ("relu", lambda lib: lib.nn.ReLU(), [R(3, 4)], {}),
    ("relu6", lambda lib: lib.nn.ReLU6(), [R(3, 4, scale=5)], {}),
    ("leaky_relu", lambda lib: lib.nn.LeakyReLU(0.2), [R(3, 4)], {}),
    ("prelu", lambda lib: lib.nn.PReLU(), [R(3, 4)], {}),
    ("prelu_channels", lambda lib: lib.nn.PReLU(3, init=0.1), [R(2, 3, 4)], {}),
    ("elu", lambda lib: lib.nn.ELU(0.7), [R(3, 4)], {}),
    ("selu", lambda lib: lib.nn.SELU(), [R(3, 4)], {}),
    ("celu", lambda lib: lib.nn.CELU(1.5), [R(3, 4)], {}),
    ("gelu", lambda lib: lib.nn.GELU(), [R(3, 4)], {}),
    ("gelu_tanh", lambda lib: lib.nn.GELU(approximate="tanh"), [R(3, 4)], {}),
    ("silu", lambda lib: lib.nn.SiLU(), [R(3, 4)], {}),
    ("mish", lambda lib: lib.nn.Mish(), [R(3, 4)], {}),
    ("sigmoid", lambda lib: lib.nn.Sigmoid(), [R(3, 4)], {}),
    ("tanh", lambda lib: lib.nn.Tanh(), [R(3, 4)], {}),
    ("hardtanh", lambda lib: lib.nn.Hardtanh(-0.5, 0.8), [R(3, 4)], {}),
    ("hardsigmoid", lambda lib: lib.nn.Hardsigmoid(), [R(3, 4, scale=4)], {}),
    ("hardswish", lambda lib: lib.nn.Hardswish(), [R(3, 4, scale=4)], {}),
    ("softplus", lambda lib: lib.nn.Softplus(), [R(3, 4)], {}),
    ("softplus_beta", lambda lib: lib.nn.Softplus(beta=2.0, threshold=1.0), [R(3, 4)], {}),
    ("softsign", lambda lib: lib.nn.Softsign(), [R(3, 4)], {}),
    ("softmax", lambda lib: lib.nn.Softmax(dim=1), [R(3, 4, 2)], {}),
    ("softmax_last", lambda lib: lib.nn.Softmax(dim=-1), [R(3, 4)], {}),
    ("log_softmax", lambda lib: lib.nn.LogSoftmax(dim=1), [R(3, 4)], {}),
    ("softmin", lambda lib: lib.nn.Softmin(dim=0), [R(3, 4)], {}),
    ("softmax2d", lambda lib: lib.nn.Softmax2d(), [R(2, 3, 4, 4)], {}),
    ("log_sigmoid", lambda lib: lib.nn.LogSigmoid(), [R(3, 4)], {}),
    ("tanhshrink", lambda lib: lib.nn.Tanhshrink(), [R(3, 4)], {}),
    ("threshold", lambda lib: lib.nn.Threshold(0.1, 20.0), [R(3, 4)], {}),
    ("glu", lambda lib: lib.nn.GLU(), [R(3, 6)], {}),
    ("glu_dim", lambda lib: lib.nn.GLU(dim=0), [R(4, 3)], {}),
    ("hardshrink", lambda lib: lib.nn.Hardshrink(0.3), [R(3, 4)], {}),
    ("softshrink", lambda lib: lib.nn.Softshrink(0.3), [R(3, 4)], {}),
    ("lppool1d", lambda lib: lib.nn.LPPool1d(2, 3, 2), [R(2, 3, 9)], {}),
    ("lppool2d", lambda lib: lib.nn.LPPool2d(1.5, (2, 3)), [np.abs(R(2, 2, 6, 6)) + 0.1], {}),
    ("rmsnorm", lambda lib: lib.nn.RMSNorm(5), [R(3, 5)], {}),
    ("rmsnorm_eps_2d", lambda lib: lib.nn.RMSNorm([2, 3], eps=1e-3), [R(4, 2, 3)], {}),
    ("local_response_norm", lambda lib: lib.nn.LocalResponseNorm(3), [R(2, 5, 4, 4)], {}),
    ("pairwise_distance", lambda lib: lib.nn.PairwiseDistance(), [R(4, 5), R(4, 5)], {}),
    ("pairwise_distance_p1", lambda lib: lib.nn.PairwiseDistance(1.0, keepdim=True), [R(4, 5), R(4, 5)], {}),
    ("cosine_similarity", lambda lib: lib.nn.CosineSimilarity(dim=1), [R(4, 5), R(4, 5)], {}),
    ("zero_pad2d", lambda lib: lib.nn.ZeroPad2d((1, 2, 0, 3)), [R(2, 3, 4, 4)], {}),
    ("constant_pad1d", lambda lib: lib.nn.ConstantPad1d(2, 3.5), [R(2, 3, 4)], {}),
    ("reflection_pad1d", lambda lib: lib.nn.ReflectionPad1d((2, 1)), [R(2, 3, 5)], {}),
    ("reflection_pad2d", lambda lib: lib.nn.ReflectionPad2d(2), [R(2, 3, 5, 5)], {}),
    ("replication_pad2d", lambda lib: lib.nn.ReplicationPad2d((1, 0, 2, 1)), [R(2, 3, 4, 4)], {}),
    ("circular_pad2d", lambda lib: lib.nn.CircularPad2d(1), [R(1, 2, 4, 4)], {}),
    ("sequential_inplace", lambda lib: lib.nn.Sequential(
        lib.nn.Linear(4, 6), lib.nn.ReLU(inplace=True), lib.nn.Linear(6, 6), lib.nn.LeakyReLU(0.1, inplace=True),
        lib.nn.Dropout(0.0, inplace=True), lib.nn.Linear(6, 6), lib.nn.ELU(inplace=True), lib.nn.Linear(6, 6),
        lib.nn.Hardtanh(inplace=True), lib.nn.Linear(6, 2)), [R(5, 4)], {}),
    ("sequential_mlp", lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.LayerNorm(8),
                                                     lib.nn.Linear(8, 2)), [R(5, 4)], {}),
    ("sequential_cnn", lambda lib: lib.nn.Sequential(
        lib.nn.Conv2d(1, 4, 3, padding=1), lib.nn.BatchNorm2d(4), lib.nn.ReLU(), lib.nn.MaxPool2d(2),
        lib.nn.Conv2d(4, 4, 3), lib.nn.AdaptiveAvgPool2d(1), lib.nn.Flatten(), lib.nn.Linear(4, 3)),
     [R(2, 1, 8, 8)], dict(scale=3.0)),
]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer_matches_torch(case, dtype, train):
    _, make, inputs, opts = case
    check_layer(make, *inputs, dtype=dtype, train=train, **opts)


# ---- layers with state across calls ------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("make", [lambda lib, m: lib.nn.BatchNorm1d(3, momentum=m),
                                  lambda lib, m: lib.nn.BatchNorm2d(2, momentum=m),
                                  lambda lib, m: lib.nn.InstanceNorm1d(3, momentum=m or 0.1,
                                                                       track_running_stats=True)])
def test_running_statistics_over_several_batches(make, momentum):
    em, th = twin_modules(lambda lib: make(lib, momentum))
    shape = (5, 3) if isinstance(th, torch.nn.BatchNorm1d) else (3, 2, 4, 4) if isinstance(
        th, torch.nn.BatchNorm2d) else (2, 3, 6)
    for step in range(4):
        x = (R(*shape) * (step + 1) + step).astype(np.float32)
        assert_close(em(ember.tensor(x)), th(torch.tensor(x)), 1e-5, 1e-5, f"train step {step}")
    for (name, eb), (_, tb) in zip(em.named_buffers(), th.named_buffers()):
        assert_close(eb, tb, 1e-5, 1e-6, name)
    em.eval()
    th.eval()
    x = R(*shape).astype(np.float32)
    assert_close(em(ember.tensor(x)), th(torch.tensor(x)), 1e-5, 1e-5, "eval")


def test_batchnorm_eval_without_running_stats_uses_batch_statistics():
    check_layer(lambda lib: lib.nn.BatchNorm1d(3, track_running_stats=False), R(6, 3), train=False)


def test_embedding_padding_row_gets_no_gradient_and_from_pretrained():
    em, th = twin_modules(lambda lib: lib.nn.Embedding(5, 3, padding_idx=1))
    idx = np.array([1, 1, 3, 1], dtype=np.int64)
    em(ember.tensor(idx)).sum().backward()
    assert (em.weight.grad.numpy()[1] == 0).all() and (em.weight.grad.numpy()[3] == 1).all()
    w = ember.tensor(R(4, 2).astype(np.float32))
    frozen = ember.nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad and frozen.num_embeddings == 4 and frozen.embedding_dim == 2
    assert frozen.weight.data_ptr() == w.data_ptr()  # the given tensor is used, not copied
    trainable = ember.nn.Embedding.from_pretrained(w, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0
    out = frozen(ember.tensor(np.array([3, 0])))
    np.testing.assert_array_equal(out.numpy(), w.numpy()[[3, 0]])


def test_embedding_max_norm_renormalises_weight_like_torch():
    em, th = twin_modules(lambda lib: lib.nn.Embedding(6, 3, max_norm=1.0))
    with torch.no_grad():
        th.weight.mul_(3)
    em.load_state_dict({"weight": ember.tensor(th.weight.detach().numpy())})
    idx = np.array([0, 2, 2, 5], dtype=np.int64)
    try:
        out = em(ember.tensor(idx))
    except NotImplementedError as exc:  # an unsupported option must say which one
        assert "max_norm" in str(exc)
        return
    assert_close(out, th(torch.tensor(idx)), 1e-5, 1e-6, "output")
    assert_close(em.weight.detach(), th.weight.detach(), 1e-5, 1e-6, "renormalised weight")


def test_lazy_linear_infers_in_features():
    em, th = ember.nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert repr(em) == repr(th)
    x = R(2, 5).astype(np.float32)
    out = em(ember.tensor(x))
    th(torch.tensor(x))
    assert type(em) is ember.nn.Linear and repr(em) == repr(th)
    assert tuple(out.shape) == (2, 3) and em.in_features == 5
    bound = 1 / np.sqrt(5)
    assert np.abs(em.weight.detach().numpy()).max() <= bound


def test_lazy_linear_loads_state_dict():
    lin = torch.nn.Linear(4, 2)
    em = ember.nn.LazyLinear(2)
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in lin.state_dict().items()})
    x = R(3, 4).astype(np.float32)
    assert_close(em(ember.tensor(x)), lin(torch.tensor(x)), 1e-5, 1e-6, "output")


# ---- dropout: random masks are not torch's, so check their properties ---------------------------------------
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_train_mask_and_scaling(p):
    drop = ember.nn.Dropout(p)
    x = ember.tensor(np.ones((200, 100), dtype=np.float32) * 2, requires_grad=True)
    y = drop(x)
    yv = y.detach().numpy()
    kept = yv != 0
    np.testing.assert_allclose(yv[kept], 2 / (1 - p), rtol=1e-6)
    assert abs(1 - kept.mean() - p) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).detach().numpy(), x.detach().numpy())


@pytest.mark.parametrize("cls,shape", [("Dropout1d", (20, 30, 7)), ("Dropout2d", (20, 30, 4, 5))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    drop = getattr(ember.nn, cls)(0.5)
    y = drop(ember.ones(*shape)).numpy().reshape(shape[0], shape[1], -1)
    per_channel = y.min(axis=2) == y.max(axis=2)
    assert per_channel.all()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert abs((y[..., 0] == 0).mean() - 0.5) < 0.1


def test_alpha_dropout_keeps_mean_and_variance():
    drop = ember.nn.AlphaDropout(0.3)
    x = np.random.default_rng(0).standard_normal((400, 250)).astype(np.float32)
    y = drop(ember.tensor(x)).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert (y != x).mean() > 0.2
    drop.eval()
    np.testing.assert_array_equal(drop(ember.tensor(x)).numpy(), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rrelu_eval_matches_torch_and_train_slopes_are_in_range(dtype):
    check_layer(lambda lib: lib.nn.RReLU(0.1, 0.3), R(3, 4), dtype=dtype, train=False)
    x = -np.abs(R(50, 40)).astype(np.float32) - 0.1
    slopes = ember.nn.RReLU(0.1, 0.3)(ember.tensor(x)).numpy() / x
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6 and slopes.std() > 0.03


def test_dropout_rejects_bad_probability():
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
            lib.nn.Dropout(1.5)


# ---- constructor and input errors --------------------------------------------------------------------------------
CTOR_ERRORS = [
    ("conv_groups", lambda lib: lib.nn.Conv2d(3, 4, 3, groups=2)),
    ("conv_groups_zero", lambda lib: lib.nn.Conv2d(3, 3, 3, groups=0)),
    ("conv_padding_string", lambda lib: lib.nn.Conv2d(3, 3, 3, padding="full")),
    ("conv_same_strided", lambda lib: lib.nn.Conv2d(3, 3, 3, stride=2, padding="same")),
    ("conv_padding_mode", lambda lib: lib.nn.Conv1d(3, 3, 3, padding_mode="mirror")),
    ("conv_transpose_padding_mode", lambda lib: lib.nn.ConvTranspose2d(3, 3, 3, padding_mode="reflect")),
    ("groupnorm_divisible", lambda lib: lib.nn.GroupNorm(4, 6)),
    ("hardtanh_range", lambda lib: lib.nn.Hardtanh(1.0, 0.5)),
    ("embedding_padding_idx", lambda lib: lib.nn.Embedding(4, 2, padding_idx=4)),
    ("embedding_weight_shape", lambda lib: lib.nn.Embedding(4, 2, _weight=lib.ones(3, 2))),
    ("from_pretrained_1d", lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(3))),
    ("unflatten_type", lambda lib: lib.nn.Unflatten(1, 3)),
    ("unflatten_elem", lambda lib: lib.nn.Unflatten(1, (3, 2.0))),
    ("bilinear_zero", lambda lib: lib.nn.Bilinear(0, 2, 2)),
    ("batchnorm1d_dim", lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 3, 4, 5))),
    ("batchnorm2d_dim", lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(2, 3))),
    ("instancenorm_dim", lambda lib: lib.nn.InstanceNorm2d(3)(lib.ones(3))),
    ("instancenorm_features", lambda lib: lib.nn.InstanceNorm1d(3, affine=True)(lib.ones(2, 4, 5))),
    ("softmax2d_dim", lambda lib: lib.nn.Softmax2d()(lib.ones(3, 3))),
    ("conv_transpose_output_size", lambda lib: lib.nn.ConvTranspose2d(2, 2, 3, stride=2)(
        lib.ones(1, 2, 4, 4), output_size=[20, 20])),
    ("conv_transpose_output_size_len", lambda lib: lib.nn.ConvTranspose2d(2, 2, 3)(
        lib.ones(1, 2, 4, 4), output_size=[6])),
    ("triplet_margin", lambda lib: lib.nn.TripletMarginLoss(margin=0.0)),
    ("circular_pad_dim", lambda lib: lib.nn.CircularPad2d(1)(lib.ones(3, 3))),
]


def _normalised(msg):
    """Messages print Python sets, whose order changes between processes: sort their elements."""
    return re.sub(r"\{([^}]*)\}", lambda m: str(sorted(m.group(1).split(", "))), msg)


@pytest.mark.parametrize("case", CTOR_ERRORS, ids=[c[0] for c in CTOR_ERRORS])
def test_errors_match_torch(case):
    _, fn = case
    with pytest.raises(Exception) as t_info:
        fn(torch)
    with pytest.raises(t_info.type) as e_info:
        fn(ember)
    assert _normalised(str(e_info.value)) == _normalised(str(t_info.value).replace("torch.Size", "ember.Size"))


def test_unsupported_features_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="sparse"):
        ember.nn.Embedding(4, 2, sparse=True)
    with pytest.raises(NotImplementedError, match="bfloat16"):
        ember.nn.Linear(2, 2).bfloat16()
    with pytest.raises(NotImplementedError, match="register_backward_hook"):
        ember.nn.Linear(2, 2).register_backward_hook(lambda *a: None)
    missing = sorted(ember.nn._NOT_IMPLEMENTED)
    assert missing and not set(missing) & set(ember.nn.__all__)  # the list names only what is really absent
    with pytest.raises(NotImplementedError, match=f"torch.nn.{missing[0]} is not implemented"):
        getattr(ember.nn, missing[0])
    assert not hasattr(ember.nn, missing[-1])
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchLayer'"):
        ember.nn.NoSuchLayer  # noqa: B018
    with pytest.raises(NotImplementedError, match="conv3d"):
        ember.nn.Conv3d(1, 1, 2)(ember.ones(1, 1, 3, 3, 3))


def test_max_unpool_inverts_max_pool():
    x = R(2, 3, 6, 6).astype(np.float32)
    outs = []
    for lib in (torch, ember):
        pool, unpool = lib.nn.MaxPool2d(2, return_indices=True), lib.nn.MaxUnpool2d(2)
        y, idx = pool(lib.tensor(x))
        outs.append((unpool(y, idx), unpool(y, idx, output_size=[7, 7])))
    assert_close(outs[1][0], outs[0][0], 0, 0, "unpool")
    assert_close(outs[1][1], outs[0][1], 0, 0, "unpool with output_size")
