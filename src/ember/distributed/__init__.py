"""ember.distributed: torch.distributed's process-group API for data-parallel training on CPUs, on MPI (mpi4py).

Start N processes with ``python -m ember.distributed.run --nproc-per-node N train.py`` (torchrun's spelling) or
``mpiexec -n N python train.py``; each calls ``init_process_group("mpi")`` (or "gloo", which runs on MPI).
mpi4py is imported by ``init_process_group`` only. See docs/distributed.md.
"""
from .collectives import (Work, all_gather, all_gather_into_tensor, all_reduce, barrier, broadcast, gather, reduce,
                          scatter)
from .objects import all_gather_object, broadcast_object_list
from .process_group import (Backend, GroupMember, ProcessGroup, ReduceOp, destroy_process_group, get_backend,
                            get_rank, get_world_size, group, init_process_group, is_available, is_gloo_available,
                            is_initialized, is_mpi_available, is_nccl_available, is_torchelastic_launched)

__all__ = ["is_available", "is_mpi_available", "is_gloo_available", "is_nccl_available", "is_torchelastic_launched",
           "init_process_group", "destroy_process_group", "is_initialized", "get_rank", "get_world_size",
           "get_backend", "Backend", "ReduceOp", "ProcessGroup", "GroupMember", "group", "Work", "barrier",
           "broadcast", "all_reduce", "reduce", "all_gather", "all_gather_into_tensor", "gather", "scatter",
           "broadcast_object_list", "all_gather_object"]
