"""The launcher environment: torchrun's variables are checked before a process group is joined.

The multi-process runs themselves (DDP across two torchrun nodes, FSDP) are in
``test_torchrun.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from sciprep.training.distributed import TORCHRUN_ENV, DistContext, check_shared_directory, init_distributed


@pytest.mark.parametrize(("env", "message"), [
    ({"WORLD_SIZE": "2"}, "WORLD_SIZE=2 but RANK is not set; launch with torchrun"),
    ({"WORLD_SIZE": "2", "RANK": "2", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1"},
     "inconsistent launcher environment: RANK=2 WORLD_SIZE=2"),
    ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "1"},
     "LOCAL_RANK=1 LOCAL_WORLD_SIZE=1"),
    ({"WORLD_SIZE": "two"}, "WORLD_SIZE='two' is not an integer"),
])  # fmt: skip
def test_a_broken_launcher_environment_is_refused_before_joining_a_group(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name in TORCHRUN_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=re.escape(message)):
        init_distributed("cpu")
    assert not torch.distributed.is_initialized()


def test_without_torchrun_a_process_is_a_world_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TORCHRUN_ENV:
        monkeypatch.delenv(name, raising=False)
    ctx = init_distributed("cpu", "fsdp")
    assert (ctx.rank, ctx.world, ctx.is_main, ctx.sharded) == (0, 1, True, False)


@dataclass(frozen=True)
class _LonelyRank(DistContext):
    """Rank 1 of 2 on a node that does not see rank 0's directory (collectives simulated)."""

    elsewhere: Path = Path()

    def broadcast(self, value: Any) -> Any:
        return ("token-from-rank-0", str(self.elsewhere / ".shared-check-rank0"))

    def barrier(self) -> None:
        pass

    def all_gather(self, value: Any) -> list[Any]:
        return [None, value]  # rank 0 wrote its file

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor + 1  # rank 0 read its own file


def test_a_run_directory_that_another_node_cannot_see_is_refused(tmp_path: Path) -> None:
    ctx = _LonelyRank(rank=1, world=2, device=torch.device("cpu"), elsewhere=tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="only 1 of 2 processes can read a file rank 0 wrote there; the run "
                                         "directory must be on a filesystem shared by all nodes"):  # fmt: skip
        check_shared_directory(ctx, tmp_path / "run")


def test_one_process_needs_no_shared_directory(tmp_path: Path) -> None:
    check_shared_directory(DistContext(rank=0, world=1, device=torch.device("cpu")), tmp_path / "run")
    assert not (tmp_path / "run").exists()
