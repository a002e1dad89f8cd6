"""JATS XML (PubMed Central ``.nxml``) articles as ``paper`` documents.

Parsed with defusedxml (no entity expansion, no external entities). The text is::

    # Article title
    ## Abstract
    ...
    ## 1 Introduction            (sections and their nesting as Markdown headings)
    ... [START_MATH]$x$[END_MATH] ... [START_REF] Title, Surname[END_REF] ...
    Figure 1: caption            (figure and table captions; table cells are dropped)
    ## Appendix: ...             (``app-group`` in the back matter)

Formulas: ``tex-math`` is used as written (its document wrapper removed); MathML is
converted to LaTeX by :mod:`sciprep.corpus.latex.mathml` (a TeX annotation wins). Inline
formulas become ``$..$``, ``disp-formula`` a display line ``\\[..\\]``.
Citations: ``xref ref-type="bibr"`` is resolved against ``ref-list`` (``article-title``,
first author's surname; ``mixed-citation`` text parsed when it has no tagged title);
numeric ranges (``[3–5]``) are expanded and their brackets dropped, as Galactica's
corpus does. Sub/superscripts use ``[START_SUB]``/``[START_SUP]``. Metadata: title,
authors, year, DOI, PMID, PMCID, licence, keywords.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from sciprep.corpus.document import Document, Metadata, Reference, stable_id
from sciprep.corpus.latex.mathml import formula_latex
from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.sourcefile import READ_ERRORS, InputTooLarge, describe_error, read_bounded
from sciprep.corpus.references import clean_text, normalize_name, parse_reference
from sciprep.corpus.shards import Reject
from sciprep.tokenize import BibEntry, wrap_report
from sciprep.tokenize.specials import END_SUB, END_SUP, START_SUB, START_SUP

MAX_XML_BYTES = 128 * 1024 * 1024
MAX_DEPTH = 400

_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_CITE_GROUP = re.compile(r"[\[(]\s*(\\cite\{[^{}]+\}(?:\s*[,;–\-]\s*\\cite\{[^{}]+\})*)\s*[\])]")
_CITE_RANGE = re.compile(r"\\cite\{([^{}]+)\}\s*[–\-]\s*\\cite\{([^{}]+)\}")
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")
_INLINE_DROP = frozenset({"fn", "table-wrap-foot", "alt-text", "object-id", "graphic", "media", "inline-graphic"})


class JatsError(ValueError):
    """Well-formed XML that is not a usable JATS article."""


@register_reader("jats", (".nxml", ".nxml.gz"))
def read(path: Path, source: str) -> ReaderOutput:
    """One ``paper`` document per JATS file; malformed XML or no article is one reject."""
    try:
        data = read_bounded(path, MAX_XML_BYTES)
    except InputTooLarge:
        yield Reject(source, str(path), "file", f"more than the {MAX_XML_BYTES}-byte limit (after decompression)")
        return
    except READ_ERRORS as err:
        yield Reject(source, str(path), "file", f"cannot read JATS file: {describe_error(err)}")
        return
    try:
        root = fromstring(data)
    except ParseError as err:
        yield Reject(source, str(path), _position(err), f"malformed XML: {err}")
        return
    except DefusedXmlException as err:
        yield Reject(source, str(path), "document", f"refused unsafe XML construct: {err!r}")
        return
    try:
        yield article_document(root, path, source)
    except JatsError as err:
        yield Reject(source, str(path), "document", str(err))
    except RecursionError:
        yield Reject(source, str(path), "document", f"XML nested deeper than {MAX_DEPTH} levels")


def article_document(root: Element, path: Path, source: str) -> Document:
    """The paper document of a parsed JATS ``<article>``; :class:`JatsError` if unusable."""
    if _local(root.tag) != "article":
        raise JatsError(f"root element is <{_local(root.tag)}>, not a JATS <article>")
    meta = _find(root, "front/article-meta")
    if meta is None:
        raise JatsError("no <front>/<article-meta>: not a JATS article")
    refs = _references(root)
    known = {k: BibEntry(r.title, r.first_author_surname) for k, r in refs.items() if r.title}
    writer = _Writer(refs, known)
    title = clean_text(_plain(_find(meta, "title-group/article-title")))
    parts = [f"# {title}"] if title else []
    abstract = next((a for a in _all(meta, "abstract") if not a.get("abstract-type")), None)
    if abstract is None:
        abstract = next(iter(_all(meta, "abstract")), None)
    if abstract is not None:
        parts += ["## Abstract", *writer.blocks(abstract, level=3)]
    body = _find(root, "body")
    if body is not None:
        parts += writer.blocks(body, level=2)
    back = _child(root, "back")
    apps = [app for group in _all(back, "app-group") for app in _all(group, "app")] if back is not None else []
    for app in apps:
        app_title = clean_text(_plain(_child(app, "title")))
        parts += [
            f"## Appendix: {app_title}" if app_title else "## Appendix",
            *writer.blocks(app, level=3, skip_title=True),
        ]
    if body is None and abstract is None:
        raise JatsError("article has neither <abstract> nor <body> text")
    text = "\n\n".join(p for p in parts if p.strip())
    text = _tidy_citations(text, known)
    wrapped = wrap_report(text, known)
    return Document(
        id=stable_id("jats", _article_id(meta, "pmc") or path.name),
        text=wrapped.text,
        source=source,
        kind="paper",
        metadata=_metadata(meta, title, writer),
        references=list(refs.values()),
    )


class _Writer:
    """Renders JATS block and inline content, counting citations as it goes."""

    def __init__(self, refs: dict[str, Reference], known: dict[str, BibEntry]) -> None:
        self.refs, self.known = refs, known
        self.cites_total = self.cites_resolved = self.formulas = 0

    def blocks(self, node: Element, *, level: int, skip_title: bool = False, depth: int = 0) -> list[str]:
        if depth > MAX_DEPTH:
            raise RecursionError
        out: list[str] = []
        for child in node:
            tag = _local(child.tag)
            if tag == "title" and skip_title:
                continue
            if tag == "sec":
                label = clean_text(_plain(_child(child, "label")))
                heading = clean_text(_plain(_child(child, "title")))
                if heading or label:
                    out.append("#" * min(level, 6) + " " + f"{label} {heading}".strip())
                out += self.blocks(child, level=level + 1, skip_title=True, depth=depth + 1)
            elif tag == "title" or tag == "label":
                continue
            elif tag == "p":
                out += self._paragraph(child)
            elif tag == "disp-formula":
                out.append(self._display(child))
            elif tag in {"fig", "table-wrap"}:
                out.append(self._float(child))
            elif tag in {"list"}:
                out.append(
                    "\n".join("- " + self.inline(item).strip() for item in child if _local(item.tag) == "list-item")
                )
            elif tag in {"boxed-text", "disp-quote", "fig-group", "table-wrap-group", "statement", "def-list"}:
                out += self.blocks(child, level=level, depth=depth + 1)
        return [o for o in out if o.strip()]

    def _paragraph(self, p: Element) -> list[str]:
        """A paragraph; display formulas and floats nested in it become their own lines."""
        lines: list[str] = []
        floats: list[str] = []
        buffer = [_escape(p.text or "")]
        for child in p:
            tag = _local(child.tag)
            if tag == "disp-formula":
                lines.append(" ".join("".join(buffer).split()))
                lines.append(self._display(child))
                buffer = []
            elif tag in {"fig", "table-wrap"}:
                floats.append(self._float(child))
            elif tag == "list":
                lines.append(" ".join("".join(buffer).split()))
                lines.append("\n".join("- " + self.inline(i).strip() for i in child if _local(i.tag) == "list-item"))
                buffer = []
            else:
                buffer.append(self._inline_element(child))
            buffer.append(_escape(child.tail or ""))
        lines.append(" ".join("".join(buffer).split()))
        paragraph = "\n".join(line for line in lines if line)
        return [paragraph, *floats]

    def inline(self, node: Element | None) -> str:
        if node is None:
            return ""
        pieces = [_escape(node.text or "")]
        for child in node:
            pieces.append(self._inline_element(child))
            pieces.append(_escape(child.tail or ""))
        return " ".join("".join(pieces).split())

    def _inline_element(self, child: Element) -> str:
        tag = _local(child.tag)
        if tag == "xref" and child.get("ref-type") == "bibr":
            return self._cite(child)
        if tag in {"inline-formula", "math", "tex-math", "alternatives"}:
            latex = formula_latex(child)
            if not latex:
                return ""
            self.formulas += 1
            return f"\\({latex}\\)" if "$" in latex else f"${latex}$"
        if tag == "disp-formula":
            return " " + self._display(child) + " "
        if tag in {"sup", "sub"}:
            inner = self.inline(child)
            if not inner or inner.startswith("\\cite{"):
                return inner
            start, end = (START_SUP, END_SUP) if tag == "sup" else (START_SUB, END_SUB)
            return f"{start}{inner}{end}"
        if tag in _INLINE_DROP:
            return ""
        if tag == "break":
            return " "
        return self.inline(child)

    def _cite(self, xref: Element) -> str:
        keys = [k for k in (xref.get("rid") or "").split() if k]
        out = []
        for key in keys:
            self.cites_total += 1
            if key in self.known:
                self.cites_resolved += 1
                out.append(f"\\cite{{{key}}}")
            else:
                out.append(self._fallback(key, xref))
        return "".join(out) if keys else self.inline(xref)

    def _fallback(self, key: str, xref: Element) -> str:
        ref = self.refs.get(key)
        if ref is not None and ref.authors:
            etal = " et al." if len(ref.authors) > 1 else ""
            return f"{ref.first_author_surname}{etal}" + (f", {ref.year}" if ref.year else "")
        return self.inline(xref)

    def _display(self, formula: Element) -> str:
        latex = formula_latex(formula)
        if not latex:
            return ""
        self.formulas += 1
        if re.match(r"\\begin\{(equation|align|gather|multline|eqnarray)", latex):
            return latex
        return f"\\[{latex}\\]"

    def _float(self, node: Element) -> str:
        label = clean_text(_plain(_child(node, "label")))
        caption = _child(node, "caption")
        if caption is None:
            return ""
        parts = [self.inline(c) for c in caption if _local(c.tag) in {"title", "p"}]
        text = " ".join(p for p in parts if p)
        if not text:
            return ""
        kind = "Figure" if _local(node.tag) == "fig" else "Table"
        label = label or kind
        return f"{label.rstrip('.:')}: {text}"


def _references(root: Element) -> dict[str, Reference]:
    refs: dict[str, Reference] = {}
    for ref in root.iter():
        if _local(ref.tag) != "ref" or not ref.get("id"):
            continue
        citation = next(
            (c for c in ref if _local(c.tag) in {"element-citation", "mixed-citation", "citation", "nlm-citation"}),
            None,
        )
        if citation is None:
            continue
        refs[ref.get("id", "")] = _reference(ref.get("id", ""), citation)
    return refs


def _reference(key: str, citation: Element) -> Reference:
    raw = clean_text(" ".join(citation.itertext()))
    parsed = parse_reference(raw, key=key)
    title = clean_text(_plain(_child(citation, "article-title")) or _plain(_child(citation, "chapter-title")))
    if not title and citation.get("publication-type") in {"book", "thesis", "report"}:
        title = clean_text(_plain(_child(citation, "source")))
    authors: list[str] = []
    for group in [g for g in citation if _local(g.tag) == "person-group"] or [citation]:
        if group.get("person-group-type", "author") != "author":
            continue
        for name in group:
            tag = _local(name.tag)
            if tag == "name":
                surname = clean_text(_plain(_child(name, "surname")))
                given = clean_text(_plain(_child(name, "given-names")))
                authors.append(f"{surname}, {given}" if given else surname)
            elif tag in {"string-name", "collab"}:
                authors.append(normalize_name(_plain(name)) if tag == "string-name" else clean_text(_plain(name)))
    year = re.search(r"\d{4}", _plain(_child(citation, "year")))
    ids = {p.get("pub-id-type"): clean_text(p.text or "") for p in citation if _local(p.tag) == "pub-id"}
    return Reference(
        key=key,
        title=(title or parsed.title).rstrip(" ."),
        authors=[a for a in authors if a] or parsed.authors,
        year=int(year.group(0)) if year else parsed.year,
        doi=ids.get("doi") or parsed.doi,
        arxiv_id=ids.get("arxiv") or parsed.arxiv_id,
        pmid=ids.get("pmid"),
        raw=raw,
    )


def _metadata(meta: Element, title: str, writer: _Writer) -> Metadata:
    authors = []
    for contrib in meta.iter():
        if _local(contrib.tag) != "contrib" or contrib.get("contrib-type") != "author":
            continue
        name = _child(contrib, "name")
        if name is not None:
            surname, given = (
                clean_text(_plain(_child(name, "surname"))),
                clean_text(_plain(_child(name, "given-names"))),
            )
            authors.append(f"{surname}, {given}" if given else surname)
        elif _child(contrib, "collab") is not None:
            authors.append(clean_text(_plain(_child(contrib, "collab"))))
    years = [clean_text(_plain(_child(d, "year"))) for d in meta if _local(d.tag) == "pub-date"]
    year = next((int(y) for y in years if y.isdigit()), None)
    licence_el = next((e for e in meta.iter() if _local(e.tag) == "license"), None)
    licence = None
    if licence_el is not None:
        licence = licence_el.get(_XLINK_HREF) or licence_el.get("license-type") or clean_text(_plain(licence_el))[:300]
    extra = {
        "cites_total": str(writer.cites_total),
        "cites_resolved": str(writer.cites_resolved),
        "formulas": str(writer.formulas),
    }
    pmcid = _article_id(meta, "pmc") or _article_id(meta, "pmcid")
    if pmcid:
        extra["pmcid"] = pmcid if pmcid.upper().startswith("PMC") else f"PMC{pmcid}"
    keywords = [clean_text(_plain(k)) for k in meta.iter() if _local(k.tag) == "kwd"]
    if keywords:
        extra["keywords"] = "; ".join(k for k in keywords if k)
    journal = next((e for e in meta.iter() if _local(e.tag) == "journal-title"), None)
    if journal is not None:
        extra["journal"] = clean_text(_plain(journal))
    return Metadata(
        title=title,
        authors=authors,
        year=year,
        doi=_article_id(meta, "doi"),
        pmid=_article_id(meta, "pmid"),
        licence=licence,
        extra=extra,
    )


def _article_id(meta: Element, kind: str) -> str | None:
    for child in meta:
        if _local(child.tag) == "article-id" and child.get("pub-id-type") == kind:
            return clean_text(child.text or "") or None
    return None


def _tidy_citations(text: str, known: dict[str, BibEntry]) -> str:
    """Expand ``[3]–[5]``-style ranges and drop brackets around bare citation groups."""
    text = _CITE_RANGE.sub(lambda m: _expand_range(m.group(1), m.group(2), known), text)
    return _CITE_GROUP.sub(lambda m: re.sub(r"\s*[,;]\s*", "", m.group(1)), text)


def _expand_range(first: str, last: str, known: dict[str, BibEntry]) -> str:
    a, b = _TRAILING_NUMBER.match(first), _TRAILING_NUMBER.match(last)
    if not (a and b) or a.group(1) != b.group(1) or not 0 < int(b.group(2)) - int(a.group(2)) <= 50:
        return f"\\cite{{{first}}}, \\cite{{{last}}}"
    width = len(a.group(2))
    keys = [f"{a.group(1)}{str(n).zfill(width)}" for n in range(int(a.group(2)), int(b.group(2)) + 1)]
    keys = [k for k in keys if k in known] or [first, last]
    return ", ".join(f"\\cite{{{k}}}" for k in keys)


def _escape(text: str) -> str:
    return re.sub(r"(?<!\\)\$", r"\\$", text)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(node: Element | None, name: str) -> Element | None:
    if node is None:
        return None
    return next((c for c in node if _local(c.tag) == name), None)


def _find(node: Element, path: str) -> Element | None:
    current: Element | None = node
    for step in path.split("/"):
        current = _child(current, step)
    return current


def _all(node: Element, name: str) -> list[Element]:
    return [c for c in node if _local(c.tag) == name]


def _plain(node: Element | None) -> str:
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _position(err: ParseError) -> str:
    line, column = getattr(err, "position", (0, 0))
    return f"line {line}, column {column}"
