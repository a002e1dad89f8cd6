"""The training loop, shared by pretraining and tuning.

One function a reader can hold in their head: get batch, forward, backward, clip,
schedule, step, log, maybe evaluate, maybe checkpoint. Everything that must
survive a crash is one JSON-able ``state`` dict plus the model, optimizer and RNG
(see :mod:`sciprep.training.checkpoint`); the data order is a pure function of
(seed, epoch), so (epoch, cursor) pins down the next batch exactly.

Batches: an optimizer step consumes ``batch_size * grad_accum * world`` rows of the
epoch's plan; rank ``r``'s micro-batch ``m`` is the ``(m * world + r)``-th slice of
``batch_size`` rows. Rows left over at the end of an epoch (fewer than one global
batch) are skipped that epoch; the next epoch's shuffle covers them. Which rows a
step consumes depends only on the global batch, not on how it is split over ranks
(see :mod:`sciprep.training.resume` for resuming with another number of processes;
:mod:`sciprep.training.parallel` for DDP and FSDP).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from sciprep.training.checkpoint import (
    CHECKPOINTS_DIR, checkpoint_name, load_checkpoint, read_state, read_weights, save_checkpoint,
)  # fmt: skip
from sciprep.training.config import LoopConfig
from sciprep.training.distributed import DistContext, check_shared_directory
from sciprep.training.export import export_model, write_summary
from sciprep.training.metrics import MetricsLog, device_peak_tflops, flops_per_token, matmul_precision
from sciprep.training.parallel import ParallelModel
from sciprep.training.resume import (
    adapt_to_world, check_compatible, newest_checkpoint, reseed_rank, resume_state,
)  # fmt: skip
from sciprep.training.schedule import learning_rate

if TYPE_CHECKING:
    from transformers import PreTrainedModel

IGNORE_INDEX = -100


class RowSource(Protocol):
    """Training rows: what the loop needs from pretraining windows or tuning examples."""

    context_length: int
    sources: list[str]

    def plan(self, epoch: int) -> np.ndarray[Any, Any]: ...
    def batch(self, rows: np.ndarray[Any, Any]) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
        """Model keyword inputs (at least ``input_ids``) and targets (-100 = ignored) for ``rows``."""
        ...

    def row_sources(self, rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]: ...
    def row_tokens(self, rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Real (non-padding) input tokens of each row: what throughput and accounting count."""
        ...

    def unique_tokens_by_source(self) -> np.ndarray[Any, Any]: ...


Evaluate = Callable[["PreTrainedModel"], dict[str, float]]


def uses_bf16(device: torch.device, precision: str) -> bool:
    """Whether ``precision`` means bf16 autocast on ``device`` (``auto`` = bf16 on CUDA only)."""
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be auto, bf16 or fp32, got {precision!r}")
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def autocast_context(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on CUDA (``auto``/``bf16``), plain fp32 otherwise."""
    if uses_bf16(device, precision):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over non-ignored targets (0 with a gradient when there are none)."""
    flat = targets.reshape(-1)
    total = F.cross_entropy(logits.float().reshape(flat.numel(), -1), flat,
                            ignore_index=IGNORE_INDEX, reduction="sum")  # fmt: skip
    return total / (flat != IGNORE_INDEX).sum().clamp(min=1)


def make_optimizer(model: torch.nn.Module, cfg: LoopConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not biases, norms)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2),
                             fused=device.type == "cuda")  # fmt: skip


def plan_steps(cfg: LoopConfig, rows: RowSource, world: int) -> tuple[int, int, int]:
    """(global rows per step, steps per epoch, total steps) for the configured budget."""
    per_step = cfg.batch_size * cfg.grad_accum * world
    plan_len = len(rows.plan(0))
    per_epoch = plan_len // per_step
    if per_epoch == 0:
        raise ValueError(
            f"one epoch has {plan_len} rows but a step needs {per_step} "
            "(batch_size x grad_accum x processes); lower them or add data"
        )
    if cfg.max_tokens:
        total = math.ceil(cfg.max_tokens / (per_step * rows.context_length))
    elif cfg.epochs:
        total = max(1, round(cfg.epochs * per_epoch))
    else:
        raise ValueError("no training budget: set epochs or max_tokens")
    return per_step, per_epoch, total


