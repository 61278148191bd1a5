"""linear, bilinear, embedding, one_hot, the activation wrappers (inplace, glu, prelu, rrelu) and the dropout
family: against torch (forward and gradients in float32/float64, gradcheck in float64), dropout statistics and
RNG behaviour, error paths."""
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_F

import ember
import ember.nn.functional as F
from oracle import check_op, gradcheck

EM = types.SimpleNamespace(F=F, t=ember)
TH = types.SimpleNamespace(F=torch_F, t=torch)
DTYPES = [np.float32, np.float64]
TOL32 = dict(rtol=1e-4, atol=1e-5)


def randn(*shapes):
    return lambda rng, dt: [rng.standard_normal(s).astype(dt) for s in shapes]


IDX = np.array([[1, 3, 3], [0, 4, 1]])  # embedding indices (repeats on purpose)

CASES = [
    ("linear", lambda m, x, w, b: m.F.linear(x, w, b), randn((4, 3), (5, 3), (5,))),
    ("linear_nobias", lambda m, x, w: m.F.linear(x, w), randn((4, 3), (5, 3))),
    ("linear_3d", lambda m, x, w, b: m.F.linear(x, w, b), randn((2, 4, 3), (5, 3), (5,))),
    ("linear_noncontig", lambda m, x, w, b: m.F.linear(x.transpose(0, 1), w, b), randn((3, 2, 4), (5, 4), (5,))),
    ("linear_1d", lambda m, x, w, b: m.F.linear(x, w, b), randn((3,), (5, 3), (5,))),
    ("linear_1d_weight", lambda m, x, w: m.F.linear(x, w), randn((4, 3), (3,))),
    ("bilinear", lambda m, a, b, w, c: m.F.bilinear(a, b, w, c), randn((4, 3), (4, 2), (5, 3, 2), (5,))),
    ("bilinear_3d", lambda m, a, b, w: m.F.bilinear(a, b, w), randn((2, 4, 3), (2, 4, 2), (5, 3, 2))),
    ("embedding", lambda m, w: m.F.embedding(m.t.tensor(IDX), w), randn((6, 4))),
    ("embedding_padding", lambda m, w: m.F.embedding(m.t.tensor(IDX), w, padding_idx=3), randn((6, 4))),
    ("embedding_neg_padding", lambda m, w: m.F.embedding(m.t.tensor(IDX), w, padding_idx=-2), randn((6, 4))),
    ("embedding_freq", lambda m, w: m.F.embedding(m.t.tensor(IDX), w, scale_grad_by_freq=True), randn((6, 4))),
    ("relu_inplace", lambda m, x: m.F.relu(x * 1, inplace=True), randn((3, 4))),
    ("relu6", lambda m, x: m.F.relu6(x * 4), randn((3, 4))),
    ("elu_inplace", lambda m, x: m.F.elu(x * 1, 0.5, True), randn((3, 4))),
    ("selu", lambda m, x: m.F.selu(x), randn((3, 4))),
    ("celu", lambda m, x: m.F.celu(x, 2.0), randn((3, 4))),
    ("gelu_tanh", lambda m, x: m.F.gelu(x, approximate="tanh"), randn((3, 4))),
    ("silu", lambda m, x: m.F.silu(x), randn((3, 4))),
    ("mish", lambda m, x: m.F.mish(x), randn((3, 4))),
    ("softplus", lambda m, x: m.F.softplus(x * 5, beta=2, threshold=4), randn((3, 4))),
    ("hardtanh_inplace", lambda m, x: m.F.hardtanh(x * 2, -0.5, 0.7, inplace=True), randn((3, 4))),
    ("hardsigmoid", lambda m, x: m.F.hardsigmoid(x * 3), randn((3, 4))),
    ("hardswish", lambda m, x: m.F.hardswish(x * 3), randn((3, 4))),
    ("leaky_relu_inplace", lambda m, x: m.F.leaky_relu(x * 1, 0.2, inplace=True), randn((3, 4))),
    ("logsigmoid", lambda m, x: m.F.logsigmoid(x), randn((3, 4))),
    ("softsign", lambda m, x: m.F.softsign(x), randn((3, 4))),
    ("tanhshrink", lambda m, x: m.F.tanhshrink(x), randn((3, 4))),
    ("threshold", lambda m, x: m.F.threshold(x, 0.3, -2.0), randn((3, 4))),
    ("threshold_inplace", lambda m, x: m.F.threshold(x * 1, 0.3, -2.0, True), randn((3, 4))),
    ("sigmoid", lambda m, x: m.F.sigmoid(x), randn((3, 4))),
    ("tanh", lambda m, x: m.F.tanh(x), randn((3, 4))),
    ("softmax", lambda m, x: m.F.softmax(x, dim=1), randn((3, 4))),
    ("log_softmax", lambda m, x: m.F.log_softmax(x, dim=0), randn((3, 4))),
    ("softmin", lambda m, x: m.F.softmin(x, dim=-1), randn((3, 4))),
    ("glu", lambda m, x: m.F.glu(x), randn((3, 4))),
    ("glu_dim", lambda m, x: m.F.glu(x, dim=0), randn((4, 3))),
    ("prelu_channels", lambda m, x, w: m.F.prelu(x, w), randn((2, 3, 4), (3,))),
    ("prelu_single", lambda m, x, w: m.F.prelu(x, w), randn((2, 3, 4), (1,))),
    ("prelu_1d", lambda m, x, w: m.F.prelu(x, w), randn((5,), (1,))),
    ("rrelu_eval", lambda m, x: m.F.rrelu(x, 0.1, 0.3), randn((3, 4))),
    ("pad_constant", lambda m, x: m.F.pad(x, (1, 2, 0, 1), value=0.5), randn((2, 3, 4))),
    ("pad_reflect", lambda m, x: m.F.pad(x, (2, 1), mode="reflect"), randn((2, 3, 4))),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_misc_matches_torch(case, dtype):
    _, fn, make = case
    xs = make(np.random.default_rng(1), dtype)
    check_op(lambda *a: fn(EM, *a), lambda *a: fn(TH, *a), *xs, **(TOL32 if dtype == np.float32 else {}))


# padding_idx and scale_grad_by_freq change the gradient on purpose (torch's definition, not the derivative)
EXACT = [c for c in CASES if c[0] not in ("embedding_padding", "embedding_neg_padding", "embedding_freq")]


@pytest.mark.parametrize("case", EXACT, ids=[c[0] for c in EXACT])
def test_misc_gradcheck(case):
    _, fn, make = case
    assert gradcheck(lambda *a: fn(EM, *a), *make(np.random.default_rng(2), np.float64))


def test_linear_double_backward_matches_torch():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)
    ex, ew, eb = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    eg = ember.autograd.grad((F.linear(ex, ew, eb).tanh()).sum(), (ex, ew), create_graph=True)
    tg = torch.autograd.grad((torch_F.linear(tx, tw, tb).tanh()).sum(), (tx, tw), create_graph=True)
    ((eg[0] ** 2).sum() + (eg[1] ** 2).sum()).backward()
    ((tg[0] ** 2).sum() + (tg[1] ** 2).sum()).backward()
    for e, t in ((ex, tx), (ew, tw), (eb, tb)):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_is_one_fused_node():
    y = F.linear(ember.randn(2, 3, requires_grad=True), ember.randn(4, 3, requires_grad=True), ember.randn(4))
    assert y.grad_fn.name() == "LinearBackward0"


