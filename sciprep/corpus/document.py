"""The one record every reader yields and every later stage reads.

A :class:`Document` is deliberately flat and typed so its Parquet form
(:data:`DOCUMENT_SCHEMA`) opens in pandas, DuckDB or ``datasets`` without sciprep.
``text`` already carries Galactica markup (``[START_MATH]``, ``[START_REF]`` ...).
Prompt records (``kind="prompt"``) keep ``prompt`` and ``answer`` separately so the
trainer can mask the loss; for them ``text`` is ``prompt + answer``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa


@dataclass
class Reference:
    """One bibliography entry as cited by a document."""

    key: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    pmid: str | None = None
    raw: str = ""

    @property
    def first_author_surname(self) -> str:
        """Surname of the first author, as Galactica's ``Title, Surname`` citation needs."""
        if not self.authors:
            return ""
        first = self.authors[0].strip()
        if "," in first:  # "Surname, Given"
            return first.split(",", 1)[0].strip()
        parts = first.split()
        return parts[-1] if parts else ""


@dataclass
class Metadata:
    """Bibliographic facts about a document; ``extra`` holds reader-specific fields."""

    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    pmid: str | None = None
    uniprot: str | None = None
    licence: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Document:
    """A unit of training text with its provenance.

    ``id`` must be stable across runs for the same input (derive it from the source
    file and record position or from a real identifier, see :func:`stable_id`).
    """

    id: str
    text: str
    source: str
    kind: str
    metadata: Metadata = field(default_factory=Metadata)
    references: list[Reference] = field(default_factory=list)
    prompt: str | None = None
    answer: str | None = None
    split: str | None = None

    def to_row(self) -> dict[str, Any]:
        """The Parquet row (plain dicts/lists) for :data:`DOCUMENT_SCHEMA`."""
        row = asdict(self)
        row["metadata"]["extra"] = [
            {"key": k, "value": v} for k, v in sorted(self.metadata.extra.items())
        ]
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Document:
        """Inverse of :meth:`to_row`; tolerant of rows read back by pyarrow."""
        meta = dict(row.get("metadata") or {})
        extra = meta.pop("extra", None) or []
        meta["extra"] = (
            dict(extra) if isinstance(extra, dict) else {e["key"]: e["value"] for e in extra}
        )
        meta["authors"] = list(meta.get("authors") or [])
        refs = [
            Reference(**{**r, "authors": list(r.get("authors") or [])})
            for r in (row.get("references") or [])
        ]
        return cls(
            id=row["id"],
            text=row["text"],
            source=row["source"],
            kind=row["kind"],
            metadata=Metadata(**meta),
            references=refs,
            prompt=row.get("prompt"),
            answer=row.get("answer"),
            split=row.get("split"),
        )


def stable_id(*parts: object) -> str:
    """A short deterministic id from the given parts (file name, record index, ...)."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return digest[:16]


_REFERENCE_TYPE = pa.struct(
    [
        ("key", pa.string()),
        ("title", pa.string()),
        ("authors", pa.list_(pa.string())),
        ("year", pa.int32()),
        ("doi", pa.string()),
        ("arxiv_id", pa.string()),
        ("pmid", pa.string()),
        ("raw", pa.string()),
    ]
)

_METADATA_TYPE = pa.struct(
    [
        ("title", pa.string()),
        ("authors", pa.list_(pa.string())),
        ("year", pa.int32()),
        ("doi", pa.string()),
        ("arxiv_id", pa.string()),
        ("pmid", pa.string()),
        ("uniprot", pa.string()),
        ("licence", pa.string()),
        # A list of key/value structs rather than an Arrow map: `datasets` cannot load maps.
        ("extra", pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))),
    ]
)

DOCUMENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("metadata", _METADATA_TYPE),
        ("references", pa.list_(_REFERENCE_TYPE)),
        ("prompt", pa.string()),
        ("answer", pa.string()),
        ("split", pa.string()),
    ]
)
