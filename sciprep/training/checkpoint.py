"""Checkpoints: everything a run needs to continue bit-exactly, written atomically.

``RUN_DIR/checkpoints/step-00000123/`` holds

* ``config.json`` + ``model.safetensors`` (+ tokenizer files): a normal Hugging Face
  model directory, so any checkpoint loads with ``AutoModelForCausalLM``;
* ``optimizer.safetensors``: AdamW moments and step counts, by parameter index;
* ``rng-rank<R>.safetensors``: each rank's torch CPU (and CUDA) generator states;
* ``trainer_state.json``: step, epoch, window cursor, accounting, early-stopping
  state, optimizer hyper-parameters, the configuration the run started with;
* ``sciprep_training.json``: the held-out rule of the training data (as in
  ``model/``), so tuning or evaluating from a checkpoint keeps it.

Nothing is unpickled: tensors are safetensors, scalars are JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, load_model, save_file

from sciprep.atomicio import atomic_dir
from sciprep.training.export import TRAINING_INFO_FILE, save_model_files

CHECKPOINTS_DIR = "checkpoints"
STATE_FILE = "trainer_state.json"
_NAME = re.compile(r"^step-(\d{8})$")


def checkpoint_name(step: int) -> str:
    return f"step-{step:08d}"


def list_checkpoints(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Finished checkpoints of a run, oldest first (half-written ones are hidden temp dirs)."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name))


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    """AdamW state as flat named tensors plus its JSON-able param-group settings."""
    state = optimizer.state_dict()
    tensors = {
        f"{index}.{key}": value.detach().cpu().contiguous()
        for index, entry in state["state"].items()
        for key, value in entry.items()
    }
    return tensors, state["param_groups"]


def load_optimizer(optimizer: torch.optim.Optimizer, path: Path, groups: list[dict[str, Any]]) -> None:
    """Inverse of :func:`optimizer_tensors`."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in load_file(path).items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = tensor
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in groups]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


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
    optimizer: torch.optim.Optimizer,
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

    The checkpoint of step ``protect`` (the best validation loss so far) is never deleted.
    ``split`` (the training data's held-out rule) goes to ``sciprep_training.json``.

    Under DDP every rank calls this: rank 0 writes the model, optimizer and state,
    every rank writes its own RNG file into the shared temporary directory, and the
    rename happens only after all have written (``barrier`` synchronises).
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
            save_model_files(model, tmp)
            tokenizer.save(tmp)
            tensors, groups = optimizer_tensors(optimizer)
            save_file(tensors, tmp / "optimizer.safetensors")
            for r in range(world):
                shutil.move(staging / f"rng-rank{r}.safetensors", tmp / f"rng-rank{r}.safetensors")
            full = {**state, "optimizer_param_groups": groups}
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


def load_weights(path: Path, model: Any) -> None:
    """Load ``path/model.safetensors`` into ``model`` in place (re-tying tied embeddings)."""
    missing, unexpected = load_model(model, path / "model.safetensors", strict=False)
    if set(missing) - {"lm_head.weight"} or unexpected:
        raise ValueError(f"{path}: checkpoint does not match the model (missing {missing}, "
                         f"unexpected {unexpected})")  # fmt: skip
    if missing:
        model.tie_weights()


def load_checkpoint(path: Path, model: Any, optimizer: torch.optim.Optimizer, rank: int = 0) -> dict[str, Any]:
    """Restore model, optimizer and this rank's RNG from ``path``; return the trainer state."""
    state = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
    load_weights(path, model)
    load_optimizer(optimizer, path / "optimizer.safetensors", state.pop("optimizer_param_groups"))
    rng = path / f"rng-rank{rank}.safetensors"
    if not rng.exists():
        raise ValueError(f"{path}: no RNG state for rank {rank}; resume with the same world size")
    restore_rng(rng)
    return state  # type: ignore[no-any-return]
