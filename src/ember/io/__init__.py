"""Saving and loading: ``save``/``load`` (torch.save-style, stored as safetensors, never pickled),
safetensors helpers, atomic writes and training checkpoints. Imports only ember's core."""
from . import safetensors
from .atomic import atomic_path, atomic_write
from .checkpoint import get_rng_states, load_checkpoint, save_checkpoint, set_rng_states
from .safetensors import load_file, save_file
from .serialization import load, save

__all__ = ["save", "load", "save_file", "load_file", "save_checkpoint", "load_checkpoint", "get_rng_states",
           "set_rng_states", "atomic_write", "atomic_path", "safetensors"]
