"""Deduplicating references seen across documents."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.corpus.document import Document, Metadata, Reference
from sciprep.corpus.shards import iter_documents
from sciprep.query.index_store import REJECTS, QueryIndex
from sciprep.query.markup import find_citations
from sciprep.query.reference_index import merge_observations, observe_references
from sciprep.query.reference_keys import surname_problem, title_problem

ATTENTION = "Attention is all you need"


def _paper(doc_id: str, text: str, refs: list[Reference]) -> Document:
    return Document(id=doc_id, text=text, source="test", kind="paper", references=refs)


def _docs() -> list[Document]:
    vaswani = Reference("b1", ATTENTION, ["Ashish Vaswani", "Noam Shazeer"], 2017, arxiv_id="1706.03762v5")
    he = Reference(
        "b2", "Deep residual learning for image recognition", ["Kaiming He"], 2016, doi="10.1109/CVPR.2016.90"
    )
    return [
        _paper(
            "p1",
            f"Transformers [START_REF] {ATTENTION}, Vaswani[END_REF] replaced recurrence. "
            f"Again [START_REF] {ATTENTION}, Vaswani[END_REF] here.",
            [vaswani, he],
        ),
        _paper(
            "p2",
            "Residual nets [START_REF] Deep Residual Learning for Image Recognition, He[END_REF] won. "
            "Unknown work [START_REF] A work nobody lists in a bibliography, Ghost[END_REF].",
            [Reference("x", "ResNet paper title differs", ["K. He"], doi="https://doi.org/10.1109/cvpr.2016.90")],
        ),
        Document(
            id="bib1", text=f"[START_REF] {ATTENTION}, Vaswani[END_REF]\nAuthors: Vaswani, Ashish", source="bib",
            kind="reference",
            metadata=Metadata(title=ATTENTION, authors=["Vaswani, Ashish"], year=2017, arxiv_id="arXiv:1706.03762"),
        ),
    ]


def _observe(docs: list[Document]) -> list:
    out = []
    for doc in docs:
        obs, rejects = observe_references(doc, "shard")
        assert rejects == []
        out.extend(obs)
    return out


def test_same_work_from_bibliographies_mentions_and_bibtex_is_one_entry() -> None:
    entries, contexts = merge_observations(_observe(_docs()))
    by_title = {e.title: e for e in entries}
    attention = by_title[ATTENTION]
    assert attention.arxiv_id == "1706.03762"
    assert attention.citation == f"{ATTENTION}, Vaswani"
    assert (attention.cite_count, attention.mention_count) == (1, 2)  # a BibTeX entry does not cite itself
    resnet = next(e for e in entries if e.doi == "10.1109/cvpr.2016.90")
    assert resnet.title == "Deep Residual Learning for Image Recognition"  # the form used in text
    assert resnet.cite_count == 2  # listed by p1, listed and cited by p2
    ghost = by_title["A work nobody lists in a bibliography"]
    assert ghost.ids() == {} and ghost.mention_count == 1
    assert len(entries) == 3
    assert sum(e.mention_count for e in entries) == len(contexts) == 4
    assert {c.doc_id for c in contexts if c.entry_id == attention.id} == {"p1"}
    assert all("[START_REF]" in c.sentence for c in contexts)


def test_malformed_citation_markup_becomes_a_reject_with_its_position() -> None:
    doc = _paper("bad", "Lost [START_REF] never closed, Nobody. More text.", [Reference("k")])
    obs, rejects = observe_references(doc, "shard-7.parquet")
    assert obs == []
    assert {r.reason.split()[0] for r in rejects} == {"[START_REF]", "reference"}
    assert all(r.file == "shard-7.parquet" and "doc bad" in r.position for r in rejects)


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(3)))
def test_entries_do_not_depend_on_document_order(order: list[int]) -> None:
    docs = _docs()
    baseline = merge_observations(_observe(docs))
    shuffled = merge_observations(_observe([docs[i] for i in order]))
    assert baseline == shuffled


def test_debris_titles_and_surnames_never_become_citation_targets() -> None:
    star = Reference("b1", "(STAR), Phys", ["M. Abdallah"], 2021, doi="10.1103/PhysRevD.104.052007",
                     raw="M. Abdallah et al. (STAR), Phys. Rev. D 104, 052007 (2021)")
    fourier = Reference("b2", "Digital Fourier microscopy for soft matter dynamics", ["Giavazzi F"], 2014)
    text = ("Spin [START_REF] (STAR), Phys, Abdallah[END_REF] was measured. "
            "Dynamics [START_REF] Digital Fourier microscopy for soft matter dynamics, F[END_REF] of soft matter.")
    obs, rejects = observe_references(_paper("p", text, [star, fourier]), "shard")
    assert [r.position for r in rejects] == [f"doc p char {text.index('[START_REF]')}"]
    assert "(STAR), Phys" in rejects[0].reason and "collaboration" in rejects[0].reason
    entries, _ = merge_observations(obs)
    by_doi = {e.doi: e for e in entries}
    assert by_doi["10.1103/physrevd.104.052007"].citation == ""  # kept for its DOI, not citable
    fourier_entry = next(e for e in entries if e.mention_count == 1)
    assert fourier_entry.citation == "Digital Fourier microscopy for soft matter dynamics"


def test_sample_index_cites_no_debris_and_rejects_debris_mentions(sample_corpus: Path, sample_index: Path) -> None:
    debris = [s for d in iter_documents(sample_corpus) for s in find_citations(d.text)[0] if title_problem(s.title)]
    assert debris, "the unarXive sample has mis-parsed references to guard against"
    reasons = [r["reason"] for r in pq.read_table(sample_index / REJECTS).to_pylist()]
    assert sum(r.startswith("citation title") for r in reasons) == len(debris)
    citable = [e for e in QueryIndex.load(sample_index).references if e.citation]
    assert citable
    assert [e.citation for e in citable if title_problem(e.title) or surname_problem(e.surname)] == []
