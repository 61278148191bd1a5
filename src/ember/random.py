"""Random number generation: ``Generator`` objects and the global default generator.

ember's streams are reproducible under ``manual_seed`` but are not torch's streams (tests compare
distributions, not draws). Generator state is a uint8 tensor, so it can be stored in a checkpoint.
"""
import json

import numpy as np

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "default_generator"]


class Generator:
    """A source of random numbers (``torch.Generator``), backed by NumPy's PCG64."""

    __slots__ = ("_rng", "_seed", "device")

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(67280421310721)  # torch's default seed

    def manual_seed(self, seed) -> "Generator":
        seed = int(seed)
        if seed < 0:
            seed = seed & 0xFFFFFFFFFFFFFFFF
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        from ._tensor import tensor

        state = self._rng.bit_generator.state
        blob = json.dumps({"seed": self._seed, "state": state}).encode()
        return tensor(np.frombuffer(blob, dtype=np.uint8).copy())

    def set_state(self, new_state) -> "Generator":
        blob = np.asarray(new_state, dtype=np.uint8).tobytes()
        try:
            payload = json.loads(blob.decode())
            bit_gen = np.random.PCG64()
            bit_gen.state = payload["state"]
        except (ValueError, KeyError, TypeError) as e:
            raise RuntimeError(f"Generator.set_state: not a state produced by get_state ({e})") from None
        self._seed = int(payload["seed"])
        self._rng = np.random.Generator(bit_gen)
        return self

    @property
    def numpy(self) -> np.random.Generator:
        """The NumPy generator that draws the numbers."""
        return self._rng


default_generator = Generator()


def manual_seed(seed) -> Generator:
    """Seed the global generator; returns it, as torch does."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


def numpy_rng(generator=None) -> np.random.Generator:
    return (generator or default_generator)._rng
