"""Attention: scaled_dot_product_attention and multi_head_attention_forward (torch.nn.functional's).

Both are composites of matmul, softmax and dropout, so their gradients come from those ops. Masks follow
torch: a bool mask marks the positions that may be attended (True = keep), a float mask is added to the scores.
"""
import math
import warnings

import numpy as np

from .._tensor import Tensor, _make
from .activation import softmax
from .creation import zeros
from .elementwise import mul, where
from .linalg import matmul
from .nn_misc import dropout, linear
from .shape import cat, chunk, reshape, squeeze, transpose, unsqueeze

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_TORCH_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
                     "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
                     "bool": "bool"}


def _type_name(t):
    return _TORCH_TYPE_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def _neg_inf_where_false(mask, dtype):
    """A bool keep-mask as an additive float mask: 0 where True, -inf where False."""
    return np.where(mask, dtype.type(0), dtype.type(-np.inf)).astype(dtype, copy=False)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value over the last two dims (..., L, E) x (..., S, E).

    Rows whose every position is masked give zeros (as torch's CPU kernels do), with zero gradients.
    """
    q_dt, k_dt, v_dt = query._data.dtype, key._data.dtype, value._data.dtype
    if not (q_dt == k_dt == v_dt):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_type_name(query)} key.dtype: {_type_name(key)} and value.dtype: {_type_name(value)} "
                           "instead.")
    if attn_mask is not None and attn_mask._data.dtype != np.bool_ and attn_mask._data.dtype != q_dt:
        raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_type_name(attn_mask)} and  query.dtype: {_type_name(query)} instead.")
    if query._data.ndim < 2 or key._data.ndim < 2 or value._data.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must have at least 2 dimensions, "
                           f"got {query._data.ndim}, {key._data.ndim} and {value._data.ndim}")
    if enable_gqa and query._data.ndim >= 3 and key._data.shape[-3] != query._data.shape[-3]:
        key, value = _repeat_heads(key, query, "key"), _repeat_heads(value, query, "value")
    n_q, n_k, e = query._data.shape[-2], key._data.shape[-2], query._data.shape[-1]
    if key._data.shape[-1] != e:
        raise RuntimeError(f"scaled_dot_product_attention: query has embedding size {e} but key has "
                           f"{key._data.shape[-1]}")
    factor = 1.0 / math.sqrt(e) if scale is None else float(scale)
    scores = mul(matmul(query, transpose(key, -2, -1)), _make(np.array(factor, dtype=q_dt)))
    bias = None  # additive float mask as an ndarray (constant) or Tensor (may require grad)
    dead_src = None  # ndarray whose -inf entries are masked-out positions
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            keep = attn_mask._data
            if is_causal:
                keep = keep & np.tril(np.ones((n_q, n_k), dtype=bool))
            bias = _neg_inf_where_false(keep, q_dt)
            dead_src = bias
        else:
            bias = attn_mask
            dead_src = attn_mask._data
            if is_causal:
                causal = _neg_inf_where_false(np.tril(np.ones((n_q, n_k), dtype=bool)), q_dt)
                bias = bias + _make(causal)
                dead_src = dead_src + causal
    elif is_causal:
        bias = _neg_inf_where_false(np.tril(np.ones((n_q, n_k), dtype=bool)), q_dt)
        dead_src = bias
    if bias is not None:
        scores = scores + (bias if isinstance(bias, Tensor) else _make(bias))
    dead = None
    if dead_src is not None:
        rows_dead = np.all(np.isneginf(dead_src), axis=-1, keepdims=True)
        if rows_dead.any():
            dead = _make(rows_dead)
            scores = where(dead, _make(np.zeros((), q_dt)), scores)
    attn = softmax(scores, -1)
    if dead is not None:
        attn = where(dead, _make(np.zeros((), q_dt)), attn)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return matmul(attn, value)


def _repeat_heads(kv, query, name):
    """Grouped-query attention: repeat each of the kv heads so that there are as many as query heads."""
    hq, hk = query._data.shape[-3], kv._data.shape[-3]
    if hq % hk:
        raise RuntimeError(f"scaled_dot_product_attention: number of heads in {name} ({hk}) must divide the number "
                           f"of heads in query ({hq}) when enable_gqa=True")
    idx = np.arange(hq) // (hq // hk)
    return kv[(Ellipsis, _make(idx), slice(None), slice(None))]


# ---- multi-head attention ---------------------------------------------------------------------------------
def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched; AssertionError (as torch) when the ranks do not fit together."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                     f"found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def canonical_mask(mask, mask_name, other_type, other_name, target_dtype, check_other=True):
    """A bool mask (True = masked out) becomes a float mask with -inf there; float masks pass through."""
    if mask is None:
        return None
    kind = mask._data.dtype.kind
    if kind != "b" and kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if kind == "b":
        np_dt = np.dtype(target_dtype.np) if hasattr(target_dtype, "np") else np.dtype(target_dtype)
        # (ops, not NumPy on mask._data: compile mode replays them on the masks of later calls)
        return where(mask, _make(np.array(-np.inf, np_dt)), _make(np.array(0, np_dt)))
    return mask


def _pad_last(mask):
    """Append one zero column to a float mask (for the extra bias_k / zero key position)."""
    pad = zeros(*(tuple(mask.shape[:-1]) + (1,)), dtype=mask.dtype)
    return cat([mask, pad], -1)


def _in_projection(query, key, value, embed_dim, in_proj_weight, in_proj_bias, separate):
    e = embed_dim
    if separate is not None:
        w_q, w_k, w_v = separate
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = chunk(in_proj_bias, 3)
        return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    if key is value:
        if query is key:
            return tuple(chunk(linear(query, in_proj_weight, in_proj_bias), 3, -1))
        w_q, w_kv = in_proj_weight[:e], in_proj_weight[e:]
        b_q = b_kv = None
        if in_proj_bias is not None:
            b_q, b_kv = in_proj_bias[:e], in_proj_bias[e:]
        k, v = chunk(linear(key, w_kv, b_kv), 2, -1)
        return linear(query, w_q, b_q), k, v
    w_q, w_k, w_v = chunk(in_proj_weight, 3)
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = chunk(in_proj_bias, 3)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """torch.nn.functional.multi_head_attention_forward on (L, N, E) inputs (or unbatched (L, E))."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = unsqueeze(query, 1), unsqueeze(key, 1), unsqueeze(value, 1)
        if key_padding_mask is not None:
            key_padding_mask = unsqueeze(key_padding_mask, 0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask",
                                      None if attn_mask is None else attn_mask.dtype, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        separate = None
    q, k, v = _in_projection(query, key, value, embed_dim, in_proj_weight, in_proj_bias, separate)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = unsqueeze(attn_mask, 0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k is set but bias_v is None" if bias_k is not None
                             else "bias_v is set but bias_k is None")

    q = transpose(reshape(q, (tgt_len, bsz * num_heads, head_dim)), 0, 1)
    k = transpose(reshape(k, (k.shape[0], bsz * num_heads, head_dim)), 0, 1) if static_k is None else static_k
    v = transpose(reshape(v, (v.shape[0], bsz * num_heads, head_dim)), 0, 1) if static_v is None else static_v
    if add_zero_attn:
        k = cat([k, zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype)], 1)
        v = cat([v, zeros(bsz * num_heads, 1, head_dim, dtype=v.dtype)], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got {key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        kpm = reshape(key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1),
                      (bsz * num_heads, 1, src_len))
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        scale = _make(np.array(math.sqrt(1.0 / float(head_dim)), dtype=q._data.dtype))
        weights = matmul(mul(q, scale), transpose(k, -2, -1))
        if attn_mask is not None:
            weights = weights + attn_mask
        weights = softmax(weights, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p, True)
        out = matmul(weights, v)
        out = reshape(transpose(out, 0, 1), (tgt_len * bsz, embed_dim))
        out = reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, -1))
        weights = reshape(weights, (bsz, num_heads, tgt_len, src_len))
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = squeeze(out, 1), squeeze(weights, 0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = unsqueeze(attn_mask, 0)
        else:
            attn_mask = reshape(attn_mask, (bsz, num_heads, -1, src_len))
    q = reshape(q, (bsz, num_heads, tgt_len, head_dim))
    k = reshape(k, (bsz, num_heads, src_len, head_dim))
    v = reshape(v, (bsz, num_heads, src_len, head_dim))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = reshape(out.permute(2, 0, 1, 3), (bsz * tgt_len, embed_dim))
    out = reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, -1))
    if not is_batched:
        out = squeeze(out, 1)
    return out, None
