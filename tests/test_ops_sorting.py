"""Sorting and order statistics against torch: sort/argsort/msort/cummax/cummin/median() (fully specified: values,
indices and gradients), topk/kthvalue/median(dim)/nanmedian/mode (values always; indices and gradients where the
input has no ties, since torch leaves the index among equal values unspecified), searchsorted/bucketize,
unique/unique_consecutive, error paths, float64 gradcheck and hypothesis properties."""
import types

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import ember
from oracle import assert_close, check_op, gradcheck, twins

EM = types.SimpleNamespace(t=ember, name="ember")
TH = types.SimpleNamespace(t=torch, name="torch")
NAN = float("nan")


def make(kind, shape, dtype, rng):
    """uniform: no ties; ties: few distinct values; nan: uniform with NaNs; int: int64 with ties."""
    if kind == "int":
        return rng.integers(-3, 4, shape).astype(np.int64)
    if kind == "ties":
        a = rng.integers(-2, 3, shape).astype(np.float64)
    else:
        a = rng.uniform(-2, 2, shape)
        if kind == "nan":
            a[rng.random(shape) < 0.25] = NAN
    return np.asarray(a, dtype=dtype)


INPUTS = [("uniform", np.float32), ("uniform", np.float64), ("ties", np.float32), ("nan", np.float64),
          ("int", np.int64)]
SHAPE_DIMS = [((), -1), ((0,), 0), ((7,), -1), ((3, 5), 0), ((3, 5), -1), ((2, 3, 4), -2), ((0, 3), 1),
              ((4, 0), -1), ((3, 100), -1)]
SHAPE_IDS = [f"{'x'.join(map(str, s)) or '0d'}-dim{d}" for s, d in SHAPE_DIMS]

# ---- ops whose every output torch specifies (stable sort, latest index of a running extreme) ------------------
# (torch's sort with stable=False reorders ties in long rows: those are compared by value in SELECT below)
EXACT = {
    "sort_stable": lambda m, x, d: m.t.sort(x, dim=d, stable=True),
    "sort_stable_desc": lambda m, x, d: m.t.sort(x, stable=True, dim=d, descending=True),
    "argsort_stable": lambda m, x, d: m.t.argsort(x, dim=d, stable=True),
    "argsort_stable_desc": lambda m, x, d: m.t.argsort(x, dim=d, descending=True, stable=True),
    "cummax": lambda m, x, d: m.t.cummax(x, d),
    "cummin": lambda m, x, d: m.t.cummin(x, dim=d),
}
# ... and those without a dim (median() shares its gradient evenly among ties, as torch)
EXACT_NO_DIM = {
    "msort": lambda m, x: m.t.msort(x),
    "median_all": lambda m, x: m.t.median(x),
    "nanmedian_all": lambda m, x: m.t.nanmedian(x),
}


def for_each_input(shape, seed, check):
    """Run ``check(x, kind)`` on every kind of input of ``shape``, naming the input in a failure."""
    for kind, dtype in INPUTS:
        x = make(kind, shape, dtype, np.random.default_rng(seed))
        try:
            check(x, kind)
        except AssertionError as e:
            raise AssertionError(f"input {kind} {np.dtype(dtype).name}: {e}") from e


@pytest.mark.parametrize("shape,dim", SHAPE_DIMS, ids=SHAPE_IDS)
@pytest.mark.parametrize("name", list(EXACT))
def test_exact_ops_match_torch(name, shape, dim):
    fn = EXACT[name]
    for_each_input(shape, 0, lambda x, kind: check_op(lambda t: fn(EM, t, dim), lambda t: fn(TH, t, dim), x))


