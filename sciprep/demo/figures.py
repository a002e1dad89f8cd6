"""Headline figures of each stage, read back from the files the stage wrote.

Nothing here reaches into a stage's internals: every figure comes from an output a user
can open too (``manifest.json``, ``rejects.parquet``, ``report.json``,
``excluded/*.parquet``, ``packed.json``, ``metrics.jsonl``, ``summary.json``, the JSON
answers of ``sciprep ask --json``). Each function returns plain JSON-ready data, so the
terminal summary, ``figures.json`` and ``report.html`` show the same numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from sciprep.corpus.shards import MANIFEST_FILE, REJECTS_FILE, list_shards, read_rejects

#: Characters of a document shown as an example excerpt.
EXCERPT_CHARS = 240
#: Removed documents listed per cleaning step (the counts cover all of them).
EXAMPLES_PER_STEP = 5
#: Fields of an answer's source that identify it (the rest is context).
SOURCE_KEYS = ("index_id", "doi", "arxiv_id", "pmid", "year", "doc_id", "formula_id")
#: Replacement tags of the PII step, searched for to show what it redacted.
REDACTION_TAGS = ("<EMAIL>", "<PHONE>", "<IP_ADDRESS>")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of ``text`` on one line, cut at ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def corpus_figures(corpus_dir: Path) -> dict[str, Any]:
    """Documents and rejects per source, from ``manifest.json`` and ``rejects.parquet``."""
    manifest = _json(corpus_dir / MANIFEST_FILE)
    sources = {
        name: {"documents": entry["documents"], "rejected": entry["rejected"], "weight": entry["weight"],
               "kinds": dict(sorted(entry["kinds"].items()))}
        for name, entry in manifest["sources"].items()
    }  # fmt: skip
    rejects = [
        {"source": r.source, "file": Path(r.file).name, "position": r.position, "reason": r.reason}
        for r in read_rejects(corpus_dir / REJECTS_FILE)
    ]
    totals = manifest["totals"]
    return {"documents": totals["documents"], "rejected": totals["rejected"], "sources": sources, "rejects": rejects}


def cleaning_figures(clean_dir: Path) -> dict[str, Any]:
    """Per step counts, the conservation totals and the removed documents with their reasons."""
    report = _json(clean_dir / "report.json")
    steps = [
        {key: entry[key] for key in ("label", "step", "entered", "removed", "rejected", "modified")}
        for entry in report["steps"]
    ]
    order = {entry["label"]: i for i, entry in enumerate(report["steps"])}
    removed: list[dict[str, Any]] = []
    for path in sorted((clean_dir / "excluded").glob("*.parquet")):
        for row in pq.read_table(path, columns=["id", "source", "kind", "text", "step", "reason"]).to_pylist():
            removed.append({"step": row["step"], "reason": row["reason"], "source": row["source"],
                            "kind": row["kind"], "id": row["id"], "excerpt": excerpt(row["text"])})  # fmt: skip
    removed.sort(key=lambda r: (order.get(r["step"], len(order)), r["source"], r["id"]))
    by_step: dict[str, int] = {}
    for row in removed:
        by_step[row["step"]] = by_step.get(row["step"], 0) + 1
    examples: list[dict[str, Any]] = []
    for step in by_step:
        examples += [row for row in removed if row["step"] == step][:EXAMPLES_PER_STEP]
    totals = report["totals"]
    return {
        "in": totals["in"]["documents"],
        "kept": totals["kept"]["documents"],
        "removed": totals["removed"]["documents"],
        "rejected": totals["rejected"]["documents"],
        "steps": steps,
        "removed_by_step": [{"step": step, "removed": n} for step, n in by_step.items()],
        "removed_examples": examples,
        "redactions": _redactions(clean_dir),
    }


def _redactions(clean_dir: Path) -> list[dict[str, str]]:
    """Kept documents the PII step edited: the sentence around each replacement tag."""
    found = []
    for shard in list_shards(clean_dir):
        for row in pq.read_table(shard, columns=["id", "source", "text"]).to_pylist():
            hits = [tag for tag in REDACTION_TAGS if tag in row["text"]]
            if hits:
                at = min(row["text"].index(tag) for tag in hits)
                start = max(0, at - EXCERPT_CHARS // 2)
                start = row["text"].find(" ", start) + 1 if start else 0  # begin at a word
                found.append({"source": row["source"], "id": row["id"],
                              "excerpt": ("…" if start else "") + excerpt(row["text"][start:])})  # fmt: skip
    return found[:EXAMPLES_PER_STEP]


def packing_figures(packed_dir: Path) -> dict[str, Any]:
    """Documents and tokens per split and modality, and the held-out rule, from ``packed.json``."""
    meta = _json(packed_dir / "packed.json")
    splits = {
        name: {"documents": split["documents"], "tokens": split["tokens"],
               "modality_tokens": dict(split.get("modality_tokens", {}))}
        for name, split in meta["splits"].items()
    }  # fmt: skip
    return {"val_fraction": meta["val_fraction"], "split_seed": meta["split_seed"], "splits": splits,
            "documents_in": meta["documents_in"], "held_out_prompts": meta["held_out_prompts"],
            "rejected": meta["rejected"]}  # fmt: skip


def _metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _model_size(model_dir: Path) -> dict[str, int]:
    """Parameters (from the safetensors header, no weights loaded) and the model's shape."""
    from safetensors import safe_open

    params = 0
    with safe_open(str(model_dir / "model.safetensors"), framework="numpy") as weights:
        names = weights.keys()  # a safetensors file handle is not iterable itself
        for name in names:
            count = 1
            for dim in weights.get_slice(name).get_shape():
                count *= dim
            params += count
    config = _json(model_dir / "config.json")
    return {"parameters": params, "layers": config.get("num_hidden_layers", 0),
            "hidden": config.get("hidden_size", 0), "vocab_size": config.get("vocab_size", 0),
            "positions": config.get("max_position_embeddings", 0)}  # fmt: skip


