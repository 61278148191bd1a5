"""Matrix products, einsum and ember.linalg norms against torch: one table line per case (forward + gradient
in float32 and float64, numerical gradcheck in float64), plus shapes and error messages."""
import math
import types

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from oracle import check_op, gradcheck

EM = types.SimpleNamespace(t=ember, linalg=ember.linalg, name="ember")
TH = types.SimpleNamespace(t=torch, linalg=torch.linalg, name="torch")
DTYPES = [np.float32, np.float64]
INF = math.inf


def randn(*shapes):
    return lambda rng, dt: [rng.standard_normal(s).astype(dt) for s in shapes]


class Case:
    def __init__(self, id, fn, make, gradcheck=True, rtol=None):
        self.id, self.fn, self.make, self.gradcheck, self.rtol = id, fn, make, gradcheck, rtol


def mat(id, *shapes):
    return Case(f"matmul_{id}", lambda m, a, b: m.t.matmul(a, b), randn(*shapes))


def ein(eq, *shapes):
    return Case(f"einsum[{eq}]", lambda m, *xs: m.t.einsum(eq, *xs), randn(*shapes))


def vnorm(ord, dim=None, keepdim=False, shape=(3, 4)):
    return Case(f"vector_norm(ord={ord},dim={dim},keepdim={keepdim})",
                lambda m, x: m.linalg.vector_norm(x, ord, dim, keepdim), randn(shape))


def mnorm(ord, dim=(-2, -1), keepdim=False, shape=(3, 4)):
    return Case(f"matrix_norm(ord={ord},dim={dim},keepdim={keepdim},shape={shape})",
                lambda m, x: m.linalg.matrix_norm(x, ord, dim, keepdim), randn(shape))


