"""Resuming a run: which checkpoint, whether it fits this run, and a changed world size.

A checkpoint records the number of processes that made it (``world``) and its
global batch (``global_batch`` = ``batch_size x grad_accum x world`` rows per
optimizer step). The data order is a pure function of (seed, epoch) and a step
consumes the next ``global_batch`` rows of it, whatever the world size; so the
position in the data (epoch, cursor, step) does not depend on the world size
as long as the global batch stays the same.

* Same world size: resume is bit-exact (model, optimizer, every rank's RNG).
* Different world size: refused, unless ``allow_world_size_change`` is set. Then
  the run continues from the same global position with the same global batch;
  each rank's micro-batch and the gradient accumulation are re-chosen to keep it
  (:func:`fit_global_batch`), and each rank's dropout generator is re-seeded from
  (seed, rank, step) because the old ranks' streams have no counterpart.
* After such a change (or whenever ``allow_world_size_change`` is set) the
  per-rank batch is re-fitted on every resume, also at the same world size, so
  rerunning the command that made the change resumes: only the global batch must
  match, and the RNG files are restored as usual since the world is the same.

Which checkpoint to resume is decided by rank 0 alone and broadcast: ranks
listing the directory on their own could see different newest checkpoints
(a filesystem's directory-cache lag) or none (listing after ``--no-resume``
deleted them).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from sciprep.training.checkpoint import CHECKPOINTS_DIR, list_checkpoints
from sciprep.training.config import LoopConfig
from sciprep.training.distributed import DistContext

C = TypeVar("C", bound=LoopConfig)

#: Config keys that change the data order or the optimisation; a resume must match them.
RESUME_KEYS = ("seed", "batch_size", "grad_accum", "context_length", "epochs", "max_tokens",
               "lr", "min_lr_ratio", "warmup_fraction", "decay", "weight_decay", "beta1",
               "beta2", "grad_clip", "preset", "dropout", "prompt_ratio", "source_weights",
               "val_fraction", "split_seed")  # fmt: skip
#: Keys a world-size change may re-choose (their product with the world stays fixed).
_PER_RANK_KEYS = ("batch_size", "grad_accum")


def fit_global_batch(global_batch: int, world: int, max_batch: int) -> tuple[int, int]:
    """(batch_size, grad_accum) with ``batch_size * grad_accum * world == global_batch``.

    ``batch_size`` is the largest divisor of the per-rank rows that is at most
    ``max_batch`` (the micro-batch a device is known to hold), so the fewest
    accumulation steps are used. Raises ValueError when ``world`` does not divide
    ``global_batch``.
    """
    if world < 1 or max_batch < 1 or global_batch < 1:
        raise ValueError(f"need positive sizes, got global batch {global_batch}, world {world}, "
                         f"batch {max_batch}")  # fmt: skip
    if global_batch % world:
        raise ValueError(f"a global batch of {global_batch} rows per step cannot be split evenly over "
                         f"{world} processes; use a number of processes that divides {global_batch}")  # fmt: skip
    per_rank = global_batch // world
    batch = max(d for d in range(1, min(max_batch, per_rank) + 1) if per_rank % d == 0)
    return batch, per_rank // batch


def global_batch_of(state: dict[str, Any]) -> int:
    """Rows per optimizer step of a saved run (older checkpoints lack ``global_batch``)."""
    if "global_batch" in state:
        return int(state["global_batch"])
    return int(state["config"]["batch_size"] * state["config"]["grad_accum"] * state["world"])


def newest_checkpoint(cfg: LoopConfig, run_dir: Path, ctx: DistContext) -> Path | None:
    """The checkpoint to resume from, or None; ``--no-resume`` deletes the run's checkpoints.

    Every rank calls this and gets rank 0's choice (rank 0 alone lists and deletes).
    """

    def choose() -> str | None:
        if not ctx.is_main:
            return None
        checkpoints = list_checkpoints(run_dir)
        if checkpoints and not cfg.resume:
            shutil.rmtree(run_dir / CHECKPOINTS_DIR)
            return None
        return str(checkpoints[-1]) if checkpoints else None

    chosen = ctx.broadcast(ctx.agree(choose))
    return Path(chosen) if chosen is not None else None


def adapt_to_world(cfg: C, saved: dict[str, Any], ctx: DistContext, where: Path) -> tuple[C, dict[str, Any] | None]:
    """``cfg`` with per-rank batch settings for this world size, and the world change made (None if none).

    The per-rank batch is re-fitted to the saved global batch when the world size
    differs, when the run was resumed across a world-size change before (its saved
    per-rank keys were chosen then, not given by the user), or when
    ``allow_world_size_change`` is set. Raises ValueError naming both sizes when
    the world size differs and the configuration does not allow it, or when the
    global batch cannot be kept.
    """
    old, new = int(saved["world"]), ctx.world
    rows = global_batch_of(saved)
    if old == new and not (saved.get("world_changes") or cfg.allow_world_size_change):
        return cfg, None
    if old != new and not cfg.allow_world_size_change:
        raise ValueError(f"{where}: its checkpoints were made with {old} process(es) but this run has {new}; "
                         f"resume with {old}, or pass --allow-world-size-change to continue from the same "
                         f"global position with the same global batch ({rows} rows per step)")  # fmt: skip
    try:
        batch, accum = fit_global_batch(rows, new, cfg.batch_size)
    except ValueError as err:
        raise ValueError(f"{where}: cannot resume with {new} process(es) (made with {old}): {err}") from None
    fitted = dataclasses.replace(cfg, batch_size=batch, grad_accum=accum)
    if old == new:
        return fitted, None
    return fitted, {"step": saved["step"], "from_world": old, "to_world": new, "batch_size": batch,
                    "grad_accum": accum}  # fmt: skip


def check_compatible(cfg: LoopConfig, saved: dict[str, Any], fresh: dict[str, Any], where: Path) -> None:
    """Refuse a resume whose settings or inputs differ from the checkpoint's (naming the keys).

    The per-rank keys (``batch_size``, ``grad_accum``) are not compared when
    :func:`adapt_to_world` re-fits them (see there); the global batch always is.
    """
    refitted = (int(saved["world"]) != fresh["world"] or bool(saved.get("world_changes"))
                or cfg.allow_world_size_change)  # fmt: skip
    keys = [k for k in RESUME_KEYS if not (refitted and k in _PER_RANK_KEYS)]
    changed = [k for k in keys if saved["config"].get(k) != getattr(cfg, k, None)]
    changed += [k for k in sorted(set(saved.get("inputs", {})) | set(fresh["inputs"]))
                if saved.get("inputs", {}).get(k) != fresh["inputs"].get(k)]  # fmt: skip
    if global_batch_of(saved) != fresh["global_batch"]:
        changed.append("global batch")
    if changed:
        raise ValueError(f"{where}: its checkpoints were made with different {', '.join(changed)}; "
                         "use a new --out or --no-resume")  # fmt: skip


def reseed_rank(seed: int, rank: int, step: int) -> None:
    """Seed this rank's torch generators from (seed, rank, step): a fresh, reproducible stream."""
    torch.manual_seed(int(np.random.SeedSequence([seed, rank, step]).generate_state(1, np.uint64)[0] >> 1))


def resume_state(saved_state: dict[str, Any], cfg: LoopConfig, ctx: DistContext,
                 change: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """The loaded trainer state, updated to this run's world size and per-rank batch when they changed."""
    state = dict(saved_state)
    state["stopped"] = None
    if change is not None or any(state["config"].get(k) != getattr(cfg, k) for k in _PER_RANK_KEYS):
        state["world"] = ctx.world
        state["config"] = dataclasses.asdict(cfg)
    if change is not None:
        state["world_changes"] = [*state.get("world_changes", []), change]
    return state
