"""Lowerings of shape and indexing ops: reshape (view, flatten, squeeze, unsqueeze), permute, expand, cat,
stack, split / chunk, unbind, basic and single-tensor indexing, index_select, gather, constant pad, flip,
repeat, tril / triu."""
import itertools
import numbers

import numpy as np

from ..jit.ir import Value
from ..ops import indexing as ix
from ..ops import rearrange as ra
from ..ops import shape as sh
from ..ops.gather import Gather, IndexInRange, IndexSelect
from .builder import INT64_MAX, INT64_MIN
from .registry import register


@register(sh.Reshape, varying=("shape",))
def reshape(g, node):
    out = node.outputs[0]
    return g.op("Reshape", g.name(node.inputs[0]), g.shape_tensor(out.shape, g.twin(out).shape, minus_one=True))


@register(sh.Permute)
def permute(g, node):
    return g.op("Transpose", g.name(node.inputs[0]), perm=[int(d) for d in node.params["dims"]])


@register(sh.Expand, varying=("shape",))
def expand(g, node):
    x, out = node.inputs[0], node.outputs[0]
    shape, grown = list(out.shape), list(g.twin(out).shape)
    lead = len(shape) - len(x.shape)
    x_grown = g.twin(x).shape
    for k in range(lead, len(shape)):  # a dim x already has at run time: broadcasting keeps it (write 1)
        if shape[k] != grown[k] and x.shape[k - lead] == shape[k] and x_grown[k - lead] == grown[k]:
            shape[k] = grown[k] = 1
    return g.op("Expand", g.name(x), g.shape_tensor(shape, grown))


@register(sh.Cat)
def cat(g, node):
    dtype = node.outputs[0].dtype
    kept = [g.input_as(v, dtype) for v, skip in zip(node.inputs, node.params["skip"]) if not skip]
    if len(kept) == 1:
        return g.op("Identity", kept[0])
    return g.op("Concat", *kept, axis=int(node.params["dim"]))


@register(sh.Stack)
def stack(g, node):
    dim, dtype = int(node.params["dim"]), node.outputs[0].dtype
    parts = [g.unsqueeze(g.input_as(v, dtype), [dim]) for v in node.inputs]
    return parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=dim)


@register(sh.Split)
def split(g, node):
    x = node.inputs[0]
    dim, bounds = int(node.params["dim"]), node.params["bounds"]
    name = g.name(x)
    contiguous = bounds and bounds[0][0] == 0 and bounds[-1][1] == x.shape[dim] and all(
        a[1] == b[0] for a, b in itertools.pairwise(bounds))
    if contiguous and all(b > a for a, b in bounds) and len(bounds) > 1:
        outs = g.op("Split", name, g.ints([b - a for a, b in bounds]), axis=dim, outputs=len(bounds))
        return tuple(outs)
    return tuple(g.op("Slice", name, g.ints([a]), g.ints([b]), g.ints([dim])) for a, b in bounds)


@register(sh.Unbind)
def unbind(g, node):
    x = node.inputs[0]
    dim = int(node.params["dim"])
    n = x.shape[dim]
    if n == 1:
        return (g.squeeze(g.name(x), [dim]),)
    parts = g.op("Split", g.name(x), g.ints([1] * n), axis=dim, outputs=n)
    return tuple(g.squeeze(p, [dim]) for p in parts)


# ---- indexing ------------------------------------------------------------------------------------------------------
def _is_tensor_index(e):
    return isinstance(e, (np.ndarray, Value))


def _index_name(g, e):
    if isinstance(e, Value):
        return g.input_as(e, np.int64)
    return g.const(np.asarray(e, dtype=np.int64)) if e.size <= 64 else g.initializer(e.astype(np.int64))


