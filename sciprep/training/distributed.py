"""Process-group setup: one entry point for a single process or ``torchrun``.

``torchrun`` (any number of nodes) is the launcher; it sets ``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE`` and ``LOCAL_WORLD_SIZE`` for every process, and
the rendezvous (``MASTER_ADDR``/``MASTER_PORT``) the process group joins. With
``WORLD_SIZE`` > 1 the group is initialised with NCCL on GPUs (one GPU per local
rank, ``cuda:LOCAL_RANK``) and gloo on CPU; each rank then trains on its own
slice of every global batch (see :mod:`sciprep.training.loop`).

Failures must reach every node. The group is joined first, with an explicit
timeout (``dist_timeout``: how long a collective may wait, which also bounds a
rank waiting while rank 0 writes a checkpoint); per-rank set-up that can fail on
one node only (reading the data, a checkpoint) then runs under
:meth:`DistContext.agree`, so every rank raises the same one-line error at once
instead of the others waiting in the next collective until the timeout.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist

#: Environment variables ``torchrun`` sets for every process it starts.
TORCHRUN_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE")
#: Seconds a collective may wait for the slowest rank (PyTorch's own default is 10 min
#: for NCCL): long enough for rank 0 to write a full checkpoint while the others wait.
DEFAULT_DIST_TIMEOUT_S = 1800.0
#: What the command line reports as one line (see ``sciprep.cli``); anything else is a bug.
_INPUT_ERRORS = (FileNotFoundError, ValueError)

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: global rank, the world size and its device."""

    rank: int
    world: int
    device: torch.device
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

    def all_gather(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (a JSON-like object), in rank order."""
        if self.world <= 1:
            return [value]
        values: list[Any] = [None] * self.world
        dist.all_gather_object(values, value)
        return values

    def agree(self, step: Callable[[], T]) -> T:
        """Run ``step`` (local work, no collectives) on every rank; if it fails anywhere, fail everywhere.

        Every rank calls this. When ``step`` raised on some rank, each rank raises
        ``ValueError("rank R of W: <message>")`` with the first failing rank's
        message, so every node reports the same line. A failure that is not an
        input error (FileNotFoundError, ValueError) is a bug: the rank where it
        happened re-raises it with its traceback.
        """
        error: Exception | None = None
        result: T | None = None
        try:
            result = step()
        except Exception as err:  # noqa: BLE001  # any failure must reach the other ranks; re-raised below
            error = err
        if self.world <= 1:
            if error is not None:
                raise error
            return result  # type: ignore[return-value]
        message = None if error is None else (
            str(error) if isinstance(error, _INPUT_ERRORS) else f"{type(error).__name__}: {error}")  # fmt: skip
        failed = [(rank, m) for rank, m in enumerate(self.all_gather(message)) if m is not None]
        if not failed:
            return result  # type: ignore[return-value]
        if error is not None and not isinstance(error, _INPUT_ERRORS):
            raise error
        rank, first = failed[0]
        raise ValueError(f"rank {rank} of {self.world}: {first}") from error


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


def init_distributed(device_preference: str = "auto", parallel: str = "ddp",
                     timeout_s: float = DEFAULT_DIST_TIMEOUT_S) -> DistContext:  # fmt: skip
    """Join the process group when launched by ``torchrun``; else a world of one.

    ``parallel`` is the training's ``ddp`` or ``fsdp`` (which sets ``sharded`` when
    there are several processes). ``timeout_s`` bounds joining the group and every
    collective (a rank that never arrives fails the others after that long).

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
    if not timeout_s > 0:
        raise ValueError(f"dist_timeout must be > 0 seconds, got {timeout_s}")
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
        timeout = timedelta(seconds=timeout_s)
        if device.type == "cuda":
            dist.init_process_group(backend="nccl", device_id=device, timeout=timeout)
        else:
            dist.init_process_group(backend="gloo", timeout=timeout)
    return DistContext(rank=rank, world=world, device=device, sharded=parallel == "fsdp")


def check_shared_directory(ctx: DistContext, directory: Path) -> None:
    """Refuse a run directory that some node does not see (checkpoints need a shared filesystem).

    Rank 0 writes a random token into ``directory``; every rank must read it back.
    Every rank calls this (it synchronises).
    """
    if ctx.world <= 1:
        return
    token = secrets.token_hex(8) if ctx.is_main else None
    probe = directory / f".shared-check-{os.getpid()}" if ctx.is_main else None

    def write_probe() -> None:
        if not ctx.is_main:
            return
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe.write_text(token, encoding="utf-8")  # type: ignore[union-attr]
        except OSError as err:
            raise ValueError(f"{directory}: cannot write to the run directory ({err})") from err

    ctx.agree(write_probe)
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