def test_embedding_double_backward_matches_torch():
    w = np.random.default_rng(4).standard_normal((6, 3))
    ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    (eg,) = ember.autograd.grad((F.embedding(ember.tensor(IDX), ew, padding_idx=1) ** 3).sum(), ew, create_graph=True)
    (tg,) = torch.autograd.grad((torch_F.embedding(torch.tensor(IDX), tw, padding_idx=1) ** 3).sum(), tw,
                                create_graph=True)
    (eg ** 2).sum().backward()
    (tg ** 2).sum().backward()
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("num_classes", [-1, 7])
def test_one_hot_matches_torch(num_classes):
    t = np.array([[0, 3], [5, 1]])
    e = F.one_hot(ember.tensor(t), num_classes)
    assert e.dtype is ember.int64
    assert np.array_equal(e.numpy(), torch_F.one_hot(torch.tensor(t), num_classes).numpy())


# ---- dropout ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,p", [("dropout", 0.3), ("dropout", 0.8), ("dropout2d", 0.5), ("dropout1d", 0.4),
                                    ("dropout3d", 0.25)])
def test_dropout_zeroes_fraction_p_and_rescales(name, p):
    shape = {"dropout": (200, 100), "dropout1d": (40, 50, 6), "dropout2d": (40, 50, 2, 3),
             "dropout3d": (40, 50, 2, 1, 3)}[name]
    x = ember.ones(*shape, requires_grad=True)
    y = getattr(F, name)(x, p, training=True)
    kept = y.detach().numpy() != 0
    units = kept.reshape(shape[:2] + (-1,)) if name != "dropout" else kept
    if name != "dropout":  # whole channels are dropped together
        assert (units.all(axis=-1) | ~units.any(axis=-1)).all()
    n = units.shape[0] * units.shape[1] if name != "dropout" else kept.size
    frac = 1 - (units[..., 0] if name != "dropout" else kept).sum() / n
    assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / (1 - p), 0), rtol=1e-6)


