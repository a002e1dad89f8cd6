"""Building the query index from a real corpus: conservation, determinism, resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sciprep.cli import main
from sciprep.corpus.document import Document
from sciprep.corpus.shards import Reject, iter_documents, write_documents, write_rejects
from sciprep.query.index_store import PARTS, REJECTS, QueryIndex, build_index
from sciprep.tokenize.specials import START_MATH, START_REF

OUTPUTS = ("references.parquet", "references.jsonl", "citation_contexts.parquet", "formulas.parquet",
           "formulas.jsonl", REJECTS, "index.json")  # fmt: skip


def test_every_citation_and_formula_is_indexed_or_rejected(sample_corpus: Path, sample_index: Path) -> None:
    docs = list(iter_documents(sample_corpus))
    counts = json.loads((sample_index / "index.json").read_text())["counts"]
    rejects = pq.read_table(sample_index / REJECTS).to_pylist()
    cite_rejects = sum("[START_REF]" in r["reason"] or "citation" in r["reason"] for r in rejects)
    math_rejects = sum("[START_MATH]" in r["reason"] or "formula" in r["reason"] for r in rejects)
    assert counts["documents"] == len(docs)
    assert sum(d.text.count(START_REF) for d in docs) == counts["citations_indexed"] + cite_rejects
    assert sum(d.text.count(START_MATH) for d in docs) == counts["formulas_indexed"] + math_rejects
    assert sum(len(d.references) for d in docs) == counts["bibliography_items"]
    index = QueryIndex.load(sample_index)
    assert len(index.contexts) == counts["citations_indexed"] == sum(e.mention_count for e in index.references)
    assert len({e.id for e in index.references}) == len(index.references) == counts["references"]


def test_index_files_open_without_sciprep(sample_index: Path) -> None:
    refs = [json.loads(line) for line in (sample_index / "references.jsonl").read_text().splitlines()]
    table = pq.read_table(sample_index / "references.parquet")
    assert len(refs) == table.num_rows > 0
    cited = [r for r in refs if r["contexts"]]
    assert cited and all(r["citation"].startswith(r["title"]) for r in cited)
    formulas = pq.read_table(sample_index / "formulas.parquet").to_pylist()
    assert any(f["display"] is False for f in formulas) and all(f["doc_id"] for f in formulas)
    assert {f["valid"] for f in formulas} == {True, False}  # the real sample has some broken LaTeX


def test_rebuild_is_byte_identical_and_resumes_from_finished_shards(
    sample_corpus: Path, sample_index: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(sample_index, copy)
    parts = sorted((copy / PARTS).glob("*.json"))
    assert len(parts) == 4
    victim = parts[2]
    victim.unlink()
    stem = victim.name.split(".")[0]
    kept = {p: p.stat().st_mtime_ns for p in (copy / PARTS).iterdir() if not p.name.startswith(stem)}
    assert len(kept) == 3 * 4
    build_index(sample_corpus, copy, progress=False)
    for path, mtime in kept.items():
        assert path.stat().st_mtime_ns == mtime, f"{path.name} was rewritten"
    assert victim.exists()
    for name in OUTPUTS:
        assert (copy / name).read_bytes() == (sample_index / name).read_bytes(), name


def test_loading_something_that_is_not_an_index_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        QueryIndex.load(tmp_path)


def _small_corpus(root: Path) -> Path:
    doc = Document(id="d1", text="Energy [START_MATH]$E = mc^2$[END_MATH] holds.", source="test", kind="paper")
    write_documents(root / "shards" / "docs-00000.parquet", [doc])
    write_rejects(root / "rejects.parquet", [Reject("test", "in.jsonl", "line 3", "not JSON", "read")])
    return root


def test_index_refuses_to_write_into_its_corpus_folder(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path / "corpus")
    before = {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match="corpus folder"):
        build_index(corpus, corpus, progress=False)
    assert main(["query", "index", str(corpus), "--out", str(corpus), "--no-progress"]) == 2
    assert {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()} == before


def test_index_refuses_a_non_empty_folder_that_is_not_an_index(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    out.mkdir()
    (out / "rejects.parquet").write_bytes(b"someone else's file")
    with pytest.raises(ValueError, match="not empty and is not a query index"):
        build_index(corpus, out, progress=False)
    assert [p.name for p in out.iterdir()] == ["rejects.parquet"]
    assert (out / "rejects.parquet").read_bytes() == b"someone else's file"


def test_index_rejects_do_not_share_the_corpus_rejects_name(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path / "corpus")
    out = tmp_path / "index"
    build_index(corpus, out, progress=False)
    assert (out / REJECTS).is_file() and not (out / "rejects.parquet").exists()
    build_index(corpus, out, progress=False)  # an earlier index may be rebuilt in place
    assert QueryIndex.load(out).formulas[0].body == "E = mc^2"
