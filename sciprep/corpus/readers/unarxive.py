"""unarXive / S2ORC-style JSON lines: one paper per line, markers resolved.

A line holds ``metadata`` (title, authors, abstract, licence...), ``body_text`` paragraphs
whose text carries ``{{cite:ID}}``, ``{{formula:ID}}``, ``{{figure:ID}}`` and
``{{table:ID}}`` markers, ``bib_entries`` (raw reference strings with some ids) and
``ref_entries`` (formula LaTeX, captions). The paper becomes::

    # Title
    ## Abstract
    ...
    ## 1 Introduction
    text with [START_MATH]$t$[END_MATH] and [START_REF] Title, Surname[END_REF] ...
    Figure 1: caption

Formulas are restored as LaTeX math: display (``\\[..\\]``) when the marker stands on a
line of its own or the LaTeX is a multi-line construct, inline (``$..$``) otherwise.
Citations whose raw reference yields a title (:func:`~sciprep.corpus.references.parse_reference`)
become ``[START_REF] Title, Surname[END_REF]`` through the tokenizer's resolver; the others
(physics references rarely print titles) become a plain ``(Surname et al., Year)`` and are
counted in ``metadata.extra`` (``cites_total``, ``cites_resolved``). This reader is chosen
with ``reader: unarxive``; it does not claim ``.jsonl``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sciprep.corpus.document import Document, Metadata, Reference, stable_id
from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.sourcefile import READ_ERRORS, describe_error, open_binary
from sciprep.corpus.references import clean_text, parse_reference
from sciprep.corpus.shards import Reject
from sciprep.tokenize import BibEntry, wrap_report

MAX_LINE_BYTES = 64 * 1024 * 1024

_MARKER = re.compile(r"\{\{(cite|formula|figure|table):([^{}\s]+)\}\}")
_DISPLAY_LATEX = re.compile(r"\\begin\{|\\\\|\\end\{")
_MATH_ENV = re.compile(r"^\\begin\{(equation|align|gather|multline|eqnarray|displaymath)\*?\}")
_DISPLAY_OPEN, _DISPLAY_CLOSE = "\ue010", "\ue011"
_DISPLAY_SPLIT = re.compile(f"{_DISPLAY_OPEN}(.*?){_DISPLAY_CLOSE}", re.DOTALL)
_LEVELS = {"section": 2, "subsection": 3, "subsubsection": 4, "paragraph": 5}


class RecordError(ValueError):
    """A line that is JSON but not a usable unarXive record."""


@register_reader("unarxive")
def read(path: Path, source: str) -> ReaderOutput:
    """One ``paper`` document per JSON line; bad lines become rejects with the line number."""
    try:
        handle = open_binary(path)
    except READ_ERRORS as err:
        yield Reject(source, str(path), "file", f"cannot read unarXive file: {describe_error(err)}")
        return
    number = 0
    with handle:
        try:
            for number, line in enumerate(_bounded_lines(handle), start=1):
                yield from _line_output(line, number, path, source)
        except READ_ERRORS as err:
            yield Reject(source, str(path), f"after line {number}", f"cannot read on: {describe_error(err)}")


def _line_output(line: bytes | None, number: int, path: Path, source: str) -> ReaderOutput:
    if line is None:
        yield Reject(source, str(path), f"line {number}", f"line longer than {MAX_LINE_BYTES} bytes")
        return
    if not line.strip():
        return
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        yield Reject(source, str(path), f"line {number}", f"invalid JSON: {err}")
        return
    try:
        yield paper_document(record, source)
    except RecordError as err:
        yield Reject(source, str(path), f"line {number}", str(err))


def _bounded_lines(handle: Any) -> Iterator[bytes | None]:
    """Lines of a binary file; an over-long line is yielded as None and skipped."""
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = handle.readline(MAX_LINE_BYTES + 1)
            yield None
            continue
        yield line


def paper_document(record: Any, source: str) -> Document:
    """The document of one parsed unarXive record; :class:`RecordError` if unusable."""
    if not isinstance(record, dict):
        raise RecordError("record is not a JSON object")
    meta = _mapping(record.get("metadata"))
    body = record.get("body_text")
    paper_id = str(record.get("paper_id") or meta.get("id") or "").strip()
    if not paper_id:
        raise RecordError("record has no paper_id")
    if not isinstance(body, list):
        raise RecordError(f"paper {paper_id}: body_text is not a list of paragraphs")
    entries = _mapping(record.get("ref_entries"))
    formulas = {
        str(k): str(v.get("latex") or "")
        for k, v in entries.items()
        if isinstance(v, dict) and v.get("type") == "formula"
    }
    refs = _references(record.get("bib_entries"), formulas)
    known = {k: BibEntry(r.title, r.first_author_surname) for k, r in refs.items() if r.title}
    builder = _Builder(entries, formulas, refs, known)
    title = clean_text(str(meta.get("title") or ""))
    parts = [f"# {title}"] if title else []
    abstract = clean_text(str(meta.get("abstract") or _mapping(record.get("abstract")).get("text") or ""))
    if abstract:
        parts += ["## Abstract", _escape_dollars_outside_math(abstract)]
    parts += builder.body(body)
    text = "\n\n".join(p for p in parts if p)
    if not text.strip() or not builder.paragraphs:
        raise RecordError(f"paper {paper_id}: no body text")
    wrapped = wrap_report(text, known)
    return Document(
        id=stable_id("unarxive", paper_id),
        text=wrapped.text,
        source=source,
        kind="paper",
        metadata=_metadata(meta, record, paper_id, title, builder),
        references=list(refs.values()),
    )


class _Builder:
    """Turns paragraphs with markers into Markdown text, counting what it resolved."""

    def __init__(
        self,
        entries: dict[str, Any],
        formulas: dict[str, str],
        refs: dict[str, Reference],
        known: dict[str, BibEntry],
    ) -> None:
        self.entries, self.formulas, self.refs, self.known = entries, formulas, refs, known
        self.cites_total = self.cites_resolved = self.formula_count = self.formula_empty = self.paragraphs = 0
        self.floats: dict[str, int] = {}

    def body(self, paragraphs: list[Any]) -> list[str]:
        parts: list[str] = []
        current: tuple[str, str] | None = None
        for para in paragraphs:
            if not isinstance(para, dict):
                continue
            section = (clean_text(str(para.get("section") or "")), str(para.get("sec_number") or ""))
            if section != current and section[0]:
                parts.append(self._heading(section, str(para.get("sec_type") or "")))
            current = section
            text = self._paragraph(str(para.get("text") or ""))
            if text:
                self.paragraphs += 1
                parts.append(text)
        return parts

    def _heading(self, section: tuple[str, str], sec_type: str) -> str:
        name, number = section
        level = number.count(".") + 2 if number else _LEVELS.get(sec_type, 2)
        return "#" * min(level, 6) + " " + f"{number} {self._heading_text(name)}".strip()

    def _heading_text(self, name: str) -> str:
        """Headings carry markers too (``3.1 The algebra {{formula:..}}``); always inline."""

        def resolve(match: re.Match[str]) -> str:
            kind, ident = match.group(1), match.group(2)
            if kind == "formula":
                return self._formula(ident, "", None)
            return self._cite(ident) if kind == "cite" else ""

        return " ".join(_MARKER.sub(resolve, _escape_dollars(name)).split())

    def _paragraph(self, text: str) -> str:
        pieces: list[str] = []
        floats: list[str] = []
        pos = 0
        for match in _MARKER.finditer(text):
            pieces.append(_escape_dollars(text[pos : match.start()]))
            pos = match.end()
            kind, ident = match.group(1), match.group(2)
            if kind == "formula":
                pieces.append(self._formula(ident, text, match))
            elif kind == "cite":
                pieces.append(self._cite(ident))
            else:
                floats.append(self._float(kind, ident))
        pieces.append(_escape_dollars(text[pos:]))
        segments = _DISPLAY_SPLIT.split("".join(pieces).replace("\xa0", " "))
        # even segments are running text (source line breaks collapse), odd ones display math
        lines = [seg.strip() if i % 2 else " ".join(seg.split()) for i, seg in enumerate(segments)]
        for i in range(2, len(lines), 2):  # "...\] ." -> the sentence's full stop stays on the math line
            punct = re.match(r"[.,;:](?=\s|$)", lines[i])
            if punct and lines[i - 1]:
                lines[i - 1] += punct.group(0)
                lines[i] = lines[i][1:].strip()
        joined = "\n".join(line for line in lines if line)
        return "\n\n".join(x for x in [joined, *floats] if x)

    def _formula(self, ident: str, text: str, match: re.Match[str] | None) -> str:
        """Inline ``$..$`` or a display block; ``match`` None forces inline (headings)."""
        latex = (self.formulas.get(ident) or "").strip()
        if not latex:
            self.formula_empty += 1
            return ""
        self.formula_count += 1
        if match is None:
            return f"\\({latex}\\)" if "$" in latex else f"${latex}$"
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        alone = (
            not text[line_start : match.start()].strip()
            and not re.sub(r"[.,;:]", "", text[match.end() : line_end if line_end >= 0 else len(text)]).strip()
        )
        if _MATH_ENV.match(latex):
            return f"{_DISPLAY_OPEN}{latex}{_DISPLAY_CLOSE}"
        if alone or _DISPLAY_LATEX.search(latex):
            return f"{_DISPLAY_OPEN}\\[{latex}\\]{_DISPLAY_CLOSE}"
        return f"\\({latex}\\)" if "$" in latex else f"${latex}$"

    def _cite(self, ident: str) -> str:
        self.cites_total += 1
        if ident in self.known:
            self.cites_resolved += 1
            return f"\\cite{{{ident}}}"
        ref = self.refs.get(ident)
        if ref is None or not ref.authors:
            return ""
        etal = " et al." if len(ref.authors) > 1 else ""
        year = f", {ref.year}" if ref.year else ""
        return f" ({ref.first_author_surname}{etal}{year})"

    def _float(self, kind: str, ident: str) -> str:
        entry = self.entries.get(ident) or {}
        caption = clean_text(str(entry.get("caption") or "")) if isinstance(entry, dict) else ""
        if not caption or caption == "NO_CAPTION":
            return ""
        label = kind.capitalize()
        self.floats[label] = self.floats.get(label, 0) + 1
        return f"{label} {self.floats[label]}: {_escape_dollars(caption)}"


def _references(bib: Any, formulas: dict[str, str]) -> dict[str, Reference]:
    refs: dict[str, Reference] = {}
    if not isinstance(bib, dict):
        return refs
    for key, entry in bib.items():
        if not isinstance(entry, dict):
            continue
        raw = str(entry.get("bib_entry_raw") or "")
        raw = _MARKER.sub(lambda m: f"${formulas.get(m.group(2), '')}$" if m.group(1) == "formula" else "", raw)
        ref = parse_reference(raw, key=str(key))
        ids = _mapping(entry.get("ids"))
        if ids:
            ref.doi = str(ids.get("doi") or "") or ref.doi
            ref.arxiv_id = str(ids.get("arxiv_id") or "") or ref.arxiv_id
            ref.pmid = str(ids.get("pubmed_id") or "") or None
        refs[str(key)] = ref
    return refs


def _metadata(meta: dict[str, Any], record: dict[str, Any], paper_id: str, title: str, builder: _Builder) -> Metadata:
    authors = [
        f"{a[0]}, {a[1]}".strip(", ") if len(a) > 1 and a[1] else str(a[0])
        for a in (meta.get("authors_parsed") if isinstance(meta.get("authors_parsed"), list) else [])
        if isinstance(a, list) and a
    ]
    if not authors and meta.get("authors"):
        authors = [clean_text(a) for a in re.split(r",|\band\b", str(meta["authors"])) if a.strip()]
    year = None
    versions = meta.get("versions") if isinstance(meta.get("versions"), list) else []
    created = _mapping(versions[0]).get("created", "") if versions else ""
    year_match = re.search(r"\b(19|20)\d\d\b", str(created)) or re.match(r"(\d\d)(\d\d)\.", paper_id)
    if year_match:
        year = int(year_match.group(0)) if len(year_match.group(0)) == 4 else 2000 + int(year_match.group(1))
    extra = {
        "cites_total": str(builder.cites_total),
        "cites_resolved": str(builder.cites_resolved),
        "formulas": str(builder.formula_count),
        "formulas_empty": str(builder.formula_empty),
        "paragraphs": str(builder.paragraphs),
    }
    for key in ("categories", "journal-ref", "comments"):
        if meta.get(key):
            extra[key.replace("-", "_")] = clean_text(str(meta[key]))
    if record.get("discipline"):
        extra["discipline"] = str(record["discipline"])
    return Metadata(
        title=title,
        authors=authors,
        year=year,
        doi=str(meta.get("doi") or "") or None,
        arxiv_id=paper_id,
        licence=str(meta.get("license") or "") or None,
        extra=extra,
    )


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (fields of the wrong type are ignored)."""
    return value if isinstance(value, dict) else {}


def _escape_dollars(text: str) -> str:
    """Plain text's ``$`` must not open math once formulas are restored."""
    return re.sub(r"(?<!\\)\$", r"\\$", text)


def _escape_dollars_outside_math(text: str) -> str:
    """Abstracts carry real ``$..$`` math: escape only a ``$`` left unpaired."""
    dollars = [m.start() for m in re.finditer(r"(?<!\\)\$", text)]
    if len(dollars) % 2 == 0:
        return text
    last = dollars[-1]
    return text[:last] + "\\$" + text[last + 1 :]
