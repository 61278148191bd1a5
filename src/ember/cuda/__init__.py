"""``torch.cuda`` on a CPU-only framework: the queries scripts make before choosing a device answer as a CPU-only
torch build does (``is_available()`` False, ``device_count()`` 0, seeding and cache calls do nothing), and the
calls that need a GPU raise torch's ``AssertionError: Torch not compiled with CUDA enabled``.

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")   # runs unchanged: cpu
"""
from . import amp

__all__ = ["amp", "is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "empty_cache", "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "reset_peak_memory_stats", "is_bf16_supported", "synchronize", "current_device",
           "set_device", "get_device_name", "get_device_properties", "get_device_capability", "device"]

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation=True) -> bool:
    return False


def manual_seed(seed) -> None:
    """Nothing to seed (torch, too, ignores it silently without CUDA); ``ember.manual_seed`` seeds the CPU."""


manual_seed_all = manual_seed


def seed() -> None:
    pass


seed_all = seed


def empty_cache() -> None:
    pass


def memory_allocated(device=None) -> int:
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def reset_peak_memory_stats(device=None) -> None:
    pass


def _unavailable(*args, **kwargs):
    raise AssertionError(_NOT_COMPILED)


synchronize = current_device = set_device = get_device_name = get_device_properties = _unavailable
get_device_capability = device = _unavailable
