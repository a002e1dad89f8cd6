from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.cleaning import minhash
from sciprep.cleaning.minhash import MinHashConfig, MinHasher, Sketch, sorted_unique
from tests.cleaning.conftest import prose

_REFERENCE_WORD = re.compile(r"[^\W_]+")

# Text mixing ASCII, accented and Greek letters, digits in several scripts, and
# ASCII and Unicode punctuation/whitespace: the cases the fast byte path must get right.
_ALPHABET = st.sampled_from(list("abcXYZ019 ,.;_-$^\t\n\x1c\x00") + list("éÅßΣσ١٢—“”\u00a0\u2009İ"))
texts = st.text(alphabet=_ALPHABET, max_size=60)


def _reference_words(text: str, cfg: MinHashConfig) -> list[str]:
    """The documented word rules, written the slow obvious way."""
    if cfg.lowercase:
        text = text.lower()
    if cfg.collapse_numbers:
        text = re.sub(r"\d+", "0", text)
    return text.split() if cfg.keep_punctuation else _REFERENCE_WORD.findall(text)


@settings(max_examples=150, deadline=None)
@given(text=texts, lowercase=st.booleans(), keep_punctuation=st.booleans(), collapse_numbers=st.booleans())
def test_words_follow_the_documented_rules(text: str, lowercase: bool, keep_punctuation: bool, collapse_numbers: bool) -> None:
    cfg = MinHashConfig(lowercase=lowercase, keep_punctuation=keep_punctuation, collapse_numbers=collapse_numbers)
    assert MinHasher(cfg).words(text) == _reference_words(text, cfg)


@settings(max_examples=100, deadline=None)
@given(text=texts, ngram=st.integers(1, 4), collapse_numbers=st.booleans())
def test_numeric_bit_marks_exactly_the_shingles_holding_a_digit(text: str, ngram: int, collapse_numbers: bool) -> None:
    cfg = MinHashConfig(ngram=ngram, collapse_numbers=collapse_numbers)
    words = _reference_words(text, cfg)
    windows = [words[i : i + ngram] for i in range(max(1, len(words) - ngram + 1))] if words else []
    expected = [any(any(c in "0123456789" for c in w) for w in window) for window in windows]
    sketch = MinHasher(cfg).sketch([text])
    assert ((sketch.shingles & minhash.NUMERIC_BIT) == 1).tolist() == expected


def test_numbers_are_not_collapsed_unless_asked() -> None:
    a = "the measured critical temperature of the sample was 12.5 K in run 3 of the series"
    b = a.replace("12.5", "13.5")
    default = MinHasher().sketch([a, b])
    assert not np.array_equal(default.shingle_set(0), default.shingle_set(1))
    collapsed = MinHasher(MinHashConfig(collapse_numbers=True)).sketch([a, b])
    assert np.array_equal(collapsed.shingle_set(0), collapsed.shingle_set(1))


def test_case_and_punctuation_do_not_change_the_sketch() -> None:
    hasher = MinHasher()
    sketch = hasher.sketch(["Energy, density; and Mass!", "energy density and mass"])
    assert np.array_equal(sketch.signatures[0], sketch.signatures[1])


@settings(max_examples=40, deadline=None)
@given(text=texts)
def test_signature_is_the_minimum_over_the_shingles(text: str) -> None:
    hasher = MinHasher(MinHashConfig(ngram=2, num_perm=16, bands=8, rows=2, seed=3))
    sketch = hasher.sketch([text])
    fingerprints = sketch.shingle_sequence(0).astype(np.uint64)
    if fingerprints.size == 0:
        assert (sketch.signatures[0] == np.iinfo(np.uint32).max).all()
        return
    a = hasher._a.astype(np.uint64)[:, None]
    b = hasher._b.astype(np.uint64)[:, None]
    brute = ((a * fingerprints[None, :] + b) % 2**32).min(axis=1)
    assert np.array_equal(sketch.signatures[0], brute.astype(np.uint32))