CASES = [
    mat("1d_1d", (4,), (4,)), mat("1d_2d", (4,), (4, 3)), mat("2d_1d", (3, 4), (4,)), mat("2d_2d", (3, 4), (4, 5)),
    mat("batched", (2, 3, 4), (2, 4, 5)), mat("broadcast_batch", (2, 1, 3, 4), (5, 4, 2)),
    mat("3d_2d", (2, 3, 4), (4, 5)), mat("2d_3d", (3, 4), (2, 4, 5)), mat("1d_3d", (4,), (2, 4, 5)),
    mat("3d_1d", (2, 3, 4), (4,)), mat("4d_4d", (2, 2, 3, 4), (2, 2, 4, 3)),
    Case("matmul_operator", lambda m, a, b: a @ b, randn((3, 4), (4, 2))),
    Case("mm", lambda m, a, b: m.t.mm(a, b), randn((3, 4), (4, 5))),
    Case("Tensor.mm", lambda m, a, b: a.mm(b), randn((2, 3), (3, 3))),
    Case("bmm", lambda m, a, b: m.t.bmm(a, b), randn((2, 3, 4), (2, 4, 5))),
    Case("mv", lambda m, a, v: m.t.mv(a, v), randn((3, 4), (4,))),
    Case("dot", lambda m, a, b: m.t.dot(a, b), randn((5,), (5,))),
    Case("outer", lambda m, a, b: m.t.outer(a, b), randn((3,), (4,))),
    Case("addmm", lambda m, i, a, b: m.t.addmm(i, a, b), randn((3, 5), (3, 4), (4, 5))),
    Case("addmm_alpha_beta", lambda m, i, a, b: m.t.addmm(i, a, b, beta=0.5, alpha=2.0), randn((3, 5), (3, 4), (4, 5))),
    Case("addmm_broadcast_input", lambda m, i, a, b: m.t.addmm(i, a, b, beta=2), randn((5,), (3, 4), (4, 5))),
    Case("addmm_beta0", lambda m, i, a, b: m.t.addmm(i, a, b, beta=0), randn((3, 5), (3, 4), (4, 5))),
    ein("ij,jk->ik", (3, 4), (4, 5)), ein("bij,bjk->bik", (2, 3, 4), (2, 4, 5)), ein("ij,jk", (3, 4), (4, 2)),
    ein("i,i->", (4,), (4,)), ein("i,i", (4,), (4,)), ein("i,j->ij", (3,), (4,)), ein("ij->ji", (3, 4)),
    ein("ij->", (3, 4)), ein("ijk->kj", (2, 3, 4)), ein("ij,ij->i", (3, 4), (3, 4)),
    ein("ii->i", (3, 3)), ein("ii", (3, 3)), ein("iij->j", (3, 3, 2)), ein("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    ein("bn,anm,bm->ba", (2, 3), (4, 3, 5), (2, 5)), ein("...ij,...jk->...ik", (2, 3, 4), (2, 4, 5)),
    ein("...ij,jk->...ik", (5, 2, 3), (3, 4)), ein("b...,b->...", (3, 2, 4), (3,)), ein("i j , j -> i", (3, 4), (4,)),
    Case("einsum_list_operands", lambda m, a, b: m.t.einsum("ij,j->i", [a, b]), randn((3, 4), (4,))),
    vnorm(2), vnorm(1), vnorm(INF), vnorm(-INF), vnorm(0), vnorm(3), vnorm(-1), vnorm(1.5),
    vnorm(2, dim=1), vnorm(1, dim=0, keepdim=True), vnorm(INF, dim=(0, 2), shape=(2, 3, 4)),
    vnorm(3, dim=-1, keepdim=True, shape=(2, 3, 4)),
    mnorm("fro"), mnorm("nuc"), mnorm(INF), mnorm(-INF), mnorm(1), mnorm(-1), mnorm(2), mnorm(-2),
    mnorm("fro", keepdim=True, shape=(2, 3, 4)), mnorm(1, dim=(0, 2), shape=(3, 2, 4)),
    mnorm(INF, dim=(2, 0), keepdim=True, shape=(3, 2, 4)), mnorm("nuc", keepdim=True, shape=(2, 3, 4)),
    mnorm(2, dim=(0, 1), shape=(3, 4, 2)), mnorm(-2, shape=(4, 3)),
    Case("linalg.norm", lambda m, x: m.linalg.norm(x), randn((2, 3, 4))),
    Case("linalg.norm_vector_ord", lambda m, x: m.linalg.norm(x, 3), randn((5,))),
    Case("linalg.norm_matrix_ord", lambda m, x: m.linalg.norm(x, 1), randn((3, 4))),
    Case("linalg.norm_dim_int", lambda m, x: m.linalg.norm(x, INF, dim=1), randn((3, 4))),
    Case("linalg.norm_dims_pair", lambda m, x: m.linalg.norm(x, "nuc", dim=(1, 2), keepdim=True), randn((2, 3, 4))),
    Case("linalg.norm_fro", lambda m, x: m.linalg.norm(x, "fro"), randn((3, 4))),
    Case("torch.norm_nuc", lambda m, x: m.t.norm(x, "nuc"), randn((3, 4))),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_matches_torch(case, dtype):
    arrays = case.make(np.random.default_rng(0), dtype)
    # sums of float32 products round differently in NumPy's and torch's kernels
    tols = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}
    e_out, t_out = check_op(lambda *xs: case.fn(EM, *xs), lambda *xs: case.fn(TH, *xs), *arrays, **tols)
    assert tuple(e_out.shape) == tuple(t_out.shape)


@pytest.mark.parametrize("case", [c for c in CASES if c.gradcheck], ids=lambda c: c.id)
def test_gradcheck(case):
    arrays = case.make(np.random.default_rng(1), np.float64)
    assert gradcheck(lambda *xs: case.fn(EM, *xs), *arrays)


def test_addmm_beta0_ignores_nan_input():
    i = np.full((3, 5), np.nan)
    a, b = np.ones((3, 4)), np.ones((4, 5))
    check_op(lambda i, a, b: ember.addmm(i, a, b, beta=0), lambda i, a, b: torch.addmm(i, a, b, beta=0), i, a, b)


def test_integer_matmul():
    a = np.arange(12).reshape(3, 4)
    b = np.arange(8).reshape(4, 2)
    check_op(lambda a, b: a @ b, lambda a, b: a @ b, a, b, grad=False)


def test_matmul_of_empty_inner_dim_is_zero():
    check_op(lambda a, b: a @ b, lambda a, b: a @ b, np.ones((3, 0), np.float32), np.ones((0, 2), np.float32))


def test_linalg_is_a_module_with_torch_names():
    import ember.linalg as L

    assert ember.linalg is L
    for name in ["norm", "vector_norm", "matrix_norm", "svdvals"]:
        assert callable(getattr(L, name))


def test_einsum_double_backward():
    x = ember.tensor(np.random.default_rng(0).standard_normal((3, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: ember.einsum("ij,jk->ik", t, t), (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.einsum("ii->i", t) ** 2, (x,))


# ---- hypothesis: matmul over random (broadcast) batch shapes -------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(batch_a=st.lists(st.integers(1, 3), max_size=2), batch_b=st.lists(st.integers(1, 3), max_size=2),
       m=st.integers(1, 3), k=st.integers(1, 3), n=st.integers(1, 3), a_vec=st.booleans(), b_vec=st.booleans(),
       ones=st.lists(st.booleans(), min_size=2, max_size=2))
def test_matmul_shapes(batch_a, batch_b, m, k, n, a_vec, b_vec, ones):
    # make the batch shapes broadcastable: where they overlap, one of them is 1 or they are equal
    batch_b = [1 if o else a for a, o in zip(batch_a[::-1], ones)][::-1][-len(batch_b):] if batch_b else []
    sa = (k,) if a_vec else tuple(batch_a) + (m, k)
    sb = (k,) if b_vec else tuple(batch_b) + (k, n)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    e_out, t_out = check_op(lambda a, b: ember.matmul(a, b), lambda a, b: torch.matmul(a, b), a, b)
    assert tuple(e_out.shape) == tuple(t_out.shape)


# ---- error paths ---------------------------------------------------------------------------------------------
O = lambda m, *s, **kw: m.t.ones(*s, **kw)  # noqa: E731
ERRORS = [
    ("matmul_2d", lambda m: O(m, 3, 4) @ O(m, 5, 6), "mat1 and mat2 shapes cannot be multiplied \\(3x4 and 5x6\\)"),
    ("mm_2d", lambda m: m.t.mm(O(m, 3, 4), O(m, 5, 6)), "mat1 and mat2 shapes cannot be multiplied \\(3x4 and 5x6\\)"),
    ("matmul_3d_2d", lambda m: O(m, 2, 3, 4) @ O(m, 5, 6), "\\(6x4 and 5x6\\)"),
    ("matmul_1d_2d", lambda m: O(m, 4) @ O(m, 5, 6), "\\(1x4 and 5x6\\)"),
    ("matmul_2d_1d", lambda m: O(m, 3, 4) @ O(m, 5), "size mismatch, got input \\(3\\), mat \\(3x4\\), vec \\(5\\)"),
    ("matmul_1d_1d", lambda m: O(m, 4) @ O(m, 5), "inconsistent tensor size"),
    ("matmul_batched", lambda m: O(m, 7, 3, 4) @ O(m, 7, 5, 6), "batch2 tensor to be: \\[7, 4\\] but got: \\[7, 5\\]"),
    ("matmul_batch_broadcast", lambda m: O(m, 2, 3, 4) @ O(m, 3, 4, 5), "size of tensor a \\(2\\) must match"),
    ("matmul_0d", lambda m: m.t.matmul(m.t.tensor(2.0), O(m, 3)), "at least 1D"),
    ("matmul_dtypes", lambda m: O(m, 3, 4) @ O(m, 4, 5, dtype=m.t.float64), "same dtype"),
    ("mm_1d", lambda m: m.t.mm(O(m, 3), O(m, 3, 4)), "matrix"),
    ("bmm_2d", lambda m: m.t.bmm(O(m, 3, 4), O(m, 2, 4, 5)), "3D"),
    ("bmm_shapes", lambda m: m.t.bmm(O(m, 2, 3, 4), O(m, 2, 5, 6)), "\\[2, 4\\] but got: \\[2, 5\\]"),
    ("mv_3d", lambda m: m.t.mv(O(m, 3, 4, 1), O(m, 5)), "vector \\+ matrix @ vector expected"),
    ("dot_2d", lambda m: m.t.dot(O(m, 3, 4), O(m, 4)), "1D tensors expected"),
    ("dot_dtypes", lambda m: m.t.dot(O(m, 3), O(m, 3, dtype=m.t.float64)), "same dtype"),
    ("outer_2d", lambda m: m.t.outer(O(m, 3, 1), O(m, 4)), "1-D"),
    ("addmm_input_shape", lambda m: m.t.addmm(O(m, 2, 5), O(m, 3, 4), O(m, 4, 5)), "addmm|expanded size"),
    ("einsum_sizes", lambda m: m.t.einsum("ij,jk", O(m, 2, 3), O(m, 4, 5)), "subscript j has size 4"),
    ("einsum_output_letter", lambda m: m.t.einsum("ij->k", O(m, 3, 3)), "output subscript k"),
    ("einsum_output_repeated", lambda m: m.t.einsum("i->ii", O(m, 3)), "more than once"),
    ("einsum_operand_count", lambda m: m.t.einsum("ij,jk->ik", O(m, 3, 3)), "fewer operands"),
    ("einsum_ndim", lambda m: m.t.einsum("ij", O(m, 3)), "number of subscripts"),
    ("matrix_norm_1d", lambda m: m.linalg.matrix_norm(O(m, 3)), "at least 2 dimensions"),
    ("matrix_norm_ord", lambda m: m.linalg.matrix_norm(O(m, 3, 3), ord=3), "Order 3 not supported"),
    ("matrix_norm_dim", lambda m: m.linalg.norm(O(m, 3, 3), ord="fro", dim=1), "2-tuple"),
    ("linalg_norm_3d_ord", lambda m: m.linalg.norm(O(m, 3, 3, 3), ord=2), "must be 1D or 2D"),
    ("vector_norm_int", lambda m: m.linalg.vector_norm(m.t.tensor([1, 2])), "floating point"),
]


@pytest.mark.parametrize("name,fn,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, match):
    with pytest.raises(RuntimeError, match=match.split("|")[-1]) as torch_err:
        fn(TH)
    assert type(torch_err.value) is RuntimeError
    with pytest.raises(RuntimeError, match=match.split("|")[0]) as ember_err:
        fn(EM)
    assert type(ember_err.value) is RuntimeError
