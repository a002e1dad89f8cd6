"""Gopher-style text statistics (Rae et al. 2021, "Scaling Language Models", App. A).

Computed on a document's *prose*: math, SMILES, sequence and citation spans are cut
out first (:func:`prose_of`), because symbols and repeated citation markers there are
data, not low quality. Every statistic is a plain number so the step can store them
and re-decide with other thresholds.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections import Counter
from collections.abc import Sequence

import numpy as np

from sciprep.cleaning.spans import PROTECTED_KINDS, segments

#: Spans excluded from prose statistics: data spans and citation markers.
NON_PROSE_KINDS: tuple[str, ...] = (*PROTECTED_KINDS, "ref")

#: Gopher's stop words: real English prose contains at least two of them.
STOP_WORDS = frozenset(("the", "be", "to", "of", "and", "that", "have", "with"))

TOP_NGRAM_SIZES = (2, 3, 4)
#: Up to this many words the n-gram statistics run in plain Python (numpy's per-call
#: cost dominates short texts such as compound or protein records); same results.
SMALL_DOCUMENT_WORDS = 300
DUP_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)

_WORD = re.compile(r"\S+")
_ALPHA = re.compile(r"[^\W\d_]")
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2023\u25e6\u2043\u2219]\s)")
_ELLIPSIS_END = re.compile(r"(?:\.\.\.|\u2026)\s*$")
_PARAGRAPHS = re.compile(r"\n\s*\n")
_PUNCTUATION = string.punctuation + "\u2018\u2019\u201c\u201d\u00ab\u00bb\u2026\u2013\u2014"


def prose_of(text: str) -> str:
    """``text`` with each data or citation span replaced by one stand-in word.

    The word is derived from the span's content, so distinct formulas stay distinct
    words and a repeated formula repeats (as it would for a reader), while the symbols
    inside never count as prose.
    """
    out = []
    for seg in segments(text, NON_PROSE_KINDS):
        if seg.kind is None:
            out.append(seg.text)
        else:
            digest = hashlib.blake2b(seg.text.encode("utf-8"), digest_size=4).hexdigest()
            out.append(f" {seg.kind}{digest} ")
    return "".join(out)


def _duplicate_fractions(items: Sequence[str]) -> tuple[float, float]:
    """(share of items that repeat an earlier one, share of their characters)."""
    items = [i for i in items if i.strip()]
    if not items:
        return 0.0, 0.0
    seen: set[str] = set()
    dup_items = dup_chars = 0
    for item in items:
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    total_chars = sum(len(i) for i in items)
    return dup_items / len(items), dup_chars / total_chars if total_chars else 0.0


class WordArray:
    """Words as integer ids and lengths, so n-gram statistics run vectorised in numpy."""

    def __init__(self, words: Sequence[str]) -> None:
        vocab: dict[str, int] = {}
        ids = [vocab.setdefault(w, len(vocab)) for w in words]
        self.ids = np.asarray(ids, dtype=np.uint64)
        self._mixed = _mix(self.ids)
        self.lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        self.total = int(self.lengths.sum())

    def ngram_codes(self, n: int) -> np.ndarray:
        """One 64-bit code per n-gram position; equal n-grams get equal codes."""
        m = self.ids.size - n + 1
        codes = np.zeros(m, dtype=np.uint64)
        for k in range(n):
            codes = codes * _MULTIPLIER + self._mixed[k : k + m]
        return codes

    def covered_fraction(self, starts: np.ndarray, n: int) -> float:
        """Share of word characters inside the n-grams beginning at ``starts``."""
        if not self.total or starts.size == 0:
            return 0.0
        depth = np.zeros(self.ids.size + 1, dtype=np.int64)
        np.add.at(depth, starts, 1)
        np.add.at(depth, starts + n, -1)
        covered = np.cumsum(depth[:-1]) > 0
        return float(self.lengths[covered].sum() / self.total)


_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """A bijective 64-bit mix (splitmix64 finaliser) so codes of different n-grams differ."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(1)) * np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(31)
        return x * np.uint64(0x94D049BB133111EB)


def top_ngram_char_fraction(words: Sequence[str] | WordArray, n: int) -> float:
    """Characters of words covered by the most frequent word n-gram / characters in all words.

    Overlapping occurrences (``a a a`` for ``a a``) count each word once, so the
    fraction never exceeds 1. Ties go to the n-gram that occurs first.
    """
    if not isinstance(words, WordArray) and len(words) <= SMALL_DOCUMENT_WORDS:
        return _top_ngram_small(words, n)
    arr = words if isinstance(words, WordArray) else WordArray(words)
    if arr.ids.size < n:
        return 0.0
    with np.errstate(over="ignore"):
        codes = arr.ngram_codes(n)
    _, first, inverse, counts = np.unique(codes, return_index=True, return_inverse=True, return_counts=True)
    best = int(np.lexsort((first, -counts))[0])
    if counts[best] < 2:
        return 0.0
    return arr.covered_fraction(np.flatnonzero(inverse == best), n)


