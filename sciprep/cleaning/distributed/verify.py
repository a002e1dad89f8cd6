"""Candidate verification on Ray: two shuffles keyed by shard, each shard read once per side.

A candidate pair needs both documents' stored shingles, which live in their shards'
attribute files (or in the reference store). Rather than moving every sketch:

1. pairs are shuffled by the shard of their smaller node; that shard's task makes the
   pairs unique, reads the rows it needs (only the documents named) and emits each
   smaller document's signature and shingles once per shard of its partners, with the
   list of those partners;
2. these rows are shuffled by the partners' shard; that shard's task reads its
   documents and scores each pair exactly as :func:`~sciprep.cleaning.near_duplicates.pair_scores`
   does, keeping the accepted ones.

Every candidate pair is verified (the local path skips pairs already connected; the
accepted edges, and so clusters and scores, are the same). Reference documents are
read from the memory-mapped store in groups of :data:`~sciprep.cleaning.distributed.reference.VERIFY_CHUNK`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sciprep.cleaning.attributes import attribute_path, attribute_schema
from sciprep.cleaning.distributed.components import unique_pairs
from sciprep.cleaning.distributed.reference import VERIFY_CHUNK, ReferenceStore
from sciprep.cleaning.distributed.shuffle import group_apply, node_positions, node_shards
from sciprep.cleaning.minhash import Sketch
from sciprep.cleaning.near_duplicates import pair_scores
from sciprep.cleaning.steps.near_dedup import NearDedup

if TYPE_CHECKING:
    from ray.data import Dataset

EDGE_SCHEMA = pa.schema([("lo", pa.int64()), ("hi", pa.int64()), ("matches", pa.int64()), ("jaccard", pa.float64())])
_CARRIED_SCHEMA = pa.schema(
    [("lo", pa.int64()), ("partners", pa.large_list(pa.int64())), ("lo_signature", pa.list_(pa.uint32())),
     ("lo_shingles", pa.large_list(pa.uint32()))]
)  # fmt: skip
_SRC = "src"


def _flat(column: pa.ChunkedArray | pa.Array, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Values and ``(n + 1,)`` offsets of a list column (null lists are empty)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    sizes = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.zeros(sizes.size + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    values = pc.list_flatten(array).to_numpy(zero_copy_only=False).astype(dtype)
    return values, offsets


def _sketch(signatures: pa.ChunkedArray | pa.Array, shingles: pa.ChunkedArray | pa.Array) -> Sketch:
    values, offsets = _flat(shingles, np.uint32)
    sig, sig_offsets = _flat(signatures, np.uint32)
    n = sig_offsets.size - 1
    return Sketch(sig.reshape(n, -1) if n else np.empty((0, 0), np.uint32), values, offsets)


def _read_group(out_dir: Path, step: NearDedup, stems: Sequence[str], store: ReferenceStore | None,
                src: int, nodes: np.ndarray) -> Sketch:  # fmt: skip
    """Signatures and shingles of ``nodes`` (sorted, unique, all in read group ``src``), in that order."""
    if src < 0 and store is not None:
        signatures, pieces = store.read(nodes + store.count)
        sizes = np.array([piece.size for piece in pieces], np.int64)
        offsets = np.zeros(sizes.size + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        shingles = np.concatenate(pieces) if pieces else np.empty(0, np.uint32)
        return Sketch(signatures, shingles.astype(np.uint32), offsets)
    path = attribute_path(out_dir, step, stems[src])
    table = pq.read_table(path, schema=attribute_schema(step), columns=["position", "signature", "shingles"])
    wanted = pa.array(node_positions(nodes), pa.int64())
    table = table.filter(pc.is_in(table.column("position"), wanted))
    table = table.take(pc.index_in(wanted, table.column("position")))
    return _sketch(table.column("signature"), table.column("shingles"))


def read_groups(nodes: np.ndarray, store: ReferenceStore | None) -> np.ndarray:
    """Read group of each node: its shard index, or ``-1 - chunk`` for reference documents."""
    groups = node_shards(nodes)
    if store is not None:
        ref = nodes < 0
        groups[ref] = -1 - (nodes[ref] + store.count) // VERIFY_CHUNK
    return groups


def _with_group(column: str, store: ReferenceStore | None, table: pa.Table) -> pa.Table:
    nodes = table.column(column).to_numpy()
    return table.append_column(_SRC, pa.array(read_groups(nodes, store), pa.int64()))


def _large_lists(values: np.ndarray, offsets: np.ndarray, value_type: pa.DataType) -> pa.Array:
    return pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), pa.array(values, value_type))


def _attach_smaller(out_dir: Path, step: NearDedup, stems: Sequence[str], store: ReferenceStore | None,
                    table: pa.Table) -> pa.Table:  # fmt: skip
    """Per smaller document and shard of its partners: its sketch and those partners."""
    outputs = [_CARRIED_SCHEMA.empty_table()]
    for src in np.unique(table.column(_SRC).to_numpy()).tolist():
        part = table.filter(pc.equal(table.column(_SRC), src))
        lo, hi = unique_pairs(part.column("lo").to_numpy(), part.column("hi").to_numpy())
        docs = np.unique(lo)
        sketch = _read_group(out_dir, step, stems, store, src, docs)
        hi_src = read_groups(hi, store)
        order = np.lexsort((hi, hi_src, lo))
        lo, hi, hi_src = lo[order], hi[order], hi_src[order]
        starts = np.flatnonzero(np.concatenate(([True], (lo[1:] != lo[:-1]) | (hi_src[1:] != hi_src[:-1]))))
        partner_offsets = np.append(starts, lo.size)
        row = np.searchsorted(docs, lo[starts])
        sizes = sketch.sizes[row]
        offsets = np.zeros(row.size + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        shingles = (
            np.concatenate([sketch.shingle_sequence(int(r)) for r in row]) if row.size else np.empty(0, np.uint32)
        )
        num_perm = sketch.signatures.shape[1]
        signatures = pa.ListArray.from_arrays(
            pa.array(np.arange(row.size + 1, dtype=np.int32) * num_perm, pa.int32()),
            pa.array(sketch.signatures[row].reshape(-1), pa.uint32()),
        )
        outputs.append(
            pa.table(
                {
                    "lo": lo[starts],
                    "partners": _large_lists(hi, partner_offsets, pa.int64()),
                    "lo_signature": signatures,
                    "lo_shingles": _large_lists(shingles, offsets, pa.uint32()),
                },
                schema=_CARRIED_SCHEMA,
            )  # fmt: skip
        )
    return pa.concat_tables(outputs)


def _partner_group(store: ReferenceStore | None, table: pa.Table) -> pa.Table:
    first = pc.list_element(table.column("partners"), 0).to_numpy(zero_copy_only=False)
    return table.append_column(_SRC, pa.array(read_groups(first, store), pa.int64()))


def _verify(out_dir: Path, step: NearDedup, stems: Sequence[str], store: ReferenceStore | None,
            table: pa.Table) -> pa.Table:  # fmt: skip
    """Score every pair of the carried rows against the partners read here; keep the accepted."""
    p = step.params
    outputs = [EDGE_SCHEMA.empty_table()]
    for src in np.unique(table.column(_SRC).to_numpy()).tolist():
        part = table.filter(pc.equal(table.column(_SRC), src))
        smaller = _sketch(part.column("lo_signature"), part.column("lo_shingles"))
        partners, partner_offsets = _flat(part.column("partners"), np.int64)
        left = np.repeat(np.arange(part.num_rows), np.diff(partner_offsets))
        docs = np.unique(partners)
        larger = _read_group(out_dir, step, stems, store, src, docs)
        sketch = Sketch.concat([smaller, larger], step.config.num_perm)
        pairs = np.stack([left, part.num_rows + np.searchsorted(docs, partners)], axis=1)
        jaccard, coverage, numbers = pair_scores(sketch, pairs, step.config.ngram, p.min_numeric_shingles)
        accepted = (jaccard >= p.min_jaccard) & (coverage >= p.min_coverage) & (numbers >= p.min_number_agreement)
        matches = (sketch.signatures[pairs[:, 0]] == sketch.signatures[pairs[:, 1]]).sum(axis=1)
        lo = part.column("lo").to_numpy()[left]
        outputs.append(
            pa.table(
                {
                    "lo": lo[accepted],
                    "hi": partners[accepted],
                    "matches": matches[accepted].astype(np.int64),
                    "jaccard": jaccard[accepted],
                },
                schema=EDGE_SCHEMA,
            )  # fmt: skip
        )
    return pa.concat_tables(outputs)


def verified_edges(
    pairs: Dataset, out_dir: Path, step: NearDedup, stems: Sequence[str], store: ReferenceStore | None, parts: int
) -> Dataset:
    """The accepted candidate pairs ``(lo, hi, matches, jaccard)``, each pair once."""
    by_smaller = pairs.map_batches(partial(_with_group, "lo", store), batch_format="pyarrow", batch_size=None)
    carried = group_apply(by_smaller, [_SRC], partial(_attach_smaller, out_dir, step, stems, store), parts)
    by_larger = carried.map_batches(partial(_partner_group, store), batch_format="pyarrow", batch_size=None)
    return group_apply(by_larger, [_SRC], partial(_verify, out_dir, step, stems, store), parts)