@pytest.mark.parametrize("name", ["dropout", "dropout2d", "alpha_dropout", "feature_alpha_dropout"])
def test_dropout_edge_cases_like_torch(name):
    for p in (0.0, 0.5):
        x = ember.randn(4, 3, 2, 2)
        assert getattr(F, name)(x, p, training=False) is x
    x = ember.randn(4, 3, 2, 2)
    assert getattr(F, name)(x, 0.0, training=True) is x
    y = getattr(F, name)(x, 1.0, training=True)
    assert y.shape == x.shape and not y.numpy().any()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        getattr(F, name)(x, 1.5, training=True)
    with pytest.raises(ValueError):
        getattr(torch_F, name)(torch.zeros(2), 1.5, training=True)


def test_dropout_follows_manual_seed_and_inplace():
    ember.manual_seed(123)
    a = F.dropout(ember.ones(50), 0.5).numpy().copy()
    ember.manual_seed(123)
    b = F.dropout(ember.ones(50), 0.5).numpy().copy()
    assert np.array_equal(a, b) and not np.array_equal(a, F.dropout(ember.ones(50), 0.5).numpy())
    x = ember.ones(50)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0} and x._version[0] == 1


def test_alpha_dropout_keeps_mean_and_variance():
    x = ember.randn(400, 500)
    y = F.alpha_dropout(x, 0.3, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha ** 2 * 0.3 + 1) * 0.7)
    kept = ~np.isclose(y, -alpha * a * 0.7, rtol=0, atol=1e-6)  # dropped units all take this value
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(y[kept], x.numpy()[kept] * a + alpha * a * 0.3, rtol=1e-5, atol=1e-6)


def test_dropout2d_warns_like_torch_for_3d_input():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(ember.ones(2, 3, 4), 0.5)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        torch_F.dropout2d(torch.ones(2, 3, 4), 0.5)


def test_rrelu_training_slopes_in_range():
    x = ember.tensor(-np.ones(1000, np.float32), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)


