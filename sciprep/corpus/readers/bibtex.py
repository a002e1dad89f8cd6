"""BibTeX (``.bib``) as a reference index and as a source of ``reference`` documents.

Two uses of one parse (bibtexparser 2.x):

* :func:`load_bibliography` / :func:`parse_bibliography` give ``key -> Reference`` for the
  LaTeX reader's citation resolver (a paper's own ``.bib``, read from its archive);
* the ``bibtex`` reader yields one document per entry, in Galactica's citation style
  (``[START_REF] Title, Surname[END_REF]`` then authors, venue, year, abstract), with the
  identifiers in ``metadata`` so a citation index can be built from the corpus.

Field values are LaTeX: accents and braces are decoded, math is kept verbatim. Entries
that fail to parse, duplicate keys and entries without a title are rejected with the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

from sciprep.corpus.document import Document, Metadata, Reference, stable_id
from sciprep.corpus.latex.text import decode_bytes, latex_to_text
from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.sourcefile import READ_ERRORS, InputTooLarge, describe_error, read_bounded
from sciprep.corpus.references import clean_text, ref_markup
from sciprep.corpus.shards import Reject

#: Largest .bib file read (bytes); bigger files are rejected, not truncated.
MAX_BIB_BYTES = 256 * 1024 * 1024

#: Fields decoded from LaTeX, and identifier fields taken verbatim (URLs keep ``%`` and ``~``).
_TEXT_FIELDS = frozenset(
    "title journal booktitle publisher school institution year date abstract volume pages keywords".split()
)
_VERBATIM_FIELDS = frozenset("doi eprint archiveprefix eprinttype url pmid".split())

_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([\w.\-/]+?)(?:v\d+)?(?:\.pdf)?$", re.IGNORECASE)


@dataclass
class BibEntryFields:
    """One parsed entry: its :class:`Reference` plus the fields a document shows."""

    reference: Reference
    entry_type: str
    line: int
    venue: str = ""
    abstract: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class BibtexParse:
    """Result of parsing one BibTeX text: usable entries and (line, reason) failures."""

    entries: list[BibEntryFields]
    failures: list[tuple[int, str]]

    @property
    def references(self) -> dict[str, Reference]:
        return {e.reference.key: e.reference for e in self.entries}


def parse_bibliography(text: str) -> BibtexParse:
    """Parse BibTeX source text; never raises on malformed entries (they become failures)."""
    library = bibtexparser.parse_string(
        text, append_middleware=[middlewares.SeparateCoAuthors(), middlewares.SplitNameParts()]
    )
    failures: list[tuple[int, str]] = []
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            failures.append((line, f"duplicate entry key {block.key!r} (the first one is kept)"))
        elif isinstance(block, ParsingFailedBlock):
            failures.append((line, f"unparsable BibTeX block: {clean_text(str(block.error))[:300]}"))
        else:
            failures.append((line, f"unparsable BibTeX block ({type(block).__name__})"))
    entries = [_entry_fields(entry) for entry in library.entries]
    return BibtexParse(entries=entries, failures=failures)


def load_bibliography(path: str | Path) -> dict[str, Reference]:
    """``key -> Reference`` for every parsable entry of a ``.bib`` file."""
    path = Path(path)
    return parse_bibliography(decode_bytes(read_bounded(path, MAX_BIB_BYTES))).references


@register_reader("bibtex", (".bib", ".bib.gz"))
def read(path: Path, source: str) -> ReaderOutput:
    """One ``reference`` document per BibTeX entry; failures and title-less entries rejected."""
    try:
        data = read_bounded(path, MAX_BIB_BYTES)
    except InputTooLarge:
        yield Reject(source, str(path), "file", f"more than the {MAX_BIB_BYTES}-byte limit (after decompression)")
        return
    except READ_ERRORS as err:
        yield Reject(source, str(path), "file", f"cannot read BibTeX file: {describe_error(err)}")
        return
    parsed = parse_bibliography(decode_bytes(data))
    yield from _documents(parsed, path, source)


def _documents(parsed: BibtexParse, path: Path, source: str) -> Iterator[Document | Reject]:
    events: list[tuple[int, Document | Reject]] = [
        (line, Reject(source, str(path), f"line {line}", reason)) for line, reason in parsed.failures
    ]
    for entry in parsed.entries:
        ref = entry.reference
        if not ref.title:
            reason = f"entry {ref.key!r} has no title, so it cannot be cited as [START_REF] Title, Surname"
            events.append((entry.line, Reject(source, str(path), f"line {entry.line}", reason)))
            continue
        events.append((entry.line, _document(entry, path, source)))
    for _, event in sorted(events, key=lambda item: item[0]):
        yield event


def _document(entry: BibEntryFields, path: Path, source: str) -> Document:
    ref = entry.reference
    lines = [ref_markup(ref.title, ref.first_author_surname)]
    if ref.authors:
        lines.append("Authors: " + "; ".join(ref.authors))
    venue_year = ", ".join(x for x in (entry.venue, str(ref.year or "")) if x)
    if venue_year:
        lines.append(f"Published: {venue_year}")
    for label, value in (("DOI", ref.doi), ("arXiv", ref.arxiv_id), ("PMID", ref.pmid)):
        if value:
            lines.append(f"{label}: {value}")
    text = "\n".join(lines)
    if entry.abstract:
        text += "\n\n" + entry.abstract
    extra = {"bibtex_key": ref.key, "entry_type": entry.entry_type, **entry.extra}
    if entry.venue:
        extra["venue"] = entry.venue
    return Document(
        id=stable_id("bibtex", path.name, ref.key),
        text=text,
        source=source,
        kind="reference",
        metadata=Metadata(
            title=ref.title,
            authors=list(ref.authors),
            year=ref.year,
            doi=ref.doi,
            arxiv_id=ref.arxiv_id,
            pmid=ref.pmid,
            extra=extra,
        ),
    )


def _entry_fields(entry: Entry) -> BibEntryFields:
    fields = {f.key.lower(): f.value for f in entry.fields}
    text = {k: latex_to_text(v) for k, v in fields.items() if k in _TEXT_FIELDS and isinstance(v, str)}
    text.update(
        {k: clean_text(v).strip("{}") for k, v in fields.items() if k in _VERBATIM_FIELDS and isinstance(v, str)}
    )
    authors = [_name(parts) for parts in fields.get("author", []) or [] if not isinstance(parts, str)]
    if not authors and isinstance(fields.get("author"), str):
        authors = [latex_to_text(fields["author"])]
    if not authors:
        authors = [_name(p) for p in fields.get("editor", []) or [] if not isinstance(p, str)]
    year_match = re.search(r"\d{4}", text.get("year", "") or text.get("date", ""))
    arxiv_id = _arxiv_id(text)
    reference = Reference(
        key=entry.key,
        title=text.get("title", ""),
        authors=[a for a in authors if a],
        year=int(year_match.group(0)) if year_match else None,
        doi=_doi(text.get("doi", "")),
        arxiv_id=arxiv_id,
        pmid=text.get("pmid") or None,
        raw=clean_text(entry.raw or "")[:2000],
    )
    venue = next((text[k] for k in ("journal", "booktitle", "publisher", "school", "institution") if text.get(k)), "")
    extra = {k: text[k] for k in ("volume", "pages", "url", "keywords") if text.get(k)}
    return BibEntryFields(
        reference=reference,
        entry_type=entry.entry_type.lower(),
        line=(entry.start_line or 0) + 1,
        venue=venue,
        abstract=text.get("abstract", ""),
        extra=extra,
    )


def _name(parts: middlewares.NameParts) -> str:
    """``"von Last, Jr, First"`` decoded to text, in the "Surname, Given" form."""
    surname = latex_to_text(" ".join(parts.von + parts.last))
    given = latex_to_text(" ".join(parts.first))
    jr = latex_to_text(" ".join(parts.jr))
    if not given:
        return surname
    return f"{surname}, {jr}, {given}" if jr else f"{surname}, {given}"


def _doi(value: str) -> str | None:
    value = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", value.strip(), flags=re.IGNORECASE)
    return value or None


def _arxiv_id(text: dict[str, str]) -> str | None:
    prefix = (text.get("archiveprefix") or text.get("eprinttype") or "").lower()
    if text.get("eprint") and (prefix == "arxiv" or re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?", text["eprint"])):
        return re.sub(r"v\d+$", "", text["eprint"])
    url_match = _ARXIV_URL.search(text.get("url", ""))
    return url_match.group(1) if url_match else None
