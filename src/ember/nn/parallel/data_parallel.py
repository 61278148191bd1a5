"""DataParallel: on a machine without GPUs (ember's case) torch's DataParallel simply runs the module."""
from ..modules.module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """torch.nn.DataParallel on CPUs: ``forward`` calls ``.module`` (state-dict keys get the ``module.`` prefix).
    For several processes use DistributedDataParallel."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
