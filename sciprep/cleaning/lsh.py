"""Locality-sensitive hashing over MinHash signatures: the S-curve, and candidate pairs.

With ``b`` bands of ``r`` rows, two documents of Jaccard similarity ``s`` share at
least one band with probability ``1 - (1 - s**r)**b``: an S-shaped curve whose
steepest point is near ``(1/b)**(1/r)``. :func:`threshold_report` prints both so a
user can see what a choice of bands x rows will find *before* running it.

LSH only proposes candidates. Every candidate pair must be verified (see
:mod:`sciprep.cleaning.near_duplicates`) before it may join a cluster; otherwise two
long unrelated documents that happen to share one band would be merged, and
through them whole chains of documents.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from sciprep.cleaning.minhash import mix64

_BAND_SEED = 0xB4D5
#: Buckets larger than this are linked as a star plus a chain instead of all pairs,
#: so one boilerplate bucket cannot produce a quadratic number of candidates.
DEFAULT_MAX_BUCKET = 64


def s_curve_point(bands: int, rows: int) -> float:
    """``(1/b)**(1/r)``: the similarity at which the candidate probability rises fastest."""
    _check_banding(bands, rows)
    return float((1.0 / bands) ** (1.0 / rows))


def candidate_probability(similarity: float | np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Probability ``1 - (1 - s**r)**b`` that a pair of Jaccard similarity ``s`` is a candidate."""
    _check_banding(bands, rows)
    s = np.asarray(similarity, dtype=np.float64)
    if np.any((s < 0) | (s > 1)):
        raise ValueError("similarity must lie in [0, 1]")
    return 1.0 - (1.0 - s**rows) ** bands


def threshold_report(bands: int, rows: int, num_perm: int | None = None, steps: int = 20) -> str:
    """A printable S-curve point and candidate-probability table for ``bands x rows``."""
    _check_banding(bands, rows)
    if num_perm is not None and bands * rows > num_perm:
        raise ValueError(f"bands x rows = {bands * rows} exceeds num_perm = {num_perm}")
    point = s_curve_point(bands, rows)
    grid = np.linspace(0.0, 1.0, steps + 1)
    probs = candidate_probability(grid, bands, rows)
    used = f" ({bands * rows} of {num_perm} permutations)" if num_perm else ""
    lines = [
        f"LSH {bands} bands x {rows} rows{used}",
        f"S-curve point (1/b)^(1/r) = {point:.3f}",
        f"P(candidate) at that similarity = {float(candidate_probability(point, bands, rows)):.3f}",
        "",
        "jaccard  P(candidate)",
    ]
    lines += [f"{s:7.2f}  {p:12.4f}  {'#' * int(round(p * 40))}" for s, p in zip(grid, probs)]
    return "\n".join(lines)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(n, bands)`` uint64 keys: one hash per band of ``rows`` signature values.

    A per-band constant keeps equal rows in different bands apart; a rare 64-bit
    collision only adds a candidate, which verification then drops.
    """
    _check_banding(bands, rows)
    n, perm = signatures.shape
    if bands * rows > perm:
        raise ValueError(f"bands x rows = {bands * rows} exceeds the signature width {perm}")
    rng = np.random.default_rng(_BAND_SEED)
    row_k = rng.integers(0, 2**63, size=rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    band_c = rng.integers(0, 2**63, size=bands, dtype=np.uint64)
    block = signatures[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    block *= row_k
    keys = block.sum(axis=2, dtype=np.uint64)
    keys += band_c
    return mix64(keys)


def candidate_pairs(
    signatures: np.ndarray,
    bands: int,
    rows: int,
    active: np.ndarray | None = None,
    max_bucket: int = DEFAULT_MAX_BUCKET,
) -> np.ndarray:
    """Sorted unique ``(k, 2)`` int64 pairs ``i < j`` of documents sharing a band.

    ``active`` (bool mask) limits which documents take part (e.g. excludes empty
    ones). A bucket of at most ``max_bucket`` documents yields all its pairs; a
    larger one links its first document to every other and each to the next, which
    keeps every member reachable for verification at linear cost.
    """
    n = signatures.shape[0]
    keys = band_keys(signatures, bands, rows)
    docs = np.repeat(np.arange(n, dtype=np.int64), bands)
    flat = keys.reshape(-1)
    if active is not None:
        keep = np.repeat(np.asarray(active, dtype=bool), bands)
        flat, docs = flat[keep], docs[keep]
    order = np.argsort(flat, kind="stable")
    lo, hi = bucket_links(flat[order], docs[order], max_bucket)
    distinct = lo != hi
    codes = np.unique(lo[distinct] * n + hi[distinct])
    return np.stack([codes // n, codes % n], axis=1) if codes.size else np.empty((0, 2), np.int64)


def bucket_links(
    keys: np.ndarray, docs: np.ndarray, max_bucket: int = DEFAULT_MAX_BUCKET
) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` document pairs linked inside each bucket, with repeats and self pairs.

    ``keys`` are band keys sorted so equal keys are adjacent, ``docs`` the document of
    each key, ascending within a bucket. A bucket of at most ``max_bucket`` entries
    links all its pairs; a larger one links its first entry to every other and each to
    the next. This is the whole bucket rule of :func:`candidate_pairs`, so a caller that
    gathers complete buckets some other way (a distributed shuffle) gets the same pairs.
    """
    if keys.size < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    new_group = np.empty(keys.size, dtype=bool)
    new_group[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new_group[1:])
    group_start = np.flatnonzero(new_group)
    sizes = np.diff(np.append(group_start, keys.size))
    size_of = np.repeat(sizes, sizes)
    pos = np.arange(keys.size) - np.repeat(group_start, sizes)
    small = size_of <= max_bucket
    counts = np.where(small, size_of - 1 - pos, np.where(pos == 0, size_of - 1, (pos < size_of - 1).astype(np.int64)))
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    left = np.repeat(np.arange(keys.size), counts)
    step = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    right = left + 1 + step
    i, j = docs[left], docs[right]
    return np.minimum(i, j), np.maximum(i, j)


def _check_banding(bands: int, rows: int) -> None:
    for name, value in (("bands", bands), ("rows", rows)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"LSH {name} must be a positive integer, got {value!r}")


def add_threshold_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the threshold calculator, for any command that offers it."""
    parser.add_argument("--bands", type=int, required=True, help="number of LSH bands b")
    parser.add_argument("--rows", type=int, required=True, help="signature rows per band r")
    parser.add_argument("--num-perm", type=int, default=None, help="permutations (checks b x r fits)")
    parser.add_argument("--steps", type=int, default=20, help="similarity grid points (default 20)")


def threshold_command(args: argparse.Namespace) -> int:
    """Print :func:`threshold_report` for parsed :func:`add_threshold_arguments` options."""
    print(threshold_report(args.bands, args.rows, args.num_perm, args.steps))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sciprep.cleaning.lsh --bands 20 --rows 5``: the S-curve of a banding."""
    parser = argparse.ArgumentParser(
        prog="python -m sciprep.cleaning.lsh",
        description="MinHash-LSH threshold calculator: S-curve point (1/b)^(1/r) and P(candidate).",
    )
    add_threshold_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return threshold_command(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
