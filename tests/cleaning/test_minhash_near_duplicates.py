from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.cleaning.minhash import MinHashConfig, MinHasher
from sciprep.cleaning.near_duplicates import (
    DEFAULT_MIN_NUMBER_AGREEMENT,
    CandidateGraph,
    candidate_graph,
    cluster,
    find_near_duplicates,
    jaccard,
    pair_scores,
)
from tests.cleaning.conftest import prose


def _edit(text: str, rate: float, seed: int) -> str:
    """Substitute, insert or delete ``rate`` of the words (the benchmark's kind of edit)."""
    rng = random.Random(seed)
    words = text.split()
    for _ in range(max(1, round(rate * len(words)))):
        op, pos = rng.randrange(3), rng.randrange(len(words))
        if op == 0:
            words[pos] = f"edit{rng.randrange(10**6)}"
        elif op == 1:
            words.insert(pos, f"added{rng.randrange(10**6)}")
        elif len(words) > 1:
            del words[pos]
    return " ".join(words)


@settings(max_examples=25, deadline=None)
@given(topics=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=5, unique=True), copy=st.integers(0, 4))
def test_identical_documents_always_cluster_and_the_first_is_kept(topics: list[str], copy: int) -> None:
    docs = [prose(t, 60) for t in topics]
    source = copy % len(docs)
    docs.append(docs[source])
    clusters = find_near_duplicates(docs)
    assert clusters.keeper[-1] == source
    assert clusters.keep[source] and not clusters.keep[-1]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), threshold=st.floats(0.05, 0.95), min_coverage=st.floats(0.0, 1.0))
def test_every_clustered_document_is_linked_by_verified_edges_only(seed: int, threshold: float, min_coverage: float) -> None:
    base = [prose(f"doc {seed} {i}", 80) for i in range(4)]
    docs = base + [_edit(base[i % 4], 0.05 * (i + 1), seed + i) for i in range(6)]
    cfg = MinHashConfig(ngram=3, num_perm=64, bands=64, rows=1)  # one-row bands: many raw candidates
    sketch = MinHasher(cfg).sketch(docs)
    graph = candidate_graph(sketch, cfg)
    clusters = cluster(sketch, graph, 3, threshold, min_coverage)
    jac, cov, numbers = pair_scores(sketch, graph.pairs, 3)
    ok = (jac >= threshold) & (cov >= min_coverage) & (numbers >= DEFAULT_MIN_NUMBER_AGREEMENT)
    # the verified edges alone must explain every cluster (components over accepted edges)
    parent = list(range(len(docs)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for i, j in graph.pairs[ok].tolist():
        parent[max(find(i), find(j))] = min(find(i), find(j))
    assert [find(i) for i in range(len(docs))] == clusters.keeper.tolist()


def test_rejected_candidates_do_not_chain_unrelated_documents() -> None:
    # a and c are unrelated, each shares one paragraph with b: raw LSH would chain a-b-c.
    p = [prose(f"paragraph {i}", 120) for i in range(5)]
    a, b, c = " ".join(p[0:2]), " ".join([p[1], p[2], p[3]]), " ".join(p[3:5])
    cfg = MinHashConfig(num_perm=128, bands=128, rows=1)
    sketch = MinHasher(cfg).sketch([a, b, c])
    graph = candidate_graph(sketch, cfg)
    assert {(0, 1), (1, 2)} <= set(map(tuple, graph.pairs.tolist()))
    assert cluster(sketch, graph, 5, threshold=0.17, min_coverage=0.45).keep.all()
    assert not cluster(sketch, graph, 5, threshold=0.05, min_coverage=0.0).keep.all()  # unverified, they merge


def test_a_heavily_edited_copy_is_found_and_a_new_threshold_needs_no_new_sketch() -> None:
    original = prose("revision", 500)
    docs = [original, _edit(original, 0.1, 1), _edit(original, 0.2, 2), prose("unrelated", 500)]
    cfg = MinHashConfig()
    sketch = MinHasher(cfg).sketch(docs)
    graph = candidate_graph(sketch, cfg)
    assert cluster(sketch, graph, 5).keeper.tolist() == [0, 0, 0, 3]
    strict = cluster(sketch, graph, 5, threshold=0.5)  # same sketch and graph, decided again
    assert strict.keeper.tolist() == [0, 1, 2, 3]


def test_priority_decides_which_copy_is_kept() -> None:
    text = prose("priority", 100)
    sketch = MinHasher().sketch([text, text, text])
    graph = candidate_graph(sketch, MinHashConfig())
    assert cluster(sketch, graph, 5, priority=[1, 0, 0]).keeper.tolist() == [1, 1, 1]
    assert cluster(sketch, graph, 5, priority=[0, 0, -1]).keeper.tolist() == [2, 2, 2]


def test_pairs_inside_an_earlier_corpus_are_skipped() -> None:
    text = prose("earlier", 100)
    graph = candidate_graph(MinHasher().sketch([text, text, text]), MinHashConfig(), first_new=2)
    assert graph.pairs.tolist() == [[0, 2], [1, 2]]
    assert graph.estimate.tolist() == [1.0, 1.0]


def test_scores_are_exact() -> None:
    hasher = MinHasher(MinHashConfig(ngram=1))
    sketch = hasher.sketch(["a b c d", "c d e f", "x y"])
    jac, cov, numbers = pair_scores(sketch, np.array([[0, 1], [0, 2]]), ngram=1)
    assert jac.tolist() == [2 / 6, 0.0]
    assert cov.tolist() == [0.5, 0.0]
    assert numbers.tolist() == [1.0, 1.0]  # no numbers: nothing to disagree on


def test_number_agreement_is_the_share_of_numbers_kept_over_the_share_of_prose_kept() -> None:
    prose_words = [f"w{chr(97 + i)}" for i in range(8)]
    a = " ".join(prose_words + ["1", "2", "3", "4"])
    b = " ".join(prose_words[:6] + ["x", "y"] + ["1", "2", "8", "9"])
    sketch = MinHasher(MinHashConfig(ngram=1)).sketch([a, b])
    _, _, numbers = pair_scores(sketch, np.array([[0, 1]]), ngram=1, min_numeric_shingles=4)
    assert numbers.tolist() == [pytest.approx((2 / 4) / (6 / 8))]
    _, _, few = pair_scores(sketch, np.array([[0, 1]]), ngram=1, min_numeric_shingles=5)
    assert few.tolist() == [1.0]  # too few numbers to compare


def test_same_prose_with_other_numbers_is_not_a_near_duplicate() -> None:
    rng = random.Random(0)
    measured = " ".join(
        f"{prose(f'sample {i}', 12)} gave {rng.uniform(1, 99):.2f} meV at {rng.randrange(4, 300)} K." for i in range(30)
    )
    other = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), measured)
    edited = _edit(measured, 0.1, 1)
    clusters = find_near_duplicates([measured, other, edited])
    assert clusters.keeper.tolist() == [0, 1, 0]
    assert find_near_duplicates([measured, other], min_number_agreement=0.0).keeper.tolist() == [0, 0]
    assert jaccard(np.array([1, 2], np.uint32), np.array([], np.uint32)) == 0.0