@pytest.mark.parametrize("shape", [(), (0,), (1,), (6,), (7,), (3, 5), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name", list(EXACT_NO_DIM))
def test_exact_no_dim_ops_match_torch(name, shape):
    fn = EXACT_NO_DIM[name]
    for_each_input(shape, 1, lambda x, kind: check_op(lambda t: fn(EM, t), lambda t: fn(TH, t), x))


# ---- ops whose index among equal values torch leaves unspecified -----------------------------------------------
def _mid(n):
    return max((n + 1) // 2, 1)


SELECT = {  # name -> (fn(m, x, dim, size), needs a non-empty dim)
    "sort": (lambda m, x, d, n: m.t.sort(x, d), False),
    "sort_desc": (lambda m, x, d, n: m.t.sort(x, dim=d, descending=True), False),
    "topk": (lambda m, x, d, n: m.t.topk(x, min(3, n), d), False),
    "topk_smallest": (lambda m, x, d, n: m.t.topk(x, min(3, n), dim=d, largest=False), False),
    "topk_all": (lambda m, x, d, n: m.t.topk(x, n, d), False),
    "topk_none": (lambda m, x, d, n: m.t.topk(x, 0, d), False),
    "kthvalue_first": (lambda m, x, d, n: m.t.kthvalue(x, 1, d), True),
    "kthvalue_mid_keepdim": (lambda m, x, d, n: m.t.kthvalue(x, _mid(n), d, keepdim=True), True),
    "kthvalue_last": (lambda m, x, d, n: m.t.kthvalue(x, n, dim=d), True),
    "median_dim": (lambda m, x, d, n: m.t.median(x, d), True),
    "median_dim_keepdim": (lambda m, x, d, n: m.t.median(x, dim=d, keepdim=True), True),
    "nanmedian_dim": (lambda m, x, d, n: m.t.nanmedian(x, d), True),
    "mode": (lambda m, x, d, n: m.t.mode(x, d), True),
    "mode_keepdim": (lambda m, x, d, n: m.t.mode(x, d, keepdim=True), True),
}


def _assert_index_picks_value(x, values, indices, dim, keepdim_shape):
    """x at ``indices`` along ``dim`` equals ``values`` (NaN equal to NaN)."""
    v, i = values.detach().numpy(), indices.numpy()
    assert indices.dtype is ember.int64 and not indices.requires_grad
    if x.ndim == 0:
        np.testing.assert_array_equal(v, x)
        assert i.tolist() == 0
        return
    d = dim % x.ndim
    i_full = i.reshape(keepdim_shape) if i.ndim < x.ndim else i
    picked = np.take_along_axis(x, i_full, d)
    np.testing.assert_array_equal(picked.reshape(v.shape), v)


# (an empty reduced dim is an error for kthvalue/median/mode: see test_errors_match_torch)
SELECT_CASES = [(name, shape, dim) for name in SELECT for shape, dim in SHAPE_DIMS
                if not (SELECT[name][1] and shape and shape[dim] == 0)]


@pytest.mark.parametrize("name,shape,dim", SELECT_CASES, ids=[f"{c[0]}-{SHAPE_IDS[SHAPE_DIMS.index(c[1:])]}"
                                                              for c in SELECT_CASES])
def test_selection_ops_match_torch(name, shape, dim):
    fn = SELECT[name][0]
    n = shape[dim] if shape else 1

    def check(x, kind):
        if kind == "uniform":  # no ties: indices and gradients are fully determined
            check_op(lambda t: fn(EM, t, dim, n), lambda t: fn(TH, t, dim, n), x)
            return
        if name.startswith("mode") and kind == "nan":  # torch's mode kernel sorts with a comparison NaN
            x = np.asarray(np.nan_to_num(x, nan=0.5))  # breaks (its result is undefined): use a repeated number instead
        (e,), (t,) = twins(x, requires_grad=False)
        e_out, t_out = fn(EM, e, dim, n), fn(TH, t, dim, n)
        assert type(e_out).__name__ == type(t_out).__name__
        assert_close(e_out.values, t_out.values, 0, 0, "values")
        assert tuple(e_out.indices.shape) == tuple(t_out.indices.shape)
        keep = tuple(1 if i == dim % max(len(shape), 1) else s for i, s in enumerate(shape))
        _assert_index_picks_value(x, e_out.values, e_out.indices, dim, keep)

    for_each_input(shape, 2, check)


@pytest.mark.parametrize("descending", [False, True])
def test_default_argsort_picks_sorted_values(descending):
    x = make("nan", (3, 100), np.float32, np.random.default_rng(6))
    x[:, ::3] = 1.0  # many ties
    e = ember.argsort(ember.tensor(x), -1, descending).numpy()
    t = torch.argsort(torch.tensor(x), -1, descending).numpy()
    np.testing.assert_array_equal(np.take_along_axis(x, e, -1), np.take_along_axis(x, t, -1))


METHODS = {
    "sort": lambda x: x.sort(0, True), "sort_stable": lambda x: x.sort(dim=-1, descending=True, stable=True),
    "argsort": lambda x: x.argsort(dim=1, stable=True), "msort": lambda x: x.msort(),
    "topk": lambda x: x.topk(2, 0, False, True), "kthvalue": lambda x: x.kthvalue(2, dim=1, keepdim=True),
    "median": lambda x: x.median(), "median_dim": lambda x: x.median(1), "nanmedian": lambda x: x.nanmedian(),
    "nanmedian_dim": lambda x: x.nanmedian(0, True), "mode": lambda x: x.mode(0),
    "cummax": lambda x: x.cummax(1), "cummin": lambda x: x.cummin(dim=0),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(METHODS))
def test_tensor_methods_match_torch(name, dtype):
    x = make("uniform", (4, 5), dtype, np.random.default_rng(7))
    check_op(METHODS[name], METHODS[name], x)


def test_topk_unsorted_returns_the_same_set():
    x = np.random.default_rng(3).uniform(-1, 1, (4, 90)).astype(np.float32)
    e = ember.topk(ember.tensor(x), 7, sorted=False)
    t = torch.topk(torch.tensor(x), 7, sorted=False)
    np.testing.assert_array_equal(np.sort(e.values.numpy(), -1), np.sort(t.values.numpy(), -1))
    _assert_index_picks_value(x, e.values, e.indices, -1, None)


def test_topk_and_kthvalue_take_k_as_a_0d_integer_tensor():
    x = np.array([[1.0, 3.0, 2.0, 0.5]], dtype=np.float32)
    for fn in (lambda m, t: m.topk(t, m.tensor(2)), lambda m, t: m.kthvalue(t, m.tensor(3))):
        check_op(lambda t: fn(ember, t), lambda t: fn(torch, t), x)


def test_topk_ties_at_the_cut_keep_sorted_values():
    x = np.array([[1.0, 2, 2, 2, 1, NAN, 0, 2] * 10], dtype=np.float64)  # long row: the partition path
    for largest in (True, False):
        e = ember.topk(ember.tensor(x), 4, largest=largest)
        t = torch.topk(torch.tensor(x), 4, largest=largest)
        assert_close(e.values, t.values, 0, 0, "values")
        _assert_index_picks_value(x, e.values, e.indices, -1, None)


def test_median_nan_index_is_first_nan():
    # torch's CPU kernel scans for the first NaN of each row (a deterministic scan, not a tie choice)
    x = np.array([[3.0, NAN, 1.0, NAN], [1.0, 2.0, 3.0, 4.0], [NAN, NAN, NAN, NAN]], dtype=np.float32)
    for fn in (lambda m, t: m.t.median(t, 1), lambda m, t: m.t.nanmedian(t, 1)):
        e, t = fn(EM, ember.tensor(x)), fn(TH, torch.tensor(x))
        assert_close(e.values, t.values, 0, 0, "values")
        assert e.indices[:2].tolist() == t.indices[:2].tolist()
        assert e.indices.tolist()[2] in range(4)


def test_mode_of_equally_frequent_values_is_the_smallest():
    for row in ([1.0, 2, 2, 2, 1, 5, 1], [3.0, 2, 2, 3, 1, 5, 1], [4.0, 9.0, -1.0]):
        e, t = ember.mode(ember.tensor(row)), torch.mode(torch.tensor(row))
        assert e.values.item() == t.values.item()
        assert row[e.indices.item()] == e.values.item()


def test_sort_descending_unsigned_and_bool_keep_original_order_of_ties():
    for x in (np.array([3, 1, 3, 0, 1, 255], dtype=np.uint8), np.array([True, False, True, False, True])):
        for desc in (False, True):
            check_op(lambda t, d=desc: ember.sort(t, descending=d), lambda t, d=desc: torch.sort(t, descending=d), x)


def test_cummax_bool_and_signed_zero():
    check_op(lambda t: ember.cummax(t, 0), lambda t: torch.cummax(t, 0), np.array([False, True, False, True]))
    check_op(lambda t: ember.cummin(t, 0), lambda t: torch.cummin(t, 0), np.array([0.0, -0.0, 0.0, -1.0, -1.0]))


# ---- gradients -------------------------------------------------------------------------------------------------
GRAD_FNS = {
    "sort": lambda x: ember.sort(x, 1, descending=True).values,
    "msort": lambda x: ember.msort(x),
    "topk": lambda x: ember.topk(x, 2, dim=0).values,
    "kthvalue": lambda x: ember.kthvalue(x, 2, 1).values,
    "median_dim": lambda x: ember.median(x, 1, keepdim=True).values,
    "median_all": lambda x: ember.median(x),
    "nanmedian_dim": lambda x: ember.nanmedian(x, 0).values,
    "mode": lambda x: ember.mode(x, 1).values,
    "cummax": lambda x: ember.cummax(x, 1).values,
    "cummin": lambda x: ember.cummin(x, 0).values,
}


@pytest.mark.parametrize("name", list(GRAD_FNS))
def test_gradcheck(name):
    x = np.random.default_rng(4).uniform(-2, 2, (3, 4))
    assert gradcheck(GRAD_FNS[name], x)


def test_gradcheck_nanmedian_all_skips_nans():
    x = np.array([[0.3, NAN, -1.2], [2.0, 0.7, NAN]])
    assert gradcheck(lambda t: ember.nanmedian(t), x)


def test_median_all_shares_gradient_among_ties_and_nans():
    for row in ([1.0, 2, 2, 2, 1, 5], [1.0, NAN, 2, NAN], [NAN, NAN]):
        check_op(lambda t: t.median(), lambda t: t.median(), np.array(row, dtype=np.float32))
        check_op(lambda t: t.nanmedian(), lambda t: t.nanmedian(), np.array(row, dtype=np.float64))


def test_values_have_torch_node_names_and_indices_no_grad():
    x = ember.tensor([[1.0, 3.0, 2.0]], requires_grad=True)
    t = torch.tensor([[1.0, 3.0, 2.0]], requires_grad=True)
    for fn in (lambda m, v: m.sort(v), lambda m, v: m.topk(v, 1), lambda m, v: m.kthvalue(v, 1),
               lambda m, v: m.median(v, 1), lambda m, v: m.nanmedian(v, 1), lambda m, v: m.mode(v),
               lambda m, v: m.cummax(v, 1), lambda m, v: m.cummin(v, 0)):
        e_out, t_out = fn(ember, x), fn(torch, t)
        assert e_out.values.grad_fn.name() == t_out.values.grad_fn.name()
        assert not e_out.indices.requires_grad
    assert ember.median(x).grad_fn.name() == torch.median(t).grad_fn.name()


# ---- named results ---------------------------------------------------------------------------------------------
def test_results_are_named_pairs():
    x = ember.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    for op, r in [("sort", ember.sort(x)), ("topk", x.topk(1)), ("kthvalue", x.kthvalue(1)),
                  ("median", x.median(1)), ("nanmedian", x.nanmedian(1)), ("mode", x.mode()),
                  ("cummax", x.cummax(1)), ("cummin", x.cummin(1))]:
        values, indices = r
        assert isinstance(r, tuple) and values is r.values and indices is r.indices
        assert repr(r).startswith(f"ember.return_types.{op}(")
        assert indices.dtype is ember.int64


# ---- searchsorted / bucketize ----------------------------------------------------------------------------------
SEQ = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
SEARCH = [
    ("1d_left", SEQ, np.array([[0.0, 2.0, 2.5], [NAN, 5.0, 9.0]]), {}),
    ("1d_right", SEQ, np.array([0.0, 2.0, 2.5, 5.0, NAN]), dict(right=True)),
    ("1d_side_right", SEQ, np.array([0.0, 2.0, 2.5, 5.0]), dict(side="right")),
    ("side_right_overrides_right_false", SEQ, np.array([2.0]), dict(side="right", right=False)),
    ("side_left", SEQ, np.array([2.0]), dict(side="left")),
    ("out_int32", SEQ, np.array([2.0, 4.0]), dict(out_int32=True)),
    ("scalar_float", SEQ, 2.0, {}), ("scalar_int_right", SEQ, 2, dict(right=True)),
    ("0d_value", SEQ, np.array(2.5), {}),
    ("nd", np.array([[1.0, 2, 3], [2, 3, 4]]), np.array([[2.5, 1, 3], [2.5, 5, 2]]), {}),
    ("nd_right", np.array([[[1.0, 2, 3]], [[2, 3, 4]]]), np.array([[[3.0]], [[3.0]]]), dict(right=True)),
    ("sorter", np.array([3.0, 1, 2]), np.array([2.5, 0.5, 3.0]), dict(sorter=np.array([1, 2, 0]))),
    ("sorter_nd", np.array([[3.0, 1, 2], [0, 9, 4]]), np.array([[2.5], [5.0]]),
     dict(sorter=np.array([[1, 2, 0], [0, 2, 1]]), side="right")),
    ("int_seq_float_values", np.array([1, 2, 3]), np.array([2.5, 2.0]), {}),
    ("int_seq_float_scalar", np.array([1, 2, 3]), 2.5, {}),
    ("float32_seq_scalar", np.array([0.1, 0.2], dtype=np.float32), 0.2, {}),
    ("float64_seq_float32_values", np.array([0.1, 0.2]), np.array([0.2], dtype=np.float32), {}),
    ("empty_values", SEQ, np.zeros((0,)), {}),
    ("empty_seq", np.zeros((0,)), np.array([1.0]), {}),
    ("empty_nd", np.zeros((0, 3)), np.zeros((0, 2)), {}),
    ("empty_rows_nd", np.zeros((2, 0)), np.ones((2, 3)), dict(right=True)),
]


def _as_tensors(m, *items):
    return [m.tensor(a) if isinstance(a, np.ndarray) else a for a in items]


@pytest.mark.parametrize("name,seq,values,kw", SEARCH, ids=[c[0] for c in SEARCH])
def test_searchsorted_matches_torch(name, seq, values, kw):
    def run(m):
        s, v = _as_tensors(m, seq, values)
        kw2 = dict(kw, sorter=m.tensor(kw["sorter"])) if "sorter" in kw else kw
        return m.searchsorted(s, v, **kw2)

    assert_close(run(ember), run(torch), 0, 0, name)


BUCKET = [
    ("left", np.array([[0.0, 2.0, 2.5], [NAN, 5.0, 9.0]]), SEQ, {}),
    ("right", np.array([0.0, 2.0, 2.5, 5.0]), SEQ, dict(right=True)),
    ("scalar", 2.0, SEQ, {}), ("0d", np.array(3.0), SEQ, dict(out_int32=True)),
    ("int_input", np.array([1, 2, 7]), np.array([1.5, 2.5]), {}),
    ("empty", np.zeros((2, 0)), SEQ, {}),
]


@pytest.mark.parametrize("name,values,bounds,kw", BUCKET, ids=[c[0] for c in BUCKET])
def test_bucketize_matches_torch(name, values, bounds, kw):
    def run(m):
        v, b = _as_tensors(m, values, bounds)
        return m.bucketize(v, b, **kw)

    assert_close(run(ember), run(torch), 0, 0, name)


# ---- unique / unique_consecutive --------------------------------------------------------------------------------
UNIQ_X = {
    "floats_nan": np.array([3.0, 1, NAN, 1, 3, NAN, 2, 2], dtype=np.float32),
    "ints_2d": np.array([[3, 1, 2], [1, 1, 1], [3, 1, 2], [3, 1, 2]]),
    "floats_3d": np.random.default_rng(5).integers(0, 2, (3, 2, 4)).astype(np.float64),
    "0d": np.array(3.0),
    "empty": np.zeros((0,)),
    "empty_rows": np.zeros((0, 3)),
    "empty_cols": np.zeros((3, 0)),
    "bool": np.array([True, False, False, True]),
}
# (with dim, torch sorts slices by a comparison NaN breaks: NaN inputs are tested without dim only)
UNIQ = [("floats_nan", None), ("ints_2d", None), ("ints_2d", 0), ("ints_2d", 1), ("ints_2d", -1),
        ("floats_3d", None), ("floats_3d", 0), ("floats_3d", 1), ("floats_3d", -1), ("0d", None),
        ("empty", None), ("empty", 0), ("empty_rows", None), ("empty_rows", 0), ("empty_cols", 1),
        ("bool", None), ("bool", 0)]


@pytest.mark.parametrize("consecutive", [False, True], ids=["unique", "consecutive"])
@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)],
                         ids=["plain", "inverse", "counts", "both"])
