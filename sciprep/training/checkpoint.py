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
is unpickled: tensors are safetensors, scalars are JSON. A checkpoint is checked
completely before anything is restored (:func:`load_checkpoint`): a damaged or
foreign file is refused naming the file and the key, on every rank at once.
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
from sciprep.training.parallel import ParallelModel, Snapshot, tied_aliases

CHECKPOINTS_DIR = "checkpoints"
STATE_FILE = "trainer_state.json"
OPTIMIZER_FILE = "optimizer.safetensors"
_NAME = re.compile(r"^step-(\d{8})$")
_OPTIMIZER_KEY = re.compile(r"^(\d+)\.(step|exp_avg|exp_avg_sq)$")
#: What every saved state has (older keys only; newer ones have defaults where read).
_STATE_KEYS = ("step", "epoch", "cursor", "world", "config", "optimizer_param_groups")
#: The AdamW group settings a step needs (others default when loaded).
_GROUP_KEYS = ("params", "lr", "betas", "eps", "weight_decay")
_DAMAGED = "the checkpoint is damaged: delete it to resume from an earlier one, or start over with --no-resume"


def checkpoint_name(step: int) -> str:
    return f"step-{step:08d}"


def list_checkpoints(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Finished checkpoints of a run, oldest first (half-written ones are hidden temp dirs)."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name))


def _rng_tensors() -> dict[str, torch.Tensor]:
    tensors = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, st in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda{i}"] = st
    return tensors


def _read_rng(file: Path) -> dict[str, torch.Tensor]:
    """A rank's generator states (``rng-rank<R>.safetensors``), checked before anything is restored."""
    tensors = _load_tensors(file)
    cpu = tensors.get("cpu")
    if cpu is None or cpu.dtype != torch.uint8 or cpu.shape != torch.get_rng_state().shape:
        raise ValueError(f"{file}: key 'cpu' is missing or not a torch CPU generator state; {_DAMAGED}")
    return tensors


def _restore_rng(tensors: dict[str, torch.Tensor]) -> None:
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
    save_file(_rng_tensors(), staging / f"rng-rank{rank}.safetensors")
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
    """The trainer state of checkpoint ``path`` (``trainer_state.json``); ValueError naming it if damaged."""
    file = path / STATE_FILE
    try:
        state = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{file}: missing; {_DAMAGED}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{file}: not valid JSON ({err}); {_DAMAGED}") from None
    missing = [k for k in _STATE_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise ValueError(f"{file}: no {', '.join(missing)}; {_DAMAGED}")
    return state  # type: ignore[no-any-return]


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """The model tensors of checkpoint (or model directory) ``path``."""
    return _load_tensors(path / MODEL_FILE)


def read_snapshot(path: Path) -> Snapshot:
    """Model and optimizer tensors of checkpoint ``path`` (unchecked: see :func:`check_snapshot`)."""
    groups = read_state(path)["optimizer_param_groups"]
    return Snapshot(read_weights(path), _load_tensors(path / OPTIMIZER_FILE), groups)


def check_snapshot(path: Path, snapshot: Snapshot, model: Any, optimizer: torch.optim.Optimizer) -> None:
    """Refuse a snapshot of checkpoint ``path`` that does not fit ``model`` and ``optimizer``.

    Checks every model tensor's name, shape and dtype (a name tied to another may be
    left out), the optimizer groups (``trainer_state.json``) and every optimizer
    tensor: key ``<index>.step|exp_avg|exp_avg_sq``, index within the optimizer's
    parameters, shape and dtype of that parameter. Raises ValueError naming the
    file and the key, so nothing fails later in a training step.
    """
    expected = model.state_dict()  # under FSDP: DTensors, whose shape is the full one
    weights_file = path / MODEL_FILE
    aliases = tied_aliases(model)
    missing = [k for k in expected if k not in snapshot.weights and aliases.get(k) not in snapshot.weights]
    unexpected = [k for k in snapshot.weights if k not in expected]
    if missing or unexpected:
        raise ValueError(f"{weights_file}: does not match the model (missing {missing}, unexpected {unexpected})")
    for name, tensor in snapshot.weights.items():
        _check_tensor(weights_file, name, tensor, tuple(expected[name].shape), expected[name].dtype)
    state_file = path / STATE_FILE
    groups = snapshot.param_groups
    if not isinstance(groups, list) or len(groups) != len(optimizer.param_groups):
        raise ValueError(f"{state_file}: key 'optimizer_param_groups' must list {len(optimizer.param_groups)} "
                         f"groups; {_DAMAGED}")  # fmt: skip
    params = [p for group in optimizer.param_groups for p in group["params"]]
    indices = []
    for k, (saved, live) in enumerate(zip(groups, optimizer.param_groups, strict=True)):
        absent = [key for key in _GROUP_KEYS if not isinstance(saved, dict) or key not in saved]
        if absent or len(saved["params"]) != len(live["params"]):
            raise ValueError(f"{state_file}: key 'optimizer_param_groups' group {k} lacks {absent} or has "
                             f"not {len(live['params'])} parameters; {_DAMAGED}")  # fmt: skip
        indices += saved["params"]
    if indices != list(range(len(params))):
        raise ValueError(f"{state_file}: key 'optimizer_param_groups' does not number the parameters "
                         f"0..{len(params) - 1} in order; {_DAMAGED}")  # fmt: skip
    optimizer_file = path / OPTIMIZER_FILE
    keys: dict[int, set[str]] = {}
    for name, tensor in snapshot.optimizer.items():
        match = _OPTIMIZER_KEY.match(name)
        if match is None:
            raise ValueError(f"{optimizer_file}: key {name!r} is not <parameter index>.step, .exp_avg or "
                             f".exp_avg_sq; {_DAMAGED}")  # fmt: skip
        index, field = int(match[1]), match[2]
        if index >= len(params):
            raise ValueError(f"{optimizer_file}: key {name!r}: the optimizer has only {len(params)} parameters; "
                             f"{_DAMAGED}")  # fmt: skip
        param = params[index]
        if field != "step":
            _check_tensor(optimizer_file, name, tensor, tuple(param.shape), param.dtype)
        elif tensor.shape != () or not tensor.is_floating_point():
            raise ValueError(f"{optimizer_file}: key {name!r} has shape {tuple(tensor.shape)} and dtype "
                             f"{tensor.dtype}; a step count is a floating-point scalar; {_DAMAGED}")  # fmt: skip
        keys.setdefault(index, set()).add(field)
    for index, fields in sorted(keys.items()):
        if fields != {"step", "exp_avg", "exp_avg_sq"}:
            raise ValueError(f"{optimizer_file}: parameter {index} has only {sorted(fields)} of step, exp_avg, "
                             f"exp_avg_sq; {_DAMAGED}")  # fmt: skip


def _check_tensor(file: Path, name: str, tensor: torch.Tensor, shape: tuple[int, ...],
                  dtype: torch.dtype | None) -> None:  # fmt: skip
    if tuple(tensor.shape) != shape or tensor.dtype != dtype:
        raise ValueError(f"{file}: key {name!r} has shape {tuple(tensor.shape)} and dtype {tensor.dtype}; "
                         f"the model needs {shape} and {dtype}; {_DAMAGED}")  # fmt: skip


def _load_tensors(file: Path) -> dict[str, torch.Tensor]:
    """A safetensors file's tensors; ValueError naming it when missing or unreadable."""
    if not file.is_file():
        raise ValueError(f"{file}: missing; {_DAMAGED}")
    try:
        return load_file(file)
    except Exception as err:  # noqa: BLE001  # safetensors raises its own error types (truncated, bad header)
        raise ValueError(f"{file}: not a readable safetensors file ({err}); {_DAMAGED}") from None


def load_checkpoint(path: Path, parallel: ParallelModel, optimizer: torch.optim.Optimizer, rank: int = 0,
                    rng: bool = True) -> dict[str, Any]:  # fmt: skip
    """Restore model, optimizer and (if ``rng``) this rank's RNG from ``path``; return the trainer state.

    Every rank calls this; under FSDP only rank 0 reads the tensors and scatters them.
    All files are read and checked (:func:`check_snapshot`) before anything is
    restored, and a failure on any rank is raised on every rank.
    """
    reads = rank == 0 or not parallel.sharded

    def read() -> tuple[dict[str, Any], Snapshot | None, dict[str, torch.Tensor] | None]:
        state = read_state(path)
        state.pop("optimizer_param_groups")
        snapshot = read_snapshot(path) if reads else None
        if snapshot is not None:
            check_snapshot(path, snapshot, parallel.model, optimizer)
        if not rng:
            return state, snapshot, None
        rng_file = path / f"rng-rank{rank}.safetensors"
        if not rng_file.exists():
            raise ValueError(f"{path}: no {rng_file.name}, though it was made with this number of "
                             "processes; it is incomplete: resume from an earlier one or start over")  # fmt: skip
        return state, snapshot, _read_rng(rng_file)

    state, snapshot, generators = parallel.ctx.agree(read)
    parallel.restore(optimizer, snapshot, str(path))
    if generators is not None:
        _restore_rng(generators)
    return state
