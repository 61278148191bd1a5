"""Derivatives of whole functions (``torch.autograd.functional``): vjp, jvp, jacobian, hessian, vhp, hvp.

All are built on ``autograd.grad``. Forward-mode products (jvp, hvp) use the double-backward trick: the
vector-Jacobian product ``u -> J^T u`` is linear in ``u``, so differentiating it with respect to ``u`` in the
direction ``v`` gives ``J v``. ``inputs`` and the function's outputs are a Tensor or a tuple of Tensors; results
follow the same nesting (a Jacobian is indexed ``[output][input]``). ``vectorize=True`` is accepted and computes
the same result row by row.
"""
from .._tensor import Tensor
from .engine import grad as _grad
from .grad_mode import _State, enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]

_OUTPUTS = "outputs of the user-provided function"


def _as_tensors(value, what, fn_name):
    """``(was_a_tuple, tuple_of_tensors)``; TypeError (torch's message) for anything else."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, x in enumerate(items):
        if not isinstance(x, Tensor):
            where = f"the value at index {i} has type {type(x)}" if is_tuple else f"the given {what} has type {type(x)}"
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors but {where}.")
    return is_tuple, items


def _unpack(result, was_tuple):
    """Undo the tuple wrapping: ``was_tuple`` is a bool, or (outputs_were_tuple, inputs_were_tuple) for Jacobians."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            result = tuple(row[0] for row in result)
        return result if outer else result[0]
    return result if was_tuple else result[0]


def _fresh(tensors, create_graph, need_graph):
    """Inputs to differentiate: with ``create_graph``, aliases that stay connected to the caller's graph;
    otherwise detached copies (requiring grad when ``need_graph``)."""
    out = []
    for t in tensors:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            d = t.detach()
            if need_graph:
                d.requires_grad_(True)
            out.append(d)
    return tuple(out)


def _finish(tensors, create_graph):
    if isinstance(tensors[0], Tensor):
        return tensors if create_graph else tuple(t.detach() for t in tensors)
    return tuple(_finish(t, create_graph) for t in tensors)


def _check_v(v, refs, refs_are_tuple):
    if len(v) != len(refs):
        if refs_are_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(refs)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, refs)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if refs_are_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {b.shape} but got {a.shape}.")


_NOT_DIFFERENTIABLE = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs must be computed "
               "in a differentiable manner from the input when running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the user-provided "
                   "function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function with respect to "
                "input {i} is independent of the input. This is not allowed in strict mode. You should ensure that "
                "your function is twice differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent of the input. "
               "This is not allowed in strict mode. You should ensure that your function is thrice differentiable "
               "and that the hessian depends on the inputs.",
}


def _strict_requires_grad(tensors, kind, strict):
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_NOT_DIFFERENTIABLE[kind].format(i=i))