def duplicate_ngram_char_fraction(words: Sequence[str] | WordArray, n: int) -> float:
    """Characters of words covered by n-grams that occur more than once / all word characters."""
    if not isinstance(words, WordArray) and len(words) <= SMALL_DOCUMENT_WORDS:
        return _duplicate_ngram_small(words, n)
    arr = words if isinstance(words, WordArray) else WordArray(words)
    if arr.ids.size < n:
        return 0.0
    with np.errstate(over="ignore"):
        codes = arr.ngram_codes(n)
    _, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    return arr.covered_fraction(np.flatnonzero(counts[inverse] > 1), n)


def _small_grams(words: Sequence[str], n: int) -> tuple[list[tuple[str, ...]], Counter[tuple[str, ...]]]:
    grams = list(zip(*(words[k : len(words) - n + 1 + k] for k in range(n))))
    return grams, Counter(grams)


def _covered_small(words: Sequence[str], starts: Sequence[int], n: int) -> float:
    covered = [False] * len(words)
    for i in starts:
        covered[i : i + n] = [True] * n
    total = sum(len(w) for w in words)
    return sum(len(w) for w, c in zip(words, covered) if c) / total if total else 0.0


def _top_ngram_small(words: Sequence[str], n: int) -> float:
    """Pure-Python :func:`top_ngram_char_fraction` (numpy's fixed cost dominates short texts)."""
    if len(words) < n:
        return 0.0
    grams, counts = _small_grams(words, n)
    top = max(counts.values())
    if top < 2:
        return 0.0
    best = next(g for g in grams if counts[g] == top)  # the earliest of the most frequent
    return _covered_small(words, [i for i, g in enumerate(grams) if g == best], n)


def _duplicate_ngram_small(words: Sequence[str], n: int) -> float:
    """Pure-Python :func:`duplicate_ngram_char_fraction` for short texts."""
    if len(words) < n:
        return 0.0
    grams, counts = _small_grams(words, n)
    return _covered_small(words, [i for i, g in enumerate(grams) if counts[g] > 1], n)


def gopher_stats(text: str) -> dict[str, float]:
    """All statistics the quality step decides on, for one document's text."""
    prose = prose_of(text)
    raw_words = _WORD.findall(prose)
    words = [w for w in (w.strip(_PUNCTUATION) for w in prose.lower().split()) if w]
    n_words = len(raw_words)
    lines = [line for line in prose.split("\n") if line.strip()]
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(prose) if p.strip()]
    dup_lines, dup_line_chars = _duplicate_fractions([line.strip() for line in lines])
    dup_paras, dup_para_chars = _duplicate_fractions(paragraphs)
    stats: dict[str, float] = {
        "words": float(n_words),
        "mean_word_length": sum(len(w) for w in raw_words) / n_words if n_words else 0.0,
        "symbol_ratio": (prose.count("#") + prose.count("...") + prose.count("\u2026")) / n_words if n_words else 0.0,
        "alpha_word_fraction": sum(1 for w in raw_words if _ALPHA.search(w)) / n_words if n_words else 0.0,
        "stop_words": float(sum(1 for w in words if w in STOP_WORDS)),
        "bullet_line_fraction": sum(1 for line in lines if _BULLET.match(line)) / len(lines) if lines else 0.0,
        "ellipsis_line_fraction": sum(1 for line in lines if _ELLIPSIS_END.search(line)) / len(lines) if lines else 0.0,
        "duplicate_line_fraction": dup_lines,
        "duplicate_line_char_fraction": dup_line_chars,
        "duplicate_paragraph_fraction": dup_paras,
        "duplicate_paragraph_char_fraction": dup_para_chars,
    }
    arr: Sequence[str] | WordArray = words if len(words) <= SMALL_DOCUMENT_WORDS else WordArray(words)
    # No repeated n-gram means no repeated longer one either: skip the longer sizes.
    repeated = True
    for n in TOP_NGRAM_SIZES:
        value = top_ngram_char_fraction(arr, n) if repeated else 0.0
        stats[f"top_{n}gram_char_fraction"] = value
        repeated = value > 0.0
    repeated = True
    for n in DUP_NGRAM_SIZES:
        value = duplicate_ngram_char_fraction(arr, n) if repeated else 0.0
        stats[f"duplicate_{n}gram_char_fraction"] = value
        repeated = value > 0.0
    return stats


STAT_NAMES: tuple[str, ...] = tuple(gopher_stats("a b c d e f g h i j k"))
