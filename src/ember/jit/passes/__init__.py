"""Graph passes. Each takes a Graph, changes it in place and returns it; each can be switched off."""
from . import cse, dce, fold, fuse, memory, pool_relu

# Order matters: simplify and fold first, then share common work, move relu after max pooling, then drop
# what is dead, then fuse elementwise chains and plan buffers.
DEFAULT_PASSES = ("fold", "cse", "pool_relu", "dce", "fuse", "memory")
PASSES = {"fold": fold.run, "cse": cse.run, "pool_relu": pool_relu.run, "dce": dce.run, "fuse": fuse.run,
          "memory": memory.run}


def run_passes(graph, names=DEFAULT_PASSES):
    for name in names:
        graph = PASSES[name](graph)
    return graph
