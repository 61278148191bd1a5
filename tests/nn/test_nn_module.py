"""nn.Module and nn.Parameter: registration, traversal, modes, dtype moves, hooks, errors — against torch.nn."""
import copy

import numpy as np
import pytest
import torch

import ember
import ember.nn

BOTH = pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])


def make_net(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(lib.ones(3))
            self.register_buffer("count", lib.zeros(1))
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(x) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.Linear(4, 3)
            self.block = Block()
            self.register_buffer("steps", lib.zeros(2, dtype=lib.int64))
            self.register_buffer("tmp", lib.ones(2), persistent=False)
            self.alpha = nn.Parameter(lib.zeros(1))
            self.shared = self.first  # the same module twice
            self.plain = lib.ones(2)  # a plain tensor attribute is not registered

        def forward(self, x):
            return self.block(self.first(x)) + self.alpha

    return Net()


def names(pairs):
    return [n for n, _ in pairs]


# ---- Parameter ------------------------------------------------------------------------------------------
def test_parameter_defaults_and_memory_sharing():
    t = ember.ones(2, 3)
    p = ember.nn.Parameter(t)
    assert isinstance(p, ember.Tensor) and isinstance(p, ember.nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    t[0, 0] = 5.0
    assert p[0, 0].item() == 5.0  # shares t's memory, as torch.nn.Parameter does
    assert not ember.nn.Parameter(t, requires_grad=False).requires_grad
    assert ember.nn.Parameter().shape == torch.nn.Parameter().shape == (0,)
    assert not isinstance(t, ember.nn.Parameter)


def test_parameter_repr_and_ops_give_plain_tensors():
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.]")
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0]))).replace("torch", "ember")
    y = p * 2
    assert type(y) is ember.Tensor and y.requires_grad


def test_parameter_deepcopy_is_independent():
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    q = copy.deepcopy(p)
    assert isinstance(q, ember.nn.Parameter) and q.requires_grad
    q.data[0] = 9.0
    assert p[0].item() == 1.0


def test_parameter_from_int_tensor_requires_grad_raises():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.nn.Parameter(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="floating point"):
        torch.nn.Parameter(torch.tensor([1, 2]))


# ---- registration and traversal --------------------------------------------------------------------------
def test_registration_order_and_traversal_match_torch():
    e, t = make_net(ember), make_net(torch)
    assert names(e.named_parameters()) == names(t.named_parameters())
    assert names(e.named_parameters(remove_duplicate=False)) == names(t.named_parameters(remove_duplicate=False))
    assert names(e.named_buffers()) == names(t.named_buffers())
    assert names(e.named_children()) == names(t.named_children())
    assert names(e.named_modules()) == names(t.named_modules())
    assert names(e.named_modules(remove_duplicate=False)) == names(t.named_modules(remove_duplicate=False))
    assert names(e.named_modules(prefix="net")) == names(t.named_modules(prefix="net"))
    assert names(e.named_parameters(prefix="m", recurse=False)) == names(t.named_parameters(prefix="m", recurse=False))
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.buffers(recurse=False))) == len(list(t.buffers(recurse=False)))
    assert len(list(e.children())) == len(list(t.children())) == 2
    assert len(list(e.modules())) == len(list(t.modules()))
    assert list(e.state_dict()) == list(t.state_dict())
    assert "plain" not in e._buffers and isinstance(e.plain, ember.Tensor)


@BOTH
def test_attribute_reassignment_moves_between_tables(lib):
    nn = lib.nn
    m = nn.Module()
    m.x = nn.Parameter(lib.zeros(1))
    assert "x" in m._parameters
    m.x = None  # setting a registered parameter to None keeps the key
    assert "x" in m._parameters and m.x is None
    with pytest.raises(TypeError, match="cannot assign"):
        m.x = nn.Linear(1, 1)  # a name held by a parameter (even None) only takes a Parameter or None
    del m.x
    m.x = nn.Linear(1, 1)
    assert "x" in m._modules and "x" not in m._parameters
    del m.x
    assert not hasattr(m, "x")
    m.register_buffer("b", lib.zeros(1))
    m.b = lib.ones(1)  # assigning a tensor to a buffer name replaces the buffer
    assert "b" in m._buffers and float(m.b[0]) == 1.0
    m.b = nn.Parameter(lib.zeros(1))
    assert "b" in m._parameters and "b" not in m._buffers


