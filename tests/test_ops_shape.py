"""Shape and rearrangement ops (views, joins, splits, flip/roll/repeat/tril, pad) against torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

import ember
from oracle import check_op, gradcheck

DTYPES = [np.float32, np.float64]


def _arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _pad(lib):
    return ember.pad if lib is ember else F.pad


# (id, input shapes, fn(lib, *tensors)); lib is ember or torch, so one lambda drives both.
CASES = [
    ("reshape", [(2, 3, 4)], lambda lib, x: x.reshape(4, 6)),
    ("reshape_tuple_infer", [(2, 3, 4)], lambda lib, x: lib.reshape(x, (3, -1))),
    ("reshape_same", [(2, 3)], lambda lib, x: x.reshape(2, 3)),
    ("reshape_noncontig", [(3, 4)], lambda lib, x: x.t().reshape(-1)),
    ("view_infer", [(2, 3, 4)], lambda lib, x: x.view(-1, 4)),
    ("view_as", [(2, 3, 4), (6, 4)], lambda lib, x, y: x.view_as(y) + y),
    ("view_noncontig_ok", [(2, 3, 4)], lambda lib, x: x.transpose(0, 1).view(3, 2, 2, 2)),
    ("reshape_as", [(6,), (2, 3)], lambda lib, x, y: x.reshape_as(y) * y),
    ("flatten", [(2, 3, 4)], lambda lib, x: x.flatten()),
    ("flatten_range", [(2, 3, 4, 5)], lambda lib, x: lib.flatten(x, 1, 2)),
    ("flatten_neg", [(2, 3, 4)], lambda lib, x: x.flatten(-2)),
    ("flatten_0d", [()], lambda lib, x: x.flatten()),
    ("ravel", [(2, 3)], lambda lib, x: x.t().ravel()),
    ("unflatten", [(2, 12)], lambda lib, x: x.unflatten(1, (3, -1))),
    ("unflatten_neg_dim", [(2, 12)], lambda lib, x: lib.unflatten(x, -1, (2, 2, 3))),
    ("squeeze_all", [(1, 3, 1, 2)], lambda lib, x: x.squeeze()),
    ("squeeze_int", [(1, 3, 1, 2)], lambda lib, x: x.squeeze(2)),
    ("squeeze_int_noop", [(1, 3, 1, 2)], lambda lib, x: x.squeeze(1)),
    ("squeeze_tuple", [(1, 3, 1, 2)], lambda lib, x: lib.squeeze(x, (0, -2, 1))),
    ("squeeze_0d", [()], lambda lib, x: x.squeeze(0)),
    ("unsqueeze", [(2, 3)], lambda lib, x: x.unsqueeze(1)),
    ("unsqueeze_neg", [(2, 3)], lambda lib, x: lib.unsqueeze(x, -1)),
    ("unsqueeze_0d", [()], lambda lib, x: x.unsqueeze(0)),
    ("permute", [(2, 3, 4)], lambda lib, x: x.permute(2, 0, 1)),
    ("permute_tuple_neg", [(2, 3, 4)], lambda lib, x: lib.permute(x, (-1, 0, -2))),
    ("transpose", [(2, 3, 4)], lambda lib, x: x.transpose(0, 2)),
    ("transpose_neg", [(2, 3, 4)], lambda lib, x: lib.transpose(x, -1, 1)),
    ("swapaxes", [(2, 3, 4)], lambda lib, x: x.swapaxes(0, 1)),
    ("transpose_0d", [()], lambda lib, x: x.transpose(0, -1)),
    ("t_2d", [(2, 3)], lambda lib, x: x.t()),
    ("t_1d", [(3,)], lambda lib, x: lib.t(x)),
    ("T", [(2, 3)], lambda lib, x: x.T),
    ("mT", [(2, 3, 4)], lambda lib, x: x.mT),
    ("movedim", [(2, 3, 4)], lambda lib, x: x.movedim(0, -1)),
    ("movedim_seq", [(2, 3, 4, 5)], lambda lib, x: lib.movedim(x, (0, 1), (3, 0))),
    ("moveaxis", [(2, 3, 4)], lambda lib, x: lib.moveaxis(x, 2, 0)),
    ("expand", [(3, 1)], lambda lib, x: x.expand(2, 3, 4)),
    ("expand_minus1", [(3, 1)], lambda lib, x: x.expand(-1, 5)),
    ("expand_tuple", [(1,)], lambda lib, x: x.expand((2, 3))),
    ("expand_same", [(2, 3)], lambda lib, x: x.expand(2, 3)),
    ("expand_0d", [()], lambda lib, x: x.expand(3, 2)),
    ("expand_as", [(1, 3), (4, 3)], lambda lib, x, y: x.expand_as(y) * y),
    ("broadcast_to", [(3, 1)], lambda lib, x: lib.broadcast_to(x, (2, 3, 5))),
    ("broadcast_to_method", [(3,)], lambda lib, x: x.broadcast_to((2, 3))),
    ("broadcast_tensors", [(3, 1), (1, 4), (4,)], lambda lib, *xs: lib.broadcast_tensors(*xs)),
    ("repeat", [(2, 3)], lambda lib, x: x.repeat(2, 3)),
    ("repeat_more_dims", [(2, 3)], lambda lib, x: x.repeat(2, 1, 3)),
    ("repeat_tuple", [(3,)], lambda lib, x: x.repeat((2, 2))),
    ("repeat_0d", [()], lambda lib, x: x.repeat(4)),
    ("tile", [(2, 3)], lambda lib, x: lib.tile(x, (2,))),
    ("tile_more", [(2, 3)], lambda lib, x: x.tile(3, 1, 2)),
    ("cat", [(2, 3), (4, 3)], lambda lib, a, b: lib.cat([a, b])),
    ("cat_dim1", [(2, 3), (2, 1), (2, 2)], lambda lib, *xs: lib.cat(xs, 1)),
    ("cat_neg_dim", [(2, 3, 1), (2, 3, 2)], lambda lib, a, b: lib.cat((a, b), -1)),
    ("cat_legacy_empty", [(2, 3), (0,)], lambda lib, a, b: lib.cat([a, b])),
    ("concat", [(2, 3), (1, 3)], lambda lib, a, b: lib.concat([a, b])),
    ("stack", [(2, 3), (2, 3)], lambda lib, a, b: lib.stack([a, b])),
    ("stack_last", [(2, 3), (2, 3), (2, 3)], lambda lib, *xs: lib.stack(xs, -1)),
    ("stack_0d", [(), ()], lambda lib, a, b: lib.stack([a, b])),
    ("hstack_1d", [(2,), (3,)], lambda lib, a, b: lib.hstack([a, b])),
    ("hstack_2d", [(2, 1), (2, 3)], lambda lib, a, b: lib.hstack((a, b))),
    ("vstack", [(3,), (2, 3)], lambda lib, a, b: lib.vstack([a, b])),
    ("dstack", [(2, 3), (2, 3, 2)], lambda lib, a, b: lib.dstack([a, b])),
    ("column_stack", [(3,), (3, 2)], lambda lib, a, b: lib.column_stack([a, b])),
    ("atleast_3d", [(3,)], lambda lib, x: lib.atleast_3d(x)),
    ("split_int", [(5, 2)], lambda lib, x: x.split(2)),
    ("split_int_dim", [(2, 7)], lambda lib, x: lib.split(x, 3, dim=1)),
    ("split_big", [(2, 3)], lambda lib, x: x.split(10, 1)),
    ("split_sizes", [(6, 2)], lambda lib, x: x.split([1, 0, 3, 2])),
    ("split_sizes_neg_dim", [(2, 5)], lambda lib, x: lib.split(x, (2, 3), -1)),
    ("split_partial_use", [(6, 2)], lambda lib, x: x.split(2)[1]),
    ("chunk", [(7, 2)], lambda lib, x: x.chunk(3)),
    ("chunk_uneven", [(6,)], lambda lib, x: lib.chunk(x, 5)),
    ("chunk_dim", [(2, 5)], lambda lib, x: x.chunk(2, dim=-1)),
    ("tensor_split_sections", [(7, 2)], lambda lib, x: x.tensor_split(3)),
    ("tensor_split_many", [(2, 3)], lambda lib, x: lib.tensor_split(x, 5, dim=1)),
    ("tensor_split_indices", [(7,)], lambda lib, x: x.tensor_split([1, 4])),
    ("tensor_split_overlap", [(6,)], lambda lib, x: x.tensor_split([-2, 1])),
    ("tensor_split_beyond", [(4, 2)], lambda lib, x: x.tensor_split((3, 9))),
    ("unbind", [(3, 2)], lambda lib, x: x.unbind()),
    ("unbind_dim", [(2, 3, 2)], lambda lib, x: lib.unbind(x, -2)),
    ("unbind_partial_use", [(3, 2)], lambda lib, x: x.unbind(1)[0] * 2),
    ("narrow", [(4, 5)], lambda lib, x: x.narrow(1, 1, 3)),
    ("narrow_neg_start", [(4, 5)], lambda lib, x: lib.narrow(x, 0, -3, 2)),
    ("select", [(4, 5)], lambda lib, x: x.select(1, 2)),
    ("select_neg", [(4, 5, 2)], lambda lib, x: lib.select(x, -2, -1)),
    ("flip", [(2, 3, 4)], lambda lib, x: x.flip(0, 2)),
    ("flip_tuple", [(2, 3, 4)], lambda lib, x: lib.flip(x, (-1,))),
    ("flip_list", [(2, 3)], lambda lib, x: x.flip([0, 1])),
    ("fliplr", [(2, 3)], lambda lib, x: lib.fliplr(x)),
    ("flipud", [(2, 3)], lambda lib, x: x.flipud()),
    ("roll_flat", [(2, 3)], lambda lib, x: x.roll(2)),
    ("roll_flat_tuple", [(2, 3)], lambda lib, x: lib.roll(x, (4,))),
    ("roll_dim", [(2, 5)], lambda lib, x: x.roll(-2, 1)),
    ("roll_dims", [(3, 4, 2)], lambda lib, x: lib.roll(x, (1, -3), (0, 1))),
    ("roll_big_shift", [(4,)], lambda lib, x: x.roll(9, 0)),
    ("tril", [(3, 4)], lambda lib, x: x.tril()),
    ("tril_diag", [(2, 3, 4)], lambda lib, x: lib.tril(x, 1)),
    ("tril_neg", [(4, 3)], lambda lib, x: x.tril(-1)),
    ("triu", [(3, 4)], lambda lib, x: lib.triu(x)),
    ("triu_diag", [(2, 4, 4)], lambda lib, x: x.triu(diagonal=2)),
    ("triu_neg", [(4, 3)], lambda lib, x: x.triu(-2)),
    ("contiguous", [(2, 3)], lambda lib, x: x.t().contiguous()),
    ("clone", [(2, 3)], lambda lib, x: lib.clone(x) * 2),
    ("reshape_kw", [(2, 3)], lambda lib, x: lib.reshape(x, shape=(3, 2))),
    ("view_kw", [(2, 3)], lambda lib, x: x.view(size=(6,))),
    ("permute_kw", [(2, 3, 4)], lambda lib, x: lib.permute(x, dims=(1, 2, 0))),
    ("expand_kw", [(2, 1)], lambda lib, x: x.expand(size=(3, 2, 4))),
    ("repeat_kw", [(2, 3)], lambda lib, x: x.repeat(repeats=(1, 2))),
    ("tile_kw", [(2, 3)], lambda lib, x: lib.tile(x, dims=(2,))),
    ("flip_kw", [(2, 3)], lambda lib, x: x.flip(dims=[1])),
    ("pad_constant", [(2, 3)], lambda lib, x: _pad(lib)(x, (1, 2))),
    ("pad_constant_2d_value", [(2, 3, 4)], lambda lib, x: _pad(lib)(x, [1, 0, 2, 1], value=-1.5)),
    ("pad_constant_all_dims", [(2, 3)], lambda lib, x: _pad(lib)(x, (1, 1, 1, 1))),
    ("pad_constant_crop", [(3, 5)], lambda lib, x: _pad(lib)(x, (-1, 2, 1, -2))),
    ("pad_constant_empty", [(2, 3)], lambda lib, x: _pad(lib)(x, ())),
    ("pad_reflect_1d", [(2, 5)], lambda lib, x: _pad(lib)(x, (2, 3), mode="reflect")),
    ("pad_reflect_1d_batch", [(2, 3, 4)], lambda lib, x: _pad(lib)(x, (3, 1), mode="reflect")),
    ("pad_reflect_2d", [(1, 2, 3, 4)], lambda lib, x: _pad(lib)(x, (1, 2, 2, 1), mode="reflect")),
    ("pad_reflect_2d_unbatched", [(2, 3, 4)], lambda lib, x: _pad(lib)(x, (3, 0, 0, 2), mode="reflect")),
    ("pad_reflect_3d", [(1, 1, 3, 3, 3)], lambda lib, x: _pad(lib)(x, (1, 1, 2, 0, 0, 1), mode="reflect")),
    ("pad_reflect_neg", [(2, 3, 5)], lambda lib, x: _pad(lib)(x, (-1, 2), mode="reflect")),
    ("pad_replicate", [(2, 3)], lambda lib, x: _pad(lib)(x, (4, 2), mode="replicate")),
    ("pad_replicate_2d", [(1, 2, 3, 2)], lambda lib, x: _pad(lib)(x, (2, 1, 0, 3), mode="replicate")),
    ("pad_replicate_3d", [(2, 2, 2, 2)], lambda lib, x: _pad(lib)(x, (1, 0, 1, 1, 2, 0), mode="replicate")),
    ("pad_replicate_neg", [(2, 4)], lambda lib, x: _pad(lib)(x, (-1, 2), mode="replicate")),
    ("pad_circular", [(2, 3)], lambda lib, x: _pad(lib)(x, (3, 2), mode="circular")),
    ("pad_circular_2d", [(1, 2, 3, 4)], lambda lib, x: _pad(lib)(x, (1, 2, 3, 1), mode="circular")),
    ("pad_circular_neg", [(2, 4)], lambda lib, x: _pad(lib)(x, (-1, 2), mode="circular")),
    ("pad_circular_3d", [(1, 2, 2, 3, 2)], lambda lib, x: _pad(lib)(x, (1, 1, 0, 2, 1, 0), mode="circular")),
]
CASE_IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,shapes,fn", CASES, ids=CASE_IDS)
def test_matches_torch(name, shapes, fn, dtype):
    check_op(lambda *xs: fn(ember, *xs), lambda *xs: fn(torch, *xs), *_arrays(shapes, dtype))


@pytest.mark.parametrize("name,shapes,fn", CASES, ids=CASE_IDS)
def test_gradcheck(name, shapes, fn):
    assert gradcheck(lambda *xs: fn(ember, *xs), *_arrays(shapes, np.float64, seed=1))


@pytest.mark.parametrize("name", ["split_sizes", "unbind", "pad_reflect_2d", "pad_constant_crop", "repeat",
                                  "cat_dim1", "roll_dims", "tensor_split_overlap", "expand"])
def test_gradgradcheck(name):
    _, shapes, fn = CASES[CASE_IDS.index(name)]
    inputs = tuple(ember.tensor(a, requires_grad=True) for a in _arrays(shapes, np.float64, seed=2))
    assert ember.autograd.gradgradcheck(lambda *xs: fn(ember, *xs), inputs)


# integer and bool tensors (forward only): dtypes are kept and cat/stack promote as torch does
INT_CASES = [
    ("flip_int", lambda lib, a, b, m: a.flip(0)),
    ("roll_bool", lambda lib, a, b, m: m.roll(1, 1)),
    ("tril_int", lambda lib, a, b, m: a.tril(-1)),
    ("triu_bool", lambda lib, a, b, m: lib.triu(m, 1)),
    ("repeat_int", lambda lib, a, b, m: a.repeat(2, 1)),
    ("cat_promote", lambda lib, a, b, m: lib.cat([a, b])),
    ("cat_promote_bool", lambda lib, a, b, m: lib.cat([m, a], 1)),
    ("stack_promote", lambda lib, a, b, m: lib.stack([b, a])),
    ("pad_int_value", lambda lib, a, b, m: _pad(lib)(a, (1, 1), value=2.7)),
    ("pad_int_reflect", lambda lib, a, b, m: _pad(lib)(a, (1, 2), mode="reflect")),
    ("split_int", lambda lib, a, b, m: a.split(1)),
    ("expand_bool", lambda lib, a, b, m: m[:1].expand(4, 3)),
]


@pytest.mark.parametrize("name,fn", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_integer_dtypes(name, fn):
    rng = np.random.default_rng(3)
    a = rng.integers(-5, 5, (2, 3)).astype(np.int64)
    b = rng.standard_normal((2, 3)).astype(np.float32)
    m = rng.random((2, 3)) > 0.5
    check_op(lambda *xs: fn(ember, *xs), lambda *xs: fn(torch, *xs), a, b, m, grad=False)


def test_broadcast_shapes():
    assert ember.broadcast_shapes((3, 1), (2, 1, 4), (4,)) == torch.broadcast_shapes((3, 1), (2, 1, 4), (4,))
    assert ember.broadcast_shapes(2, (3, 1)) == torch.broadcast_shapes(2, (3, 1))
    assert isinstance(ember.broadcast_shapes((2,)), ember.Size)


def test_views_share_memory_and_version():
    x = ember.zeros(2, 3)
    for view in (x.view(6), x.reshape(3, 2), x.t(), x[0], x.narrow(1, 1, 2), x.unsqueeze(0), x.select(1, 0),
                 x.split(1)[0], x.unbind(1)[2], x.expand(4, 2, 3), x.permute(1, 0), x.squeeze(), x.movedim(0, 1)):
        before = view._version_value
        x.add_(1)
        assert view._version_value == before + 1
        assert float(view.detach().sum()) == float(x.sum()) * view.numel() / 6
    y = x.view(3, 2)
    y[0, 0] = 100.0
    assert float(x[0, 0]) == 100.0
    assert not np.shares_memory(x.clone().numpy(), x.numpy())


def test_contiguous_returns_self_when_contiguous():
    x = ember.ones(2, 3)
    assert x.contiguous() is x
    t = x.t()
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.shape == (3, 2)
    assert torch.ones(2, 3).t().contiguous().is_contiguous()


def test_split_is_one_node_and_unused_outputs_get_zero_grads():
    x = ember.randn(6, 2, requires_grad=True)
    a, b, c = x.split(2)
    assert a.grad_fn is b.grad_fn and a.grad_fn.name() == "SplitBackward0"
    (b * 3).sum().backward()
    expected = np.zeros((6, 2), np.float32)
    expected[2:4] = 3
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_expanded_tensor_is_read_only_for_in_place_writes():
    x = ember.ones(3, 1).expand(3, 4)
    with pytest.raises(RuntimeError):
        x.add_(1)
    with pytest.raises(RuntimeError):
        x[0] = 2.0


def test_transpose_grad_fn_names():
    x = ember.randn(2, 3, requires_grad=True)
    assert x.reshape(6).grad_fn.name() == "ReshapeBackward0"
    assert x.permute(1, 0).grad_fn.name() == "PermuteBackward0"
    assert ember.cat([x, x]).grad_fn.name() == "CatBackward0"
    assert x.unbind()[0].grad_fn.name() == "UnbindBackward0"


# ---- errors: torch raises this type, ember raises the same type with a message naming the op ----------------
def _x(lib):
    return lib.arange(6.0).reshape(2, 3)


ERRORS = [
    ("view_bad_numel", lambda lib: _x(lib).view(4, 2), RuntimeError, "view"),
    ("reshape_two_infer", lambda lib: _x(lib).reshape(-1, -1), RuntimeError, "reshape"),
    ("reshape_negative", lambda lib: _x(lib).reshape(-2, 3), RuntimeError, "reshape"),
    ("reshape_zero_infer", lambda lib: lib.zeros(0, 3).reshape(-1, 0), RuntimeError, "reshape"),
    ("reshape_float_size", lambda lib: _x(lib).reshape(2.0, 3), TypeError, "reshape"),
    ("view_noncontig", lambda lib: _x(lib).t().view(6), RuntimeError, "view"),
    ("flatten_order", lambda lib: lib.ones(2, 3, 4).flatten(2, 0), RuntimeError, "flatten"),
    ("flatten_dim", lambda lib: _x(lib).flatten(0, 2), IndexError, "flatten"),
    ("unflatten_bad", lambda lib: _x(lib).unflatten(1, (2, 2)), RuntimeError, "unflatten"),
    ("unflatten_empty", lambda lib: _x(lib).unflatten(1, ()), RuntimeError, "unflatten"),
    ("squeeze_dim", lambda lib: _x(lib).squeeze(2), IndexError, "squeeze"),
    ("squeeze_dup", lambda lib: lib.ones(1, 2).squeeze((0, 0)), RuntimeError, "squeeze"),
    ("unsqueeze_dim", lambda lib: _x(lib).unsqueeze(3), IndexError, "unsqueeze"),
    ("permute_dup", lambda lib: _x(lib).permute(0, 0), RuntimeError, "permute"),
    ("permute_len", lambda lib: _x(lib).permute(0), RuntimeError, "permute"),
    ("permute_dim", lambda lib: _x(lib).permute(0, 2), IndexError, "permute"),
    ("transpose_dim", lambda lib: _x(lib).transpose(0, 2), IndexError, "transpose"),
    ("t_3d", lambda lib: lib.ones(2, 3, 4).t(), RuntimeError, "t()"),
    ("mT_1d", lambda lib: lib.ones(3).mT, RuntimeError, "mT"),
    ("movedim_repeat_src", lambda lib: lib.movedim(lib.ones(2, 3, 4), (0, 0), (1, 2)), RuntimeError, "movedim"),
    ("movedim_repeat_dst", lambda lib: lib.movedim(lib.ones(2, 3, 4), (0, 1), (1, 1)), RuntimeError, "movedim"),
    ("movedim_len", lambda lib: lib.movedim(lib.ones(2, 3), (0, 1), (1,)), RuntimeError, "movedim"),
    ("movedim_dim", lambda lib: lib.movedim(_x(lib), 2, 0), IndexError, "movedim"),
    ("expand_mismatch", lambda lib: _x(lib).expand(4, 3, 4), RuntimeError, "expand"),
    ("expand_too_few", lambda lib: _x(lib).expand(3), RuntimeError, "expand"),
    ("expand_lead_minus1", lambda lib: lib.ones(3).expand(-1, 3), RuntimeError, "expand"),
    ("expand_negative", lambda lib: lib.ones(1, 3).expand(-2, 3), RuntimeError, "expand"),
    ("broadcast_to_bad", lambda lib: lib.broadcast_to(lib.ones(2), (3,)), RuntimeError, "broadcast_to"),
    ("broadcast_tensors_bad", lambda lib: lib.broadcast_tensors(lib.ones(2), lib.ones(3)), RuntimeError,
     "broadcast_tensors"),
    ("broadcast_shapes_bad", lambda lib: lib.broadcast_shapes((2,), (3,)), RuntimeError, "broadcast_shapes"),
    ("repeat_too_few", lambda lib: _x(lib).repeat(2), RuntimeError, "repeat"),
    ("repeat_negative", lambda lib: _x(lib).repeat(-1, 2), RuntimeError, "repeat"),
    ("cat_empty", lambda lib: lib.cat([]), ValueError, "cat"),
    ("cat_0d", lambda lib: lib.cat([lib.tensor(1.0), lib.tensor(2.0)]), RuntimeError, "cat"),
    ("cat_ndim", lambda lib: lib.cat([_x(lib), lib.ones(3)]), RuntimeError, "cat"),
    ("cat_sizes", lambda lib: lib.cat([_x(lib), lib.ones(2, 4)]), RuntimeError, "cat"),
    ("cat_dim", lambda lib: lib.cat([_x(lib), _x(lib)], 2), IndexError, "cat"),
    ("cat_non_tensor", lambda lib: lib.cat([_x(lib), 1]), TypeError, "cat"),
    ("stack_sizes", lambda lib: lib.stack([_x(lib), lib.ones(2, 4)]), RuntimeError, "stack"),
    ("stack_empty", lambda lib: lib.stack([]), RuntimeError, "stack"),
    ("stack_dim", lambda lib: lib.stack([_x(lib), _x(lib)], 3), IndexError, "stack"),
    ("hstack_empty", lambda lib: lib.hstack([]), RuntimeError, "hstack"),
    ("vstack_empty", lambda lib: lib.vstack([]), RuntimeError, "vstack"),
    ("split_negative", lambda lib: _x(lib).split(-1), RuntimeError, "split"),
    ("split_zero", lambda lib: _x(lib).split(0), RuntimeError, "split"),
    ("split_sizes_sum", lambda lib: _x(lib).split([1, 1], 1), RuntimeError, "split_with_sizes"),
    ("split_sizes_negative", lambda lib: _x(lib).split([4, -1], 1), RuntimeError, "split_with_sizes"),
    ("split_dim", lambda lib: _x(lib).split(1, 2), IndexError, "split"),
    ("chunk_zero", lambda lib: _x(lib).chunk(0), RuntimeError, "chunk"),
    ("tensor_split_zero", lambda lib: _x(lib).tensor_split(0), RuntimeError, "tensor_split"),
    ("tensor_split_0d", lambda lib: lib.tensor(1.0).tensor_split(2), RuntimeError, "tensor_split"),
    ("unbind_0d", lambda lib: lib.tensor(1.0).unbind(), IndexError, "unbind"),
    ("unbind_dim", lambda lib: _x(lib).unbind(2), IndexError, "unbind"),
    ("narrow_too_long", lambda lib: _x(lib).narrow(1, 2, 2), RuntimeError, "narrow"),
    ("narrow_negative_length", lambda lib: _x(lib).narrow(1, 0, -1), RuntimeError, "narrow"),
    ("narrow_start", lambda lib: _x(lib).narrow(1, 4, 0), IndexError, "narrow"),
    ("select_index", lambda lib: _x(lib).select(1, 3), IndexError, "select"),
    ("select_0d", lambda lib: lib.tensor(1.0).select(0, 0), IndexError, "select"),
    ("flip_dup", lambda lib: _x(lib).flip(0, 0), RuntimeError, "flip"),
    ("flip_dim", lambda lib: _x(lib).flip(2), IndexError, "flip"),
    ("fliplr_1d", lambda lib: lib.fliplr(lib.ones(3)), RuntimeError, "fliplr"),
    ("flipud_0d", lambda lib: lib.flipud(lib.tensor(1.0)), RuntimeError, "flipud"),
    ("roll_align", lambda lib: lib.roll(_x(lib), (1, 2), (0,)), RuntimeError, "roll"),
    ("roll_no_dims_tuple", lambda lib: lib.roll(_x(lib), (1, 2)), RuntimeError, "roll"),
    ("roll_empty", lambda lib: lib.roll(_x(lib), (), ()), RuntimeError, "roll"),
    ("roll_dim", lambda lib: _x(lib).roll(1, 2), IndexError, "roll"),
    ("roll_0d_dim", lambda lib: lib.tensor(1.0).roll(1, 0), IndexError, "roll"),
    ("tril_1d", lambda lib: lib.tril(lib.ones(3)), RuntimeError, "tril"),
    ("triu_1d", lambda lib: lib.ones(3).triu(), RuntimeError, "triu"),
    ("pad_odd", lambda lib: _pad(lib)(_x(lib), (1,)), RuntimeError, "pad"),
    ("pad_too_long", lambda lib: _pad(lib)(_x(lib), (1,) * 6), RuntimeError, "pad"),
    ("pad_negative_size", lambda lib: _pad(lib)(_x(lib), (-2, -2)), RuntimeError, "pad"),
    ("pad_bad_mode", lambda lib: _pad(lib)(_x(lib), (1, 1), mode="foo"), NotImplementedError, "pad"),
    ("pad_reflect_value", lambda lib: _pad(lib)(_x(lib), (1, 1), mode="reflect", value=2.0), RuntimeError, "pad"),
    ("pad_reflect_1d_input", lambda lib: _pad(lib)(lib.ones(3), (1, 1), mode="reflect"), NotImplementedError,
     "pad"),
    ("pad_reflect_4d_len2", lambda lib: _pad(lib)(lib.ones(1, 2, 3, 4), (1, 1), mode="reflect"),
     NotImplementedError, "pad"),
    ("pad_replicate_2d_len4", lambda lib: _pad(lib)(_x(lib), (1, 1, 1, 1), mode="replicate"),
     NotImplementedError, "pad"),
    ("pad_reflect_too_big", lambda lib: _pad(lib)(_x(lib), (3, 0), mode="reflect"), RuntimeError, "pad"),
    ("pad_circular_too_big", lambda lib: _pad(lib)(_x(lib), (4, 0), mode="circular"), RuntimeError, "pad"),
    ("pad_reflect_empty_dim", lambda lib: _pad(lib)(lib.ones(2, 0), (1, 1), mode="reflect"), RuntimeError,
     "pad"),
]


@pytest.mark.parametrize("name,fn,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, exc, match):
    with pytest.raises(exc) as t_err:
        fn(torch)
    assert type(t_err.value) is exc, f"torch raised {type(t_err.value).__name__}"
    with pytest.raises(exc, match=match.replace("(", r"\(").replace(")", r"\)")) as e_err:
        fn(ember)
    assert type(e_err.value) is exc, f"ember raised {type(e_err.value).__name__}"


# ---- hypothesis: broadcasting shapes --------------------------------------------------------------------------
@st.composite
def _broadcastable(draw):
    """A target shape and 1-3 shapes that broadcast to it (dims dropped from the left or set to 1)."""
    target = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        lead = draw(st.integers(0, len(target)))
        shapes.append(tuple(1 if draw(st.booleans()) else n for n in target[lead:]))
    return tuple(target), shapes


@settings(max_examples=25, deadline=None)
@given(_broadcastable(), st.sampled_from(DTYPES))
def test_expand_hypothesis(case, dtype):
    target, shapes = case
    (a,) = _arrays(shapes[:1], dtype)
    check_op(lambda x: x.expand(*target) if target else x.expand(()),
             lambda x: x.expand(*target) if target else x.expand(()), a)


@settings(max_examples=25, deadline=None)
@given(_broadcastable(), st.sampled_from(DTYPES))
def test_broadcast_tensors_hypothesis(case, dtype):
    target, shapes = case
    arrays = _arrays(shapes, dtype)
    e_out, t_out = check_op(lambda *xs: ember.broadcast_tensors(*xs), lambda *xs: torch.broadcast_tensors(*xs),
                            *arrays)
    assert all(tuple(o.shape) == tuple(torch.broadcast_shapes(*shapes)) for o in e_out)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.data())
def test_reshape_permute_hypothesis(shape, data):
    (a,) = _arrays([tuple(shape)], np.float64)
    perm = data.draw(st.permutations(range(len(shape))))
    infer = data.draw(st.integers(0, len(shape) - 1))
    new_shape = [shape[p] for p in perm]
    new_shape[infer] = -1
    fn = lambda x: x.permute(*perm).reshape(*new_shape[::-1]).flip(0)  # noqa: E731
    check_op(fn, fn, a)


@pytest.mark.parametrize("src, dst", [("float32", "int32"), ("int32", "float32"), ("float16", "int16"),
                                      ("float64", "int64")])
def test_view_as_a_same_size_dtype_matches_torch_and_shares_memory(src, dst):
    a = (np.arange(12).reshape(3, 4) * 1.5 - 4).astype(src)
    e, t = ember.tensor(a), torch.tensor(a)
    ev, tv = e.view(getattr(ember, dst)), t.view(getattr(torch, dst))
    assert ev.dtype == getattr(ember, dst) and not ev.requires_grad
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    e.add_(1)  # the view reads the same memory, as torch's
    t.add_(1)
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