@pytest.mark.parametrize("xname,dim", UNIQ, ids=[f"{x}-dim{d}" for x, d in UNIQ])
def test_unique_matches_torch(xname, dim, flags, consecutive):
    x = UNIQ_X[xname]

    def run(m, t):
        kw = dict(return_inverse=flags[0], return_counts=flags[1], dim=dim)
        return m.t.unique_consecutive(t, **kw) if consecutive else m.t.unique(t, sorted=True, **kw)

    (e,), (t,) = twins(x, requires_grad=False)
    assert_close(run(EM, e), run(TH, t), 0, 0, xname)


def test_unique_tensor_methods():
    x = np.array([[2, 2, 1], [2, 2, 1], [0, 0, 0]])
    (e,), (t,) = twins(x)
    assert_close(e.unique(return_counts=True), t.unique(return_counts=True), 0, 0)
    assert_close(e.unique(dim=0, return_inverse=True), t.unique(dim=0, return_inverse=True), 0, 0)
    assert_close(e.unique_consecutive(return_inverse=True, return_counts=True),
                 t.unique_consecutive(return_inverse=True, return_counts=True), 0, 0)


@pytest.mark.parametrize("fn", [lambda m, x: m.unique(x), lambda m, x: m.unique(x, dim=0),
                                lambda m, x: m.unique_consecutive(x)], ids=["unique", "dim", "consecutive"])