def test_buffer_class_registers_with_persistence():
    for lib in (torch, ember):
        m = lib.nn.Module()
        m.a = lib.nn.Buffer(lib.ones(2))
        m.b = lib.nn.Buffer(lib.ones(2), persistent=False)
        assert list(m.state_dict()) == ["a"]
        assert [n for n, _ in m.named_buffers()] == ["a", "b"]


def _error_of(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - we compare the exception with torch's
        return type(exc), str(exc)
    return None, None


REGISTRATION_ERRORS = [
    ("buffer_dot", lambda lib, m: m.register_buffer("a.b", lib.zeros(1))),
    ("buffer_empty", lambda lib, m: m.register_buffer("", lib.zeros(1))),
    ("buffer_exists", lambda lib, m: m.register_buffer("training", lib.zeros(1))),
    ("buffer_name_type", lambda lib, m: m.register_buffer(3, lib.zeros(1))),
    ("param_dot", lambda lib, m: m.register_parameter("a.b", lib.nn.Parameter(lib.zeros(1)))),
    ("param_empty", lambda lib, m: m.register_parameter("", None)),
    ("param_exists", lambda lib, m: m.register_parameter("training", None)),
    ("param_non_leaf", lambda lib, m: m.register_parameter("w", lib.nn.Parameter(lib.zeros(1)) * 2)),
    ("module_type", lambda lib, m: m.add_module("x", 3)),
    ("module_dot", lambda lib, m: m.add_module("a.b", lib.nn.ReLU())),
    ("module_empty", lambda lib, m: m.add_module("", lib.nn.ReLU())),
    ("module_exists", lambda lib, m: m.add_module("training", lib.nn.ReLU())),
    ("set_param_to_tensor", lambda lib, m: setattr(m, "weight", lib.zeros(2))),
    ("set_module_to_int", lambda lib, m: setattr(m, "sub", 3)),
    ("set_buffer_to_int", lambda lib, m: setattr(m, "buf", 3)),
    ("missing_attribute", lambda lib, m: m.does_not_exist),
    ("get_submodule", lambda lib, m: m.get_submodule("sub.nothing")),
    ("get_submodule_not_module", lambda lib, m: m.get_submodule("weight")),
    ("get_parameter", lambda lib, m: m.get_parameter("sub.nothing")),
    ("get_parameter_not_param", lambda lib, m: m.get_parameter("buf")),
    ("get_buffer_not_buffer", lambda lib, m: m.get_buffer("weight")),
    ("train_not_bool", lambda lib, m: m.train("yes")),
    ("to_int_dtype", lambda lib, m: m.to(lib.int64)),
    ("forward_missing", lambda lib, m: lib.nn.Module()(1)),
    ("init_kwargs", lambda lib, m: lib.nn.Module(foo=1)),
]


def _registration_host(lib):
    m = lib.nn.Module()
    m.weight = lib.nn.Parameter(lib.zeros(2))
    m.sub = lib.nn.ReLU()
    m.register_buffer("buf", lib.zeros(2))
    return m


@pytest.mark.parametrize("case", REGISTRATION_ERRORS, ids=[c[0] for c in REGISTRATION_ERRORS])
def test_registration_errors_match_torch(case):
    _, fn = case
    t_type, t_msg = _error_of(lambda: fn(torch, _registration_host(torch)))
    e_type, e_msg = _error_of(lambda: fn(ember, _registration_host(ember)))
    assert t_type is not None
    assert e_type is t_type
    assert e_msg == t_msg.replace("torch.FloatTensor", "ember.FloatTensor").replace("torch.int64", "ember.int64")


@BOTH
def test_assign_before_init_raises(lib):
    class Bad(lib.nn.Module):
        def __init__(self):
            self.w = lib.nn.Parameter(lib.zeros(1))

    class BadModule(lib.nn.Module):
        def __init__(self):
            self.sub = lib.nn.ReLU()

    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__"):
        Bad()
    with pytest.raises(AttributeError, match="cannot assign module before Module.__init__"):
        BadModule()


def test_get_submodule_parameter_buffer():
    for lib in (torch, ember):
        net = make_net(lib)
        assert net.get_submodule("block.lin") is net.block.lin
        assert net.get_submodule("") is net
        assert net.get_parameter("block.scale") is net.block.scale
        assert net.get_buffer("block.count") is net.block.count


def test_dir_lists_registered_names():
    e, t = make_net(ember), make_net(torch)
    for name in ("first", "block", "alpha", "steps", "forward"):
        assert name in dir(e) and name in dir(t)


# ---- modes and gradients -----------------------------------------------------------------------------------
def test_train_eval_propagate():
    net = make_net(ember)
    assert net.training and net.block.lin.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.block.train()
    assert net.block.lin.training and not net.training


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    res = {}
    for lib in (torch, ember):
        lib.manual_seed(0)
        net = make_net(lib)
        net(lib.ones(2, 4)).sum().backward()
        net.zero_grad(set_to_none=set_to_none)
        res[lib.__name__] = [None if p.grad is None else float(p.grad.abs().sum()) for p in net.parameters()]
    assert res["ember"] == res["torch"]


def test_requires_grad_and_apply():
    net = make_net(ember)
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    tnet = make_net(torch)
    tseen = []
    tnet.apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen


# ---- dtype / device ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["double", "to_dtype", "to_kw", "to_tensor"])
def test_dtype_moves_keep_parameter_identity(how):
    net = make_net(ember)
    params = list(net.parameters())
    net(ember.ones(2, 4)).sum().backward()
    if how == "double":
        out = net.double()
    elif how == "to_dtype":
        out = net.to(ember.float64)
    elif how == "to_kw":
        out = net.to(device="cpu", dtype=ember.float64)
    else:
        out = net.to(ember.zeros(1, dtype=ember.float64))
    assert out is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype is ember.float64 and p.grad.dtype is ember.float64 for p in net.parameters())
    assert net.block.count.dtype is ember.float64
    assert net.steps.dtype is ember.int64  # integer buffers keep their dtype
    assert net(ember.ones(2, 4, dtype=ember.float64)).dtype is ember.float64
    net.float()
    assert all(p.dtype is ember.float32 for p in net.parameters())