def training_figures(run_dir: Path) -> dict[str, Any]:
    """Train and validation loss per epoch (overall and per modality), and the accounting."""
    records = _metrics(run_dir)
    summary = _json(run_dir / "summary.json")
    epochs = []
    previous = 0.0
    for val in (r for r in records if r.get("type") == "val" and r.get("epoch_end")):
        epoch = float(val["epoch"])
        train = [r["loss"] for r in records if r.get("type") == "train" and previous < r["epoch"] <= epoch]
        epochs.append({
            "epoch": epoch,
            "train_loss": sum(train) / len(train) if train else None,
            "val_loss": val["loss"],
            "val_by_modality": {key[5:]: value for key, value in sorted(val.items())
                                if key.startswith("loss_") and value is not None},
        })  # fmt: skip
        previous = epoch
    accounting = summary.get("accounting", {})
    return {
        "epochs": epochs,
        "tokens_seen": accounting.get("tokens_seen"),
        "epochs_completed": accounting.get("epochs_completed"),
        "repeats": {name: s["repeats"] for name, s in sorted(accounting.get("sources", {}).items())},
        "best_val": summary.get("best_val"),
        "best_epoch": summary.get("best_epoch"),
        "steps": summary.get("steps"),
        "early_stop": summary.get("early_stop"),
        "model": _model_size(run_dir / "model"),
    }


def tuning_figures(tuned_dir: Path) -> dict[str, Any]:
    """Held-out answer loss and exact match after each tuning epoch, from ``metrics.jsonl``."""
    evaluations = [
        {"epoch": float(r["epoch"]), "answer_loss": r["loss"], "exact_match": r.get("exact_match"),
         "examples": r.get("examples")}
        for r in _metrics(tuned_dir) if r.get("type") == "val"
    ]  # fmt: skip
    summary = _json(tuned_dir / "summary.json")
    counts = {key: summary.get(key) for key in ("train_examples", "held_out_examples", "evaluated_examples",
                                                 "skipped_examples")}
    return {"evaluations": evaluations, "counts": counts, "best_val": summary.get("best_val"),
            "steps": summary.get("steps")}  # fmt: skip


def answer_figures(answer_files: list[tuple[str, str, Path]], corpus_dir: Path) -> list[dict[str, Any]]:
    """``(kind, query, file)`` of each ``sciprep ask --json`` output -> the query with its answers.

    A formula answer's ``doc_id`` is looked up in ``corpus_dir`` (the corpus the index was
    built from) for the title of the document it comes from.
    """
    titles = {}
    for shard in list_shards(corpus_dir):
        for row in pq.read_table(shard, columns=["id", "metadata"]).to_pylist():
            titles[row["id"]] = (row["metadata"] or {}).get("title") or ""
    out = []
    for kind, query, path in answer_files:
        answers = _json(path)
        out.append({"kind": kind, "query": query, "file": path.name, "answers": [
            {"text": a["text"], "confidence": a["confidence"], "score": a["score"], "method": a["method"],
             "grounded": a["grounded"], "problems": a.get("problems", []),
             "source": {k: v for k, v in a["source"].items() if k in SOURCE_KEYS and v},
             "context": excerpt(str(a["source"].get("sentence") or "")),
             "document": titles.get(str(a["source"].get("doc_id")), "")}
            for a in answers]})  # fmt: skip
    return out


def evaluation_figures(path: Path) -> dict[str, Any]:
    """The JSON report of ``sciprep eval citations|formulas --out``."""
    report = _json(path)
    return {key: report[key] for key in sorted(report) if key in ("cases", "k", "methods", "retrieval_ceiling")}
