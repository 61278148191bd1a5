"""conv1d/conv2d and their transposes against torch: forward and gradients of input, weight and bias in float32
and float64, numerical gradcheck and double backward in float64, random geometries (hypothesis), error paths."""
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_F
from hypothesis import assume, given, settings, strategies as st

import ember
import ember.nn.functional as F
from oracle import check_op, gradcheck

EM = types.SimpleNamespace(F=F, t=ember)
TH = types.SimpleNamespace(F=torch_F, t=torch)
DTYPES = [np.float32, np.float64]
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")
TOL32 = dict(rtol=1e-4, atol=1e-5)  # GEMM summation order differs from torch's kernels


def arrays(*shapes):
    return lambda rng, dt: [rng.standard_normal(s).astype(dt) if s is not None else None for s in shapes]


# (id, fn(m, *arrays), shapes of x, weight, bias)
CASES = [
    ("conv2d_basic", lambda m, x, w, b: m.F.conv2d(x, w, b), [(2, 3, 7, 6), (4, 3, 3, 3), (4,)]),
    ("conv2d_nobias", lambda m, x, w: m.F.conv2d(x, w), [(2, 3, 7, 6), (4, 3, 3, 3)]),
    ("conv2d_stride_pad", lambda m, x, w, b: m.F.conv2d(x, w, b, stride=2, padding=1), [(2, 3, 9, 8), (5, 3, 3, 3), (5,)]),
    ("conv2d_asym", lambda m, x, w, b: m.F.conv2d(x, w, b, stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
     [(2, 2, 9, 8), (3, 2, 3, 2), (3,)]),
    ("conv2d_dilation", lambda m, x, w, b: m.F.conv2d(x, w, b, dilation=2, padding=2), [(1, 3, 8, 8), (2, 3, 3, 3), (2,)]),
    ("conv2d_groups", lambda m, x, w, b: m.F.conv2d(x, w, b, groups=2, padding=1), [(2, 4, 6, 6), (6, 2, 3, 3), (6,)]),
    ("conv2d_depthwise", lambda m, x, w: m.F.conv2d(x, w, groups=3, padding=1), [(2, 3, 5, 5), (6, 1, 3, 3)]),
    ("conv2d_same_even", lambda m, x, w, b: m.F.conv2d(x, w, b, padding="same"), [(2, 3, 6, 7), (4, 3, 2, 4), (4,)]),
    ("conv2d_same_dil", lambda m, x, w: m.F.conv2d(x, w, padding="same", dilation=(2, 3)), [(1, 2, 7, 9), (3, 2, 3, 2)]),
    ("conv2d_valid", lambda m, x, w: m.F.conv2d(x, w, padding="valid"), [(2, 3, 5, 6), (4, 3, 2, 2)]),
    ("conv2d_1x1", lambda m, x, w, b: m.F.conv2d(x, w, b), [(2, 5, 4, 3), (3, 5, 1, 1), (3,)]),
    ("conv2d_patchify", lambda m, x, w, b: m.F.conv2d(x, w, b, stride=2), [(2, 3, 8, 6), (4, 3, 2, 2), (4,)]),
    ("conv2d_stride_gt_kernel", lambda m, x, w: m.F.conv2d(x, w, stride=3), [(1, 2, 8, 8), (2, 2, 2, 2)]),
    ("conv2d_unbatched", lambda m, x, w, b: m.F.conv2d(x, w, b, padding=1), [(3, 5, 5), (2, 3, 3, 3), (2,)]),
    ("conv1d_basic", lambda m, x, w, b: m.F.conv1d(x, w, b), [(2, 3, 9), (4, 3, 3), (4,)]),
    ("conv1d_all", lambda m, x, w, b: m.F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2),
     [(2, 4, 11), (6, 2, 3), (6,)]),
    ("conv1d_same", lambda m, x, w: m.F.conv1d(x, w, padding="same"), [(2, 3, 8), (2, 3, 4)]),
    ("conv1d_unbatched", lambda m, x, w: m.F.conv1d(x, w, stride=2), [(3, 9), (2, 3, 3)]),
    ("convT2d_basic", lambda m, x, w, b: m.F.conv_transpose2d(x, w, b), [(2, 3, 5, 4), (3, 4, 3, 3), (4,)]),
    ("convT2d_stride", lambda m, x, w, b: m.F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     [(2, 3, 4, 5), (3, 2, 3, 3), (2,)]),
    ("convT2d_all", lambda m, x, w, b: m.F.conv_transpose2d(x, w, b, stride=(2, 3), padding=(1, 0),
                                                            output_padding=(1, 2), groups=2, dilation=(1, 2)),
     [(2, 4, 4, 3), (4, 3, 3, 2), (6,)]),
    ("convT2d_outpad_dil", lambda m, x, w: m.F.conv_transpose2d(x, w, dilation=3, output_padding=2),
     [(1, 2, 4, 4), (2, 3, 2, 2)]),
    ("convT2d_unbatched", lambda m, x, w: m.F.conv_transpose2d(x, w, stride=2), [(2, 3, 3), (2, 3, 2, 2)]),
    ("convT1d_basic", lambda m, x, w, b: m.F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1),
     [(2, 3, 6), (3, 4, 3), (4,)]),
    ("convT1d_groups", lambda m, x, w: m.F.conv_transpose1d(x, w, groups=3, dilation=2), [(2, 6, 5), (6, 1, 3)]),
    ("unfold", lambda m, x: m.F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [(2, 3, 6, 7)]),
    ("unfold_unbatched", lambda m, x: m.F.unfold(x, 2), [(3, 4, 5)]),
    ("fold", lambda m, c: m.F.fold(c, (5, 6), (2, 3), dilation=(2, 1), padding=(1, 0), stride=(1, 2)), [(2, 12, 10)]),
    ("fold_unbatched", lambda m, c: m.F.fold(c, 4, 2, stride=2), [(8, 4)]),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_conv_matches_torch(case, dtype):
    _, fn, shapes = case
    xs = arrays(*shapes)(np.random.default_rng(1), dtype)
    tol = TOL32 if dtype == np.float32 else {}
    check_op(lambda *a: fn(EM, *a), lambda *a: fn(TH, *a), *xs, **tol)


