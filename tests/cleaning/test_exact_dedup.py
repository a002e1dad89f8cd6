from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from sciprep.cleaning.attributes import text_hash
from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.exact_dedup import ExactDedup, document_identifiers, normalised_content
from sciprep.corpus.document import Document, Metadata, Reference
from sciprep.corpus.readers.bibtex import read as read_bibtex
from tests.cleaning.conftest import prose


def _table(step: ExactDedup, docs: list[Document]) -> pa.Table:
    """The attribute table the pipeline would give ``step`` for ``docs``."""
    rows = [
        {"id": d.id, "shard": "s", "position": i, "text_hash": text_hash(d.text), **step.tag(d)}
        for i, d in enumerate(docs)
    ]
    schema = pa.schema([("id", pa.string()), ("shard", pa.string()), ("position", pa.int64()),
                        ("text_hash", pa.string()), *step.attributes])  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


def _decide(docs: list[Document], **params: object) -> dict[str, str]:
    """Run exact dedup's tag + corpus decision over ``docs``; ``{removed id: reason}``."""
    step = build_step("exact_dedup", params)
    assert isinstance(step, ExactDedup)
    return {k: v.reason for k, v in step.decide_corpus(_table(step, docs)).items()}


def _doc(doc_id: str, text: str, **meta: object) -> Document:
    return Document(id=doc_id, text=text, source="s", kind="paper", metadata=Metadata(**meta))


def test_whitespace_and_case_variants_are_one_document() -> None:
    body = prose("dedup")
    removed = _decide([_doc("a", body), _doc("b", "  " + body.upper().replace(" ", "\n  ")), _doc("c", prose("other"))])
    assert list(removed) == ["b"]
    assert "content" in removed["b"] and "kept a" in removed["b"]


def test_papers_that_differ_only_in_numbers_are_both_kept() -> None:
    assert _decide([_doc("a", "We measured 12.5 K in run 3."), _doc("b", "We measured 13.5 K in run 3.")]) == {}


def test_smiles_case_is_significant_inside_markup() -> None:
    benzene = "[START_SMILES]c1ccccc1[END_SMILES]"
    cyclohexane = "[START_SMILES]C1CCCCC1[END_SMILES]"
    assert normalised_content(benzene) != normalised_content(cyclohexane)
    assert _decide([_doc("a", benzene), _doc("b", cyclohexane)]) == {}


def test_identifier_forms_are_canonical() -> None:
    doc = _doc(
        "a", "x", doi="https://doi.org/10.1000/ABC", arxiv_id="arXiv:2101.00001v3", pmid="00123", uniprot="p12345"
    )
    assert document_identifiers(doc) == ["arxiv:2101.00001", "doi:10.1000/abc", "pmid:123", "uniprot:P12345"]


def test_same_identifier_keeps_the_richest_copy() -> None:
    abstract = _doc("abstract", prose("short", 60), doi="10.1/x")
    full = Document(id="full", text=prose("long", 300), source="s", kind="paper",
                    metadata=Metadata(doi="doi:10.1/X", pmid="7"), references=[Reference(key="r")])  # fmt: skip
    removed = _decide([abstract, full])
    assert list(removed) == ["abstract"] and "doi:10.1/x" in removed["abstract"]


def test_groups_close_transitively_over_different_identifiers() -> None:
    docs = [_doc("v1", prose("v1"), arxiv_id="2101.00001v1"),
            _doc("both", prose("both", 200), arxiv_id="2101.00001v2", doi="10.1/y"),
            _doc("journal", prose("journal"), doi="10.1/Y")]  # fmt: skip
    assert sorted(_decide(docs)) == ["journal", "v1"]


def test_source_priority_overrides_other_preferences() -> None:
    a = Document(id="a", text=prose("p", 300), source="web", kind="paper", metadata=Metadata(doi="10.1/z"))
    b = Document(id="b", text=prose("q", 50), source="pmc", kind="paper", metadata=Metadata(doi="10.1/z"))
    assert list(_decide([a, b], source_priority=["pmc"])) == ["a"]
    assert list(_decide([a, b])) == ["b"]


