"""The lowering registry: one function per ember Op class (and per in-place kernel) that emits ONNX nodes.

A lowering is ``fn(g, node)``: ``g`` is the ``Builder`` (export's graph under construction), ``node`` the IR
node (``node.inputs``: IR Values, ``node.params``: the op's keyword params). It returns the ONNX name of the
node's output, or a tuple of names (``None`` for an output that has no ONNX counterpart, e.g. the argmax
indices of a max pooling nobody reads). ``register`` records it; ``varying`` names the params that may differ
between the traces at two sizes of the dynamic axes (a reshape's target shape, a convolution's geometry),
which the lowering then handles; any other param that differs is an error (it would be baked into the graph).
"""

LOWERINGS = {}  # ember Op class -> (lowering, varying params)
KERNEL_LOWERINGS = {}  # name of an ember._kernels in-place kernel -> lowering


def register(*op_classes, varying=()):
    def deco(fn):
        for cls in op_classes:
            LOWERINGS[cls] = (fn, frozenset(varying))
        return fn

    return deco


def register_kernel(*names):
    def deco(fn):
        for name in names:
            KERNEL_LOWERINGS[name] = fn
        return fn

    return deco
