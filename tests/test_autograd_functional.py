"""ember.autograd.functional against torch.autograd.functional in float64: jacobian, hessian, vjp, jvp, hvp, vhp on
small functions with single and tuple inputs/outputs, create_graph (results stay differentiable), strict mode and
the argument errors (same exception types and messages)."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import ember
import ember.autograd.functional as EF

RTOL, ATOL = 1e-10, 1e-12


def rand(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


# functions written once, for either library (``lib`` is ember or torch)
FUNCS = {
    "reduce": lambda lib: lambda x: (x.exp() * x.sin()).sum() * x[0],
    "elementwise": lambda lib: lambda x: lib.tanh(x) * x,
    "matvec": lambda lib: lambda x, y: (lib.tanh(y @ x) * 2, (x * x).sum() + y.sum()),
    "bilinear": lambda lib: lambda x, y: (x.sin() * (y ** 2).sum(0)).sum() + (x ** 3).sum(),
    "softplus": lambda lib: lambda x, y: lib.log1p(lib.exp(y @ x)).sum() + (x * x).mean(),
    "unused": lambda lib: lambda x, y: (x ** 2).sum(),
    "linear": lambda lib: lambda x: 3 * x,
}
INPUTS = {"x3": [(3,)], "x3_y23": [(3,), (2, 3)], "x4": [(4,)], "x22": [(2, 2)]}


def make(lib, shapes, seed=0):
    return tuple(lib.tensor(rand(*s, seed=seed), dtype=lib.float64) for s in shapes)


def compare(e, t, what=""):
    if isinstance(t, tuple):
        assert isinstance(e, tuple) and len(e) == len(t), f"{what}: structure differs"
        for i, (a, b) in enumerate(zip(e, t)):
            compare(a, b, f"{what}[{i}]")
        return
    assert isinstance(e, ember.Tensor), f"{what}: {type(e).__name__}"
    assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != {tuple(t.shape)}"
    assert e.dtype == ember.float64
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=what)


def both(name, func, inputs, v=None, **kwargs):
    """Run the functional ``name`` in ember and torch on the same data; return both results."""
    results = []
    for lib, mod in ((ember, EF), (torch, TF)):
        xs = make(lib, INPUTS[inputs])
        args = [FUNCS[func](lib), xs if len(xs) > 1 else xs[0]]
        if v is not None:
            vs = make(lib, v, seed=1)
            args.append(vs if len(vs) > 1 else vs[0])
        results.append(getattr(mod, name)(*args, **kwargs))
    compare(results[0], results[1], name)
    return results


JACOBIANS = [("reduce", "x3"), ("elementwise", "x4"), ("matvec", "x3_y23"), ("bilinear", "x3_y23"),
             ("unused", "x3_y23"), ("elementwise", "x22")]


@pytest.mark.parametrize("func,inputs", JACOBIANS)
@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian(func, inputs, vectorize):
    both("jacobian", func, inputs, vectorize=vectorize)


@pytest.mark.parametrize("func,inputs", [("reduce", "x3"), ("bilinear", "x3_y23"), ("softplus", "x3_y23"),
                                         ("unused", "x3_y23"), ("linear", "x22")])
def test_hessian(func, inputs):
    if func == "linear":  # a vector function has no Hessian: both refuse it
        with pytest.raises(RuntimeError, match="should contain a single element"):
            EF.hessian(FUNCS[func](ember), make(ember, INPUTS[inputs])[0])
        return
    both("hessian", func, inputs)


PRODUCTS = [  # name, func, inputs, v shapes (None: v omitted)
    ("vjp", "matvec", "x3_y23", [(2,), ()]),
    ("vjp", "reduce", "x3", None),
    ("vjp", "elementwise", "x22", [(2, 2)]),
    ("vjp", "unused", "x3_y23", None),
    ("jvp", "matvec", "x3_y23", [(3,), (2, 3)]),
    ("jvp", "reduce", "x3", [(3,)]),
    ("jvp", "elementwise", "x22", [(2, 2)]),
    ("vhp", "reduce", "x3", [(3,)]),
    ("vhp", "bilinear", "x3_y23", [(3,), (2, 3)]),
    ("vhp", "unused", "x3_y23", [(3,), (2, 3)]),
    ("hvp", "reduce", "x3", [(3,)]),
    ("hvp", "softplus", "x3_y23", [(3,), (2, 3)]),
    ("hvp", "unused", "x3_y23", [(3,), (2, 3)]),
]


@pytest.mark.parametrize("name,func,inputs,v", PRODUCTS)
def test_products(name, func, inputs, v):
    e, _ = both(name, func, inputs, v)
    assert not e[1][0].requires_grad if isinstance(e[1], tuple) else not e[1].requires_grad


@pytest.mark.parametrize("name,func,inputs,v", [("vjp", "matvec", "x3_y23", [(2,), ()]),
                                                ("jvp", "reduce", "x3", [(3,)]),
                                                ("hvp", "softplus", "x3_y23", [(3,), (2, 3)]),
                                                ("vhp", "bilinear", "x3_y23", [(3,), (2, 3)])])
def test_create_graph_results_are_differentiable(name, func, inputs, v):
    """With create_graph the product is a function of the inputs: its own gradient matches torch's."""
    grads = []
    for lib, mod in ((ember, EF), (torch, TF)):
        xs = tuple(t.requires_grad_() for t in make(lib, INPUTS[inputs]))
        vs = make(lib, v, seed=1)
        _, res = getattr(mod, name)(FUNCS[func](lib), xs if len(xs) > 1 else xs[0], vs if len(vs) > 1 else vs[0],
                                    create_graph=True)
        res = res if isinstance(res, tuple) else (res,)
        total = sum((r ** 2).sum() for r in res)
        grads.append(lib.autograd.grad(total, xs, allow_unused=True, materialize_grads=True))
    compare(tuple(grads[0]), tuple(grads[1]), name)


