"""MinHash sketches of word n-gram shingles, vectorised with numpy.

A document becomes a *set of shingles*: word n-grams (default 5) of its normalised
text. Normalisation is deliberately light, because scientific text differs in ways
web-text dedup throws away:

* ``lowercase`` (default on): ``Energy`` and ``energy`` are the same word.
* punctuation (default: dropped): a word is a maximal run of Unicode letters and
  digits (what ``re.findall(r"[^\\W_]+", text)`` finds), so ``$E = mc^2$`` gives the
  words ``e mc 2``; with ``keep_punctuation=True`` words are whitespace-separated
  tokens instead (what ``text.split()`` finds).
* numbers are **not** collapsed by default: papers that differ only in their
  measurements are different papers. ``collapse_numbers=True`` maps every digit run
  to ``0`` for corpora where numbers are noise.

A fingerprint's lowest bit says whether its n-gram holds a *numeric word* (one with
an ASCII digit), so verification can compare a pair's numbers apart from its prose
without storing anything else (:mod:`sciprep.cleaning.near_duplicates`).

Hashing is vectorised over a whole batch of documents: the normalised UTF-8 bytes
go into one numpy array, every word gets a 64-bit polynomial hash from a prefix sum
(finalised by SplitMix64), an n-gram combines its words with fixed odd multipliers,
and its low 32 bits are the *shingle fingerprint*. A document's signature is, for
each of ``num_perm`` hash functions ``h(x) = a*x + b mod 2**32`` (``a`` odd: a
multiply-add permutation of the 32-bit fingerprints), the minimum over its
fingerprints, computed as a ``num_perm x chunk`` matrix per numpy call. Every sketch
keeps the fingerprints in text order too, so candidate pairs can be verified on the
exact shingles instead of being trusted on one shared LSH band.

The same text, configuration and seed give byte-identical sketches on any machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np

#: Bumped when shingling or hashing changes meaning (stored sketches become incompatible).
SKETCH_FORMAT = 2

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_DIGITS = re.compile(r"\d+")
_DIGITS_BYTES = re.compile(rb"[0-9]+")
_SPACE = 0x20
_DIGIT_0 = np.uint8(0x30)
#: Fingerprint bit set when the shingle holds a word with a digit (the other 31 bits are the hash).
NUMERIC_BIT = np.uint32(1)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
#: Multiplier of the word polynomial hash (odd, so invertible mod 2**64) and of the word length.
_WORD_BASE = 0x9E3779B97F4A7C15
_WORD_LEN_K = np.uint64(0xD6E8FEB86659FD93)
_NGRAM_CONSTANTS_SEED = 0x5C1E9
#: Text per vectorised batch (characters); bounds the batch's temporary arrays (~40 bytes each).
_BATCH_CHARS = 1 << 20
#: Shingles per numpy call when computing signatures (a ``num_perm x chunk`` uint32 matrix).
_CHUNK = 16384


@dataclass(frozen=True)
class MinHashConfig:
    """Shingling, signature and LSH banding settings; one place for their defaults.

    ``bands * rows`` of the ``num_perm`` signature rows are used for LSH. The defaults
    (128 permutations, 64 bands of 2 rows: S-curve point ~0.125) are chosen to *find*
    heavily edited copies (10-20% of words changed gives a 5-gram Jaccard of only
    0.2-0.4); precision comes from verifying each candidate pair on the exact
    shingles (:mod:`sciprep.cleaning.near_duplicates`).
    """

    ngram: int = 5
    num_perm: int = 128
    bands: int = 64
    rows: int = 2
    seed: int = 0
    lowercase: bool = True
    keep_punctuation: bool = False
    collapse_numbers: bool = False

    def __post_init__(self) -> None:
        for name in ("ngram", "num_perm", "bands", "rows"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"MinHash setting {name} must be a positive integer, got {value!r}")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"MinHash bands x rows = {self.bands} x {self.rows} = {self.bands * self.rows} "
                f"needs at least that many permutations, but num_perm = {self.num_perm}"
            )
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise ValueError(f"MinHash seed must be an integer in [0, 2**63), got {self.seed!r}")

    def to_mapping(self) -> dict[str, object]:
        """Plain values, as stored next to signatures (with the sketch format)."""
        return {**asdict(self), "sketch_format": SKETCH_FORMAT}


@dataclass
class Sketch:
    """MinHash signatures and shingles of a batch of documents.

    ``signatures`` is ``(n, num_perm)`` uint32. Document ``i``'s shingles are
    ``shingles[offsets[i]:offsets[i + 1]]``: uint32 fingerprints in text order, with
    repeats (the order lets verification see *where* two documents agree; the set is
    :meth:`shingle_set`). A fingerprint's bit :data:`NUMERIC_BIT` is set when its
    n-gram holds a numeric word. A document with no words has no shingles and never
    becomes a candidate.
    """

    signatures: np.ndarray
    shingles: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.signatures.shape[0])

    def shingle_sequence(self, i: int) -> np.ndarray:
        """Document ``i``'s fingerprints in text order."""
        return self.shingles[self.offsets[i] : self.offsets[i + 1]]

    def shingle_set(self, i: int) -> np.ndarray:
        """Document ``i``'s distinct fingerprints, sorted."""
        return sorted_unique(self.shingle_sequence(i))

    @property
    def sizes(self) -> np.ndarray:
        """Number of shingles (with repeats) of each document."""
        return np.diff(self.offsets)

    @classmethod
    def concat(cls, sketches: Sequence[Sketch], num_perm: int) -> Sketch:
        """One sketch holding the documents of ``sketches`` in order."""
        if not sketches:
            return cls(
                np.empty((0, num_perm), np.uint32), np.empty(0, np.uint32), np.zeros(1, np.int64)
            )
        sizes = np.concatenate([s.sizes for s in sketches])
        offsets = np.zeros(sizes.size + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return cls(
            np.concatenate([s.signatures for s in sketches]),
            np.concatenate([s.shingles for s in sketches]),
            offsets,
        )


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of a uint64 array, in place: spreads every input bit over the output.

    The one 64-bit mix of the dedup code: shingle hashes, LSH band keys and the shuffle
    keys of the distributed decisions all go through it.
    """
    x ^= x >> np.uint64(30)
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return x


def _byte_table(lowercase: bool, keep_punctuation: bool) -> bytes:
    """``bytes.translate`` table: ASCII separators -> space, ASCII capitals -> lower case.

    Non-ASCII bytes are kept: separators among non-ASCII characters are replaced by
    spaces before encoding (see :meth:`MinHasher.normalise`).
    """
    out = bytearray(range(256))
    for i in range(128):
        ch = chr(i)
        if ch.isspace() or (not keep_punctuation and not ch.isalnum()):
            out[i] = _SPACE
        elif lowercase and ch.isupper():
            out[i] = ord(ch.lower())
    return bytes(out)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` without its overhead on small arrays)."""
    ordered = np.sort(values)
    if ordered.size < 2:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _offsets(sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    out = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=out[1:])
    return out


class MinHasher:
    """Computes :class:`Sketch` es for texts under one :class:`MinHashConfig`.

    Holds only read-only parameters and a cache of hash-base powers; safe to reuse.
    """

    def __init__(self, config: MinHashConfig | None = None) -> None:
        self.config = config or MinHashConfig()
        rng = np.random.default_rng(self.config.seed)
        perm = self.config.num_perm
        self._a = rng.integers(0, 2**31, size=perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self._b = rng.integers(0, 2**32 - 1, size=perm, dtype=np.uint32, endpoint=True)
        fixed = np.random.default_rng(_NGRAM_CONSTANTS_SEED)
        ngram = self.config.ngram
        self._ngram_k = fixed.integers(0, 2**63, size=ngram, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self._table = _byte_table(self.config.lowercase, self.config.keep_punctuation)
        self._powers_cache = (np.ones(1, np.uint64), np.ones(1, np.uint64))

    def normalise(self, text: str) -> bytes:
        """UTF-8 bytes of ``text`` in which words are the runs of non-space bytes."""
        cfg = self.config
        if cfg.lowercase:
            text = text.lower()
        if not text.isascii():
            if cfg.collapse_numbers:
                text = _DIGITS.sub("0", text)
            for ch in set(_NON_ASCII.findall(text)):
                if ch.isspace() or (not cfg.keep_punctuation and not ch.isalnum()):
                    text = text.replace(ch, " ")
        data = text.encode("utf-8").translate(self._table)
        if cfg.collapse_numbers:
            data = _DIGITS_BYTES.sub(b"0", data)
        return data

    def words(self, text: str) -> list[str]:
        """The normalised words of ``text`` (see the module docstring for the rules)."""
        return [w.decode("utf-8") for w in self.normalise(text).split(b" ") if w]

    def _powers(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        """``base**i`` and ``base**-i`` mod 2**64 for ``i < length`` (cached up to one batch)."""
        pw, ipw = self._powers_cache
        if pw.size >= length:
            return pw, ipw
        base = np.full(length, _WORD_BASE, dtype=np.uint64)
        base[0] = 1
        inverse = np.full(length, pow(_WORD_BASE, -1, 2**64), dtype=np.uint64)
        inverse[0] = 1
        pw, ipw = np.cumprod(base, dtype=np.uint64), np.cumprod(inverse, dtype=np.uint64)
        if length <= 2 * _BATCH_CHARS:
            self._powers_cache = (pw, ipw)
        return pw, ipw

    def _word_hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """64-bit hashes of every word of ``texts`` in order, whether each holds a digit, and
        the word count of each text."""
        parts = [self.normalise(t) for t in texts]
        data = b" ".join(parts)
        arr = np.frombuffer(data, dtype=np.uint8)
        flags = np.zeros(arr.size + 2, dtype=np.int8)
        flags[1:-1] = arr != _SPACE
        edges = np.flatnonzero(np.diff(flags))
        starts, ends = edges[0::2], edges[1::2]
        pw, ipw = self._powers(arr.size + 1)
        prefix = np.zeros(arr.size + 1, dtype=np.uint64)
        np.cumsum(arr * pw[: arr.size], out=prefix[1:])
        hashes = prefix[ends] - prefix[starts]
        hashes *= ipw[starts]
        hashes += (ends - starts).astype(np.uint64) * _WORD_LEN_K
        digit_at = np.flatnonzero((arr - _DIGIT_0) < np.uint8(10))  # uint8 wraps below "0"
        numeric = np.zeros(starts.size, dtype=bool)
        numeric[np.searchsorted(starts, digit_at, side="right") - 1] = True
        text_starts = _offsets([len(p) + 1 for p in parts])[:-1]
        owner = np.searchsorted(text_starts, starts, side="right") - 1
        return mix64(hashes), numeric, np.bincount(owner, minlength=len(parts)).astype(np.int64)

    def _shingles(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """64-bit n-gram hashes of all ``texts`` (in order, with repeats), whether each n-gram
        holds a numeric word, and per-text offsets.

        A text with fewer than ``ngram`` words (but at least one) is a single shingle.
        """
        words, numeric, lengths = self._word_hashes(texts)
        n = self.config.ngram
        offsets = _offsets(np.where(lengths >= n, lengths - n + 1, np.minimum(lengths, 1)))
        if words.size == 0:
            return words, numeric, offsets
        # remaining[i]: words from position i to the end of its text, inclusive.
        remaining = np.repeat(np.cumsum(lengths), lengths) - np.arange(words.size)
        acc = words * self._ngram_k[0]
        for j in range(1, n):
            term = words[j:] * self._ngram_k[j]
            term[remaining[:-j] <= j] = 0
            acc[:-j] += term
        first = remaining == np.repeat(lengths, lengths)
        take = (remaining >= n) | (first & (remaining < n))
        acc += np.minimum(remaining, n).astype(np.uint64)
        has_number = np.zeros(words.size, dtype=bool)
        numeric_at = np.flatnonzero(numeric)
        for j in range(n):  # the n-gram starting j words earlier holds it, if it reaches that far
            first_word = numeric_at[numeric_at >= j] - j
            has_number[first_word[remaining[first_word] > j]] = True
        return mix64(acc[take]), has_number[take], offsets

    def sketch(self, texts: Sequence[str]) -> Sketch:
        """Signatures and shingle sets of ``texts`` (any number; an empty text is allowed)."""
        parts = [self._sketch_batch(batch) for batch in self._batches(texts)]
        return parts[0] if len(parts) == 1 else Sketch.concat(parts, self.config.num_perm)

    def signatures(self, shingles: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """``(n, num_perm)`` uint32 minima of ``a*x + b mod 2**32`` over each document's fingerprints.

        A document with no fingerprints gets all ``0xFFFFFFFF``.
        """
        n_docs = offsets.size - 1
        mins = np.full((self.config.num_perm, n_docs), np.iinfo(np.uint32).max, dtype=np.uint32)
        nonempty = np.flatnonzero(np.diff(offsets) > 0)
        starts = offsets[nonempty]
        ends = offsets[nonempty + 1]
        a = self._a[:, None]
        b = self._b[:, None]
        for lo in range(0, int(offsets[-1]), _CHUNK):
            hi = min(int(offsets[-1]), lo + _CHUNK)
            first = int(np.searchsorted(ends, lo, side="right"))
            last = int(np.searchsorted(starts, hi, side="left"))
            docs = nonempty[first:last]
            seg = np.maximum(starts[first:last], lo) - lo
            block = a * shingles[lo:hi]
            block += b
            mins[:, docs] = np.minimum(mins[:, docs], np.minimum.reduceat(block, seg, axis=1))
        return np.ascontiguousarray(mins.T)

    def _batches(self, texts: Sequence[str]) -> Iterator[Sequence[str]]:
        lo, size = 0, 0
        for i, text in enumerate(texts):
            if size and size + len(text) > _BATCH_CHARS:
                yield texts[lo:i]
                lo, size = i, 0
            size += len(text) + 1
        if lo < len(texts) or not texts:
            yield texts[lo:]

    def _sketch_batch(self, texts: Sequence[str]) -> Sketch:
        hashes, has_number, offsets = self._shingles(texts)
        fingerprints = (hashes.astype(np.uint32) & ~NUMERIC_BIT) | has_number.astype(np.uint32)
        return Sketch(self.signatures(fingerprints, offsets), fingerprints, offsets)
