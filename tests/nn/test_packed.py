"""ember.nn.utils.rnn (PackedSequence, pack/pad helpers) and recurrent layers on packed input, against torch."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
import ember.nn
from oracle import assert_close, tol
from ember.nn.utils import rnn as eu
from torch.nn.utils import rnn as tu

_rng = np.random.default_rng(11)


def R(*shape):
    return _rng.standard_normal(shape).astype(np.float32)


def leaves(a):
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def backward_both(out_e, out_t):
    w = _rng.standard_normal(tuple(out_t.shape)).astype(out_t.detach().numpy().dtype)
    (out_e * ember.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()


def assert_packed_equal(pe, pt):
    assert isinstance(pe, eu.PackedSequence) and isinstance(pe, tuple)
    assert_close(pe.data, pt.data, 1e-6, 1e-7, "data")
    assert pe.batch_sizes.tolist() == pt.batch_sizes.tolist()
    assert pe.batch_sizes.dtype == ember.int64
    for name in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(pe, name), getattr(pt, name)
        assert (a is None) == (b is None), name
        if b is not None:
            assert a.tolist() == b.tolist(), name


# ---- pad_sequence ---------------------------------------------------------------------------------------------
PAD_CASES = [
    ("time_major", [(4, 3), (2, 3), (5, 3)], {}),
    ("batch_first", [(4, 3), (2, 3), (5, 3)], dict(batch_first=True)),
    ("padding_value", [(1, 2), (3, 2)], dict(padding_value=-7.5)),
    ("left", [(4, 3), (2, 3), (5, 3)], dict(padding_side="left")),
    ("left_batch_first", [(2,), (4,), (1,)], dict(padding_side="left", batch_first=True, padding_value=1.0)),
    ("trailing_dims", [(3, 2, 2), (1, 2, 2)], dict(batch_first=True)),
    ("equal_lengths", [(3, 2), (3, 2)], {}),
]


@pytest.mark.parametrize("case", PAD_CASES, ids=[c[0] for c in PAD_CASES])
def test_pad_sequence_matches_torch(case):
    _, shapes, kwargs = case
    pairs = [leaves(R(*s)) for s in shapes]
    out_e = eu.pad_sequence([p[0] for p in pairs], **kwargs)
    out_t = tu.pad_sequence([p[1] for p in pairs], **kwargs)
    assert_close(out_e, out_t, 0, 0, "pad_sequence")
    backward_both(out_e, out_t)
    for a, b in pairs:
        assert_close(a.grad, b.grad, 1e-6, 1e-7, "grad")


def test_pad_sequence_accepts_a_tensor_and_a_generator():
    x = R(3, 4, 2)
    assert_close(eu.pad_sequence(ember.tensor(x)), tu.pad_sequence(torch.tensor(x)), 0, 0, "tensor")
    gen_e = eu.pad_sequence(ember.tensor(s) for s in (R(2, 1), R(3, 1)))
    assert tuple(gen_e.shape) == (3, 2, 1)


# ---- pack_padded_sequence / pad_packed_sequence ---------------------------------------------------------------
PACK_CASES = [
    ("sorted_list", [5, 3, 3, 1], {}),
    ("sorted_tensor", "tensor:[5, 3, 3, 1]", {}),
    ("unsorted", [2, 5, 1, 5], dict(enforce_sorted=False)),
    ("unsorted_batch_first", [2, 5, 1, 4], dict(enforce_sorted=False, batch_first=True)),
    ("batch_first", [5, 4, 2, 2], dict(batch_first=True)),
    ("all_full", [5, 5, 5, 5], {}),
    ("shorter_than_padding", [3, 2, 2, 1], {}),
]


@pytest.mark.parametrize("case", PACK_CASES, ids=[c[0] for c in PACK_CASES])
def test_pack_and_pad_packed_match_torch(case):
    _, lengths, kwargs = case
    batch_first = kwargs.get("batch_first", False)
    x = R(4, 5, 3) if batch_first else R(5, 4, 3)
    xe, xt = leaves(x)
    if isinstance(lengths, str):
        values = eval(lengths.split(":")[1])
        le, lt = ember.tensor(values), torch.tensor(values)
    else:
        le = lt = lengths
    pe = eu.pack_padded_sequence(xe, le, **kwargs)
    pt = tu.pack_padded_sequence(xt, lt, **kwargs)
    assert_packed_equal(pe, pt)
    out_e, len_e = eu.pad_packed_sequence(pe, batch_first=batch_first, padding_value=0.5)
    out_t, len_t = tu.pad_packed_sequence(pt, batch_first=batch_first, padding_value=0.5)
    assert_close(out_e, out_t, 0, 0, "pad_packed_sequence")
    assert len_e.tolist() == len_t.tolist() and len_e.dtype == ember.int64
    backward_both(out_e, out_t)
    assert_close(xe.grad, xt.grad, 1e-6, 1e-7, "grad through pack and pad")


@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_packed_total_length(batch_first):
    seqs = [R(4, 2), R(2, 2), R(1, 2)]
    pe = eu.pack_sequence([ember.tensor(s) for s in seqs])
    pt = tu.pack_sequence([torch.tensor(s) for s in seqs])
    out_e, _ = eu.pad_packed_sequence(pe, batch_first=batch_first, total_length=6)
    out_t, _ = tu.pad_packed_sequence(pt, batch_first=batch_first, total_length=6)
    assert_close(out_e, out_t, 0, 0, "total_length")


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_sequence(enforce_sorted):
    seqs = [R(4, 2), R(3, 2), R(1, 2)] if enforce_sorted else [R(1, 2), R(4, 2), R(3, 2)]
    pairs = [leaves(s) for s in seqs]
    pe = eu.pack_sequence([p[0] for p in pairs], enforce_sorted=enforce_sorted)
    pt = tu.pack_sequence([p[1] for p in pairs], enforce_sorted=enforce_sorted)
    assert_packed_equal(pe, pt)
    back_e, back_t = eu.unpack_sequence(pe), tu.unpack_sequence(pt)
    assert len(back_e) == len(back_t) == 3
    for a, b, s in zip(back_e, back_t, seqs):
        assert_close(a, b, 0, 0, "unpack_sequence")
        np.testing.assert_array_equal(a.detach().numpy(), s)
    backward_both(pe.data, pt.data)
    for a, b in pairs:
        assert_close(a.grad, b.grad, 1e-6, 1e-7, "grad")


def test_unpad_sequence_matches_torch():
    seqs = [R(4, 2), R(2, 2), R(3, 2)]
    padded_e = eu.pad_sequence([ember.tensor(s) for s in seqs], batch_first=True)
    padded_t = tu.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True)
    lengths = [4, 2, 3]
    got_e = eu.unpad_sequence(padded_e, ember.tensor(lengths), batch_first=True)
    got_t = tu.unpad_sequence(padded_t, torch.tensor(lengths), batch_first=True)
    assert_close(got_e, got_t, 0, 0, "unpad_sequence")


@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5), batch_first=st.booleans(),
       features=st.integers(1, 3))
def test_pack_pad_round_trip_matches_torch(lengths, batch_first, features):
    n_steps, n_batch = max(lengths), len(lengths)
    x = R(n_batch, n_steps, features) if batch_first else R(n_steps, n_batch, features)
    pe = eu.pack_padded_sequence(ember.tensor(x), lengths, batch_first=batch_first, enforce_sorted=False)
    pt = tu.pack_padded_sequence(torch.tensor(x), lengths, batch_first=batch_first, enforce_sorted=False)
    assert_packed_equal(pe, pt)
    out_e, len_e = eu.pad_packed_sequence(pe, batch_first=batch_first)
    out_t, len_t = tu.pad_packed_sequence(pt, batch_first=batch_first)
    assert_close(out_e, out_t, 0, 0, "round trip")
    assert len_e.tolist() == lengths == len_t.tolist()


# ---- PackedSequence ---------------------------------------------------------------------------------------------
def test_packed_sequence_is_a_namedtuple_with_torch_fields():
    p = eu.pack_sequence([ember.tensor(R(3, 2)), ember.tensor(R(1, 2))])
    assert eu.PackedSequence._fields == tu.PackedSequence._fields
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert data is p.data and batch_sizes is p.batch_sizes
    assert sorted_indices is None and unsorted_indices is None
    q = eu.PackedSequence(p.data, p.batch_sizes)
    assert q.batch_sizes.tolist() == [2, 1, 1]
    r = eu.PackedSequence((p.data, p.batch_sizes))
    assert r.data is p.data
    d = p.double()
    assert d.data.dtype == ember.float64 and d.batch_sizes is p.batch_sizes
    assert p.to(ember.float32) is p
    assert not p.is_cuda


def test_packed_sequence_fills_unsorted_indices():
    p = eu.PackedSequence(ember.tensor(R(3, 2)), ember.tensor([2, 1]), ember.tensor([1, 0]))
    t = tu.PackedSequence(torch.tensor(R(3, 2)), torch.tensor([2, 1]), torch.tensor([1, 0]))
    assert p.unsorted_indices.tolist() == t.unsorted_indices.tolist()
    assert eu.invert_permutation(ember.tensor([2, 0, 1])).tolist() == \
        tu.invert_permutation(torch.tensor([2, 0, 1])).tolist()
    assert eu.invert_permutation(None) is None


# ---- errors ---------------------------------------------------------------------------------------------------
def same_error(make_call, match):
    with pytest.raises(Exception) as th_err:
        make_call(torch, tu)
    with pytest.raises(type(th_err.value), match=match):
        make_call(ember, eu)


ERROR_CASES = [
    ("unsorted", lambda lib, u: u.pack_padded_sequence(lib.zeros(5, 3, 2), [3, 5, 2]),
     r"`lengths` array must be sorted in decreasing order when `enforce_sorted` is True"),
    ("zero_length", lambda lib, u: u.pack_padded_sequence(lib.zeros(5, 3, 2), [5, 3, 0]),
     r"Length of all samples has to be greater than 0"),
    ("lengths_count", lambda lib, u: u.pack_padded_sequence(lib.zeros(5, 3, 2), [5, 3]),
     r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)"),
    ("lengths_2d", lambda lib, u: u.pack_padded_sequence(lib.zeros(5, 3, 2), lib.tensor([[5, 3, 2]])),
     r"'lengths' argument should be a 1D CPU int64 tensor, but got 2D"),
    ("total_length", lambda lib, u: u.pad_packed_sequence(u.pack_sequence([lib.zeros(5, 1)]), total_length=3),
     r"Expected total_length to be at least the length of the longest sequence in input, but got total_length=3 "
     r"and max sequence length being 5"),
    ("empty", lambda lib, u: u.pad_sequence([]), r"received an empty list of sequences"),
    ("padding_side", lambda lib, u: u.pad_sequence([lib.zeros(2, 3)], padding_side="middle"),
     r"Expected padding_side to be one of left or right, but got middle."),
    ("trailing_mismatch", lambda lib, u: u.pad_sequence([lib.zeros(2, 3), lib.zeros(3, 4)]), None),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_match_torch(case):
    _, make_call, match = case
    same_error(make_call, match)


def test_lengths_longer_than_the_padded_input_raise():
    with pytest.raises(RuntimeError, match="exceeds the padded sequence length 5"):
        eu.pack_padded_sequence(ember.zeros(5, 3, 2), [6, 3, 2])


# ---- recurrent layers on packed input ----------------------------------------------------------------------------
def twins(cls_name, *args, dtype=np.float32, **kwargs):
    th = getattr(torch.nn, cls_name)(*args, **kwargs)
    em = getattr(ember.nn, cls_name)(*args, **kwargs)
    if np.dtype(dtype) == np.float64:
        th.double()
        em.double()
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in th.state_dict().items()})
    return em, th


LAYER_CASES = [
    ("lstm_sorted", "LSTM", {}, [6, 4, 4, 1], True, False),
    ("lstm_unsorted_h0", "LSTM", {}, [2, 6, 1, 5], False, True),
    ("lstm_2layers_bidir_unsorted", "LSTM", dict(num_layers=2, bidirectional=True), [3, 6, 2, 6], False, True),
    ("lstm_bidir_no_bias", "LSTM", dict(bidirectional=True, bias=False), [6, 5, 2, 1], True, False),
    ("gru_bidir_unsorted", "GRU", dict(bidirectional=True), [1, 6, 3, 4], False, True),
    ("gru_2layers", "GRU", dict(num_layers=2), [6, 6, 3, 3], True, False),
    ("rnn_relu_bidir", "RNN", dict(nonlinearity="relu", bidirectional=True), [4, 6, 5, 2], False, True),
    ("rnn_tanh_2layers", "RNN", dict(num_layers=2, bidirectional=True), [6, 2, 2, 2], True, True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layers_on_packed_input_match_torch(case, dtype):
    _, cls, kwargs, lengths, enforce_sorted, with_hx = case
    n_steps, n_batch, n_in, hidden = max(lengths), len(lengths), 3, 5
    em, th = twins(cls, n_in, hidden, dtype=dtype, **kwargs)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    t = tol(dtype)
    xe, xt = leaves(_rng.standard_normal((n_steps, n_batch, n_in)).astype(dtype))
    pe = eu.pack_padded_sequence(xe, lengths, enforce_sorted=enforce_sorted)
    pt = tu.pack_padded_sequence(xt, lengths, enforce_sorted=enforce_sorted)
    hx_pairs = []
    if with_hx:
        n_states = 2 if cls == "LSTM" else 1
        hx_pairs = [leaves(_rng.standard_normal((layers, n_batch, hidden)).astype(dtype)) for _ in range(n_states)]
        he = tuple(p[0] for p in hx_pairs) if cls == "LSTM" else hx_pairs[0][0]
        ht = tuple(p[1] for p in hx_pairs) if cls == "LSTM" else hx_pairs[0][1]
        out_e, state_e = em(pe, he)
        out_t, state_t = th(pt, ht)
    else:
        out_e, state_e = em(pe)
        out_t, state_t = th(pt)
    assert isinstance(out_e, eu.PackedSequence)
    assert out_e.batch_sizes.tolist() == out_t.batch_sizes.tolist()
    assert_close(out_e.data, out_t.data, t["rtol"], t["atol"], "packed output")
    states_e = state_e if isinstance(state_e, tuple) else (state_e,)
    states_t = state_t if isinstance(state_t, tuple) else (state_t,)
    assert_close(states_e, states_t, t["rtol"], t["atol"], "final states")
    pad_e, len_e = eu.pad_packed_sequence(out_e, batch_first=True)
    pad_t, len_t = tu.pad_packed_sequence(out_t, batch_first=True)
    assert_close(pad_e, pad_t, t["rtol"], t["atol"], "padded output")
    loss_w = [_rng.standard_normal(tuple(s.shape)).astype(dtype) for s in (pad_t,) + states_t]
    loss_e = sum((a * ember.tensor(w)).sum() for a, w in zip((pad_e,) + states_e, loss_w))
    loss_t = sum((a * torch.tensor(w)).sum() for a, w in zip((pad_t,) + states_t, loss_w))
    loss_e.backward()
    loss_t.backward()
    assert_close(xe.grad, xt.grad, t["rtol"] * 10, t["atol"] * 10, "grad of input")
    for i, (a, b) in enumerate(hx_pairs):
        assert_close(a.grad, b.grad, t["rtol"] * 10, t["atol"] * 10, f"grad of hx[{i}]")
    th_params = dict(th.named_parameters())
    for name, p in em.named_parameters():
        assert_close(p.grad, th_params[name].grad, t["rtol"] * 10, t["atol"] * 10, f"grad of {name}")


def test_long_packed_lstm_matches_torch():
    """20 steps, batch 32, hidden 64, ragged lengths.

    Above 16 sequences torch sorts lengths with an unstable sort, so equal lengths may be packed in another
    order than ember's (stable) one; the padded outputs and final states, in the caller's order, are equal."""
    em, th = twins("LSTM", 3, 64, bidirectional=True)
    lengths = [20] + list(_rng.integers(1, 21, size=31))
    xe, xt = leaves(R(20, 32, 3))
    out_e, (h_e, c_e) = em(eu.pack_padded_sequence(xe, lengths, enforce_sorted=False))
    out_t, (h_t, c_t) = th(tu.pack_padded_sequence(xt, lengths, enforce_sorted=False))
    out_e, out_t = eu.pad_packed_sequence(out_e)[0], tu.pad_packed_sequence(out_t)[0]
    assert_close([out_e, h_e, c_e], [out_t, h_t, c_t], 1e-5, 1e-6, "forward")
    loss_w = [_rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in (out_t, h_t, c_t)]
    sum((a * ember.tensor(w)).sum() for a, w in zip((out_e, h_e, c_e), loss_w)).backward()
    sum((a * torch.tensor(w)).sum() for a, w in zip((out_t, h_t, c_t), loss_w)).backward()
    assert_close(xe.grad, xt.grad, 1e-4, 1e-5, "grad of input")
    th_params = dict(th.named_parameters())
    for name, p in em.named_parameters():
        assert_close(p.grad, th_params[name].grad, 1e-4, 1e-5, f"grad of {name}")


def test_packed_output_equals_padded_run_for_equal_lengths():
    m = ember.nn.GRU(3, 4, bidirectional=True)
    x = ember.tensor(R(5, 2, 3))
    packed_out, h_packed = m(eu.pack_padded_sequence(x, [5, 5]))
    padded_out, h_padded = m(x)
    np.testing.assert_allclose(eu.pad_packed_sequence(packed_out)[0].detach().numpy(), padded_out.detach().numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(h_packed.detach().numpy(), h_padded.detach().numpy(), rtol=1e-6)