def test_unique_values_require_grad_without_derivative(fn):
    x = ember.tensor([[1.0, 1.0], [2.0, 2.0]], requires_grad=True)
    t = torch.tensor([[1.0, 1.0], [2.0, 2.0]], requires_grad=True)
    e_out, t_out = fn(ember, x), fn(torch, t)
    assert e_out.requires_grad == t_out.requires_grad
    assert e_out.grad_fn.name() == t_out.grad_fn.name()
    with pytest.raises(NotImplementedError):
        t_out.sum().backward()
    with pytest.raises(NotImplementedError, match="derivative for"):
        e_out.sum().backward()


# ---- errors --------------------------------------------------------------------------------------------------
def _z(m, *shape, dtype=None):
    return m.zeros(shape, dtype=dtype or m.float32)


ERRORS = [
    ("sort_dim", lambda m: m.sort(_z(m, 2, 3), 2), IndexError, "sort.*Dimension out of range"),
    ("sort_0d_dim", lambda m: m.sort(_z(m), 1), IndexError, "sort.*Dimension out of range"),
    ("argsort_dim", lambda m: m.argsort(_z(m, 3), -2), IndexError, "sort.*Dimension out of range"),
    ("topk_k_too_big", lambda m: m.topk(_z(m, 3), 4), RuntimeError, "topk.*selected index k out of range"),
    ("topk_k_negative", lambda m: m.topk(_z(m, 3), -1), RuntimeError, "topk.*selected index k out of range"),
    ("topk_0d_k2", lambda m: m.topk(_z(m), 2), RuntimeError, "topk.*selected index k out of range"),
    ("topk_dim", lambda m: m.topk(_z(m, 2, 3), 1, dim=2), IndexError, "topk.*Dimension out of range"),
    ("topk_float_k", lambda m: m.topk(_z(m, 3), 2.0), TypeError, "topk.*must be int"),
    ("topk_bool", lambda m: m.topk(_z(m, 3, dtype=m.bool), 1), RuntimeError, "topk does not support bool"),
    ("kthvalue_k0", lambda m: m.kthvalue(_z(m, 3), 0), RuntimeError, "kthvalue.*k out of range"),
    ("kthvalue_k_too_big", lambda m: m.kthvalue(_z(m, 2, 3), 3, 0), RuntimeError, "kthvalue.*k out of range"),
    ("kthvalue_0d_k2", lambda m: m.kthvalue(_z(m), 2), RuntimeError, "kthvalue.*k out of range"),
    ("kthvalue_empty_dim", lambda m: m.kthvalue(_z(m, 0, 3), 1, 0), IndexError, "kthvalue.*non-zero size"),
    ("kthvalue_empty_k2", lambda m: m.kthvalue(_z(m, 3, 0), 2), IndexError, "kthvalue.*non-zero size"),
    ("kthvalue_float_dim", lambda m: m.kthvalue(_z(m, 3), 1, 0.0), TypeError, "kthvalue.*'dim' must be int"),
    ("kthvalue_bool", lambda m: m.kthvalue(_z(m, 3, dtype=m.bool), 1), NotImplementedError, "kthvalue"),
    ("median_empty_dim", lambda m: m.median(_z(m, 0, 3), 0), IndexError, "median.*non-zero size"),
    ("nanmedian_empty_dim", lambda m: m.nanmedian(_z(m, 2, 0), -1), IndexError, "nanmedian.*non-zero size"),
    ("median_bool", lambda m: m.median(_z(m, 3, dtype=m.bool)), NotImplementedError, "median"),
    ("median_dim_bool", lambda m: m.median(_z(m, 3, dtype=m.bool), 0), NotImplementedError, "median"),
    ("median_dim_range", lambda m: m.median(_z(m, 3), 1), IndexError, "median.*Dimension out of range"),
    ("mode_empty", lambda m: m.mode(_z(m, 0)), IndexError, "mode.*non-zero size"),
    ("mode_empty_dim0", lambda m: m.mode(_z(m, 0, 3), 0), IndexError, "mode.*non-zero size"),
    ("cummax_dim", lambda m: m.cummax(_z(m, 3), 1), IndexError, "cummax.*Dimension out of range"),
    ("cummin_0d_dim", lambda m: m.cummin(_z(m), -2), IndexError, "cummin.*Dimension out of range"),
    ("searchsorted_side", lambda m: m.searchsorted(_z(m, 3), _z(m, 2), side="middle"), RuntimeError,
     "searchsorted.*side can only be"),
    ("searchsorted_side_right_conflict", lambda m: m.searchsorted(_z(m, 3), _z(m, 2), side="left", right=True),
     RuntimeError, "searchsorted.*opposites"),
    ("searchsorted_0d_seq", lambda m: m.searchsorted(_z(m), _z(m, 2)), RuntimeError,
     "searchsorted.*positive dimension"),
    ("searchsorted_scalar_nd", lambda m: m.searchsorted(_z(m, 2, 3), 1.0), RuntimeError,
     "searchsorted.*scalar only"),
    ("searchsorted_0d_value_nd", lambda m: m.searchsorted(_z(m, 2, 3), _z(m)), RuntimeError,
     "searchsorted.*scalar only"),
    ("searchsorted_leading_dims", lambda m: m.searchsorted(_z(m, 2, 3), _z(m, 1, 3)), RuntimeError,
     "searchsorted.*must match"),
    ("searchsorted_ndim", lambda m: m.searchsorted(_z(m, 2, 3), _z(m, 3)), RuntimeError,
     "searchsorted.*must match"),
    ("searchsorted_sorter_dtype", lambda m: m.searchsorted(_z(m, 3), _z(m, 1), sorter=_z(m, 3, dtype=m.int32)),
     RuntimeError, "searchsorted.*long dtype"),
    ("searchsorted_sorter_size", lambda m: m.searchsorted(_z(m, 3), _z(m, 1), sorter=_z(m, 2, dtype=m.int64)),
     RuntimeError, "searchsorted.*same size"),
    ("searchsorted_sorter_range", lambda m: m.searchsorted(_z(m, 3), _z(m, 1), sorter=m.tensor([0, 1, 3])),
     RuntimeError, "searchsorted.*sorter index out of range"),
    ("searchsorted_sorter_negative", lambda m: m.searchsorted(_z(m, 2), _z(m, 1), sorter=m.tensor([0, -1])),
     RuntimeError, "searchsorted.*sorter index out of range"),
    ("searchsorted_list", lambda m: m.searchsorted([1.0, 2.0], _z(m, 1)), TypeError, "searchsorted"),
    ("bucketize_2d", lambda m: m.bucketize(_z(m, 3), _z(m, 1, 2)), RuntimeError, "bucketize.*1 dimension"),
    ("bucketize_0d", lambda m: m.bucketize(_z(m, 3), _z(m)), RuntimeError, "bucketize.*1 dimension"),
    ("bucketize_list", lambda m: m.bucketize(_z(m, 3), [1.0, 2.0]), TypeError, "bucketize"),
    ("unique_dim_range", lambda m: m.unique(_z(m, 2, 3), dim=2), IndexError, "unique.*Dimension out of range"),
    ("unique_0d_dim", lambda m: m.unique(_z(m), dim=0), IndexError, "unique.*no dimensions"),
    ("unique_zero_size_other_dim", lambda m: m.unique(_z(m, 0, 3), dim=1), RuntimeError,
     "unique.*0 sized dimensions"),
    ("unique_two_zero_sizes", lambda m: m.unique(_z(m, 0, 0), dim=0), RuntimeError, "unique.*more than one"),
    ("unique_consecutive_two_zero_sizes", lambda m: m.unique_consecutive(_z(m, 2, 0, 0), dim=1), RuntimeError,
     "unique_consecutive.*more than one"),
    ("nanmedian_bool", lambda m: m.nanmedian(_z(m, 3, dtype=m.bool)), NotImplementedError, "median"),
    ("unique_consecutive_zero_size", lambda m: m.unique_consecutive(_z(m, 3, 0), dim=0), RuntimeError,
     "unique_consecutive.*0 sized dimensions"),
]


