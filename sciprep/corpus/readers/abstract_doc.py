"""The one shape of a PubMed abstract document, shared by the MEDLINE and PubMed XML readers.

Both formats carry the same facts (PMID, title, abstract, authors, year, DOI, journal,
MeSH terms); building the :class:`~sciprep.corpus.document.Document` in one place keeps
the two readers' output identical for the same article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sciprep.corpus.document import Document, Metadata, stable_id

_YEAR = re.compile(r"\b(1[6-9]\d\d|20\d\d)\b")


@dataclass
class AbstractRecord:
    """What a PubMed reader extracted from one citation, before validation."""

    pmid: str = ""
    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    date: str = ""
    doi: str | None = None
    journal: str = ""
    mesh: list[str] = field(default_factory=list)
    language: str = ""


def parse_year(date: str) -> int | None:
    """The first plausible four-digit year in a PubMed date string (``"2002 Sep"``)."""
    match = _YEAR.search(date)
    return int(match.group(1)) if match else None


def problem(record: AbstractRecord) -> str | None:
    """Why ``record`` cannot become a document, or None when it can."""
    if not record.pmid:
        return "no PMID: not a PubMed citation record"
    if not record.abstract.strip():
        return f"PMID {record.pmid} has no abstract text"
    return None


def to_document(record: AbstractRecord, source: str) -> Document:
    """The ``kind="abstract"`` document: a Markdown title heading, then the abstract."""
    title = " ".join(record.title.split())
    abstract = record.abstract.strip()
    text = f"# {title}\n\n{abstract}" if title else abstract
    extra: dict[str, str] = {}
    if record.journal:
        extra["journal"] = record.journal
    if record.mesh:
        extra["mesh"] = "; ".join(record.mesh)
    if record.language:
        extra["language"] = record.language
    return Document(
        id=stable_id("pubmed", record.pmid),
        text=text,
        source=source,
        kind="abstract",
        metadata=Metadata(
            title=title,
            authors=record.authors,
            year=parse_year(record.date),
            doi=record.doi,
            pmid=record.pmid,
            extra=extra,
        ),
    )
