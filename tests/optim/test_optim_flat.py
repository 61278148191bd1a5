"""The multi-tensor (flat) update path gives bitwise the per-parameter path's results, and falls back safely."""
import numpy as np
import pytest

import ember
from ember import _fused
from ember.optim import _flat

OPTS = [
    lambda ps: ember.optim.Adam(ps, lr=0.01, weight_decay=0.1),
    lambda ps: ember.optim.AdamW(ps, lr=0.01, amsgrad=True),
    lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: ember.optim.SGD(ps, lr=0.1),
]


def run(make_opt, flat, steps=6, shapes=((3, 4), (5,), (), (2, 2, 2)), seed=0, before_step=None):
    """``steps`` optimizer steps on random gradients, flat groups allowed or not; ``before_step(i, params,
    opt)`` may edit things by hand before step ``i``."""
    rng = np.random.default_rng(seed)
    params = [ember.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in shapes]
    opt = make_opt(params)
    old = _flat.MAX_MEAN_NUMEL
    _flat.MAX_MEAN_NUMEL = old if flat else 0
    try:
        for i in range(steps):
            if before_step is not None:
                before_step(i, params, opt)
            for p in params:
                p.grad = ember.tensor(rng.standard_normal(p.shape).astype(np.float32))
            opt.step()
    finally:
        _flat.MAX_MEAN_NUMEL = old
    return params, opt


def assert_same_params_and_state(params_a, opt_a, params_b, opt_b):
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for sa, sb in zip(opt_a.state_dict()["state"].values(), opt_b.state_dict()["state"].values()):
        for k in sa:
            np.testing.assert_array_equal(np.asarray(sa[k].numpy() if hasattr(sa[k], "numpy") else sa[k]),
                                          np.asarray(sb[k].numpy() if hasattr(sb[k], "numpy") else sb[k]))


@pytest.mark.parametrize("make_opt", OPTS)
def test_flat_and_per_parameter_paths_are_bitwise_equal(make_opt):
    pf, of = run(make_opt, True)
    pp, op = run(make_opt, False)
    assert of.__dict__.get("_flat_groups") and not op.__dict__.get("_flat_groups")
    assert_same_params_and_state(pf, of, pp, op)


def test_loading_a_state_dict_leaves_flat_mode_and_stays_exact():
    pf, of = run(OPTS[0], True)
    sd = of.state_dict()
    of.load_state_dict(sd)  # replaces the state tensors: the flat layout is rebuilt
    for p in pf:
        p.grad = ember.ones(p.shape)
    of.step()
    pp, op = run(OPTS[0], False)
    op.load_state_dict(op.state_dict())
    for p in pp:
        p.grad = ember.ones(p.shape)
    op.step()
    for a, b in zip(pf, pp):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_parameter_aliases_see_the_update():
    rng = np.random.default_rng(1)
    params = [ember.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True) for _ in range(3)]
    aliases = [p.detach() for p in params]  # share storage, like p.data
    opt = ember.optim.SGD(params, lr=1.0)
    for _ in range(2):
        for p in params:
            p.grad = ember.ones(3)
        opt.step()
    for p, a in zip(params, aliases):
        np.testing.assert_array_equal(p.detach().numpy(), a.numpy())


def run_chunked(make_opt, chunk_bytes, steps=4):
    """Updates of parameters larger than a chunk, some with non-contiguous gradients."""
    rng = np.random.default_rng(2)
    params = [ember.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
              for s in [(7, 9), (37,), (), (4, 5)]]
    opt = make_opt(params)
    old_chunk, old_flat = ember._kernels.CHUNK_BYTES, _flat.MAX_MEAN_NUMEL
    ember._kernels.CHUNK_BYTES, _flat.MAX_MEAN_NUMEL = chunk_bytes, 0
    _fused.set_enabled(False)  # the chunks are the NumPy path's
    try:
        for _ in range(steps):
            for p in params:
                g = rng.standard_normal(p.shape[::-1]).astype(np.float32)
                p.grad = ember.tensor(g).t() if p.dim() == 2 and p.shape[0] == 4 else ember.tensor(g.T.copy())
            opt.step()
    finally:
        ember._kernels.CHUNK_BYTES, _flat.MAX_MEAN_NUMEL = old_chunk, old_flat
        _fused.set_enabled(True)
    return params, opt


@pytest.mark.parametrize("make_opt", OPTS)
def test_chunked_updates_are_bitwise_equal_to_whole_array_updates(make_opt):
    pc, oc = run_chunked(make_opt, 40)  # 10 float32 elements per chunk: chunk edges fall inside every array
    pw, ow = run_chunked(make_opt, 1 << 30)
    assert_same_params_and_state(pc, oc, pw, ow)


