"""Near-duplicate clusters: LSH candidates, verified on the exact shingles, then a keep rule.

1. :func:`candidate_graph`: LSH proposes candidate pairs from the stored signatures
   (cheap: no text, no shingles), each with its signature estimate of Jaccard.
2. :func:`cluster`: candidate pairs are verified on the exact shingles, strongest
   estimate first, and only verified edges are united (union-find), so unrelated long
   documents cannot chain through one shared band. A pair whose documents are already
   connected is not verified again (it could not change the clusters). Two exact
   scores decide an edge:

   * ``jaccard``: |A & B| / |A | B| of the shingle sets, at least ``threshold``;
   * ``coverage``: the smaller, over the two documents, of the fraction of a
     document's words that lie in a shingle the other document also has, at least
     ``min_coverage``. An edited copy agrees *everywhere* a little (20% of words
     edited: Jaccard ~0.2 but coverage ~0.6), while a passage that merely quotes one
     paragraph of another agrees in one place only (coverage ~0.3 even when its
     Jaccard is higher).

   A third check keeps apart documents whose prose matches but whose numbers do not
   (the same paper with other measurements is another paper): the shingles holding a
   numeric word (:data:`~sciprep.cleaning.minhash.NUMERIC_BIT`) and the others are
   compared apart, and when both documents have at least ``min_numeric_shingles``
   numeric shingles, the share of one document's numeric shingles that the other
   has must be at least ``min_number_agreement`` times the share of its prose
   shingles that the other has (the better of the two documents counts). Edits hit
   numbers and words alike (ratio ~1); a copy with its numbers changed keeps its
   prose and loses its numeric shingles (ratio ~0).

   In each cluster the document with the lowest ``(priority, index)`` is kept; every
   other one is a near duplicate of it. A document's score is the largest exact
   Jaccard among the edges that united clusters: the edges of the spanning forest
   Kruskal's rule picks from the accepted pairs in the order ``(-estimate, i, j)``. That
   is a property of the accepted edges alone, so an implementation that verifies every
   candidate and then runs the same rule per connected component (the Ray path,
   :mod:`sciprep.cleaning.distributed`) gives identical scores.

Signatures are computed once (tag); thresholds, banding and priority can all change
and be re-decided from stored sketches. To deduplicate a new corpus against an
earlier one, concatenate the earlier sketch (from a :mod:`signature store
<sciprep.cleaning.signature_store>`) in front, pass ``first_new`` so pairs inside the
earlier corpus are skipped, and give its documents a lower priority value so they are
always the ones kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sciprep.cleaning.lsh import DEFAULT_MAX_BUCKET, candidate_pairs
from sciprep.cleaning.minhash import NUMERIC_BIT, MinHashConfig, MinHasher, Sketch, sorted_unique

#: Default minimum verified Jaccard similarity of word 5-gram sets: a copy with 20%
#: of its words edited scores ~0.2 (10%: ~0.45, 5%: ~0.65), different papers ~0.
DEFAULT_THRESHOLD = 0.17
#: Default minimum coverage: 20%-edited copies cover ~0.6 of each other, passages that
#: share one paragraph or only stock phrases ~0.4 or less.
DEFAULT_MIN_COVERAGE = 0.45
#: Default minimum ratio of the numeric shingles' agreement to the prose shingles':
#: edited copies score ~1, copies whose every number changed ~0.
DEFAULT_MIN_NUMBER_AGREEMENT = 0.3
#: Numeric shingles each document needs before its numbers are compared (fewer: too
#: few to tell an edit from a changed measurement).
DEFAULT_MIN_NUMERIC_SHINGLES = 10
#: Pairs per numpy call when estimating similarity from signatures.
_ESTIMATE_CHUNK = 65536


@dataclass
class CandidateGraph:
    """Candidate pairs ``i < j`` of ``n`` documents and their signature-estimated Jaccard."""

    n: int
    pairs: np.ndarray
    estimate: np.ndarray


@dataclass
class Clusters:
    """The decision for ``n`` documents.

    ``keeper[i]`` is the index of the document kept for ``i``'s cluster (``i`` itself
    when ``i`` is kept); ``score[i]`` is the exact Jaccard similarity of the strongest
    verified edge that joined ``i`` to its cluster (0 for a singleton); ``verified``
    counts the candidate pairs checked on their shingles.
    """

    keeper: np.ndarray
    score: np.ndarray
    verified: int = 0

    @property
    def keep(self) -> np.ndarray:
        """Boolean mask of the documents to keep."""
        return self.keeper == np.arange(self.keeper.size)

    def groups(self) -> list[list[int]]:
        """Clusters of two or more documents, each sorted, in order of their smallest index."""
        order = np.argsort(self.keeper, kind="stable")
        _, starts = np.unique(self.keeper[order], return_index=True)
        bounds = np.append(starts, order.size)
        out = [sorted(order[lo:hi].tolist()) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi - lo > 1]
        return sorted(out)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted arrays of unique values (0 when either is empty)."""
    if a.size > b.size:
        a, b = b, a
    if a.size == 0:
        return 0.0
    idx = np.searchsorted(b, a)
    np.minimum(idx, b.size - 1, out=idx)
    common = int(np.count_nonzero(b[idx] == a))
    return common / (a.size + b.size - common)


