"""Run an unchanged PyTorch script on ember: ``import torch`` (and ``import torch.nn as nn``,
``from torch.utils.data import DataLoader``, ...) resolve to ember's modules.

    ember run train.py --epochs 3          # the command line
    python -m ember run train.py           # the same

    import ember.torch_alias
    ember.torch_alias.install()            # from Python, before the script imports torch

``import ember as torch`` covers scripts that only use ``torch.<name>``; a script that imports submodules by
their torch names needs the alias. ``install`` adds an import hook that maps every ``torch`` / ``torch.X``
import to ``ember`` / ``ember.X`` (the same module objects: ``torch.nn is ember.nn``). A submodule ember does
not have fails as any missing module does, with ``ModuleNotFoundError`` naming both. If the real torch is
already imported, ``install`` refuses (RuntimeError): two frameworks under one name would mix tensors.
"""
import importlib
import importlib.abc
import importlib.util
import sys

__all__ = ["install", "uninstall", "installed", "run_path"]

_PREFIX = "torch"


class _TorchToEmber(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torch`` and ``torch.*`` and loads them as the corresponding ``ember`` modules."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        target_name = "ember" + fullname[len(_PREFIX):]
        try:
            found = importlib.util.find_spec(target_name)
        except ModuleNotFoundError:
            found = None
        if found is None and target_name not in sys.modules:
            parent, _, attr = target_name.rpartition(".")
            module = sys.modules.get(parent)  # a namespace object, not a module (ember.backends.cudnn)
            if module is None or not hasattr(module, attr):
                raise ModuleNotFoundError(f"No module named {fullname!r} (ember has no {target_name!r}; "
                                          "ember runs it in place of torch)", name=fullname)
        return importlib.util.spec_from_loader(fullname, self, origin=target_name)

    def create_module(self, spec):
        target_name = spec.origin
        if target_name in sys.modules:
            return sys.modules[target_name]
        try:
            return importlib.import_module(target_name)
        except ModuleNotFoundError:
            parent, _, attr = target_name.rpartition(".")
            return getattr(importlib.import_module(parent), attr)

    def exec_module(self, module):
        pass  # the ember module is already executed


_finder = _TorchToEmber()


def installed() -> bool:
    return _finder in sys.meta_path


def install() -> None:
    """Make ``import torch`` (and its submodules) import ember from now on in this process."""
    if installed():
        return
    real = sys.modules.get(_PREFIX)
    if real is not None and not getattr(real, "__name__", "").startswith("ember"):
        raise RuntimeError("ember.torch_alias.install(): the real torch is already imported in this process; "
                           "install the alias before anything imports torch")
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Remove the hook and the ``torch`` entries it made (for tests)."""
    if installed():
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n == _PREFIX or n.startswith(_PREFIX + ".")]:
        if getattr(sys.modules[name], "__name__", "").startswith("ember"):
            del sys.modules[name]


def run_path(script, argv=()):
    """Run ``script`` as ``__main__`` with ``sys.argv = [script, *argv]`` and the alias installed."""
    import runpy

    import os

    install()
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *argv]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # as `python script.py`: its folder first
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
