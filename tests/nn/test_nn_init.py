"""nn.init and the layers' default initialisation: distributions checked by bounds and moments (ember's random
stream is not torch's), deterministic fills compared exactly with torch."""
import math

import numpy as np
import pytest
import torch

import ember
import ember.nn
from ember.nn import init


def arr(t):
    return t.detach().numpy().astype(np.float64)


def check_uniform(values, low, high):
    values = values.ravel()
    assert values.min() >= low and values.max() <= high
    width = high - low
    # mean and std of U(low, high), with ~5 sigma slack for the sample size
    n = values.size
    assert abs(values.mean() - (low + high) / 2) < 5 * width / math.sqrt(12 * n)
    assert abs(values.std() - width / math.sqrt(12)) < 0.05 * width / math.sqrt(12) + 5 * width / n ** 0.5
    assert values.min() < low + 0.05 * width and values.max() > high - 0.05 * width


def check_normal(values, mean, std):
    values = values.ravel()
    n = values.size
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(n)
    assert abs(values.std() / std - 1) < 5 * math.sqrt(0.5 / n) + 0.01


# ---- init functions ------------------------------------------------------------------------------------------
def test_uniform_and_normal():
    w = ember.empty(200, 300)
    check_uniform(arr(init.uniform_(w, -2.0, 3.0)), -2.0, 3.0)
    check_normal(arr(init.normal_(w, 1.5, 0.5)), 1.5, 0.5)


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3), (100, 40, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    assert (fan_in, fan_out) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    check_uniform(arr(init.xavier_uniform_(ember.empty(*shape), gain=gain)), -bound, bound)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    check_normal(arr(init.xavier_normal_(ember.empty(*shape), gain=gain)), 0.0, std)


KAIMING = [
    dict(),
    dict(a=math.sqrt(5)),
    dict(mode="fan_out", nonlinearity="relu"),
    dict(a=0.2, mode="FAN_IN", nonlinearity="leaky_relu"),
    dict(nonlinearity="tanh"),
    dict(nonlinearity="linear", mode="fan_out"),
]


@pytest.mark.parametrize("kwargs", KAIMING, ids=[str(k) for k in KAIMING])
@pytest.mark.parametrize("shape", [(256, 128), (32, 16, 3, 3)])
def test_kaiming(kwargs, shape):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    fan = fan_out if kwargs.get("mode", "fan_in").lower() == "fan_out" else fan_in
    gain = torch.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    std = gain / math.sqrt(fan)
    check_uniform(arr(init.kaiming_uniform_(ember.empty(*shape), **kwargs)), -math.sqrt(3) * std, math.sqrt(3) * std)
    check_normal(arr(init.kaiming_normal_(ember.empty(*shape), **kwargs)), 0.0, std)


@pytest.mark.parametrize("args", [(0.0, 1.0, -2.0, 2.0), (1.0, 2.0, 0.0, 1.5), (0.0, 1.0, 2.0, 3.0),
                                  (0.0, 0.02, -0.04, 0.04)])
def test_trunc_normal_bounds_and_moments(args):
    mean, std, a, b = args
    values = arr(init.trunc_normal_(ember.empty(400, 100), mean, std, a, b))
    assert values.min() >= a and values.max() <= b
    # moments of the truncated normal in closed form
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    mass = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / mass
    true_mean = mean + std * shift
    true_std = std * math.sqrt(1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - shift ** 2)
    n = values.size
    assert abs(values.mean() - true_mean) < 5 * true_std / math.sqrt(n)
    assert abs(values.std() / true_std - 1) < 0.02


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (8, 2), (6, 2, 3)])
def test_orthogonal(shape):
    w = arr(init.orthogonal_(ember.empty(*shape), gain=2.0)).reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-5)


def test_deterministic_fills_equal_torch():
    for fn, shape in [(lambda i, t: i.eye_(t), (3, 5)), (lambda i, t: i.dirac_(t), (4, 2, 3)),
                      (lambda i, t: i.dirac_(t, groups=2), (4, 2, 3, 3)), (lambda i, t: i.dirac_(t), (2, 2, 3, 3, 3)),
                      (lambda i, t: i.constant_(t, 0.3), (2, 3)), (lambda i, t: i.ones_(t), (4,)),
                      (lambda i, t: i.zeros_(t), (2, 2))]:
        e = fn(init, ember.empty(*shape))
        t = fn(torch.nn.init, torch.empty(*shape))
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_sparse_zeroes_a_fraction_of_each_column():
    w = arr(init.sparse_(ember.empty(10, 40), sparsity=0.3, std=0.5))
    assert ((w == 0).sum(axis=0) >= 3).all()
    check_normal(w[w != 0], 0.0, 0.5)


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                                  ("leaky_relu", 0.2), ("leaky_relu", 1), ("selu",), ("conv_transpose3d",)])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


