"""Hybrid citation ranking on the real unarXive sample with an untrained model.

An untrained model knows nothing, so the fusion must leave BM25's answers in place:
the hybrid method may never find fewer held-out citations than retrieval alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, is_validation
from sciprep.query import CitationSearcher, CitationSettings, LanguageModel, QueryIndex, citation_cases
from sciprep.query.evaluation import evaluate_citations
from tests.query.conftest import TEST_FRACTION


@pytest.fixture(scope="module")
def held_out_searcher(sample_index: Path, tiny_model: Path) -> CitationSearcher:
    """A searcher over the sample index, validation documents hidden from retrieval, as ``eval`` builds it."""
    return CitationSearcher(
        QueryIndex.load(sample_index),
        LanguageModel.load(tiny_model),
        CitationSettings(max_tokens=40),
        hide_doc=lambda doc_id: is_validation(doc_id, TEST_FRACTION, DEFAULT_SPLIT_SEED),
    )


def test_hybrid_finds_at_least_what_retrieval_finds_with_an_untrained_model(
    held_out_searcher: CitationSearcher, sample_corpus: Path
) -> None:
    cases = citation_cases(sample_corpus, held_out_searcher, fraction=TEST_FRACTION, limit=24)
    assert len(cases) == 24
    retrieval, hybrid = evaluate_citations(held_out_searcher, cases, ["retrieval", "hybrid"], k=5)
    assert retrieval.accuracy_at_k > 0
    assert hybrid.accuracy_at_k >= retrieval.accuracy_at_k


def test_hybrid_scores_are_fused_log_scores_with_shares_as_confidence(held_out_searcher: CitationSearcher) -> None:
    context = "Stochastic gradient descent with momentum trains deep networks"
    answers = held_out_searcher.search(context, k=5, method="hybrid")
    assert answers and all(a.method == "hybrid" and a.grounded for a in answers)
    assert [a.score for a in answers] == sorted((a.score for a in answers), reverse=True)
    assert [a.confidence for a in answers] == sorted((a.confidence for a in answers), reverse=True)
    assert 0.0 < sum(a.confidence for a in answers) <= 1.0 + 1e-9
