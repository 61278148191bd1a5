"""Hook handles (torch.utils.hooks.RemovableHandle) and module backward hooks."""
import itertools
import weakref

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Returned by ``register_*_hook``; ``remove()`` unregisters the hook (also from ``extra_dict`` tables)."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._next_id)
        if extra_dict is None:
            extra_dict = []
        elif isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]
        for ref in self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _tensors_in(value):
    """Positions and tensors of a (tuple of) outputs: only top-level tensors are hooked, as in torch."""
    from ..._tensor import Tensor

    if isinstance(value, Tensor):
        return [value], False
    if isinstance(value, tuple):
        return list(value), True
    return None, False


class BackwardHook:
    """Runs a module's full backward (pre-)hooks: identity Functions wrap the module's tensor inputs and
    outputs, so the gradients flowing through them are seen (and may be replaced) by the hooks."""

    def __init__(self, module, backward_hooks, backward_pre_hooks):
        self.module = module
        self.backward_hooks = backward_hooks
        self.backward_pre_hooks = backward_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_requires_grad = False

    def setup_input_hook(self, args):
        from ..._tensor import Tensor
        from ...autograd.grad_mode import is_grad_enabled

        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(idx)
        if not is_grad_enabled() or not any(args[i].requires_grad for i in idx):
            return args
        self.input_requires_grad = True
        wrapped = _InputIdentity.apply(self, *[args[i] for i in idx])
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        out = list(args)
        for i, w in zip(idx, wrapped):
            out[i] = w
        return tuple(out)

    def setup_output_hook(self, result):
        from ...autograd.grad_mode import is_grad_enabled

        tensors, is_tuple = _tensors_in(result)
        if tensors is None or not is_grad_enabled():
            return result
        from ..._tensor import Tensor

        idx = [i for i, t in enumerate(tensors) if isinstance(t, Tensor) and t.requires_grad]
        if not idx:
            return result
        self.n_outputs = len(tensors)
        self.output_index = idx
        wrapped = _OutputIdentity.apply(self, *[tensors[i] for i in idx])
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        for i, w in zip(idx, wrapped):
            tensors[i] = w
        return tuple(tensors) if is_tuple else tensors[0]

    def on_grad_outputs(self, grads):
        full = [None] * self.n_outputs
        for i, g in zip(self.output_index, grads):
            full[i] = g
        full = tuple(full)
        for hook in self.backward_pre_hooks:
            r = hook(self.module, full)
            if r is not None:
                full = tuple(r) if isinstance(r, (tuple, list)) else (r,)
        self.grad_outputs = full
        if not self.input_requires_grad:
            self._call_hooks((None,) * self.n_inputs)
        return tuple(full[i] for i in self.output_index)

    def _call_hooks(self, grad_inputs):
        for hook in self.backward_hooks:
            r = hook(self.module, grad_inputs, self.grad_outputs)
            if r is not None:
                grad_inputs = tuple(r) if isinstance(r, (tuple, list)) else (r,)
        return grad_inputs

    def on_grad_inputs(self, grads):
        if not self.backward_hooks:
            return grads
        return tuple(self._call_hooks(tuple(grads)))


def _make_identity(name, callback):
    from ...autograd.function import Function

    def forward(ctx, hook, *tensors):
        ctx.hook = hook
        outs = tuple(t.detach() for t in tensors)
        return outs if len(outs) > 1 else outs[0]

    def backward(ctx, *grads):
        return (None,) + tuple(getattr(ctx.hook, callback)(grads))

    return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


_InputIdentity = _make_identity("BackwardHookFunction", "on_grad_inputs")
_OutputIdentity = _make_identity("BackwardHookFunction", "on_grad_outputs")
