"""state_dict / load_state_dict: keys, order, shapes, metadata, error messages — against torch.nn."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn
from nn_oracle import to_ember_state


def build(lib):
    """A model touching every registration path: nested containers, buffers, None parameters."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 4, padding_idx=0)
            self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                          nn.Conv1d(4, 2, 2, bias=False), nn.GroupNorm(2, 4))
            self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.LayerNorm(4), nn.PReLU()])
            self.heads = nn.ModuleDict({"cls": nn.Linear(4, 2), "reg": nn.Bilinear(4, 4, 1)})
            self.norm = nn.BatchNorm1d(4, affine=False)
            self.inorm = nn.InstanceNorm1d(4, affine=True, track_running_stats=True)
            self.up = nn.ConvTranspose2d(4, 2, 2)
            self.loss = nn.CrossEntropyLoss(weight=lib.ones(2))
            self.scale = nn.Parameter(lib.ones(1))
            self.register_buffer("hidden", lib.zeros(2), persistent=False)
            self.register_parameter("unused", None)

    return Net()


def test_keys_order_shapes_and_dtypes_match_torch():
    e, t = build(ember).state_dict(), build(torch).state_dict()
    assert list(e) == list(t)
    for k in t:
        assert tuple(e[k].shape) == tuple(t[k].shape), k
        assert e[k].dtype.name == str(t[k].dtype).replace("torch.", ""), k
    assert dict(e._metadata) == dict(t._metadata)


def test_state_dict_values_are_detached_views_and_keep_vars():
    m = build(ember)
    sd = m.state_dict()
    assert not sd["scale"].requires_grad and type(sd["scale"]) is ember.Tensor
    sd["scale"][0] = 7.0  # shares memory with the parameter, as in torch
    assert m.scale.item() == 7.0
    kv = m.state_dict(keep_vars=True)
    assert kv["scale"] is m.scale and kv["features.1.running_mean"] is m.features[1].running_mean
    assert list(m.state_dict(prefix="model.")) == ["model." + k for k in sd]
    dest = OrderedDict()
    assert m.blocks.state_dict(dest, "b.") is dest and list(dest)[0] == "b.0.weight"


def test_load_copies_in_place_and_round_trips_torch_weights():
    e, t = build(ember), build(torch)
    params_before = [id(p) for p in e.parameters()]
    result = e.load_state_dict(to_ember_state(t))
    assert repr(result) == repr(torch.nn.Module().load_state_dict({})) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert [id(p) for p in e.parameters()] == params_before
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(e.state_dict()[k].numpy(), v.numpy(), err_msg=k)


def test_load_casts_to_the_module_dtype():
    m = ember.nn.Linear(2, 2)
    m.load_state_dict({"weight": ember.ones(2, 2, dtype=ember.float64), "bias": ember.zeros(2, dtype=ember.float64)})
    assert m.weight.dtype is ember.float32 and m.weight.sum().item() == 4.0


def _mutations():
    def missing(sd):
        del sd["blocks.0.bias"]
        del sd["features.1.running_var"]

    def unexpected(sd):
        sd["blocks.9.weight"] = sd["blocks.0.weight"]
        sd["extra"] = sd["scale"]

    def size(sd):
        sd["heads.cls.weight"] = sd["heads.cls.weight"][:1]

    def not_tensor(sd):
        sd["scale"] = 3.0

    def everything(sd):
        missing(sd)
        unexpected(sd)
        size(sd)

    def none_param_key(sd):
        sd["unused"] = sd["scale"]

    def non_persistent_key(sd):
        sd["hidden"] = sd["scale"]

    return [missing, unexpected, size, not_tensor, everything, none_param_key, non_persistent_key]


MUTATIONS = _mutations()


def _load_outcome(lib, mutate, strict):
    model = build(lib)
    sd = build(lib).state_dict()
    mutate(sd)
    try:
        res = model.load_state_dict(sd, strict=strict)
        return "ok", list(res.missing_keys), list(res.unexpected_keys), repr(res).replace("torch", "ember")
    except Exception as exc:  # noqa: BLE001 - compared with torch
        return type(exc), str(exc).replace("torch.Size", "ember.Size")


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("mutate", MUTATIONS, ids=[m.__name__ for m in MUTATIONS])
def test_load_errors_match_torch(mutate, strict):
    e = _load_outcome(ember, mutate, strict)
    t = _load_outcome(torch, mutate, strict)
    assert e == t


def test_load_rejects_non_mapping():
    for lib in (torch, ember):
        with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
            lib.nn.Linear(1, 1).load_state_dict([1, 2])


def test_batchnorm_old_checkpoint_without_num_batches_tracked():
    """Version-1 metadata (checkpoints before num_batches_tracked existed) loads without a missing key."""
    out = []
    for lib in (torch, ember):
        bn = lib.nn.BatchNorm1d(3)
        sd = bn.state_dict()
        del sd["num_batches_tracked"]
        sd._metadata[""]["version"] = 1
        res = bn.load_state_dict(sd)
        out.append((res.missing_keys, res.unexpected_keys))
        sd2 = bn.state_dict()
        del sd2["num_batches_tracked"]  # version 2: it is reported missing
        with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "num_batches_tracked"'):
            bn.load_state_dict(sd2)
    assert out[0] == out[1]


def test_instance_norm_rejects_running_stats_when_untracked():
    msgs = []
    for lib in (torch, ember):
        m = lib.nn.InstanceNorm1d(3)
        sd = {"running_mean": lib.zeros(3), "running_var": lib.ones(3)}
        with pytest.raises(RuntimeError) as info:
            m.load_state_dict(sd)
        msgs.append(str(info.value))
    assert msgs[1] == msgs[0]


def test_assign_replaces_tensors_and_keeps_requires_grad():
    m = ember.nn.Linear(2, 2)
    m.weight.requires_grad_(False)
    w = ember.ones(2, 2)
    m.load_state_dict({"weight": w, "bias": ember.zeros(2)}, assign=True)
    assert isinstance(m.weight, ember.nn.Parameter) and not m.weight.requires_grad
    w[0, 0] = 5.0
    assert m.weight[0, 0].item() == 5.0  # the given tensor's memory is used


def test_state_dict_hooks():
    m = ember.nn.Linear(2, 2)
    calls = []
    m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: calls.append(("pre", prefix)))

    def post(mod, sd, prefix, meta):
        sd[prefix + "note"] = ember.zeros(1)

    m.register_state_dict_post_hook(post)
    assert list(m.state_dict()) == ["weight", "bias", "note"] and calls == [("pre", "")]
    seen = []
    m.register_load_state_dict_post_hook(lambda mod, keys: seen.append(list(keys.unexpected_keys)))
    m.load_state_dict(m.state_dict(), strict=False)
    assert seen == [["note"]]
    pre_seen = []
    m.register_load_state_dict_pre_hook(lambda mod, sd, prefix, *rest: pre_seen.append(prefix))
    m.load_state_dict({"weight": ember.ones(2, 2), "bias": ember.ones(2)})
    assert pre_seen == [""]
