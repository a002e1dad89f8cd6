"""``sciprep train pretrain``: a preset model trained on a packed directory.

Validation uses the packed ``val`` stream (documents held out by
:func:`sciprep.corpus.splits.is_validation`), tiled into context windows in order
(plus a final shorter window), and reports the loss overall and per modality.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from sciprep.training.config import PretrainConfig
from sciprep.training.distributed import DistContext, init_distributed
from sciprep.training.loop import IGNORE_INDEX, autocast_context, run_training
from sciprep.training.modality import MODALITIES, token_modalities
from sciprep.training.packing import load_packed_meta
from sciprep.training.parallel import model_device
from sciprep.training.presets import build_model, model_config
from sciprep.training.token_files import open_tokens
from sciprep.training.windows import WindowPlanner

if TYPE_CHECKING:
    from transformers import PreTrainedModel


class ValidationSet:
    """The held-out token stream cut into windows, with each target token's modality."""

    def __init__(self, tokens_path: Path, context_length: int, max_windows: int | None) -> None:
        self.tokens = np.asarray(open_tokens(tokens_path), dtype=np.int64)
        self.modality = token_modalities(self.tokens)
        n = len(self.tokens)
        starts = list(range(0, max(0, n - 1), context_length))
        self.segments = [(s, min(context_length, n - 1 - s)) for s in starts]
        if max_windows is not None and len(self.segments) > max_windows:
            self.segments = [self.segments[i] for i in self._pick(max_windows)]
        if not self.segments:
            raise ValueError(f"{tokens_path}: the validation split is empty; pack with a larger "
                             "--val-fraction or a bigger corpus")  # fmt: skip

    def _pick(self, max_windows: int) -> list[int]:
        """``max_windows`` window indices: each modality's windows first, then an even spread.

        Evenly spaced windows alone can miss a modality with few held-out tokens (a
        handful of DNA records among prose), which would then get no loss at all; so
        every non-text modality present gets up to ``max_windows // 10`` (at least
        one) of the windows whose targets contain it, and the rest of the budget is
        spread evenly over the remaining windows.
        """
        n = len(self.segments)
        # Windows tile the targets (tokens[1:]), so per-window counts are one reduceat per modality.
        targets = self.modality[1:]
        starts = np.array([start for start, _ in self.segments], dtype=np.int64)
        quota = max(1, max_windows // 10)
        chosen: set[int] = set()
        for code in range(1, len(MODALITIES)):
            windows = np.flatnonzero(np.add.reduceat((targets == code).astype(np.int64), starts))
            if len(windows) == 0 or len(chosen) >= max_windows:
                continue
            take = min(quota, len(windows), max_windows - len(chosen))
            chosen.update(int(windows[i]) for i in np.linspace(0, len(windows) - 1, take).round().astype(int))
        rest = np.array(sorted(set(range(n)) - chosen), dtype=np.int64)
        fill = min(max_windows - len(chosen), len(rest))
        if fill > 0:
            chosen.update(int(rest[i]) for i in np.linspace(0, len(rest) - 1, fill).round().astype(int))
        return sorted(chosen)

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, ctx: DistContext, batch_size: int, precision: str) -> dict[str, float]:
        """Mean loss over all validation targets, and per modality (``loss_math`` ...)."""
        model.eval()
        sums = torch.zeros(len(MODALITIES), dtype=torch.float64)
        counts = torch.zeros(len(MODALITIES), dtype=torch.float64)
        mine = self.segments[ctx.rank :: ctx.world]
        by_length: dict[int, list[int]] = {}
        for start, length in mine:
            by_length.setdefault(length, []).append(start)
        batches = [(length, starts[i : i + batch_size]) for length, starts in sorted(by_length.items())
                   for i in range(0, len(starts), batch_size)]  # fmt: skip
        # A sharded model's forward is a collective: ranks with fewer batches run throwaway ones.
        rounds = ctx.max_over_ranks(len(batches)) if ctx.sharded else len(batches)
        for k in range(rounds):
            length, chunk = batches[k] if k < len(batches) else (self.segments[0][1], [self.segments[0][0]])
            idx = np.asarray(chunk)[:, None] + np.arange(length + 1)[None, :]
            window = torch.from_numpy(self.tokens[idx]).to(ctx.device)
            with autocast_context(ctx.device, precision):
                logits = model(input_ids=window[:, :-1]).logits
            if k < len(batches):
                losses = torch.nn.functional.cross_entropy(
                    logits.float().reshape(-1, logits.shape[-1]), window[:, 1:].reshape(-1),
                    ignore_index=IGNORE_INDEX, reduction="none").double().cpu()  # fmt: skip
                kinds = torch.from_numpy(self.modality[idx[:, 1:]].reshape(-1).astype(np.int64))
                sums += torch.bincount(kinds, weights=losses, minlength=len(MODALITIES))
                counts += torch.bincount(kinds, minlength=len(MODALITIES)).double()
        totals = ctx.all_reduce_sum(torch.stack([sums, counts]).to(ctx.device)).cpu()
        sums, counts = totals[0], totals[1]
        result = {"loss": float(sums.sum() / counts.sum())}
        for k, name in enumerate(MODALITIES):
            result[f"tokens_{name}"] = int(counts[k])
            if counts[k] > 0:
                result[f"loss_{name}"] = float(sums[k] / counts[k])
        return result


def pretrain(cfg: PretrainConfig) -> dict[str, Any]:
    """Run (or resume) pretraining as configured; return the final trainer state."""
    from sciprep.tokenize import SciTokenizer

    if not cfg.data:
        raise ValueError("no packed data: give --data PACKED_DIR or `data:` in the config")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    # Join the group first: set-up that fails on one node (its view of the data) then fails every node.
    ctx = init_distributed(cfg.device, cfg.parallel, cfg.dist_timeout)

    def set_up() -> tuple[dict[str, Any], Any, WindowPlanner, ValidationSet, PreTrainedModel]:
        meta = load_packed_meta(cfg.data)
        tokenizer = SciTokenizer.load(Path(cfg.data) / "tokenizer")
        train_sources = meta["splits"]["train"]["sources"]
        weights = {k: v for k, v in meta.get("source_weights", {}).items() if k in train_sources}
        weights.update(cfg.source_weights)
        rows = WindowPlanner(cfg.data, cfg.context_length, cfg.seed, weights, cfg.prompt_ratio)
        val = ValidationSet(Path(cfg.data) / "val.tokens", cfg.context_length, cfg.eval_windows)
        with model_device(ctx, cfg.parallel):  # FSDP: only rank 0 materialises the initial weights
            config = model_config(cfg.preset, meta["vocab_size"], cfg.context_length, cfg.dropout)
            model = build_model(config, cfg.seed)
        return meta, tokenizer, rows, val, model

    meta, tokenizer, rows, val, model = ctx.agree(set_up)
    # Dropout must differ across ranks but be reproducible: seed each rank's generator.
    torch.manual_seed(cfg.seed * 1000 + ctx.rank + 1)

    def evaluate(m: PreTrainedModel) -> dict[str, float]:
        return val.evaluate(m, ctx, cfg.batch_size, cfg.precision)

    inputs = {"data": str(Path(cfg.data).resolve()), "tokenizer_fingerprint": meta["tokenizer_fingerprint"],
              "train_tokens": meta["splits"]["train"]["tokens"]}  # fmt: skip
    split = {"val_fraction": meta["val_fraction"], "split_seed": meta["split_seed"],
             "corpus_dir": meta["corpus_dir"]}  # fmt: skip
    return run_training(cfg, model, rows, evaluate, tokenizer, ctx, inputs=inputs, split=split)
