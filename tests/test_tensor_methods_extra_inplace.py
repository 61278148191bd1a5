"""In-place forms of the extra Tensor methods (_tensor_ops.py's extra block, ops/unary_extra.py, ops/misc_extra.py)
against torch: each returns self with torch's values and the tensor's own dtype, bumps the version counter, raises
for a leaf that requires grad and records its gradient on a non-leaf; in-place shape changes (t_, transpose_,
squeeze_, unsqueeze_ ...) share memory, bump the version and follow autograd; error paths."""
import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close

pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta:UserWarning")


# ---- in-place variants -----------------------------------------------------------------------------------------------
class Inplace:
    """``name_`` called as ``x.name_(*args(m))`` on the arrays ``make`` gives; ``grad``: check autograd on a
    non-leaf."""

    def __init__(self, name, args=lambda m: (), make=None, grad=True, dtype=np.float32, torch_inplace_grad=True):
        self.name, self.args, self.grad, self.dtype = name, args, grad, dtype
        self.torch_inplace_grad = torch_inplace_grad  # False: torch has no in-place derivative, compare out-of-place
        self.make = make or (lambda rng: rng.uniform(-0.9, 0.9, (3, 4)))


def _pos(rng):
    return rng.uniform(0.2, 2.0, (3, 4))


def _gt1(rng):
    return rng.uniform(1.2, 3.0, (3, 4))


def _ints(rng):
    return rng.integers(-5, 6, (3, 4))


INPLACE = [Inplace(n) for n in ("acos_", "arccos_", "asin_", "arcsin_", "atan_", "arctan_", "cos_", "cosh_", "sin_",
                                "sinh_", "tan_", "erf_", "erfc_",
                                "erfinv_", "exp2_", "expm1_", "square_", "absolute_", "negative_", "rad2deg_",
                                "deg2rad_", "log1p_", "sign_", "sgn_", "frac_", "fix_")]
INPLACE += [Inplace(n, make=_pos) for n in ("log10_", "log2_", "reciprocal_", "rsqrt_")]
INPLACE += [Inplace(n, make=_gt1, torch_inplace_grad=False) for n in ("acosh_", "arccosh_")]
INPLACE += [Inplace(n, torch_inplace_grad=False) for n in ("asinh_", "arcsinh_", "atanh_", "arctanh_")]
INPLACE += [
    Inplace("cumsum_", lambda m: (1,)),
    Inplace("cumprod_", lambda m: (0,)),
    Inplace("clamp_min_", lambda m: (0.1,)),
    Inplace("clamp_max_", lambda m: (-0.2,)),
    Inplace("fmod_", lambda m: (0.35,)),
    Inplace("remainder_", lambda m: (m.tensor([0.3, -0.4, 0.5, 0.7]),)),
    Inplace("floor_divide_", lambda m: (0.3,), grad=False),  # (torch: no derivative)
    Inplace("true_divide_", lambda m: (m.tensor([0.3, -0.4, 0.5, 0.7]),)),
    Inplace("divide_", lambda m: (m.tensor([0.3, -0.4, 0.5, 0.7]),)),
    Inplace("multiply_", lambda m: (m.tensor([0.3, -0.4, 0.5, 0.7]),)),
    Inplace("subtract_", lambda m: (m.tensor([0.3, -0.4, 0.5, 0.7]),)),
    Inplace("atan2_", lambda m: (m.tensor([0.3, -0.4, 0.5, 0.7]),)),
    Inplace("arctan2_", lambda m: (m.tensor([0.3, -0.4, 0.5, 0.7]),)),
    Inplace("tril_", lambda m: (1,)),
    Inplace("triu_", lambda m: (-1,)),
    Inplace("ldexp_", lambda m: (m.tensor([1, 2, 0, 3]),)),
    Inplace("renorm_", lambda m: (2, 0, 0.5)),
    Inplace("index_copy_", lambda m: (1, m.tensor([3, 0]), m.ones(3, 2))),
    Inplace("index_reduce_", lambda m: (0, m.tensor([2, 0]), m.full((2, 4), 0.5), "prod")),
    Inplace("addmm_", lambda m: (m.ones(3, 2), m.full((2, 4), 0.5)), ),
    Inplace("heaviside_", lambda m: (m.tensor(0.5),), grad=False),
    Inplace("nextafter_", lambda m: (m.tensor(1.0),), grad=False),
    Inplace("float_power_", lambda m: (2,), dtype=np.float64),
]
CMP = ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_",
       "not_equal_", "logical_and_", "logical_or_", "logical_xor_")
