"""PubMed XML reader: real baseline-format records, structured abstracts, hostile XML."""

from __future__ import annotations

import gzip
from pathlib import Path

from sciprep.corpus.document import Document
from sciprep.corpus.readers.pubmed_xml import read
from sciprep.corpus.shards import Reject


def _article(pmid: int, abstract: str = "<AbstractText>Plain abstract.</AbstractText>") -> str:
    return (
        f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article><Journal><Title>J Test</Title>"
        f"<JournalIssue><PubDate><Year>2020</Year></PubDate></JournalIssue></Journal>"
        f"<ArticleTitle>Title {pmid}</ArticleTitle><Abstract>{abstract}</Abstract>"
        "<AuthorList><Author><LastName>Franklin</LastName><ForeName>Rosalind</ForeName></Author></AuthorList>"
        "</Article></MedlineCitation></PubmedArticle>"
    )


def _file(tmp_path: Path, body: str, name: str = "p.xml") -> Path:
    path = tmp_path / name
    path.write_text(f"<?xml version='1.0'?>\n<PubmedArticleSet>{body}</PubmedArticleSet>\n", encoding="utf-8")
    return path


def test_real_pubmed_xml_gives_one_document_per_article(shared_data: Path) -> None:
    path = shared_data / "pubmed" / "pubmed2.xml"
    raw = path.read_text(encoding="utf-8")
    out = list(read(path, "pubmed"))
    docs = [d for d in out if isinstance(d, Document)]
    assert len(docs) == raw.count("<PubmedArticle>") and len(out) == len(docs)
    for doc in docs:
        assert f'<PMID Version="1">{doc.metadata.pmid}</PMID>' in raw
        assert doc.metadata.doi and doc.metadata.doi in raw
        assert doc.metadata.title in raw
        assert doc.metadata.authors and all(", " in a for a in doc.metadata.authors)
    assert "P < 0.001" in docs[0].text  # &lt; decoded


def test_structured_abstract_keeps_section_labels(tmp_path: Path) -> None:
    abstract = (
        '<AbstractText Label="Background">Why.</AbstractText>'
        '<AbstractText Label="Results">What <i>found</i>.</AbstractText>'
    )
    (doc,) = read(_file(tmp_path, _article(7, abstract)), "s")
    assert isinstance(doc, Document)
    assert "BACKGROUND: Why.\n\nRESULTS: What found." in doc.text
    assert doc.metadata.authors == ["Franklin, Rosalind"] and doc.metadata.year == 2020


def test_article_without_abstract_is_rejected(tmp_path: Path) -> None:
    out = list(read(_file(tmp_path, _article(1) + _article(2, abstract="")), "s"))
    assert isinstance(out[0], Document)
    assert isinstance(out[1], Reject) and "PMID 2" in out[1].position


def test_malformed_xml_keeps_earlier_articles_and_rejects_with_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text(
        f"<PubmedArticleSet>\n{_article(1)}\n<PubmedArticle><MedlineCitation>\n</Oops>", encoding="utf-8"
    )
    out = list(read(path, "s"))
    assert isinstance(out[0], Document) and out[0].metadata.pmid == "1"
    assert isinstance(out[-1], Reject) and "malformed XML" in out[-1].reason and "line 4" in out[-1].position


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n'
        f"<PubmedArticleSet>{_article(1, '<AbstractText>&lol2;</AbstractText>')}</PubmedArticleSet>",
        encoding="utf-8",
    )
    out = list(read(path, "s"))
    assert len(out) == 1 and isinstance(out[0], Reject) and "unsafe XML" in out[0].reason


def test_external_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    path = tmp_path / "xxe.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        f"<PubmedArticleSet>{_article(1, '<AbstractText>&xxe;</AbstractText>')}</PubmedArticleSet>",
        encoding="utf-8",
    )
    out = list(read(path, "s"))
    assert all(isinstance(r, Reject) for r in out)
    assert not any("TOP SECRET" in getattr(r, "text", "") for r in out)


def test_non_pubmed_xml_is_rejected_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "article.xml"
    path.write_text("<article><front/></article>", encoding="utf-8")
    (rej,) = read(path, "s")
    assert isinstance(rej, Reject) and "<article>" in rej.reason and "jats" in rej.reason


def test_truncated_gzip_xml_is_a_reject(tmp_path: Path) -> None:
    data = gzip.compress(("<PubmedArticleSet>" + _article(1) * 50 + "</PubmedArticleSet>").encode())
    path = tmp_path / "cut.xml.gz"
    path.write_bytes(data[: len(data) // 2])
    out = list(read(path, "s"))
    assert isinstance(out[-1], Reject)
