"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers against torch: same weights
(copied through state_dict), same inputs and masks; outputs, attention weights and all gradients compared."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn
from oracle import assert_close, tol
from ember.ops.attention import multi_head_attention_forward, scaled_dot_product_attention

_rng = np.random.default_rng(5)


def R(*shape, dtype=np.float32):
    return _rng.standard_normal(shape).astype(dtype)


def leaves(a, requires_grad=True):
    return ember.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def twins(make, dtype=np.float32):
    th, em = make(torch), make(ember)
    if np.dtype(dtype) == np.float64:
        th.double()
        em.double()
    assert list(em.state_dict().keys()) == list(th.state_dict().keys())
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in th.state_dict().items()})
    return em, th


def check_grads(pairs, em, th, out_e, out_t, dtype):
    t = tol(dtype)
    w = _rng.standard_normal(tuple(out_t.shape)).astype(dtype)
    (out_e * ember.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for i, (a, b) in enumerate(pairs):
        if b.requires_grad:
            assert_close(a.grad, b.grad, t["rtol"] * 10, t["atol"] * 10, f"grad of input {i}")
    if em is not None:
        th_params = dict(th.named_parameters())
        for name, p in em.named_parameters():
            assert_close(p.grad, th_params[name].grad, t["rtol"] * 10, t["atol"] * 10, f"grad of {name}")


# ---- scaled_dot_product_attention ---------------------------------------------------------------------------
L, S, E, EV = 4, 6, 8, 5


def _mask(kind):
    if kind == "bool":
        m = _rng.random((L, S)) > 0.3
        m[:, 0] = True
        return m
    if kind == "bool_dead_row":
        m = _rng.random((L, S)) > 0.3
        m[1] = False
        return m
    if kind == "float":
        return R(2, 1, L, S)
    if kind == "float_neg_inf":
        m = R(L, S)
        m[:, 2] = -np.inf
        return m
    return None


SDPA_CASES = [
    ("plain", None, False, None),
    ("bool_mask", "bool", False, None),
    ("float_mask_broadcast", "float", False, None),
    ("float_mask_neg_inf", "float_neg_inf", False, None),
    ("fully_masked_row", "bool_dead_row", False, None),
    ("causal", None, True, None),
    ("scale", "bool", False, 0.3),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa_matches_torch(case, dtype):
    _, mask_kind, causal, scale = case
    pairs = [leaves(R(2, 3, *shape, dtype=dtype)) for shape in ((L, E), (S, E), (S, EV))]
    mask = _mask(mask_kind)
    if mask is not None and mask.dtype.kind == "f":
        mask = mask.astype(dtype)
    me = None if mask is None else ember.tensor(mask)
    mt = None if mask is None else torch.tensor(mask)
    out_e = scaled_dot_product_attention(*[p[0] for p in pairs], attn_mask=me, is_causal=causal, scale=scale)
    out_t = TF.scaled_dot_product_attention(*[p[1] for p in pairs], attn_mask=mt, is_causal=causal, scale=scale)
    t = tol(dtype)
    assert_close(out_e, out_t, t["rtol"], t["atol"], "sdpa")
    check_grads(pairs, None, None, out_e, out_t, dtype)


def test_sdpa_float_mask_gets_a_gradient():
    pairs = [leaves(R(1, 2, *shape, dtype=np.float64)) for shape in ((L, E), (S, E), (S, EV))]
    me, mt = leaves(R(L, S, dtype=np.float64))
    out_e = scaled_dot_product_attention(*[p[0] for p in pairs], attn_mask=me)
    out_t = TF.scaled_dot_product_attention(*[p[1] for p in pairs], attn_mask=mt)
    check_grads(pairs + [(me, mt)], None, None, out_e, out_t, np.float64)


def test_sdpa_grouped_query_attention_and_3d_inputs():
    q, k, v = R(1, 4, L, E), R(1, 2, S, E), R(1, 2, S, EV)
    out_e = scaled_dot_product_attention(ember.tensor(q), ember.tensor(k), ember.tensor(v), enable_gqa=True)
    out_t = TF.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v), enable_gqa=True)
    assert_close(out_e, out_t, 1e-5, 1e-6, "gqa")
    q, k, v = R(3, L, E), R(3, S, E), R(3, S, EV)
    out_e = scaled_dot_product_attention(ember.tensor(q), ember.tensor(k), ember.tensor(v), is_causal=True)
    out_t = TF.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v), is_causal=True)
    assert_close(out_e, out_t, 1e-5, 1e-6, "3-d causal")