def _grads(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` over the outputs that require grad; None for every input when none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when using "
                  "the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                   "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. "
                         "This is not allowed in strict mode as it prevents from using the double backward trick to "
                         "replace forward mode AD.",
}


def _zeros_for_missing(grads, refs, strict, create_graph, stage):
    """Missing gradients are zeros (the true value), or errors in strict mode."""
    from ..ops import zeros_like

    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        out.append(g)
    return tuple(out)


def _prepare_v(v, refs, refs_are_tuple, fn_name, create_graph, none_message):
    if v is not None:
        _, v = _as_tensors(v, "v", fn_name)
        v = _fresh(v, create_graph, need_graph=False)
        _check_v(v, refs, refs_are_tuple)
        return v
    if len(refs) != 1 or refs[0].numel() != 1:
        raise RuntimeError(none_message)
    return None


def _single_scalar_output(outputs, outs_are_tuple, fn_name):
    if outs_are_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")


_V_FOR_INPUT = ("The vector v can only be None if the input to the user-provided function is a single Tensor with a "
                "single element.")


# ------------------------------------------------------------------------------------------------------- products
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product, shaped like ``inputs``."""
    with enable_grad():
        inputs_are_tuple, inputs = _as_tensors(inputs, "inputs", "vjp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        outs_are_tuple, outputs = _as_tensors(func(*inputs), _OUTPUTS, "vjp")
        _strict_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, outs_are_tuple, "vjp", create_graph,
                       "The vector v can only be None if the user-provided function returns a single Tensor with a "
                       "single element.")
    with set_grad_enabled(True if create_graph else _State.enabled):
        result = _zeros_for_missing(_grads(outputs, inputs, v, create_graph), inputs, strict, create_graph, "back")
    return (_unpack(_finish(outputs, create_graph), outs_are_tuple),
            _unpack(_finish(result, create_graph), inputs_are_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, shaped like the outputs."""
    from ..ops import zeros_like

    with enable_grad():
        inputs_are_tuple, inputs = _as_tensors(inputs, "inputs", "jvp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_are_tuple, "jvp", create_graph, _V_FOR_INPUT)
        outs_are_tuple, outputs = _as_tensors(func(*inputs), _OUTPUTS, "jvp")
        _strict_requires_grad(outputs, "outputs", strict)
        u = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        vjp_u = _grads(outputs, inputs, u, create_graph=True)  # J^T u, linear in u
        _strict_requires_grad(vjp_u, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else _State.enabled):
        result = _zeros_for_missing(_grads(vjp_u, u, v, create_graph), outputs, strict, create_graph, "back_trick")
    return (_unpack(_finish(outputs, create_graph), outs_are_tuple),
            _unpack(_finish(result, create_graph), outs_are_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar function."""
    with enable_grad():
        inputs_are_tuple, inputs = _as_tensors(inputs, "inputs", "vhp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_are_tuple, "vhp", create_graph, _V_FOR_INPUT)
        outs_are_tuple, outputs = _as_tensors(func(*inputs), _OUTPUTS, "vhp")
        _strict_requires_grad(outputs, "outputs", strict)
        _single_scalar_output(outputs, outs_are_tuple, "vhp")
        gradient = _grads(outputs, inputs, create_graph=True)
        _strict_requires_grad(gradient, "jacobian", strict)
    with set_grad_enabled(True if create_graph else _State.enabled):
        result = _zeros_for_missing(_grads(gradient, inputs, v, create_graph), inputs, strict, create_graph,
                                    "double_back")
    return (_unpack(_finish(outputs, create_graph), outs_are_tuple),
            _unpack(_finish(result, create_graph), inputs_are_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar function (double-backward trick over ``v^T H``)."""
    from ..ops import zeros_like

    with enable_grad():
        inputs_are_tuple, inputs = _as_tensors(inputs, "inputs", "hvp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_are_tuple, "hvp", create_graph, _V_FOR_INPUT)
        outs_are_tuple, outputs = _as_tensors(func(*inputs), _OUTPUTS, "hvp")
        _strict_requires_grad(outputs, "outputs", strict)
        _single_scalar_output(outputs, outs_are_tuple, "hvp")
        gradient = _grads(outputs, inputs, create_graph=True)
        _strict_requires_grad(gradient, "jacobian", strict)
        u = tuple(zeros_like(x, requires_grad=True) for x in inputs)
        uh = _grads(gradient, inputs, u, create_graph=True)  # u^T H, linear in u
        _strict_requires_grad(gradient, "hessian", strict)
    with set_grad_enabled(True if create_graph else _State.enabled):
        result = _zeros_for_missing(_grads(uh, u, v, create_graph), inputs, strict, create_graph,
                                    "double_back_trick")
    return (_unpack(_finish(outputs, create_graph), outs_are_tuple),
            _unpack(_finish(result, create_graph), inputs_are_tuple))


# ------------------------------------------------------------------------------------------------------ matrices
def _check_strategy(strategy, create_graph, strict, vectorize):
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and `strategy='
                                      '"forward-mode"` are not supported together (yet). Please either set '
                                      '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are '
                               'not supported together (yet). Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output ``i`` and input ``j``, a tensor of shape
    ``outputs[i].shape + inputs[j].shape``. One backward pass per output element."""
    from ..ops import stack, zeros_like

    _check_strategy(strategy, create_graph, strict, vectorize)
    with enable_grad():
        inputs_are_tuple, inputs = _as_tensors(inputs, "inputs", "jacobian")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        outs_are_tuple, outputs = _as_tensors(func(*inputs), _OUTPUTS, "jacobian")
        _strict_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        result = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]  # rows[j][k]: d out.flat[k] / d inputs[j]
            flat = out.reshape(-1)
            for k in range(out.numel()):
                row = _grads((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
                for j, g in enumerate(row):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{j}. This is not allowed in strict mode.")
                        g = zeros_like(inputs[j])
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                           "This is not allowed in strict mode when create_graph=True.")
                    rows[j].append(g)
            result.append(tuple(_stack_rows(stack, r, out, x) for r, x in zip(rows, inputs)))
        return _unpack(_finish(tuple(result), create_graph), (outs_are_tuple, inputs_are_tuple))


def _stack_rows(stack, rows, out, x):
    if not rows:  # an empty output: an empty Jacobian block
        from ..ops import zeros

        return zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
    return stack(rows, 0).view(tuple(out.shape) + tuple(x.shape))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: the Jacobian of its gradient (``[input_i][input_j]`` for tuple inputs)."""
    inputs_are_tuple, inputs = _as_tensors(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*xs):
        out = func(*xs)
        out_is_tuple, outs = _as_tensors(out, _OUTPUTS, "hessian")
        _strict_requires_grad(outs, "outputs", strict)
        _single_scalar_output(outs, out_is_tuple, "hessian")
        return out.squeeze()

    def gradient(*xs):
        if outer_jacobian_strategy == "forward-mode":
            xs = tuple(x.requires_grad_(True) for x in xs)
        g = jacobian(scalar_func, xs, create_graph=True)
        _strict_requires_grad(g, "jacobian", strict)
        return g

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return _unpack(result, (inputs_are_tuple, inputs_are_tuple))
