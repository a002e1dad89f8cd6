"""Held-out prompts answered by the pretrained and by the tuned model, side by side.

``sciprep train tune`` reports the held-out answer loss and exact match; this shows what
those numbers mean: for each held-out question, the reference answer and each model's
greedy answer, scored the way tuning scores them (decoded, whitespace stripped, equal).
Prompts are encoded as tuning encodes them (no ``<s>``/``</s>`` added).

Exact match alone can flatter a small model: one that answers every question with the
same string scores whenever that string happens to be right. :func:`answer_summary`
puts the answers next to a constant-answer baseline and counts how many distinct answers
each model gave, so a collapse is visible.
"""

from __future__ import annotations

from collections import Counter
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


def _constant_baseline(corpus_dir: Path) -> str:
    """The most common answer among the training prompt records (ties: the first in sorted order)."""
    counts = Counter((d.answer or "").strip() for d in iter_documents(corpus_dir)
                     if d.kind == "prompt" and d.split != "test" and d.answer)  # fmt: skip
    if not counts:
        return ""
    return min(counts, key=lambda answer: (-counts[answer], answer))


def answer_summary(corpus_dir: Path, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Exact matches and distinct answers of both models, a constant-answer baseline, and collapse.

    ``collapsed`` is true when the tuned model gave one answer to two or more questions
    (its exact matches are then the baseline's kind of luck, not knowledge).
    """
    baseline = _constant_baseline(corpus_dir)
    references = [a["reference"] for a in answers]
    distinct_tuned = len({a["tuned"] for a in answers})
    return {
        "questions": len(answers),
        "baseline_answer": baseline,
        "baseline_exact": sum(r == baseline for r in references),
        "pretrained_exact": sum(a["pretrained_exact"] for a in answers),
        "tuned_exact": sum(a["tuned_exact"] for a in answers),
        "distinct_pretrained": len({a["pretrained"] for a in answers}),
        "distinct_tuned": distinct_tuned,
        "collapsed": len(answers) >= 2 and distinct_tuned == 1,
    }


def describe_summary(summary: dict[str, Any]) -> str:
    """One plain-language paragraph on the held-out answers, for the terminal and the report."""
    n = summary["questions"]
    if not n:
        return "No held-out questions with answers to show."
    baseline = summary["baseline_answer"]
    text = (f"On {n} held-out questions the tuned model gave {summary['distinct_tuned']} distinct answer(s) "
            f"and {summary['tuned_exact']} exact match(es); the pretrained model gave "
            f"{summary['distinct_pretrained']} distinct answer(s) and {summary['pretrained_exact']} exact "
            f"match(es). A constant baseline that always answers {baseline!r} (the most common training "
            f"answer) gets {summary['baseline_exact']} exact match(es).")  # fmt: skip
    if summary["collapsed"]:
        text += (" The tuned model collapsed: it gives the same answer to every question, so any exact match "
                 "it scores is luck, not knowledge.")  # fmt: skip
    elif summary["tuned_exact"] <= summary["baseline_exact"]:
        text += " The tuned model does no better than the constant baseline."
    return text
