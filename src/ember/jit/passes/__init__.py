"""Graph passes. Each takes a Graph, changes it in place and returns it; each can be switched off."""
from . import cse, dce, fold, fuse, memory, native, pool_relu

# Order matters: simplify and fold first, then share common work, move relu after max pooling, then drop
# what is dead, then fuse elementwise chains and plan buffers.
DEFAULT_PASSES = ("fold", "cse", "pool_relu", "dce", "fuse", "memory")
# ember.compile(mode="reduce-overhead"): small arrays' ops also run as native (numba) kernels, within float32
# rounding of eager mode instead of bitwise (passes/native.py)
REDUCE_OVERHEAD_PASSES = ("fold", "cse", "pool_relu", "dce", "native", "fuse", "memory")
PASSES = {"fold": fold.run, "cse": cse.run, "pool_relu": pool_relu.run, "dce": dce.run, "fuse": fuse.run,
          "memory": memory.run, "native": native.run}


def run_passes(graph, names=DEFAULT_PASSES):
    for name in names:
        graph = PASSES[name](graph)
    return graph
