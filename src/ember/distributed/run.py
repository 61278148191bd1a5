"""torchrun for ember: ``python -m ember.distributed.run --nproc-per-node N train.py [args]``.

Runs ``mpiexec -n N <this python> -m ember.distributed._bootstrap train.py [args]``; every process gets
torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, ...), RANK and
LOCAL_RANK set from MPI by the bootstrap. One node only. The exit status is mpiexec's.
"""
import argparse
import os
import shutil
import subprocess
import sys

__all__ = ["main", "find_mpiexec"]


def find_mpiexec() -> str:
    """$EMBER_MPIEXEC, else the mpiexec beside this Python (the ``mpich`` wheel installs it there), else PATH's."""
    found = (os.environ.get("EMBER_MPIEXEC") or shutil.which("mpiexec", path=os.path.dirname(sys.executable))
             or shutil.which("mpiexec"))
    if not found:
        raise SystemExit("ember.distributed.run: no mpiexec found; install the MPI runtime with "
                         "`pip install 'ember[distributed]'` (mpi4py and mpich) or set EMBER_MPIEXEC")
    return found


def _nproc(value: str) -> int:
    if value in ("auto", "cpu"):
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--nproc-per-node must be a positive integer, 'auto' or 'cpu', "
                                         f"got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"--nproc-per-node must be at least 1, got {n}")
    return n


def _parser():
    p = argparse.ArgumentParser(prog="python -m ember.distributed.run",
                                description="Start N training processes on this machine under MPI (torchrun's "
                                            "options; one node).")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=_nproc, default=1, dest="nproc_per_node",
                   help="number of processes (default 1; 'auto' or 'cpu': one per CPU)")
    p.add_argument("--nnodes", default="1", help="only 1 is supported")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0, dest="node_rank")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1", dest="master_addr")
    p.add_argument("--master-port", "--master_port", type=int, default=29500, dest="master_port")
    p.add_argument("--standalone", action="store_true", help="accepted (every run is single-node)")
    p.add_argument("--rdzv-id", "--rdzv_id", default="none", dest="rdzv_id")
    p.add_argument("-m", "--module", action="store_true", help="run the target as a module (python -m)")
    p.add_argument("training_script", help="the script (or, with -m, the module) to run")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.nnodes not in ("1", "1:1") or args.node_rank != 0:
        raise SystemExit("ember.distributed.run: only single-node runs are supported (--nnodes 1); for several "
                         "machines start the processes with mpiexec and a host file")
    n = args.nproc_per_node
    env = dict(os.environ)
    env.update(WORLD_SIZE=str(n), LOCAL_WORLD_SIZE=str(n), GROUP_RANK="0", GROUP_WORLD_SIZE="1",
               ROLE_NAME="default", ROLE_WORLD_SIZE=str(n), MASTER_ADDR=args.master_addr,
               MASTER_PORT=str(args.master_port), TORCHELASTIC_RUN_ID=args.rdzv_id,
               TORCHELASTIC_RESTART_COUNT="0", TORCHELASTIC_MAX_RESTARTS="0")
    if n > 1 and "OMP_NUM_THREADS" not in env:  # as torchrun: N processes should not each start a thread per core
        env["OMP_NUM_THREADS"] = "1"
    target = (["-m"] if args.module else []) + [args.training_script] + list(args.training_script_args)
    cmd = [find_mpiexec(), "-n", str(n), sys.executable, "-m", "ember.distributed._bootstrap"] + target
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
