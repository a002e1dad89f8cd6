"""JATS (PubMed Central) articles: structure, formulas, resolved citations, metadata."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from sciprep.corpus.document import Document
from sciprep.corpus.readers import detect_reader
from sciprep.corpus.readers.jats import read
from sciprep.corpus.shards import Reject

ARTICLE = """<?xml version="1.0"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.0 20120330//EN"
  "JATS-archivearticle1.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML">
<front><article-meta>
  <article-id pub-id-type="pmid">123</article-id><article-id pub-id-type="pmc">456</article-id>
  <article-id pub-id-type="doi">10.1/abc</article-id>
  <title-group><article-title>Crows <italic>count</italic></article-title></title-group>
  <contrib-group><contrib contrib-type="author"><name><surname>Uhl</surname><given-names>Florian</given-names>
  </name></contrib></contrib-group>
  <pub-date pub-type="epub"><year>2019</year></pub-date>
  <permissions><license xlink:href="http://creativecommons.org/licenses/by/4.0/"><license-p>CC BY</license-p>
  </license></permissions>
  <abstract><p>We counted $5 worth of crows<sup>2</sup>.</p></abstract>
  <kwd-group><kwd>crows</kwd></kwd-group>
</article-meta></front>
<body>
<sec><label>1</label><title>Intro</title>
  <p>Crows are smart [<xref ref-type="bibr" rid="R1">1</xref>&#x02013;<xref ref-type="bibr" rid="R3">3</xref>] and
  social (<xref ref-type="bibr" rid="R4">Nobody 1999</xref>). Size is <inline-formula>
  <tex-math>\\documentclass{minimal}\\begin{document}$n_{\\mathrm{crow}}$\\end{document}</tex-math>
  </inline-formula>.</p>
  <sec><title>Model</title>
  <p>We fit<disp-formula><mml:math><mml:mi>y</mml:mi><mml:mo>=</mml:mo><mml:msup><mml:mi>x</mml:mi>
  <mml:mn>2</mml:mn></mml:msup></mml:math></disp-formula>to data.</p>
  <fig id="F1"><label>Figure 1</label><caption><p>A crow.</p></caption><graphic xlink:href="f1.jpg"/></fig>
  </sec>
</sec>
</body>
<back>
<app-group><app><title>Extra data</title><p>More crows.</p></app></app-group>
<ref-list>
<ref id="R1"><element-citation><person-group person-group-type="author"><name><surname>Marzluff</surname>
  <given-names>J</given-names></name></person-group><article-title>Crow minds</article-title><year>2005</year>
  <pub-id pub-id-type="pmid">999</pub-id></element-citation></ref>
<ref id="R2"><element-citation><person-group person-group-type="author"><name><surname>Emery</surname>
  <given-names>N</given-names></name></person-group><article-title>Clever corvids</article-title><year>2004</year>
  </element-citation></ref>
<ref id="R3">
  <mixed-citation>Clayton NS, Emery NJ. The social life of corvids. Curr Biol. 2007;17:R652.</mixed-citation></ref>
<ref id="R4"><element-citation><person-group person-group-type="author"><name><surname>Nobody</surname></name>
  </person-group><source>Some journal</source><year>1999</year></element-citation></ref>
</ref-list>
</back>
</article>
"""


@pytest.fixture
def article(tmp_path: Path) -> Document:
    path = tmp_path / "PMC456.nxml"
    path.write_text(ARTICLE, encoding="utf-8")
    out = list(read(path, "pmc"))
    assert len(out) == 1 and isinstance(out[0], Document), out
    return out[0]


def test_structure_is_markdown_with_sections_floats_and_appendix(article: Document) -> None:
    lines = article.text.split("\n\n")
    assert lines[0] == "# Crows count"
    assert lines[1] == "## Abstract"
    assert lines[2] == "We counted \\$5 worth of crows[START_SUP]2[END_SUP]."
    assert "## 1 Intro" in lines
    assert "### Model" in lines
    assert "Figure 1: A crow." in lines
    assert "## Appendix: Extra data" in lines and "More crows." in lines


def test_formulas_from_tex_math_and_mathml(article: Document) -> None:
    assert "Size is [START_MATH]$n_{\\mathrm{crow}}$[END_MATH]." in article.text
    assert "We fit\n[START_MATH]\\[y=x^2\\][END_MATH]\nto data." in article.text


def test_citation_ranges_expand_and_titles_come_from_the_ref_list(article: Document) -> None:
    assert (
        "Crows are smart [START_REF] Crow minds, Marzluff[END_REF][START_REF] Clever corvids, Emery[END_REF]"
        "[START_REF] The social life of corvids, Clayton[END_REF] and social (Nobody, 1999)." in article.text
    )
    extra = article.metadata.extra
    assert (extra["cites_total"], extra["cites_resolved"]) == ("3", "2")


def test_metadata_ids_licence_and_keywords(article: Document) -> None:
    meta = article.metadata
    assert (meta.title, meta.authors, meta.year) == ("Crows count", ["Uhl, Florian"], 2019)
    assert (meta.doi, meta.pmid, meta.extra["pmcid"]) == ("10.1/abc", "123", "PMC456")
    assert meta.licence == "http://creativecommons.org/licenses/by/4.0/"
    assert meta.extra["keywords"] == "crows"
    assert [r.key for r in article.references] == ["R1", "R2", "R3", "R4"]
    assert article.references[0].pmid == "999"


def test_malformed_xml_is_rejected_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.nxml"
    path.write_text("<article><front></article>", encoding="utf-8")
    out = list(read(path, "pmc"))
    assert isinstance(out[0], Reject)
    assert out[0].position.startswith("line 1") and "malformed XML" in out[0].reason


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "0123456789"><!ENTITY y "&x;&x;&x;">]><article>&y;</article>'
    path = tmp_path / "bomb.nxml"
    path.write_text(bomb, encoding="utf-8")
    out = list(read(path, "pmc"))
    assert isinstance(out[0], Reject) and "unsafe XML" in out[0].reason


def test_xml_that_is_not_an_article_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.nxml"
    path.write_text("<PubmedArticleSet/>", encoding="utf-8")
    out = list(read(path, "pmc"))
    assert isinstance(out[0], Reject) and "not a JATS <article>" in out[0].reason


def test_nxml_suffix_maps_to_jats() -> None:
    assert detect_reader(Path("PMC1.nxml")) == "jats"


@pytest.mark.parametrize("name", ["PMC5828200.nxml", "PMC6398430.nxml"])
def test_real_pmc_articles_resolve_every_citation_with_a_titled_reference(shared_data: Path, name: str) -> None:
    path = shared_data / "jats" / name
    out = list(read(path, "pmc"))
    assert len(out) == 1 and isinstance(out[0], Document)
    doc = out[0]
    xml = path.read_text(encoding="utf-8")
    xrefs = len(re.findall(r'<xref[^>]*ref-type="bibr"', xml))
    assert int(doc.metadata.extra["cites_total"]) >= xrefs
    assert doc.metadata.extra["cites_resolved"] == doc.metadata.extra["cites_total"]
    assert len(doc.references) == xml.count("<ref id=")
    assert doc.metadata.pmid and doc.metadata.doi and doc.metadata.licence
    assert "## Abstract" in doc.text
    assert not re.search(r"</?[a-z][\w:-]*[\s/>]", doc.text)  # no XML tag leaks into the text
    assert doc.text.count("[START_MATH]") == int(doc.metadata.extra["formulas"])


def test_truncated_real_article_is_a_reject_not_a_crash(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "jats" / "PMC5828200.nxml").read_bytes()
    path = tmp_path / "cut.nxml"
    path.write_bytes(data[: len(data) // 2])
    out = list(read(path, "pmc"))
    assert len(out) == 1 and isinstance(out[0], Reject)
    assert "malformed XML" in out[0].reason and out[0].position.startswith("line ")


def test_gzipped_nxml_is_decompressed_and_read_like_the_plain_file(tmp_path: Path, article: Document) -> None:
    path = tmp_path / "PMC456.nxml.gz"
    path.write_bytes(gzip.compress(ARTICLE.encode("utf-8")))
    assert detect_reader(path) == "jats"
    out = list(read(path, "pmc"))
    assert len(out) == 1 and isinstance(out[0], Document), out
    assert out[0].text == article.text


def test_corrupt_gzip_nxml_is_one_reject_naming_the_damage(tmp_path: Path) -> None:
    path = tmp_path / "PMC456.nxml.gz"
    path.write_bytes(gzip.compress(ARTICLE.encode("utf-8"))[:200])
    out = list(read(path, "pmc"))
    assert len(out) == 1 and isinstance(out[0], Reject)
    assert "truncated" in out[0].reason
