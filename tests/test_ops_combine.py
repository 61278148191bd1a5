"""ops/combine.py against torch: meshgrid, cartesian_prod, combinations, block_diag, rot90, vander, diag_embed,
triu/tril_indices, repeat_interleave, unravel_index, h/v/dsplit, Tensor.unfold, new_full/new_empty, nbytes,
itemsize, storage_offset. (Products are in test_ops_combine_products.py.)"""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from oracle import check_op, gradcheck

DTYPES = [np.float32, np.float64]


def _arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _check(make, shapes, dtype, **kw):
    """check_op on make(ember) and make(torch) (make builds the call for one library)."""
    return check_op(make(ember), make(torch), *_arrays(shapes, dtype), **kw)


def _gradcheck(make, shapes):
    assert gradcheck(make(ember), *_arrays(shapes, np.float64, seed=1))


def assert_follows(f, first, later):
    """Compiled ``f`` called twice on ``first`` then on ``later`` equals eager mode on ``later``, in one trace."""
    g = ember.compile(f, fallback="error")
    with ember.no_grad():
        g(*map(ember.tensor, first))
        g(*map(ember.tensor, first))
        got, want = g(*map(ember.tensor, later)), f(*map(ember.tensor, later))
    assert g.n_traces == 1
    got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---- differentiable ops: forward and gradients in float32/float64, gradcheck in float64 -------------------------
