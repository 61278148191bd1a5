"""Lowerings of layer ops: linear and matrix products, convolutions, pooling, normalisation, embedding,
softmax, and reductions."""
import numpy as np

from ..ops import activation as act
from ..ops import conv as cv
from ..ops import linalg as la
from ..ops import nn_misc as nm
from ..ops import normalization as nz
from ..ops import pool as pl
from ..ops import reduction as rd
from .registry import register


def _as_out(g, node, k=0):
    return g.input_as(node.inputs[k], node.outputs[0].dtype)


# ---- matrix products ---------------------------------------------------------------------------------------------
@register(nm.Linear)
def linear(g, node):
    x, w, *bias = node.inputs
    if len(x.shape) == 2:  # y = x W^T + b in one Gemm
        return g.op("Gemm", g.name(x), g.name(w), *[g.name(b) for b in bias], transB=1)
    y = g.op("MatMul", g.name(x), g.op("Transpose", g.name(w), perm=[1, 0]))
    return g.op("Add", y, g.name(bias[0])) if bias else y


@register(la.Matmul, la.Dot)
def matmul(g, node):
    return g.op("MatMul", _as_out(g, node, 0), _as_out(g, node, 1))


@register(la.TransposedMatmul)
def transposed_matmul(g, node):  # a.T @ b for 2-D a, b
    return g.op("MatMul", g.op("Transpose", _as_out(g, node, 0), perm=[1, 0]), _as_out(g, node, 1))


@register(la.Einsum)
def einsum(g, node):
    return g.op("Einsum", *[_as_out(g, node, k) for k in range(len(node.inputs))],
                equation=node.params["equation"].replace(" ", ""))


# ---- convolutions --------------------------------------------------------------------------------------------------
def _conv_attrs(gm):
    return {"kernel_shape": [gm.kh, gm.kw], "strides": [gm.sh, gm.sw], "dilations": [gm.dh, gm.dw],
            "pads": [gm.pt, gm.pl, gm.pb, gm.pr], "group": gm.groups}


def _same_geometry(g, node, fields):
    """Hyper-parameters of a convolution or pooling must not change with the dynamic axes."""
    twin = g.twins.get(id(node))
    if twin is None:
        return
    a, b = node.params["geom"], twin.params["geom"]
    if any(getattr(a, f) != getattr(b, f) for f in fields):
        g.fail("the kernel, stride, padding or dilation of this op changes with the size of a dynamic axis")


_CONV_FIELDS = ("kh", "kw", "sh", "sw", "dh", "dw", "pt", "pb", "pl", "pr", "groups")


@register(cv.Convolution, varying=("geom",))
def convolution(g, node):
    _same_geometry(g, node, _CONV_FIELDS)
    return g.op("Conv", *[g.name(v) for v in node.inputs], **_conv_attrs(node.params["geom"]))


def _output_padding(gm):
    """ConvTranspose's output_padding that gives the forward convolution's input size back."""
    full_h = (gm.oh - 1) * gm.sh + gm.dh * (gm.kh - 1) + 1 - gm.pt - gm.pb
    full_w = (gm.ow - 1) * gm.sw + gm.dw * (gm.kw - 1) + 1 - gm.pl - gm.pr
    return [gm.h - full_h, gm.w - full_w]


@register(cv.ConvolutionTranspose, varying=("geom",))
def convolution_transpose(g, node):
    gm = node.params["geom"]
    _same_geometry(g, node, _CONV_FIELDS)
    twin = g.twins.get(id(node))
    if twin is not None and _output_padding(twin.params["geom"]) != _output_padding(gm):
        g.fail("the output padding of this transposed convolution changes with the size of a dynamic axis")
    if node.params.get("g_rows") is not None:
        g.unsupported("a transposed convolution with precomputed rows")
    return g.op("ConvTranspose", *[g.name(v) for v in node.inputs], output_padding=_output_padding(gm),
                **_conv_attrs(gm))


# ---- pooling -------------------------------------------------------------------------------------------------------
_POOL_FIELDS = ("kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw")


