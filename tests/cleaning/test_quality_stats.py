from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sciprep.cleaning.quality_stats import (
    WordArray,
    duplicate_ngram_char_fraction,
    gopher_stats,
    prose_of,
    top_ngram_char_fraction,
)


def test_prose_replaces_each_span_with_one_content_word() -> None:
    text = "Let [START_MATH]$x^2$[END_MATH] and [START_MATH]$y$[END_MATH] be [START_REF] T, S[END_REF]."
    words = prose_of(text).split()
    assert words[0] == "Let" and words[2] == "and" and words[4] == "be"
    assert words[1].startswith("math") and words[3].startswith("math") and words[1] != words[3]
    assert words[5].startswith("ref")


def test_duplicate_ngram_fraction_counts_covered_characters() -> None:
    words = "a b c d e x a b c d e".split()
    assert duplicate_ngram_char_fraction(words, 5) == 10 / 11
    assert duplicate_ngram_char_fraction(words, 6) == 0.0
    assert top_ngram_char_fraction(words, 2) == 4 / 11
    assert top_ngram_char_fraction(["a", "a", "a"], 2) == 1.0


def test_symbols_inside_math_do_not_count() -> None:
    mathy = "We define " + " ".join(f"[START_MATH]$#{i}...$[END_MATH]" for i in range(30)) + " here."
    assert gopher_stats(mathy)["symbol_ratio"] == 0.0
    assert gopher_stats("# a ... b # c")["symbol_ratio"] == 3 / 6


@given(st.lists(st.sampled_from(["a", "b", "c", "dd", "e"]), max_size=60))
def test_fractions_are_between_zero_and_one(words: list[str]) -> None:
    for n in (2, 3, 5, 8):
        assert 0.0 <= duplicate_ngram_char_fraction(words, n) <= 1.0
        assert 0.0 <= top_ngram_char_fraction(words, n) <= 1.0


@given(st.lists(st.sampled_from(["a", "b", "c", "dd", "e", "fff"]), max_size=80), st.integers(2, 10))
def test_vectorised_and_small_text_paths_agree(words: list[str], n: int) -> None:
    array = WordArray(words)
    assert top_ngram_char_fraction(array, n) == pytest.approx(top_ngram_char_fraction(words, n))
    assert duplicate_ngram_char_fraction(array, n) == pytest.approx(duplicate_ngram_char_fraction(words, n))