def test_jacobian_and_hessian_create_graph():
    both("jacobian", "matvec", "x3_y23", create_graph=True)
    e, _ = both("hessian", "bilinear", "x3_y23", create_graph=True)
    x = ember.tensor(rand(3), requires_grad=True)
    h = EF.hessian(FUNCS["reduce"](ember), x, create_graph=True)
    assert h.requires_grad
    (g,) = ember.autograd.grad(h.sum(), x)
    xt = torch.tensor(rand(3), requires_grad=True)
    (gt,) = torch.autograd.grad(TF.hessian(FUNCS["reduce"](torch), xt, create_graph=True).sum(), xt)
    compare(g, gt)


def test_inputs_left_untouched_and_grad_mode_kept():
    x = ember.tensor(rand(3), requires_grad=True)
    with ember.no_grad():
        out, vjp = EF.vjp(FUNCS["reduce"](ember), x)
    assert x.grad is None and not out.requires_grad and not vjp.requires_grad
    jac = EF.jacobian(FUNCS["elementwise"](ember), ember.tensor(rand(3)))
    assert not jac.requires_grad and jac.dtype == ember.float64


def test_float32_stays_float32():
    x = ember.tensor(rand(3).astype(np.float32))
    assert EF.jacobian(FUNCS["elementwise"](ember), x).dtype == ember.float32
    assert EF.hvp(FUNCS["reduce"](ember), x, ember.ones(3))[1].dtype == ember.float32


def outcome(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 (compared below)
        return type(e).__name__, str(e).replace("torch.", "").replace("ember.", "")
    return "passed", ""


ERRORS = [  # (description, call(lib, mod))
    ("inputs not tensors", lambda lib, m: m.vjp(lambda x: x, [lib.ones(2)])),
    ("input tuple with a float", lambda lib, m: m.jacobian(lambda x, y: x, (lib.ones(2), 1.0))),
    ("output not a tensor", lambda lib, m: m.jacobian(lambda x: 3.0, lib.ones(2))),
    ("v missing for vector output", lambda lib, m: m.vjp(lambda x: x * 2, lib.ones(2))),
    ("v missing for vector input", lambda lib, m: m.jvp(lambda x: x * 2, lib.ones(2))),
    ("v wrong length", lambda lib, m: m.vjp(lambda x, y: (x, y), (lib.ones(2), lib.ones(2)), (lib.ones(2),))),
    ("v wrong size", lambda lib, m: m.vjp(lambda x: x * 2, lib.ones(2), lib.ones(3))),
    ("v wrong size in tuple", lambda lib, m: m.jvp(lambda x, y: x + y, (lib.ones(2), lib.ones(2)),
                                                   (lib.ones(2), lib.ones(3)))),
    ("v tuple for single", lambda lib, m: m.vjp(lambda x: x * 2, lib.ones(2), (lib.ones(2), lib.ones(2)))),
    ("hvp vector function", lambda lib, m: m.hvp(lambda x: x * 2, lib.ones(2), lib.ones(2))),
    ("vhp tuple output", lambda lib, m: m.vhp(lambda x: (x.sum(), x.sum()), lib.ones(2), lib.ones(2))),
    ("strict independent", lambda lib, m: m.vjp(lambda x, y: x * 2, (lib.ones(2), lib.ones(2)), lib.ones(2),
                                                strict=True)),
    ("strict constant output", lambda lib, m: m.jacobian(lambda x: lib.ones(2), lib.ones(2), strict=True)),
    ("strict jacobian", lambda lib, m: m.jacobian(lambda x, y: x * 2, (lib.ones(2), lib.ones(2)), strict=True)),
    ("strict linear hessian", lambda lib, m: m.hessian(lambda x: (3 * x).sum(), lib.ones(2), strict=True)),
    ("strict and vectorize", lambda lib, m: m.jacobian(lambda x: x * 2, lib.ones(2), strict=True, vectorize=True)),
    ("strict linear hvp", lambda lib, m: m.hvp(lambda x: (3 * x).sum(), lib.ones(2), lib.ones(2), strict=True)),
    ("forward-mode without vectorize", lambda lib, m: m.jacobian(lambda x: x * 2, lib.ones(2),
                                                                  strategy="forward-mode")),
    ("forward-mode create_graph", lambda lib, m: m.jacobian(lambda x: x * 2, lib.ones(2), create_graph=True,
                                                             strategy="forward-mode", vectorize=True)),
    ("bad strategy", lambda lib, m: m.jacobian(lambda x: x * 2, lib.ones(2), strategy="sideways")),
    ("strict fine", lambda lib, m: m.jacobian(lambda x: x.sin(), lib.ones(2), strict=True)),
]


@pytest.mark.parametrize("desc,call", ERRORS, ids=[d for d, _ in ERRORS])
def test_errors_as_torch(desc, call):
    want = outcome(lambda: call(torch, TF))
    got = outcome(lambda: call(ember, EF))
    assert got == want


def test_forward_mode_vectorized_equals_reverse():
    x = ember.tensor(rand(3))
    fwd = EF.jacobian(FUNCS["elementwise"](ember), x, strategy="forward-mode", vectorize=True)
    compare(fwd, TF.jacobian(FUNCS["elementwise"](torch), torch.tensor(rand(3)), strategy="forward-mode",
                             vectorize=True))


def test_reachable_as_attribute():
    assert ember.autograd.functional is EF
