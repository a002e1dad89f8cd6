"""unarXive JSON lines: markers become math and Galactica citations."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.corpus.document import Document
from sciprep.corpus.inputs import detect_input_reader
from sciprep.corpus.readers import get_reader
from sciprep.corpus.readers.unarxive import paper_document, read
from sciprep.corpus.shards import Reject


def _record() -> dict:
    return {
        "paper_id": "2212.00001",
        "metadata": {
            "title": "Hopping\n  elements",
            "authors_parsed": [["Milner", "Scott T.", ""], ["Doe", "Jane", ""]],
            "abstract": "  The element $t$ matters.\n",
            "license": "http://creativecommons.org/licenses/by/4.0/",
            "categories": "physics.chem-ph",
            "versions": [{"version": "v1", "created": "Thu, 22 Dec 2022 16:11:33 GMT"}],
            "doi": None,
        },
        "discipline": "Physics",
        "body_text": [
            {
                "section": "Introduction",
                "sec_number": "1",
                "sec_type": "section",
                "text": "The element {{formula:f1}} couples\norbitals{{cite:b1}} for $5{{cite:b2}}.\n",
            },
            {
                "section": "Method",
                "sec_number": "2.1",
                "sec_type": "subsection",
                "text": "We minimise\n{{formula:f2}}\n.\nSee the plot.\n{{figure:g1}}",
            },
        ],
        "bib_entries": {
            "b1": {
                "bib_entry_raw": (
                    "R. Bartnik, The existence of maximal hypersurfaces, Commun. Math. Phys. 94 (1984), 155–175."
                ),
                "ids": {"doi": "10.1007/BF01212349", "arxiv_id": "", "pubmed_id": ""},
            },
            "b2": {"bib_entry_raw": "O. Kwon and V. Coropceanu, J. Chem. Phys. 120, 8186 (2004).", "ids": {}},
        },
        "ref_entries": {
            "f1": {"latex": "t", "type": "formula"},
            "f2": {"latex": "E = \\min_x f(x)", "type": "formula"},
            "g1": {"caption": "Orbitals of a pair.", "type": "figure"},
        },
    }


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "sample.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def paper(tmp_path: Path) -> Document:
    out = list(read(_write(tmp_path, [json.dumps(_record())]), "unarxive"))
    assert len(out) == 1 and isinstance(out[0], Document), out
    return out[0]


def test_paper_layout_title_abstract_and_numbered_headings(paper: Document) -> None:
    blocks = paper.text.split("\n\n")
    assert blocks[:3] == ["# Hopping elements", "## Abstract", "The element [START_MATH]$t$[END_MATH] matters."]
    assert "## 1 Introduction" in blocks
    assert "### 2.1 Method" in blocks
    assert "Figure 1: Orbitals of a pair." in blocks


def test_formulas_are_restored_inline_or_display(paper: Document) -> None:
    assert "The element [START_MATH]$t$[END_MATH] couples orbitals" in paper.text
    assert "We minimise\n[START_MATH]\\[E = \\min_x f(x)\\][END_MATH].\nSee the plot." in paper.text


def test_titled_citations_resolve_and_title_less_ones_become_author_year(paper: Document) -> None:
    assert "orbitals[START_REF] The existence of maximal hypersurfaces, Bartnik[END_REF]" in paper.text
    assert "for \\$5 (Kwon et al., 2004)." in paper.text
    assert "{{" not in paper.text
    assert (paper.metadata.extra["cites_total"], paper.metadata.extra["cites_resolved"]) == ("2", "1")


def test_metadata_and_references(paper: Document) -> None:
    meta = paper.metadata
    assert (meta.title, meta.arxiv_id, meta.year) == ("Hopping elements", "2212.00001", 2022)
    assert meta.authors == ["Milner, Scott T.", "Doe, Jane"]
    assert meta.licence == "http://creativecommons.org/licenses/by/4.0/"
    assert meta.extra["categories"] == "physics.chem-ph"
    refs = {r.key: r for r in paper.references}
    assert refs["b1"].doi == "10.1007/BF01212349"
    assert refs["b2"].title == ""


def test_bad_lines_are_rejected_with_line_numbers_and_good_ones_kept(tmp_path: Path) -> None:
    no_body = _record() | {"body_text": "not a list"}
    no_id = {k: v for k, v in _record().items() if k != "paper_id"} | {"metadata": {}}
    path = _write(
        tmp_path, [json.dumps(_record()), "{broken json", "", json.dumps(no_body), json.dumps(no_id), "[1, 2]"]
    )
    out = list(read(path, "unarxive"))
    assert [type(o).__name__ for o in out] == ["Document", "Reject", "Reject", "Reject", "Reject"]
    rejects = [o for o in out if isinstance(o, Reject)]
    assert [r.position for r in rejects] == ["line 2", "line 4", "line 5", "line 6"]
    assert "invalid JSON" in rejects[0].reason
    assert "body_text" in rejects[1].reason
    assert "no paper_id" in rejects[2].reason


def test_reader_is_registered_by_name_only() -> None:
    assert get_reader("unarxive") is read


@pytest.fixture(scope="module")
def real_papers(shared_data: Path) -> list[Document | Reject]:
    return list(read(shared_data / "arxiv" / "unarxive_sample.jsonl", "unarxive"))


def test_real_sample_every_line_is_a_paper_with_no_marker_left(real_papers: list, shared_data: Path) -> None:
    lines = (shared_data / "arxiv" / "unarxive_sample.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(real_papers) == len(lines)
    assert all(isinstance(d, Document) for d in real_papers)
    for doc in real_papers:
        assert not re.search(r"\{\{(cite|formula|figure|table):", doc.text)
        assert doc.text.startswith("# ") and "\n\n## Abstract\n\n" in doc.text
        assert doc.text.count("[START_REF]") == int(doc.metadata.extra["cites_resolved"])


def test_real_sample_formulas_all_restored(real_papers: list, shared_data: Path) -> None:
    records = [json.loads(line) for line in (shared_data / "arxiv" / "unarxive_sample.jsonl").open(encoding="utf-8")]
    for doc, record in zip(real_papers, records, strict=True):
        markers = sum(len(re.findall(r"\{\{formula:", p["text"])) for p in record["body_text"])
        restored, empty = int(doc.metadata.extra["formulas"]), int(doc.metadata.extra["formulas_empty"])
        assert restored + empty >= markers  # section headings carry formulas too
        assert doc.text.count("[START_MATH]") >= restored


_JUNK = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3), st.just({}))


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["metadata", "abstract", "ref_entries", "bib_entries", "discipline"]), _JUNK, _JUNK)
def test_fields_of_the_wrong_type_never_crash_the_reader(field: str, value: object, inner: object) -> None:
    record = _record()
    record["bib_entries"]["b2"]["ids"] = inner
    record["ref_entries"]["f1"] = {"latex": inner, "type": "formula"}
    record[field] = value
    doc = paper_document(record, "unarxive")
    assert doc.metadata.arxiv_id == "2212.00001"
    assert "{{" not in doc.text


def test_gzipped_jsonl_is_decompressed_line_by_line(tmp_path: Path, paper: Document) -> None:
    path = tmp_path / "sample.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(_record()) + "\n{broken json\n").encode("utf-8")))
    assert detect_input_reader(path) == "unarxive"
    out = list(read(path, "unarxive"))
    assert [type(o).__name__ for o in out] == ["Document", "Reject"]
    assert out[0].text == paper.text
    assert out[1].position == "line 2"


def test_truncated_gzip_keeps_the_lines_before_the_damage_and_rejects_the_rest(tmp_path: Path) -> None:
    lines = [json.dumps(_record() | {"paper_id": f"2212.{i:05d}"}) for i in range(40)]
    data = gzip.compress("\n".join(lines).encode("utf-8"), mtime=0)
    path = tmp_path / "sample.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    out = list(read(path, "unarxive"))
    assert isinstance(out[-1], Reject) and "truncated" in out[-1].reason
    assert out[-1].position.startswith("after line ")
    assert all(isinstance(o, Document) for o in out[:-1])