@settings(max_examples=30, deadline=None)
@given(batch=st.lists(texts, max_size=6))
def test_a_document_sketches_the_same_alone_or_in_any_batch(batch: list[str]) -> None:
    hasher = MinHasher(MinHashConfig(ngram=3, num_perm=32, bands=16, rows=2))
    together = hasher.sketch(batch)
    for i, text in enumerate(batch):
        alone = hasher.sketch([text])
        assert np.array_equal(together.signatures[i], alone.signatures[0])
        assert np.array_equal(together.shingle_sequence(i), alone.shingle_sequence(0))


def test_batches_split_by_size_give_the_same_sketch(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [prose(f"batch {i}", 80) for i in range(12)]
    whole = MinHasher().sketch(docs)
    monkeypatch.setattr(minhash, "_BATCH_CHARS", 1500)
    monkeypatch.setattr(minhash, "_CHUNK", 97)
    split = MinHasher().sketch(docs)
    assert np.array_equal(whole.signatures, split.signatures)
    assert np.array_equal(whole.shingles, split.shingles)
    assert np.array_equal(whole.offsets, split.offsets)


def test_same_seed_same_sketch_other_seed_other_sketch() -> None:
    docs = [prose("seeded", 200)]
    first = MinHasher(MinHashConfig(seed=7)).sketch(docs)
    again = MinHasher(MinHashConfig(seed=7)).sketch(docs)
    other = MinHasher(MinHashConfig(seed=8)).sketch(docs)
    assert first.signatures.tobytes() == again.signatures.tobytes()
    assert not np.array_equal(first.signatures, other.signatures)
    assert np.array_equal(first.shingles, other.shingles)  # the seed only picks permutations


def test_short_and_empty_texts() -> None:
    sketch = MinHasher().sketch(["", "two words", "  ,;  ", "Two  WORDS!"])
    assert sketch.sizes.tolist() == [0, 1, 0, 1]
    assert np.array_equal(sketch.signatures[1], sketch.signatures[3])
    assert MinHasher().sketch([]).signatures.shape == (0, 128)


def test_word_order_matters_within_a_shingle() -> None:
    sketch = MinHasher(MinHashConfig(ngram=2)).sketch(["alpha beta", "beta alpha"])
    assert not np.array_equal(sketch.shingle_set(0), sketch.shingle_set(1))


def test_signature_agreement_estimates_jaccard() -> None:
    base = prose("estimate", 600).split()
    rng = np.random.default_rng(0)
    errors = []
    for rate in (0.02, 0.1, 0.3, 0.6):
        edited = list(base)
        for pos in rng.choice(len(base), int(rate * len(base)), replace=False):
            edited[pos] = f"w{pos}"
        sketch = MinHasher(MinHashConfig(num_perm=256, bands=128, rows=2)).sketch([" ".join(base), " ".join(edited)])
        a, b = sketch.shingle_set(0), sketch.shingle_set(1)
        exact = np.intersect1d(a, b).size / np.union1d(a, b).size
        errors.append(float((sketch.signatures[0] == sketch.signatures[1]).mean()) - exact)
    # 256 permutations: standard error <= 0.031 per estimate
    assert max(abs(e) for e in errors) < 0.1


def test_concat_keeps_documents_in_order() -> None:
    hasher = MinHasher()
    a, b = hasher.sketch(["one two three four five six"]), hasher.sketch(["", "seven eight nine ten eleven"])
    joined = Sketch.concat([a, b], 128)
    assert len(joined) == 3 and joined.sizes.tolist() == [2, 0, 1]
    assert np.array_equal(joined.shingle_sequence(2), b.shingle_sequence(1))


def test_sorted_unique_matches_numpy() -> None:
    values = np.array([5, 1, 5, 3, 1], np.uint32)
    assert sorted_unique(values).tolist() == [1, 3, 5]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"bands": 65, "rows": 2}, "bands x rows"), ({"ngram": 0}, "ngram"), ({"seed": -1}, "seed")],
)
def test_invalid_settings_are_explained(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MinHashConfig(**kwargs)