@register(ix.GetItemView, ix.GetItem, IndexSelect)
def getitem(g, node):
    """x[index] for ints, slices, None, Ellipsis and at most one integer tensor, applied left to right."""
    x = node.inputs[0]
    index = node.params["index"]
    index = index if isinstance(index, tuple) else (index,)
    tensors = [k for k, e in enumerate(index) if _is_tensor_index(e)]
    if len(tensors) > 1:
        g.unsupported("indexing with more than one index tensor")
    if tensors and np.dtype(index[tensors[0]].dtype) == np.bool_:
        g.unsupported("indexing with a boolean mask (its result's shape depends on the data)")
    advanced = [k for k, e in enumerate(index) if _is_tensor_index(e) or isinstance(e, numbers.Integral)]
    if tensors and advanced != list(range(advanced[0], advanced[-1] + 1)):
        g.unsupported("an index tensor separated from integer indices by slices (NumPy moves those dims first)")
    name, cur = g.name(x), 0
    consumed = sum(1 for e in index if e is not None and e is not Ellipsis)
    for e in index:
        if e is None:
            name, cur = g.unsqueeze(name, [cur]), cur + 1
        elif e is Ellipsis:
            cur += len(x.shape) - consumed
        elif isinstance(e, numbers.Integral):
            name = g.op("Gather", name, g.const(np.int64(e)), axis=cur)
        elif isinstance(e, slice):
            if any(isinstance(p, Value) for p in (e.start, e.stop, e.step)):
                g.unsupported("a slice bound given as a tensor")
            start, stop, step = e.start or 0, e.stop, e.step or 1
            if not (start == 0 and stop is None and step == 1):
                stop = (INT64_MAX if step > 0 else INT64_MIN) if stop is None else stop
                name = g.op("Slice", name, g.ints([start]), g.ints([stop]), g.ints([cur]), g.ints([step]))
            cur += 1
        else:
            name = g.op("Gather", name, _index_name(g, e), axis=cur)
            cur += len(e.shape)
    if name == g.name(x):
        name = g.op("Identity", name)
    return (name,) + (None,) * (len(node.outputs) - 1)


def _is_grid(e, k):
    """An index entry that is just the position along dim k (np.indices' sparse grid)."""
    if not isinstance(e, np.ndarray) or any(n != 1 for i, n in enumerate(e.shape) if i != k):
        return False
    return bool(np.array_equal(e.reshape(-1), np.arange(e.shape[k] if e.ndim > k else 1)))


@register(Gather)
def gather(g, node):  # torch.gather: out[i, j, k] = x[i, index[i, j, k], k] (dim 1)
    x = node.inputs[0]
    index = node.params["index"]
    dims = [k for k, e in enumerate(index) if not _is_grid(e, k)]
    if len(dims) > 1:
        g.unsupported("a gather whose index tuple is not one index tensor and position grids")
    dim = dims[0] if dims else 0
    return (g.op("GatherElements", g.name(x), _index_name(g, index[dim]), axis=dim),) + (None,) * (
        len(node.outputs) - 1)


@register(IndexInRange)
def index_in_range(g, node):  # (the range check runs in ember only)
    return g.name(node.inputs[0])


# ---- rearrangements -----------------------------------------------------------------------------------------------
@register(ra.ConstantPad)
def constant_pad(g, node):
    x = node.inputs[0]
    pads = node.params["pads"]
    flat = [int(a) for a, _ in pads] + [int(b) for _, b in pads]
    value = g.const(np.asarray(node.params["value"]).astype(x.dtype))
    return g.op("Pad", g.name(x), g.ints(flat), value, mode="constant")


@register(ra.Flip)
def flip(g, node):
    dims = [int(d) for d in node.params["dims"]]
    if not dims:
        return g.op("Identity", g.name(node.inputs[0]))
    n = len(dims)
    return g.op("Slice", g.name(node.inputs[0]), g.ints([-1] * n), g.ints([INT64_MIN] * n), g.ints(dims),
                g.ints([-1] * n))


@register(ra.Repeat)
def repeat(g, node):
    x = node.inputs[0]
    reps = [int(r) for r in node.params["reps"]]
    name = g.name(x)
    extra = len(reps) - len(x.shape)
    if extra > 0:
        name = g.unsqueeze(name, list(range(extra)))
    return g.op("Tile", name, g.ints(reps))


@register(ra.Tril, ra.Triu)
def triangle(g, node):
    k = g.const(np.int64(node.params["diagonal"]))
    return g.op("Trilu", g.name(node.inputs[0]), k, upper=int(node.op is ra.Triu))
