"""``sciprep train tune``: supervised tuning on prompt records, from a pretrained model.

Loss is on answer tokens only (see :mod:`sciprep.training.sft_data`). Evaluation
runs on the held-out prompt records: the answer-token loss (each example alone, no
packing neighbours) and exact match of the greedy answer, compared after decoding
and stripping whitespace.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from sciprep.corpus.shards import SHARDS_DIR
from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION
from sciprep.tokenize.specials import EOS, PAD, SPECIAL_IDS
from sciprep.training.config import TuneConfig
from sciprep.training.distributed import DistContext, init_distributed
from sciprep.training.export import TRAINING_INFO_FILE, read_training_info
from sciprep.training.loop import IGNORE_INDEX, autocast_context, run_training
from sciprep.training.packing import PACKED_META
from sciprep.training.parallel import model_device
from sciprep.training.sft_data import Example, ExampleRows, evaluation_sample, load_prompt_examples

if TYPE_CHECKING:
    from transformers import PreTrainedModel


def resolve_model_dir(path: str | os.PathLike[str]) -> Path:
    """A model directory from a model dir, a checkpoint dir or a run dir."""
    root = Path(path)
    for candidate in (root, root / "model"):
        if (candidate / "config.json").exists() and (candidate / "model.safetensors").exists():
            return candidate
    raise FileNotFoundError(
        f"{path}: no config.json + model.safetensors here or in {root / 'model'}; pass a run "
        "directory, its model/ or one of its checkpoints/step-* directories"
    )


def _check_corpus_dir(data: str) -> None:
    """Refuse a packed directory (pretraining's input) with a pointer to the corpus it came from."""
    packed = Path(data) / PACKED_META
    if packed.is_file():
        corpus = json.loads(packed.read_text(encoding="utf-8")).get("corpus_dir", "CORPUS_DIR")
        raise ValueError(f"{data}: a packed directory, which pretraining reads; tuning reads a corpus "
                         f"directory with prompt records (kind='prompt'), e.g. the one it was packed "
                         f"from: --data {corpus}")  # fmt: skip
    if not (Path(data) / SHARDS_DIR).is_dir():
        raise ValueError(f"{data}: not a sciprep corpus directory (no {SHARDS_DIR}/ folder); tuning reads a "
                         "corpus directory with prompt records, as written by `sciprep corpus build`")  # fmt: skip


def held_out_rule(cfg: TuneConfig, model_dir: Path) -> tuple[float, int]:
    """The (val_fraction, split_seed) that hold out prompt records without a ``split``.

    Unset values come from the base model's ``sciprep_training.json`` (the rule its
    pretraining data was split with, so the held-out prompts are ones it never saw),
    else the corpus defaults. A :class:`UserWarning` says when a given value differs
    from the recorded one or when the model records none.
    """
    recorded = read_training_info(model_dir) or {}
    values: list[Any] = []
    for key, given, default in (("val_fraction", cfg.val_fraction, DEFAULT_VALIDATION_FRACTION),
                                ("split_seed", cfg.split_seed, DEFAULT_SPLIT_SEED)):  # fmt: skip
        known = recorded.get(key)
        if given is not None and known is not None and given != known:
            warnings.warn(f"{key} {given} differs from the {known} that {model_dir} was pretrained with "
                          f"({TRAINING_INFO_FILE}); held-out prompt records without a split may include "
                          "ones it was pretrained on", UserWarning, stacklevel=3)  # fmt: skip
        values.append(given if given is not None else known if known is not None else default)
    if not recorded and (cfg.val_fraction is None or cfg.split_seed is None):
        warnings.warn(f"{model_dir}: no {TRAINING_INFO_FILE}; holding out prompt records without a split "
                      f"with val_fraction {values[0]} and split_seed {values[1]}; pass the --val-fraction/"
                      "--split-seed given to `train pack`", UserWarning, stacklevel=3)  # fmt: skip
    return float(values[0]), int(values[1])


@torch.no_grad()
def evaluate_examples(model: PreTrainedModel, tokenizer: Any, examples: list[Example], ctx: DistContext,
                      batch_size: int, max_new_tokens: int, precision: str) -> dict[str, float]:  # fmt: skip
    """Answer-token loss and greedy exact match over ``examples`` (sliced across ranks)."""
    model.eval()
    mine = examples[ctx.rank :: ctx.world]
    totals = torch.zeros(4, dtype=torch.float64)  # loss sum, answer tokens, exact, examples
    limit = model.config.max_position_embeddings
    batches = [mine[i : i + batch_size] for i in range(0, len(mine), batch_size)]
    # A sharded model's forward is a collective: ranks with fewer batches run throwaway ones,
    # and generation runs until every rank is done (synced_gpus).
    rounds = ctx.max_over_ranks(len(batches)) if ctx.sharded else len(batches)
    for k in range(rounds):
        real = k < len(batches)
        chunk = batches[k] if real else examples[:1]
        width = max(len(e.tokens) for e in chunk)
        ids = torch.full((len(chunk), width), SPECIAL_IDS[PAD], dtype=torch.long)
        labels = torch.full((len(chunk), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, e in enumerate(chunk):
            ids[row, : len(e.tokens)] = torch.tensor(e.tokens)
            labels[row, : len(e.tokens)] = torch.tensor(e.labels)
            mask[row, : len(e.tokens)] = 1
        with autocast_context(ctx.device, precision):
            logits = model(input_ids=ids.to(ctx.device), attention_mask=mask.to(ctx.device)).logits
        targets = labels[:, 1:].to(ctx.device)
        losses = torch.nn.functional.cross_entropy(
            logits[:, :-1].float().reshape(-1, logits.shape[-1]), targets.reshape(-1),
            ignore_index=IGNORE_INDEX, reduction="sum")  # fmt: skip
        if real:
            totals[0] += losses.item()
            totals[1] += (targets != IGNORE_INDEX).sum().item()
        prompt_width = max(len(e.prompt) for e in chunk)
        prompts = torch.full((len(chunk), prompt_width), SPECIAL_IDS[PAD], dtype=torch.long)
        prompt_mask = torch.zeros_like(prompts)
        for row, e in enumerate(chunk):  # left padding, so every answer starts at the same column
            prompts[row, prompt_width - len(e.prompt) :] = torch.tensor(e.prompt)
            prompt_mask[row, prompt_width - len(e.prompt) :] = 1
        new_tokens = max(1, min(max_new_tokens, limit - prompt_width))
        with autocast_context(ctx.device, precision):
            generated = model.generate(  # type: ignore[operator]  # GenerationMixin stub
                input_ids=prompts.to(ctx.device), attention_mask=prompt_mask.to(ctx.device),
                max_new_tokens=new_tokens, do_sample=False, eos_token_id=SPECIAL_IDS[EOS],
                pad_token_id=SPECIAL_IDS[PAD], synced_gpus=ctx.sharded)  # fmt: skip
        if not real:
            continue
        for row, e in enumerate(chunk):
            answer = generated[row, prompt_width:].tolist()
            if SPECIAL_IDS[EOS] in answer:
                answer = answer[: answer.index(SPECIAL_IDS[EOS])]
            totals[2] += float(tokenizer.decode(answer).strip() == tokenizer.decode(e.answer).strip())
        totals[3] += len(chunk)
    totals = ctx.all_reduce_sum(totals.to(ctx.device)).cpu()
    loss, answer_tokens, exact, count = totals.tolist()
    return {"loss": loss / max(answer_tokens, 1.0), "exact_match": exact / max(count, 1.0), "examples": int(count)}


def fit_batch_to_rows(cfg: TuneConfig, rows: int, world: int) -> tuple[TuneConfig, str | None]:
    """``cfg`` with ``batch_size`` lowered so one step fits a training set of ``rows`` packed rows.

    A few dozen question/answer records pack into fewer rows than one default batch;
    on a single process the step simply gets smaller, with a warning. Across processes,
    or when even a batch of one per accumulation step does not fit, ``cfg`` is returned
    unchanged and the training loop's error (which names the sizes) stands.
    """
    if world != 1 or rows >= cfg.batch_size * cfg.grad_accum or rows < cfg.grad_accum:
        return cfg, None
    clamped = rows // cfg.grad_accum
    return dataclasses.replace(cfg, batch_size=clamped), (
        f"the training set has {rows} packed rows, fewer than one batch of {cfg.batch_size} x grad_accum "
        f"{cfg.grad_accum}; using batch_size {clamped}")  # fmt: skip


def tune(cfg: TuneConfig) -> dict[str, Any]:
    """Run (or resume) supervised tuning as configured; return the final trainer state."""
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    from sciprep.tokenize import SciTokenizer

    if not cfg.data or not cfg.init:
        raise ValueError("tuning needs --data CORPUS_DIR (with prompt records) and --from MODEL_DIR")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    # Join the group first: set-up that fails on one node (its view of the files) then fails every node.
    ctx = init_distributed(cfg.device, cfg.parallel, cfg.dist_timeout)

    def set_up() -> tuple[Path, float, int, Any, PreTrainedModel, Any]:
        _check_corpus_dir(cfg.data)
        model_dir = resolve_model_dir(cfg.init)
        val_fraction, split_seed = held_out_rule(cfg, model_dir)
        tokenizer = SciTokenizer.load(model_dir)
        if model_device(ctx, cfg.parallel).type == "meta":  # FSDP: rank 0 loads, the others get its shards
            with torch.device("meta"):
                model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model_dir), dtype=torch.float32)
            if (model_dir / "generation_config.json").is_file():
                model.generation_config = GenerationConfig.from_pretrained(model_dir)
        else:  # safetensors only: a pickled pytorch_model.bin could run code on load.
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, use_safetensors=True)
        if cfg.context_length > model.config.max_position_embeddings:
            raise ValueError(f"context_length {cfg.context_length} exceeds the model's "
                             f"{model.config.max_position_embeddings} positions")  # fmt: skip
        splits = load_prompt_examples(cfg.data, tokenizer, cfg.context_length + 1, val_fraction, split_seed)
        if not splits.train or not splits.test:
            raise ValueError(f"{cfg.data}: need prompt records in both splits (train {len(splits.train)}, "
                             f"held out {len(splits.test)})")  # fmt: skip
        return model_dir, val_fraction, split_seed, tokenizer, model, splits

    model_dir, val_fraction, split_seed, tokenizer, model, splits = ctx.agree(set_up)
    cfg = dataclasses.replace(cfg, val_fraction=val_fraction, split_seed=split_seed)  # resume compares these
    rows = ExampleRows(splits.train, cfg.context_length, cfg.seed)
    cfg, clamp_warning = fit_batch_to_rows(cfg, len(rows.plan(0)), ctx.world)
    if clamp_warning:
        print(f"warning: {clamp_warning}", file=sys.stderr, flush=True)
    held_out = evaluation_sample(splits.test, cfg.eval_examples)
    torch.manual_seed(cfg.seed * 1000 + ctx.rank + 1)

    def evaluate(m: PreTrainedModel) -> dict[str, float]:
        return evaluate_examples(m, tokenizer, held_out, ctx, cfg.batch_size, cfg.max_new_tokens, cfg.precision)

    notes = {"train_examples": len(splits.train), "held_out_examples": len(splits.test),
             "evaluated_examples": len(held_out), "skipped_examples": splits.skipped}  # fmt: skip
    inputs = {"data": str(Path(cfg.data).resolve()), "init": str(model_dir.resolve())}
    # The corpus documents the model never saw are those its pretraining held out; keep that rule.
    split = read_training_info(model_dir) or {"val_fraction": val_fraction, "split_seed": split_seed,
                                              "corpus_dir": cfg.data}  # fmt: skip
    return run_training(cfg, model, rows, evaluate, tokenizer, ctx, notes, inputs=inputs, split=split)