# (id, make(lib) -> function of the input tensors, input shapes)
CASES = [
    ("meshgrid_ij", lambda lib: lambda a, b: lib.meshgrid(a, b, indexing="ij"), [(3,), (2,)]),
    ("meshgrid_xy", lambda lib: lambda a, b: lib.meshgrid(a, b, indexing="xy"), [(3,), (2,)]),
    ("meshgrid_xy_three", lambda lib: lambda a, b, c: lib.meshgrid([a, b, c], indexing="xy"), [(2,), (3,), (4,)]),
    ("meshgrid_0d", lambda lib: lambda a, b: lib.meshgrid(a, b, indexing="ij"), [(), (3,)]),
    ("meshgrid_one_xy", lambda lib: lambda a: lib.meshgrid(a, indexing="xy"), [(3,)]),
    ("cartesian_prod", lambda lib: lambda a, b: lib.cartesian_prod(a, b), [(3,), (2,)]),
    ("cartesian_prod_3", lambda lib: lambda a, b, c: lib.cartesian_prod(a, b, c), [(2,), (3,), (2,)]),
    ("combinations", lambda lib: lambda a: lib.combinations(a), [(4,)]),
    ("combinations_r3_repl", lambda lib: lambda a: lib.combinations(a, 3, with_replacement=True), [(4,)]),
    ("combinations_r_gt_n", lambda lib: lambda a: lib.combinations(a, 3), [(2,)]),
    ("combinations_r1", lambda lib: lambda a: lib.combinations(a, 1), [(3,)]),
    ("block_diag", lambda lib: lambda a, b: lib.block_diag(a, b), [(2, 2), (3,)]),
    ("block_diag_mixed", lambda lib: lambda a, b, c: lib.block_diag(a, b, c), [(), (2, 3), (1,)]),
    ("block_diag_empty_blocks", lambda lib: lambda a, b: lib.block_diag(a, b), [(0, 2), (2, 0)]),
    ("block_diag_three", lambda lib: lambda a, b, c: lib.block_diag(a, b, c), [(1, 1), (2, 2), (3, 1)]),
    ("rot90", lambda lib: lambda a: lib.rot90(a), [(2, 3)]),
    ("rot90_k2", lambda lib: lambda a: lib.rot90(a, 2), [(2, 3)]),
    ("rot90_k3", lambda lib: lambda a: lib.rot90(a, 3, [0, 1]), [(2, 3)]),
    ("rot90_k0", lambda lib: lambda a: lib.rot90(a, 0), [(2, 3)]),
    ("rot90_neg", lambda lib: lambda a: lib.rot90(a, -1, (1, 0)), [(2, 3)]),
    ("rot90_3d", lambda lib: lambda a: a.rot90(1, (2, 0)), [(2, 3, 4)]),
    ("rot90_3d_k5", lambda lib: lambda a: lib.rot90(a, 5, (-1, -2)), [(2, 3, 4)]),
    ("diag_embed", lambda lib: lambda a: lib.diag_embed(a), [(3,)]),
    ("diag_embed_offset", lambda lib: lambda a: lib.diag_embed(a, 2), [(3,)]),
    ("diag_embed_neg_offset", lambda lib: lambda a: lib.diag_embed(a, -1, 0, 1), [(3,)]),
    ("diag_embed_batch", lambda lib: lambda a: lib.diag_embed(a, 0, 0, 2), [(2, 3)]),
    ("diag_embed_swapped", lambda lib: lambda a: a.diag_embed(1, 2, 0), [(2, 3)]),
    ("diag_embed_far", lambda lib: lambda a: lib.diag_embed(a, -2, 1, 3), [(2, 3, 2)]),
    ("repeat_interleave_int", lambda lib: lambda a: lib.repeat_interleave(a, 2), [(2, 3)]),
    ("repeat_interleave_int_dim", lambda lib: lambda a: a.repeat_interleave(3, 1), [(2, 3)]),
    ("repeat_interleave_neg_dim", lambda lib: lambda a: lib.repeat_interleave(a, 2, dim=-1), [(2, 3, 2)]),
    ("repeat_interleave_0d", lambda lib: lambda a: lib.repeat_interleave(a, 3), [()]),
    ("repeat_interleave_tensor", lambda lib: lambda a: lib.repeat_interleave(a, lib.tensor([1, 2]), dim=0),
     [(2, 3)]),
    ("repeat_interleave_tensor_zero", lambda lib: lambda a: lib.repeat_interleave(a, lib.tensor([0, 2, 1]), 1),
     [(2, 3)]),
    ("repeat_interleave_tensor_flat", lambda lib: lambda a: lib.repeat_interleave(a, lib.tensor([1, 0, 2, 1, 1, 3])),
     [(2, 3)]),
    ("repeat_interleave_tensor_one", lambda lib: lambda a: lib.repeat_interleave(a, lib.tensor([2]), dim=0),
     [(2, 3)]),
    ("repeat_interleave_tensor_0d", lambda lib: lambda a: a.repeat_interleave(lib.tensor(2), 1), [(2, 3)]),
    ("repeat_interleave_output_size", lambda lib: lambda a: lib.repeat_interleave(a, lib.tensor([1, 2]), dim=0,
                                                                                   output_size=3), [(2, 3)]),
    ("repeat_interleave_int_output_size", lambda lib: lambda a: lib.repeat_interleave(a, 2, 1, output_size=6),
     [(2, 3)]),
    ("hsplit", lambda lib: lambda a: lib.hsplit(a, 3), [(2, 6, 2)]),
    ("hsplit_1d", lambda lib: lambda a: a.hsplit(2), [(6,)]),
    ("hsplit_indices", lambda lib: lambda a: lib.hsplit(a, [1, 4]), [(2, 6)]),
    ("vsplit", lambda lib: lambda a: lib.vsplit(a, 2), [(4, 3)]),
    ("vsplit_indices", lambda lib: lambda a: a.vsplit([1, 3]), [(4, 3)]),
    ("dsplit", lambda lib: lambda a: lib.dsplit(a, 2), [(2, 3, 4)]),
    ("dsplit_past_end", lambda lib: lambda a: lib.dsplit(a, (1, 5)), [(2, 3, 4)]),
    ("unfold", lambda lib: lambda a: a.unfold(1, 2, 1), [(3, 4)]),
    ("unfold_step", lambda lib: lambda a: a.unfold(1, 2, 2), [(3, 4)]),
    ("unfold_dim0", lambda lib: lambda a: a.unfold(0, 3, 1), [(3, 4)]),
    ("unfold_gap", lambda lib: lambda a: a.unfold(0, 2, 3), [(5,)]),
    ("unfold_whole", lambda lib: lambda a: a.unfold(-1, 4, 3), [(3, 4)]),
    ("unfold_3d", lambda lib: lambda a: a.unfold(1, 3, 2), [(2, 7, 3)]),
    ("unfold_0d", lambda lib: lambda a: a.unfold(0, 1, 1), [()]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,make,shapes", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, make, shapes, dtype):
    _check(make, shapes, dtype)


@pytest.mark.parametrize("name,make,shapes", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, make, shapes):
    _gradcheck(make, shapes)


def _torch_vander_by_pow(x, n=None, increasing=False):
    """torch.vander's values by a differentiable route (torch 2.13's own vander fails in backward)."""
    n = x.shape[0] if n is None else n
    powers = torch.arange(n, dtype=x.dtype) if increasing else torch.arange(n - 1, -1, -1, dtype=x.dtype)
    return x[:, None] ** powers


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,increasing", [(None, False), (2, True), (5, False), (4, True)])
def test_vander_matches_torch(n, increasing, dtype):
    x = np.array([0.0, 1.5, -2.0, 0.0, 0.7], dtype=dtype)
    check_op(lambda a: ember.vander(a, n, increasing), lambda a: torch.vander(a, n, increasing), x, grad=False)
    check_op(lambda a: ember.vander(a, n, increasing), lambda a: _torch_vander_by_pow(a, n, increasing), x)
    assert gradcheck(lambda a: ember.vander(a, n, increasing), x.astype(np.float64))


@given(sa=st.lists(st.integers(1, 3), min_size=0, max_size=3), sb=st.lists(st.integers(1, 3), min_size=0, max_size=3))
@settings(max_examples=25, deadline=None)
def test_kron_shapes_match_torch(sa, sb):
    check_op(ember.kron, torch.kron, *_arrays([tuple(sa), tuple(sb)], np.float64))


def test_kron_float32_gradcheck_and_promotion():
    check_op(lambda a, b: a.kron(b), lambda a, b: a.kron(b), *_arrays([(2, 3), (3, 1)], np.float32))
    assert gradcheck(ember.kron, *_arrays([(2, 2), (2, 3)], np.float64))
    a, b = np.ones((2, 3), np.float32), np.arange(4)
    np.testing.assert_array_equal(ember.kron(ember.tensor(a), ember.tensor(b)).numpy(),
                                  torch.kron(torch.tensor(a), torch.tensor(b)).numpy())


# ---- integer-valued and shape-only results ----------------------------------------------------------------------
def _same(e, t):
    assert isinstance(e, ember.Tensor)
    assert e.dtype.name == str(t.dtype).replace("torch.", ""), (e.dtype, t.dtype)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("make", [
    lambda lib: lib.vander(lib.tensor([1, 2, 3])),
    lambda lib: lib.vander(lib.tensor([1, 2, 3], dtype=lib.int8), 4, True),
    lambda lib: lib.vander(lib.tensor([True, False])),
    lambda lib: lib.vander(lib.tensor([1.0, 2.0]), N=0),
    lambda lib: lib.vander(lib.tensor([1.0, 2.0]), N=1),
    lambda lib: lib.combinations(lib.arange(3.0), 0),
    lambda lib: lib.combinations(lib.ones(0), 2),
    lambda lib: lib.block_diag(lib.tensor(1.0), lib.ones(3), lib.ones(2, 2, dtype=lib.int64)),
    lambda lib: lib.block_diag(),
    lambda lib: lib.diag_embed(lib.ones(2, 3, dtype=lib.int64), 1),
    lambda lib: lib.rot90(lib.arange(6).reshape(2, 3)),
    lambda lib: lib.repeat_interleave(lib.tensor([1, 2, 3])),
    lambda lib: lib.repeat_interleave(lib.tensor([1, 0, 2], dtype=lib.int32)),
    lambda lib: lib.repeat_interleave(lib.arange(6).reshape(2, 3), lib.tensor([2, 1], dtype=lib.int32), dim=0),
    lambda lib: lib.cartesian_prod(lib.arange(3), lib.arange(2)),
    lambda lib: lib.meshgrid(lib.arange(3), lib.tensor(7), indexing="xy")[1],
])
def test_integer_and_empty_results_match_torch(make):
    _same(make(ember), make(torch))


def test_cartesian_prod_of_one_tensor_is_that_tensor():
    a, t = ember.arange(3.0), torch.arange(3.0)
    assert ember.cartesian_prod(a) is a and torch.cartesian_prod(t) is t


def test_meshgrid_warns_without_indexing_as_torch():
    with pytest.warns(UserWarning, match="indexing"):
        torch.meshgrid(torch.arange(2), torch.arange(3))
    with pytest.warns(UserWarning, match="indexing"):
        grids = ember.meshgrid(ember.arange(2), ember.arange(3))
    assert grids[0].shape == (2, 3)  # 'ij'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.meshgrid(ember.arange(2), ember.arange(3), indexing="ij")


def test_meshgrid_outputs_are_views():
    a = ember.zeros(3)
    grid = ember.meshgrid(a, ember.zeros(2), indexing="ij")[0]
    a[1] = 5.0
    assert grid[1].tolist() == [5.0, 5.0]


@given(row=st.integers(0, 6), col=st.integers(0, 6), offset=st.integers(-8, 8), upper=st.booleans())
@settings(max_examples=25, deadline=None)
def test_triangle_indices_match_torch(row, col, offset, upper):
    name = "triu_indices" if upper else "tril_indices"
    _same(getattr(ember, name)(row, col, offset), getattr(torch, name)(row, col, offset))
    _same(getattr(ember, name)(row, col, offset, dtype=ember.int32),
          getattr(torch, name)(row, col, offset, dtype=torch.int32))


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), seed=st.integers(0, 100),
       int32=st.booleans(), scalar=st.booleans())