def test_chunks_cover_every_element_once():
    a = np.arange(23, dtype=np.float32)
    b = np.arange(23, dtype=np.float32) * 2
    old = ember._kernels.CHUNK_BYTES
    ember._kernels.CHUNK_BYTES = 20
    try:
        parts = list(ember._kernels.chunks(a, None, b))
        whole = list(ember._kernels.chunks(a[::2], b[::2]))  # not contiguous: one piece
    finally:
        ember._kernels.CHUNK_BYTES = old
    assert [len(c[0]) for c in parts] == [5, 5, 5, 5, 3] and all(c[1] is None for c in parts)
    np.testing.assert_array_equal(np.concatenate([c[0] for c in parts]), a)
    np.testing.assert_array_equal(np.concatenate([c[2] for c in parts]), b)
    assert len(whole) == 1 and whole[0][0].shape == (12,)


def test_parameters_move_into_the_flat_buffer_only_when_nothing_else_holds_them():
    rng = np.random.default_rng(3)
    free = [ember.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True) for _ in range(3)]
    held = [ember.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True) for _ in range(3)]
    alias = held[1].detach()  # shares held[1]'s array
    for params in (free, held):
        opt = ember.optim.SGD(params, lr=0.5)
        for p in params:
            p.grad = ember.ones(4)
        opt.step()
        flat = next(iter(opt._flat_groups.values()))
        assert flat.adopted == (params is free)
        assert all((p._data.base is flat.param_buf) == (params is free) for p in params)
    np.testing.assert_array_equal(alias.numpy(), held[1].detach().numpy())  # the alias saw the update
    late_alias = free[0].detach()  # taken after the move: a view of the flat buffer, updated with it
    for p in free:
        p.grad = ember.ones(4)
    opt_free = ember.optim.SGD(free, lr=0.5)
    opt_free.step()
    np.testing.assert_array_equal(late_alias.numpy(), free[0].detach().numpy())


def test_repointing_a_flat_parameter_rebuilds_the_group_and_stays_exact():
    def run(repoint):
        rng = np.random.default_rng(4)
        params = [ember.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
                  for s in [(2, 3), (3,)]]
        opt = ember.optim.Adam(params, lr=0.1)
        for i in range(4):
            if repoint and i == 2:
                params[0].data = ember.tensor(params[0].detach().numpy() * 2)
            elif not repoint and i == 2:
                with ember.no_grad():
                    params[0].mul_(2)
            for p in params:
                p.grad = ember.tensor(rng.standard_normal(p.shape).astype(np.float32))
            opt.step()
        return [p.detach().numpy() for p in params]

    for a, b in zip(run(True), run(False)):
        np.testing.assert_array_equal(a, b)


def test_a_parameter_viewing_another_tensor_stays_in_its_storage():
    base = ember.zeros(2, 4)
    params = [ember.nn.Parameter(base[0]), ember.nn.Parameter(base[1])]  # views of base, as in torch
    opt = ember.optim.SGD(params, lr=1.0)
    for _ in range(2):
        for p in params:
            p.grad = ember.ones(4)
        opt.step()
    assert not next(iter(opt._flat_groups.values())).adopted
    np.testing.assert_array_equal(base.numpy(), np.full((2, 4), -2.0, np.float32))  # base saw the updates


def test_a_rebuilt_group_moves_its_parameters_into_the_new_buffer():
    rng = np.random.default_rng(5)
    params = [ember.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True) for _ in range(2)]
    opt = ember.optim.Adam(params, lr=0.1)
    for i in range(3):
        if i == 2:
            opt.load_state_dict(opt.state_dict())  # new state tensors: the flat group is rebuilt
        for p in params:
            p.grad = ember.ones(3)
        opt.step()
    flat = next(iter(opt._flat_groups.values()))
    assert flat.adopted and all(p._data.base is flat.param_buf for p in params)


@pytest.mark.parametrize("change", ["state_entry", "state_dict", "state_tensor_data", "param_in_group"])
def test_replacing_state_or_parameters_by_hand_leaves_the_stale_flat_layout(change):
    """Each hand edit must be seen by the next step (the flat group is checked, not trusted): the flat and the
    per-parameter runs stay bitwise equal."""
    def edit(i, params, opt):
        if i != 3:
            return
        p = params[1]
        if change == "state_entry":
            opt.state[p]["exp_avg"] = ember.full(p.shape, 0.5)
        elif change == "state_dict":
            opt.state[p] = {k: v.clone() for k, v in opt.state[p].items()}
            opt.state[p]["exp_avg_sq"].mul_(4)
        elif change == "state_tensor_data":
            opt.state[p]["exp_avg"].data = ember.full(p.shape, -0.25)
        else:
            params[1] = ember.tensor(p.detach().numpy() + 1, requires_grad=True)
            opt.param_groups[0]["params"][1] = params[1]
            opt.state[params[1]] = opt.state.pop(p)

    def make_opt(ps):
        return ember.optim.Adam(ps, lr=0.1)

    pf, of = run(make_opt, True, steps=5, shapes=((2, 3), (3,), (4,)), seed=6, before_step=edit)
    pp, op = run(make_opt, False, steps=5, shapes=((2, 3), (3,), (4,)), seed=6, before_step=edit)
    assert of.__dict__.get("_flat_groups")
    assert_same_params_and_state(pf, of, pp, op)