def test_pairs_already_connected_are_not_verified_again() -> None:
    text = prose("five copies", 200)
    sketch = MinHasher().sketch([text] * 5)
    graph = candidate_graph(sketch, MinHashConfig())
    assert len(graph.pairs) == 10
    clusters = cluster(sketch, graph, 5)
    assert clusters.verified == 4 and clusters.groups() == [[0, 1, 2, 3, 4]]
    assert clusters.score.tolist() == [1.0] * 5


def test_a_pair_the_estimate_misjudges_is_still_decided_on_exact_scores() -> None:
    hasher = MinHasher(MinHashConfig(ngram=1))
    sketch = hasher.sketch(["a b c d", "a b c d", "x y z"])
    lying = CandidateGraph(3, np.array([[0, 2], [0, 1]]), np.array([1.0, 0.0]))
    assert cluster(sketch, lying, 1, threshold=0.5).groups() == [[0, 1]]


def test_real_papers_edited_copies_found_and_distinct_papers_never_merged(shared_data: Path) -> None:
    passages = []
    with open(shared_data / "arxiv" / "unarxive_sample.jsonl", encoding="utf-8") as fh:
        for line in fh:
            words = " ".join(p["text"] for p in json.loads(line)["body_text"]).split()
            for start in range(0, min(len(words), 2000) - 400, 500):  # up to 4 passages per paper
                passages.append(" ".join(words[start : start + 500]))
    n = len(passages)
    assert n > 60
    edited = {n + k: i for k, i in enumerate(range(0, n, 3))}
    docs = passages + [_edit(passages[i], (0.02, 0.1, 0.2)[k % 3], k) for k, i in enumerate(edited.values())]
    clusters = find_near_duplicates(docs)
    for copy, original in edited.items():
        assert clusters.keeper[copy] == original, f"edited copy of passage {original} not matched"
    assert clusters.keep[:n].all(), "two distinct passages were merged"