GRADCHECK = [  # small float64 problems for the numerical check
    ("conv2d_stride_pad", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(1, 2, 5, 4), (2, 2, 3, 3), (2,)]),
    ("conv2d_groups_dil", lambda x, w, b: F.conv2d(x, w, b, groups=2, dilation=(2, 1), padding=(2, 0)),
     [(1, 4, 4, 3), (2, 2, 2, 2), (2,)]),
    ("conv2d_same_even", lambda x, w: F.conv2d(x, w, padding="same"), [(1, 2, 4, 3), (2, 2, 2, 3)]),
    ("conv1d_all", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2),
     [(1, 4, 7), (2, 2, 3), (2,)]),
    ("convT2d_all", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                                       groups=2), [(1, 2, 3, 2), (2, 2, 2, 3), (4,)]),
    ("convT1d", lambda x, w: F.conv_transpose1d(x, w, stride=3, dilation=2, output_padding=1), [(2, 2, 3), (2, 1, 2)]),
    ("unfold", lambda x: F.unfold(x, 2, padding=1, stride=2), [(1, 2, 3, 4)]),
    ("fold", lambda c: F.fold(c, (3, 4), 2, padding=1, stride=1), [(1, 8, 20)]),
]


@pytest.mark.parametrize("case", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_conv_gradcheck(case):
    _, fn, shapes = case
    assert gradcheck(fn, *arrays(*shapes)(np.random.default_rng(2), np.float64))


@pytest.mark.parametrize("op,xs,ws,kw", [
    ("conv2d", (1, 2, 5, 4), (3, 2, 2, 3), dict(stride=2, padding=1)),
    ("conv2d", (2, 4, 4, 4), (2, 2, 3, 3), dict(groups=2, dilation=(1, 2), padding="same")),
    ("conv_transpose2d", (1, 2, 3, 3), (2, 3, 2, 2), dict(stride=2, output_padding=1)),
    ("conv1d", (2, 2, 6), (3, 2, 3), dict(stride=2, padding=1)),
])
def test_conv_double_backward_matches_torch(op, xs, ws, kw):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    ex, ew = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    eg = ember.autograd.grad((getattr(F, op)(ex, ew, **kw) ** 2).sum(), (ex, ew), create_graph=True)
    tg = torch.autograd.grad((getattr(torch_F, op)(tx, tw, **kw) ** 2).sum(), (tx, tw), create_graph=True)
    ((eg[0] ** 2).sum() + (eg[1] ** 3).sum()).backward()
    ((tg[0] ** 2).sum() + (tg[1] ** 3).sum()).backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_conv_gradgradcheck():
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((2, 1, 2, 2)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(2), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2), (x, w, b))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), groups=st.integers(1, 2), cpg=st.integers(1, 3), opg=st.integers(1, 2),
       size=st.tuples(st.integers(3, 9), st.integers(3, 9)), k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), pad=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       dil=st.tuples(st.integers(1, 2), st.integers(1, 2)), bias=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_conv2d_random_geometry(n, groups, cpg, opg, size, k, stride, pad, dil, bias, seed):
    eff = [d * (kk - 1) + 1 for d, kk in zip(dil, k)]
    assume(all(s + 2 * p >= e for s, p, e in zip(size, pad, eff)))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, groups * cpg) + size)
    w = rng.standard_normal((groups * opg, cpg) + k)
    b = rng.standard_normal(groups * opg) if bias else None
    kw = dict(stride=stride, padding=pad, dilation=dil, groups=groups)
    check_op(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: torch_F.conv2d(x, w, b, **kw), x, w, b)
    out_pad = tuple(min(s, d) - 1 for s, d in zip(stride, dil))
    wt = rng.standard_normal((groups * cpg, opg) + k)
    bt = rng.standard_normal(groups * opg) if bias else None
    kwt = dict(stride=stride, padding=tuple(min(p, e // 2) for p, e in zip(pad, eff)), dilation=dil, groups=groups,
               output_padding=out_pad)
    check_op(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwt), lambda x, w, b: torch_F.conv_transpose2d(x, w, b, **kwt),
             x, wt, bt)


# Geometries large enough to take each kernel path (_conv_kernels): im2col layout, weight-gradient plan, and col2im
# (dX by W^T @ g + col2im) vs the flipped-weight convolution. (id, x, w, kwargs, batch_minor, dW plan, col2im)
PATHS = [
    ("minor_col2im", (3, 8, 7, 6), (16, 8, 3, 3), dict(padding=1), True, "one_gemm", True),
    ("minor_strided", (4, 8, 9, 11), (16, 8, 3, 3), dict(stride=(2, 3), padding=(1, 2)), True, "one_gemm", True),
    ("minor_groups_dil", (3, 16, 9, 9), (16, 8, 3, 3), dict(groups=2, dilation=2, padding=(2, 1), stride=(1, 2)),
     True, "one_gemm", True),
    ("minor_patchify", (2, 8, 8, 12), (16, 8, 4, 4), dict(stride=4), True, "one_gemm", True),
    ("minor_pieces", (67, 8, 10, 10), (8, 8, 3, 3), {}, True, "pieces", False),
    ("major_pieces", (20, 2, 32, 32), (3, 2, 3, 3), dict(stride=2, padding=1), False, "pieces", True),
    ("major_per_sample", (3, 4, 24, 24), (4, 2, 3, 3), dict(groups=2, padding=1), False, "per_sample", False),
    ("major_per_sample_pad", (2, 1, 28, 28), (6, 1, 5, 5), dict(padding=2), False, "per_sample", True),
]


@pytest.mark.parametrize("needs", ["x,w,b", "w,b", "x"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", PATHS, ids=[c[0] for c in PATHS])
def test_conv2d_kernel_paths_match_torch(case, dtype, needs):
    from ember.ops._conv_kernels import ConvGeom, _flipped_geom, _weight_grad_plan

    _, xs, ws, kw, minor, plan, col2im = case
    s, d, p = ((v, v) if isinstance(v, int) else v for v in (kw.get("stride", 1), kw.get("dilation", 1),
                                                             kw.get("padding", 0)))
    gm = ConvGeom(xs, ws, s, d, ((p[0], p[0]), (p[1], p[1])), kw.get("groups", 1))
    assert (gm.oh, gm.ow) == tuple(F.conv2d(ember.zeros(*xs), ember.zeros(*ws), **kw).shape[2:])
    assert (gm.batch_minor, _weight_grad_plan(gm), _flipped_geom(gm) is None) == (minor, plan, col2im), \
        "the case no longer takes the path it is meant to test"
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (xs, ws, (ws[0],))]
    wanted = needs.split(",")
    em = [ember.tensor(a, requires_grad=n in wanted) for a, n in zip(arrays, "xwb")]
    th = [torch.tensor(a, requires_grad=n in wanted) for a, n in zip(arrays, "xwb")]
    ey, ty = F.conv2d(*em, **kw), torch_F.conv2d(*th, **kw)
    r = 1e-4 if dtype == np.float32 else 1e-10
    scale = float(np.abs(ty.detach().numpy()).max())
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=r, atol=r * scale)
    gy = rng.standard_normal(ty.shape).astype(dtype)
    (ey * ember.tensor(gy)).sum().backward()
    (ty * torch.tensor(gy)).sum().backward()
    for name, e, t in zip("xwb", em, th):
        if name not in wanted:
            assert e.grad is None
            continue
        scale = float(np.abs(t.grad.numpy()).max())
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=r, atol=r * scale, err_msg=f"grad of {name}")


