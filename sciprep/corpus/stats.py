"""``sciprep corpus stats DIR``: what a corpus holds, before anyone trains on it.

Reports documents, characters and an estimate of tokens per modality, the mix of
sources (share of documents and of estimated tokens, with the recipe weight and the
weighted share the trainer will sample), document kinds and prompt splits. The estimate
uses Galactica's tokenization rules: character-level tokens for SMILES, amino-acid and
DNA sequences, digits and operators split in math, BPE (~4 characters per token) for
prose and citations. Given a ``tokenizer.json``, tokens are counted exactly instead.

Counts are read from the shards themselves (not the manifest), so the report is true
for any corpus directory, including one the cleaning stage wrote.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from sciprep.corpus.modality import MODALITIES, segments
from sciprep.corpus.shards import MANIFEST_FILE, REJECTS_FILE, list_shards

#: Characters per token by modality, for the estimate (Galactica, section 3.1).
CHARS_PER_TOKEN: dict[str, float] = {
    "text": 4.0,
    "math": 2.0,
    "smiles": 1.0,
    "amino": 1.0,
    "dna": 1.0,
    "ref": 4.0,
}


@dataclass
class CorpusStats:
    """Totals of a corpus directory (see :func:`corpus_stats`)."""

    documents: int = 0
    rejected: int = 0
    characters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODALITIES, 0))
    tokens: dict[str, float] = field(default_factory=lambda: dict.fromkeys(MODALITIES, 0.0))
    exact_tokens: bool = False
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    splits: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "rejected": self.rejected,
            "characters": self.characters,
            "tokens": {k: round(v) for k, v in self.tokens.items()},
            "tokens_total": round(sum(self.tokens.values())),
            "tokens_exact": self.exact_tokens,
            "sources": self.sources,
            "kinds": dict(sorted(self.kinds.items())),
            "splits": dict(sorted(self.splits.items())),
        }


def _token_counter(tokenizer_path: str | os.PathLike[str] | None) -> Callable[[str, str], float]:
    if tokenizer_path is None:
        return lambda modality, content: len(content) / CHARS_PER_TOKEN[modality]
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    return lambda modality, content: float(len(tokenizer.encode(content, add_special_tokens=False).ids))


def corpus_stats(
    corpus_dir: str | os.PathLike[str], tokenizer: str | os.PathLike[str] | None = None
) -> CorpusStats:
    """Scan every shard of ``corpus_dir``; count exactly with ``tokenizer`` if given."""
    count_tokens = _token_counter(tokenizer)
    stats = CorpusStats(exact_tokens=tokenizer is not None)
    for shard in list_shards(corpus_dir):
        table = pq.read_table(shard, columns=["text", "source", "kind", "split"])
        for row in table.to_pylist():
            stats.documents += 1
            source = stats.sources.setdefault(row["source"], {"documents": 0, "characters": 0, "tokens": 0.0})
            source["documents"] += 1
            source["characters"] += len(row["text"])
            for modality, content in segments(row["text"]):
                tokens = count_tokens(modality, content)
                stats.characters[modality] += len(content)
                stats.tokens[modality] += tokens
                source["tokens"] += tokens
            stats.kinds[row["kind"]] += 1
            if row["split"]:
                stats.splits[row["split"]] += 1
    _add_mix(stats, Path(corpus_dir))
    return stats


def _add_mix(stats: CorpusStats, corpus_dir: Path) -> None:
    """Shares of documents/tokens per source, and the weighted share from the manifest."""
    manifest_path = corpus_dir / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    declared = manifest.get("sources", {})
    rejects = corpus_dir / REJECTS_FILE
    stats.rejected = pq.ParquetFile(rejects).metadata.num_rows if rejects.exists() else 0
    total_tokens = sum(s["tokens"] for s in stats.sources.values()) or 1.0
    weighted = {
        name: s["tokens"] * declared.get(name, {}).get("weight", 1.0) for name, s in stats.sources.items()
    }
    total_weighted = sum(weighted.values()) or 1.0
    for name, source in stats.sources.items():
        source["weight"] = declared.get(name, {}).get("weight", 1.0)
        source["token_share"] = round(source["tokens"] / total_tokens, 4)
        source["weighted_share"] = round(weighted[name] / total_weighted, 4)
        source["tokens"] = round(source["tokens"])


def format_stats(stats: CorpusStats) -> str:
    """A plain-text report of :func:`corpus_stats` for the terminal."""
    how = "counted with the tokenizer" if stats.exact_tokens else "estimated"
    total_tokens = sum(stats.tokens.values())
    lines = [f"documents: {stats.documents:,}   rejected: {stats.rejected:,}", ""]
    lines.append(f"{'modality':<10}{'characters':>14}{'tokens (' + how + ')':>34}")
    for modality in MODALITIES:
        lines.append(f"{modality:<10}{stats.characters[modality]:>14,}{round(stats.tokens[modality]):>34,}")
    lines.append(f"{'total':<10}{sum(stats.characters.values()):>14,}{round(total_tokens):>34,}")
    lines += ["", f"{'source':<24}{'documents':>11}{'tokens':>14}{'share':>8}{'weight':>8}{'sampled':>9}"]
    for name, s in sorted(stats.sources.items()):
        lines.append(
            f"{name:<24}{s['documents']:>11,}{s['tokens']:>14,}{s['token_share']:>8.1%}"
            f"{s['weight']:>8g}{s['weighted_share']:>9.1%}"
        )
    lines += ["", "kinds: " + ", ".join(f"{k} {v:,}" for k, v in sorted(stats.kinds.items()))]
    if stats.splits:
        lines.append("splits: " + ", ".join(f"{k} {v:,}" for k, v in sorted(stats.splits.items())))
    return "\n".join(lines)
