"""A training-script stand-in for `python -m ember.distributed.run`: reports torchrun's variables, its argv and
an all_reduce; with --fail, rank 1 exits with status 3."""
import os
import sys

import ember
import ember.distributed as dist

dist.init_process_group("gloo")
rank = dist.get_rank()
total = ember.tensor([float(rank + 1)])
dist.all_reduce(total)
env = {k: os.environ.get(k) for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                                      "MASTER_PORT")}
print(f"RESULT rank={env['RANK']} local={env['LOCAL_RANK']} world={env['WORLD_SIZE']} "
      f"local_world={env['LOCAL_WORLD_SIZE']} addr={env['MASTER_ADDR']} port={env['MASTER_PORT']} "
      f"sum={total.item()} name={__name__} argv={'|'.join(sys.argv[1:])} mpi_rank={rank} END", flush=True)
dist.destroy_process_group()
if "--fail" in sys.argv and rank == 1:
    sys.exit(3)
