"""Process-group setup: one entry point for a single process or ``torchrun``.

Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) the process group is
initialised with NCCL on GPUs and gloo on CPU; each rank then trains on its own
slice of every global batch (see :mod:`sciprep.training.loop`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: its rank, the world size and its device."""

    rank: int
    world: int
    device: torch.device

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


def resolve_device(preference: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; anything else is passed to torch."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(preference)


def init_distributed(device_preference: str = "auto") -> DistContext:
    """Join the process group when launched by ``torchrun``; else a world of one."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(device_preference)
    if world <= 1:
        return DistContext(rank=0, world=1, device=device)
    rank = int(os.environ["RANK"])
    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank=rank, world=world, device=device)


def shutdown_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