@pytest.mark.parametrize("name,fn,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, exc, match):
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc, match=match):
        fn(ember)


# ---- properties ------------------------------------------------------------------------------------------------
small_floats = arrays(np.float64, array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6),
                      elements=st.one_of(st.integers(-3, 3).map(float), st.just(NAN)))


@settings(max_examples=25, deadline=None)
@given(x=small_floats, descending=st.booleans(), data=st.data())
def test_sort_is_an_ordered_stable_permutation(x, descending, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    values, indices = ember.sort(ember.tensor(x), dim, descending=descending)
    v, i = values.numpy(), indices.numpy()
    np.testing.assert_array_equal(np.take_along_axis(x, i, dim), v)  # the indices pick the values
    np.testing.assert_array_equal(np.sort(i, axis=dim), np.broadcast_to(  # ... and are a permutation
        np.arange(x.shape[dim]).reshape((-1,) + (1,) * (x.ndim - dim % x.ndim - 1)), x.shape))
    key = np.moveaxis(np.where(np.isnan(v), 100.0, v), dim, -1)  # NaN is the largest (inputs are small ints)
    idx = np.moveaxis(i, dim, -1)
    before, after = (key[..., 1:], key[..., :-1]) if descending else (key[..., :-1], key[..., 1:])
    assert np.all(before <= after)  # ordered ...
    ties = key[..., :-1] == key[..., 1:]
    assert np.all(idx[..., :-1][ties] < idx[..., 1:][ties])  # ... and stable, also when descending


@settings(max_examples=25, deadline=None)
@given(x=small_floats, largest=st.booleans(), data=st.data())
def test_topk_agrees_with_sort(x, largest, data):
    n = x.shape[-1]
    k = data.draw(st.integers(0, n))
    top = ember.topk(ember.tensor(x), k, largest=largest)
    ref = ember.sort(ember.tensor(x), -1, descending=largest).values[..., :k]
    np.testing.assert_array_equal(top.values.numpy(), ref.numpy())
    np.testing.assert_array_equal(np.take_along_axis(x, top.indices.numpy(), -1), top.values.numpy())


@settings(max_examples=25, deadline=None)
@given(seq=arrays(np.float64, st.integers(0, 8), elements=st.integers(-4, 4).map(float)),
       values=arrays(np.float64, st.integers(0, 8), elements=st.integers(-5, 5).map(float)), right=st.booleans())
def test_searchsorted_insertion_points_keep_order(seq, values, right):
    seq = np.sort(seq)
    pos = ember.searchsorted(ember.tensor(seq), ember.tensor(values), right=right).numpy()
    for p, v in zip(pos, values):
        below, above = seq[:p], seq[p:]
        assert np.all(below <= v if right else below < v) and np.all(above > v if right else above >= v)


@settings(max_examples=25, deadline=None)
@given(x=arrays(np.int64, array_shapes(min_dims=0, max_dims=3, max_side=5), elements=st.integers(-3, 3)))
def test_unique_reconstructs_input(x):
    values, inverse, counts = ember.unique(ember.tensor(x), return_inverse=True, return_counts=True)
    v = values.numpy()
    assert np.all(np.diff(v) > 0) and counts.numpy().sum() == x.size
    np.testing.assert_array_equal(v[inverse.numpy()], x)
