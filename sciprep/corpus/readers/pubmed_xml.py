"""PubMed XML (``<PubmedArticleSet>``, the format of the PubMed baseline files).

Parsed as a stream with ``defusedxml`` (entity declarations and external references are
refused), so a 30,000-article baseline file is read in constant memory. One
``kind="abstract"`` document per ``PubmedArticle``/``PubmedBookArticle`` with an abstract;
structured abstracts keep their section labels. Malformed XML keeps the articles before
the error and rejects the rest with the line and column.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.abstract_doc import AbstractRecord, problem, to_document
from sciprep.corpus.readers.sourcefile import READ_ERRORS, describe_error, open_binary, reject

_ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")


def _text(elem: ET.Element | None) -> str:
    return " ".join("".join(elem.itertext()).split()) if elem is not None else ""


def _abstract(article: ET.Element) -> str:
    parts = []
    for node in article.iter("AbstractText"):
        body = _text(node)
        label = node.get("Label")
        if body:
            parts.append(f"{label.strip().upper()}: {body}" if label else body)
    return "\n\n".join(parts)


def _authors(article: ET.Element) -> list[str]:
    authors = []
    for author in article.iter("Author"):
        last, fore = _text(author.find("LastName")), _text(author.find("ForeName"))
        collective = _text(author.find("CollectiveName"))
        if last:
            authors.append(f"{last}, {fore}" if fore else last)
        elif collective:
            authors.append(collective)
    return authors


def _date(article: ET.Element) -> str:
    pub_date = article.find(".//PubDate")
    if pub_date is None:
        return ""
    return _text(pub_date.find("Year")) or _text(pub_date.find("MedlineDate"))


def _doi(article: ET.Element) -> str | None:
    for node in article.iter("ArticleId"):
        if node.get("IdType") == "doi" and _text(node):
            return _text(node)
    for node in article.iter("ELocationID"):
        if node.get("EIdType") == "doi" and _text(node):
            return _text(node)
    return None


def _record(article: ET.Element) -> AbstractRecord:
    title = _text(article.find(".//ArticleTitle")) or _text(article.find(".//BookTitle"))
    return AbstractRecord(
        pmid=_text(article.find(".//PMID")),
        title=title,
        abstract=_abstract(article),
        authors=_authors(article),
        date=_date(article),
        doi=_doi(article),
        journal=_text(article.find(".//Journal/Title")),
        mesh=[_text(d) for d in article.iter("DescriptorName") if _text(d)],
        language=_text(article.find(".//Language")),
    )


@register_reader("pubmed_xml", (".xml", ".xml.gz"))
def read(path: Path, source: str) -> ReaderOutput:
    """Yield one abstract document (or reject) per PubMed article of ``path``."""
    index = 0
    root_tag = ""
    try:
        with open_binary(path) as handle:
            root: ET.Element | None = None
            for event, elem in SafeET.iterparse(handle, events=("start", "end")):
                if event == "start":
                    if root is None:
                        root, root_tag = elem, elem.tag
                    continue
                if elem.tag not in _ARTICLE_TAGS:
                    continue
                index += 1
                record = _record(elem)
                reason = problem(record)
                position = f"article {index}" + (f" (PMID {record.pmid})" if record.pmid else "")
                yield reject(source, path, position, reason) if reason else to_document(record, source)
                root.clear()  # type: ignore[union-attr]  # constant memory on baseline files
    except ET.ParseError as err:
        line, column = err.position
        yield reject(
            source,
            path,
            f"line {line}, column {column} (after article {index})",
            f"malformed XML: {err}",
        )
        return
    except DefusedXmlException as err:
        yield reject(source, path, f"after article {index}", f"unsafe XML refused: {err}")
        return
    except READ_ERRORS as err:
        yield reject(
            source, path, f"after article {index}", f"unreadable from here on: {describe_error(err)}"
        )
        return
    if index == 0:
        yield reject(
            source,
            path,
            "file",
            f"no PubmedArticle elements (root element <{root_tag}>): not a PubMed XML file; "
            "set the source's reader (e.g. jats for PMC articles)",
        )
