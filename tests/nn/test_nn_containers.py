"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against torch.nn."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn

BOTH = pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])


def layer_names(seq):
    return [type(m).__name__ for m in seq]


def keys(module):
    return list(module.state_dict())


# ---- Sequential ---------------------------------------------------------------------------------------------
def _seq(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.Tanh())


@BOTH
def test_sequential_positional_and_ordered_dict(lib):
    nn = lib.nn
    s = _seq(lib)
    assert [n for n, _ in s.named_children()] == ["0", "1", "2", "3"]
    d = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in d.named_children()] == ["fc", "act"]
    assert isinstance(d.fc, nn.Linear) and d[0] is d.fc and d[-1] is d.act
    assert len(s) == 4 and len(nn.Sequential()) == 0


def test_sequential_forward_chains():
    e, t = _seq(ember), _seq(torch)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32)
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


INDEXING = [
    ("int", lambda s: layer_names([s[1]])),
    ("negative", lambda s: layer_names([s[-1], s[-4]])),
    ("slice", lambda s: (type(s[1:3]).__name__, layer_names(s[1:3]), [n for n, _ in s[1:3].named_children()])),
    ("step_slice", lambda s: layer_names(s[::2])),
    ("iter", lambda s: layer_names(s)),
    ("append", lambda s: [n for n, _ in s.append(s[0]).named_children()]),
    ("extend", lambda s: layer_names(s.extend([s[1], s[3]]))),
    ("insert", lambda s: layer_names(s.insert(1, s[3]))),
    ("insert_negative", lambda s: layer_names(s.insert(-1, s[0]))),
    ("setitem", lambda s: (s.__setitem__(-1, s[1]), layer_names(s))[1]),
    ("delitem", lambda s: (s.__delitem__(1), [n for n, _ in s.named_children()], layer_names(s))[1:]),
    ("del_slice", lambda s: (s.__delitem__(slice(0, 2)), layer_names(s))[1]),
    ("pop", lambda s: (type(s.pop(0)).__name__, layer_names(s))),
    ("add", lambda s: layer_names(s + s)),
    ("iadd", lambda s: (s.__iadd__(s[0:1]), [n for n, _ in s.named_children()])[1]),
    ("mul", lambda s: layer_names(s[0:2] * 2)),
    ("rmul", lambda s: layer_names(2 * s[0:2])),
    ("imul", lambda s: (s.__imul__(2), [n for n, _ in s.named_children()])[1]),
    ("state_dict", lambda s: keys(s)),
    ("dir_hides_digits", lambda s: [k for k in dir(s) if k.isdigit()]),
]


@pytest.mark.parametrize("case", INDEXING, ids=[c[0] for c in INDEXING])
def test_sequential_list_operations_match_torch(case):
    _, fn = case
    assert fn(_seq(ember)) == fn(_seq(torch))


SEQ_ERRORS = [
    ("index_out_of_range", lambda lib, s: s[7]),
    ("negative_out_of_range", lambda lib, s: s[-5]),
    ("insert_out_of_range", lambda lib, s: s.insert(9, lib.nn.ReLU())),
    ("insert_not_module", lambda lib, s: s.insert(0, 3)),
    ("add_non_sequential", lambda lib, s: s + [lib.nn.ReLU()]),
    ("mul_non_int", lambda lib, s: s * 1.5),
    ("mul_zero", lambda lib, s: s * 0),
    ("append_non_module", lambda lib, s: s.append(3)),
]


@pytest.mark.parametrize("case", SEQ_ERRORS, ids=[c[0] for c in SEQ_ERRORS])
def test_sequential_errors_match_torch(case):
    _, fn = case
    results = []
    for lib in (torch, ember):
        with pytest.raises(Exception) as info:
            fn(lib, _seq(lib))
        results.append((info.type, str(info.value).replace("torch.nn.modules.container", "X").replace(
            "ember.nn.modules.container", "X")))
    assert results[1][0] is results[0][0]
    if results[0][0] is not AssertionError:
        assert results[1][1] == results[0][1]


# ---- ModuleList / ModuleDict -----------------------------------------------------------------------------------
def _mlist(lib):
    nn = lib.nn
    return nn.ModuleList([nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3)])


MLIST_OPS = [
    ("index", lambda m: layer_names([m[0], m[-1]])),
    ("slice", lambda m: (type(m[1:]).__name__, layer_names(m[1:]))),
    ("len_iter", lambda m: (len(m), layer_names(m))),
    ("append", lambda m: [n for n, _ in m.append(m[1]).named_children()]),
    ("extend", lambda m: layer_names(m.extend([m[1], m[0]]))),
    ("iadd", lambda m: layer_names(m.__iadd__([m[1]]))),
    ("add", lambda m: (type(m + m).__name__, layer_names(m + m))),
    ("insert", lambda m: (m.insert(1, m[2]), layer_names(m), keys(m))[1:]),
    ("setitem", lambda m: (m.__setitem__(-2, m[0]), layer_names(m))[1]),
    ("delitem", lambda m: (m.__delitem__(0), [n for n, _ in m.named_children()])[1]),
    ("del_slice", lambda m: (m.__delitem__(slice(0, 3, 2)), layer_names(m))[1]),
    ("pop", lambda m: (type(m.pop(-1)).__name__, len(m))),
    ("state_dict", keys),
    ("params", lambda m: [n for n, _ in m.named_parameters()]),
]


@pytest.mark.parametrize("case", MLIST_OPS, ids=[c[0] for c in MLIST_OPS])
def test_module_list_matches_torch(case):
    _, fn = case
    assert fn(_mlist(ember)) == fn(_mlist(torch))


