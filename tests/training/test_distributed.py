"""DDP: two gloo processes train like one process with the same global batch."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from sciprep.training import pretrain
from sciprep.training.config import PretrainConfig
from sciprep.training.metrics import read_metrics
from tests.training.conftest import Sample, run_config

STEPS = 8
#: Seconds the two workers may take together; a hung gloo rendezvous or collective fails the test instead.
WORKER_TIMEOUT_S = 180.0


def _config(sample: Sample, out: Path, batch_size: int) -> PretrainConfig:
    return run_config(sample, out, context_length=32, batch_size=batch_size, dropout=0.0, eval_windows=8,
                      epochs=None, max_tokens=STEPS * 4 * 32, threads=1)  # fmt: skip


def _worker(rank: int, world: int, port: int, cfg: PretrainConfig) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))  # fmt: skip
    from sciprep.training.distributed import shutdown_distributed

    try:
        pretrain(cfg)
    finally:
        shutdown_distributed()


def _run_workers(world: int, cfg: PretrainConfig) -> None:
    """Spawn ``world`` workers and join them within :data:`WORKER_TIMEOUT_S`, killing them on a hang."""
    context = mp.start_processes(_worker, args=(world, _free_port(), cfg), nprocs=world, join=False,
                                 start_method="spawn")  # fmt: skip
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    # join() re-raises a worker's exception (and stops the others); it returns True once all exited cleanly.
    while not context.join(timeout=1.0):
        if time.monotonic() > deadline:
            for process in context.processes:
                if process.is_alive():
                    process.kill()
                    process.join()
            pytest.fail(f"DDP workers did not finish within {WORKER_TIMEOUT_S:.0f} s (hung collective?)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_two_process_gloo_run_matches_one_process_with_the_same_global_batch(sample: Sample, tmp_path: Path) -> None:
    ddp_out, single_out = tmp_path / "ddp", tmp_path / "single"
    _run_workers(2, _config(sample, ddp_out, 2))
    pretrain(_config(sample, single_out, 4))
    ddp, single = read_metrics(ddp_out), read_metrics(single_out)
    ddp_train = [r["loss"] for r in ddp if r["type"] == "train"]
    single_train = [r["loss"] for r in single if r["type"] == "train"]
    assert len(ddp_train) == len(single_train) == STEPS
    assert torch.allclose(torch.tensor(ddp_train), torch.tensor(single_train), rtol=1e-4)
    ddp_val = [r["loss"] for r in ddp if r["type"] == "val"]
    single_val = [r["loss"] for r in single if r["type"] == "val"]
    assert torch.allclose(torch.tensor(ddp_val), torch.tensor(single_val), rtol=1e-4)
    assert (ddp_out / "model" / "model.safetensors").is_file()
    checkpoints = sorted(p.name for p in (ddp_out / "checkpoints").iterdir() if p.name.startswith("step-"))
    assert checkpoints == [f"step-{STEPS:08d}"]
    assert {p.name for p in (ddp_out / "checkpoints" / f"step-{STEPS:08d}").glob("rng-*")} == {
        "rng-rank0.safetensors", "rng-rank1.safetensors"}  # fmt: skip