def _pool_padding(g, node):
    """(ph, pw, extra_h, extra_w): the symmetric padding and what ceil_mode's last window adds at the end."""
    gm = node.params["geom"]
    _same_geometry(g, node, _POOL_FIELDS)
    hp, wp = gm.padded_shape()
    extra = (hp - gm.h - 2 * gm.ph, wp - gm.w - 2 * gm.pw)
    twin = g.twins.get(id(node))
    if twin is not None:
        tg = twin.params["geom"]
        thp, twp = tg.padded_shape()
        if (thp - tg.h - 2 * tg.ph, twp - tg.w - 2 * tg.pw) != extra:
            g.fail("ceil_mode's extra padding of this pooling changes with the size of a dynamic axis")
    return gm.ph, gm.pw, extra[0], extra[1]


def _explicit_pad(g, x, ph, pw, eh, ew, fill, dtype):
    return g.op("Pad", x, g.ints([0, 0, ph, pw, 0, 0, ph + eh, pw + ew]), g.const(fill, dtype), mode="constant")


@register(pl.MaxPool, varying=("geom",))
def max_pool(g, node):
    gm = node.params["geom"]
    x = node.inputs[0]
    ph, pw, eh, ew = _pool_padding(g, node)
    attrs = {"kernel_shape": [gm.kh, gm.kw], "strides": [gm.sh, gm.sw], "dilations": [gm.dh, gm.dw]}
    name = g.name(x)
    if eh or ew:  # ceil_mode: pad explicitly (-inf never wins a max), then pool without padding
        if x.dtype.kind != "f":
            g.unsupported("ceil_mode max pooling of an integer tensor")
        name = _explicit_pad(g, name, ph, pw, eh, ew, -np.inf, x.dtype)
    else:
        attrs["pads"] = [ph, pw, ph, pw]
    return g.op("MaxPool", name, **attrs), None


@register(pl.AvgPool, varying=("geom", "divisor"))
def avg_pool(g, node):
    """Window sums over the zero-padded input divided by the kernel size, rescaled when ember's divisor differs
    (count_include_pad=False, divisor_override, ceil_mode's clipped windows)."""
    gm = node.params["geom"]
    x = node.inputs[0]
    if x.dtype.kind != "f":
        g.unsupported("average pooling of an integer tensor")
    ph, pw, eh, ew = _pool_padding(g, node)
    name = g.name(x)
    if ph or pw or eh or ew:
        name = _explicit_pad(g, name, ph, pw, eh, ew, 0, x.dtype)
    y = g.op("AveragePool", name, kernel_shape=[gm.kh, gm.kw], strides=[gm.sh, gm.sw])
    divisor = np.asarray(node.params["divisor"], dtype=np.float64)
    k = gm.kh * gm.kw
    if np.all(divisor == k):
        return y, None
    twin = g.twins.get(id(node))
    if divisor.ndim and twin is not None and not np.array_equal(divisor, np.asarray(twin.params["divisor"])):
        g.fail("the divisors of this average pooling change with the size of a dynamic axis")
    return g.op("Mul", y, g.const((k / divisor).astype(x.dtype))), None


# ---- normalisation ------------------------------------------------------------------------------------------------
@register(nz.Normalize)
def normalize(g, node):
    """(x - mean) / sqrt(var + eps) [* w] [+ b] over ``axes``: LayerNormalization when the axes are the trailing
    ones and w, b have their shape (opset 17+), else ReduceMean and elementwise nodes."""
    x, *affine = node.inputs
    p = node.params
    axes, eps = tuple(p["axes"]), float(p["eps"])
    w = affine[0] if p["has_w"] else None
    b = affine[-1] if p["has_b"] else None
    nd = len(x.shape)
    k = len(axes)
    norm_shape = x.shape[nd - k:]
    trailing = axes == tuple(range(nd - k, nd)) and not any(g.dynamic(x)[nd - k:])
    fits = all(v is None or v.shape == norm_shape for v in (w, b))
    if g.opset >= 17 and trailing and fits and x.dtype.kind == "f":
        scale = g.name(w) if w is not None else g.const(np.ones(norm_shape, x.dtype))
        inputs = [g.name(x), scale] + ([g.name(b)] if b is not None else [])
        return g.op("LayerNormalization", *inputs, axis=nd - k, epsilon=eps), None, None
    xn = g.name(x)
    mean = g.reduce("ReduceMean", xn, axes, True)
    centred = g.op("Sub", xn, mean)
    var = g.reduce("ReduceMean", g.op("Mul", centred, centred), axes, True)
    y = g.op("Div", centred, g.op("Sqrt", g.op("Add", var, g.const(eps, x.dtype))))
    if w is not None:
        y = g.op("Mul", y, g.name(w))
    if b is not None:
        y = g.op("Add", y, g.name(b))
    return y, None, None


