"""Terminal summaries of each stage's figures (the numbers a user should look at first)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from sciprep.demo.tuned_answers import describe_summary


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def corpus(f: dict[str, Any]) -> str:
    lines = [f"{f['documents']:,} documents from {len(f['sources'])} sources, {f['rejected']} rejected"]
    lines += [f"  {name:<11} {s['documents']:>5,} documents  kinds {', '.join(s['kinds'])}"
              + (f"  ({s['rejected']} rejected)" if s["rejected"] else "")
              for name, s in f["sources"].items()]  # fmt: skip
    lines += [f"  reject: {r['source']} {r['file']} {r['position']}: {r['reason']}" for r in f["rejects"]]
    return "\n".join(lines)


def cleaning(f: dict[str, Any]) -> str:
    lines = [f"in {f['in']:,} = kept {f['kept']:,} + removed {f['removed']:,} + rejected {f['rejected']:,}"]
    for step in f["steps"]:
        if step["removed"] or step["modified"] or step["rejected"]:
            lines.append(f"  {step['label']:<14} removed {step['removed']:>3}  modified {step['modified']:>3}"
                         f"  rejected {step['rejected']:>3}")  # fmt: skip
    lines += [f"  - {r['step']}: {r['source']}/{r['id']}: {r['reason']}" for r in f["removed_examples"]]
    return "\n".join(lines)


def tokenizer(f: dict[str, Any]) -> str:
    per_byte = "  ".join(f"{m} {v:.3f}" for m, v in f["tokens_per_byte"].items())
    lines = [f"vocabulary {f['vocab_size']:,} (requested {f['requested_vocab_size']:,}), "
             f"{f['total_tokens']:,} tokens for {f['total_bytes']:,} bytes",
             f"  tokens per byte: {per_byte}"]  # fmt: skip
    for example in f["examples"]:
        pieces = " | ".join(piece.replace("\n", "↵") for piece in example["tokens"][:16])
        lines.append(f"  {example['kind']}: {pieces}{' | …' if example['token_count'] > 16 else ''}")
    return "\n".join(lines)


def packing(f: dict[str, Any]) -> str:
    lines = [f"held-out rule: fraction {f['val_fraction']}, split seed {f['split_seed']}"
             + (f" (one-sided: {', '.join(f['one_sided'])})" if f["one_sided"] else
                " (every modality has training and validation documents)")]  # fmt: skip
    for name, split in f["splits"].items():
        mix = ", ".join(f"{m} {n:,}" for m, n in split["modality_tokens"].items() if n)
        lines.append(f"  {name:<8} {split['documents']:>5,} documents {split['tokens']:>8,} tokens  ({mix})")
    return "\n".join(lines)


def pretraining(f: dict[str, Any]) -> str:
    model = f["model"]
    lines = [f"model: {model['parameters']:,} parameters ({model['layers']} layers, hidden {model['hidden']}, "
             f"vocabulary {model['vocab_size']:,}); {f['tokens_seen']:,} tokens seen in "
             f"{f['epochs_completed']:g} epochs"]  # fmt: skip
    for e in f["epochs"]:
        modalities = "  ".join(f"{m} {v:.2f}" for m, v in e["val_by_modality"].items())
        lines.append(f"  epoch {e['epoch']:g}: train {_fmt(e['train_loss'])}  val {_fmt(e['val_loss'])}"
                     f"  ({modalities})")  # fmt: skip
    return "\n".join(lines)


def tuning(f: dict[str, Any]) -> str:
    lines = [f"{f['counts'].get('train_examples', 0)} training and {f['counts'].get('held_out_examples', 0)} "
             "held-out prompts"]  # fmt: skip
    lines += [f"  epoch {e['epoch']:g}: held-out answer loss {_fmt(e['answer_loss'])}, exact match "
              f"{_fmt(e['exact_match'], 2)}" for e in f["evaluations"]]  # fmt: skip
    for a in f["answers"][:3]:
        lines.append(f"  Q: {a['prompt'].strip()!r}\n     reference {a['reference']!r}; pretrained "
                     f"{a['pretrained'][:40]!r}; tuned {a['tuned'][:40]!r}")  # fmt: skip
    lines.append(textwrap.fill(describe_summary(f["summary"]), width=100, initial_indent="  ",
                               subsequent_indent="  "))  # fmt: skip
    return "\n".join(lines)


def answers(f: list[dict[str, Any]]) -> str:
    lines = []
    for query in f:
        lines.append(f"{query['kind']}: {query['query']}")
        for rank, a in enumerate(query["answers"], 1):
            where = a["source"].get("index_id") or a["source"].get("doc_id") or "no source"
            text = " ".join(a["text"].split())
            lines.append(f"  {rank}. {text[:100]}  (confidence {_fmt(a['confidence'])}, {where})")
    return "\n".join(lines)


def model_effect(report: dict[str, Any]) -> str:
    """Whether the model changed the held-out results, in words (hybrid re-ranks BM25's candidates)."""
    methods = report.get("methods", {})
    if "hybrid" not in methods or "retrieval" not in methods:
        return ""
    hybrid, retrieval = methods["hybrid"], methods["retrieval"]
    scores = sorted(k for k, v in hybrid.items() if isinstance(v, float))
    if all(hybrid.get(k) == retrieval.get(k) for k in scores):
        return ("The model-ranked (hybrid) results equal BM25's alone on every figure: on these cases the "
                "model changed nothing; the answers come from retrieval.")  # fmt: skip
    return ("The model-ranked (hybrid) results differ from BM25's alone: "
            + ", ".join(f"{k} {hybrid[k]:.3f} against {retrieval.get(k, 0.0):.3f}" for k in scores
                        if hybrid.get(k) != retrieval.get(k)) + ".")  # fmt: skip


def evaluation(f: dict[str, Any]) -> str:
    lines = []
    for what, report in f.items():
        lines.append(f"{what}: {report.get('cases', 0)} held-out cases")
        for method, row in report.get("methods", {}).items():
            cells = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float))
            lines.append(f"  {method:<14} {cells}")
        if model_effect(report):
            lines.append(textwrap.fill(model_effect(report), width=100, initial_indent="  ", subsequent_indent="  "))
    return "\n".join(lines)


HEADLINES: dict[str, Callable[[Any], str]] = {
    "corpus": corpus, "cleaning": cleaning, "tokenizer": tokenizer, "packing": packing,
    "pretraining": pretraining, "tuning": tuning, "answers": answers, "evaluation": evaluation,
}  # fmt: skip