# (torch's logical_*_ are not recorded by autograd at all, and write into a leaf that requires grad silently;
# ember records them with a zero gradient and raises for the leaf, as for the comparisons)
INPLACE += [Inplace(n, lambda m: (m.tensor([0.1, -0.4, 0.5, 0.0]),), grad=not n.startswith("logical")) for n in CMP]
INPLACE += [Inplace("logical_not_", make=lambda rng: np.where(rng.random((3, 4)) < 0.5, 0.0, rng.random((3, 4))),
                    grad=False)]
INT_INPLACE = [Inplace(n, lambda m: (m.tensor([2, -3, 5, 1]),), make=_ints, grad=False, dtype=np.int64)
               for n in CMP + ("bitwise_and_", "bitwise_or_", "bitwise_xor_", "remainder_", "fmod_",
                               "floor_divide_", "multiply_", "subtract_")]
INT_INPLACE += [Inplace("lt_", lambda m: (2.5,), make=_ints, grad=False, dtype=np.int64),
                Inplace("bitwise_not_", make=_ints, grad=False, dtype=np.int64),
                Inplace("logical_not_", make=_ints, grad=False, dtype=np.int64),
                Inplace("square_", make=_ints, grad=False, dtype=np.int64),
                Inplace("sign_", make=_ints, grad=False, dtype=np.int64),
                Inplace("negative_", make=_ints, grad=False, dtype=np.int64),
                Inplace("cumsum_", lambda m: (0,), make=_ints, grad=False, dtype=np.int64),
                Inplace("bitwise_left_shift_", lambda m: (m.tensor([1, 2, 0, 3]),), make=_ints, grad=False,
                        dtype=np.int64),
                Inplace("bitwise_right_shift_", lambda m: (1,), make=_ints, grad=False, dtype=np.int64),
                Inplace("lt_", lambda m: (0,), make=lambda rng: rng.random((3, 4)) < 0.5, grad=False, dtype=np.bool_),
                Inplace("logical_and_", lambda m: (m.tensor([True, False, True, False]),),
                        make=lambda rng: rng.random((3, 4)) < 0.5, grad=False, dtype=np.bool_)]
ALL_INPLACE = INPLACE + INT_INPLACE


def _inplace_id(c):
    return f"{c.name}-{np.dtype(c.dtype).name}"


@pytest.mark.parametrize("case", ALL_INPLACE, ids=_inplace_id)
def test_inplace_values_and_identity(case):
    a = np.asarray(case.make(np.random.default_rng(5))).astype(case.dtype)
    e, t = ember.tensor(a.copy()), torch.tensor(a.copy())
    before = e._version_value
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_e = getattr(e, case.name)(*case.args(ember))
        getattr(t, case.name)(*case.args(torch))
    assert out_e is e
    assert e._version_value > before
    assert_close(e, t, 1e-6, 1e-7, case.name)


