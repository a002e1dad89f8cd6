"""The finished-run outputs: a loadable model directory and an accounting summary.

``RUN_DIR/model/`` is a plain Hugging Face directory (``config.json``,
``model.safetensors``, ``generation_config.json`` and the tokenizer files), so
``AutoModelForCausalLM.from_pretrained``, ``AutoTokenizer.from_pretrained`` and
``SciTokenizer.load`` all open it; ``sciprep_training.json`` beside them records
the held-out rule of the model's training data (``val_fraction``, ``split_seed``,
``corpus_dir``) so evaluation scores the documents the model never trained on.
``RUN_DIR/summary.json`` states what the run saw.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sciprep.atomicio import atomic_dir, write_json_atomic
from sciprep.tokenize.specials import BOS, EOS, PAD, SPECIAL_IDS

SUMMARY_FILE = "summary.json"
TRAINING_INFO_FILE = "sciprep_training.json"
MODEL_FILE = "model.safetensors"


def save_model_files(model: Any, directory: Path, weights: dict[str, Any] | None = None) -> None:
    """``config.json``, ``generation_config.json`` and ``model.safetensors`` for ``model``.

    ``weights`` (full tensors, e.g. gathered from a sharded model) replace
    ``model.state_dict()`` when given. Tied weights (the output projection shares the input embedding) are stored once,
    as Hugging Face does, so ``from_pretrained`` re-ties them.
    """
    from safetensors.torch import save_file

    model.config.save_pretrained(directory)
    if model.generation_config is not None:
        model.generation_config.save_pretrained(directory)
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    source = model.state_dict() if weights is None else weights
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in source.items()
               if not (tied and name == "lm_head.weight")}  # fmt: skip
    save_file(tensors, directory / MODEL_FILE, metadata={"format": "pt"})


def export_model(path: str | os.PathLike[str], model: Any, tokenizer: Any,
                 split: dict[str, Any] | None = None, weights: dict[str, Any] | None = None) -> Path:  # fmt: skip
    """Write ``model`` and ``tokenizer`` as one Hugging Face model directory (atomically).

    ``split`` (``val_fraction``, ``split_seed``, ``corpus_dir``) goes to ``sciprep_training.json``;
    ``weights`` (full tensors) replace the model's own, as in :func:`save_model_files`.
    """
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(
        bos_token_id=SPECIAL_IDS[BOS], eos_token_id=SPECIAL_IDS[EOS], pad_token_id=SPECIAL_IDS[PAD],
        do_sample=False, max_new_tokens=128,
    )  # fmt: skip
    with atomic_dir(path) as tmp:
        save_model_files(model, tmp, weights)
        tokenizer.save(tmp)
        if split is not None:
            write_json_atomic(tmp / TRAINING_INFO_FILE, split)
    return Path(path)


def read_training_info(model_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``sciprep_training.json`` of a model directory, or None when it has none."""
    path = Path(model_dir) / TRAINING_INFO_FILE
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err}); re-export the model") from err
    if not isinstance(info, dict):
        raise ValueError(f"{path}: expected a JSON object; re-export the model")
    return info


def accounting(state: dict[str, Any], rows: Any) -> dict[str, Any]:
    """Unique tokens, tokens seen, fractional epochs and repeats, overall and per source.

    Units: a token is one real (non-padding) input position of a training row;
    ``repeats`` = tokens seen from a source / distinct tokens that source offers
    (2.0 = every token twice).
    """
    unique = [int(u) for u in rows.unique_tokens_by_source()]
    seen = [int(n) for n in state["tokens_by_source"]]
    per_source = {
        name: {"unique_tokens": u, "tokens_seen": s, "repeats": (s / u) if u else 0.0}
        for name, u, s in zip(rows.sources, unique, seen, strict=True)
        if u or s
    }
    per_step_rows = state["config"]["batch_size"] * state["config"]["grad_accum"] * state["world"]
    per_epoch = len(rows.plan(0)) // per_step_rows
    return {
        "unique_tokens": sum(unique),
        "tokens_seen": state["tokens_seen"],
        "epochs_completed": state["epoch"] + state["cursor"] / (per_epoch * per_step_rows),
        "sources": per_source,
    }


def write_summary(run_dir: str | os.PathLike[str], state: dict[str, Any], rows: Any,
                  notes: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """Write ``summary.json`` (accounting, best/last validation loss, early stop)."""
    summary = {
        "steps": state["step"],
        "total_steps": state["total_steps"],
        "accounting": accounting(state, rows),
        "best_val": state["best_val"],
        "best_step": state["best_step"],
        "best_epoch": state["best_epoch"],
        "last_val": state["last_val"],
        "early_stop": state["early_stop"],
        **notes,
    }
    write_json_atomic(Path(run_dir) / SUMMARY_FILE, summary)
    return summary
