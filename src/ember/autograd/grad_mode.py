"""Gradient recording switches: no_grad, enable_grad, set_grad_enabled, inference_mode."""
import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State:
    """Process-wide flag read by every op (a class attribute: one lookup, no function call)."""

    enabled = True
    inference = False


def is_grad_enabled() -> bool:
    return _State.enabled


def is_inference_mode_enabled() -> bool:
    return _State.inference


class _GradModeContext:
    """Base for the context managers; each also works as a decorator."""

    _target = True

    def __enter__(self):
        self._prev = _State.enabled
        _State.enabled = self._target
        return self

    def __exit__(self, *exc):
        _State.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_GradModeContext):
    """Ops inside do not record a graph."""

    _target = False

    def __init__(self, orig_func=None):
        pass


class enable_grad(_GradModeContext):
    """Ops inside record a graph, even within no_grad."""

    _target = True

    def __init__(self, orig_func=None):
        pass


class set_grad_enabled(_GradModeContext):
    """Switch recording on or off; takes effect at once (like torch) and also works as a context manager."""

    def __init__(self, mode: bool):
        self._prev = _State.enabled
        self._target = bool(mode)
        _State.enabled = self._target

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _State.enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self._target
        _State.enabled = self._prev

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return set_grad_enabled(self._target)


class inference_mode(_GradModeContext):
    """Like no_grad (ember has no separate inference tensors); ``inference_mode(False)`` is a no-op."""

    def __init__(self, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            mode = True
        self.mode = bool(mode)
        self._target = not self.mode

    def __enter__(self):
        self._prev = _State.enabled
        self._prev_inf = _State.inference
        if self.mode:
            _State.enabled = False
            _State.inference = True
        return self

    def __exit__(self, *exc):
        _State.enabled = self._prev
        _State.inference = self._prev_inf
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper
