"""End to end on real science documents: the default pipeline must not kill any of them."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from sciprep.cleaning import default_pipeline
from sciprep.corpus.document import Document
from sciprep.corpus.shards import iter_documents, read_rejects
from tests.cleaning.conftest import MakeCorpus
from tests.cleaning.real_documents import (
    compounds,
    dna,
    latex_source,
    proteins,
    unarxive_papers,
)


def test_default_pipeline_keeps_real_papers_latex_sequences_and_compounds(
    shared_data: Path, make_corpus: MakeCorpus, tmp_path: Path
) -> None:
    latex = latex_source(shared_data)
    docs = unarxive_papers(shared_data) + [latex] + proteins(shared_data)
    docs += dna(shared_data) + compounds(shared_data, limit=150)
    src = make_corpus([docs[: len(docs) // 2], docs[len(docs) // 2 :]])
    report = default_pipeline().run(src, tmp_path / "out", progress=False)

    kept = {d.id: d for d in iter_documents(tmp_path / "out")}
    lost = [(d.kind, d.id) for d in docs if d.id not in kept]
    assert lost == [], report["steps"]
    assert read_rejects(tmp_path / "out" / "rejects.parquet") == []
    for doc in docs:  # every data span survives byte for byte
        for tag in ("[START_MATH]", "[START_SMILES]", "[START_I_SMILES]", "[START_AMINO]", "[START_DNA]"):
            assert kept[doc.id].text.count(tag) == doc.text.count(tag), (doc.id, tag)
    assert "\\begin{abstract}" in kept[latex.id].text


def test_documents_from_the_corpus_readers_survive_except_true_duplicates(
    shared_data: Path, make_corpus: MakeCorpus, tmp_path: Path
) -> None:
    from sciprep.corpus.readers import get_reader

    inputs = [
        ("latex", shared_data / "latex" / "1911.02782.tar.gz"),
        *(("jats", p) for p in sorted((shared_data / "jats").glob("*.nxml"))),
        ("medline", shared_data / "pubmed" / "pubmed_result1.txt"),
        ("pubmed_xml", shared_data / "pubmed" / "pubmed2.xml"),
        ("genbank", shared_data / "bio" / "NC_005816.gb"),
        ("fasta", shared_data / "bio" / "multi_ex.fasta"),
        ("bibtex", shared_data / "bib" / "tugboat.bib"),
    ]
    docs = [d for reader, path in inputs for d in get_reader(reader)(path, reader) if isinstance(d, Document)]
    src = make_corpus([docs])
    report = default_pipeline().run(src, tmp_path / "out", progress=False)

    by_id = {d.id: d for d in docs}
    excluded = pq.read_table(tmp_path / "out" / "excluded" / "part-00000.parquet").to_pylist()
    assert {row["kind"] for row in excluded} <= {"reference"}  # no paper, abstract, protein or DNA lost
    for row in excluded:  # the only removals: bibliography entries whose text is an exact copy
        assert row["step"] == "exact_dedup"
        kept_id = row["reason"].rsplit("kept ", 1)[1]
        assert " ".join(by_id[kept_id].text.split()).casefold() == " ".join(row["text"].split()).casefold()
    assert report["totals"]["rejected"]["documents"] == 0
