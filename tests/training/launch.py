"""Starting several training processes for the distributed tests, with hard time limits.

Two ways: :func:`spawn_training` runs ``pretrain(cfg)`` or ``tune(cfg)`` in
``world`` spawned processes with the variables ``torchrun`` would set;
:func:`torchrun_nodes` starts real ``torchrun`` launchers, one per simulated node,
that meet at a c10d rendezvous on 127.0.0.1. A hung rendezvous or collective
fails the test instead of blocking the suite.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch.multiprocessing as mp

from sciprep.training.config import LoopConfig, TuneConfig

#: Seconds a group of workers may take together.
WORKER_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hide_checkpoints_from_other_ranks() -> None:
    """Ranks other than 0 see no checkpoints: a node whose directory cache lags (NFS)."""
    if os.environ["RANK"] != "0":
        resume = importlib.import_module("sciprep.training.resume")
        resume.list_checkpoints = lambda run_dir: []  # type: ignore[attr-defined]


def _worker(rank: int, world: int, port: int, cfg: LoopConfig, before: Callable[[], None] | None) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world))  # fmt: skip
    from sciprep.training import pretrain, tune
    from sciprep.training.distributed import shutdown_distributed

    if before is not None:
        before()
    try:
        tune(cfg) if isinstance(cfg, TuneConfig) else pretrain(cfg)  # type: ignore[arg-type]
    finally:
        shutdown_distributed()


def spawn_training(world: int, cfg: LoopConfig, before: Callable[[], None] | None = None) -> None:
    """Run ``pretrain(cfg)`` (``tune`` for a TuneConfig) in ``world`` processes; fail on a hang.

    ``before`` (a module-level function) runs in each process first. A worker's
    error is re-raised here.
    """
    context = mp.start_processes(_worker, args=(world, free_port(), cfg, before), nprocs=world, join=False,
                                 start_method="spawn")  # fmt: skip
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    # join() re-raises a worker's exception (and stops the others); it returns True once all exited cleanly.
    while not context.join(timeout=1.0):
        if time.monotonic() > deadline:
            for process in context.processes:
                if process.is_alive():
                    process.kill()
                    process.join()
            pytest.fail(f"workers did not finish within {WORKER_TIMEOUT_S:.0f} s (hung collective?)")


def torchrun_nodes(nodes: int, args: list[str] | list[list[str]], log_dir: Path,
                   timeout_s: float = WORKER_TIMEOUT_S, expect_success: bool = True) -> list[int | None]:  # fmt: skip
    """``torchrun --nnodes N --nproc-per-node 1 --node-rank I ... -m sciprep.cli ARGS`` for each node I.

    All launchers run at once on this machine and meet at a c10d rendezvous on a
    free local port; ``args`` is one argument list for all nodes or one per node.
    Returns the exit codes (None: killed after ``timeout_s``); with
    ``expect_success`` fails (with the launchers' logs) on a non-zero exit or a hang.
    """
    endpoint = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    per_node = args if args and isinstance(args[0], list) else [args] * nodes
    launchers = []
    for node in range(nodes):
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", str(nodes), "--nproc-per-node", "1",
                   "--node-rank", str(node), "--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint,
                   "--rdzv-id", "sciprep-test", "--max-restarts", "0", "-m", "sciprep.cli",
                   *per_node[node]]  # type: ignore[misc]  # fmt: skip
        log = open(log_dir / f"node{node}.log", "w", encoding="utf-8")  # noqa: SIM115  # closed below
        launchers.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env), log))
    deadline = time.monotonic() + timeout_s
    codes: list[int | None] = []
    for process, log in launchers:
        try:
            codes.append(process.wait(timeout=max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            codes.append(None)
    for process, log in launchers:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    if expect_success and codes != [0] * nodes:
        logs = "\n".join(f"--- node {i} (exit {c}) ---\n" + (log_dir / f"node{i}.log").read_text()[-3000:]
                         for i, c in enumerate(codes))  # fmt: skip
        pytest.fail(f"torchrun launchers exited with {codes}:\n{logs}")
    return codes