@settings(max_examples=25, deadline=None)
def test_unravel_index_matches_torch(shape, seed, int32, scalar):
    n = int(np.prod(shape))
    flat = np.random.default_rng(seed).integers(-2 * n, 2 * n, size=() if scalar else (4,))
    flat = flat.astype(np.int32 if int32 else np.int64)
    got = ember.unravel_index(ember.tensor(flat), tuple(shape))
    want = torch.unravel_index(torch.tensor(flat), tuple(shape))
    assert isinstance(got, tuple) and len(got) == len(want)
    for e, t in zip(got, want):
        _same(e, t)


def test_unravel_index_shape_forms():
    for shape in (7, ember.Size([7]), ()):
        got = ember.unravel_index(ember.tensor(5), shape)
        want = torch.unravel_index(torch.tensor(5), shape if shape != ember.Size([7]) else torch.Size([7]))
        assert len(got) == len(want)
        for e, t in zip(got, want):
            _same(e, t)


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float64", "uint8"])
def test_new_full_and_new_empty_match_torch(dtype):
    x, t = ember.zeros(3, 4, dtype=getattr(ember, dtype)), torch.zeros(3, 4, dtype=getattr(torch, dtype))
    _same(x.new_full((2, 3), 5), t.new_full((2, 3), 5))
    _same(x.new_full([2], True), t.new_full([2], True))
    _same(x.new_full(ember.Size([1, 2]), 2, dtype=ember.float64), t.new_full(torch.Size([1, 2]), 2,
                                                                                dtype=torch.float64))
    for args, kw in [(((2, 3),), {}), ((2, 3), {}), (((),), {}), ((4,), {"dtype": "int32"})]:
        kw_e = {k: getattr(ember, v) for k, v in kw.items()}
        kw_t = {k: getattr(torch, v) for k, v in kw.items()}
        e, t_ = x.new_empty(*args, **kw_e), t.new_empty(*args, **kw_t)
        assert tuple(e.shape) == tuple(t_.shape) and e.dtype.name == str(t_.dtype)[6:]


