"""Normalisation and distance functions against torch: batch_norm (training with in-place running statistics,
eval), instance/layer/group/RMS/local-response norm, normalize, cosine_similarity, pairwise_distance; forward and
gradients in float32/float64, gradcheck and double backward in float64, error paths."""
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


def running(m, dt, c=3):
    """Running mean and var as the library's tensors (fresh for each side)."""
    rng = np.random.default_rng(11)
    return m.t.tensor(rng.standard_normal(c).astype(dt)), m.t.tensor(rng.uniform(0.5, 2, c).astype(dt))


CASES = [
    ("bn_train_affine", lambda m, x, w, b: m.F.batch_norm(x, None, None, w, b, training=True),
     randn((4, 3, 5, 2), (3,), (3,))),
    ("bn_train_2d", lambda m, x: m.F.batch_norm(x, None, None, training=True, eps=1e-3), randn((6, 3))),
    ("bn_train_3d", lambda m, x, w: m.F.batch_norm(x, None, None, w, training=True), randn((4, 3, 7), (3,))),
    ("bn_eval", lambda m, x, w, b: m.F.batch_norm(x, *running(m, x.detach().numpy().dtype), w, b),
     randn((4, 3, 5, 2), (3,), (3,))),
    ("in_affine", lambda m, x, w, b: m.F.instance_norm(x, weight=w, bias=b), randn((2, 3, 4, 5), (3,), (3,))),
    ("in_1d", lambda m, x: m.F.instance_norm(x, eps=1e-3), randn((2, 3, 6))),
    ("in_running_eval", lambda m, x: m.F.instance_norm(x, *running(m, x.detach().numpy().dtype),
                                                       use_input_stats=False), randn((2, 3, 4, 5))),
    ("ln_last", lambda m, x, w, b: m.F.layer_norm(x, (6,), w, b), randn((2, 5, 6), (6,), (6,))),
    ("ln_two_dims", lambda m, x, w, b: m.F.layer_norm(x, (5, 6), w, b), randn((2, 5, 6), (5, 6), (5, 6))),
    ("ln_noaffine", lambda m, x: m.F.layer_norm(x, [4], eps=1e-3), randn((3, 4))),
    ("ln_weight_only", lambda m, x, w: m.F.layer_norm(x, (4,), w), randn((3, 4), (4,))),
    ("gn_affine", lambda m, x, w, b: m.F.group_norm(x, 3, w, b), randn((2, 6, 4, 3), (6,), (6,))),
    ("gn_2d_input", lambda m, x: m.F.group_norm(x, 2), randn((3, 6))),
    ("gn_one_group", lambda m, x, w: m.F.group_norm(x, 1, w, eps=1e-3), randn((2, 4, 5), (4,))),
    ("gn_per_channel", lambda m, x, w, b: m.F.group_norm(x, 4, w, b), randn((2, 4, 5), (4,), (4,))),
    ("rms", lambda m, x, w: m.F.rms_norm(x, (6,), w), randn((2, 5, 6), (6,))),
    ("rms_eps", lambda m, x: m.F.rms_norm(x, (5, 6), eps=1e-3), randn((2, 5, 6))),
    ("lrn_4d", lambda m, x: m.F.local_response_norm(x, 3), randn((2, 5, 4, 3))),
    ("lrn_3d", lambda m, x: m.F.local_response_norm(x, 2, alpha=1e-2, beta=0.5, k=2.0), randn((2, 5, 4))),
    ("normalize", lambda m, x: m.F.normalize(x), randn((4, 5))),
    ("normalize_p1_dim", lambda m, x: m.F.normalize(x, p=1, dim=-1), randn((3, 4, 5))),
    ("normalize_p3", lambda m, x: m.F.normalize(x, p=3.0, dim=0), randn((4, 5))),
    ("cosine", lambda m, a, b: m.F.cosine_similarity(a, b), randn((4, 5), (4, 5))),
    ("cosine_broadcast", lambda m, a, b: m.F.cosine_similarity(a, b, dim=-1), randn((3, 4, 5), (1, 5))),
    ("pdist", lambda m, a, b: m.F.pairwise_distance(a, b), randn((4, 5), (4, 5))),
    ("pdist_p1_keepdim", lambda m, a, b: m.F.pairwise_distance(a, b, p=1.0, keepdim=True), randn((4, 5), (4, 5))),
    ("pdist_p3_bcast", lambda m, a, b: m.F.pairwise_distance(a, b, p=3.0, eps=1e-3), randn((4, 5), (5,))),
    ("pdist_1d", lambda m, a, b: m.F.pairwise_distance(a, b), randn((5,), (5,))),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_norm_matches_torch(case, dtype):
    _, fn, make = case
    xs = make(np.random.default_rng(1), dtype)
    check_op(lambda *a: fn(EM, *a), lambda *a: fn(TH, *a), *xs, **(TOL32 if dtype == np.float32 else {}))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_norm_gradcheck(case):
    _, fn, make = case
    assert gradcheck(lambda *a: fn(EM, *a), *make(np.random.default_rng(2), np.float64))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("momentum", [0.1, 0.7])
def test_batch_norm_updates_running_stats_like_torch(dtype, momentum):
    x = np.random.default_rng(3).standard_normal((5, 3, 4, 2)).astype(dtype) * 3 + 1
    erm, erv = running(EM, dtype)
    trm, trv = running(TH, dtype)
    version = erm._version[0]
    for _ in range(2):
        e = F.batch_norm(ember.tensor(x), erm, erv, training=True, momentum=momentum)
        t = torch_F.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=momentum)
    tol = TOL32 if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(e.numpy(), t.numpy(), **tol)
    np.testing.assert_allclose(erm.numpy(), trm.numpy(), **tol)
    np.testing.assert_allclose(erv.numpy(), trv.numpy(), **tol)
    assert erm.dtype == ember.float32 if dtype == np.float32 else erm.dtype == ember.float64
    assert erm._version[0] > version and not erm.requires_grad and erm.grad_fn is None


