"""Training checkpoints: model/optimizer/scheduler state dicts, counters and every RNG state, in one file.

The file is an ordinary ``ember.save`` file (safetensors), written atomically, so a crash while saving leaves
the previous checkpoint intact. ``load_checkpoint`` restores ember's global generator, NumPy's legacy global
RNG and Python's ``random`` module, so training resumed from a checkpoint draws the same numbers it would
have drawn without the interruption.
"""
import random

import numpy as np

from .serialization import load, save

__all__ = ["save_checkpoint", "load_checkpoint", "get_rng_states", "set_rng_states"]

CHECKPOINT_VERSION = 1


def get_rng_states() -> dict:
    """The states of ember's global generator, NumPy's global RNG and Python's ``random``."""
    from ..random import get_rng_state

    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return {
        "ember": get_rng_state(),
        "numpy": {"bit_generator": name, "keys": np.asarray(keys, dtype=np.uint32).astype(np.int64), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": random.getstate(),
    }


def set_rng_states(states: dict) -> None:
    """Restore what ``get_rng_states`` returned."""
    from ..random import set_rng_state

    if "ember" in states:
        set_rng_state(states["ember"])
    if "numpy" in states:
        s = states["numpy"]
        np.random.set_state((s["bit_generator"], np.asarray(s["keys"]).astype(np.uint32), s["pos"], s["has_gauss"],
                             s["cached_gaussian"]))
    if "python" in states:
        version, internal, gauss = states["python"]
        random.setstate((version, tuple(internal), gauss))


def save_checkpoint(path, *, model_state, optimizer_state=None, scheduler_state=None, epoch, step, extra=None,
                    save_rng=True) -> None:
    """Write a training checkpoint to ``path`` atomically.

    ``model_state`` / ``optimizer_state`` / ``scheduler_state`` are state dicts (``model.state_dict()`` ...),
    ``extra`` any further ember-serialisable data (metrics, config). RNG states are included unless
    ``save_rng=False``.
    """
    ckpt = {
        "ember_checkpoint": CHECKPOINT_VERSION,
        "model_state": model_state,
        "optimizer_state": optimizer_state,
        "scheduler_state": scheduler_state,
        "epoch": int(epoch),
        "step": int(step),
        "extra": {} if extra is None else extra,
        "rng_states": get_rng_states() if save_rng else None,
    }
    save(ckpt, path)


def load_checkpoint(path, *, model=None, optimizer=None, scheduler=None, restore_rng=True) -> dict:
    """Read a checkpoint written by ``save_checkpoint`` and restore the RNG states (unless ``restore_rng=False``).

    Returns a dict with ``model_state``, ``optimizer_state``, ``scheduler_state``, ``epoch``, ``step``,
    ``extra`` and ``rng_states``. Objects passed as ``model`` / ``optimizer`` / ``scheduler`` get their
    ``load_state_dict`` called with the matching state.
    """
    ckpt = load(path)
    if not isinstance(ckpt, dict) or "ember_checkpoint" not in ckpt:
        raise ValueError(f"{path!r} is an ember.save file but not a checkpoint written by save_checkpoint")
    if ckpt["ember_checkpoint"] != CHECKPOINT_VERSION:
        raise ValueError(f"{path!r}: unsupported checkpoint version {ckpt['ember_checkpoint']!r}")
    for obj, key in ((model, "model_state"), (optimizer, "optimizer_state"), (scheduler, "scheduler_state")):
        if obj is not None:
            if ckpt[key] is None:
                raise ValueError(f"{path!r} holds no {key} to load into {type(obj).__name__}")
            obj.load_state_dict(ckpt[key])
    if restore_rng and ckpt.get("rng_states") is not None:
        set_rng_states(ckpt["rng_states"])
    return ckpt