def test_prompt_records_are_not_deduplicated_by_identifier() -> None:
    paper = _doc("paper", prose("paper"), doi="10.1/w")
    prompt = Document(id="q", text="What is it? x", source="s", kind="prompt", metadata=Metadata(doi="10.1/w"))
    assert _decide([paper, prompt]) == {}
    assert list(_decide([paper, prompt], identifier_exempt_kinds=[])) == ["q"]


def test_switching_off_identifier_dedup_keeps_distinct_texts() -> None:
    docs = [_doc("a", prose("a"), doi="10.1/v"), _doc("b", prose("b"), doi="10.1/v")]
    assert _decide(docs, by_identifier=False) == {}


def test_full_paper_is_kept_over_an_abstract_with_more_identifiers() -> None:
    paper = _doc("paper", prose("full paper", 2000), doi="10.1000/abc")
    abstract = Document(id="abs1", text=prose("its abstract", 80), source="s", kind="abstract",
                        metadata=Metadata(doi="10.1000/ABC", pmid="123"))  # fmt: skip
    removed = _decide([abstract, paper])
    assert list(removed) == ["abs1"] and "kept paper" in removed["abs1"]


def test_a_longer_copy_beats_one_with_more_identifiers_of_the_same_kind() -> None:
    short = _doc("short", prose("preprint", 100), arxiv_id="2101.00001", pmid="9")
    full = _doc("full", prose("journal", 900), arxiv_id="2101.00001v2")
    assert list(_decide([short, full])) == ["short"]


def test_identifiers_of_removed_copies_move_to_the_kept_document() -> None:
    step = build_step("exact_dedup")
    assert isinstance(step, ExactDedup)
    paper = _doc("paper", prose("full paper", 2000), doi="10.1000/abc")
    abstract = Document(id="abs1", text=prose("its abstract", 80), source="s", kind="abstract",
                        metadata=Metadata(doi="10.1000/ABC", pmid="00123", arxiv_id="2101.00001v2"))  # fmt: skip
    other = _doc("other", prose("unrelated", 300), doi="10.1000/zzz")
    table = _table(step, [abstract, paper, other])
    assert step.metadata_updates(table) == {"paper": {"pmid": "123", "arxiv_id": "2101.00001"}}


def test_reference_records_differing_only_in_volume_or_pages_are_both_kept() -> None:
    def column(doc_id: str, volume: str, pages: str) -> Document:
        text = "[START_REF] Greetings from the Editor, Price[END_REF]\nAuthors: Price, Robert\nPublished: TUGboat, 1981"
        meta = Metadata(title="Greetings from the Editor", authors=["Price, Robert"], year=1981,
                        extra={"bibtex_key": doc_id, "venue": "TUGboat", "volume": volume, "pages": pages})  # fmt: skip
        return Document(id=doc_id, text=text, source="bib", kind="reference", metadata=meta)

    assert _decide([column("a", "2", "3--3"), column("b", "2", "7--7"), column("c", "3", "3--3")]) == {}
    # The same entry under another key (another bibliography) is still one record.
    assert list(_decide([column("a", "2", "3--3"), column("copy", "2", "3--3")])) == ["copy"]


def test_tugboat_bibliography_loses_no_distinct_reference(shared_data: Path) -> None:
    docs = [d for d in read_bibtex(shared_data / "bib" / "tugboat.bib", "tugboat") if isinstance(d, Document)]
    by_id = {d.id: d for d in docs}
    removed = _decide(docs)

    def record(doc: Document) -> tuple[object, ...]:
        extra = {k: v for k, v in doc.metadata.extra.items() if k != "bibtex_key"}
        return doc.metadata.title, doc.metadata.authors, doc.metadata.year, extra

    for doc_id, reason in removed.items():
        kept = by_id[reason.rsplit("kept ", 1)[1]]
        assert record(by_id[doc_id]) == record(kept), reason
