"""Constrained decoding can only produce index entries; beam search is exact when wide enough."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.query.decoding import beam_search, decode, sample_search, score_sequences
from sciprep.query.trie import TokenTrie

END = 2
VOCAB = 9


class RandomModel:
    """Deterministic pseudo-random next-token distributions keyed by (seed, prefix)."""

    def __init__(self, seed: int, vocab: int = VOCAB, sharpness: float = 3.0) -> None:
        self.seed, self.vocab, self.sharpness = seed, vocab, sharpness

    def _row(self, prefix: Sequence[int]) -> np.ndarray:
        digest = hashlib.sha256(f"{self.seed}:{list(prefix)}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        logits = rng.normal(size=self.vocab) * self.sharpness
        return logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()

    def next_logprobs(self, continuations: Sequence[Sequence[int]]) -> np.ndarray:
        return np.stack([self._row(c) for c in continuations])

    def token_logprobs(self, continuations: Sequence[Sequence[int]]) -> list[np.ndarray]:
        return [np.stack([self._row(c[:t]) for t in range(len(c))]) for c in continuations]


_body = st.lists(st.integers(min_value=3, max_value=VOCAB - 1), min_size=1, max_size=5)
_entries = st.lists(_body, min_size=1, max_size=10, unique_by=tuple).map(lambda bs: [b + [END] for b in bs])


@settings(max_examples=150, deadline=None)
@given(_entries, st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 6))
def test_constrained_beam_search_only_emits_index_entries(
    entries: list[list[int]], seed: int, beam: int, k: int
) -> None:
    trie = TokenTrie(entries, list(range(len(entries))))
    hyps = beam_search(RandomModel(seed), beam=beam, k=k, max_steps=8, end_id=END, trie=trie)
    assert 1 <= len(hyps) <= min(k, len(entries))
    for h in hyps:
        assert h.tokens in entries
        assert h.values == [entries.index(h.tokens)]
        assert h.score <= 0.0 and h.model_logprob <= h.score + 1e-9
    assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
    assert len({tuple(h.tokens) for h in hyps}) == len(hyps)


@settings(max_examples=100, deadline=None)
@given(_entries, st.integers(0, 10_000), st.integers(1, 4))
def test_wide_beam_returns_the_exact_top_k_of_all_entries(entries: list[list[int]], seed: int, k: int) -> None:
    model = RandomModel(seed)
    trie = TokenTrie(entries, list(range(len(entries))))
    exact = score_sequences(model, entries, trie)
    ranked = sorted(range(len(entries)), key=lambda i: (-exact[i][0], entries[i]))[:k]
    hyps = beam_search(model, beam=len(entries), k=k, max_steps=8, end_id=END, trie=trie)
    assert [h.values[0] for h in hyps] == ranked
    for h in hyps:
        assert math.isclose(h.score, exact[h.values[0]][0], abs_tol=1e-9)
        assert math.isclose(h.model_logprob, exact[h.values[0]][1], abs_tol=1e-9)
    # Restricted to the index, the entries' probabilities form a distribution.
    assert math.isclose(sum(math.exp(s) for s, _ in exact), 1.0, rel_tol=1e-9)


def test_search_is_deterministic() -> None:
    entries = [[3, 4, END], [3, 5, END], [6, END], [7, 8, 4, END]]
    trie = TokenTrie(entries, [0, 1, 2, 3])
    runs = [beam_search(RandomModel(7), beam=2, k=2, max_steps=6, end_id=END, trie=trie) for _ in range(3)]
    assert all([h.tokens for h in run] == [h.tokens for h in runs[0]] for run in runs)


def test_unconstrained_search_stops_at_the_end_token_or_the_step_limit() -> None:
    hyps = beam_search(RandomModel(1, sharpness=0.5), beam=4, max_steps=5, end_id=END)
    assert len(hyps) == 4
    for h in hyps:
        assert len(h.tokens) <= 5
        assert END not in h.tokens[:-1]
        assert h.tokens[-1] == END or len(h.tokens) == 5


def test_a_stored_sequence_that_prefixes_another_is_still_found() -> None:
    entries = [[3], [3, 4]]
    trie = TokenTrie(entries, [0, 1])
    hyps = beam_search(RandomModel(3), beam=2, k=2, max_steps=4, end_id=END, trie=trie)
    assert sorted(h.values[0] for h in hyps) == [0, 1]


def test_scoring_a_sequence_outside_the_trie_is_an_error() -> None:
    trie = TokenTrie([[3, END]], [0])
    with pytest.raises(ValueError, match="leaves the trie"):
        score_sequences(RandomModel(0), [[4, END]], trie)


def test_trie_lookup_and_allowed_tokens() -> None:
    trie = TokenTrie([[3, 4, END], [3, 5, END], [3, 4, END]], [0, 1, 2])
    assert trie.allowed(0).tolist() == [3]
    node = trie.walk([3])
    assert node is not None and trie.allowed(node).tolist() == [4, 5]
    assert trie.lookup([3, 4, END]) == [0, 2]
    assert trie.lookup([3, 9]) == []


@settings(max_examples=100, deadline=None)
@given(_entries, st.integers(0, 10_000), st.integers(1, 8), st.floats(0.3, 3.0))
def test_constrained_sampling_only_emits_index_entries_and_repeats_with_its_seed(
    entries: list[list[int]], seed: int, samples: int, temperature: float
) -> None:
    trie = TokenTrie(entries, list(range(len(entries))))
    model = RandomModel(seed)
    runs = [sample_search(model, samples=samples, max_steps=8, end_id=END, seed=seed, temperature=temperature,
                          trie=trie) for _ in range(2)]  # fmt: skip
    assert [h.tokens for h in runs[0]] == [h.tokens for h in runs[1]]
    assert 1 <= len(runs[0]) <= samples
    exact = dict(zip(map(tuple, entries), score_sequences(model, entries, trie)))
    for h in runs[0]:
        assert h.values == [entries.index(h.tokens)]
        assert math.isclose(h.score, exact[tuple(h.tokens)][0], abs_tol=1e-9)


def test_sampling_without_a_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="seed"):
        decode(RandomModel(0), k=2, beam=2, max_steps=4, end_id=END, samples=3)
