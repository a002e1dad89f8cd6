from __future__ import annotations

import random
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sciprep.cleaning.attributes import text_hash
from sciprep.cleaning.pipeline import Pipeline
from sciprep.cleaning.signature_store import load_signature_store
from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.near_dedup import NearDedup
from sciprep.corpus.document import Document
from tests.cleaning.conftest import MakeCorpus, prose
from tests.cleaning.real_documents import unarxive_papers


def _doc(doc_id: str, text: str, source: str = "arxiv") -> Document:
    return Document(id=doc_id, text=text, source=source, kind="paper")


def _revise(text: str, rate: float, seed: int) -> str:
    rng = random.Random(seed)
    words = text.split()
    for _ in range(round(rate * len(words))):
        words[rng.randrange(len(words))] = f"revised{rng.randrange(10**6)}"
    return " ".join(words)


def _decide(docs: list[Document], **params: object) -> dict[str, tuple[str, float | None]]:
    step = build_step("near_dedup", params)
    rows = [
        {"id": d.id, "shard": "s", "position": i, "text_hash": text_hash(d.text), **step.tag(d)}
        for i, d in enumerate(docs)
    ]
    schema = pa.schema([("id", pa.string()), ("shard", pa.string()), ("position", pa.int64()),
                        ("text_hash", pa.string()), *step.attributes])  # fmt: skip
    removed = step.decide_corpus(pa.Table.from_pylist(rows, schema=schema))
    return {k: (v.reason, v.score) for k, v in removed.items()}


def test_revised_version_is_removed_naming_the_kept_paper() -> None:
    v1 = prose("paper v1", 600)
    removed = _decide([_doc("v1", v1), _doc("other", prose("other paper", 600)), _doc("v2", _revise(v1, 0.15, 0))])
    assert list(removed) == ["v2"]
    reason, score = removed["v2"]
    assert "near duplicate of v1" in reason and score is not None and 0.2 < score < 0.6


def test_source_priority_keeps_the_preferred_source() -> None:
    text = prose("shared", 300)
    removed = _decide([_doc("pre", text, "arxiv"), _doc("pub", text, "pmc")], source_priority=["pmc"])
    assert list(removed) == ["pre"]


def test_documents_differing_in_their_numbers_are_kept_unless_numbers_are_collapsed() -> None:
    def table(seed: int) -> str:
        rng = random.Random(seed)
        rows = [" ".join(f"{rng.uniform(0, 100):.3f}" for _ in range(4)) for _ in range(50)]
        return "Table 2: band gap (meV) of each sample at 4 K, 77 K, 150 K and 300 K. " + " ".join(rows)

    docs = [_doc("a", table(0)), _doc("b", table(1))]
    assert _decide(docs) == {}
    assert list(_decide(docs, collapse_numbers=True)) == ["b"]


def test_real_paper_with_its_numbers_changed_is_kept_but_its_revision_is_removed(shared_data: Path) -> None:
    paper = unarxive_papers(shared_data, limit=1)[0]
    shifted = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), paper.text)
    docs = [paper, _doc("numbers-shifted", shifted), _doc("revised", _revise(paper.text, 0.1, 0))]
    removed = _decide(docs)
    assert list(removed) == ["revised"] and f"near duplicate of {paper.id}" in removed["revised"][0]
    assert list(_decide(docs, min_number_agreement=0.0)) == ["numbers-shifted", "revised"]


def test_impossible_banding_is_refused_when_the_step_is_built() -> None:
    with pytest.raises(ValueError, match="bands x rows"):
        build_step("near_dedup", {"bands": 100, "rows": 2})


def test_pipeline_removes_cross_shard_copies_and_redecides_without_retagging(
    make_corpus: MakeCorpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = [prose(f"paper {i}", 400) for i in range(4)]
    corpus = make_corpus(
        [
            [_doc("p0", base[0]), _doc("p1", base[1]), _doc("p2", base[2])],
            [_doc("p3", base[3]), _doc("p0-v2", _revise(base[0], 0.05, 1)), _doc("p2-v2", _revise(base[2], 0.2, 2))],
        ]
    )
    out = tmp_path / "out"
    report = Pipeline([build_step("near_dedup")]).run(corpus, out, progress=False)
    assert report["steps"][0]["removed"] == 2
    excluded = pq.read_table(out / "excluded").to_pylist()
    reasons = {row["id"]: row for row in excluded}
    assert set(reasons) == {"p0-v2", "p2-v2"}
    store = load_signature_store(out / "signatures" / "near_dedup")
    assert store.ids == ["p0", "p1", "p2", "p3"]

    def no_tagging(self: NearDedup, doc: Document) -> dict[str, object]:
        raise AssertionError("signatures were recomputed")

    monkeypatch.setattr(NearDedup, "tag", no_tagging)
    strict = Pipeline([build_step("near_dedup", {"min_jaccard": 0.5})])
    report = strict.run(corpus, out, redecide=True, progress=False)
    assert report["steps"][0]["removed"] == 1  # only the 5% revision scores above 0.5


def test_a_new_corpus_is_deduplicated_against_the_previous_run(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    old = [prose(f"old {i}", 300) for i in range(3)]
    first = make_corpus([[_doc(f"old{i}", t) for i, t in enumerate(old)]], name="first")
    Pipeline([build_step("near_dedup")]).run(first, tmp_path / "clean1", progress=False)
    second = make_corpus([[_doc("new0", prose("new", 300)), _doc("old1-again", _revise(old[1], 0.1, 3))]], name="second")
    step = build_step("near_dedup", {"reference": str(tmp_path / "clean1" / "signatures" / "near_dedup")})
    report = Pipeline([step]).run(second, tmp_path / "clean2", progress=False)
    assert report["steps"][0]["removed"] == 1
    row = pq.read_table(tmp_path / "clean2" / "excluded").to_pylist()[0]
    assert row["id"] == "old1-again" and "reference corpus's old1" in row["reason"]