def test_sdpa_gradcheck_float64():
    args = tuple(ember.tensor(R(1, 2, *s, dtype=np.float64), requires_grad=True) for s in ((3, 4), (5, 4), (5, 2)))
    mask = ember.tensor(_rng.random((3, 5)) > 0.3)
    assert ember.autograd.gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, attn_mask=mask), args)


def test_sdpa_dropout_is_random_and_keeps_shape():
    q = ember.tensor(R(2, 3, L, E))
    ember.manual_seed(0)
    a = scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    ember.manual_seed(1)
    b = scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert tuple(a.shape) == (2, 3, L, E)
    assert not np.allclose(a.numpy(), b.numpy())


SDPA_ERRORS = [
    ("dtype", lambda lib: TF_or_E(lib)(lib.zeros(1, 2, 3), lib.zeros(1, 2, 3, dtype=lib.float64), lib.zeros(1, 2, 3)),
     r"Expected query, key, and value to have the same dtype"),
    ("mask_dtype", lambda lib: TF_or_E(lib)(lib.zeros(1, 2, 3), lib.zeros(1, 2, 3), lib.zeros(1, 2, 3),
                                            attn_mask=lib.zeros(2, 2, dtype=lib.int64)),
     r"Expected attn_mask dtype to be bool or float or to match query dtype"),
    ("mask_shape", lambda lib: TF_or_E(lib)(lib.zeros(1, 2, 3), lib.zeros(1, 4, 3), lib.zeros(1, 4, 3),
                                            attn_mask=lib.ones(2, 3, dtype=lib.bool)), None),
]


def TF_or_E(lib):
    return TF.scaled_dot_product_attention if lib is torch else scaled_dot_product_attention


@pytest.mark.parametrize("case", SDPA_ERRORS, ids=[c[0] for c in SDPA_ERRORS])
def test_sdpa_errors_match_torch(case):
    _, make_call, match = case
    with pytest.raises(Exception) as th_err:
        make_call(torch)
    with pytest.raises(type(th_err.value), match=match):
        make_call(ember)


# ---- MultiheadAttention ----------------------------------------------------------------------------------------
N, T_, SRC, D, HEADS = 3, 4, 5, 8, 2


def _mha_masks(kpm, am, tgt, src, unbatched=False, dtype=np.float32):
    masks = {}
    if kpm == "bool":
        m = _rng.random(src if unbatched else (N, src)) > 0.6
        m[..., 0] = False
        masks["key_padding_mask"] = m
    elif kpm == "float":
        masks["key_padding_mask"] = R(N, src, dtype=dtype)
    if am == "bool2":
        masks["attn_mask"] = _rng.random((tgt, src)) > 0.7
    elif am == "float2":
        masks["attn_mask"] = R(tgt, src, dtype=dtype)
    elif am == "bool3":
        masks["attn_mask"] = _rng.random((N * HEADS, tgt, src)) > 0.7
    elif am == "causal":
        masks["attn_mask"] = np.triu(np.full((tgt, src), -np.inf, dtype=dtype), 1)
    return masks