def run_training(cfg: LoopConfig, model: PreTrainedModel, rows: RowSource, evaluate: Evaluate,
                 tokenizer: Any, ctx: DistContext, notes: dict[str, Any] | None = None,
                 inputs: dict[str, Any] | None = None, split: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Train ``model`` on ``rows`` into ``cfg.out``; return the final state.

    ``inputs`` identifies what the run trains on (data directory and its fingerprint,
    starting model); a resume must see the same. A finished run also writes
    ``model/`` (with ``split``, the held-out rule its data used, see
    :func:`~sciprep.training.export.export_model`) and ``summary.json`` (with ``notes``).
    """
    run_dir = Path(cfg.out)
    check_shared_directory(ctx, run_dir)
    checkpoint = newest_checkpoint(cfg, run_dir, ctx)

    def plan_resume() -> tuple[dict[str, Any] | None, LoopConfig, dict[str, Any] | None]:
        if checkpoint is None:
            return None, cfg, None
        saved = read_state(checkpoint)  # a changed world size re-chooses the per-rank batch (or is refused)
        return (saved, *adapt_to_world(cfg, saved, ctx, run_dir))

    saved, cfg, change = ctx.agree(plan_resume)
    parallel = ParallelModel(model, ctx, cfg.parallel)
    optimizer = make_optimizer(model, cfg, ctx.device)
    per_step, per_epoch, total_steps = plan_steps(cfg, rows, ctx.world)
    warmup = int(cfg.warmup_fraction * total_steps)
    n_sources = len(rows.sources)
    fresh: dict[str, Any] = {
        "step": 0, "epoch": 0, "cursor": 0, "tokens_seen": 0, "tokens_by_source": [0] * n_sources,
        "best_val": None, "best_step": None, "best_epoch": None, "bad_evals": 0, "early_stop": None,
        "stopped": None, "total_steps": total_steps, "world": ctx.world, "global_batch": per_step,
        "world_changes": [], "config": asdict(cfg), "last_val": None, "loss_window": [0.0, 0],
        "inputs": inputs or {},
    }  # fmt: skip
    metrics = MetricsLog(run_dir, enabled=cfg.metrics and ctx.is_main)
    if checkpoint is None or saved is None:
        if ctx.is_main and metrics.path.exists():
            metrics.path.unlink()
        state = fresh
    else:
        ctx.agree(lambda: check_compatible(cfg, saved, fresh, run_dir))
        state = resume_state(load_checkpoint(checkpoint, parallel, optimizer, ctx.rank, rng=change is None),
                             cfg, ctx, change)  # fmt: skip
        if change is not None:
            reseed_rank(cfg.seed, ctx.rank, state["step"])
        metrics.truncate_after(state["step"])
    wrapped = parallel.module
    forward: Callable[..., Any] = torch.compile(wrapped) if cfg.compile else wrapped
    shape = model.config
    flops = flops_per_token(sum(p.numel() for p in model.parameters()), shape.num_hidden_layers,
                            shape.hidden_size, rows.context_length)  # fmt: skip
    peak = None
    if ctx.device.type == "cuda":  # MFU against the peak of the precision the matmuls actually run in
        precision = matmul_precision(uses_bf16(ctx.device, cfg.precision))
        peak = device_peak_tflops(torch.cuda.get_device_name(ctx.device), precision)
    autocast = autocast_context(ctx.device, cfg.precision)
    bar = tqdm(total=total_steps, initial=state["step"], desc="train", unit="step",
               disable=not (cfg.progress and ctx.is_main))  # fmt: skip
    clock, clock_tokens = time.perf_counter(), 0
    # Train losses summed since the last log record (restored on resume so records match): the
    # checkpoint holds the mean over ranks of their sums; rank 0 takes it all back, scaled.
    restored = state["loss_window"][0] * ctx.world if ctx.is_main else 0.0
    loss_window = torch.tensor(restored, dtype=torch.float32, device=ctx.device)
    loss_count = state["loss_window"][1]

    def save() -> None:
        state["loss_window"] = [ctx.all_reduce_sum(loss_window.clone()).item() / ctx.world, loss_count]
        snapshot = parallel.snapshot(optimizer)
        save_checkpoint(run_dir, state["step"], model, snapshot, state, tokenizer, cfg.keep_checkpoints,
                        ctx.rank, ctx.world, ctx.barrier, protect=state["best_step"], split=split)  # fmt: skip

    while state["step"] < total_steps and not state["early_stop"]:
        plan, cursor = rows.plan(state["epoch"]), state["cursor"]
        wrapped.train()
        step_loss = torch.zeros((), device=ctx.device)
        for micro in range(cfg.grad_accum):
            start = cursor + (micro * ctx.world + ctx.rank) * cfg.batch_size
            inputs, targets = rows.batch(plan[start : start + cfg.batch_size])
            x = {k: torch.from_numpy(v).to(ctx.device) for k, v in inputs.items()}
            y = torch.from_numpy(targets).to(ctx.device)
            with parallel.gradient_sync(micro == cfg.grad_accum - 1):
                with autocast:
                    loss = token_loss(forward(**x).logits, y)
                (loss / cfg.grad_accum).backward()
            step_loss += loss.detach() / cfg.grad_accum
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        lr = learning_rate(state["step"], total_steps, cfg.lr, warmup, cfg.min_lr_ratio, cfg.decay)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        consumed = plan[cursor : cursor + per_step]
        real = rows.row_tokens(consumed)  # padding is not throughput
        counts = np.bincount(rows.row_sources(consumed), weights=real, minlength=n_sources)
        state["tokens_by_source"] = [a + int(b) for a, b in zip(state["tokens_by_source"], counts, strict=True)]
        state["step"] += 1
        state["cursor"] += per_step
        state["tokens_seen"] += int(real.sum())
        clock_tokens += int(real.sum())
        loss_window += step_loss
        loss_count += 1
        epoch_done = state["cursor"] == per_epoch * per_step
        if epoch_done:
            state["epoch"] += 1
            state["cursor"] = 0
        epoch_float = state["epoch"] + state["cursor"] / (per_epoch * per_step)
        bar.update(1)
        last = state["step"] == total_steps
        if state["step"] % cfg.log_interval == 0 or epoch_done or last:
            mean_loss = ctx.all_reduce_sum(loss_window.clone()).item() / (loss_count * ctx.world)
            elapsed = time.perf_counter() - clock
            tps = clock_tokens / elapsed if elapsed > 0 else 0.0
            record = {"type": "train", "step": state["step"], "epoch": epoch_float, "loss": mean_loss,
                      "lr": lr, "tokens_seen": state["tokens_seen"], "tokens_per_s": tps,
                      "gflops_per_s": flops * tps / 1e9}  # fmt: skip
            if peak:
                record["mfu"] = flops * tps / ctx.world / (peak * 1e12)
            metrics.write(record)
            bar.set_postfix(loss=f"{mean_loss:.4f}", lr=f"{lr:.2e}", tok_s=f"{tps:,.0f}")
            loss_window, loss_count = torch.zeros((), device=ctx.device), 0
            clock, clock_tokens = time.perf_counter(), 0
        improved = False
        if epoch_done or last or (cfg.eval_interval and state["step"] % cfg.eval_interval == 0):
            result = evaluate(model)
            _update_early_stop(state, result["loss"], epoch_float, cfg.patience)
            improved = state["best_step"] == state["step"]
            metrics.write({"type": "val", "step": state["step"], "epoch": epoch_float,
                           "tokens_seen": state["tokens_seen"], "epoch_end": epoch_done, **result})  # fmt: skip
            if state["early_stop"]:
                metrics.write({"type": "early_stop", "tokens_seen": state["tokens_seen"], **state["early_stop"]})
        stop_here = cfg.stop_at_step is not None and state["step"] >= cfg.stop_at_step and not last
        interval = cfg.checkpoint_interval and state["step"] % cfg.checkpoint_interval == 0
        if epoch_done or last or interval or stop_here or improved or state["early_stop"]:
            save()
            clock, clock_tokens = time.perf_counter(), 0
        if stop_here:
            state["stopped"] = f"stop_at_step {cfg.stop_at_step}"
            break
    bar.close()
    if not state["stopped"]:
        exported = state["step"]
        if state["early_stop"]:  # training stopped because validation turned: ship the best weights
            exported = state["best_step"]
        weights = parallel.full_weights() if exported == state["step"] else (
            read_weights(run_dir / CHECKPOINTS_DIR / checkpoint_name(exported)) if ctx.is_main else {})  # fmt: skip
        if ctx.is_main:
            export_model(run_dir / "model", model, tokenizer, split, weights)
            write_summary(run_dir, state, rows, {**(notes or {}), "exported_step": exported})
    ctx.barrier()
    return state


def _update_early_stop(state: dict[str, Any], loss: float, epoch: float, patience: int) -> None:
    """Track the best validation loss; record where patience ran out."""
    state["last_val"] = loss
    if state["best_val"] is None or loss < state["best_val"]:
        state.update(best_val=loss, best_step=state["step"], best_epoch=epoch, bad_evals=0)
        return
    state["bad_evals"] += 1
    if patience and state["bad_evals"] >= patience:
        state["early_stop"] = {"epoch": epoch, "completed_epochs": state["epoch"], "step": state["step"],
                               "best_val": state["best_val"], "best_step": state["best_step"],
                               "best_epoch": state["best_epoch"]}  # fmt: skip
