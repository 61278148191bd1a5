"""Losses against torch, for every reduction: forward and gradients (input, and target where torch has one) in
float32/float64, gradcheck in float64, torch's warnings, and its refusals (exception type and ember.Size wording)."""
import types
import warnings

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
REDUCTIONS = ["mean", "sum", "none"]
TOL32 = dict(rtol=2e-5, atol=2e-6)


def randn(*shapes):
    return lambda rng, dt: [rng.standard_normal(s).astype(dt) for s in shapes]


def probs(*shapes):
    return lambda rng, dt: [rng.uniform(0.05, 0.95, s).astype(dt) for s in shapes]


def classes(x_shape, n_classes, ignore=None):
    """Logits and int64 targets (some set to ``ignore``)."""
    def make(rng, dt):
        t_shape = (x_shape[0],) + tuple(x_shape[2:]) if len(x_shape) > 1 else ()
        t = rng.integers(0, n_classes, t_shape)
        if ignore is not None:
            t = np.where(rng.random(t_shape) < 0.3, ignore, t)
        return [rng.standard_normal(x_shape).astype(dt) * 2, np.asarray(t, dtype=np.int64)]
    return make


def weights(m, n, like):
    """Class weights (constants: torch refuses gradients for them)."""
    return m.t.tensor(np.linspace(0.3, 2.0, n), dtype=like.dtype)


def soft_targets(shape, dim=1):
    def make(rng, dt):
        p = rng.random(shape)
        return [rng.standard_normal(shape).astype(dt), (p / p.sum(axis=dim, keepdims=True)).astype(dt)]
    return make


def signs(*shapes, last_sign_shape):
    def make(rng, dt):
        return [rng.standard_normal(s).astype(dt) for s in shapes] + \
            [np.where(rng.random(last_sign_shape) < 0.5, -1.0, 1.0).astype(dt)]
    return make


SIGNS = np.where(np.random.default_rng(9).random((4, 5)) < 0.5, -1.0, 1.0)  # soft_margin's target (no grad)