# (id, constructor kwargs, self-attention, key padding mask, attn mask, forward kwargs, unbatched)
MHA_CASES = [
    ("self", {}, True, None, None, {}, False),
    ("self_no_weights", {}, True, None, None, dict(need_weights=False), False),
    ("batch_first_masks", dict(batch_first=True), True, "bool", "bool2", {}, False),
    ("batch_first_masks_sdpa", dict(batch_first=True), True, "bool", "bool2", dict(need_weights=False), False),
    ("cross_float_masks_per_head", {}, False, "float", "float2", dict(average_attn_weights=False), False),
    ("kdim_vdim_3d_mask", dict(kdim=6, vdim=7), False, None, "bool3", dict(need_weights=False), False),
    ("kdim_vdim_no_bias", dict(kdim=6, vdim=7, bias=False), False, None, "bool3", {}, False),
    ("causal_hint_sdpa", {}, True, None, "causal", dict(is_causal=True, need_weights=False), False),
    ("causal_hint_weights", {}, True, None, "causal", dict(is_causal=True), False),
    ("bias_kv_zero_attn", dict(add_bias_kv=True, add_zero_attn=True), True, "bool", "float2", {}, False),
    ("bias_kv_sdpa", dict(add_bias_kv=True), False, "bool", None, dict(need_weights=False), False),
    ("unbatched_kpm", {}, True, "bool", None, dict(need_weights=False), True),
    ("unbatched_mask", {}, False, None, "bool2", {}, True),
    ("key_is_value", {}, "kv", None, None, {}, False),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_torch(case, dtype):
    _, ctor, self_attn, kpm, am, fwd, unbatched = case
    em, th = twins(lambda lib: lib.nn.MultiheadAttention(D, HEADS, **ctor), dtype)
    assert str(em) == str(th)
    em.eval()
    th.eval()
    bf = ctor.get("batch_first", False)

    def shape(length, dim):
        return (length, dim) if unbatched else ((N, length, dim) if bf else (length, N, dim))

    q = leaves(R(*shape(T_, D), dtype=dtype))
    if self_attn is True:
        k = v = q
        src = T_
    elif self_attn == "kv":
        k = v = leaves(R(*shape(SRC, D), dtype=dtype))
        src = SRC
    else:
        k = leaves(R(*shape(SRC, ctor.get("kdim", D)), dtype=dtype))
        v = leaves(R(*shape(SRC, ctor.get("vdim", D)), dtype=dtype))
        src = SRC
    masks = _mha_masks(kpm, am, T_, src, unbatched, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_t, w_t = th(q[1], k[1], v[1], **{n: torch.tensor(m) for n, m in masks.items()}, **fwd)
        out_e, w_e = em(q[0], k[0], v[0], **{n: ember.tensor(m) for n, m in masks.items()}, **fwd)
    t = tol(dtype)
    assert_close(out_e, out_t, t["rtol"], t["atol"], "attn_output")
    if w_t is None:
        assert w_e is None
    else:
        assert_close(w_e, w_t, t["rtol"], t["atol"], "attn_weights")
    pairs = [q] if self_attn is True else ([q, k] if self_attn == "kv" else [q, k, v])
    check_grads(pairs, em, th, out_e, out_t, dtype)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_multihead_attention_fully_masked_rows_like_torch():
    em, th = twins(lambda lib: lib.nn.MultiheadAttention(D, HEADS))
    x = R(T_, N, D)
    kpm = np.zeros((N, T_), dtype=bool)
    kpm[1] = True
    for need_weights in (True, False):  # NaN through the explicit softmax, zeros through sdpa (as torch)
        out_t = th(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kpm), need_weights=need_weights)[0]
        out_e = em(*(ember.tensor(x),) * 3, key_padding_mask=ember.tensor(kpm), need_weights=need_weights)[0]
        assert_close(out_e, out_t, 1e-5, 1e-6, f"need_weights={need_weights}")


def test_multihead_attention_dropout_train_vs_eval():
    em, th = twins(lambda lib: lib.nn.MultiheadAttention(D, HEADS, dropout=0.5))
    x = R(T_, N, D)
    em.train()
    ember.manual_seed(0)
    a = em(*(ember.tensor(x),) * 3)[0]
    ember.manual_seed(1)
    b = em(*(ember.tensor(x),) * 3)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    em.eval()
    th.eval()
    assert_close(em(*(ember.tensor(x),) * 3)[0], th(*(torch.tensor(x),) * 3)[0], 1e-5, 1e-6, "eval")


def test_multihead_attention_parameters_and_init():
    m = ember.nn.MultiheadAttention(D, HEADS, kdim=3, vdim=5, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(D, HEADS, kdim=3, vdim=5, add_bias_kv=True)
    assert list(m.state_dict().keys()) == list(t.state_dict().keys())
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert m.in_proj_weight is None and m.q_proj_weight is not None
    m = ember.nn.MultiheadAttention(D, HEADS)
    assert np.all(m.in_proj_bias.detach().numpy() == 0) and np.all(m.out_proj.bias.detach().numpy() == 0)
    bound = np.sqrt(6 / (D + 3 * D))  # xavier_uniform_ on (3E, E)
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert isinstance(m.out_proj, ember.nn.Linear)
    assert (m.head_dim, m._qkv_same_embed_dim, m.batch_first) == (D // HEADS, True, False)


def test_functional_multi_head_attention_forward_matches_torch():
    em, th = twins(lambda lib: lib.nn.MultiheadAttention(D, HEADS))
    x = R(T_, N, D)

    def run(lib, fn, m):
        t = lib.tensor(x)
        return fn(t, t, t, D, HEADS, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight,
                  m.out_proj.bias, training=False)

    out_e, w_e = run(ember, multi_head_attention_forward, em)
    out_t, w_t = run(torch, TF.multi_head_attention_forward, th)
    assert_close((out_e, w_e), (out_t, w_t), 1e-5, 1e-6, "functional")


MHA_ERRORS = [
    ("heads_divide", lambda lib: lib.nn.MultiheadAttention(6, 4), r"embed_dim must be divisible by num_heads"),
    ("non_positive", lambda lib: lib.nn.MultiheadAttention(0, 2),
     r"embed_dim and num_heads must be greater than 0"),
    ("query_4d", lambda lib: lib.nn.MultiheadAttention(4, 2)(*(lib.zeros(1, 2, 3, 4),) * 3),
     r"query should be unbatched 2D or batched 3D tensor but received 4-D query tensor"),
    ("key_rank", lambda lib: lib.nn.MultiheadAttention(4, 2)(lib.zeros(3, 2, 4), lib.zeros(3, 4), lib.zeros(3, 4)),
     r"For batched \(3-D\) `query`, expected `key` and `value` to be 3-D but found 2-D and 2-D"),
    ("kpm_rank", lambda lib: lib.nn.MultiheadAttention(4, 2)(*(lib.zeros(3, 2, 4),) * 3,
                                                              key_padding_mask=lib.zeros(2, 3, 1, dtype=lib.bool)),
     r"expected `key_padding_mask` to be `None` or 2-D but found 3-D"),
    ("mask_2d_shape", lambda lib: lib.nn.MultiheadAttention(4, 2)(*(lib.zeros(3, 2, 4),) * 3,
                                                                   attn_mask=lib.zeros(3, 4, dtype=lib.bool)),
     r"The shape of the 2D attn_mask is"),
    ("mask_3d_shape", lambda lib: lib.nn.MultiheadAttention(4, 2)(*(lib.zeros(3, 2, 4),) * 3,
                                                                   attn_mask=lib.zeros(2, 3, 3, dtype=lib.bool)),
     r"The shape of the 3D attn_mask is"),
    ("mask_int", lambda lib: lib.nn.MultiheadAttention(4, 2)(*(lib.zeros(3, 2, 4),) * 3,
                                                              attn_mask=lib.zeros(3, 3, dtype=lib.int64)),
     r"only bool and floating types of attn_mask are supported"),
    ("kpm_batch", lambda lib: lib.nn.MultiheadAttention(4, 2)(*(lib.zeros(3, 2, 4),) * 3,
                                                               key_padding_mask=lib.zeros(3, 3, dtype=lib.bool)),
     r"Expected key_padded_mask.shape\[0\] to be 2, but got 3"),
    ("causal_without_mask", lambda lib: lib.nn.MultiheadAttention(4, 2)(*(lib.zeros(3, 2, 4),) * 3, is_causal=True),
     r"Need attn_mask if specifying the is_causal hint"),
    ("embed_dim", lambda lib: lib.nn.MultiheadAttention(4, 2)(*(lib.zeros(3, 2, 6),) * 3), None),
]


@pytest.mark.parametrize("case", MHA_ERRORS, ids=[c[0] for c in MHA_ERRORS])
def test_multihead_attention_errors_match_torch(case):
    _, make_call, match = case
    with pytest.raises(Exception) as th_err:
        make_call(torch)
    with pytest.raises(type(th_err.value), match=match):
        make_call(ember)


# ---- Transformer layers -----------------------------------------------------------------------------------------
def _activation(lib, kind):
    return {"relu": "relu", "gelu": "gelu", "fn_gelu": lib.nn.functional.gelu, "module_gelu": lib.nn.GELU(),
            "tanh": lib.tanh}[kind]


ENC_CASES = [
    ("post_norm", dict(), None, False),
    ("pre_norm_gelu_batch_first_kpm", dict(norm_first=True, activation="gelu", batch_first=True), "kpm", False),
    ("no_bias_eps_causal", dict(bias=False, layer_norm_eps=1e-3), "causal", False),
    ("module_activation", dict(activation="module_gelu"), "bool", False),
    ("callable_activation", dict(activation="tanh", norm_first=True), None, False),
    ("unbatched", dict(), None, True),
]


def _enc_input(kwargs, mask_kind, unbatched, dtype, d_model=D, seq=5, batch=3):
    bf = kwargs.get("batch_first", False)
    x = R(seq, d_model, dtype=dtype) if unbatched else (
        R(batch, seq, d_model, dtype=dtype) if bf else R(seq, batch, d_model, dtype=dtype))
    masks = {}
    if mask_kind == "kpm":
        m = np.zeros((batch, seq), dtype=bool)
        m[0, 3:] = True
        m[2, 4:] = True
        masks["src_key_padding_mask"] = m
    elif mask_kind == "causal":
        masks["src_mask"] = np.triu(np.full((seq, seq), -np.inf, dtype=dtype), 1)
    elif mask_kind == "bool":
        masks["src_mask"] = _rng.random((seq, seq)) > 0.8
    return x, masks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("case", ENC_CASES, ids=[c[0] for c in ENC_CASES])
def test_encoder_layer_matches_torch(case, train, dtype):
    _, kwargs, mask_kind, unbatched = case

    def make(lib):
        kw = dict(kwargs)
        if "activation" in kw:
            kw["activation"] = _activation(lib, kw["activation"])
        return lib.nn.TransformerEncoderLayer(D, HEADS, dim_feedforward=16, dropout=0.0, **kw)

    em, th = twins(make, dtype)
    assert str(em) == str(th)
    em.train(train)
    th.train(train)
    x, masks = _enc_input(kwargs, mask_kind, unbatched, dtype)
    xe, xt = leaves(x)
    out_t = th(xt, **{n: torch.tensor(m) for n, m in masks.items()})
    out_e = em(xe, **{n: ember.tensor(m) for n, m in masks.items()})
    t = tol(dtype, 2)
    assert_close(out_e, out_t, t["rtol"], t["atol"], "encoder layer")
    check_grads([(xe, xt)], em, th, out_e, out_t, dtype)


@pytest.mark.parametrize("mask_kind,norm", [(None, True), ("causal", False), ("kpm", True), ("bool", True)])
def test_encoder_stack_matches_torch(mask_kind, norm):
    def make(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = lib.nn.TransformerEncoderLayer(D, HEADS, dim_feedforward=16, dropout=0.0)
            return lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(D) if norm else None)

    em, th = twins(make)
    assert str(em) == str(th)
    x, masks = _enc_input({}, mask_kind, False, np.float32)
    masks = {("mask" if n == "src_mask" else n): m for n, m in masks.items()}
    xe, xt = leaves(x)
    out_t = th(xt, **{n: torch.tensor(m) for n, m in masks.items()})
    out_e = em(xe, **{n: ember.tensor(m) for n, m in masks.items()})
    assert_close(out_e, out_t, 2e-5, 2e-6, "encoder")
    check_grads([(xe, xt)], em, th, out_e, out_t, np.float32)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors:UserWarning")
@pytest.mark.parametrize("norm", [False, True])
def test_encoder_eval_no_grad_zeroes_padding_like_torch_nested_path(norm):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(D, HEADS, dim_feedforward=16, batch_first=True)
        return lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(D) if norm else None)

    em, th = twins(make)
    em.eval()
    th.eval()
    x, masks = _enc_input(dict(batch_first=True), "kpm", False, np.float32)
    with torch.no_grad():
        out_t = th(torch.tensor(x), src_key_padding_mask=torch.tensor(masks["src_key_padding_mask"]))
    with ember.no_grad():
        out_e = em(ember.tensor(x), src_key_padding_mask=ember.tensor(masks["src_key_padding_mask"]))
    assert_close(out_e, out_t, 2e-5, 2e-6, "nested path")


def test_encoder_warns_when_nested_tensor_cannot_be_used():
    for lib in (torch, ember):
        layer = lib.nn.TransformerEncoderLayer(D, HEADS, dim_feedforward=16)
        with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False"):
            enc = lib.nn.TransformerEncoder(layer, 1)
        assert enc.use_nested_tensor is False and enc.enable_nested_tensor is True


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_and_transformer_match_torch(norm_first):
    def make(lib):
        return lib.nn.Transformer(d_model=D, nhead=HEADS, num_encoder_layers=2, num_decoder_layers=2,
                                  dim_feedforward=16, dropout=0.0, norm_first=norm_first)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em, th = twins(make)
    assert str(em) == str(th)
    src, tgt = leaves(R(5, N, D)), leaves(R(4, N, D))
    tgt_mask = th.generate_square_subsequent_mask(4)
    assert_close(em.generate_square_subsequent_mask(4), tgt_mask, 0, 0, "square subsequent mask")
    mem_kpm = np.zeros((N, 5), dtype=bool)
    mem_kpm[1, 3:] = True
    out_t = th(src[1], tgt[1], tgt_mask=tgt_mask, memory_key_padding_mask=torch.tensor(mem_kpm))
    out_e = em(src[0], tgt[0], tgt_mask=ember.tensor(tgt_mask.numpy()),
               memory_key_padding_mask=ember.tensor(mem_kpm))
    assert_close(out_e, out_t, 5e-5, 5e-6, "transformer")
    check_grads([src, tgt], em, th, out_e, out_t, np.float32)


def test_decoder_layer_batch_first_float64():
    def make(lib):
        return lib.nn.TransformerDecoderLayer(D, HEADS, dim_feedforward=16, dropout=0.0, batch_first=True,
                                              activation="gelu")

    em, th = twins(make, np.float64)
    assert str(em) == str(th)
    tgt, mem = leaves(R(N, 4, D, dtype=np.float64)), leaves(R(N, 6, D, dtype=np.float64))
    out_t = th(tgt[1], mem[1], tgt_is_causal=True, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(
        4, dtype=torch.float64))
    out_e = em(tgt[0], mem[0], tgt_is_causal=True, tgt_mask=ember.nn.Transformer.generate_square_subsequent_mask(
        4, dtype=ember.float64))
    assert_close(out_e, out_t, 1e-10, 1e-12, "decoder layer")
    check_grads([tgt, mem], em, th, out_e, out_t, np.float64)


TRANSFORMER_ERRORS = [
    ("batch", lambda lib: lib.nn.Transformer(D, HEADS, 1, 1, 16)(lib.zeros(5, 2, D), lib.zeros(4, 3, D)),
     r"the batch number of src and tgt must be equal"),
    ("features", lambda lib: lib.nn.Transformer(D, HEADS, 1, 1, 16)(lib.zeros(5, 2, 4), lib.zeros(4, 2, 4)),
     r"the feature number of src and tgt must be equal to d_model"),
    ("activation", lambda lib: lib.nn.TransformerEncoderLayer(D, HEADS, activation="swish"),
     r"activation should be relu/gelu, not swish"),
]


@pytest.mark.parametrize("case", TRANSFORMER_ERRORS, ids=[c[0] for c in TRANSFORMER_ERRORS])
def test_transformer_errors_match_torch(case):
    _, make_call, match = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as th_err:
            make_call(torch)
        with pytest.raises(type(th_err.value), match=match):
            make_call(ember)


def test_transformer_defaults_and_repr():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.TransformerEncoderLayer(16, 4)
        e = ember.nn.TransformerEncoderLayer(16, 4)
    assert str(e) == str(t)
    assert e.linear1.out_features == 2048 and e.dropout.p == 0.1 and e.norm1.eps == 1e-5
    assert e.activation_relu_or_gelu == 1 and not e.norm_first
    assert ember.nn.TransformerEncoderLayer(16, 4, activation="gelu").activation_relu_or_gelu == 2