@BOTH
def test_module_list_errors(lib):
    m = _mlist(lib)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        m[3]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, but got int"):
        m.extend(3)


def _mdict(lib):
    nn = lib.nn
    return nn.ModuleDict({"b": nn.Linear(2, 2), "a": nn.ReLU()})


MDICT_OPS = [
    ("keys", lambda d: list(d.keys())),
    ("items", lambda d: [(k, type(v).__name__) for k, v in d.items()]),
    ("values", lambda d: layer_names(d.values())),
    ("iter_len_contains", lambda d: (list(d), len(d), "a" in d, "z" in d)),
    ("setitem", lambda d: (d.__setitem__("c", d["a"]), list(d))[1]),
    ("delitem", lambda d: (d.__delitem__("b"), list(d))[1]),
    ("pop", lambda d: (type(d.pop("a")).__name__, list(d))),
    ("clear", lambda d: (d.clear(), len(d))[1]),
    ("update_pairs", lambda d: (d.update([("z", d["a"]), ("y", d["b"])]), list(d))[1]),
    ("update_ordered", lambda d: (d.update(OrderedDict(q=d["a"], p=d["a"])), list(d))[1]),
    ("state_dict", keys),
]


@pytest.mark.parametrize("case", MDICT_OPS, ids=[c[0] for c in MDICT_OPS])
def test_module_dict_matches_torch(case):
    _, fn = case
    assert fn(_mdict(ember)) == fn(_mdict(torch))


@BOTH
def test_module_dict_update_errors(lib):
    d = _mdict(lib)
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable"):
        d.update(3)
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        d.update([("a", lib.nn.ReLU(), 1)])
    with pytest.raises(KeyError):
        d["missing"]


# ---- ParameterList / ParameterDict -------------------------------------------------------------------------------
def _plist(lib):
    nn = lib.nn
    return nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])


PLIST_OPS = [
    ("types", lambda p: [type(x).__name__ for x in p]),
    ("params", lambda p: [(n, tuple(x.shape)) for n, x in p.named_parameters()]),
    ("index", lambda p: (tuple(p[-1].shape), type(p[0]).__name__)),
    ("slice", lambda p: (type(p[0:1]).__name__, len(p[0:1]))),
    ("append", lambda p: (len(p.append(p[0])), [n for n, _ in p.named_parameters()])),
    ("append_other", lambda p: (p.append("text"), len(p), type(p[2]).__name__)[1:]),
    ("extend", lambda p: len(p.extend([p[0], p[1]]))),
    ("setitem", lambda p: (p.__setitem__(0, p[1]), tuple(p[0].shape))[1]),
    ("state_dict", keys),
    ("requires_grad", lambda p: [x.requires_grad for x in p]),
]


@pytest.mark.parametrize("case", PLIST_OPS, ids=[c[0] for c in PLIST_OPS])
def test_parameter_list_matches_torch(case):
    _, fn = case
    assert fn(_plist(ember)) == fn(_plist(torch))


@BOTH
def test_parameter_containers_cannot_be_called(lib):
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        _plist(lib)()
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        _pdict(lib)(1)


def _pdict(lib):
    nn = lib.nn
    return nn.ParameterDict({"w": nn.Parameter(lib.ones(2)), "b": lib.zeros(3)})


PDICT_OPS = [
    ("keys_sorted_from_dict", lambda p: list(p.keys())),
    ("types", lambda p: [type(v).__name__ for v in p.values()]),
    ("params", lambda p: [n for n, _ in p.named_parameters()]),
    ("get", lambda p: (tuple(p.get("w").shape), p.get("zz", 5))),
    ("setitem", lambda p: (p.__setitem__("c", lib_ones(p)), list(p))[1]),
    ("delitem", lambda p: (p.__delitem__("w"), list(p))[1]),
    ("pop", lambda p: (tuple(p.pop("b").shape), list(p))),
    ("popitem", lambda p: (p.popitem()[0], list(p))),
    ("setdefault", lambda p: (p.setdefault("q", None), list(p))),
    ("reversed", lambda p: list(reversed(p))),
    ("copy", lambda p: list(p.copy())),
    ("or", lambda p: list(p | p.copy())),
    ("update_pairs", lambda p: (p.update([("z", p["w"])]), list(p))[1]),
    ("fromkeys", lambda p: list(p.fromkeys(["x", "y"]))),
    ("clear", lambda p: (p.clear(), len(p))[1]),
    ("contains", lambda p: ("w" in p, "nope" in p)),
    ("state_dict", keys),
]


def lib_ones(p):
    return next(iter(p.values())).detach() * 0 + 1


@pytest.mark.parametrize("case", PDICT_OPS, ids=[c[0] for c in PDICT_OPS])
def test_parameter_dict_matches_torch(case):
    _, fn = case
    assert fn(_pdict(ember)) == fn(_pdict(torch))


@BOTH
def test_parameter_dict_non_string_key(lib):
    with pytest.raises(TypeError, match="not a string"):
        _pdict(lib)[3]


def test_containers_in_a_model_register_everything():
    def build(lib):
        nn = lib.nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
                self.heads = nn.ModuleDict({"x": nn.Linear(2, 1)})
                self.extra = nn.ParameterList([nn.Parameter(lib.zeros(2))])
                self.table = nn.ParameterDict({"t": nn.Parameter(lib.zeros(1))})

        return M()

    assert keys(build(ember)) == keys(build(torch))