# (id, fn(m, *arrays, reduction), make)
CASES = [
    ("mse", lambda m, x, y, r: m.F.mse_loss(x, y, reduction=r), randn((4, 5), (4, 5))),
    ("mse_weight", lambda m, x, y, w, r: m.F.mse_loss(x, y, reduction=r, weight=w.abs()), randn((4, 5), (4, 5), (4, 5))),
    ("l1", lambda m, x, y, r: m.F.l1_loss(x, y, reduction=r), randn((4, 5), (4, 5))),
    ("smooth_l1", lambda m, x, y, r: m.F.smooth_l1_loss(x, y, reduction=r), randn((4, 5), (4, 5))),
    ("smooth_l1_beta", lambda m, x, y, r: m.F.smooth_l1_loss(x, y, reduction=r, beta=0.5), randn((3, 7), (3, 7))),
    ("smooth_l1_beta0", lambda m, x, y, r: m.F.smooth_l1_loss(x, y, reduction=r, beta=0.0), randn((3, 7), (3, 7))),
    ("huber", lambda m, x, y, r: m.F.huber_loss(x, y, reduction=r), randn((4, 5), (4, 5))),
    ("huber_delta", lambda m, x, y, r: m.F.huber_loss(x, y, reduction=r, delta=0.3), randn((3, 7), (3, 7))),
    ("huber_weight", lambda m, x, y, w, r: m.F.huber_loss(x, y, reduction=r, delta=0.7, weight=w),
     randn((3, 7), (3, 7), (3, 7))),
    ("ce", lambda m, x, t, r: m.F.cross_entropy(x, t, reduction=r), classes((6, 5), 5)),
    ("ce_weight_ignore", lambda m, x, t, r: m.F.cross_entropy(x, t, weights(m, 5, x), ignore_index=-1, reduction=r),
     classes((8, 5), 5, ignore=-1)),
    ("ce_nd", lambda m, x, t, r: m.F.cross_entropy(x, t, reduction=r, ignore_index=2), classes((3, 4, 2, 3), 4)),
    ("ce_nd_weight", lambda m, x, t, r: m.F.cross_entropy(x, t, weights(m, 4, x), reduction=r), classes((3, 4, 5), 4)),
    ("ce_unbatched", lambda m, x, t, r: m.F.cross_entropy(x, t, reduction=r), classes((5,), 5)),
    ("ce_smoothing", lambda m, x, t, r: m.F.cross_entropy(x, t, reduction=r, label_smoothing=0.2),
     classes((6, 5), 5)),
    ("ce_smoothing_weight_ignore", lambda m, x, t, r: m.F.cross_entropy(x, t, weights(m, 4, x), ignore_index=-100,
                                                                         reduction=r, label_smoothing=0.3),
     classes((7, 4, 3), 4, ignore=-100)),
    ("ce_probs", lambda m, x, p, r: m.F.cross_entropy(x, p, reduction=r), soft_targets((5, 4))),
    ("ce_probs_nd_smooth", lambda m, x, p, r: m.F.cross_entropy(x, p, reduction=r, label_smoothing=0.1),
     soft_targets((3, 4, 2))),
    ("ce_probs_weight", lambda m, x, p, r: m.F.cross_entropy(x, p, weights(m, 4, x), reduction=r),
     soft_targets((5, 4))),
    ("nll", lambda m, x, t, r: m.F.nll_loss(m.F.log_softmax(x, 1), t, reduction=r), classes((6, 5), 5)),
    ("nll_raw_weight", lambda m, x, t, r: m.F.nll_loss(x, t, weights(m, 5, x), reduction=r, ignore_index=0),
     classes((6, 5), 5)),
    ("nll_nd", lambda m, x, t, r: m.F.nll_loss(x, t, reduction=r), classes((2, 3, 4), 3)),
    ("bce", lambda m, x, y, r: m.F.binary_cross_entropy(x, y, reduction=r), probs((4, 5), (4, 5))),
    ("bce_weight", lambda m, x, y, r: m.F.binary_cross_entropy(x, y, m.t.tensor(np.linspace(0.5, 2, 5), dtype=x.dtype),
                                                               reduction=r), probs((4, 5), (4, 5))),
    ("bce_logits", lambda m, x, y, r: m.F.binary_cross_entropy_with_logits(x, y, reduction=r), randn((4, 5), (4, 5))),
    ("bce_logits_0d", lambda m, x, y, r: m.F.binary_cross_entropy_with_logits(x * 3, y.sigmoid(), reduction=r),
     randn((), ())),
    ("bce_logits_0d_pos_weight", lambda m, x, y, r: m.F.binary_cross_entropy_with_logits(
        x * 3, y.sigmoid(), reduction=r, pos_weight=m.t.tensor(2.5, dtype=x.dtype)), randn((), ())),
    ("bce_logits_weights", lambda m, x, y, r: m.F.binary_cross_entropy_with_logits(
        x * 4, y.sigmoid(), m.t.tensor(np.linspace(0.5, 2, 5), dtype=x.dtype), reduction=r,
        pos_weight=m.t.tensor(np.linspace(3, 0.5, 5), dtype=x.dtype)), randn((4, 5), (4, 5))),
    ("kl_div", lambda m, x, y, r: m.F.kl_div(x.log_softmax(1), y, reduction=r), probs((4, 5), (4, 5))),
    ("kl_div_log_target", lambda m, x, y, r: m.F.kl_div(x.log_softmax(1), y.log(), reduction=r, log_target=True),
     probs((4, 5), (4, 5))),
    ("cosine_embedding", lambda m, a, b, y, r: m.F.cosine_embedding_loss(a, b, y, margin=0.2, reduction=r),
     signs((6, 4), (6, 4), last_sign_shape=(6,))),
    ("cosine_embedding_1d", lambda m, a, b, r: m.F.cosine_embedding_loss(a, b, m.t.tensor(-1), reduction=r),
     randn((4,), (4,))),
    ("margin_ranking", lambda m, a, b, y, r: m.F.margin_ranking_loss(a, b, y, margin=0.3, reduction=r),
     signs((7,), (7,), last_sign_shape=(7,))),
    ("soft_margin", lambda m, x, r: m.F.soft_margin_loss(x, m.t.tensor(SIGNS, dtype=x.dtype), reduction=r),
     randn((4, 5))),
    ("hinge_embedding", lambda m, x, y, r: m.F.hinge_embedding_loss(x, y, margin=0.5, reduction=r),
     signs((4, 5), last_sign_shape=(4, 5))),
    ("triplet", lambda m, a, p, n, r: m.F.triplet_margin_loss(a, p, n, reduction=r), randn((5, 4), (5, 4), (5, 4))),
    ("triplet_swap_p1", lambda m, a, p, n, r: m.F.triplet_margin_loss(a, p, n, margin=0.5, p=1, swap=True,
                                                                      reduction=r), randn((5, 4), (5, 4), (5, 4))),
    ("triplet_distance", lambda m, a, p, n, r: m.F.triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda u, v: 1 - m.F.cosine_similarity(u, v), swap=True, reduction=r),
     randn((5, 4), (5, 4), (5, 4))),
    ("poisson_nll", lambda m, x, y, r: m.F.poisson_nll_loss(x, y.abs() * 3, reduction=r), randn((4, 5), (4, 5))),
    ("poisson_nll_full", lambda m, x, y, r: m.F.poisson_nll_loss(x.abs() + 0.1, y.abs() * 3, log_input=False,
                                                                  full=True, reduction=r), randn((4, 5), (4, 5))),
    ("gaussian_nll", lambda m, x, y, v, r: m.F.gaussian_nll_loss(x, y, v.abs() + 0.1, reduction=r),
     randn((4, 5), (4, 5), (4, 5))),
    ("gaussian_nll_full_bcast", lambda m, x, y, v, r: m.F.gaussian_nll_loss(x, y, v.abs() + 0.1, full=True,
                                                                            reduction=r), randn((4, 5), (4, 5), (4,))),
    ("multilabel_soft_margin", lambda m, x, y, r: m.F.multilabel_soft_margin_loss(x, (y > 0).to(x.dtype),
                                                                                  reduction=r), randn((4, 5), (4, 5))),
    ("multi_margin", lambda m, x, t, r: m.F.multi_margin_loss(x, t, reduction=r), classes((6, 5), 5)),
    ("multi_margin_p2_weight", lambda m, x, t, r: m.F.multi_margin_loss(x, t, p=2, margin=0.5, weight=weights(m, 5, x),
                                                                        reduction=r), classes((6, 5), 5)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(case, dtype, reduction):
    _, fn, make = case
    xs = make(np.random.default_rng(1), dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div 'mean' warns on both sides
        check_op(lambda *a: fn(EM, *a, reduction), lambda *a: fn(TH, *a, reduction), *xs,
                 **(TOL32 if dtype == np.float32 else {}))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_gradcheck(case):
    _, fn, make = case
    xs = make(np.random.default_rng(2), np.float64)
    ints = [ember.tensor(a) if a.dtype.kind == "i" else None for a in xs]
    assert gradcheck(lambda *a: fn(EM, *[i if i is not None else v for i, v in zip(ints, a)], "sum"), *xs)


@pytest.mark.parametrize("shape", [(64, 10), (128, 1000), (8, 5, 3, 4)])
def test_cross_entropy_is_log_softmax_then_nll_in_torch_arithmetic(shape):
    """Same steps and order as torch's CPU kernels: the float32 loss agrees to within one ulp (bit for bit on this
    machine; only exp/log implementations can differ), and the gradient to float32 rounding."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    e, tt = F.cross_entropy(ex, ember.tensor(t)), torch_F.cross_entropy(tx, torch.tensor(t))
    assert e.grad_fn.name() == "NllLossBackward0"
    assert abs(e.item() - tt.item()) <= np.spacing(np.float32(tt.item()))
    e.backward()
    tt.backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=0, atol=4 * np.spacing(np.float32(1 / shape[0])))


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x, t = np.zeros((3, 4), np.float32), np.full(3, -100)
    e = F.cross_entropy(ember.tensor(x), ember.tensor(t))
    assert np.isnan(e.item()) and np.isnan(torch_F.cross_entropy(torch.tensor(x), torch.tensor(t)).item())


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_binary_cross_entropy_clamps_log_like_torch():
    x = np.array([0.0, 1.0, 0.5, 1e-40], np.float64)
    y = np.array([1.0, 0.0, 0.5, 1.0], np.float64)
    check_op(lambda x, y: F.binary_cross_entropy(x, y, reduction="none"),
             lambda x, y: torch_F.binary_cross_entropy(x, y, reduction="none"), x, y)


def test_bce_with_logits_is_stable_for_large_logits():
    x = np.array([-200.0, -30.0, 0.0, 30.0, 200.0], np.float32)
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0], np.float32)
    check_op(lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
             lambda x, y: torch_F.binary_cross_entropy_with_logits(x, y, reduction="none"), x, y)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_size_mismatch_warns_and_broadcasts(name):
    x = np.random.default_rng(4).standard_normal((10, 1)).astype(np.float32)
    y = np.random.default_rng(5).standard_normal(10).astype(np.float32)
    with pytest.warns(UserWarning, match=r"target size \(ember\.Size\(\[10\]\)\) that is different to the input size "
                                         r"\(ember\.Size\(\[10, 1\]\)\)"):
        e = getattr(F, name)(ember.tensor(x), ember.tensor(y))
    with pytest.warns(UserWarning):
        t = getattr(torch_F, name)(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(e.item(), t.item(), rtol=1e-5)


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(ember.zeros(2, 3), ember.ones(2, 3) / 3)


def test_legacy_size_average_maps_to_reduction():
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    with pytest.warns(UserWarning, match="reduction='sum'"):
        e = F.mse_loss(ember.tensor(x), ember.tensor(y), size_average=False)
    assert e.item() == torch_F.mse_loss(torch.tensor(x), torch.tensor(y), reduction="sum").item()


def _x(*shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def _p(*shape):
    return np.random.default_rng(0).uniform(0.1, 0.9, shape).astype(np.float32)


def _i(*values):
    return np.array(values, dtype=np.int64)


ERRORS = [
    ("bce_logits_shape", r"Target size \(ember\.Size\(\[10\]\)\) must be the same as input size "
                         r"\(ember\.Size\(\[10, 1\]\)\)",
     lambda m: m.F.binary_cross_entropy_with_logits(m.t.tensor(_x(10, 1)), m.t.tensor(_x(10))), ValueError),
    ("bce_shape", r"target size \(ember\.Size\(\[10\]\)\)",
     lambda m: m.F.binary_cross_entropy(m.t.tensor(_p(10, 1)), m.t.tensor(_p(10))), ValueError),
    ("bce_range", "between 0 and 1", lambda m: m.F.binary_cross_entropy(m.t.tensor(_x(10) + 3), m.t.tensor(_p(10))),
     RuntimeError),
    ("bce_weight", "weight", lambda m: m.F.binary_cross_entropy(m.t.tensor(_p(10)), m.t.tensor(_p(10)),
                                                                m.t.tensor(_p(3))), RuntimeError),
    ("bce_logits_pos_weight", "pos_weight", lambda m: m.F.binary_cross_entropy_with_logits(
        m.t.tensor(_x(10)), m.t.tensor(_p(10)), pos_weight=m.t.tensor(_p(3))), RuntimeError),
    ("mse_broadcast", "size of tensor a", lambda m: m.F.mse_loss(m.t.tensor(_x(10, 3)), m.t.tensor(_x(10, 4))),
     RuntimeError),
    ("bad_reduction", "foo is not a valid value for reduction",
     lambda m: m.F.mse_loss(m.t.tensor(_x(3)), m.t.tensor(_x(3)), reduction="foo"), ValueError),
    ("ce_batchmean", "batchmean is not a valid",
     lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5)), m.t.tensor(_i(1, 2, 3)), reduction="batchmean"), ValueError),
    ("smooth_l1_beta", "smooth_l1_loss", lambda m: m.F.smooth_l1_loss(m.t.tensor(_x(3)), m.t.tensor(_x(3)), beta=-1),
     RuntimeError),
    ("huber_delta", "huber_loss", lambda m: m.F.huber_loss(m.t.tensor(_x(3)), m.t.tensor(_x(3)), delta=0),
     RuntimeError),
    ("mse_weight_shape", "Weights and input", lambda m: m.F.mse_loss(m.t.tensor(_x(3)), m.t.tensor(_x(3)),
                                                                     weight=m.t.tensor(_x(2))), ValueError),
    ("ce_target_range", "Target 7 is out of bounds",
     lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5)), m.t.tensor(_i(1, 2, 7))), IndexError),
    ("ce_target_negative", "Target -3 is out of bounds",
     lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5)), m.t.tensor(_i(1, 2, -3))), IndexError),
    ("ce_batch", r"Expected input batch_size \(3\) to match target batch_size \(2\)",
     lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5)), m.t.tensor(_i(1, 2))), ValueError),
    ("ce_spatial", r"Expected target size \[3, 4\], got \[3, 3\]",
     lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5, 4)), m.t.tensor(np.zeros((3, 3), np.int64))), RuntimeError),
    ("ce_float_target", "cross_entropy",
     lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5)), m.t.tensor(_x(3))), RuntimeError),
    ("ce_int32_target", "cross_entropy",
     lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5)), m.t.tensor(_i(1, 2, 3).astype(np.int32))), RuntimeError),
    ("ce_multi_target", "multi-target not supported",
     lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5)), m.t.tensor(_p(3, 4))), RuntimeError),
    ("ce_weight_size", "weight tensor should be defined either for all 5 classes",
     lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5)), m.t.tensor(_i(1, 2, 3)), m.t.tensor(_p(4))), RuntimeError),
    ("ce_smoothing", "label_smoothing", lambda m: m.F.cross_entropy(m.t.tensor(_x(3, 5)), m.t.tensor(_i(1, 2, 3)),
                                                                    label_smoothing=1.5), RuntimeError),
    ("nll_1d", "For 1D input", lambda m: m.F.nll_loss(m.t.tensor(_x(3)), m.t.tensor(_i(1, 2, 0))), ValueError),
    ("nll_batch", "batch_size", lambda m: m.F.nll_loss(m.t.tensor(_x(3, 5)), m.t.tensor(_i(1, 2))), ValueError),
    ("nll_target_range", "out of bounds", lambda m: m.F.nll_loss(m.t.tensor(_x(3, 5)), m.t.tensor(_i(1, 2, 7))),
     IndexError),
    ("kl_shapes", "size of tensor", lambda m: m.F.kl_div(m.t.tensor(_x(3, 4)), m.t.tensor(_x(3, 5)), reduction="sum"),
     RuntimeError),
    ("cosine_embedding_target", "size of tensor", lambda m: m.F.cosine_embedding_loss(m.t.tensor(_x(3, 4)), m.t.tensor(_x(3, 4)),
                                                                        m.t.tensor(_i(1, -1))), RuntimeError),
    ("margin_ranking_shapes", "size of tensor", lambda m: m.F.margin_ranking_loss(m.t.tensor(_x(3)), m.t.tensor(_x(4)),
                                                                    m.t.tensor(_x(3))), RuntimeError),
    ("triplet_dims", "same number of dimensions", lambda m: m.F.triplet_margin_loss(
        m.t.tensor(_x(3, 4)), m.t.tensor(_x(3, 4)), m.t.tensor(_x(3, 4, 2))), RuntimeError),
    ("triplet_margin", "margin must be greater than 0", lambda m: m.F.triplet_margin_loss(
        m.t.tensor(_x(3, 4)), m.t.tensor(_x(3, 4)), m.t.tensor(_x(3, 4)), margin=-1), ValueError),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_loss_errors_match_torch(case):
    _, pattern, fn, exc = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc):
            fn(TH)
        with pytest.raises(exc, match=pattern):
            fn(EM)


@pytest.mark.parametrize("fn,arg", [("binary_cross_entropy", "weight"),
                                    ("binary_cross_entropy_with_logits", "weight"),
                                    ("binary_cross_entropy_with_logits", "pos_weight")])
def test_bce_weights_that_require_grad_are_refused_like_torch(fn, arg):
    x = np.random.default_rng(0).uniform(0.1, 0.9, 3).astype(np.float32)
    for lib, F_ in ((torch, torch_F), (ember, F)):
        kw = {arg: lib.tensor(np.ones(3, np.float32), requires_grad=True)}
        with pytest.raises(RuntimeError, match=f"'{fn}' is not differentiable with respect to argument '{arg}'"):
            getattr(F_, fn)(lib.tensor(x, requires_grad=True), lib.tensor(x), **kw)
        with lib.no_grad():  # no graph, no refusal
            getattr(F_, fn)(lib.tensor(x), lib.tensor(x), **kw)