def _x(*shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


ERRORS = [
    ("linear_shapes", r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 5x2\)",
     lambda m: m.F.linear(m.t.tensor(_x(4, 3)), m.t.tensor(_x(2, 5))), RuntimeError),
    ("linear_dtype", "linear", lambda m: m.F.linear(m.t.tensor(_x(4, 3).astype(np.float64)), m.t.tensor(_x(2, 3))),
     RuntimeError),
    ("linear_bias", "linear", lambda m: m.F.linear(m.t.tensor(_x(4, 3)), m.t.tensor(_x(2, 3)), m.t.tensor(_x(3))),
     RuntimeError),
    ("linear_weight_dims", "linear", lambda m: m.F.linear(m.t.tensor(_x(4, 3)), m.t.tensor(_x(2, 3, 1))),
     RuntimeError),
    ("bilinear_size", "input2 size does not match weight size: got 5 but expected 6",
     lambda m: m.F.bilinear(m.t.tensor(_x(4, 3)), m.t.tensor(_x(4, 5)), m.t.tensor(_x(2, 3, 6))), RuntimeError),
    ("bilinear_batch", "input batch dimensions do not match at dim 0: got 4 and 3",
     lambda m: m.F.bilinear(m.t.tensor(_x(4, 3)), m.t.tensor(_x(3, 5)), m.t.tensor(_x(2, 3, 5))), RuntimeError),
    ("dropout_p", "between 0 and 1", lambda m: m.F.dropout(m.t.tensor(_x(3)), p=-0.1), ValueError),
    ("dropout1d_dims", "dropout1d", lambda m: m.F.dropout1d(m.t.tensor(_x(2, 3, 4, 5))), RuntimeError),
    ("embedding_range", "index out of range in self",
     lambda m: m.F.embedding(m.t.tensor(np.array([1, 5])), m.t.tensor(_x(4, 3))), IndexError),
    ("embedding_negative", "index out of range in self",
     lambda m: m.F.embedding(m.t.tensor(np.array([1, -1])), m.t.tensor(_x(4, 3))), IndexError),
    ("embedding_float", "indices", lambda m: m.F.embedding(m.t.tensor(_x(2)), m.t.tensor(_x(4, 3))), RuntimeError),
    ("embedding_padding", "Padding_idx must be within num_embeddings",
     lambda m: m.F.embedding(m.t.tensor(np.array([1])), m.t.tensor(_x(4, 3)), padding_idx=4), AssertionError),
    ("embedding_weight_dims", "must be 2-D",
     lambda m: m.F.embedding(m.t.tensor(np.array([1])), m.t.tensor(_x(4))), RuntimeError),
    ("one_hot_dtype", "one_hot is only applicable to index tensor",
     lambda m: m.F.one_hot(m.t.tensor(_x(2))), RuntimeError),
    ("one_hot_negative", "Class values must be non-negative",
     lambda m: m.F.one_hot(m.t.tensor(np.array([1, -2]))), RuntimeError),
    ("one_hot_large", "Class values must be smaller than num_classes",
     lambda m: m.F.one_hot(m.t.tensor(np.array([1, 5])), 3), RuntimeError),
    ("one_hot_empty", "Can not infer total number of classes",
     lambda m: m.F.one_hot(m.t.tensor(np.array([], dtype=np.int64))), RuntimeError),
    ("glu_odd", "Halving dimension must be even", lambda m: m.F.glu(m.t.tensor(_x(3, 5))), RuntimeError),
    ("prelu_channels", "Mismatch of parameter numbers and input channel size",
     lambda m: m.F.prelu(m.t.tensor(_x(3, 4)), m.t.tensor(_x(3))), RuntimeError),
    ("hardtanh_range", "min_val cannot be greater than max_val",
     lambda m: m.F.hardtanh(m.t.tensor(_x(3)), 2, 1), ValueError),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_misc_errors_match_torch(case):
    _, pattern, fn, exc = case
    with pytest.raises(exc):
        fn(TH)
    with pytest.raises(exc, match=pattern):
        fn(EM)


def test_embedding_max_norm_is_refused_by_name():
    with pytest.raises(NotImplementedError, match="max_norm"):
        F.embedding(ember.tensor([1]), ember.randn(3, 2), max_norm=1.0)


def test_missing_functions_say_so():
    with pytest.raises(NotImplementedError, match="conv3d"):
        F.conv3d(ember.zeros(1, 1, 2, 2, 2), ember.zeros(1, 1, 1, 1, 1))
