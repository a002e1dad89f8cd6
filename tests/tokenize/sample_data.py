"""Readers for the real sample data in ``../shared/data`` used by several test modules."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

_MARKER = re.compile(r"\{\{(cite|formula):([^}]+)\}\}")


def _resolve(text: str, formulas: dict[str, str]) -> str:
    """Put each formula's LaTeX back between ``$`` and each citation back as ``\\cite``."""

    def put_back(m: re.Match[str]) -> str:
        if m.group(1) == "cite":
            return f"\\cite{{{m.group(2)}}}"
        latex = formulas.get(m.group(2))
        return m.group() if latex is None else f"${latex.strip()}$"

    return _MARKER.sub(put_back, text)


def arxiv_paragraphs(shared_data: Path, limit: int | None = None, resolve: bool = False) -> list[str]:
    """Abstracts and body paragraphs of the arXiv sample, in file order.

    With ``resolve``, the ``{{formula:ID}}`` and ``{{cite:ID}}`` markers become ``$latex$``
    and ``\\cite{ID}``, the way the paper's LaTeX source had them.
    """
    out: list[str] = []
    with open(shared_data / "arxiv" / "unarxive_sample.jsonl", encoding="utf-8") as fh:
        for line in fh:
            paper = json.loads(line)
            formulas = {k: e["latex"] for k, e in paper["ref_entries"].items() if e.get("type") == "formula"}
            paragraphs = [paper["metadata"]["abstract"], *(p["text"] for p in paper["body_text"])]
            out.extend(_resolve(p, formulas) if resolve else p for p in paragraphs)
    return out[:limit] if limit else out


def arxiv_formulas(shared_data: Path) -> list[str]:
    """The LaTeX of every formula in the arXiv sample."""
    out: list[str] = []
    with open(shared_data / "arxiv" / "unarxive_sample.jsonl", encoding="utf-8") as fh:
        for line in fh:
            paper = json.loads(line)
            out.extend(e["latex"] for e in paper["ref_entries"].values() if e.get("type") == "formula")
    return out


def chembl_smiles(shared_data: Path) -> list[str]:
    with open(shared_data / "chem" / "chembl_samples.csv", encoding="utf-8") as fh:
        return [row["smiles"] for row in csv.DictReader(fh)]


def fasta_sequences(path: Path) -> list[str]:
    from Bio import SeqIO

    return [str(r.seq) for r in SeqIO.parse(path, "fasta")]