@register(nm.Embedding)
def embedding(g, node):
    (w,) = node.inputs
    idx = node.params["idx"]
    if hasattr(idx, "producer"):  # an IR Value
        name = g.input_as(idx, np.int64)
    else:
        name = g.initializer(np.asarray(idx, dtype=np.int64))
    return g.op("Gather", g.name(w), name, axis=0)


@register(act.Softmax)
def softmax(g, node):
    return g.op("Softmax", g.name(node.inputs[0]), axis=int(node.params["dim"]))


@register(act.LogSoftmax)
def log_softmax(g, node):
    return g.op("LogSoftmax", g.name(node.inputs[0]), axis=int(node.params["dim"]))


# ---- reductions ----------------------------------------------------------------------------------------------------
@register(rd.Mean)
def mean(g, node):
    return g.reduce("ReduceMean", g.name(node.inputs[0]), node.params["axes"], node.params["keepdim"])


@register(rd.Sum)
def sum_(g, node):
    return g.reduce("ReduceSum", _as_out(g, node), node.params["axes"], node.params["keepdim"])


@register(rd.AMax)
def amax(g, node):
    kind = "ReduceMin" if getattr(node.params["fn"], "__name__", "") in ("min", "amin") else "ReduceMax"
    return g.reduce(kind, g.name(node.inputs[0]), node.params["axes"], node.params["keepdim"])


@register(rd.MaxDim)
def max_dim(g, node):
    p = node.params
    is_min = p.get("name") == "min"
    x = g.name(node.inputs[0])
    dim, keep = int(p["dim"]), int(bool(p["keepdim"]))
    values = g.reduce("ReduceMin" if is_min else "ReduceMax", x, [dim], keep)
    indices = g.op("ArgMin" if is_min else "ArgMax", x, axis=dim, keepdims=keep)
    return (values, indices) + (None,) * (len(node.outputs) - 2)


@register(rd.ArgReduce)
def arg_reduce(g, node):
    p = node.params
    kind = "ArgMin" if getattr(p["fn"], "__name__", "") == "argmin" else "ArgMax"
    x = node.inputs[0]
    if p["dim"] is None or len(x.shape) == 0:
        flat = g.op("Reshape", g.name(x), g.ints([-1]))
        y = g.op(kind, flat, axis=0, keepdims=0)
        return g.op("Reshape", y, g.ints([1] * len(x.shape))) if p["keepdim"] else y
    return g.op(kind, g.name(x), axis=int(p["dim"]), keepdims=int(bool(p["keepdim"])))


@register(rd.LogSumExp)
def logsumexp(g, node):
    return g.reduce("ReduceLogSumExp", g.name(node.inputs[0]), node.params["axes"], node.params["keepdim"])


@register(rd.Prod)
def prod(g, node):
    axis = node.params["axis"]
    return g.reduce("ReduceProd", _as_out(g, node), None if axis is None else [axis], node.params["keepdim"])


@register(rd.VarStd)
def var_std(g, node):
    """sum((x - mean)^2) / (n - correction), square-rooted for std."""
    p = node.params
    x = node.inputs[0]
    axes = p["axes"] if p["axes"] is not None else tuple(range(len(x.shape)))
    if any(g.dynamic(x)[a] for a in axes):
        g.unsupported("variance over a dynamic axis (its element count would be hard-coded)")
    n = int(np.prod([x.shape[a] for a in axes]))
    xn = g.name(x)
    centred = g.op("Sub", xn, g.reduce("ReduceMean", xn, axes, True))
    ss = g.reduce("ReduceSum", g.op("Mul", centred, centred), axes, p["keepdim"])
    y = g.op("Div", ss, g.const(max(n - p["correction"], 0), x.dtype))
    return g.op("Sqrt", y) if p["root"] else y
