"""Citation and formula answers from a tiny model taught a few facts, and from BM25."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sciprep.corpus.document import Document, Reference
from sciprep.corpus.shards import write_documents
from sciprep.query import CitationSearcher, FormulaSearcher, LanguageModel, QueryIndex, build_index
from sciprep.tokenize.specials import END_MATH, END_REF, START_MATH, START_REF
from tests.query.conftest import fine_tune

RESNET = "Deep residual learning for image recognition"
SKIP = "Deep networks train better with skip connections"
SCHWARZSCHILD = "The Schwarzschild radius of a mass M is"
RS = r"$r_s = \frac{2GM}{c^2}$"
TEXTS = {
    "d1": f"{SKIP} {START_REF} {RESNET}, He{END_REF}. "
    f"{SCHWARZSCHILD} {START_MATH}{RS}{END_MATH} in general relativity.",
    "d2": f"Transformers use self-attention {START_REF} Attention is all you need, Vaswani{END_REF}. "
    f"Bayes' theorem reads {START_MATH}$P(A|B) = \\frac{{P(B|A)P(A)}}{{P(B)}}${END_MATH}.",
    "d3": f"Optimizers {START_REF} Adam: A method for stochastic optimization, Kingma{END_REF} and "
    f"{START_REF} Batch normalization: accelerating deep network training, Ioffe{END_REF} and "
    f"{START_REF} Dropout: a simple way to prevent neural networks from overfitting, Srivastava{END_REF}.",
}


@pytest.fixture(scope="module")
def taught(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[QueryIndex, LanguageModel]:
    """An index of three documents and a model fine-tuned on the first one."""
    root = tmp_path_factory.mktemp("taught")
    refs = {"d1": [Reference("r1", RESNET, ["Kaiming He"], 2016, doi="10.1109/CVPR.2016.90")]}
    docs = [Document(id=k, text=t, source="test", kind="paper", references=refs.get(k, [])) for k, t in TEXTS.items()]
    write_documents(root / "corpus" / "shards" / "docs-00000.parquet", docs)
    build_index(root / "corpus", root / "index", progress=False)
    model_dir = root / "model"
    shutil.copytree(tiny_model, model_dir)
    fine_tune(model_dir, [TEXTS["d1"]] * 2 + [TEXTS["d2"]], steps=150)
    return QueryIndex.load(root / "index"), LanguageModel.load(model_dir)


def test_constrained_answers_are_index_entries_with_their_ids(taught: tuple[QueryIndex, LanguageModel]) -> None:
    index, lm = taught
    answers = CitationSearcher(index, lm).search(SKIP, k=5, method="constrained")
    assert len(answers) == 5
    assert answers[0].text == f"{RESNET}, He"
    assert answers[0].source["doi"] == "10.1109/cvpr.2016.90"
    ids = {e.id for e in index.references}
    assert all(a.source["index_id"] in ids and a.grounded for a in answers)
    assert 0.5 < answers[0].confidence <= 1.0
    assert sum(a.confidence for a in answers) <= 1.0 + 1e-6


def test_free_generation_is_checked_against_the_index(taught: tuple[QueryIndex, LanguageModel]) -> None:
    index, lm = taught
    searcher = CitationSearcher(index, lm)
    answers = searcher.search(SKIP, k=4, method="unconstrained")
    for a in answers:
        entry = searcher.resolve(a.text)
        assert a.grounded == (entry is not None)
        assert a.source.get("index_id") == (entry.id if entry else None)
    assert f"{RESNET}, He" in [a.text for a in answers if a.grounded]
    assert searcher.resolve("A paper nobody wrote, Nobody") is None


def test_retrieval_and_hybrid_rank_the_matching_work_first(taught: tuple[QueryIndex, LanguageModel]) -> None:
    index, lm = taught
    searcher = CitationSearcher(index, lm)
    assert searcher.search("transformers with self-attention", 3, "retrieval")[0].source["title"] == (
        "Attention is all you need"
    )
    hybrid = searcher.search(SKIP, 3, "hybrid")
    assert hybrid[0].text == f"{RESNET}, He" and hybrid[0].method == "hybrid"


def test_hidden_documents_do_not_feed_retrieval(taught: tuple[QueryIndex, LanguageModel]) -> None:
    index, _ = taught
    assert CitationSearcher(index).retrieve("Transformers", 3)
    assert CitationSearcher(index, hide_doc=lambda doc_id: doc_id == "d2").retrieve("Transformers", 3) == []


def test_generated_formula_is_validated_and_traced_to_its_document(taught: tuple[QueryIndex, LanguageModel]) -> None:
    index, lm = taught
    searcher = FormulaSearcher(index, lm)
    context = TEXTS["d1"].split(START_MATH)[0]  # the document the model learnt, up to its formula
    answers = searcher.search(context, k=3, method="generated")
    assert answers[0].text == RS and answers[0].problems == []
    assert answers[0].source["doc_id"] == "d1" and answers[0].grounded
    assert [bool(a.problems) for a in answers] == sorted(bool(a.problems) for a in answers)
    assert searcher.search(context, k=3, method="hybrid")[0].text == RS
    bayes = searcher.search("Bayes theorem", k=1, method="retrieval")[0]
    assert bayes.text.startswith("$P(A|B)") and bayes.source["doc_id"] == "d2"


def test_answers_are_deterministic(taught: tuple[QueryIndex, LanguageModel]) -> None:
    index, lm = taught
    runs = [[a.to_json() for a in CitationSearcher(index, lm).search("Optimizers", 4, "hybrid")] for _ in range(2)]
    assert runs[0] == runs[1]


def test_generation_without_a_model_says_how_to_load_one(taught: tuple[QueryIndex, LanguageModel]) -> None:
    index, _ = taught
    with pytest.raises(ValueError, match="LanguageModel.load"):
        CitationSearcher(index).search(SKIP, 3, "constrained")
    with pytest.raises(ValueError, match="unknown citation method"):
        CitationSearcher(index).search(SKIP, 3, "sampling")


def test_hybrid_keeps_lexical_matches_ahead_of_what_the_model_cites_without_context(
    taught: tuple[QueryIndex, LanguageModel],
) -> None:
    index, lm = taught
    searcher = CitationSearcher(index, lm)
    query = "Optimizers such as Adam: a method for stochastic optimization"
    favourite = searcher.search("", 1, "constrained")[0]  # what the model cites with no context at all
    matches = {a.text for a in searcher.search(query, 5, "retrieval")}
    assert favourite.text not in matches and favourite.confidence > 0.5
    hybrid = searcher.search(query, 5, "hybrid")
    assert {a.text for a in hybrid[: len(matches)]} == matches
