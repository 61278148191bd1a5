"""Session state of ember.keras: automatic layer names, the float type, and the ``training`` flag that an outer
call hands down to the layers it calls (as Keras's call context does)."""
import re
from contextlib import contextmanager

import numpy as np

__all__ = ["clear_session", "floatx", "epsilon", "unique_name", "to_snake_case", "learning_phase"]

_name_counts = {}
_state = {"training": None}
EPSILON = 1e-7


def floatx() -> str:
    return "float32"


def epsilon() -> float:
    """The fuzz factor Keras adds to avoid division by zero and log(0) (1e-7)."""
    return EPSILON


def clear_session() -> None:
    """Reset automatic names (the next Dense is ``dense`` again)."""
    _name_counts.clear()


def to_snake_case(name: str) -> str:
    """``BatchNormalization`` -> ``batch_normalization``, ``SimpleRNN`` -> ``simple_rnn``, ``Conv2D`` -> ``conv2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """``base`` the first time, then ``base_1``, ``base_2`` ... (per session)."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def learning_phase() -> bool:
    """True inside a training call (``model(x, training=True)``, ``fit``), else False."""
    return bool(_state["training"])


@contextmanager
def training_scope(training):
    """Set the training flag for the layers called inside (None keeps the outer value)."""
    previous = _state["training"]
    if training is not None:
        _state["training"] = bool(training)
    try:
        yield _state["training"]
    finally:
        _state["training"] = previous


def standardize_dtype(dtype) -> str:
    if dtype is None:
        return floatx()
    if hasattr(dtype, "np"):  # an ember dtype
        return np.dtype(dtype.np).name
    return np.dtype(dtype).name
