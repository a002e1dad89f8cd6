"""Process-group setup: one entry point for a single process or ``torchrun``.

``torchrun`` (any number of nodes) is the launcher; it sets ``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE`` and ``LOCAL_WORLD_SIZE`` for every process, and
the rendezvous (``MASTER_ADDR``/``MASTER_PORT``) the process group joins. With
``WORLD_SIZE`` > 1 the group is initialised with NCCL on GPUs (one GPU per local
rank, ``cuda:LOCAL_RANK``) and gloo on CPU; each rank then trains on its own
slice of every global batch (see :mod:`sciprep.training.loop`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

#: Environment variables ``torchrun`` sets for every process it starts.
TORCHRUN_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE")


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: global and node-local rank, the world size and its device."""

    rank: int
    world: int
    device: torch.device
    local_rank: int = 0
    local_world: int = 1
    #: The model is sharded (FSDP): every forward is a collective, so ranks must run
    #: the same number of forward passes, also in evaluation and generation.
    sharded: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over ranks in place (no-op for one process)."""
        if self.world > 1:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def max_over_ranks(self, value: int) -> int:
        """The largest ``value`` any rank holds (each rank passes its own)."""
        if self.world <= 1:
            return value
        tensor = torch.tensor([value], dtype=torch.int64, device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return int(tensor.item())

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (a JSON-like object; identity for one process)."""
        if self.world <= 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def resolve_device(preference: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; anything else is passed to torch."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(preference)


def _env_int(name: str, default: int | None = None) -> int:
    text = os.environ.get(name)
    if text is None:
        if default is None:
            raise ValueError(f"WORLD_SIZE={os.environ.get('WORLD_SIZE')} but {name} is not set; "
                             "launch with torchrun, which sets " + ", ".join(TORCHRUN_ENV))  # fmt: skip
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"environment variable {name}={text!r} is not an integer") from None


def init_distributed(device_preference: str = "auto", parallel: str = "ddp") -> DistContext:
    """Join the process group when launched by ``torchrun``; else a world of one.

    ``parallel`` is the training's ``ddp`` or ``fsdp`` (which sets ``sharded`` when
    there are several processes).

    Raises ValueError when the launcher's variables are missing or inconsistent
    (a rank outside the world, a local rank without a GPU of that index).
    """
    world = _env_int("WORLD_SIZE", 1)
    device = resolve_device(device_preference)
    if world <= 1:
        return DistContext(rank=0, world=1, device=device)
    rank = _env_int("RANK")
    local_rank = _env_int("LOCAL_RANK", 0)
    local_world = _env_int("LOCAL_WORLD_SIZE", world)  # unset: all processes on this node
    if not 0 <= rank < world or not 0 <= local_rank < local_world:
        raise ValueError(f"inconsistent launcher environment: RANK={rank} WORLD_SIZE={world} "
                         f"LOCAL_RANK={local_rank} LOCAL_WORLD_SIZE={local_world}")  # fmt: skip
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"LOCAL_RANK={local_rank} but this node has {torch.cuda.device_count()} GPU(s); "
                             "start at most one process per GPU (--nproc-per-node)")  # fmt: skip
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        if device.type == "cuda":
            dist.init_process_group(backend="nccl", device_id=device)
        else:
            dist.init_process_group(backend="gloo")
    return DistContext(rank=rank, world=world, device=device, local_rank=local_rank, local_world=local_world,
                       sharded=parallel == "fsdp")  # fmt: skip


def check_shared_directory(ctx: DistContext, directory: Path) -> None:
    """Refuse a run directory that some node does not see (checkpoints need a shared filesystem).

    Rank 0 writes a random token into ``directory``; every rank must read it back.
    Every rank calls this (it synchronises).
    """
    if ctx.world <= 1:
        return
    token = secrets.token_hex(8) if ctx.is_main else None
    probe = directory / f".shared-check-{os.getpid()}" if ctx.is_main else None
    if ctx.is_main:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_text(token, encoding="utf-8")  # type: ignore[union-attr]
    token, probe = ctx.broadcast((token, str(probe)))
    seen = Path(probe).read_text(encoding="utf-8") if Path(probe).is_file() else None
    readers = int(ctx.all_reduce_sum(torch.tensor([int(seen == token)], device=ctx.device)).item())
    ctx.barrier()
    if ctx.is_main:
        Path(probe).unlink()
    if readers != ctx.world:
        raise ValueError(f"{directory}: only {readers} of {ctx.world} processes can read a file rank 0 wrote "
                         "there; the run directory must be on a filesystem shared by all nodes "
                         "(NFS, Lustre, ...)")  # fmt: skip


def shutdown_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