def test_cpu_is_noop_and_other_devices_raise():
    net = make_net(ember)
    assert net.cpu() is net and net.to("cpu") is net
    for framework in (torch, ember):  # a CPU-only torch build raises AssertionError for CUDA
        other = make_net(framework)
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            other.to("cuda")
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            other.cuda()
    with pytest.raises(RuntimeError, match="CPU only.*'mps'"):
        net.to("mps")


def test_deepcopy_model_is_independent():
    net = make_net(ember)
    twin = copy.deepcopy(net)
    assert names(twin.named_parameters()) == names(net.named_parameters())
    assert twin.shared is twin.first  # sharing is preserved inside the copy
    with ember.no_grad():
        twin.first.weight.fill_(0.0)
    assert float(net.first.weight.abs().sum()) > 0
    x = ember.ones(2, 4)
    np.testing.assert_array_equal(copy.deepcopy(net)(x).detach().numpy(), net(x).detach().numpy())


# ---- calling and hooks -------------------------------------------------------------------------------------
def _hook_trace(lib):
    log = []
    lin = lib.nn.Linear(2, 2)

    def pre(m, args):
        log.append("pre")
        return (args[0] * 2,)

    def pre_first(m, args):
        log.append("pre_first")

    def pre_kw(m, args, kwargs):
        log.append(("pre_kw", sorted(kwargs)))
        return args, kwargs

    def post(m, args, out):
        log.append("post")
        return out + 1

    def post_kw(m, args, kwargs, out):
        log.append("post_kw")

    h1 = lin.register_forward_pre_hook(pre)
    lin.register_forward_pre_hook(pre_first, prepend=True)
    lin.register_forward_pre_hook(pre_kw, with_kwargs=True)
    h2 = lin.register_forward_hook(post)
    lin.register_forward_hook(post_kw, with_kwargs=True)
    with lib.no_grad():
        lin.weight.copy_(lib.eye(2))
        lin.bias.zero_()
    out1 = lin(lib.ones(1, 2)).tolist()
    h1.remove()
    h2.remove()
    h2.remove()  # removing twice is harmless
    out2 = lin(lib.ones(1, 2)).tolist()
    return log, out1, out2


