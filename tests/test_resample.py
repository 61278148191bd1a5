"""Resampling against torch: F.interpolate (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area,
antialias; size vs scale_factor, recompute_scale_factor, align_corners; 3-D/4-D/5-D), the deprecated upsample
aliases, pixel_shuffle/pixel_unshuffle/channel_shuffle, the layers and their reprs; forward and input gradient in
float32/float64, gradcheck and double backward in float64, exact nearest indices, error paths."""
import re
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_F
from hypothesis import given, settings, strategies as st

import ember
import ember.nn.functional as F
from oracle import check_op, gradcheck

EM = types.SimpleNamespace(F=F, t=ember, nn=ember.nn)
TH = types.SimpleNamespace(F=torch_F, t=torch, nn=torch.nn)
DTYPES = [np.float32, np.float64]


def _interp(**kw):
    return lambda m, x: m.F.interpolate(x, **kw)


# (id, input shape, interpolate keyword arguments)
INTERP_CASES = [
    ("nearest1d_size_up", (2, 3, 5), dict(size=12)),
    ("nearest1d_size_down", (2, 3, 11), dict(size=4)),
    ("nearest1d_scale_1.5", (2, 3, 7), dict(scale_factor=1.5)),
    ("nearest1d_scale_0.7", (2, 3, 10), dict(scale_factor=0.7)),
    ("nearest2d_scale2", (2, 3, 4, 5), dict(scale_factor=2)),
    ("nearest2d_size_nonsquare", (2, 3, 5, 7), dict(size=(9, 4))),
    ("nearest2d_scale_tuple", (2, 3, 5, 7), dict(scale_factor=(1.5, 0.7))),
    ("nearest2d_scale_recompute", (2, 3, 5, 7), dict(scale_factor=2.1, recompute_scale_factor=True)),
    ("nearest2d_scale_no_recompute", (2, 3, 5, 7), dict(scale_factor=2.1, recompute_scale_factor=False)),
    ("nearest2d_same_size", (2, 3, 5, 7), dict(size=(5, 7))),
    ("nearest3d", (1, 2, 3, 4, 5), dict(scale_factor=(2, 1.5, 0.7))),
    ("nearest_exact1d", (2, 3, 7), dict(size=16, mode="nearest-exact")),
    ("nearest_exact2d_down", (2, 3, 9, 8), dict(size=(4, 5), mode="nearest-exact")),
    ("nearest_exact2d_scale", (2, 3, 5, 7), dict(scale_factor=1.7, mode="nearest-exact")),
    ("nearest_exact3d", (1, 2, 3, 4, 5), dict(size=(5, 3, 8), mode="nearest-exact")),
    ("linear_up", (2, 3, 5), dict(size=12, mode="linear")),
    ("linear_up_ac", (2, 3, 5), dict(size=12, mode="linear", align_corners=True)),
    ("linear_down", (2, 3, 13), dict(scale_factor=0.45, mode="linear")),
    ("linear_down_ac", (2, 3, 13), dict(scale_factor=0.45, mode="linear", align_corners=True)),
    ("linear_scale_1.5_recompute", (2, 3, 7), dict(scale_factor=1.5, mode="linear", recompute_scale_factor=True)),
    ("linear_to_1", (2, 3, 6), dict(size=1, mode="linear", align_corners=True)),
    ("linear_from_1", (2, 3, 1), dict(size=4, mode="linear")),
    ("linear_same_size", (2, 3, 6), dict(size=6, mode="linear")),
    ("bilinear_scale2", (2, 3, 4, 5), dict(scale_factor=2, mode="bilinear")),
    ("bilinear_scale2_ac", (2, 3, 4, 5), dict(scale_factor=2, mode="bilinear", align_corners=True)),
    ("bilinear_size_nonsquare", (2, 3, 6, 5), dict(size=(3, 11), mode="bilinear")),
    ("bilinear_size_nonsquare_ac", (2, 3, 6, 5), dict(size=(3, 11), mode="bilinear", align_corners=True)),
    ("bilinear_scale_tuple", (2, 3, 6, 5), dict(scale_factor=(1.5, 0.7), mode="bilinear")),
    ("bilinear_scale_0.7_ac", (2, 3, 9, 8), dict(scale_factor=0.7, mode="bilinear", align_corners=True)),
    ("bicubic_up", (2, 3, 4, 5), dict(size=(9, 7), mode="bicubic")),
    ("bicubic_up_ac", (2, 3, 4, 5), dict(size=(9, 7), mode="bicubic", align_corners=True)),
    ("bicubic_down", (2, 3, 9, 8), dict(scale_factor=0.6, mode="bicubic")),
    ("bicubic_scale_1.5_ac", (2, 3, 5, 4), dict(scale_factor=1.5, mode="bicubic", align_corners=True)),
    ("trilinear", (1, 2, 3, 4, 5), dict(scale_factor=(2, 1.5, 0.7), mode="trilinear")),
    ("trilinear_ac", (1, 2, 3, 4, 5), dict(size=(5, 2, 7), mode="trilinear", align_corners=True)),
    ("bilinear_aa_down", (2, 3, 12, 10), dict(size=(5, 4), mode="bilinear", antialias=True)),
    ("bilinear_aa_down_ac", (2, 3, 12, 10), dict(size=(5, 4), mode="bilinear", antialias=True, align_corners=True)),
    ("bilinear_aa_up", (2, 3, 4, 5), dict(scale_factor=1.5, mode="bilinear", antialias=True)),
    ("bicubic_aa_down", (2, 3, 12, 10), dict(scale_factor=(0.3, 0.55), mode="bicubic", antialias=True)),
    ("area2d", (2, 3, 9, 7), dict(size=(4, 3), mode="area")),
    ("area1d_scale", (2, 3, 9), dict(scale_factor=0.5, mode="area")),
    ("empty_batch", (0, 3, 4, 5), dict(size=(6, 3), mode="bilinear")),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", INTERP_CASES, ids=[c[0] for c in INTERP_CASES])
def test_interpolate_matches_torch(case, dtype):
    _, shape, kw = case
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    check_op(lambda x: F.interpolate(x, **kw), lambda x: torch_F.interpolate(x, **kw), x)


GRADCHECK_CASES = [
    ("nearest1d", (1, 2, 4), dict(scale_factor=1.5)),
    ("nearest2d_down", (1, 2, 5, 4), dict(size=(3, 2))),
    ("nearest_exact3d", (1, 1, 2, 3, 3), dict(size=(3, 2, 5), mode="nearest-exact")),
    ("linear", (1, 2, 4), dict(size=7, mode="linear")),
    ("bilinear_ac", (1, 2, 3, 4), dict(scale_factor=(1.5, 0.7), mode="bilinear", align_corners=True)),
    ("bicubic", (1, 1, 4, 3), dict(size=(3, 5), mode="bicubic")),
    ("trilinear", (1, 1, 2, 3, 3), dict(size=(3, 2, 4), mode="trilinear")),
    ("bilinear_aa", (1, 1, 6, 5), dict(size=(3, 2), mode="bilinear", antialias=True)),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_interpolate_gradcheck(case):
    _, shape, kw = case
    assert gradcheck(lambda x: F.interpolate(x, **kw), np.random.default_rng(2).standard_normal(shape))


@pytest.mark.parametrize("kw", [dict(size=5, mode="linear"), dict(scale_factor=2.5), dict(size=3, mode="bicubic")],
                         ids=["linear", "nearest", "bicubic"])
def test_interpolate_double_backward(kw):
    shape = (1, 2, 4) if kw.get("mode") != "bicubic" else (1, 1, 4, 3)
    x = ember.tensor(np.random.default_rng(3).standard_normal(shape), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda v: F.interpolate(v, **kw) ** 2, (x,))


@settings(max_examples=25, deadline=None)
@given(n_in=st.integers(1, 40), n_out=st.integers(1, 90), use_scale=st.booleans(),
       scale=st.floats(0.05, 6.0), exact=st.booleans(), f64=st.booleans(), recompute=st.booleans())
def test_nearest_indices_equal_torch(n_in, n_out, use_scale, scale, exact, f64, recompute):
    """Nearest modes pick exactly torch's source positions (float32 floor of the scaled index, clamped)."""
    x = np.arange(n_in, dtype=np.float64 if f64 else np.float32)[None, None]
    kw = dict(mode="nearest-exact" if exact else "nearest")
    if use_scale and int(n_in * scale) > 0:
        kw.update(scale_factor=scale, recompute_scale_factor=recompute)
    else:
        kw.update(size=n_out)
    got = F.interpolate(ember.tensor(x), **kw).numpy()
    np.testing.assert_array_equal(got, torch_F.interpolate(torch.tensor(x), **kw).numpy())


@pytest.mark.parametrize("kw", [dict(size=282, mode="nearest-exact"), dict(scale_factor=2.1), dict(size=399),
                                dict(scale_factor=0.4766, mode="nearest-exact", recompute_scale_factor=True)])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_nearest_indices_rounding_edges(kw, dtype):
    """Sizes where float32 vs float64 index arithmetic, or the order of operations, changes a source index."""
    for n_in in (4, 30, 114, 140, 186, 188):
        x = np.arange(n_in, dtype=dtype)[None, None]
        np.testing.assert_array_equal(F.interpolate(ember.tensor(x), **kw).numpy(),
                                      torch_F.interpolate(torch.tensor(x), **kw).numpy())


@pytest.mark.parametrize("kw", [dict(size=(7, 9), mode="bilinear"), dict(size=(4, 5), mode="bilinear"),
                                dict(size=(7, 9), mode="bicubic"), dict(scale_factor=0.5),
                                dict(size=(3, 3), mode="bilinear", antialias=True)],
                         ids=["bilinear", "bilinear_same_size", "bicubic", "nearest", "aa"])
def test_interpolate_non_finite_like_torch(kw):
    x = np.random.default_rng(4).standard_normal((1, 2, 4, 5))
    x[0, 0, 1, 2], x[0, 1, 3, 0] = np.nan, np.inf
    with np.errstate(invalid="ignore"):
        e = F.interpolate(ember.tensor(x), **kw).numpy()
    t = torch_F.interpolate(torch.tensor(x), **kw).numpy()
    np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
    np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


def test_interpolate_keeps_dtype_and_grad_fn_names():
    x = np.random.default_rng(5).standard_normal((1, 2, 3, 4)).astype(np.float32)
    for kw in [dict(size=5), dict(size=5, mode="nearest-exact"), dict(size=5, mode="bilinear"),
               dict(size=5, mode="bicubic"), dict(size=2, mode="bilinear", antialias=True)]:
        e = F.interpolate(ember.tensor(x, requires_grad=True), **kw)
        t = torch_F.interpolate(torch.tensor(x, requires_grad=True), **kw)
        assert e.dtype == ember.float32 and e.grad_fn.name() == t.grad_fn.name()
    for shape, mode in [((1, 2, 3), "linear"), ((1, 2, 3), "nearest"), ((1, 1, 2, 3, 4), "trilinear"),
                        ((1, 1, 2, 3, 4), "nearest")]:
        xs = np.ones(shape, np.float32)
        e = F.interpolate(ember.tensor(xs, requires_grad=True), size=5, mode=mode)
        t = torch_F.interpolate(torch.tensor(xs, requires_grad=True), size=5, mode=mode)
        assert e.grad_fn.name() == t.grad_fn.name()


def test_interpolate_uint8_nearest_and_strided_input():
    u = np.random.default_rng(6).integers(0, 256, (1, 2, 4, 5)).astype(np.uint8)
    np.testing.assert_array_equal(F.interpolate(ember.tensor(u), scale_factor=1.7).numpy(),
                                  torch_F.interpolate(torch.tensor(u), scale_factor=1.7).numpy())
    x = np.random.default_rng(7).standard_normal((2, 3, 6, 5)).astype(np.float32)
    kw = dict(size=(4, 9), mode="bilinear")
    check_op(lambda x: F.interpolate(x.transpose(2, 3), **kw), lambda x: torch_F.interpolate(x.transpose(2, 3), **kw),
             x)


@pytest.mark.parametrize("name,kw", [("upsample", dict(size=(7, 3), mode="bilinear")),
                                     ("upsample", dict(scale_factor=1.5)),
                                     ("upsample_nearest", dict(scale_factor=2)),
                                     ("upsample_bilinear", dict(size=(7, 3)))])
def test_deprecated_upsample_aliases(name, kw):
    x = np.random.default_rng(8).standard_normal((2, 3, 4, 5))
    with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
        e = getattr(F, name)(ember.tensor(x), **kw)
    with pytest.warns(UserWarning):
        t = getattr(torch_F, name)(torch.tensor(x), **kw)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)


# ---- pixel / channel shuffle ---------------------------------------------------------------------------------
SHUFFLE_CASES = [
    ("pixel_shuffle_2", lambda m, x: m.F.pixel_shuffle(x, 2), (2, 8, 3, 5)),
    ("pixel_shuffle_3_unbatched", lambda m, x: m.F.pixel_shuffle(x, 3), (9, 2, 3)),
    ("pixel_shuffle_5d", lambda m, x: m.F.pixel_shuffle(x, 2), (2, 3, 4, 2, 3)),
    ("pixel_shuffle_1", lambda m, x: m.F.pixel_shuffle(x, 1), (2, 3, 2, 3)),
    ("pixel_unshuffle_2", lambda m, x: m.F.pixel_unshuffle(x, 2), (2, 3, 4, 6)),
    ("pixel_unshuffle_3_unbatched", lambda m, x: m.F.pixel_unshuffle(x, 3), (2, 6, 9)),
    ("channel_shuffle_2", lambda m, x: m.F.channel_shuffle(x, 2), (2, 8, 3, 2)),
    ("channel_shuffle_3d", lambda m, x: m.F.channel_shuffle(x, 3), (2, 6, 4)),
    ("channel_shuffle_5d", lambda m, x: m.F.channel_shuffle(x, 4), (1, 8, 2, 2, 3)),
    ("channel_shuffle_top_level", lambda m, x: m.t.channel_shuffle(x, 2), (2, 4, 3)),
    ("pixel_shuffle_top_level", lambda m, x: m.t.pixel_shuffle(x, 2), (1, 4, 2, 3)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", SHUFFLE_CASES, ids=[c[0] for c in SHUFFLE_CASES])
def test_shuffles_match_torch(case, dtype):
    _, fn, shape = case
    x = np.random.default_rng(9).standard_normal(shape).astype(dtype)
    e, _ = check_op(lambda x: fn(EM, x), lambda x: fn(TH, x), x)
    assert e.is_contiguous()


def test_shuffles_integer_roundtrip_and_gradcheck():
    x = np.arange(2 * 8 * 4 * 6).reshape(2, 8, 4, 6)
    y = F.pixel_unshuffle(F.pixel_shuffle(ember.tensor(x), 2), 2)
    np.testing.assert_array_equal(y.numpy(), x)
    np.testing.assert_array_equal(F.channel_shuffle(ember.tensor(x), 4).numpy(),
                                  torch_F.channel_shuffle(torch.tensor(x), 4).numpy())
    assert gradcheck(lambda v: F.pixel_shuffle(v, 2) * 2, np.random.default_rng(10).standard_normal((1, 4, 2, 3)))


# ---- layers ---------------------------------------------------------------------------------------------------
MODULES = [
    ("upsample_size", lambda m: m.nn.Upsample(size=3)),
    ("upsample_size_list", lambda m: m.nn.Upsample(size=[3, 4])),
    ("upsample_scale", lambda m: m.nn.Upsample(scale_factor=2)),
    ("upsample_scale_tuple", lambda m: m.nn.Upsample(scale_factor=(2, 1.5), mode="bilinear")),
    ("upsample_bilinear_ac", lambda m: m.nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True)),
    ("upsample_bicubic_recompute", lambda m: m.nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=False,
                                                           recompute_scale_factor=True)),
    ("upsample_nearest_exact", lambda m: m.nn.Upsample(scale_factor=0.7, mode="nearest-exact")),
    ("upsample_empty", lambda m: m.nn.Upsample()),
    ("upsample_scale_zero", lambda m: m.nn.Upsample(scale_factor=0)),
    ("nearest2d_size", lambda m: m.nn.UpsamplingNearest2d(size=3)),
    ("nearest2d_scale", lambda m: m.nn.UpsamplingNearest2d(scale_factor=2)),
    ("bilinear2d_scale", lambda m: m.nn.UpsamplingBilinear2d(scale_factor=2)),
    ("bilinear2d_size", lambda m: m.nn.UpsamplingBilinear2d(size=(3, 4))),
    ("pixel_shuffle", lambda m: m.nn.PixelShuffle(3)),
    ("pixel_unshuffle", lambda m: m.nn.PixelUnshuffle(2)),
    ("channel_shuffle", lambda m: m.nn.ChannelShuffle(4)),
    ("in_sequential", lambda m: m.nn.Sequential(m.nn.Upsample(scale_factor=2, mode="bilinear"),
                                                m.nn.PixelShuffle(2))),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_repr_and_attributes_match_torch(case):
    _, make = case
    e, t = make(EM), make(TH)
    assert repr(e) == repr(t).replace("torch", "ember")
    for attr in ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "name",
                 "upscale_factor", "downscale_factor", "groups"):
        assert getattr(e, attr, "absent") == getattr(t, attr, "absent"), attr


LAYER_RUNS = [
    ("upsample_bilinear", lambda m: m.nn.Upsample(scale_factor=(2, 1.5), mode="bilinear"), (2, 3, 4, 5)),
    ("upsample_trilinear", lambda m: m.nn.Upsample(size=(3, 4, 5), mode="trilinear", align_corners=True),
     (1, 2, 2, 3, 4)),
    ("upsample_linear", lambda m: m.nn.Upsample(scale_factor=0.7, mode="linear"), (2, 3, 9)),
    ("upsample_bicubic", lambda m: m.nn.Upsample(scale_factor=1.5, mode="bicubic", recompute_scale_factor=True),
     (2, 3, 4, 5)),
    ("nearest2d", lambda m: m.nn.UpsamplingNearest2d(scale_factor=2), (2, 3, 4, 5)),
    ("bilinear2d", lambda m: m.nn.UpsamplingBilinear2d(size=(7, 3)), (2, 3, 4, 5)),
    ("pixel_shuffle", lambda m: m.nn.PixelShuffle(2), (2, 8, 3, 4)),
    ("pixel_unshuffle", lambda m: m.nn.PixelUnshuffle(2), (2, 2, 4, 6)),
    ("channel_shuffle", lambda m: m.nn.ChannelShuffle(2), (2, 6, 3, 4)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", LAYER_RUNS, ids=[c[0] for c in LAYER_RUNS])
def test_layers_match_torch(case, dtype):
    _, make, shape = case
    x = np.random.default_rng(11).standard_normal(shape).astype(dtype)
    check_op(make(EM), make(TH), x)


def test_layers_are_no_longer_placeholders():
    for name in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
                 "ChannelShuffle"):
        assert name in ember.nn.__all__ and name not in ember.nn._NOT_IMPLEMENTED
        assert issubclass(getattr(ember.nn, name), ember.nn.Module)


# ---- errors ---------------------------------------------------------------------------------------------------
X3, X4, X5 = (2, 3, 5), (2, 3, 5, 7), (1, 2, 3, 4, 5)
# (id, shape, call, key words ember's message must contain; None: the message must equal torch's)
ERRORS = [
    ("size_and_scale", X4, lambda m, x: m.F.interpolate(x, size=4, scale_factor=2), None),
    ("neither", X4, lambda m, x: m.F.interpolate(x), None),
    ("align_corners_nearest", X4, lambda m, x: m.F.interpolate(x, size=4, align_corners=True), None),
    ("align_corners_nearest_exact", X4,
     lambda m, x: m.F.interpolate(x, size=4, mode="nearest-exact", align_corners=False), None),
    ("align_corners_area", X4, lambda m, x: m.F.interpolate(x, size=4, mode="area", align_corners=False), None),
    ("size_length", X4, lambda m, x: m.F.interpolate(x, size=(4,)), None),
    ("size_float", X4, lambda m, x: m.F.interpolate(x, size=(4.0, 4)), "expected size to be one of int"),
    ("scale_length", X4, lambda m, x: m.F.interpolate(x, scale_factor=(2, 2, 2)), None),
    ("recompute_with_size", X4,
     lambda m, x: m.F.interpolate(x, size=4, mode="bilinear", recompute_scale_factor=True), None),
    ("linear_on_4d", X4, lambda m, x: m.F.interpolate(x, size=4, mode="linear"), None),
    ("trilinear_on_4d", X4, lambda m, x: m.F.interpolate(x, size=4, mode="trilinear"), None),
    ("bilinear_on_3d", X3, lambda m, x: m.F.interpolate(x, size=4, mode="bilinear"), None),
    ("trilinear_on_3d", X3, lambda m, x: m.F.interpolate(x, size=4, mode="trilinear"), None),
    ("linear_on_5d", X5, lambda m, x: m.F.interpolate(x, size=4, mode="linear"), None),
    ("bilinear_on_5d", X5, lambda m, x: m.F.interpolate(x, size=4, mode="bilinear"), None),
    ("bicubic_on_3d", X3, lambda m, x: m.F.interpolate(x, size=4, mode="bicubic"), None),
    ("nearest_on_2d", (3, 5), lambda m, x: m.F.interpolate(x, size=4), None),
    ("unknown_mode", X4, lambda m, x: m.F.interpolate(x, size=4, mode="foo"), None),
    ("antialias_nearest", X4, lambda m, x: m.F.interpolate(x, size=4, antialias=True), None),
    ("antialias_linear_3d", X3, lambda m, x: m.F.interpolate(x, size=4, mode="linear", antialias=True), None),
    ("lanczos_without_aa", X4, lambda m, x: m.F.interpolate(x, size=4, mode="lanczos"), None),
    ("output_zero_2d", X4, lambda m, x: m.F.interpolate(x, size=0, mode="bilinear"), None),
    ("output_zero_scale", X4, lambda m, x: m.F.interpolate(x, scale_factor=0.1), None),
    ("output_negative", X4, lambda m, x: m.F.interpolate(x, scale_factor=-1), None),
    ("output_zero_1d", X3, lambda m, x: m.F.interpolate(x, size=0), None),
    ("output_zero_3d", X5, lambda m, x: m.F.interpolate(x, size=0, mode="trilinear"), None),
    ("input_zero_size", (2, 3, 0, 7), lambda m, x: m.F.interpolate(x, size=4, mode="bilinear"), None),
    ("no_channels", (2, 0, 5, 7), lambda m, x: m.F.interpolate(x, size=4, mode="bilinear"), None),
    ("int_bilinear", X4, lambda m, x: m.F.interpolate(x.long(), size=4, mode="bilinear"),
     "not implemented for 'Long'"),
    ("int_nearest", X4, lambda m, x: m.F.interpolate(x.int(), size=4), "not implemented for 'Int'"),
    ("pixel_shuffle_channels", (2, 8, 3, 5), lambda m, x: m.F.pixel_shuffle(x, 3), None),
    ("pixel_shuffle_2d", (8, 3), lambda m, x: m.F.pixel_shuffle(x, 2), None),
    ("pixel_shuffle_zero", (2, 8, 3, 5), lambda m, x: m.F.pixel_shuffle(x, 0), None),
    ("pixel_shuffle_negative", (2, 8, 3, 5), lambda m, x: m.F.pixel_shuffle(x, -2), None),
    ("pixel_shuffle_float", (2, 8, 3, 5), lambda m, x: m.F.pixel_shuffle(x, 2.0), None),
    ("pixel_unshuffle_height", (2, 8, 3, 6), lambda m, x: m.F.pixel_unshuffle(x, 2), None),
    ("pixel_unshuffle_width", (2, 3, 4, 6), lambda m, x: m.F.pixel_unshuffle(x, 4), None),
    ("pixel_unshuffle_2d", (4, 6), lambda m, x: m.F.pixel_unshuffle(x, 2), None),
    ("pixel_unshuffle_zero", (2, 3, 4, 6), lambda m, x: m.F.pixel_unshuffle(x, 0), None),
    ("channel_shuffle_groups", (2, 8, 3), lambda m, x: m.F.channel_shuffle(x, 3), None),
    ("channel_shuffle_zero", (2, 8, 3), lambda m, x: m.F.channel_shuffle(x, 0), None),
    ("channel_shuffle_2d", (2, 4), lambda m, x: m.F.channel_shuffle(x, 2), None),
    ("channel_shuffle_float", (2, 4, 3), lambda m, x: m.F.channel_shuffle(x, 2.0), None),
    ("layer_pixel_shuffle", (2, 8, 3, 5), lambda m, x: m.nn.PixelShuffle(3)(x), None),
    ("layer_upsample_linear_4d", X4, lambda m, x: m.nn.Upsample(scale_factor=2, mode="linear")(x), None),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case):
    _, shape, fn, key = case
    x = np.random.default_rng(12).standard_normal(shape).astype(np.float32)
    with pytest.raises(Exception) as t_info:
        fn(TH, torch.tensor(x))
    with pytest.raises(t_info.type) as e_info:
        fn(EM, ember.tensor(x))
    if key is None:
        assert str(e_info.value) == str(t_info.value)
    else:
        assert re.search(re.escape(key), str(e_info.value)) and re.search(re.escape(key), str(t_info.value))


@pytest.mark.parametrize("fn,match", [
    (lambda x: F.interpolate(x, size=4, mode="lanczos", antialias=True), "lanczos"),
    (lambda x: F.interpolate(x.unsqueeze(2), size=4, mode="area"), "adaptive_avg_pool3d"),
], ids=["lanczos", "area_5d"])
def test_unsupported_modes_say_what_is_missing(fn, match):
    with pytest.raises(NotImplementedError, match=match):
        fn(ember.ones(1, 2, 5, 7))


def test_compiled_step_equals_eager():
    """The resampling ops trace into compile mode (plans as constants, the adjoint op in the backward)."""
    x = ember.tensor(np.random.default_rng(13).standard_normal((2, 8, 3, 4)).astype(np.float32))

    def step(w):
        y = F.interpolate(F.pixel_shuffle(w, 2), scale_factor=1.5, mode="bicubic")
        loss = (F.interpolate(y, size=(5, 7)) ** 2).sum()
        loss.backward()
        return loss

    results = []
    for run in (step, ember.compile(step)):
        w = x.clone().requires_grad_()
        losses = [run(w).item() for _ in range(2)]
        results.append((losses, w.grad.numpy().copy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
