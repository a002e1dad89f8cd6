from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.tokenize.sampling import sample_texts


def test_large_corpus_gets_about_the_fraction() -> None:
    texts = [f"doc {i}" for i in range(20_000)]
    sample = sample_texts(texts, 0.02, seed=0, min_docs=10)
    assert 300 < len(sample) < 500


def test_small_corpus_gets_the_minimum_or_everything() -> None:
    texts = [f"doc {i}" for i in range(500)]
    assert len(sample_texts(texts, 0.02, seed=0, min_docs=100)) >= 100
    assert sample_texts(texts, 0.02, seed=0, min_docs=1000) == texts


@settings(deadline=None)
@given(st.integers(0, 300), st.integers(0, 2**32), st.integers(0, 50))
def test_sample_is_seeded_in_corpus_order_and_without_repeats(n: int, seed: int, min_docs: int) -> None:
    texts = [f"doc {i}" for i in range(n)]
    sample = sample_texts(iter(texts), 0.05, seed, min_docs)
    assert sample == sample_texts(texts, 0.05, seed, min_docs)
    assert sample == sorted(set(sample), key=texts.index)
    assert len(sample) >= min(n, min_docs)


def test_different_seeds_give_different_samples() -> None:
    texts = [f"doc {i}" for i in range(5000)]
    assert sample_texts(texts, 0.05, 1, 0) != sample_texts(texts, 0.05, 2, 0)


def test_bad_fraction_and_non_text_are_refused() -> None:
    with pytest.raises(ValueError, match="fraction"):
        sample_texts(["a"], 0.0, 0, 1)
    with pytest.raises(TypeError, match="#1"):
        sample_texts(["a", b"b"], 1.0, 0, 1)  # type: ignore[list-item]