def test_new_full_requires_grad_and_fill_value_conversion():
    e = ember.zeros(2).new_full((2,), 2.5, requires_grad=True)
    t = torch.zeros(2).new_full((2,), 2.5, requires_grad=True)
    assert e.requires_grad and t.requires_grad and e.tolist() == t.tolist()
    _same(ember.zeros(2).long().new_full((3,), 2.5), torch.zeros(2).long().new_full((3,), 2.5))
    assert ember.zeros(2).new_empty((2,), requires_grad=True).requires_grad


VIEWS = [
    ("whole", lambda t: t),
    ("rows_cols", lambda t: t[1:, 2:]),
    ("row", lambda t: t[2]),
    ("column", lambda t: t[:, 3]),
    ("transposed", lambda t: t.t()[2:]),
    ("flat", lambda t: t.view(20)[7:]),
    ("reshaped_slice", lambda t: t[1:].reshape(3, 5)[1]),
    ("split", lambda t: t.split(2)[1]),
    ("chunk", lambda t: t.chunk(2, 1)[1]),
    ("narrow", lambda t: t.narrow(1, 2, 2)),
    ("select", lambda t: t.select(0, 3)),
    ("expanded", lambda t: t[None, 2].expand(3, 5)),
    ("unfold", lambda t: t[1].unfold(0, 2, 1)),
    ("unfold_of_slice", lambda t: t[:, 1:].unfold(1, 2, 2)[2]),
    ("contiguous_slice", lambda t: t[1:].contiguous()),
    ("new", lambda t: t[1:] + 1),
    ("clone", lambda t: t[1:].clone()),
]


