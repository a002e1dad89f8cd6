"""Exact dedup: by normalised-content hash and by identifier, with a keep-priority rule.

Two documents are the same when their normalised content hashes are equal, or when
they carry the same DOI, arXiv id (any version), PMID or UniProt accession (a PMC
article and its PubMed abstract, arXiv v1 and v2). Groups are closed transitively (a
DOI shared with one copy and an arXiv id shared with another make one paper). Content
normalisation collapses whitespace and casefolds prose, never math/SMILES/sequence
spans (``C1CCCCC1`` is not ``c1ccccc1``), and never collapses numbers: papers that
differ only in their numbers are different papers.

Keep priority within a group: a source listed earlier in ``source_priority``, then
more identifiers, more references, longer normalised content, then corpus order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sciprep.cleaning.spans import segments
from sciprep.cleaning.steps.base import (
    Remove,
    Step,
    StepParams,
    register_step,
    threshold,
)
from sciprep.corpus.document import Document

_WS = re.compile(r"\s+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_ARXIV = re.compile(r"^(?:arxiv:\s*)?(?P<id>.+?)(?:v\d+)?$", re.IGNORECASE)


def normalised_content(text: str, casefold: bool = True) -> str:
    """The text exact dedup compares: whitespace collapsed, prose casefolded, data spans verbatim."""
    parts = []
    for seg in segments(text):
        piece = seg.text if seg.kind is not None else (seg.text.casefold() if casefold else seg.text)
        parts.append(_WS.sub(" ", piece) if seg.kind is None else seg.text)
    return _WS.sub(" ", "".join(parts)).strip()


def document_identifiers(doc: Document) -> list[str]:
    """Canonical ``scheme:value`` identifiers of a document (DOI lowercased, arXiv without version)."""
    meta = doc.metadata
    ids = []
    if meta.doi and meta.doi.strip():
        ids.append("doi:" + _DOI_PREFIX.sub("", meta.doi.strip()).lower())
    if meta.arxiv_id and meta.arxiv_id.strip():
        match = _ARXIV.match(meta.arxiv_id.strip())
        ids.append("arxiv:" + (match.group("id") if match else meta.arxiv_id.strip()).lower())
    if meta.pmid and meta.pmid.strip():
        ids.append("pmid:" + meta.pmid.strip().lstrip("0"))
    if meta.uniprot and meta.uniprot.strip():
        ids.append("uniprot:" + meta.uniprot.strip().upper())
    return sorted(set(ids))


@dataclass
class ExactDedupParams(StepParams):
    casefold: bool = True
    by_content: bool = threshold(True)
    by_identifier: bool = threshold(True)
    identifier_exempt_kinds: tuple[str, ...] = threshold(("prompt",))
    source_priority: tuple[str, ...] = threshold(())


@register_step("exact_dedup")
class ExactDedup(Step):
    """Keep one document per group of exact copies / same identifier."""

    Params = ExactDedupParams
    params: ExactDedupParams
    scope = "corpus"
    attributes = pa.schema(
        [
            ("content_hash", pa.string()),
            ("identifiers", pa.list_(pa.string())),
            ("kind", pa.string()),
            ("source", pa.string()),
            ("n_references", pa.int32()),
            ("n_bytes", pa.int64()),
        ]
    )

    def tag(self, doc: Document) -> dict[str, Any]:
        content = normalised_content(doc.text, self.params.casefold)
        return {
            "content_hash": hashlib.blake2b(content.encode("utf-8"), digest_size=16).hexdigest(),
            "identifiers": document_identifiers(doc),
            "kind": doc.kind,
            "source": doc.source,
            "n_references": len(doc.references),
            "n_bytes": len(content.encode("utf-8")),
        }

    def decide_corpus(self, table: pa.Table) -> dict[str, Remove]:
        p = self.params
        rows = table.select(["id", *(f.name for f in self.attributes)]).to_pylist()
        parent = list(range(len(rows)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def union(i: int, j: int) -> None:
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)

        first_by_key: dict[str, int] = {}
        why: dict[int, str] = {}  # row -> how it joined its group
        for i, row in enumerate(rows):
            keys = []
            if p.by_content:
                keys.append(("content", "c:" + row["content_hash"]))
            if p.by_identifier and row["kind"] not in p.identifier_exempt_kinds:
                keys.extend(("identifier " + k, "i:" + k) for k in row["identifiers"])
            for label, key in keys:
                if key in first_by_key:
                    union(first_by_key[key], i)
                    why.setdefault(i, label)
                    why.setdefault(first_by_key[key], label)
                else:
                    first_by_key[key] = i

        groups: dict[int, list[int]] = {}
        for i in range(len(rows)):
            groups.setdefault(find(i), []).append(i)
        rank = {s: n for n, s in enumerate(p.source_priority)}

        def priority(i: int) -> tuple[Any, ...]:
            r = rows[i]
            return (rank.get(r["source"], len(rank)), -len(r["identifiers"]), -r["n_references"], -r["n_bytes"], i)

        removed: dict[str, Remove] = {}
        for members in groups.values():
            if len(members) < 2:
                continue
            keep = min(members, key=priority)
            for i in members:
                if i != keep:
                    reason = f"duplicate by {why.get(i, 'group')}; kept {rows[keep]['id']}"
                    removed[rows[i]["id"]] = Remove(reason, 1.0)
        return removed
