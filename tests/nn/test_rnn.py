"""RNN, LSTM, GRU and their cells against torch.nn: torch's weights copied through state_dict, then outputs,
final states and the gradients of the input, the initial states and every parameter compared (float32 and
float64, train and eval), plus construction, printing, initialisation, error paths and gradchecks."""
import math
import types

import numpy as np
import pytest
import torch

import ember
import ember.nn
from ember import _fused
from ember.ops import _recurrent_lstm
from oracle import assert_close, tol
from ember.ops.recurrent import gru_layer, lstm_layer, rnn_layer

_rng = np.random.default_rng(7)


def R(*shape):
    return _rng.standard_normal(shape)


def twins(cls_name, *args, dtype=np.float32, **kwargs):
    """The same layer in torch and ember, ember's weights loaded from torch's state_dict."""
    torch.manual_seed(0)  # fixed weights: the float32 tolerances were set for these, not for any draw
    th = getattr(torch.nn, cls_name)(*args, **kwargs)
    em = getattr(ember.nn, cls_name)(*args, **kwargs)
    if np.dtype(dtype) == np.float64:
        th.double()
        em.double()
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in th.state_dict().items()})
    return em, th


def _leaf(a, lib, dtype):
    if a is None:
        return None
    if isinstance(a, tuple):
        return tuple(_leaf(x, lib, dtype) for x in a)
    return lib.tensor(a.astype(dtype), requires_grad=True)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def compare(em, th, x, hx=None, dtype=np.float32, train=True, call=None):
    """Forward both layers on the same input (and initial state); compare every output, then the gradients of
    sum(output * random weights) w.r.t. the input, the initial state and every parameter."""
    em.train(train)
    th.train(train)
    t = tol(dtype)
    xe, xt = _leaf(x, ember, dtype), _leaf(x, torch, dtype)
    he, ht = _leaf(hx, ember, dtype), _leaf(hx, torch, dtype)
    call = call or (lambda m, a, h: m(a) if h is None else m(a, h))
    out_e, out_t = call(em, xe, he), call(th, xt, ht)
    fe, ft = _flat(out_e), _flat(out_t)
    assert len(fe) == len(ft)
    assert_close(fe, ft, t["rtol"], t["atol"], "forward")
    rng = np.random.default_rng(3)
    loss_e, loss_t = 0, 0
    for a, b in zip(fe, ft):
        w = rng.standard_normal(tuple(b.shape)).astype(dtype)
        loss_e = loss_e + (a * ember.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_e.backward()
    loss_t.backward()
    states = [] if hx is None else list(zip(_flat(he), _flat(ht)))
    for name, a, b in [("input", xe, xt)] + [(f"hx[{i}]", a, b) for i, (a, b) in enumerate(states)]:
        assert_close(a.grad, b.grad, t["rtol"] * 10, t["atol"] * 10, f"grad of {name}")
    th_params = dict(th.named_parameters())
    for name, p in em.named_parameters():
        assert_close(p.grad, th_params.pop(name).grad, t["rtol"] * 10, t["atol"] * 10, f"grad of {name}")
    assert not th_params
    return out_e, out_t


T, B, I, H = 5, 3, 4, 6  # noqa: E741  (steps, batch, input, hidden)

# (id, class, constructor kwargs, input shape, initial state)
LAYER_CASES = [
    ("lstm", "LSTM", {}, (T, B, I), None),
    ("lstm_h0_c0", "LSTM", {}, (T, B, I), (R(1, B, H), R(1, B, H))),
    ("lstm_2layers_bidir", "LSTM", dict(num_layers=2, bidirectional=True), (T, B, I),
     (R(4, B, H), R(4, B, H))),
    ("lstm_batch_first", "LSTM", dict(batch_first=True, num_layers=2), (B, T, I), (R(2, B, H), R(2, B, H))),
    ("lstm_no_bias", "LSTM", dict(bias=False, bidirectional=True), (T, B, I), None),
    ("lstm_unbatched", "LSTM", dict(num_layers=2), (T, I), (R(2, H), R(2, H))),
    ("lstm_unbatched_batch_first", "LSTM", dict(batch_first=True), (T, I), None),
    ("lstm_dropout_eval_only", "LSTM", dict(num_layers=2, dropout=0.0), (T, B, I), None),
    ("gru", "GRU", {}, (T, B, I), R(1, B, H)),
    ("gru_2layers_bidir", "GRU", dict(num_layers=2, bidirectional=True), (T, B, I), R(4, B, H)),
    ("gru_batch_first_no_bias", "GRU", dict(batch_first=True, bias=False), (B, T, I), None),
    ("gru_unbatched", "GRU", dict(bidirectional=True), (T, I), R(2, H)),
    ("rnn_tanh", "RNN", {}, (T, B, I), R(1, B, H)),
    ("rnn_relu_2layers", "RNN", dict(nonlinearity="relu", num_layers=2), (T, B, I), None),
    ("rnn_bidir_batch_first", "RNN", dict(bidirectional=True, batch_first=True), (B, T, I), R(2, B, H)),
    ("rnn_unbatched_relu", "RNN", dict(nonlinearity="relu"), (T, I), R(1, H)),
    ("lstm_one_step", "LSTM", dict(num_layers=2), (1, B, I), None),
    ("lstm_batch_one", "LSTM", dict(bidirectional=True), (T, 1, I), None),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("case", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layer_matches_torch(case, train, dtype):
    _, cls, kwargs, shape, hx = case
    em, th = twins(cls, I, H, dtype=dtype, **kwargs)
    compare(em, th, R(*shape), hx, dtype=dtype, train=train)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_dropout_eval_mode_matches_torch(cls):
    em, th = twins(cls, I, H, num_layers=3, dropout=0.5)
    compare(em, th, R(T, B, I), train=False)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_dropout_one_zeroes_inputs_of_later_layers(cls):
    # with p=1 the inter-layer dropout is deterministic: layer 2 sees zeros in both libraries
    em, th = twins(cls, I, H, num_layers=2, dropout=1.0)
    compare(em, th, R(T, B, I), train=True)


def test_dropout_in_training_is_random_and_scaled():
    em = ember.nn.LSTM(I, H, num_layers=2, dropout=0.5)
    x = ember.tensor(R(T, B, I).astype(np.float32))
    ember.manual_seed(1)
    a = em(x)[0]
    ember.manual_seed(2)
    b = em(x)[0]
    em.eval()
    c = em(x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())


@pytest.mark.parametrize("only_last_state", [False, True])
def test_long_wide_lstm_matches_torch(only_last_state):
    em, th = twins("LSTM", 8, 64, num_layers=2, bidirectional=True)
    call = (lambda m, x, h: m(x)[1][0]) if only_last_state else None
    compare(em, th, R(20, 32, 8), (R(4, 32, 64), R(4, 32, 64)), call=call)


def test_float64_lstm_is_tight():
    em, th = twins("LSTM", I, H, num_layers=2, bidirectional=True, dtype=np.float64)
    out_e, out_t = compare(em, th, R(T, B, I), dtype=np.float64)
    np.testing.assert_allclose(out_e[0].detach().numpy(), out_t[0].detach().numpy(), rtol=1e-12, atol=1e-13)


# ---- cells --------------------------------------------------------------------------------------------------
CELL_CASES = [
    ("lstm_cell", "LSTMCell", {}, (B, I), (R(B, H), R(B, H))),
    ("lstm_cell_zero_state", "LSTMCell", {}, (B, I), None),
    ("lstm_cell_unbatched", "LSTMCell", {}, (I,), (R(H), R(H))),
    ("lstm_cell_no_bias", "LSTMCell", dict(bias=False), (B, I), (R(B, H), R(B, H))),
    ("gru_cell", "GRUCell", {}, (B, I), R(B, H)),
    ("gru_cell_unbatched_no_bias", "GRUCell", dict(bias=False), (I,), R(H)),
    ("gru_cell_zero_state", "GRUCell", {}, (B, I), None),
    ("rnn_cell_tanh", "RNNCell", {}, (B, I), R(B, H)),
    ("rnn_cell_relu", "RNNCell", dict(nonlinearity="relu"), (B, I), R(B, H)),
    ("rnn_cell_unbatched", "RNNCell", {}, (I,), None),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CELL_CASES, ids=[c[0] for c in CELL_CASES])
def test_cell_matches_torch(case, dtype):
    _, cls, kwargs, shape, hx = case
    em, th = twins(cls, I, H, dtype=dtype, **kwargs)
    compare(em, th, R(*shape), hx, dtype=dtype)


def test_cell_unrolled_over_time_matches_torch():
    em, th = twins("LSTMCell", I, H)
    x = R(T, B, I)

    def unroll(cell, xs, state):
        outs = []
        for step in range(xs.shape[0]):
            state = cell(xs[step], state)
            outs.append(state[0])
        return outs

    compare(em, th, x, (R(B, H), R(B, H)), call=unroll)


# ---- construction, printing, state_dict, initialisation ------------------------------------------------------
REPR_CASES = [
    ("LSTM", (32, 20), {}),
    ("LSTM", (32, 20), dict(num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)),
    ("GRU", (3, 5), dict(num_layers=3)),
    ("RNN", (3, 5), dict(nonlinearity="relu", dropout=0.25, num_layers=2)),
    ("RNN", (3, 5, 2, "relu", False)),
    ("LSTMCell", (4, 7), {}),
    ("GRUCell", (4, 7), dict(bias=False)),
    ("RNNCell", (4, 7), dict(nonlinearity="relu")),
]


@pytest.mark.parametrize("case", REPR_CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(REPR_CASES)])
def test_repr_state_dict_and_shapes_match_torch(case):
    cls, args, kwargs = (case + ({},))[:3]
    th = getattr(torch.nn, cls)(*args, **kwargs)
    em = getattr(ember.nn, cls)(*args, **kwargs)
    assert str(em) == str(th)
    assert list(em.state_dict().keys()) == list(th.state_dict().keys())
    th_named = dict(th.named_parameters())
    for name, p in em.named_parameters():
        assert tuple(p.shape) == tuple(th_named[name].shape), name
        assert p.dtype == ember.float32
    print(th)


def test_repr_in_a_model_matches_torch():
    def make(lib):
        return lib.nn.Sequential(lib.nn.LSTM(8, 16, num_layers=2, batch_first=True), lib.nn.GRU(16, 4))

    assert str(make(ember)) == str(make(torch))


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"])
def test_default_init_is_uniform_in_inverse_sqrt_hidden(cls):
    hidden = 64
    m = getattr(ember.nn, cls)(16, hidden)
    bound = 1 / math.sqrt(hidden)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound
    assert abs(values.mean()) < 0.05 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_constructor_attributes_and_all_weights():
    m = ember.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, dropout=0.5)
    assert (m.mode, m.input_size, m.hidden_size, m.num_layers, m.bias, m.batch_first, m.dropout,
            m.bidirectional, m.proj_size) == ("LSTM", 3, 5, 2, True, True, 0.5, True, 0)
    assert len(m.all_weights) == 4 and all(len(w) == 4 for w in m.all_weights)
    assert m.all_weights[1][0] is m.weight_ih_l0_reverse
    assert m._flat_weights_names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    m.flatten_parameters()
    assert ember.nn.RNN(3, 5, nonlinearity="relu").mode == "RNN_RELU"
    assert ember.nn.LSTM(3, 5, dtype=ember.float64).weight_hh_l0.dtype == ember.float64


def test_output_shapes():
    m = ember.nn.LSTM(I, H, num_layers=3, bidirectional=True, batch_first=True)
    out, (h, c) = m(ember.randn(B, T, I))
    assert tuple(out.shape) == (B, T, 2 * H)
    assert tuple(h.shape) == tuple(c.shape) == (6, B, H)
    out, h = ember.nn.GRU(I, H)(ember.randn(T, I))
    assert tuple(out.shape) == (T, H) and tuple(h.shape) == (1, H)


def test_weights_replaced_after_construction_are_used():
    em, th = twins("GRU", I, H)
    new = R(3 * H, H)
    with torch.no_grad():
        th.weight_hh_l0.copy_(torch.tensor(new.astype(np.float32)))
    em.weight_hh_l0 = ember.nn.Parameter(ember.tensor(new.astype(np.float32)))
    compare(em, th, R(T, B, I))


def test_training_steps_match_torch():
    """A few SGD steps of LSTM + Linear on the same batches give the same losses."""
    def make(lib):
        return lib.nn.LSTM(I, H, num_layers=2), lib.nn.Linear(H, 2)

    th_lstm, th_lin = make(torch)
    em_lstm, em_lin = make(ember)
    em_lstm.load_state_dict({k: ember.tensor(v.numpy()) for k, v in th_lstm.state_dict().items()})
    em_lin.load_state_dict({k: ember.tensor(v.numpy()) for k, v in th_lin.state_dict().items()})
    th_params = list(th_lstm.parameters()) + list(th_lin.parameters())
    em_params = list(em_lstm.parameters()) + list(em_lin.parameters())
    for step in range(3):
        x, y = R(T, B, I).astype(np.float32), R(B, 2).astype(np.float32)
        lt = ((th_lin(th_lstm(torch.tensor(x))[0][-1]) - torch.tensor(y)) ** 2).mean()
        le = ((em_lin(em_lstm(ember.tensor(x))[0][-1]) - ember.tensor(y)) ** 2).mean()
        np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-5)
        lt.backward()
        le.backward()
        with torch.no_grad():
            for p in th_params:
                p -= 0.5 * p.grad
                p.grad = None
        with ember.no_grad():
            for p in em_params:
                p -= 0.5 * p.grad
                p.grad = None