def test_instance_norm_updates_running_stats_like_torch():
    x = np.random.default_rng(4).standard_normal((3, 2, 5)) * 2 + 0.5
    erm, erv = running(EM, np.float64, 2)
    trm, trv = running(TH, np.float64, 2)
    F.instance_norm(ember.tensor(x), erm, erv, momentum=0.3)
    torch_F.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
    np.testing.assert_allclose(erm.numpy(), trm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(erv.numpy(), trv.numpy(), rtol=1e-10)


def test_batch_norm_eval_leaves_running_stats():
    rm, rv = ember.zeros(3), ember.ones(3)
    F.batch_norm(ember.randn(4, 3), rm, rv, training=False)
    assert rm.tolist() == [0, 0, 0] and rv.tolist() == [1, 1, 1]


@pytest.mark.parametrize("fn", [
    lambda m, x, w, b: m.F.batch_norm(x, None, None, w, b, training=True),
    lambda m, x, w, b: m.F.layer_norm(x, (4, 5), None, None) * w.sum() + b.sum(),
    lambda m, x, w, b: m.F.group_norm(x, 3, w, b),
    lambda m, x, w, b: m.F.instance_norm(x, weight=w, bias=b),
], ids=["batch", "layer", "group", "instance"])
def test_norm_double_backward_matches_torch(fn):
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal(3), rng.standard_normal(3)
    ex, ew, eb = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    eg = ember.autograd.grad((fn(EM, ex, ew, eb) ** 3).sum(), (ex, ew), create_graph=True)
    tg = torch.autograd.grad((fn(TH, tx, tw, tb) ** 3).sum(), (tx, tw), create_graph=True)
    ((eg[0] ** 2).sum() + (eg[1] ** 2).sum()).backward()
    ((tg[0] ** 2).sum() + (tg[1] ** 2).sum()).backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_batch_norm_keeps_float32():
    x = ember.randn(4, 3, 2, 2, requires_grad=True)
    y = F.batch_norm(x, ember.zeros(3), ember.ones(3), ember.ones(3, requires_grad=True), ember.zeros(3),
                     training=True)
    y.sum().backward()
    assert y.dtype is ember.float32 and x.grad.dtype is ember.float32


def _x(*shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


ERRORS = [
    ("bn_one_value", "more than 1 value per channel", lambda m: m.F.batch_norm(m.t.tensor(_x(1, 3)), m.t.zeros(3), m.t.ones(3), training=True),
     ValueError),
    ("bn_running_size", "running_mean", lambda m: m.F.batch_norm(m.t.tensor(_x(2, 3)), m.t.zeros(4), m.t.ones(4),
                                                                 training=True), RuntimeError),
    ("bn_weight_size", "weight", lambda m: m.F.batch_norm(m.t.tensor(_x(2, 3)), m.t.zeros(3), m.t.ones(3),
                                                          m.t.tensor(_x(4)), training=True), RuntimeError),
    ("bn_eval_no_stats", "batch_norm", lambda m: m.F.batch_norm(m.t.tensor(_x(2, 3)), None, None, training=False),
     RuntimeError),
    ("in_one_spatial", "more than 1 spatial element", lambda m: m.F.instance_norm(m.t.tensor(_x(2, 3, 1))), ValueError),
    ("ln_shape", "layer_norm", lambda m: m.F.layer_norm(m.t.tensor(_x(3, 4)), (5,)), RuntimeError),
    ("ln_weight", "layer_norm", lambda m: m.F.layer_norm(m.t.tensor(_x(3, 4)), (4,), m.t.tensor(_x(5))),
     RuntimeError),
    ("ln_int_shape", "layer_norm", lambda m: m.F.layer_norm(m.t.tensor(_x(3, 4)), 4), TypeError),
    ("gn_divisible", "group_norm", lambda m: m.F.group_norm(m.t.tensor(_x(2, 6, 4)), 4), RuntimeError),
    ("gn_weight", "group_norm", lambda m: m.F.group_norm(m.t.tensor(_x(2, 6, 4)), 3, m.t.tensor(_x(5))),
     RuntimeError),
    ("gn_dims", "group_norm", lambda m: m.F.group_norm(m.t.tensor(_x(2)), 1), RuntimeError),
    ("normalize_dim", "normalize", lambda m: m.F.normalize(m.t.tensor(_x(3, 4)), dim=2), IndexError),
    ("cosine_shapes", "broadcast", lambda m: m.F.cosine_similarity(m.t.tensor(_x(3, 4)), m.t.tensor(_x(3, 5))), RuntimeError),
    ("pdist_shapes", "size of tensor", lambda m: m.F.pairwise_distance(m.t.tensor(_x(3, 4)), m.t.tensor(_x(3, 5))), RuntimeError),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_norm_errors_match_torch(case):
    _, op, fn, exc = case
    with pytest.raises(exc):
        fn(TH)
    with pytest.raises(exc, match=op):
        fn(EM)


def test_norm_error_messages_name_shapes():
    with pytest.raises(ValueError, match=r"got input size ember\.Size\(\[1, 3\]\)"):
        F.batch_norm(ember.zeros(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"input of shape \[2, 6, 4\] and num_groups=4"):
        F.group_norm(ember.zeros(2, 6, 4), 4)
