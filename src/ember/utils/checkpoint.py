"""Activation checkpointing (``torch.utils.checkpoint``): trade compute for memory.

``checkpoint(fn, *args)`` keeps only ``fn``'s inputs; the activations inside ``fn`` are freed after the forward
and recomputed during backward (with the RNG state of the forward restored, so dropout masks match).

Two variants, as in torch:

- ``use_reentrant=True`` (torch's default when the argument is omitted): ``fn`` runs without recording; in
  backward it is re-run and a nested ``backward()`` pushes the gradient into the parameters' ``.grad``. Only
  the tensor arguments are graph inputs, so when none of them requires grad the output does not either, and
  ``autograd.grad`` cannot reach the parameters used inside ``fn``.
- ``use_reentrant=False``: ``fn`` runs once recording, which finds every tensor the output depends on (the
  arguments and the parameters ``fn`` reads); that graph is then dropped (its saved activations with it) and
  one checkpoint node with edges to those tensors stands in for it. Works with ``autograd.grad``,
  keyword arguments, inputs that do not require grad, and double backward.
"""
import contextlib
import warnings
from collections import OrderedDict

from .._tensor import Tensor
from ..autograd.engine import backward as _backward
from ..autograd.engine import grad as _grad
from ..autograd.function import Function
from ..autograd.grad_mode import _State, enable_grad, no_grad
from ..random import get_rng_state, set_rng_state

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "detach_variable",
           "check_backward_validity", "noop_context_fn"]


class CheckpointError(RuntimeError):
    """The recomputation in backward did not reproduce the forward (shapes or dtypes differ)."""


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """Detached copies of the tensors in the tuple ``inputs`` that keep their ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            d = x.detach()
            d.requires_grad = x.requires_grad
            x = d
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(x.requires_grad for x in inputs if isinstance(x, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                      stacklevel=2)


@contextlib.contextmanager
def _forked_rng(state):
    """Run the block with the global generator at ``state`` (if given), then put back the state it had."""
    if state is None:
        yield
        return
    outer = get_rng_state()
    set_rng_state(state)
    try:
        yield
    finally:
        set_rng_state(outer)


# --------------------------------------------------------------------------------------------- use_reentrant=True
class CheckpointFunction(Function):
    """The reentrant variant: forward without a graph, backward re-runs ``run_function`` and calls backward."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with no_grad():
            outputs = run_function(*args)
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        ctx.mark_non_differentiable(*[o for o in outs if isinstance(o, Tensor) and not o.is_floating_point()])
        return outputs

    @staticmethod
    def backward(ctx, *grad_outputs):
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _forked_rng(ctx.rng_state):
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        roots, grads = [], []
        for out, g in zip(outputs, grad_outputs):
            if isinstance(out, Tensor) and out.requires_grad and g is not None:
                roots.append(out)
                grads.append(g)
        if not roots:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        _backward(roots, grads)
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in detached)


# -------------------------------------------------------------------------------------------- use_reentrant=False
def _flatten(obj, leaves):
    """Append the leaves of nested tuples/lists/dicts to ``leaves``; return a spec to rebuild the structure."""
    if isinstance(obj, (tuple, list)):
        specs = [_flatten(x, leaves) for x in obj]
        return (type(obj), None, specs)
    if isinstance(obj, dict):
        keys = list(obj)
        specs = [_flatten(obj[k], leaves) for k in keys]
        return (type(obj) if type(obj) is OrderedDict else dict, keys, specs)
    leaves.append(obj)
    return None


def _unflatten(spec, it):
    if spec is None:
        return next(it)
    kind, keys, specs = spec
    items = [_unflatten(s, it) for s in specs]
    if keys is not None:
        return kind(zip(keys, items))
    if kind is tuple or kind is list:
        return kind(items)
    if hasattr(kind, "_fields"):  # a namedtuple
        return kind(*items)
    return kind(items)


def _graph_leaves(outputs, skip_ids):
    """Leaf tensors requiring grad that ``outputs`` were computed from, except those whose id is in
    ``skip_ids`` (the detached stand-ins of the checkpoint's own tensor arguments)."""
    found, seen_leaves, seen_nodes, stack = [], set(skip_ids), set(), []
    for out in outputs:
        if out.grad_fn is not None:
            if out.grad_fn not in seen_nodes:
                seen_nodes.add(out.grad_fn)
                stack.append(out.grad_fn)
        elif out.requires_grad and id(out) not in seen_leaves:
            seen_leaves.add(id(out))
            found.append(out)
    while stack:
        node = stack.pop()
        for e in node.next_edges or ():
            if e is None:
                continue
            if e[0] is None:
                leaf = e[1]
                if id(leaf) not in seen_leaves:
                    seen_leaves.add(id(leaf))
                    found.append(leaf)
            elif e[0] not in seen_nodes:
                seen_nodes.add(e[0])
                stack.append(e[0])
    return found


