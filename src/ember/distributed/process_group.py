"""The default process group: torch.distributed's init/rank/size API, run on MPI through mpi4py.

MPI's launcher (``mpiexec``, or ``python -m ember.distributed.run``) starts the processes and tells each its
rank, so there is no rendezvous to do: ``init_method``, ``MASTER_ADDR`` and ``MASTER_PORT`` are accepted and
not needed. mpi4py is imported by ``init_process_group`` only (importing it starts MPI).
"""
import enum
import importlib.util
import os
import warnings

__all__ = ["Backend", "ReduceOp", "ProcessGroup", "GroupMember", "group", "is_available", "is_mpi_available",
           "is_gloo_available", "is_nccl_available", "is_torchelastic_launched", "init_process_group",
           "destroy_process_group", "is_initialized", "get_rank", "get_world_size", "get_backend"]

_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class DistNotInitializedError(ValueError, RuntimeError):
    """Raised by any call that needs the default process group before ``init_process_group`` (torch raises
    ValueError; this is also a RuntimeError, so either ``except`` catches it)."""


def is_available() -> bool:
    """True when mpi4py (ember's transport) can be imported."""
    try:
        return importlib.util.find_spec("mpi4py") is not None and importlib.util.find_spec("mpi4py.MPI") is not None
    except (ImportError, ValueError):
        return False


def is_mpi_available() -> bool:
    return is_available()


def is_gloo_available() -> bool:
    """"gloo" is accepted and runs on MPI."""
    return is_available()


def is_nccl_available() -> bool:
    return False


def is_torchelastic_launched() -> bool:
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


class Backend(str):
    """A backend name ("mpi", "gloo"; "nccl" needs GPUs ember does not have)."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name).__name__}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)


class RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """Reduction operations for ``all_reduce`` and ``reduce`` (``ReduceOp.SUM`` etc., as torch)."""

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    RedOpType = RedOpType


class ProcessGroup:
    """The default (world) group: an MPI communicator of its own (a duplicate of COMM_WORLD)."""

    def __init__(self, comm, backend):
        self.comm = comm
        self.backend = backend
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def name(self) -> str:
        return self.backend

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, rank={self._rank}, size={self._size})"


class GroupMember:
    """``group.WORLD`` is the default group once initialised (None before)."""

    WORLD = None
    NON_GROUP_MEMBER = -100


group = GroupMember
_gloo_warned = [False]


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None) -> None:
    """Join the default process group. World size and rank come from MPI; ``backend`` "mpi" (default) or "gloo"
    (run on MPI, with a warning); given ``world_size``/``rank`` or RANK/WORLD_SIZE variables must agree."""
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend if backend is not None else Backend.MPI)
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in (ember runs on CPUs; use backend='mpi' "
                           "or 'gloo')")
    if name not in (Backend.MPI, Backend.GLOO):
        raise ValueError(f"Invalid backend: '{backend}' (ember supports 'mpi', and 'gloo', which it runs on MPI)")
    if name == Backend.GLOO and not _gloo_warned[0]:
        _gloo_warned[0] = True
        warnings.warn("ember.distributed runs the 'gloo' backend on MPI (mpi4py): the processes and their ranks "
                      "come from mpiexec (or `python -m ember.distributed.run`); init_method, MASTER_ADDR and "
                      "MASTER_PORT are not used", UserWarning, stacklevel=2)
    if not is_available():
        raise RuntimeError("ember.distributed needs mpi4py and an MPI runtime: pip install 'ember[distributed]' "
                           "(mpi4py and mpich)")
    from mpi4py import MPI

    world = MPI.COMM_WORLD
    mpi_rank, mpi_size = world.Get_rank(), world.Get_size()
    for what, given, actual in (("world_size", world_size, mpi_size), ("rank", rank, mpi_rank),
                                ("WORLD_SIZE", os.environ.get("WORLD_SIZE"), mpi_size),
                                ("RANK", os.environ.get("RANK"), mpi_rank)):
        if given is None or given == -1 or given == "":
            continue
        if int(given) != actual:
            source = "argument" if what.islower() else "environment variable"
            raise RuntimeError(f"init_process_group: the {source} {what}={given} disagrees with MPI, which runs this "
                               f"process as rank {mpi_rank} of {mpi_size}; start the processes with "
                               f"`mpiexec -n N` or `python -m ember.distributed.run --nproc-per-node N`")
    GroupMember.WORLD = ProcessGroup(world.Dup(), str(name))


def destroy_process_group(group=None) -> None:
    """Leave the default group (MPI itself stays up until the process exits, so the group can be re-created)."""
    pg = GroupMember.WORLD
    if pg is None:
        raise AssertionError("Process group cannot be None")
    if group is not None and group is not pg:
        raise ValueError("ember.distributed has only the default process group")
    GroupMember.WORLD = None
    pg.comm.Free()


def is_initialized() -> bool:
    return GroupMember.WORLD is not None


def _default_group(group=None) -> ProcessGroup:
    pg = GroupMember.WORLD
    if pg is None:
        raise DistNotInitializedError(_NOT_INITIALIZED)
    if group is not None and group is not pg:
        raise ValueError("ember.distributed has only the default process group (pass group=None)")
    return pg


def get_rank(group=None) -> int:
    return _default_group(group).rank()


def get_world_size(group=None) -> int:
    return _default_group(group).size()


def get_backend(group=None) -> str:
    return _default_group(group).backend