def _covered_fraction(hits: np.ndarray, ngram: int) -> float:
    """Fraction of words lying in at least one hit shingle (``hits``: one flag per shingle)."""
    dtype = np.int8 if ngram < 127 else np.int32  # window sums must not wrap around
    covered = np.convolve(hits.astype(dtype), np.ones(ngram, dtype))
    return int(np.count_nonzero(covered)) / (hits.size + ngram - 1)


def _number_ratio(numeric_kept: float, common_prose: int, prose: int) -> float:
    """Share of a document's numeric shingles the other has, over its share of prose ones (<= 1)."""
    prose_kept = common_prose / prose if prose else 1.0
    return min(1.0, numeric_kept / prose_kept) if prose_kept > 0 else 1.0


class _Verifier:
    """Exact pair scores over one sketch; caches each document's set and positions in it."""

    def __init__(self, sketch: Sketch, ngram: int) -> None:
        self.sketch = sketch
        self.ngram = ngram
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _index(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if i not in self._cache:
            sequence = self.sketch.shingle_sequence(i)
            shingle_set = sorted_unique(sequence)
            self._cache[i] = (shingle_set, np.searchsorted(shingle_set, sequence))
        return self._cache[i]

    def scores(self, i: int, j: int, min_numeric: int = DEFAULT_MIN_NUMERIC_SHINGLES) -> tuple[float, float, float]:
        """``(jaccard, coverage, number agreement)`` of documents ``i`` and ``j``.

        Number agreement: the share of a document's numeric shingles found in the other,
        over the share of its prose shingles found there (capped at 1), for whichever
        document scores higher (so a copy that *adds* numbers still agrees); it is 1
        when either document has fewer than ``min_numeric`` numeric shingles.
        """
        (set_a, where_a), (set_b, where_b) = self._index(i), self._index(j)
        if set_a.size == 0 or set_b.size == 0:
            return 0.0, 0.0, 1.0
        pos = np.searchsorted(set_b, set_a)
        np.minimum(pos, set_b.size - 1, out=pos)
        a_in_b = set_b[pos] == set_a
        common = int(np.count_nonzero(a_in_b))
        if common == 0:
            return 0.0, 0.0, 1.0
        b_in_a = np.zeros(set_b.size, dtype=bool)
        b_in_a[pos[a_in_b]] = True
        coverage = min(
            _covered_fraction(a_in_b[where_a], self.ngram), _covered_fraction(b_in_a[where_b], self.ngram)
        )
        numeric_a = (set_a & NUMERIC_BIT).astype(bool)
        n_a, n_b = int(np.count_nonzero(numeric_a)), int(np.count_nonzero(set_b & NUMERIC_BIT))
        agreement = 1.0
        if min(n_a, n_b) >= min_numeric:
            common_numeric = int(np.count_nonzero(a_in_b & numeric_a))
            common_prose = common - common_numeric
            agreement = max(
                _number_ratio(common_numeric / n_a, common_prose, set_a.size - n_a),
                _number_ratio(common_numeric / n_b, common_prose, set_b.size - n_b),
            )
        return common / (set_a.size + set_b.size - common), coverage, agreement


def pair_scores(
    sketch: Sketch, pairs: np.ndarray, ngram: int, min_numeric_shingles: int = DEFAULT_MIN_NUMERIC_SHINGLES
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact ``(jaccard, coverage, number agreement)`` arrays for every ``(i, j)`` in ``pairs``."""
    verifier = _Verifier(sketch, ngram)
    scored = np.array([verifier.scores(i, j, min_numeric_shingles) for i, j in pairs.tolist()], np.float64)
    scored = scored.reshape(-1, 3)
    return scored[:, 0].copy(), scored[:, 1].copy(), scored[:, 2].copy()


def candidate_graph(
    sketch: Sketch,
    config: MinHashConfig,
    first_new: int = 0,
    max_bucket: int = DEFAULT_MAX_BUCKET,
) -> CandidateGraph:
    """LSH candidate pairs of ``sketch`` (banding from ``config``) with estimated similarity.

    Documents without shingles never pair. Pairs whose both members lie before
    ``first_new`` (an earlier, already deduplicated corpus) are skipped.
    """
    active = sketch.sizes > 0
    pairs = candidate_pairs(sketch.signatures, config.bands, config.rows, active=active, max_bucket=max_bucket)
    if first_new > 0:
        pairs = pairs[pairs[:, 1] >= first_new]
    sig = sketch.signatures
    estimate = np.empty(pairs.shape[0], np.float64)
    for lo in range(0, pairs.shape[0], _ESTIMATE_CHUNK):
        chunk = pairs[lo : lo + _ESTIMATE_CHUNK]
        estimate[lo : lo + chunk.shape[0]] = (sig[chunk[:, 0]] == sig[chunk[:, 1]]).mean(axis=1)
    return CandidateGraph(len(sketch), pairs, estimate)


def check_cluster_settings(
    threshold: float, min_coverage: float, min_number_agreement: float, min_numeric_shingles: int
) -> None:
    """Raise ValueError, naming the setting, for thresholds :func:`cluster` cannot use."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"near-duplicate threshold must be in (0, 1], got {threshold!r}")
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"near-duplicate min_coverage must be in [0, 1], got {min_coverage!r}")
    if not 0.0 <= min_number_agreement <= 1.0:
        raise ValueError(f"near-duplicate min_number_agreement must be in [0, 1], got {min_number_agreement!r}")
    if min_numeric_shingles < 1:
        raise ValueError(f"near-duplicate min_numeric_shingles must be at least 1, got {min_numeric_shingles!r}")


def cluster(
    sketch: Sketch,
    graph: CandidateGraph,
    ngram: int,
    threshold: float = DEFAULT_THRESHOLD,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    priority: Sequence[int] | np.ndarray | None = None,
    min_number_agreement: float = DEFAULT_MIN_NUMBER_AGREEMENT,
    min_numeric_shingles: int = DEFAULT_MIN_NUMERIC_SHINGLES,
) -> Clusters:
    """Verify candidates and cluster over the accepted edges (see the module docstring).

    ``ngram`` is the shingle size the sketch was made with. ``priority`` (lower is
    preferred, default all equal) decides which member of a cluster is kept; ties go
    to the smaller index, i.e. the earlier document.
    """
    check_cluster_settings(threshold, min_coverage, min_number_agreement, min_numeric_shingles)
    n = graph.n
    prio = np.zeros(n, np.int64) if priority is None else np.asarray(priority, dtype=np.int64)
    if prio.shape != (n,):
        raise ValueError(f"priority has {prio.size} values for {n} documents")
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    verifier = _Verifier(sketch, ngram)
    score = np.zeros(n, np.float64)
    verified = 0
    pairs = graph.pairs
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -graph.estimate)) if pairs.size else []
    for i, j in pairs[order].tolist():
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            continue
        jac, cov, numbers = verifier.scores(i, j, min_numeric_shingles)
        verified += 1
        if jac >= threshold and cov >= min_coverage and numbers >= min_number_agreement:
            parent[max(root_i, root_j)] = min(root_i, root_j)
            score[i] = max(score[i], jac)
            score[j] = max(score[j], jac)
    labels = np.array(parent, dtype=np.int64)
    while True:  # pointer jumping until every node points at its root
        jumped = labels[labels]
        if np.array_equal(jumped, labels):
            break
        labels = jumped
    order_keep = np.lexsort((np.arange(n), prio))
    _, first = np.unique(labels[order_keep], return_index=True)
    keeper_of = np.empty(n, np.int64)
    keeper_of[labels[order_keep][first]] = order_keep[first]
    return Clusters(keeper_of[labels], score, verified)


def find_near_duplicates(
    texts: Sequence[str],
    config: MinHashConfig | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    min_number_agreement: float = DEFAULT_MIN_NUMBER_AGREEMENT,
) -> Clusters:
    """Sketch, verify and cluster ``texts`` in one call; earlier texts are kept."""
    cfg = config or MinHashConfig()
    sketch = MinHasher(cfg).sketch(texts)
    graph = candidate_graph(sketch, cfg)
    return cluster(sketch, graph, cfg.ngram, threshold, min_coverage, min_number_agreement=min_number_agreement)