class _StandIn(Function):
    """Identity whose node is cut from its input while the recomputed graph is differentiated (so that the
    nested grad stops at the checkpoint's inputs) and reconnected afterwards for double backward."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g


class _Run:
    """What a non-reentrant checkpoint needs in backward (the node keeps it; no activations in here)."""

    __slots__ = ("fn", "spec", "template", "tensor_pos", "rng_state", "recompute_ctx", "out_tensor_pos",
                 "out_meta", "check", "pending")


class _NonReentrantCheckpoint(Function):
    """Stands in for the dropped graph of ``fn``: inputs are ``fn``'s tensor arguments, then the leaves
    (parameters) ``fn`` read; outputs are ``fn``'s tensor outputs."""

    @staticmethod
    def forward(ctx, run, *tensors):
        outs, run.pending = run.pending, None
        ctx.run = run
        ctx.n_args = len(run.tensor_pos)
        ctx.save_for_backward(*tensors[:ctx.n_args])
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(*[o for o, diff in outs if not diff])
        return tuple(o for o, _ in outs)

    @staticmethod
    def backward(ctx, *grad_outputs):
        run = ctx.run
        originals = ctx.saved_tensors
        leaves = [e[1] for e in ctx.next_edges[1 + ctx.n_args:]]
        create_graph = _State.enabled
        cut = []
        try:
            with enable_grad():
                stand_ins = []
                for t in originals:
                    if t.requires_grad:
                        s = _StandIn.apply(t)
                        cut.append((s.grad_fn, s.grad_fn.next_edges))
                        s.grad_fn.next_edges = (None,)
                    else:
                        s = t.detach()
                    stand_ins.append(s)
                flat = list(run.template)
                for i, s in zip(run.tensor_pos, stand_ins):
                    flat[i] = s
                args, kwargs = _unflatten(run.spec, iter(flat))
                with _forked_rng(run.rng_state), run.recompute_ctx:
                    out = run.fn(*args, **kwargs)
            out_leaves = []
            _flatten(out, out_leaves)
            recomputed = [out_leaves[i] if i < len(out_leaves) else None for i in run.out_tensor_pos]
            if run.check:
                _check_same(run.out_meta, recomputed)
            roots, grads = [], []
            for o, g in zip(recomputed, grad_outputs):
                if g is not None and isinstance(o, Tensor) and o.requires_grad:
                    roots.append(o)
                    grads.append(g)
            targets = [s for s in stand_ins if s.requires_grad] + leaves
            if not roots or not targets:
                return (None,) * (1 + len(originals) + len(leaves))
            got = list(_grad(roots, targets, grads, retain_graph=True, create_graph=create_graph,
                             allow_unused=True))
        finally:
            for node, edges in cut:  # reconnect: a graph built for double backward reaches the real inputs
                node.next_edges = edges
        in_grads = [got.pop(0) if t.requires_grad else None for t in originals]
        return (None, *in_grads, *got)


def _check_same(saved, recomputed):
    bad = []
    for i, ((shape, dtype), t) in enumerate(zip(saved, recomputed)):
        now = (tuple(t.shape), t.dtype) if isinstance(t, Tensor) else None
        if now != (shape, dtype):
            got = "None" if now is None else f"{{'shape': {now[0]}, 'dtype': {now[1]}}}"
            bad.append(f"tensor at position {i}:\nsaved metadata: {{'shape': {shape}, 'dtype': {dtype}}}\n"
                       f"recomputed metadata: {got}\n")
    if bad:
        raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have different "
                              "metadata than during the forward pass.\n" + "".join(bad))


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, args, kwargs):
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    forward_ctx, recompute_ctx = context_fn()
    if not _State.enabled:  # nothing is recorded, so there is nothing to free: just run it
        with forward_ctx:
            return function(*args, **kwargs)
    run = _Run()
    run.fn = function
    run.rng_state = get_rng_state() if preserve_rng_state else None
    run.recompute_ctx = recompute_ctx
    run.check = determinism_check == "default"
    flat = []
    run.spec = _flatten((args, kwargs), flat)
    run.tensor_pos = [i for i, x in enumerate(flat) if isinstance(x, Tensor)]
    run.template = [None if isinstance(x, Tensor) else x for x in flat]
    originals = [flat[i] for i in run.tensor_pos]
    stand_ins = detach_variable(tuple(originals))
    for i, s in zip(run.tensor_pos, stand_ins):
        flat[i] = s
    call_args, call_kwargs = _unflatten(run.spec, iter(flat))
    del flat
    with forward_ctx:
        out = function(*call_args, **call_kwargs)
    del call_args, call_kwargs
    out_leaves = []
    out_spec = _flatten(out, out_leaves)
    del out
    run.out_tensor_pos = [i for i, x in enumerate(out_leaves) if isinstance(x, Tensor)]
    outs = [out_leaves[i] for i in run.out_tensor_pos]
    run.out_meta = [(tuple(o.shape), o.dtype) for o in outs]
    if not any(o.requires_grad for o in outs):
        return _unflatten(out_spec, iter(out_leaves))
    leaves = _graph_leaves(outs, {id(s) for s in stand_ins})
    del stand_ins
    run.pending = [(o.detach(), o.requires_grad) for o in outs]
    del outs
    results = _NonReentrantCheckpoint.apply(run, *originals, *leaves)
    for i, r in zip(run.out_tensor_pos, results):
        out_leaves[i] = r  # (drops the last references to the recorded graph)
    return _unflatten(out_spec, iter(out_leaves))


# ------------------------------------------------------------------------------------------------------ public API
def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its intermediate activations; they are recomputed in
    backward. Pass ``use_reentrant`` explicitly (torch warns otherwise and uses ``True``)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
                      "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default "
                      "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (an ``nn.Sequential`` or a list of callables) in ``segments`` chunks, checkpointing all
    but the last chunk."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
                      "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default "
                      "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if callable(getattr(functions, "children", None)):  # a module (nn.Sequential): its layers in order
        functions = list(functions.children())

    def run_chunk(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_chunk(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_chunk(end + 1, len(functions) - 1)(input)
