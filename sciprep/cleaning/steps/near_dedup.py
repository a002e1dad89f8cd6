"""Near-duplicate removal with MinHash-LSH and verified similarity (step ``near_dedup``).

Tag (per document, the expensive part): the MinHash signature and the shingle
fingerprints in text order (:mod:`sciprep.cleaning.minhash`), stored as attributes.
Only the shingling/hashing parameters are tag parameters.

Decide (per corpus, cheap): LSH banding over the stored signatures, candidate pairs
verified on the stored shingles (Jaccard, coverage and number agreement, see
:mod:`sciprep.cleaning.near_duplicates`), union-find over verified edges only, and
one document kept per cluster: a source listed earlier in ``source_priority``, then
the earlier document in corpus order. Banding, thresholds, the reference store and
the priority are decide parameters, so changing any of them re-decides from the
stored attributes without recomputing a signature.

``reference`` names the signature store of an earlier corpus: documents of this
corpus that are near duplicates of one in it are removed ("near duplicate of
<earlier id>"), the earlier corpus always wins. With ``write_store`` (default on)
the kept documents' sketches are written to ``OUT/signatures/<step label>/`` as the
reference for the next corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sciprep.cleaning.minhash import MinHashConfig, MinHasher, Sketch
from sciprep.cleaning.near_duplicates import (
    DEFAULT_MIN_COVERAGE,
    DEFAULT_MIN_NUMBER_AGREEMENT,
    DEFAULT_MIN_NUMERIC_SHINGLES,
    DEFAULT_THRESHOLD,
    candidate_graph,
    cluster,
)
from sciprep.cleaning.signature_store import SignatureStore, load_signature_store, save_signature_store
from sciprep.cleaning.steps.base import Remove, Step, StepContext, StepParams, register_step, threshold
from sciprep.corpus.document import Document

#: Where the kept documents' signature store goes, under the output directory.
SIGNATURES_DIR = "signatures"


@dataclass
class NearDedupParams(StepParams):
    ngram: int = 5
    num_perm: int = 128
    seed: int = 0
    lowercase: bool = True
    keep_punctuation: bool = False
    collapse_numbers: bool = False
    bands: int = threshold(64)
    rows: int = threshold(2)
    min_jaccard: float = threshold(DEFAULT_THRESHOLD)
    min_coverage: float = threshold(DEFAULT_MIN_COVERAGE)
    min_number_agreement: float = threshold(DEFAULT_MIN_NUMBER_AGREEMENT)
    min_numeric_shingles: int = threshold(DEFAULT_MIN_NUMERIC_SHINGLES)
    source_priority: tuple[str, ...] = threshold(())
    reference: Path | None = threshold(None)
    write_store: bool = threshold(True)

    def minhash_config(self) -> MinHashConfig:
        return MinHashConfig(
            ngram=self.ngram,
            num_perm=self.num_perm,
            bands=self.bands,
            rows=self.rows,
            seed=self.seed,
            lowercase=self.lowercase,
            keep_punctuation=self.keep_punctuation,
            collapse_numbers=self.collapse_numbers,
        )


@register_step("near_dedup")
class NearDedup(Step):
    """Remove near duplicates (MinHash-LSH candidates verified on exact shingles)."""

    Params = NearDedupParams
    params: NearDedupParams
    scope = "corpus"
    version = 2  # fingerprints carry the numeric-shingle bit
    attributes = pa.schema(
        [
            ("signature", pa.list_(pa.uint32())),
            ("shingles", pa.list_(pa.uint32())),
            ("source", pa.string()),
        ]
    )

    def __init__(self, params: StepParams | None = None, label: str | None = None) -> None:
        super().__init__(params, label)
        self.config = self.params.minhash_config()  # validates the settings now, naming them
        self._hasher = MinHasher(self.config)
        self._out_dir: Path | None = None

    def setup(self, context: StepContext) -> None:
        self._out_dir = context.out_dir

    @property
    def store_dir(self) -> Path | None:
        """Where ``decide_corpus`` writes the kept documents' store (None: it writes none)."""
        if not self.params.write_store or self._out_dir is None:
            return None
        return self._out_dir / SIGNATURES_DIR / self.label

    def tag(self, doc: Document) -> dict[str, Any]:
        sketch = self._hasher.sketch([doc.text])
        return {"signature": sketch.signatures[0], "shingles": sketch.shingles, "source": doc.source}

    def decide_corpus(self, table: pa.Table) -> dict[str, Remove]:
        p = self.params
        ids = table.column("id").to_pylist()
        sketch = _sketch_from_table(table, self.config.num_perm, self.label)
        ref_ids: list[str] = []
        if p.reference is not None:
            reference = load_signature_store(p.reference, expect=self.config)
            ref_ids = reference.ids
            sketch_all = Sketch.concat([reference.sketch, sketch], self.config.num_perm)
        else:
            sketch_all = sketch
        rank = {source: n for n, source in enumerate(p.source_priority)}
        sources = table.column("source").to_pylist()
        priority = [-1] * len(ref_ids) + [rank.get(s, len(rank)) for s in sources]
        graph = candidate_graph(sketch_all, self.config, first_new=len(ref_ids))
        clusters = cluster(
            sketch_all,
            graph,
            self.config.ngram,
            p.min_jaccard,
            p.min_coverage,
            priority,
            min_number_agreement=p.min_number_agreement,
            min_numeric_shingles=p.min_numeric_shingles,
        )
        all_ids = ref_ids + ids
        sizes = np.bincount(clusters.keeper, minlength=len(all_ids))
        removed: dict[str, Remove] = {}
        offset = len(ref_ids)
        for i in np.flatnonzero(~clusters.keep[offset:]).tolist():
            keeper = int(clusters.keeper[offset + i])
            where = "the reference corpus's " if keeper < offset else ""
            score = float(clusters.score[offset + i])
            reason = (
                f"near duplicate of {where}{all_ids[keeper]} (verified Jaccard {score:.3f}; "
                f"cluster of {int(sizes[keeper])})"
            )
            removed[ids[i]] = Remove(reason, round(score, 6))
        if self.store_dir is not None:
            self._write_store(self.store_dir, sketch, ids, np.flatnonzero(clusters.keep[offset:]))
        return removed

    def _write_store(self, path: Path, sketch: Sketch, ids: list[str], kept: np.ndarray) -> None:
        lengths = sketch.sizes[kept]
        offsets = np.zeros(kept.size + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        pieces = [sketch.shingle_sequence(int(i)) for i in kept]
        shingles = np.concatenate(pieces) if pieces else np.empty(0, np.uint32)
        store = SignatureStore(
            self.config,
            [ids[int(i)] for i in kept],
            Sketch(sketch.signatures[kept], shingles, offsets),
        )
        save_signature_store(path, store)


def _sketch_from_table(table: pa.Table, num_perm: int, label: str) -> Sketch:
    """The stored attributes as one :class:`Sketch` (rows in table order)."""
    n = table.num_rows
    signatures = table.column("signature").combine_chunks()
    widths = pc.list_value_length(signatures).to_numpy(zero_copy_only=False)
    if n and (widths != num_perm).any():
        bad = int(np.flatnonzero(widths != num_perm)[0])
        raise ValueError(
            f"cleaning step {label!r}: stored signature of document {table.column('id')[bad].as_py()!r} "
            f"has {widths[bad]} values, expected num_perm = {num_perm}: the stored attributes are inconsistent"
        )
    sig = signatures.flatten().to_numpy(zero_copy_only=False).astype(np.uint32).reshape(n, num_perm)
    shingles = table.column("shingles").combine_chunks()
    lengths = pc.list_value_length(shingles).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = shingles.flatten().to_numpy(zero_copy_only=False).astype(np.uint32)
    return Sketch(sig, values, offsets)