def test_conv_keeps_float32_and_grad_fn():
    x = ember.randn(2, 3, 5, 5, requires_grad=True)
    w = ember.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.dtype is ember.float32 and y.grad_fn.name() == "ConvolutionBackward0"
    y.sum().backward()
    assert x.grad.dtype is ember.float32 and w.grad.dtype is ember.float32
    with ember.no_grad():
        assert F.conv2d(x, w).grad_fn is None


def test_conv_inplace_change_of_input_is_caught():
    x = ember.randn(1, 2, 4, 4, requires_grad=True)
    w = ember.randn(2, 2, 3, 3, requires_grad=True)
    h = x * 1
    y = F.conv2d(h, w)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def _t(*shape, dtype=np.float32):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


ERRORS = [
    ("dims", "conv2d", lambda m: m.F.conv2d(m.t.tensor(_t(2, 3)), m.t.tensor(_t(4, 3, 3, 3))), RuntimeError),
    ("channels", "conv2d", lambda m: m.F.conv2d(m.t.tensor(_t(2, 5, 8, 8)), m.t.tensor(_t(4, 3, 3, 3))), RuntimeError),
    ("groups_weight", "conv2d", lambda m: m.F.conv2d(m.t.tensor(_t(2, 4, 8, 8)), m.t.tensor(_t(3, 2, 3, 3)), groups=2),
     RuntimeError),
    ("groups_channels", "conv2d",
     lambda m: m.F.conv2d(m.t.tensor(_t(2, 6, 8, 8)), m.t.tensor(_t(4, 2, 3, 3)), groups=4), RuntimeError),
    ("groups_zero", "conv2d", lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3, 3)), groups=0),
     RuntimeError),
    ("kernel_too_big", "conv2d", lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 2, 2)), m.t.tensor(_t(4, 3, 3, 3))),
     RuntimeError),
    ("same_strided", "conv2d",
     lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3, 3)), stride=2, padding="same"),
     RuntimeError),
    ("bad_padding_string", "conv2d",
     lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3, 3)), padding="foo"), RuntimeError),
    ("negative_padding", "conv2d",
     lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3, 3)), padding=-1), RuntimeError),
    ("zero_stride", "conv2d", lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3, 3)), stride=0),
     RuntimeError),
    ("zero_dilation", "conv2d",
     lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3, 3)), dilation=0), RuntimeError),
    ("stride_len", "conv2d",
     lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3, 3)), stride=(1, 2, 3)), RuntimeError),
    ("bias_size", "conv2d",
     lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3, 3)), m.t.tensor(_t(5))), RuntimeError),
    ("dtype", "conv2d", lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8, dtype=np.float64)), m.t.tensor(_t(4, 3, 3, 3))),
     RuntimeError),
    ("bias_dtype", "conv2d", lambda m: m.F.conv2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3, 3)),
                                                  m.t.tensor(_t(4, dtype=np.float64))), RuntimeError),
    ("conv1d_channels", "conv1d", lambda m: m.F.conv1d(m.t.tensor(_t(2, 5, 8)), m.t.tensor(_t(4, 3, 3))), RuntimeError),
    ("conv1d_dims", "conv1d", lambda m: m.F.conv1d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(4, 3, 3))), RuntimeError),
    ("convT_channels", "conv_transpose2d",
     lambda m: m.F.conv_transpose2d(m.t.tensor(_t(2, 5, 8, 8)), m.t.tensor(_t(3, 4, 3, 3))), RuntimeError),
    ("convT_groups", "conv_transpose2d",
     lambda m: m.F.conv_transpose2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(3, 4, 3, 3)), groups=2), RuntimeError),
    ("convT_output_padding", "conv_transpose2d",
     lambda m: m.F.conv_transpose2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(3, 4, 3, 3)), stride=2,
                                    output_padding=2), RuntimeError),
    ("unfold_dims", "unfold", lambda m: m.F.unfold(m.t.tensor(_t(2, 3)), 2), IndexError),
    ("unfold_5d", "unfold", lambda m: m.F.unfold(m.t.tensor(_t(1, 2, 3, 4, 5)), 2), RuntimeError),
    ("fold_blocks", "fold", lambda m: m.F.fold(m.t.tensor(_t(1, 8, 5)), (3, 4), 2), RuntimeError),
    ("fold_divisible", "fold", lambda m: m.F.fold(m.t.tensor(_t(1, 7, 6)), (3, 4), 2), RuntimeError),
    ("convT_padding_string", "conv_transpose2d",
     lambda m: m.F.conv_transpose2d(m.t.tensor(_t(2, 3, 8, 8)), m.t.tensor(_t(3, 4, 3, 3)), padding="same"),
     TypeError),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_conv_errors_match_torch(case):
    _, op, fn, exc = case
    with pytest.raises(exc):
        fn(TH)
    with pytest.raises(exc, match=op):
        fn(EM)


def test_conv_error_messages_name_shapes():
    with pytest.raises(RuntimeError, match=r"weight of size \[4, 3, 3, 3\], expected input\[2, 5, 8, 8\] to have 3 "
                                           r"channels, but got 5 channels"):
        F.conv2d(ember.zeros(2, 5, 8, 8), ember.zeros(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"divisible by 2 at dimension 0, but got weight of size \[3, 2, 3, 3\]"):
        F.conv2d(ember.zeros(2, 4, 8, 8), ember.zeros(3, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match=r"input of size: \[2, 3\]"):
        F.conv2d(ember.zeros(2, 3), ember.zeros(4, 3, 3, 3))
