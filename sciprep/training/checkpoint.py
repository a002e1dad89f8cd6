"""Checkpoints: everything a run needs to continue bit-exactly, written atomically.

``RUN_DIR/checkpoints/step-00000123/`` holds

* ``config.json`` + ``model.safetensors`` (+ tokenizer files): a normal Hugging Face
  model directory, so any checkpoint loads with ``AutoModelForCausalLM``;
* ``optimizer.safetensors``: AdamW moments and step counts, by parameter index;
* ``rng-rank<R>.safetensors``: each rank's torch CPU (and CUDA) generator states;
* ``trainer_state.json``: step, epoch, window cursor, accounting, early-stopping
  state, optimizer hyper-parameters, the configuration the run started with, the
  number of processes (``world``), the rows per optimizer step (``global_batch``)
  and any world-size changes it was resumed across (``world_changes``);
* ``sciprep_training.json``: the held-out rule of the training data (as in
  ``model/``), so tuning or evaluating from a checkpoint keeps it.

Model and optimizer are always the full (unsharded) state, whether the run used
one process, DDP or FSDP, so any checkpoint resumes under any of them. Nothing
is unpickled: tensors are safetensors, scalars are JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from sciprep.atomicio import atomic_dir
from sciprep.training.export import MODEL_FILE, TRAINING_INFO_FILE, save_model_files
from sciprep.training.parallel import ParallelModel, Snapshot

CHECKPOINTS_DIR = "checkpoints"
STATE_FILE = "trainer_state.json"
OPTIMIZER_FILE = "optimizer.safetensors"
_NAME = re.compile(r"^step-(\d{8})$")


def checkpoint_name(step: int) -> str:
    return f"step-{step:08d}"


def list_checkpoints(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Finished checkpoints of a run, oldest first (half-written ones are hidden temp dirs)."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name))


def rng_tensors() -> dict[str, torch.Tensor]:
    tensors = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, st in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda{i}"] = st
    return tensors


def restore_rng(path: Path) -> None:
    tensors = load_file(path)
    torch.set_rng_state(tensors["cpu"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("cuda")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


def save_checkpoint(
    run_dir: str | os.PathLike[str],
    step: int,
    model: Any,
    snapshot: Snapshot,
    state: dict[str, Any],
    tokenizer: Any,
    keep: int,
    rank: int = 0,
    world: int = 1,
    barrier: Any = None,
    protect: int | None = None,
    split: dict[str, Any] | None = None,
) -> Path:
    """Write checkpoint ``step`` atomically and delete all but the newest ``keep``.

    ``snapshot`` is the full model and optimizer state (see
    :meth:`~sciprep.training.parallel.ParallelModel.snapshot`; only rank 0's is
    used); ``model`` supplies ``config.json``. The checkpoint of step ``protect``
    (the best validation loss so far) is never deleted. ``split`` (the training
    data's held-out rule) goes to ``sciprep_training.json``.

    With several processes every rank calls this: rank 0 writes the model, optimizer
    and state, every rank writes its own RNG file into the shared temporary directory,
    and the rename happens only after all have written (``barrier`` synchronises).
    """
    final = Path(run_dir) / CHECKPOINTS_DIR / checkpoint_name(step)
    staging = final.with_name(f".{final.name}.staging")
    if rank == 0:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
    if barrier:
        barrier()
    save_file(rng_tensors(), staging / f"rng-rank{rank}.safetensors")
    if barrier:
        barrier()
    if rank == 0:
        with atomic_dir(final) as tmp:
            save_model_files(model, tmp, snapshot.weights)
            tokenizer.save(tmp)
            save_file(snapshot.optimizer, tmp / OPTIMIZER_FILE)
            for r in range(world):
                shutil.move(staging / f"rng-rank{r}.safetensors", tmp / f"rng-rank{r}.safetensors")
            full = {**state, "optimizer_param_groups": snapshot.param_groups}
            (tmp / STATE_FILE).write_text(json.dumps(full, indent=2, sort_keys=True), encoding="utf-8")
            if split is not None:
                (tmp / TRAINING_INFO_FILE).write_text(json.dumps(split, sort_keys=True), encoding="utf-8")
        shutil.rmtree(staging)
        kept = {checkpoint_name(protect)} if protect is not None else set()
        for old in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
            if old.name not in kept:
                shutil.rmtree(old)
    if barrier:
        barrier()
    return final


def read_state(path: Path) -> dict[str, Any]:
    """The trainer state of checkpoint ``path`` (``trainer_state.json``)."""
    return json.loads((path / STATE_FILE).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """The model tensors of checkpoint (or model directory) ``path``."""
    return load_file(path / MODEL_FILE)


def read_snapshot(path: Path) -> Snapshot:
    """Model and optimizer tensors of checkpoint ``path``."""
    groups = read_state(path)["optimizer_param_groups"]
    return Snapshot(read_weights(path), load_file(path / OPTIMIZER_FILE), groups)


def load_checkpoint(path: Path, parallel: ParallelModel, optimizer: torch.optim.Optimizer, rank: int = 0,
                    rng: bool = True) -> dict[str, Any]:  # fmt: skip
    """Restore model, optimizer and (if ``rng``) this rank's RNG from ``path``; return the trainer state.

    Every rank calls this; under FSDP only rank 0 reads the tensors and scatters them.
    """
    state = read_state(path)
    state.pop("optimizer_param_groups")
    reads = rank == 0 or not parallel.sharded
    parallel.restore(optimizer, read_snapshot(path) if reads else None, str(path))
    if rng:
        rng_file = path / f"rng-rank{rank}.safetensors"
        if not rng_file.exists():
            raise ValueError(f"{path}: no {rng_file.name}, though it was made with this number of "
                             "processes; it is incomplete: resume from an earlier one or start over")  # fmt: skip
        restore_rng(rng_file)
    return state