@pytest.mark.parametrize("name,view", VIEWS, ids=[v[0] for v in VIEWS])
def test_storage_offset_nbytes_itemsize_match_torch(name, view):
    e, t = view(ember.zeros(4, 5)), view(torch.zeros(4, 5))
    assert e.storage_offset() == t.storage_offset()
    assert e.nbytes == t.nbytes and e.itemsize == t.itemsize


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool", "uint8", "float16"])
def test_nbytes_itemsize_per_dtype(dtype):
    e, t = ember.zeros(3, 2, dtype=getattr(ember, dtype)), torch.zeros(3, 2, dtype=getattr(torch, dtype))
    assert (e.nbytes, e.itemsize) == (t.nbytes, t.itemsize)


# ---- Tensor.unfold is a view -------------------------------------------------------------------------------------
def test_unfold_is_a_view_of_its_input():
    x, t = ember.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    u, v = x.unfold(1, 2, 2), t.unfold(1, 2, 2)
    u[0, 1, 0] = 100.0
    v[0, 1, 0] = 100.0
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    x[2, 3] = -1.0
    t[2, 3] = -1.0
    np.testing.assert_array_equal(u.numpy(), v.numpy())
    assert u._version is x._version


@pytest.mark.parametrize("f", [lambda a: a.unfold(1, 3, 1) ** 2, lambda a: ember.diag_embed(a, 1) ** 2,
                               lambda a: ember.repeat_interleave(a, ember.tensor([1, 2]), 0) ** 2,
                               lambda a: ember.block_diag(a, a[0]) ** 2, lambda a: ember.rot90(a) ** 2])
def test_double_backward(f):
    x = ember.tensor(_arrays([(2, 5)], np.float64)[0], requires_grad=True)
    assert ember.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("size,step", [(0, 1), (1, 1), (4, 2)])
def test_unfold_shapes_match_torch(size, step):
    e, t = ember.zeros(3, 4).unfold(1, size, step), torch.zeros(3, 4).unfold(1, size, step)
    assert tuple(e.shape) == tuple(t.shape)
    assert tuple(ember.tensor(3.0).unfold(0, 0, 1).shape) == tuple(torch.tensor(3.0).unfold(0, 0, 1).shape)


# ---- compile mode ----------------------------------------------------------------------------------------------
rng = np.random.default_rng(0)
xa, xb = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
FOLLOWS = {
    "unravel_index": (lambda i: ember.unravel_index(i, (3, 4)), (np.array([5, -1, 13]),), (np.array([0, 7, 2]),)),
    "repeat_interleave_output_size": (lambda x, r: ember.repeat_interleave(x, r, dim=0, output_size=3),
                                      (xa, np.array([1, 2])), (xb, np.array([3, 0]))),
    "repeat_interleave_int": (lambda x: x.repeat_interleave(2, 1), (xa,), (xb,)),
    "repeat_interleave_counts": (lambda r: ember.repeat_interleave(r, output_size=4), (np.array([1, 3]),),
                                 (np.array([2, 2]),)),
    "vander": (lambda x: ember.vander(x[0]), (xa,), (xb,)),
    "diag_embed": (lambda x: ember.diag_embed(x, 1), (xa,), (xb,)),
    "unfold": (lambda x: x.unfold(1, 2, 1) * 2, (xa,), (xb,)),
    "meshgrid": (lambda x: ember.meshgrid(x[0], x[1], indexing="xy"), (xa,), (xb,)),
    "combinations": (lambda x: ember.combinations(x[0], 2), (xa,), (xb,)),
    "block_diag": (lambda x: ember.block_diag(x, x[0]), (xa,), (xb,)),
}


@pytest.mark.parametrize("name", list(FOLLOWS))
def test_compiled_function_follows_new_inputs(name):
    f, first, later = FOLLOWS[name]
    assert_follows(f, first, later)


def test_repeat_interleave_with_a_repeats_tensor_breaks_the_graph():
    """The result's length is the sum of the repeats: without output_size no static graph can hold it."""
    g = ember.compile(lambda x, r: ember.repeat_interleave(x, r, dim=0).sum(0))
    with pytest.warns(RuntimeWarning, match="RepeatPositions"):
        g(ember.tensor(xa), ember.tensor(np.array([1, 2])))
    assert g._eager
    np.testing.assert_allclose(g(ember.tensor(xb), ember.tensor(np.array([3, 0]))).numpy(), 3 * xb[0], rtol=1e-6)