@pytest.mark.parametrize("case", [c for c in INPLACE if c.grad], ids=_inplace_id)
def test_inplace_autograd(case):
    a = np.asarray(case.make(np.random.default_rng(6))).astype(case.dtype)
    w = np.random.default_rng(7).standard_normal(a.shape).astype(case.dtype)
    grads = []
    for m in (ember, torch):
        leaf = m.tensor(a.copy(), requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            getattr(leaf, case.name)(*case.args(m))
        y = leaf * 1
        with np.errstate(all="ignore"):
            if m is torch and not case.torch_inplace_grad:
                y = getattr(y, case.name[:-1])(*case.args(m))
            else:
                r = getattr(y, case.name)(*case.args(m))
                assert r is y and y.requires_grad
        (y * m.tensor(w)).sum().backward()
        grads.append(leaf.grad)
    assert_close(grads[0], grads[1], 1e-5, 1e-6, "grad")


def test_logical_inplace_on_a_leaf_that_requires_grad_raises():
    leaf = ember.tensor([1.0, 0.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.logical_and_(ember.tensor([1.0, 1.0]))
    assert leaf.tolist() == [1.0, 0.0]


def test_inplace_on_a_tensor_saved_for_backward_raises():
    for m in (ember, torch):
        x = m.ones(3, requires_grad=True)
        y = x * 1
        z = y.sin()
        y.cos_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


@pytest.mark.parametrize("name,args,exc", [
    ("sin_", (), RuntimeError), ("acosh_", (), RuntimeError), ("rad2deg_", (), RuntimeError),
    ("true_divide_", (2,), RuntimeError), ("floor_divide_", (2.5,), RuntimeError), ("frac_", (), NotImplementedError),
    ("ldexp_", ("exp",), RuntimeError), ("clamp_min_", (1.5,), RuntimeError), ("float_power_", (2,), RuntimeError),
])
def test_inplace_int_errors_match_torch(name, args, exc):
    for m in (ember, torch):
        x = m.tensor([1, 2])
        call_args = tuple(m.tensor([1, 1]) if a == "exp" else a for a in args)
        with pytest.raises(exc):
            getattr(x, name)(*call_args)
        assert x.tolist() == [1, 2]


def test_float_power_inplace_needs_float64():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="float_power_"):
            m.ones(2).float_power_(2)


@pytest.mark.parametrize("name", ["mul_", "lt_", "fmod_", "atan2_"])
def test_inplace_broadcast_to_a_larger_shape_raises(name):
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            getattr(m.ones(3), name)(m.ones(2, 3))


def test_comparison_inplace_keeps_the_tensor_in_the_graph():
    outs = []
    for m in (ember, torch):
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 2
        y.gt_(0.5)
        assert y.requires_grad and y.grad_fn is not None
        y.sum().backward()
        outs.append(x.grad)
    assert_close(outs[0], outs[1], 0, 0, "grad")


# ---- in-place shape changes ------------------------------------------------------------------------------------------
SHAPE_INPLACE = [("t_", ()), ("transpose_", (0, 2)), ("swapaxes_", (1, -1)), ("swapdims_", (0, 1)),
                 ("squeeze_", ()), ("squeeze_", (1,)), ("unsqueeze_", (0,)), ("unsqueeze_", (-1,))]


def _shape_input(name, m):
    base = m.arange(12.0).reshape(3, 4)
    if name == "t_":
        return base
    return base.reshape(3, 1, 4) if name == "squeeze_" else base.reshape(3, 2, 2)


@pytest.mark.parametrize("name,args", SHAPE_INPLACE, ids=[f"{n}{a}" for n, a in SHAPE_INPLACE])
def test_shape_inplace_matches_torch(name, args):
    res = []
    for m in (ember, torch):
        x = _shape_input(name, m)
        alias = x.view(-1)
        before = x._version_value if m is ember else x._version
        out = getattr(x, name)(*args)
        assert out is x
        assert (x._version_value if m is ember else x._version) == before + 1
        x.mul_(2)  # still the same memory: the alias taken before sees the write
        res.append((x.clone(), alias.clone(), tuple(x.shape)))
    assert res[0][2] == res[1][2]
    assert_close(res[0][0], res[1][0], 0, 0, "tensor")
    assert_close(res[0][1], res[1][1], 0, 0, "alias")


@pytest.mark.parametrize("name,args", SHAPE_INPLACE, ids=[f"{n}{a}" for n, a in SHAPE_INPLACE])
def test_shape_inplace_autograd(name, args):
    grads = []
    for m in (ember, torch):
        leaf = _shape_input(name, m).requires_grad_()
        with pytest.raises(RuntimeError, match="leaf Variable"):
            getattr(leaf, name)(*args)
        y = leaf * 1
        getattr(y, name)(*args)
        w = m.tensor(np.arange(y.numel(), dtype=np.float32).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        grads.append(leaf.grad)
    assert_close(grads[0], grads[1], 0, 0, "grad")


def test_shape_inplace_invalidates_saved_tensors_and_works_under_no_grad():
    for m in (ember, torch):
        w = m.ones(2, 3, requires_grad=True)
        x = m.ones(2, 3)
        y = w * x
        x.t_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        leaf = m.ones(2, 3, requires_grad=True)
        with m.no_grad():
            leaf.t_()
        assert tuple(leaf.shape) == (3, 2) and leaf.requires_grad and leaf.is_leaf
