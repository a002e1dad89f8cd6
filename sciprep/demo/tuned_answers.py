"""Held-out prompts answered by the pretrained and by the tuned model, side by side.

``sciprep train tune`` reports the held-out answer loss and exact match; this shows what
those numbers mean: for each held-out question, the reference answer and each model's
greedy answer, scored the way tuning scores them (decoded, whitespace stripped, equal).
Prompts are encoded as tuning encodes them (no ``<s>``/``</s>`` added).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sciprep.corpus.shards import iter_documents
from sciprep.tokenize.specials import EOS, PAD, SPECIAL_IDS

#: Held-out questions shown.
MAX_QUESTIONS = 8
#: Greedy answer length, as tuning's ``max_new_tokens`` default.
MAX_NEW_TOKENS = 32


def _greedy_answers(model_dir: Path, prompts: list[str]) -> list[str]:
    """Greedy answers to ``prompts``, generated in one left-padded batch (as tuning evaluates)."""
    import torch
    from transformers import AutoModelForCausalLM

    from sciprep.tokenize.tokenizer import SciTokenizer

    tok = SciTokenizer.load(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, use_safetensors=True)
    model.eval()
    limit = model.config.max_position_embeddings
    encoded = [ids[-(limit - 1) :] for ids in tok.encode_batch(prompts)]
    width = max(len(ids) for ids in encoded)
    ids = torch.full((len(encoded), width), SPECIAL_IDS[PAD], dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, prompt in enumerate(encoded):  # left padding: every answer starts at column `width`
        ids[row, width - len(prompt) :] = torch.tensor(prompt)
        mask[row, width - len(prompt) :] = 1
    with torch.no_grad():
        generated = model.generate(  # type: ignore[operator]  # GenerationMixin stub
            input_ids=ids, attention_mask=mask, max_new_tokens=max(1, min(MAX_NEW_TOKENS, limit - width)),
            do_sample=False, eos_token_id=SPECIAL_IDS[EOS], pad_token_id=SPECIAL_IDS[PAD])  # fmt: skip
    answers = []
    for row in generated[:, width:].tolist():
        if SPECIAL_IDS[EOS] in row:
            row = row[: row.index(SPECIAL_IDS[EOS])]
        answers.append(tok.decode([i for i in row if i != SPECIAL_IDS[PAD]]).strip())
    return answers


def held_out_answers(corpus_dir: Path, base_model: Path, tuned_model: Path) -> list[dict[str, Any]]:
    """The first held-out (``split == "test"``) prompt records with both models' answers."""
    records = [d for d in iter_documents(corpus_dir) if d.kind == "prompt" and d.split == "test"]
    records = [d for d in records if d.prompt and d.answer][:MAX_QUESTIONS]
    if not records:
        return []
    prompts = [d.prompt or "" for d in records]
    base = _greedy_answers(base_model, prompts)
    tuned = _greedy_answers(tuned_model, prompts)
    return [
        {"prompt": d.prompt, "reference": (d.answer or "").strip(), "pretrained": b, "tuned": t,
         "pretrained_exact": b == (d.answer or "").strip(), "tuned_exact": t == (d.answer or "").strip()}
        for d, b, t in zip(records, base, tuned, strict=True)
    ]  # fmt: skip
