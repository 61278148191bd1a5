"""Anomaly mode: nodes record the user's source lines, and a NaN/inf gradient names the op that made it."""
from .function import _Anomaly

__all__ = ["set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled"]


def is_anomaly_enabled() -> bool:
    return _Anomaly.enabled


class set_detect_anomaly:
    """Switch anomaly detection on or off (immediately, and as a context manager)."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (_Anomaly.enabled, _Anomaly.check_nan)
        _Anomaly.enabled = bool(mode)
        _Anomaly.check_nan = check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _Anomaly.enabled, _Anomaly.check_nan = self.prev
        return False


class detect_anomaly:
    """Context manager / decorator turning anomaly detection on."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = (_Anomaly.enabled, _Anomaly.check_nan)
        _Anomaly.enabled, _Anomaly.check_nan = True, self.check_nan
        return self

    def __exit__(self, *exc):
        _Anomaly.enabled, _Anomaly.check_nan = self.prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly(self.check_nan):
                return fn(*a, **k)

        return wrapper
