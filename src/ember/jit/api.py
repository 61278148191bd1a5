"""``ember.compile``: trace a function (a whole training step, or a model's forward) into a static graph,
optimise it, and run it as generated NumPy code.

    step = ember.compile(train_step)
    loss = step(x, y)          # first call: runs eagerly while tracing, then compiles
    print(step.graph)          # the optimised IR
    print(step.source)         # the generated Python

Guards: a new trace is made when tensor argument shapes/dtypes/requires_grad, non-tensor arguments, the grad
mode, any traced module's ``training`` flag, a state tensor's ``requires_grad`` (a frozen parameter), or
whether a traced parameter's ``.grad`` is None when the call begins (assign vs accumulate; not checked for
parameters the step's own ``zero_grad()`` empties first) change, or when any module re-binds a parameter,
buffer or submodule (``model.fc.weight = nn.Parameter(...)``, ``model[0] = nn.Linear(...)``: the graph holds
the objects it traced; in-place updates such as ``load_state_dict`` need no re-trace).
A function traced on ``RETRACE_LIMIT`` (8) calls in a row (a guard failing at every call) runs eagerly from
then on, with one warning.
If the function reads a tensor's value in Python while tracing (``item()``, ``bool()``, ``tolist()``,
``numpy()``: data-dependent control flow), it cannot be a static graph: ember warns once, naming the read
and the source line, and runs that function eagerly from then on.
``check_trace=True`` (or the environment variable ``EMBER_COMPILE_CHECK=1``) traces the first two calls of
each guard signature and raises ``TracingCheckError`` if the graphs differ (check.py): a value computed from
tensor data outside ember's ops, frozen into the first trace, or control flow the guards do not see.

Compiled calls return tensors without autograd history (the backward pass, if any, is inside the graph).
"""
import os
import warnings

from .._tensor import Tensor, _Storage
from ..autograd.function import _Hooks
from ..autograd.grad_mode import _State
from .check import TracingCheckError, compare_graphs
from .codegen import generate
from .passes import DEFAULT_PASSES, REDUCE_OVERHEAD_PASSES, run_passes
from .trace import trace

__all__ = ["compile", "CompiledFunction", "TracingCheckError"]

# Consecutive calls that each needed a new trace before the function falls back to eager mode (torch.compile
# gives up after 8 recompilations of one frame in the same way).
RETRACE_LIMIT = 8


class _Entry:
    """One compiled trace and the guards it holds under; ``runner`` is None while it waits for its check trace
    (``check_trace=True``), and ``graph`` is then the unoptimised trace to compare with."""

    __slots__ = ("graph", "source", "runner", "modules", "leaves", "n_inputs", "state", "structure", "layouts",
                 "rebinds")

    def guards_hold(self):
        if _Hooks.structure_version != self.structure:
            return False
        if _Storage.rebinds != self.rebinds:  # some tensor got a new array: the state must keep its shapes
            for t, shape, dtype in self.layouts:
                if t._data.shape != shape or t._data.dtype != dtype:
                    return False
            self.rebinds = _Storage.rebinds
        for m, flag in self.modules:
            if m.training is not flag:
                return False
        for leaf, was_none in self.leaves:
            if (leaf.grad is None) is not was_none:
                return False
        for t, flag in self.state:
            if t.requires_grad is not flag:
                return False
        return True


