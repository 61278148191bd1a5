"""DistributedDataParallel: one model replica per process, gradients averaged over the processes after backward.

At construction rank 0's parameters and buffers are broadcast so every replica starts equal. Each parameter
gets a post-accumulate-grad hook; the first one to fire in a backward pass that follows a forward queues an
end-of-backward callback (``autograd.engine.queue_callback``), which runs once every gradient is final and
averages them: all gradients of one dtype are copied into one flat buffer, reduced with one MPI Allreduce and
copied back. Inside ``no_sync()`` gradients only accumulate locally; the next synchronised backward averages
the accumulated sums.
"""
import contextlib

import numpy as np

from ..._tensor import _make
from ...autograd.engine import queue_callback
from ...autograd.grad_mode import _State
from ...distributed.process_group import _default_group
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_UNUSED_MESSAGE = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your module has parameters that were not used in producing loss. You can enable unused parameter "
    "detection by passing the keyword argument `find_unused_parameters=True` to "
    "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs participate "
    "in calculating loss.\nParameters which did not receive grad for rank {rank}: {names}")


def _mpi():
    from mpi4py import MPI

    return MPI


def _broadcast_arrays(comm, arrays, root=0):
    """Overwrite ``arrays`` with rank ``root``'s values: one Bcast per dtype over a flat copy."""
    by_dtype = {}
    for a in arrays:
        by_dtype.setdefault(a.dtype, []).append(a)
    for dtype, group in by_dtype.items():
        work = np.float32 if dtype == np.float16 else dtype
        flat = np.concatenate([a.reshape(-1) for a in group]).astype(work, copy=False)
        comm.Bcast(flat, root=root)
        offset = 0
        for a in group:
            a[...] = flat[offset:offset + a.size].reshape(a.shape)
            offset += a.size


class DistributedDataParallel(Module):
    """Data-parallel training across the processes of ``ember.distributed``'s default group (torch's
    ``nn.parallel.DistributedDataParallel`` on CPUs). The wrapped model is ``.module``; state-dict keys carry
    the ``module.`` prefix. ``bucket_cap_mb``, ``gradient_as_bucket_view`` and ``static_graph`` are accepted:
    there is always one bucket per dtype."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None):
        super().__init__()
        pg = _default_group(process_group)
        if device_ids or output_device is not None:
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                             "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                             f"{device_ids}, output_device {output_device}, and module parameters "
                             "{device(type='cpu')}.")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        self.module = module
        self.process_group = pg
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._param_names = {id(p): n for n, p in named}
        self._params = [p for _, p in named]
        self._armed = False  # a forward ran with sync on: the next backward averages gradients
        self._queued = False
        self._ready = set()
        self._unused_error = None
        self._sync_module_states()
        for p in self._params:
            p.register_post_accumulate_grad_hook(self._grad_ready)

    # ---- state ------------------------------------------------------------------------------------------
    def _module_buffers(self):
        return [b for b in self.module.buffers() if b is not None]

    def _sync_module_states(self):
        tensors = list(self.module.parameters()) + self._module_buffers()
        _broadcast_arrays(self.process_group.comm, [t._data for t in tensors])
        for t in tensors:
            t._version[0] += 1

    def _sync_buffers(self):
        buffers = self._module_buffers()
        if buffers:
            _broadcast_arrays(self.process_group.comm, [b._data for b in buffers])
            for b in buffers:
                b._version[0] += 1

    # ---- forward and backward ---------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._unused_error is not None:
            message, self._unused_error = self._unused_error, None
            raise RuntimeError(message)
        sync = _State.enabled and self.require_backward_grad_sync
        self.require_forward_param_sync = sync
        if sync and self.broadcast_buffers:
            self._sync_buffers()
        self._armed = sync
        self._ready = set()
        return self.module(*inputs, **kwargs)

    def _grad_ready(self, param):
        if not self._armed:
            return
        self._ready.add(id(param))
        if not self._queued:
            self._queued = True
            queue_callback(self._reduce_gradients)

    def _reduce_gradients(self):
        """Average every parameter's ``.grad`` over the ranks: one Allreduce per dtype over a flat buffer that
        ends with one has-a-gradient count per parameter (a parameter no rank has a gradient for keeps None)."""
        self._queued = False
        self._armed = False
        if not self.find_unused_parameters:
            missing = [self._param_names[id(p)] for p in self._params if id(p) not in self._ready]
            if missing:
                self._unused_error = _UNUSED_MESSAGE.format(rank=self.process_group.rank(), names=", ".join(missing))
        comm = self.process_group.comm
        world = comm.Get_size()
        by_dtype = {}
        for p in self._params:
            by_dtype.setdefault(p._data.dtype, []).append(p)
        for dtype, params in by_dtype.items():
            sizes = [p._data.size for p in params]
            total = sum(sizes)
            flat = np.zeros(total + len(params), dtype=np.float32 if dtype == np.float16 else dtype)
            offset = 0
            for i, (p, n) in enumerate(zip(params, sizes)):
                if p.grad is not None:
                    flat[offset:offset + n] = p.grad._data.reshape(-1)
                    flat[total + i] = 1
                offset += n
            comm.Allreduce(_mpi().IN_PLACE, flat, op=_mpi().SUM)
            grads = flat[:total]
            np.divide(grads, world, out=grads)
            offset = 0
            for i, (p, n) in enumerate(zip(params, sizes)):
                if flat[total + i] > 0:
                    value = grads[offset:offset + n].reshape(p._data.shape)
                    if p.grad is None:
                        p.grad = _make(value.astype(dtype))
                    else:
                        p.grad._data[...] = value
                        p.grad._version[0] += 1
                offset += n

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context backward passes only accumulate local gradients; the first backward after it
        averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