def test_compiled_repeat_interleave_checks_output_size_on_every_call():
    g = ember.compile(lambda x, r: ember.repeat_interleave(x, r, dim=0, output_size=3))
    g(ember.tensor(xa), ember.tensor(np.array([1, 2])))
    g(ember.tensor(xa), ember.tensor(np.array([1, 2])))
    with pytest.raises(RuntimeError, match="repeat_interleave"):
        g(ember.tensor(xa), ember.tensor(np.array([2, 2])))


# ---- errors: the same exception type as torch ------------------------------------------------------------------
ERRORS = [
    ("meshgrid_2d", lambda lib: lib.meshgrid(lib.zeros(2, 2), indexing="ij"), RuntimeError, "meshgrid"),
    ("meshgrid_dtypes", lambda lib: lib.meshgrid(lib.zeros(2), lib.arange(2), indexing="ij"), RuntimeError,
     "meshgrid expects all tensors to have the same dtype"),
    ("meshgrid_indexing", lambda lib: lib.meshgrid(lib.zeros(2), indexing="ji"), RuntimeError, "indexing"),
    ("meshgrid_empty", lambda lib: lib.meshgrid([], indexing="ij"), RuntimeError, "non-empty"),
    ("cartesian_prod_2d", lambda lib: lib.cartesian_prod(lib.zeros(2), lib.zeros(2, 2)), RuntimeError,
     "cartesian_prod: Expect a 1D vector"),
    ("combinations_2d", lambda lib: lib.combinations(lib.zeros(2, 2)), RuntimeError, "combinations: Expect a 1D"),
    ("combinations_neg", lambda lib: lib.combinations(lib.zeros(3), -1), RuntimeError, "non-negative"),
    ("block_diag_3d", lambda lib: lib.block_diag(lib.zeros(2, 2, 2)), RuntimeError, "block_diag: Input tensors"),
    ("rot90_one_dim", lambda lib: lib.rot90(lib.zeros(2, 3), 1, [0]), RuntimeError, "rot90: expected total rotation"),
    ("rot90_1d", lambda lib: lib.rot90(lib.zeros(3)), RuntimeError, "rot90: expected total dims >= 2"),
    ("rot90_same", lambda lib: lib.rot90(lib.zeros(2, 3), 1, [0, -2]), RuntimeError, "rot90: expected rotation dims"),
    ("rot90_range", lambda lib: lib.rot90(lib.zeros(2, 3), 1, [0, 2]), IndexError, "rot90"),
    ("vander_2d", lambda lib: lib.vander(lib.zeros(2, 2)), RuntimeError, "vander: x must be a one-dimensional"),
    ("vander_neg", lambda lib: lib.vander(lib.zeros(2), N=-1), RuntimeError, "vander: N must be non-negative"),
    ("diag_embed_same", lambda lib: lib.diag_embed(lib.zeros(2, 3), 0, 1, 1), RuntimeError, "diag_embed: diagonal"),
    ("diag_embed_range", lambda lib: lib.diag_embed(lib.zeros(2, 3), 0, 1, 3), IndexError, "diag_embed"),
    ("diag_embed_0d", lambda lib: lib.diag_embed(lib.tensor(1.0)), IndexError, "diag_embed"),
    ("triu_neg_row", lambda lib: lib.triu_indices(-1, 4), RuntimeError, "triu_indices: row must be non-negative"),
    ("tril_neg_col", lambda lib: lib.tril_indices(3, -4), RuntimeError, "tril_indices: col must be non-negative"),
    ("tril_float", lambda lib: lib.tril_indices(3, 4, dtype=lib.float32), NotImplementedError, "tril_indices"),
    ("ri_neg_int", lambda lib: lib.repeat_interleave(lib.zeros(2), -1), RuntimeError, "repeat_interleave: Repeats"),
    ("ri_neg_tensor", lambda lib: lib.repeat_interleave(lib.zeros(2), lib.tensor([1, -2])), RuntimeError,
     "repeat_interleave: repeats can not be negative"),
    ("ri_size", lambda lib: lib.repeat_interleave(lib.zeros(2, 3), lib.tensor([1, 2, 3]), dim=0), RuntimeError,
     "repeat_interleave: repeats must have the same size"),
    ("ri_float_tensor", lambda lib: lib.repeat_interleave(lib.zeros(2), lib.tensor([1.0, 2.0])),
     NotImplementedError, "repeat_interleave"),
    ("ri_float", lambda lib: lib.repeat_interleave(lib.zeros(2), 2.0), TypeError, "repeat_interleave"),
    ("ri_2d_repeats", lambda lib: lib.repeat_interleave(lib.zeros(2), lib.tensor([[1, 2]])), RuntimeError,
     "repeat_interleave: repeats must be 0-dim or 1-dim"),
    ("ri_counts_0d", lambda lib: lib.repeat_interleave(lib.tensor(3)), RuntimeError, "repeat_interleave only"),
    ("ri_output_size", lambda lib: lib.repeat_interleave(lib.zeros(2), lib.tensor([1, 2]), output_size=4),
     RuntimeError, "repeat_interleave: allocated size"),
    ("ri_int_output_size", lambda lib: lib.repeat_interleave(lib.zeros(2), 2, 0, output_size=5), RuntimeError,
     "repeat_interleave: Invalid output_size"),
    ("ri_0d_dim", lambda lib: lib.repeat_interleave(lib.tensor(2.5), lib.tensor([2]), dim=0), IndexError,
     "repeat_interleave"),
    ("ri_dim_range", lambda lib: lib.repeat_interleave(lib.zeros(2, 3), 2, dim=2), IndexError, "repeat_interleave"),
    ("unravel_float", lambda lib: lib.unravel_index(lib.tensor([1.0]), (2, 3)), TypeError, "integer dtype"),
    ("unravel_bool", lambda lib: lib.unravel_index(lib.tensor([True]), (2, 3)), TypeError, "integer dtype"),
    ("unravel_neg_shape", lambda lib: lib.unravel_index(lib.tensor([1]), (2, -3)), ValueError, "negative"),
    ("unravel_float_shape", lambda lib: lib.unravel_index(lib.tensor([1]), (2.0, 3)), TypeError, "only contain ints"),
    ("unravel_zero_shape", lambda lib: lib.unravel_index(lib.tensor([1]), (2, 0)), RuntimeError, "ZeroDivision"),
    ("hsplit_0d", lambda lib: lib.hsplit(lib.tensor(1.0), 1), RuntimeError, "hsplit requires a tensor with at least 1"),
    ("hsplit_uneven", lambda lib: lib.hsplit(lib.zeros(2, 3, 4), 2), RuntimeError, "hsplit attempted to split"),
    ("vsplit_1d", lambda lib: lib.vsplit(lib.zeros(6), 1), RuntimeError, "vsplit requires a tensor with at least 2"),
    ("dsplit_2d", lambda lib: lib.dsplit(lib.zeros(2, 4), 2), RuntimeError, "dsplit requires a tensor with at least 3"),
    ("dsplit_zero", lambda lib: lib.dsplit(lib.zeros(2, 3, 4), 0), RuntimeError, "dsplit attempted to split"),
    ("dsplit_tensor", lambda lib: lib.dsplit(lib.zeros(2, 3, 4), lib.tensor([1, 2])), TypeError, "dsplit"),
    ("unfold_too_big", lambda lib: lib.zeros(3, 4).unfold(1, 5, 1), RuntimeError, "unfold: maximum size"),
    ("unfold_step", lambda lib: lib.zeros(3, 4).unfold(1, 2, 0), RuntimeError, "unfold: step is 0"),
    ("unfold_neg_size", lambda lib: lib.zeros(3, 4).unfold(1, -1, 1), RuntimeError, "unfold: size is -1"),
    ("unfold_dim", lambda lib: lib.zeros(3, 4).unfold(2, 1, 1), IndexError, "unfold"),
    ("unfold_0d", lambda lib: lib.tensor(3.0).unfold(0, 2, 1), RuntimeError, "unfold: maximum size"),
    ("new_full_int_size", lambda lib: lib.zeros(2).new_full(2, 1.0), TypeError, "new_full"),
    ("new_empty_neg", lambda lib: lib.zeros(2).new_empty(-1), RuntimeError, "negative dimension"),
]


@pytest.mark.parametrize("name,call,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, call, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc):
            call(torch)
        with pytest.raises(exc, match=match):
            call(ember)
