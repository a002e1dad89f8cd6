"""BM25 scoring against the textbook formula."""

from __future__ import annotations

import math

from sciprep.query.bm25 import BM25, analyze


def _reference_score(docs: list[list[str]], query: list[str], i: int, k1: float, b: float) -> float:
    avg = sum(len(d) for d in docs) / len(docs)
    score = 0.0
    for term in query:
        n = sum(term in d for d in docs)
        if n == 0:
            continue
        idf = math.log(1 + (len(docs) - n + 0.5) / (n + 0.5))
        tf = docs[i].count(term)
        score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(docs[i]) / avg))
    return score


def test_scores_equal_the_okapi_formula() -> None:
    texts = [
        "Black hole entropy and the area theorem",
        "Entropy of black holes from string theory microstates",
        "Protein folding with deep learning",
        "The area of a black hole never decreases",
    ]
    bm25 = BM25(texts)
    query = "black hole area entropy"
    docs = [analyze(t) for t in texts]
    got = bm25.scores(query)
    for i in range(len(texts)):
        assert math.isclose(got[i], _reference_score(docs, analyze(query), i, 1.2, 0.75), rel_tol=1e-9)


def test_search_orders_by_score_and_breaks_ties_by_position() -> None:
    bm25 = BM25(["quantum kernel", "quantum kernel", "protein"])
    assert [i for i, _ in bm25.search("quantum kernel", 5)] == [0, 1]
    assert bm25.search("nothing matches", 5) == []


def test_markup_tags_and_stopwords_are_not_terms() -> None:
    assert analyze("The [START_REF] Deep residual learning, He[END_REF] of x") == ["deep", "residual", "learning", "he"]
