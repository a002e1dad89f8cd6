"""Exact dedup: by normalised-content hash and by identifier, with a keep-priority rule.

Two documents are the same when their normalised content hashes are equal, or when
they carry the same DOI, arXiv id (any version), PMID or UniProt accession (a PMC
article and its PubMed abstract, arXiv v1 and v2). Groups are closed transitively (a
DOI shared with one copy and an arXiv id shared with another make one paper). Content
normalisation collapses whitespace and casefolds prose, never math/SMILES/sequence
spans (``C1CCCCC1`` is not ``c1ccccc1``), and never collapses numbers: papers that
differ only in their numbers are different papers.

Reference records (``kind=reference``, one BibTeX entry each) carry little text: the
same title and author recur in a journal's recurring column, issue after issue. Their
content hash therefore also covers the bibliographic fields that tell such entries
apart (venue, volume, number, pages, year, identifiers).

Keep priority within a group: a source listed earlier in ``source_priority``, then a
kind listed earlier in ``kind_priority`` (a full paper over its abstract over a
reference record), longer normalised content, more identifiers, more references, then
corpus order. Identifiers a removed copy carries and the kept one lacks (the PMID of
the PubMed abstract of a kept PMC paper) are copied onto the kept document's metadata
(:meth:`ExactDedup.metadata_updates`), so removing the copy loses no identifier.
"""

from __future__ import annotations

import hashlib
import json
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
#: ``Metadata`` field that holds each identifier scheme of :func:`document_identifiers`.
_ID_FIELDS = {"doi": "doi", "arxiv": "arxiv_id", "pmid": "pmid", "uniprot": "uniprot"}
#: ``Metadata.extra`` keys that tell apart reference records with the same text.
_REFERENCE_FIELDS = (
    "venue", "journal", "booktitle", "volume", "number", "issue", "month", "pages", "edition", "entry_type",
)


def normalised_content(text: str, casefold: bool = True) -> str:
    """The text exact dedup compares: whitespace collapsed, prose casefolded, data spans verbatim."""
    parts = []
    for seg in segments(text):
        piece = seg.text if seg.kind is not None else (seg.text.casefold() if casefold else seg.text)
        parts.append(_WS.sub(" ", piece) if seg.kind is None else seg.text)
    return _WS.sub(" ", "".join(parts)).strip()


def reference_fingerprint(doc: Document) -> str:
    """The bibliographic fields of a reference record, canonically serialised.

    Excludes the BibTeX key and the file the entry came from, so the same entry in two
    bibliographies still matches; includes what distinguishes two issues' columns.
    """
    meta = doc.metadata
    extra = {k: _WS.sub(" ", meta.extra[k]).strip().casefold() for k in _REFERENCE_FIELDS if meta.extra.get(k)}
    payload = {
        "title": _WS.sub(" ", meta.title).strip().casefold(),
        "authors": [_WS.sub(" ", a).strip().casefold() for a in meta.authors],
        "year": meta.year,
        "identifiers": document_identifiers(doc),
        "extra": extra,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


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
    kind_priority: tuple[str, ...] = threshold(("paper", "abstract", "reference"))


@register_step("exact_dedup")
class ExactDedup(Step):
    """Keep one document per group of exact copies / same identifier."""

    Params = ExactDedupParams
    params: ExactDedupParams
    scope = "corpus"
    version = 2  # reference records hash their bibliographic fields too
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
        hashed = content if doc.kind != "reference" else content + "\x00" + reference_fingerprint(doc)
        return {
            "content_hash": hashlib.blake2b(hashed.encode("utf-8"), digest_size=16).hexdigest(),
            "identifiers": document_identifiers(doc),
            "kind": doc.kind,
            "source": doc.source,
            "n_references": len(doc.references),
            "n_bytes": len(content.encode("utf-8")),
        }

    def decide_corpus(self, table: pa.Table) -> dict[str, Remove]:
        removed: dict[str, Remove] = {}
        for rows, why in self._groups(table):
            removed.update(self.resolve_group(rows, why)[0])
        return removed

    def metadata_updates(self, table: pa.Table) -> dict[str, dict[str, str]]:
        """``{kept id: {Metadata field: value}}``: identifiers its removed copies add.

        Called with the same table as :meth:`decide_corpus`. A scheme the kept document
        already has is never overwritten; among removed copies, the higher-priority one
        gives its identifier first. Values are the canonical forms (DOI lowercased, arXiv
        id without version).
        """
        updates: dict[str, dict[str, str]] = {}
        for rows, why in self._groups(table):
            updates.update(self.resolve_group(rows, why)[1])
        return updates

    def resolve_group(
        self, rows: list[dict[str, Any]], why: list[str]
    ) -> tuple[dict[str, Remove], dict[str, dict[str, str]]]:
        """One group of copies: the removals, and the identifiers the kept copy gains.

        ``rows`` are the group's attribute rows (``id`` and the attribute columns) with
        an ``order`` key giving corpus order; ``why[n]`` says how row ``n`` joined the
        group. Groups are independent, so a caller that forms them elsewhere (the Ray
        path, :mod:`sciprep.cleaning.distributed`) decides them with this same rule.
        """
        ranked = self._ranked(rows)
        keep = ranked[0]
        kept_id = rows[keep]["id"]
        removed = {
            row["id"]: Remove(f"duplicate by {why[n]}; kept {kept_id}", 1.0) for n, row in enumerate(rows) if n != keep
        }
        have = {ident.split(":", 1)[0] for ident in rows[keep]["identifiers"]}
        added: dict[str, str] = {}
        for i in ranked:
            for ident in rows[i]["identifiers"]:
                scheme, value = ident.split(":", 1)
                if scheme not in have and scheme in _ID_FIELDS:
                    added.setdefault(_ID_FIELDS[scheme], value)
        return removed, ({kept_id: added} if added else {})

    def _ranked(self, rows: list[dict[str, Any]]) -> list[int]:
        """Row indices of one group, best copy first (see the module docstring)."""
        p = self.params
        sources = {s: n for n, s in enumerate(p.source_priority)}
        kinds = {k: n for n, k in enumerate(p.kind_priority)}

        def priority(i: int) -> tuple[Any, ...]:
            r = rows[i]
            return (
                sources.get(r["source"], len(sources)),
                kinds.get(r["kind"], len(kinds)),
                -r["n_bytes"],
                -len(r["identifiers"]),
                -r["n_references"],
                r["order"],
            )

        return sorted(range(len(rows)), key=priority)

    def _groups(self, table: pa.Table) -> list[tuple[list[dict[str, Any]], list[str]]]:
        """Groups of two or more copies: their rows and how each row joined."""
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
            row["order"] = i
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

        members: dict[int, list[int]] = {}
        for i in range(len(rows)):
            members.setdefault(find(i), []).append(i)
        groups = []
        for indices in members.values():
            if len(indices) < 2:
                continue
            groups.append(([rows[i] for i in indices], [why.get(i, "group") for i in indices]))
        return groups
