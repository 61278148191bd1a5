"""``torch.amp``: autocast and GradScaler.

``GradScaler`` is torch's algorithm in full: the loss is multiplied by a scale, ``unscale_`` divides the
gradients by it and records whether any is inf/NaN, ``step`` skips the optimizer step when one was, and
``update`` backs the scale off after such a step or grows it after ``growth_interval`` clean ones. It works on
any float dtype (scaling is harmless in float32, and it catches overflowing gradients all the same).

``autocast`` is accepted as a context manager and decorator, but ember has no reduced-precision kernels (NumPy
has no bfloat16, and its float16 matmul does not use BLAS), so it runs every op in its own dtype: enabled for
``"cuda"`` it disables itself with torch's own warning (CUDA is not available), enabled for ``"cpu"`` with a
one-time warning saying that precision is not lowered.
"""
import functools
import warnings

__all__ = ["GradScaler", "autocast", "custom_fwd", "custom_bwd", "is_autocast_available"]

_READY, _UNSCALED, _STEPPED = 0, 1, 2
_cpu_warned = False


def is_autocast_available(device_type) -> bool:
    return device_type == "cpu"


class autocast:  # noqa: N801 - torch's name
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: see the module docstring."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in ("cpu", "cuda", "xpu", "mps", "hpu", "xla", "mtia", "meta"):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device, self.fast_dtype, self._cache_enabled = device_type, dtype, cache_enabled
        self._enabled = False  # ember never lowers precision
        if enabled and device_type != "cpu":
            warnings.warn(f"{device_type.upper()} is not available or torch_xla is imported. Disabling autocast.",
                          UserWarning, stacklevel=2)
        elif enabled:
            global _cpu_warned
            if not _cpu_warned:
                _cpu_warned = True
                warnings.warn("ember: autocast('cpu') does not lower precision (no bfloat16/float16 kernels on "
                              "NumPy); ops run in their own dtype", UserWarning, stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


def is_autocast_enabled(device_type=None) -> bool:
    """Always False: ember's autocast never changes an op's dtype."""
    return False


def custom_fwd(fwd=None, *, device_type="cpu", cast_inputs=None):
    """torch.amp.custom_fwd: with autocast never active, the forward runs as written."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type="cpu"):
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


class GradScaler:
    """``torch.amp.GradScaler(device="cuda", init_scale=2**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``; see the module docstring. For ``device="cuda"`` it disables itself
    with torch's warning, as torch does on a machine without CUDA (then every method passes through)."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if enabled and device == "cuda":
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale, self._growth_factor, self._backoff_factor = init_scale, growth_factor, backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._scale = None  # a float32 0-d tensor, made at the first scale()
        self._growth_tracker = 0
        self._per_optimizer = {}  # id(optimizer) -> {"stage", "found_inf"}

    # ---- scaling ---------------------------------------------------------------------------------------------
    def _lazy_init(self):
        from .. import float32, tensor

        self._scale = tensor(self._init_scale, dtype=float32)
        self._growth_tracker = self._init_growth_tracker

    def scale(self, outputs):
        """``outputs`` (a tensor or nested lists/tuples of them) multiplied by the current scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._lazy_init()
        from .._tensor import Tensor

        def apply(v):
            if isinstance(v, Tensor):
                return v * self._scale.to(v.dtype)
            if isinstance(v, (list, tuple)):
                out = [apply(x) for x in v]
                return tuple(out) if isinstance(v, tuple) else out
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": False})

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale, in place, and record whether any is inf or NaN."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        if self._scale is None:
            raise AssertionError("Attempted unscale_ but _scale is None.  This may indicate your script did not "
                                 "use scaler.scale(loss or outputs) earlier in the iteration.")
        from .. import float16, isfinite, no_grad

        inv_scale = self._scale.double().reciprocal().float()
        found = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad
                    if g.dtype is float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    g.mul_(inv_scale.to(g.dtype))
                    if not found and not bool(isfinite(g).all()):
                        found = True
        state["found_inf"] = found
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` on unscaled gradients, skipped (returning None) if any was inf or
        NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None):
        """Back the scale off if an inf/NaN gradient was found since the last update, else count a clean step
        and grow it every ``growth_interval`` of them; or set it to ``new_scale``."""
        if not self._enabled:
            return
        from .. import float32, isfinite, tensor
        from .._tensor import Tensor

        if self._scale is None:
            raise AssertionError("Attempted update but _scale is None.  This may indicate your script did not use "
                                 "scaler.scale(loss or outputs) earlier in the iteration.")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.dtype is not float32 or new_scale.requires_grad:
                    raise AssertionError("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                                         "torch.FloatTensor with requires_grad=False.")
                self._scale.copy_(new_scale.reshape(()))
            else:
                self._scale.fill_(new_scale)
        else:
            recorded = [s for s in self._per_optimizer.values() if s["stage"] != _READY]
            if not recorded:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(s["found_inf"] for s in recorded):
                self._scale.mul_(tensor(self._backoff_factor, dtype=float32))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = self._scale * tensor(self._growth_factor, dtype=float32)
                    if bool(isfinite(grown)):  # (torch keeps the old scale rather than overflow to inf)
                        self._scale.copy_(grown)
                    self._growth_tracker = 0
        self._per_optimizer = {}

    # ---- accessors ---------------------------------------------------------------------------------------------
    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        from .. import float32, tensor

        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        else:
            self._scale = tensor(state_dict["scale"], dtype=float32)
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = self._growth_tracker = state_dict["_growth_tracker"]