# ---- gradients: gradcheck, double backward ---------------------------------------------------------------------
def _f64(*shape):
    return ember.tensor(R(*shape) * 0.5, dtype=ember.float64, requires_grad=True)


def _layer_fn(kind, batch_sizes, reverse, i, h):
    """(fn, float64 inputs) for one fused layer of ``kind`` over a packed sequence."""
    n, b = sum(batch_sizes), batch_sizes[0]
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)
    x, h0, c0 = _f64(n, i), _f64(b, h), _f64(b, h)
    w = (_f64(gates * h, i), _f64(gates * h, h), _f64(gates * h), _f64(gates * h))
    kw = dict(batch_sizes=batch_sizes, reverse=reverse)
    if kind == "lstm":
        return (lambda *a: lstm_layer(*a, **kw)), (x, h0, c0, *w)
    if kind == "gru":
        return (lambda *a: gru_layer(*a, **kw)), (x, h0, *w)
    nl = kind.split("_")[1]
    if nl == "relu":  # keep pre-activations away from the kink at 0
        x = ember.tensor(np.abs(x.detach().numpy()) + 0.5, requires_grad=True)
    return (lambda *a: rnn_layer(*a, nonlinearity=nl, **kw)), (x, h0, *w)


@pytest.mark.parametrize("batch_sizes,reverse", [((2, 2, 2), False), ((3, 2, 1), False), ((3, 2, 1), True)])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_gradcheck_of_fused_layers(kind, batch_sizes, reverse):
    fn, args = _layer_fn(kind, batch_sizes, reverse, 3, 2)
    assert ember.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_gradgradcheck_of_fused_layers(kind):
    # second order goes through the Tensor-op backward used under create_graph=True
    fn, args = _layer_fn(kind, (2, 1), True, 1, 1)
    assert ember.autograd.gradgradcheck(fn, args, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_gradcheck_tiny_lstm_cell_module():
    cell = ember.nn.LSTMCell(3, 2).double()
    params = list(cell.parameters())

    def fn(x, h, c, *ws):
        for p, w in zip(params, ws):
            p.data = w
        return ember.ops.recurrent.lstm_layer(x, h, c, *ws, batch_sizes=(2,))[1:]

    args = (_f64(2, 3), _f64(2, 2), _f64(2, 2)) + tuple(_f64(*p.shape) for p in params)
    assert ember.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-6, rtol=1e-4)
    x, h, c = args[:3]
    out_h, out_c = cell(x, (h, c))
    ref = fn(*args)
    np.testing.assert_allclose(out_h.detach().numpy(), ref[0].detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_double_backward_matches_torch(cls):
    em, th = twins(cls, I, H, num_layers=2, bidirectional=True, dtype=np.float64)
    x = R(T, B, I)
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    (ge,) = ember.autograd.grad(em(xe)[0].sum(), xe, create_graph=True)
    (gt,) = torch.autograd.grad(th(xt)[0].sum(), xt, create_graph=True)
    assert_close(ge, gt, 1e-10, 1e-12, "first-order gradient")
    (ge ** 2).sum().backward()
    (gt ** 2).sum().backward()
    assert_close(xe.grad, xt.grad, 1e-9, 1e-11, "second-order gradient of the input")
    th_params = dict(th.named_parameters())
    for name, p in em.named_parameters():
        assert_close(p.grad, th_params[name].grad, 1e-9, 1e-11, f"second-order gradient of {name}")


def test_backward_twice_with_retain_graph_doubles_gradients():
    m = ember.nn.LSTM(8, 64)
    out, (h, c) = m(ember.tensor(R(20, 32, 8).astype(np.float32)))
    loss = out.sum() + c.sum()
    loss.backward(retain_graph=True)
    first = m.weight_hh_l0.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(m.weight_hh_l0.grad.numpy(), 2 * first, rtol=1e-6)


def test_no_grad_forward_records_nothing():
    m = ember.nn.LSTM(I, H)
    with ember.no_grad():
        out, (h, c) = m(ember.randn(T, B, I))
    assert not out.requires_grad and out.grad_fn is None and not h.requires_grad


def test_gradient_only_through_final_state():
    em, th = twins("LSTM", I, H, num_layers=2)
    compare(em, th, R(T, B, I), call=lambda m, x, h: m(x)[1][1])


def test_benchmark_shaped_lstm_matches_torch():
    # the W4 shape (input 32, hidden 128, 35 steps, batch 32): the per-gate GEMMs take OpenBLAS's small-matrix
    # path here, which the tiny cases above never reach
    em, th = twins("LSTM", 32, 128)
    compare(em, th, R(35, 32, 32), call=lambda m, x, h: m(x)[1][0])


@pytest.mark.parametrize("frozen", [("weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), ("weight_ih_l0", "bias_hh_l0")])
def test_lstm_gradients_with_frozen_parameters_match_torch(frozen):
    em, th = twins("LSTM", I, H)
    for name in frozen:
        getattr(em, name).requires_grad_(False)
        getattr(th, name).requires_grad_(False)
    x = R(T, B, I).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for m, x in ((em, xe), (th, xt)):
        out, (h, c) = m(x)
        (out.sum() + 2 * h.sum() + 3 * c.sum()).backward()
    assert_close(xe.grad, xt.grad, 1e-4, 1e-5, "grad of input")
    for name, p in em.named_parameters():
        tp = getattr(th, name)
        assert (p.grad is None) == (tp.grad is None), name
        if p.grad is not None:
            assert_close(p.grad, tp.grad, 1e-4, 1e-5, f"grad of {name}")


@pytest.mark.parametrize("batch_sizes,reverse", [((3, 3, 3), False), ((3, 2, 2, 1), False), ((3, 2, 2, 1), True)])
def test_lstm_output_changed_in_place_after_forward_keeps_gradients(batch_sizes, reverse):
    # the returned output must not share memory with what backward saved
    n, b = sum(batch_sizes), batch_sizes[0]
    arrays = [R(n, I), R(b, H), R(b, H), R(4 * H, I), R(4 * H, H), R(4 * H), R(4 * H)]

    def grads(change_in_place):
        leaves = [ember.tensor(a, requires_grad=True) for a in arrays]
        out, h_n, c_n = lstm_layer(*leaves, batch_sizes=batch_sizes, reverse=reverse)
        if change_in_place:
            with ember.no_grad():
                out.mul_(0.0)
        (2 * h_n.sum() + c_n.sum()).backward()
        return [t.grad.numpy() for t in leaves]

    for a, b_ in zip(grads(False), grads(True)):
        np.testing.assert_array_equal(a, b_)


# ---- fused step kernels (ember._fused, numba) against the NumPy path -------------------------------------------
# (id, LSTM kwargs, lengths of a packed batch or None, gradient only through the final states)
FUSED_CASES = [
    ("bidir_2layers_batch_first", dict(num_layers=2, bidirectional=True, batch_first=True), None, False),
    ("packed_bidir_2layers", dict(num_layers=2, bidirectional=True, batch_first=True), [6, 6, 4, 3, 1], False),
    ("final_state_only", dict(num_layers=2), None, True),
    ("packed_no_bias_wide", dict(bias=False, batch_first=True, hidden_size=37), [5, 3, 3], False),
]


def _lstm_run(kwargs, lengths, final_only, dtype, fused):
    """Outputs, final states and all gradients of one LSTM, with the fused kernels on or off."""
    kwargs = dict(kwargs)
    hidden = kwargs.pop("hidden_size", H)
    torch.manual_seed(0)
    th = torch.nn.LSTM(I, hidden, **kwargs)
    em = ember.nn.LSTM(I, hidden, **kwargs)
    if np.dtype(dtype) == np.float64:
        em.double()
    em.load_state_dict({k: ember.tensor(v.detach().numpy().astype(dtype)) for k, v in th.state_dict().items()})
    rng = np.random.default_rng(5)
    n_batch = len(lengths) if lengths else B
    states = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    shape = (n_batch, 6, I) if kwargs.get("batch_first") else (6, n_batch, I)
    x, h0, c0 = (ember.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
                 for s in (shape, (states, n_batch, hidden), (states, n_batch, hidden)))
    inp = x if lengths is None else ember.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True)
    _fused.set_enabled(fused)
    try:
        out, (h_n, c_n) = em(inp, (h0, c0))
        out = out if lengths is None else out.data
        loss = h_n.sin().sum() + (c_n * c_n).sum()
        if not final_only:
            loss = loss + (out * ember.tensor(rng.standard_normal(tuple(out.shape)).astype(dtype))).sum()
        loss.backward()
    finally:
        _fused.set_enabled(True)
    return [t.detach().numpy() for t in (out, h_n, c_n, x.grad, h0.grad, c0.grad)] + [
        p.grad.numpy() for p in em.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", FUSED_CASES, ids=[c[0] for c in FUSED_CASES])
def test_lstm_fused_kernels_and_numpy_path_are_bitwise_equal(case, dtype, monkeypatch):
    assert _fused.enabled(), "numba is a test dependency: the fused LSTM step kernels must be tested"
    calls = []

    def counting_kernels(dt):  # the step kernels, counting their calls
        k = _fused.kernels()
        return None if k is None else types.SimpleNamespace(
            lstm_step_fwd=lambda *a: calls.append("fwd") or k.lstm_step_fwd(*a),
            lstm_step_bwd=lambda *a: calls.append("bwd") or k.lstm_step_bwd(*a))

    monkeypatch.setattr(_recurrent_lstm, "_step_kernels", counting_kernels)
    fused = _lstm_run(*case[1:], dtype, True)
    assert "fwd" in calls and "bwd" in calls
    calls.clear()
    plain = _lstm_run(*case[1:], dtype, False)
    assert not calls
    assert len(fused) == len(plain)
    for a, b in zip(fused, plain):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch_sizes,reverse", [((32,) * 35, False), ((32,) * 20 + (20,) * 10 + (5,) * 5, True)],
                         ids=["padded", "packed_reverse"])
def test_lstm_fused_kernels_bitwise_at_the_benchmark_shape(batch_sizes, reverse):
    # W4's shape (input 32, hidden 128, batch 32, 35 steps): with numba the backward kernel also adds up the
    # previous step's four per-gate GEMM outputs (in np.add.reduce's order), here on 128x32 planes, across
    # batch-size changes when packed
    rng = np.random.default_rng(11)
    n, b, hidden = sum(batch_sizes), batch_sizes[0], 128
    arrays = [rng.standard_normal(s).astype(np.float32) * 0.3 for s in
              ((n, 32), (b, hidden), (b, hidden), (4 * hidden, 32), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,))]
    w_out = rng.standard_normal((n, hidden)).astype(np.float32)

    def run(fused):
        _fused.set_enabled(fused)
        try:
            leaves = [ember.tensor(a, requires_grad=True) for a in arrays]
            out, h_n, c_n = lstm_layer(*leaves, batch_sizes=batch_sizes, reverse=reverse)
            ((out * ember.tensor(w_out)).sum() + h_n.sum() + (c_n * c_n).sum()).backward()
        finally:
            _fused.set_enabled(True)
        return [t.detach().numpy() for t in (out, h_n, c_n)] + [t.grad.numpy() for t in leaves]

    for a, b_ in zip(run(True), run(False)):
        np.testing.assert_array_equal(a, b_)


# ---- errors ---------------------------------------------------------------------------------------------------
def same_error(make_call, match=None):
    """Both libraries raise the same exception type (and, when given, a message matching ``match``)."""
    with pytest.raises(Exception) as th_err:
        make_call(torch)
    with pytest.raises(type(th_err.value), match=match):
        make_call(ember)


ERROR_CASES = [
    ("input_size", lambda lib: lib.nn.LSTM(32, 20)(lib.randn(5, 3, 16)),
     r"input.size\(-1\) must be equal to input_size. Expected 32, got 16"),
    ("input_size_gru", lambda lib: lib.nn.GRU(32, 20)(lib.randn(5, 16)), r"Expected 32, got 16"),
    ("hidden_size", lambda lib: lib.nn.RNN(4, 6)(lib.randn(5, 3, 4), lib.randn(1, 3, 7)),
     r"Expected hidden size \(1, 3, 6\), got \[1, 3, 7\]"),
    ("lstm_hidden0_batch", lambda lib: lib.nn.LSTM(4, 6)(lib.randn(5, 3, 4), (lib.randn(1, 2, 6), lib.randn(1, 3, 6))),
     r"Expected hidden\[0\] size \(1, 3, 6\), got \[1, 2, 6\]"),
    ("lstm_hidden1", lambda lib: lib.nn.LSTM(4, 6)(lib.randn(5, 3, 4), (lib.randn(1, 3, 6), lib.randn(2, 3, 6))),
     r"Expected hidden\[1\] size \(1, 3, 6\), got \[2, 3, 6\]"),
    ("input_4d", lambda lib: lib.nn.LSTM(4, 6)(lib.randn(2, 5, 3, 4)), r"LSTM: Expected input to be 2D or 3D, got 4D"),
    ("rnn_input_1d", lambda lib: lib.nn.RNN(4, 6)(lib.randn(4)), r"RNN: Expected input to be 2D or 3D, got 1D tensor"),
    ("batched_hx_2d", lambda lib: lib.nn.GRU(4, 6)(lib.randn(5, 3, 4), lib.randn(3, 6)),
     r"For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
    ("unbatched_hx_3d", lambda lib: lib.nn.LSTM(4, 6)(lib.randn(5, 4), (lib.randn(1, 1, 6), lib.randn(1, 1, 6))),
     r"For unbatched 2-D input, hx and cx should also be 2-D but got \(3-D, 3-D\) tensors"),
    ("dtype", lambda lib: lib.nn.LSTM(4, 6)(lib.randn(5, 3, 4, dtype=lib.float64)),
     r"RNN input dtype .* does not match weight dtype"),
    ("zero_steps", lambda lib: lib.nn.LSTM(4, 6)(lib.randn(0, 3, 4)), r"Expected sequence length to be larger than 0"),
    ("dropout_range", lambda lib: lib.nn.LSTM(4, 6, dropout=1.5), r"dropout should be a number in range \[0, 1\]"),
    ("dropout_bool", lambda lib: lib.nn.GRU(4, 6, dropout=True), r"dropout should be a number"),
    ("hidden_zero", lambda lib: lib.nn.RNN(4, 0), r"hidden_size must be greater than zero"),
    ("input_type", lambda lib: lib.nn.RNN(4.0, 3), r"input_size should be of type int, got: float"),
    ("layers_zero", lambda lib: lib.nn.LSTM(4, 3, num_layers=0), r"num_layers must be greater than zero"),
    ("bias_type", lambda lib: lib.nn.LSTM(4, 3, bias=1), r"bias should be of type bool, got: int"),
    ("nonlinearity", lambda lib: lib.nn.RNN(4, 3, nonlinearity="gelu"), r"Unknown nonlinearity 'gelu'"),
    ("proj_size_gru", lambda lib: lib.nn.GRU(4, 3, proj_size=2), r"proj_size argument is only supported for LSTM"),
    ("proj_size_too_big", lambda lib: lib.nn.LSTM(4, 3, proj_size=3), r"proj_size has to be smaller than hidden_size"),
    ("cell_input_size", lambda lib: lib.nn.LSTMCell(32, 20)(lib.randn(3, 16)),
     r"input has inconsistent input_size: got 16 expected 32"),
    ("cell_hidden_size", lambda lib: lib.nn.GRUCell(4, 6)(lib.randn(3, 4), lib.randn(3, 5)),
     r"hidden0 has inconsistent hidden_size: got 5, expected 6"),
    ("cell_batch", lambda lib: lib.nn.LSTMCell(4, 6)(lib.randn(3, 4), (lib.randn(2, 6), lib.randn(2, 6))),
     r"Input batch size 3 doesn't match hidden0 batch size 2"),
    ("cell_c_size", lambda lib: lib.nn.LSTMCell(4, 6)(lib.randn(3, 4), (lib.randn(3, 6), lib.randn(3, 5))),
     r"hidden1 has inconsistent hidden_size: got 5, expected 6"),
    ("cell_input_3d", lambda lib: lib.nn.RNNCell(4, 6)(lib.randn(2, 3, 4)),
     r"RNNCell: Expected input to be 1D or 2D, got 3D instead"),
    ("cell_hx_3d", lambda lib: lib.nn.LSTMCell(4, 6)(lib.randn(3, 4), (lib.randn(1, 3, 6), lib.randn(3, 6))),
     r"LSTMCell: Expected hx\[0\] to be 1D or 2D, got 3D instead"),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_match_torch(case):
    _, make_call, match = case
    same_error(make_call, match)


def test_proj_size_is_not_implemented():
    with pytest.raises(NotImplementedError, match="proj_size"):
        ember.nn.LSTM(4, 6, proj_size=2)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        torch.nn.LSTM(4, 6, dropout=0.5)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.LSTM(4, 6, dropout=0.5)
