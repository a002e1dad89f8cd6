"""``.bbl`` bibliographies (``\\bibitem`` blocks) to :class:`Reference` records.

A ``.bbl`` is what BibTeX wrote for the paper, so it holds exactly the cited entries even
when the ``.bib`` was not uploaded to arXiv. Three shapes are read:

* revtex/apsrev: ``\\bibinfo{title}{..}``, ``\\bibinfo{author}{..}`` fields;
* ``\\newblock`` styles (plain, unsrt, natbib, acl): authors block, title block, venue;
* anything else: the item's text through :func:`~sciprep.corpus.references.parse_reference`.

The natbib label (``\\bibitem[{Ahmad and Afzal(2018)}]{key}``) supplies the first
author's surname and the year where the body does not.
"""

from __future__ import annotations

import re

from sciprep.corpus.document import Reference
from sciprep.corpus.latex.macros import read_group
from sciprep.corpus.latex.text import latex_to_text
from sciprep.corpus.references import parse_authors, parse_reference

_BIBITEM = re.compile(r"\\bibitem(?![A-Za-z@])")
_BIBINFO = re.compile(r"\\bibinfo\s*\{(\w+)\}\s*")
_NEWBLOCK = re.compile(r"\\newblock(?![A-Za-z@])")
_DOI_URL = re.compile(r"(?:doi\.org/|\\doibase\s*)(10\.\d{4,9}/[^\s{}]+)")
_LABEL_YEAR = re.compile(r"\(((?:1[89]|20)\d\d)[a-z]?\)")
_TRAILING_YEAR = re.compile(r"[.,]?\s*\(?((?:1[89]|20)\d\d)[a-z]?\)?\.?\s*$")


def parse_bbl(text: str) -> dict[str, Reference]:
    """``key -> Reference`` for every ``\\bibitem`` of ``text`` (a .bbl or a thebibliography)."""
    refs: dict[str, Reference] = {}
    starts = [m.end() for m in _BIBITEM.finditer(text)]
    for index, start in enumerate(starts):
        stop = starts[index + 1] - len("\\bibitem") if index + 1 < len(starts) else len(text)
        chunk = text[start:stop].split("\\end{thebibliography}", 1)[0]
        item = _read_item_head(chunk)
        if item is None:
            continue
        label, key, body = item
        refs[key] = parse_bibitem(key, label, body)
    return refs


def parse_bibitem(key: str, label: str, body: str) -> Reference:
    """One ``\\bibitem`` body to a reference (see the module docstring for the shapes)."""
    if _BIBINFO.search(body):
        ref, plain = _from_bibinfo(key, body), latex_to_text(body)
    elif _NEWBLOCK.search(body):
        blocks = [latex_to_text(b) for b in _NEWBLOCK.split(body) if b.strip()]
        ref, plain = _from_newblocks(key, blocks), " ".join(blocks)
    else:
        plain = latex_to_text(body)
        ref = parse_reference(plain, key=key)
    ref.raw = plain
    fallback = parse_reference(plain)
    if ref.year is None or not ref.authors:
        label_text = latex_to_text(label)
        year = _LABEL_YEAR.search(label_text)
        ref.year = ref.year or (int(year.group(1)) if year else fallback.year)
        surname = re.split(r"\s+(?:et al\.?|and)\b|\(|,", label_text)[0].strip()
        if not ref.authors and surname and not surname.isdigit():
            ref.authors = [surname]
    doi = _DOI_URL.search(body)
    if doi and not ref.doi:
        ref.doi = doi.group(1).rstrip(".,}")
    ref.arxiv_id = ref.arxiv_id or fallback.arxiv_id
    return ref


def _read_item_head(chunk: str) -> tuple[str, str, str] | None:
    pos = 0
    label = ""
    stripped = chunk.lstrip()
    pos = len(chunk) - len(stripped)
    if stripped.startswith("["):
        depth = 0
        for i in range(pos, len(chunk)):
            ch = chunk[i]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "]" and depth == 0:
                label, pos = chunk[pos + 1 : i], i + 1
                break
        else:
            return None
    group = read_group(chunk, pos)
    if group is None:
        return None
    key = group[0].strip()
    return (label, key, chunk[group[1] :]) if key else None


def _from_bibinfo(key: str, body: str) -> Reference:
    fields: dict[str, list[str]] = {}
    for match in _BIBINFO.finditer(body):
        group = read_group(body, match.end())
        if group is not None:
            fields.setdefault(match.group(1), []).append(group[0])
    authors = [_bibinfo_author(a) for a in fields.get("author", [])]
    year = re.search(r"\d{4}", " ".join(fields.get("year", [])))
    return Reference(
        key=key,
        title=latex_to_text(fields.get("title", [""])[0]).rstrip(" ,."),
        authors=[a for a in authors if a],
        year=int(year.group(0)) if year else None,
        doi=(latex_to_text(fields["doi"][0]) if fields.get("doi") else None),
    )


def _bibinfo_author(author: str) -> str:
    surname = re.search(r"\\bibnamefont\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", author)
    given = re.search(r"\\bibfnamefont\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", author)
    if surname:
        sur = latex_to_text(surname.group(1))
        return f"{sur}, {latex_to_text(given.group(1))}" if given else sur
    return parse_authors(latex_to_text(author))[0] if latex_to_text(author) else ""


def _from_newblocks(key: str, blocks: list[str]) -> Reference:
    """natbib/plain layout: authors (and year) block, title block, venue blocks."""
    authors_text = blocks[0] if blocks else ""
    year = _TRAILING_YEAR.search(authors_text)
    if year:
        authors_text = authors_text[: year.start()]
    return Reference(
        key=key,
        title=blocks[1].rstrip(" ,.") if len(blocks) > 1 else "",
        authors=parse_authors(authors_text) if authors_text else [],
        year=int(year.group(1)) if year else None,
    )
