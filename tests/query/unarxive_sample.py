"""A small real corpus for the query tests, made from the unarXive sample with simple rules.

Each paper becomes one Document whose text carries Galactica markup: a ``{{cite:ID}}``
marker becomes ``[START_REF] Title, Surname[END_REF]`` when its raw bibliography string
has an ``Authors. Title. Venue`` shape, and ``{{formula:ID}}`` becomes
``[START_MATH]$latex$[END_MATH]``. This stays independent of the corpus readers so the
query tests exercise only the query stage.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sciprep.corpus.document import Document, Metadata, Reference
from sciprep.corpus.shards import ShardWriter
from sciprep.tokenize.specials import END_MATH, END_REF, START_MATH, START_REF

_MARKER = re.compile(r"\{\{(cite|formula):([^}]+)\}\}")
_YEAR = re.compile(r"\b(19|20)\d\d\b")


_CS_STYLE = re.compile(r"^(?P<authors>[^.]{3,300}?)\. (?P<title>[^.?!]{15,300}[?!]?)\.? ")


def _parse_raw(key: str, entry: dict) -> Reference | None:
    """``Given Surname, ... and Given Surname. Title. Venue, year.`` (no initials with dots)."""
    raw = " ".join(entry.get("bib_entry_raw", "").split())
    match = _CS_STYLE.match(raw)
    if match is None:
        return None
    authors = [a.strip() for a in re.split(r",\s*(?:and\s+)?|\s+and\s+", match["authors"]) if a.strip()]
    ids = entry.get("ids") or {}
    year = _YEAR.search(raw)
    return Reference(
        key=key,
        title=match["title"].strip(),
        authors=authors,
        year=int(year.group(0)) if year else None,
        doi=ids.get("doi") or None,
        arxiv_id=ids.get("arxiv_id") or None,
        raw=raw,
    )


def paper_document(paper: dict) -> Document:
    """One unarXive JSON record as a marked-up Document."""
    refs = {k: r for k, e in paper["bib_entries"].items() if (r := _parse_raw(k, e)) is not None}
    formulas = {k: e["latex"] for k, e in paper["ref_entries"].items() if e.get("type") == "formula"}

    def replace(match: re.Match[str]) -> str:
        kind, key = match.groups()
        if kind == "cite":
            ref = refs.get(key)
            return f"{START_REF} {ref.title}, {ref.first_author_surname}{END_REF}" if ref else ""
        latex = formulas.get(key)
        return f"{START_MATH}${latex.strip()}${END_MATH}" if latex and latex.strip() else ""

    paragraphs = [paper["metadata"]["title"]] + [_MARKER.sub(replace, p["text"]) for p in paper["body_text"]]
    meta = paper["metadata"]
    return Document(
        id=paper["paper_id"],
        text="\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip()),
        source="unarxive",
        kind="paper",
        metadata=Metadata(title=meta["title"], arxiv_id=paper["paper_id"]),
        references=sorted(refs.values(), key=lambda r: r.key),
    )


def write_corpus(sample: Path, out_dir: Path, max_docs: int = 8) -> Path:
    """Write the sample as a corpus directory (several shards) and return ``out_dir``."""
    writer = ShardWriter(out_dir, "unarxive", max_docs=max_docs)
    with open(sample, encoding="utf-8") as fh:
        for line in fh:
            writer.add(paper_document(json.loads(line)))
    writer.close()
    return out_dir