def test_forward_hooks_match_torch():
    assert _hook_trace(ember) == _hook_trace(torch)


@BOTH
def test_hook_handle_as_context_manager_and_always_call(lib):
    lin = lib.nn.Linear(2, 2)
    calls = []
    with lin.register_forward_hook(lambda m, a, o: calls.append(1)):
        lin(lib.ones(1, 2))
    lin(lib.ones(1, 2))
    assert calls == [1]
    lin.register_forward_hook(lambda m, a, o: calls.append("always"), always_call=True)
    with pytest.raises(RuntimeError):
        lin(lib.ones(1, 3))
    assert calls == [1, "always"]


@BOTH
def test_pre_hook_bad_return_with_kwargs(lib):
    lin = lib.nn.Linear(2, 2)
    lin.register_forward_pre_hook(lambda m, a, k: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        lin(lib.ones(1, 2))


def _backward_hook_trace(lib):
    lib.manual_seed(0)
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]))
        lin.bias.copy_(lib.tensor([0.1, -0.2]))
    seen = {}

    def pre(m, grad_output):
        seen["pre"] = [g.tolist() for g in grad_output]
        return (grad_output[0] * 2,)

    def post(m, grad_input, grad_output):
        seen["grad_input"] = [None if g is None else g.tolist() for g in grad_input]
        seen["grad_output"] = [g.tolist() for g in grad_output]
        return (grad_input[0] + 1,)

    h_pre = lin.register_full_backward_pre_hook(pre)
    h_post = lin.register_full_backward_hook(post)
    x = lib.tensor([[1.0, -1.0, 0.5]], requires_grad=True)
    (lin(x) * lib.tensor([[1.0, 3.0]])).sum().backward()
    seen["x.grad"] = x.grad.tolist()
    seen["w.grad"] = lin.weight.grad.tolist()
    h_pre.remove()
    h_post.remove()
    y = lib.tensor([[1.0, 1.0, 1.0]])  # no input requires grad: the hook still sees grad_output
    seen2 = {}
    lin.register_full_backward_hook(lambda m, gi, go: seen2.update(gi=gi, go=[g.tolist() for g in go]))
    lin(y).sum().backward()
    seen["no_input_grad"] = (seen2["gi"], seen2["go"])
    return seen


def test_full_backward_hooks_match_torch():
    e, t = _backward_hook_trace(ember), _backward_hook_trace(torch)
    assert e.keys() == t.keys()
    assert e.pop("no_input_grad") == t.pop("no_input_grad")
    for k in t:
        np.testing.assert_allclose(e[k], t[k], rtol=1e-6, err_msg=k)


def test_call_passes_kwargs_and_extra_state_roundtrip():
    class WithState(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.note = "a"

        def forward(self, x, *, scale=1.0):
            return x * scale

        def get_extra_state(self):
            return {"note": self.note}

        def set_extra_state(self, state):
            self.note = state["note"]

    m = WithState()
    assert m(ember.ones(2), scale=3.0).tolist() == [3.0, 3.0]
    sd = m.state_dict()
    assert list(sd) == ["_extra_state"]
    m2 = WithState()
    m2.note = "b"
    m2.load_state_dict({"_extra_state": {"note": "z"}})
    assert m2.note == "z"


def test_calling_a_module_without_super_init_raises_attribute_error():
    for lib in (torch, ember):
        class NoInit(lib.nn.Module):
            def __init__(self):
                pass

            def forward(self, x):
                return x

        with pytest.raises(AttributeError, match="'NoInit' object has no attribute '_"):
            NoInit()(1)