ERRORS = [
    ("gain_bad_nonlinearity", lambda i, lib: i.calculate_gain("swish")),
    ("gain_bad_slope", lambda i, lib: i.calculate_gain("leaky_relu", "x")),
    ("fan_1d", lambda i, lib: i.xavier_uniform_(lib.empty(3))),
    ("kaiming_mode", lambda i, lib: i.kaiming_uniform_(lib.empty(3, 3), mode="fan_avg")),
    ("eye_3d", lambda i, lib: i.eye_(lib.empty(2, 2, 2))),
    ("dirac_2d", lambda i, lib: i.dirac_(lib.empty(2, 2))),
    ("dirac_groups", lambda i, lib: i.dirac_(lib.empty(3, 2, 2), groups=2)),
    ("orthogonal_1d", lambda i, lib: i.orthogonal_(lib.empty(3))),
    ("sparse_3d", lambda i, lib: i.sparse_(lib.empty(3, 3, 3), 0.1)),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case):
    _, fn = case
    with pytest.raises(Exception) as t_info:
        fn(torch.nn.init, torch)
    with pytest.raises(t_info.type) as e_info:
        fn(init, ember)
    assert str(e_info.value) == str(t_info.value)


def test_zero_element_tensor_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(ember.empty(0, 3))


def test_init_on_parameters_records_no_graph_and_keeps_dtype():
    p = ember.nn.Parameter(ember.empty(4, 4, dtype=ember.float64))
    v = p._version_value
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_,
               init.trunc_normal_, init.ones_, init.zeros_, init.eye_, lambda t: init.constant_(t, 2.0)):
        out = fn(p)
        assert out is p and p.is_leaf and p.grad_fn is None and p.requires_grad and p.dtype is ember.float64
    assert p._version_value > v


@pytest.mark.parametrize("fn", [init.uniform_, init.normal_, init.xavier_normal_, init.kaiming_uniform_,
                                init.orthogonal_, init.trunc_normal_, lambda t, generator: init.sparse_(
                                    t, 0.5, generator=generator)])
def test_generator_makes_draws_reproducible(fn):
    a = fn(ember.empty(6, 5), generator=ember.Generator().manual_seed(3))
    b = fn(ember.empty(6, 5), generator=ember.Generator().manual_seed(3))
    c = fn(ember.empty(6, 5), generator=ember.Generator().manual_seed(4))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())


# ---- default initialisation of the layers ----------------------------------------------------------------------
def _bound(fan_in):
    return 1 / math.sqrt(fan_in)


@pytest.mark.parametrize("make,fan_in", [
    (lambda nn: nn.Linear(300, 200), 300),
    (lambda nn: nn.Conv2d(16, 64, 3), 16 * 9),
    (lambda nn: nn.Conv1d(8, 128, 5, groups=2), 4 * 5),
    (lambda nn: nn.ConvTranspose2d(32, 16, 3), 16 * 9),  # weight is (in, out/groups, k, k): fan_in uses dim 1
])
def test_linear_and_conv_defaults(make, fan_in):
    m = make(ember.nn)
    t = make(torch.nn)
    assert tuple(m.weight.shape) == tuple(t.weight.shape) and tuple(m.bias.shape) == tuple(t.bias.shape)
    check_uniform(arr(m.weight), -_bound(fan_in), _bound(fan_in))
    b = arr(m.bias)
    assert b.min() >= -_bound(fan_in) and b.max() <= _bound(fan_in) and b.std() > 0


def test_bilinear_default():
    m = ember.nn.Bilinear(50, 30, 40)
    check_uniform(arr(m.weight), -_bound(50), _bound(50))
    assert np.abs(arr(m.bias)).max() <= _bound(50)


def test_embedding_default_and_padding_row():
    m = ember.nn.Embedding(500, 64, padding_idx=3)
    w = arr(m.weight)
    assert (w[3] == 0).all()
    check_normal(np.delete(w, 3, axis=0), 0.0, 1.0)


@pytest.mark.parametrize("make", [lambda nn: nn.BatchNorm2d(5), lambda nn: nn.LayerNorm((2, 3)),
                                  lambda nn: nn.GroupNorm(2, 4), lambda nn: nn.PReLU(3),
                                  lambda nn: nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
                                  lambda nn: nn.RMSNorm(4)])
def test_deterministic_layer_defaults_equal_torch(make):
    e, t = make(ember.nn), make(torch.nn)
    esd, tsd = e.state_dict(), t.state_dict()
    assert list(esd) == list(tsd)
    for k in tsd:
        np.testing.assert_array_equal(esd[k].numpy(), tsd[k].numpy(), err_msg=k)


def test_reset_parameters_redraws():
    m = ember.nn.Linear(4, 4)
    before = arr(m.weight).copy()
    m.reset_parameters()
    assert not np.array_equal(before, arr(m.weight))


def test_layers_respect_dtype_argument():
    for m in (ember.nn.Linear(2, 3, dtype=ember.float64), ember.nn.Conv2d(1, 1, 2, dtype=ember.float64),
              ember.nn.BatchNorm1d(2, dtype=ember.float64), ember.nn.Embedding(3, 2, dtype=ember.float64)):
        assert all(p.dtype is ember.float64 for p in m.parameters())
    bn = ember.nn.BatchNorm1d(2, dtype=ember.float64)
    assert bn.running_mean.dtype is ember.float64 and bn.num_batches_tracked.dtype is ember.int64


def test_layers_follow_the_default_dtype():
    ember.set_default_dtype(ember.float64)  # the conftest fixture restores float32
    lin, bn = ember.nn.Linear(2, 3), ember.nn.BatchNorm1d(3)
    assert lin.weight.dtype is ember.float64 and bn.running_var.dtype is ember.float64
    assert lin(ember.ones(1, 2)).dtype is ember.float64
