"""repr(tensor) must be torch's text with 'torch' spelled 'ember'."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ember

NAN, INF = math.nan, math.inf


@pytest.fixture(autouse=True)
def _default_printoptions():
    yield
    torch.set_printoptions(profile="default", sci_mode=None)
    ember.set_printoptions(profile="default", sci_mode=None)
    torch.set_default_dtype(torch.float32)


def expected(t: torch.Tensor) -> str:
    return repr(t).replace("torch", "ember")


def assert_same_repr(arr: np.ndarray, requires_grad=False):
    e = ember.tensor(arr.copy(), requires_grad=requires_grad)
    t = torch.tensor(arr.copy(), requires_grad=requires_grad)
    assert repr(e) == expected(t)
    assert str(e) == str(t).replace("torch", "ember")


def a(values, dtype=np.float32):
    return np.array(values, dtype=dtype)


rng = np.random.default_rng(0)

CASES = {
    "integer-valued floats": a([1.0, 2.0, 3.0]),
    "negative integer-valued": a([-1.0, 20.0, -300.0]),
    "fixed point": a([0.5, -1.25, 3.14159]),
    "rounding to 4 decimals": a([1.23456789, 9.99996, -0.00015]),
    "sci: tiny": a([1e-5, 2.0]),
    "sci: huge": a([1e9, 2.0]),
    "sci: ratio over 1000": a([0.01, 20.5]),
    "sci: integer-valued": a([1.0, 1e9]),
    "not sci at ratio 1000": a([0.1, 100.0]),
    "nan and inf": a([NAN, INF, -INF, 1.5]),
    "nan with integers": a([NAN, 1.0, 2.0]),
    "only nan": a([NAN, NAN]),
    "all zeros": a([0.0, 0.0]),
    "negative zero": a([-0.0, 1.0]),
    "0-dim float": a(3.0),
    "0-dim fraction": a(-2.5),
    "0-dim nan": a(NAN),
    "0-dim int": a(7, np.int64),
    "0-dim bool": a(True, np.bool_),
    "int64": a([1, -20, 300], np.int64),
    "int32": a([1, -20, 300], np.int32),
    "int16": a([5, 6], np.int16),
    "int8": a([-128, 127], np.int8),
    "uint8": a([0, 255], np.uint8),
    "bool": a([True, False, True], np.bool_),
    "float64": a([1.5, 2.0], np.float64),
    "float64 integers": a([1.0, 2.0], np.float64),
    "float16": a([0.1, 65504.0], np.float16),
    "empty float": np.zeros((0,), np.float32),
    "empty 2-d": np.zeros((0, 3), np.float32),
    "empty 3-d int": np.zeros((2, 0, 4), np.int64),
    "empty int64": np.zeros((0,), np.int64),
    "empty bool": np.zeros((0,), np.bool_),
    "empty float64": np.zeros((0, 1), np.float64),
    "matrix": rng.standard_normal((3, 4)).astype(np.float32),
    "3-d": rng.standard_normal((2, 3, 4)).astype(np.float32),
    "4-d ints": np.arange(48, dtype=np.int64).reshape(2, 2, 3, 4) - 20,
    "wrapping row": rng.standard_normal(40).astype(np.float32),
    "wrapping rows in a matrix": rng.standard_normal((2, 30)).astype(np.float32),
    "wide ints": np.arange(100, dtype=np.int64) * 1000,
    "summarized vector": np.arange(2000, dtype=np.float32),
    "summarized matrix": rng.standard_normal((100, 100)).astype(np.float32),
    "summarized: short first dim": rng.standard_normal((3, 500)).astype(np.float32),
    "summarized 3-d": rng.standard_normal((10, 10, 11)).astype(np.float64),
    "summarized ints": np.arange(1001, dtype=np.int32),
    "summarized bool": rng.random((40, 30)) > 0.5,
    "exactly threshold": np.arange(1000, dtype=np.float32) / 7,
    "summary ignores hidden values for width": np.concatenate([np.ones(3), np.full(1000, 1e-9), np.ones(3)]),
    "one column": rng.standard_normal((5, 1)).astype(np.float32),
    "one row": rng.standard_normal((1, 5)).astype(np.float32),
}


@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches_torch(name):
    assert_same_repr(CASES[name])


@pytest.mark.parametrize("name", ["fixed point", "matrix", "0-dim float", "empty float", "summarized matrix",
                                  "float64", "wrapping row"])
def test_repr_requires_grad_suffix(name):
    assert_same_repr(CASES[name], requires_grad=True)


def make_double(lib):
    """The same custom autograd.Function (same class name) for ember or torch."""

    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Double


GRAD_FNS = [
    ("mul", lambda x, m: x * 2),
    ("add", lambda x, m: x + x),
    ("sum", lambda x, m: x.sum()),
    ("mean", lambda x, m: x.mean()),
    ("custom Function", lambda x, m: make_double(m).apply(x)),
    ("neg", lambda x, m: -x),
    ("exp", lambda x, m: x.exp()),
    ("float64 result", lambda x, m: x.double() * 3),
]


@pytest.mark.parametrize("name,fn", GRAD_FNS, ids=[g[0] for g in GRAD_FNS])
def test_repr_grad_fn_suffix(name, fn):
    x = rng.standard_normal((3, 3)).astype(np.float32)
    e = fn(ember.tensor(x, requires_grad=True), ember)
    t = fn(torch.tensor(x, requires_grad=True), torch)
    assert repr(e) == expected(t)


def test_repr_suffix_moves_to_new_line_when_too_long():
    x = np.arange(18, dtype=np.float64) + 0.5  # one 80-character row, then the suffixes
    assert_same_repr(x, requires_grad=True)
    x = np.arange(13, dtype=np.float64) + 0.5
    assert_same_repr(x, requires_grad=True)


def test_repr_under_float64_default_dtype():
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    for arr in (a([1.5, 2.0], np.float32), a([1.5, 2.0], np.float64), np.zeros((0,), np.float32),
                np.zeros((0,), np.float64)):
        e, t = ember.tensor(arr), torch.tensor(arr)
        assert repr(e) == expected(t)


PRINT_OPTIONS = [
    dict(precision=2),
    dict(precision=8),
    dict(threshold=5),
    dict(threshold=5, edgeitems=1),
    dict(threshold=5, edgeitems=0),
    dict(linewidth=40),
    dict(linewidth=5),
    dict(sci_mode=True),
    dict(sci_mode=False),
    dict(profile="short"),
    dict(profile="full"),
    dict(profile="full", precision=1),
]


@pytest.mark.parametrize("opts", PRINT_OPTIONS, ids=[str(o) for o in PRINT_OPTIONS])
@pytest.mark.parametrize("name", ["fixed point", "sci: tiny", "integer-valued floats", "matrix", "3-d",
                                  "summarized matrix", "summarized vector", "int64", "all zeros", "0-dim float",
                                  "empty 2-d", "wrapping row", "nan and inf"])
def test_set_printoptions_matches_torch(opts, name):
    torch.set_printoptions(**opts)
    ember.set_printoptions(**opts)
    assert_same_repr(CASES[name])


def test_profile_default_restores():
    ember.set_printoptions(precision=1, threshold=3, edgeitems=1, linewidth=20, sci_mode=True)
    ember.set_printoptions(profile="default")
    assert repr(ember.tensor([1.23456, 2.0])) == "tensor([1.2346, 2.0000])"


# ---- hypothesis: random shapes, dtypes and magnitudes -------------------------------------------------------
FLOAT_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(-1000, 1000).map(float),
    st.sampled_from([0.0, -0.0, 1e-6, 1e-4, 0.5, 1e3, 1e8, 1.5e8, -2.25]),
)


@st.composite
def arrays(draw):
    kind = draw(st.sampled_from(["f4", "f8", "f2", "i8", "i4", "u1", "b1"]))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    if draw(st.booleans()) and len(shape) > 0:  # sometimes a dimension long enough to wrap or summarise
        shape = (draw(st.integers(20, 1200)),) + shape[1:]
    dtype = np.dtype(kind)
    if kind[0] == "f":
        n = int(np.prod(shape))
        pool = np.array(draw(st.lists(FLOAT_VALUES, min_size=1, max_size=8)), dtype=np.float64)
        with np.errstate(over="ignore"):
            return np.asarray(pool[np.random.default_rng(n).integers(0, len(pool), size=shape)], dtype=dtype)
    return draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(dtype) if kind != "i8"
                           else st.integers(-10**12, 10**12)))


@settings(max_examples=25, deadline=None)
@given(arr=arrays(), requires_grad=st.booleans())
def test_repr_matches_torch_hypothesis(arr, requires_grad):
    assert_same_repr(arr, requires_grad=requires_grad and arr.dtype.kind == "f")


@settings(max_examples=25, deadline=None)
@given(arr=arrays(), precision=st.integers(0, 10), threshold=st.integers(1, 50), edgeitems=st.integers(0, 4),
       linewidth=st.integers(1, 120), sci_mode=st.sampled_from([None, True, False]))
def test_repr_matches_torch_with_random_printoptions(arr, precision, threshold, edgeitems, linewidth, sci_mode):
    opts = dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth,
                sci_mode=sci_mode)
    torch.set_printoptions(**opts)
    ember.set_printoptions(**opts)
    try:
        assert_same_repr(arr)
    finally:
        torch.set_printoptions(profile="default", sci_mode=None)
        ember.set_printoptions(profile="default", sci_mode=None)
