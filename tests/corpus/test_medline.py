"""MEDLINE reader: real NCBI records, and every way a file can be broken."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

from Bio import Medline

from sciprep.corpus.document import Document
from sciprep.corpus.readers.medline import read
from sciprep.corpus.shards import Reject


def _record(pmid: int, title: str = "A title", abstract: str = "Some abstract text.") -> str:
    lines = [f"PMID- {pmid}", f"TI  - {title}", "DP  - 2019 Mar", "FAU - Curie, Marie", "AU  - Curie M"]
    if abstract:
        lines.append(f"AB  - {abstract}")
    lines.append("LID - 10.1000/xyz.123 [doi]")
    return "\n".join(lines) + "\n\n"


def test_real_medline_record_becomes_abstract_document(shared_data: Path) -> None:
    path = shared_data / "pubmed" / "pubmed_result1.txt"
    with open(path, encoding="utf-8") as handle:
        expected = list(Medline.parse(handle))
    out = list(read(path, "pubmed"))
    docs = [d for d in out if isinstance(d, Document)]
    assert len(docs) == len(expected) and not [r for r in out if isinstance(r, Reject)]
    doc, raw = docs[0], expected[0]
    assert doc.kind == "abstract" and doc.source == "pubmed"
    assert doc.metadata.pmid == raw["PMID"]
    assert doc.text.startswith(f"# {raw['TI']}")
    assert " ".join(raw["AB"].split()) in " ".join(doc.text.split())
    assert doc.metadata.authors == raw["FAU"]
    assert doc.metadata.year == int(raw["DP"][:4])


def test_doi_year_and_authors_are_extracted(tmp_path: Path) -> None:
    path = tmp_path / "a.medline"
    path.write_text(_record(1), encoding="utf-8")
    (doc,) = read(path, "s")
    assert isinstance(doc, Document)
    assert doc.metadata.doi == "10.1000/xyz.123"
    assert doc.metadata.year == 2019
    assert doc.metadata.authors == ["Curie, Marie"]


def test_record_without_abstract_is_rejected_naming_pmid(tmp_path: Path) -> None:
    path = tmp_path / "a.medline"
    path.write_text(_record(1) + _record(2, abstract=""), encoding="utf-8")
    out = list(read(path, "s"))
    assert isinstance(out[0], Document)
    assert isinstance(out[1], Reject) and "PMID 2" in out[1].position and "no abstract" in out[1].reason


def test_non_medline_text_is_rejected_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "notes.medline"
    path.write_text("just some notes\nwithout any tags\n", encoding="utf-8")
    out = list(read(path, "s"))
    assert out and all(isinstance(r, Reject) for r in out)
    assert "no PMID" in out[0].reason


def test_gzipped_file_is_read_transparently(tmp_path: Path) -> None:
    path = tmp_path / "a.medline.gz"
    path.write_bytes(gzip.compress((_record(1) + _record(2)).encode()))
    out = list(read(path, "s"))
    assert [d.metadata.pmid for d in out if isinstance(d, Document)] == ["1", "2"]


def test_truncated_gzip_keeps_earlier_records_and_rejects_the_rest(tmp_path: Path) -> None:
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8)) for _ in range(2000)]
    text = "".join(_record(i, abstract=" ".join(rng.choices(words, k=80))) for i in range(1, 400))
    data = gzip.compress(text.encode())
    path = tmp_path / "cut.medline.gz"
    path.write_bytes(data[: int(len(data) * 0.8)])
    out = list(read(path, "s"))
    docs = [d for d in out if isinstance(d, Document)]
    assert docs, "records before the truncation must survive"
    assert isinstance(out[-1], Reject) and "truncated" in out[-1].reason
    assert out[-1].position == f"after record {len(out) - 1}"


def test_invalid_utf8_is_a_reject_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "bad.medline"
    path.write_bytes(_record(1).encode() + b"PMID- 2\nAB  - caf\xe9\n")
    out = list(read(path, "s"))
    assert isinstance(out[-1], Reject) and "UTF-8" in out[-1].reason