class CompiledFunction:
    """A function compiled on first call; see the module docstring."""

    def __init__(self, fn, passes=DEFAULT_PASSES, fallback="warn", check_trace=None):
        self.fn = fn
        self.passes = tuple(passes)
        self.fallback = fallback
        if check_trace is None:
            check_trace = os.environ.get("EMBER_COMPILE_CHECK", "") not in ("", "0")
        self.check_trace = bool(check_trace)
        self._cache = {}
        self._last = None
        self._eager = False
        self.n_traces = 0
        self._traces_in_a_row = 0
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", "compiled")
        self.__doc__ = getattr(fn, "__doc__", None)

    @property
    def graph(self):
        return self._require_last().graph

    @property
    def source(self):
        return self._require_last().source

    def _require_last(self):
        if self._last is None:
            raise RuntimeError("ember.compile: nothing compiled yet; call the function once first")
        return self._last

    def _key(self, args, kwargs):
        parts = [_State.enabled]
        for a in args:
            if isinstance(a, Tensor):
                d = a._data
                parts.append((d.shape, d.dtype, a.requires_grad))
            else:
                parts.append(_hashable(a))
        for k in sorted(kwargs):
            v = kwargs[k]
            parts.append((k, (v._data.shape, v._data.dtype, v.requires_grad) if isinstance(v, Tensor)
                          else _hashable(v)))
        return tuple(parts)

    def __call__(self, *args, **kwargs):
        if self._eager:
            return self.fn(*args, **kwargs)
        key = self._key(args, kwargs)
        entry = self._cache.get(key)
        if entry is not None and entry.guards_hold():
            if entry.runner is not None:
                self._last = entry
                self._traces_in_a_row = 0
                return entry.runner(*[a._data for a in args if isinstance(a, Tensor)])
            return self._trace(key, args, kwargs, check_against=entry.graph)
        if any(isinstance(v, Tensor) for v in kwargs.values()):
            raise TypeError("ember.compile: pass tensors positionally (keyword tensor arguments are not traced)")
        return self._trace(key, args, kwargs)

    def _trace(self, key, args, kwargs, check_against=None):
        result, tracer = trace(self.fn, args, kwargs)
        self.n_traces += 1
        self._traces_in_a_row += 1
        if self._traces_in_a_row >= RETRACE_LIMIT:  # something changes at every call: tracing would cost more
            self._eager = True
            what = (f"{self.__name__} was traced on {self._traces_in_a_row} calls in a row (a guard fails at "
                    "every call: new input shapes, a training flag, .grad emptiness, a frozen parameter or a "
                    "module re-binding a parameter or buffer each time)")
            if self.fallback == "error":
                raise RuntimeError(f"ember.compile: {what}")
            if self.fallback == "warn":
                warnings.warn(f"ember.compile: {what}; running it eagerly from now on", RuntimeWarning,
                              stacklevel=3)
            return result
        if tracer.breaks:
            what, site = tracer.breaks[0]
            self._eager = True
            if self.fallback == "error":
                raise RuntimeError(f"ember.compile: {what} during tracing at {site}; data-dependent Python "
                                   "control flow cannot be compiled into a static graph")
            if self.fallback == "quiet":
                return result
            warnings.warn(f"ember.compile: {what} during tracing at {site}; running {self.__name__} eagerly "
                          "from now on", RuntimeWarning, stacklevel=3)
            return result
        if tracer.repointed:  # this call changed the state's layout: trace again next time, from the new one
            return result
        entry = _Entry()
        if self.check_trace and check_against is None:  # compile after the next call's trace agrees
            entry.graph, entry.source, entry.runner = tracer.graph, None, None
        else:
            if check_against is not None:
                difference = compare_graphs(check_against, tracer.graph)
                if difference is not None:
                    self._eager = True
                    raise TracingCheckError(f"ember.compile(check_trace=True): two calls of {self.__name__} with "
                                            f"the same input signature traced different graphs: {difference}")
            graph = run_passes(tracer.graph, self.passes)
            source, env, runner = generate(graph, _identifier(self.__name__))
            entry.graph, entry.source, entry.runner = graph, source, runner
        entry.modules = [(m, m.training) for m in tracer.modules.values()]
        # whether .grad was None when the call began decides assign vs accumulate, unless the step itself
        # empties .grad (zero_grad) before its backward
        entry.leaves = [(leaf, tracer.grad_none_at_start.get(id(leaf), True)) for leaf in tracer.leaves.values()
                        if id(leaf) not in tracer.cleared]
        entry.state = [(v.ref, v.ref.requires_grad) for v in entry.graph.state
                       if hasattr(v.ref, "requires_grad")]
        entry.layouts = [(t, t._data.shape, t._data.dtype) for t, _ in entry.state]
        entry.rebinds = _Storage.rebinds
        entry.structure = _Hooks.structure_version
        self._cache[key] = entry
        if entry.runner is not None:
            self._last = entry
        return result


class CompiledModule:
    """``ember.compile(model)``: the module's forward compiled; attributes pass through to the module.

    Calls that must record an autograd graph (grad mode on, and a parameter or an input requires grad: the
    training loop of a script that did ``model = torch.compile(model)``) run the module eagerly, as the compiled
    forward has no backward of its own; compile the whole training step (``ember.compile(train_step)``) to
    compile training."""

    def __init__(self, module, **options):
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_forward", CompiledFunction(module.__call__, **options))

    def __call__(self, *args, **kwargs):
        if _State.enabled and _needs_graph(self._module, args, kwargs):
            return self._module(*args, **kwargs)
        return self._forward(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._module, name)

    def __setattr__(self, name, value):
        setattr(self._module, name, value)

    @property
    def graph(self):
        return self._forward.graph

    @property
    def source(self):
        return self._forward.source

    def __repr__(self):
        return f"Compiled({self._module!r})"


def _needs_graph(module, args, kwargs):
    """Whether calling ``module`` in grad mode records an autograd graph."""
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return any(p.requires_grad for p in module.parameters())


# torch.compile's modes; the ones that ask for less overhead per call add the native pass (passes/native.py)
MODES = {"default": None, "reduce-overhead": REDUCE_OVERHEAD_PASSES, "max-autotune": REDUCE_OVERHEAD_PASSES,
          "max-autotune-no-cudagraphs": REDUCE_OVERHEAD_PASSES}


def compile(fn=None, *, passes=None, mode=None, fallback="warn", check_trace=None, **torch_options):  # noqa: A001
    """Compile a function or a module.

    ``mode``: None or ``"default"`` gives results bitwise equal to eager mode (``DEFAULT_PASSES``);
    ``"reduce-overhead"`` (also ``"max-autotune"``) runs the ops of small arrays as native kernels when numba is
    installed: several times faster on tiny models, within float32 rounding of eager mode. ``passes`` names the
    graph passes explicitly (for debugging: ``passes=()``) and overrides ``mode``. ``fallback='error'``
    raises instead of running eagerly on a graph break, ``'quiet'`` falls back without the warning.
    ``check_trace=True`` (default: the environment variable ``EMBER_COMPILE_CHECK``) compiles only after the
    second call of a signature traced the same graph as the first, else raises ``TracingCheckError``.
    torch.compile's other options (fullgraph, dynamic, backend) are accepted; ``fullgraph=True`` means
    ``fallback='error'``."""
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if passes is None:
        passes = MODES.get(mode) or DEFAULT_PASSES
    if fn is None:
        return lambda f: compile(f, passes=passes, fallback=fallback, check_trace=check_trace, **torch_options)
    if torch_options.get("fullgraph"):
        fallback = "error"
    if hasattr(fn, "forward") and hasattr(fn, "parameters") and callable(fn):
        return CompiledModule(fn, passes=passes, fallback=fallback, check_trace=check_trace)
    if not callable(fn):
        raise TypeError(f"ember.compile expects a function or a module, got {type(fn).__name__}")
    return CompiledFunction(fn, passes=passes, fallback=fallback, check_trace=check_trace)


def _hashable(v):
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


def _identifier(name):
    s = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return s if s and not s[0].isdigit() else "fn_" + s
