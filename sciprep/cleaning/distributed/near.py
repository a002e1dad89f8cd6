"""Near-dup candidates on Ray: signatures read per shard, band keys, a (band, bucket) shuffle.

1. Each shard's task reads its alive documents' stored signatures (and each one's
   number of shingles: documents without shingles never pair); each row group of a
   reference store's ids is a task too, reading its rows from the memory-mapped
   store.
2. Tasks compute every document's ``bands`` band keys (:func:`~sciprep.cleaning.lsh.band_keys`:
   one 64-bit hash per band of ``rows`` values, the band's constant mixed in).
3. A shuffle keyed by band key brings every bucket together; each bucket is linked by
   :func:`~sciprep.cleaning.lsh.bucket_links` (all pairs up to ``max_bucket``
   documents, a star plus a chain beyond), and pairs inside the reference store are
   dropped. Exactly the local candidate set, once the pairs are made unique (which the
   verification shuffle does).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sciprep.cleaning.distributed.alive import read_alive
from sciprep.cleaning.distributed.reference import ReferenceStore, reference_ids
from sciprep.cleaning.distributed.shuffle import group_apply
from sciprep.cleaning.lsh import DEFAULT_MAX_BUCKET, band_keys, bucket_links
from sciprep.cleaning.steps.near_dedup import NearDedup

if TYPE_CHECKING:
    from ray.data import Dataset

#: One document as banding and the keep rule see it; ``priority``: lower is kept first.
DOC_SCHEMA = pa.schema(
    [("node", pa.int64()), ("id", pa.string()), ("priority", pa.int64()),
     ("signature", pa.list_(pa.uint32())), ("n_shingles", pa.int64())]
)  # fmt: skip
PAIR_SCHEMA = pa.schema([("lo", pa.int64()), ("hi", pa.int64())])
_BAND_SCHEMA = pa.schema([("key", pa.int64()), ("node", pa.int64())])


def _signature_matrix(column: pa.ChunkedArray | pa.Array, num_perm: int, ids: pa.Array, label: str) -> np.ndarray:
    """Stored signatures as ``(n, num_perm)`` uint32, refusing rows of another width."""
    signatures = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    widths = pc.list_value_length(signatures).to_numpy(zero_copy_only=False)
    n = len(signatures)
    if n and (widths != num_perm).any():
        bad = int(np.flatnonzero(widths != num_perm)[0])
        raise ValueError(
            f"cleaning step {label!r}: stored signature of document {ids[bad].as_py()!r} "
            f"has {widths[bad]} values, expected num_perm = {num_perm}: the stored attributes are inconsistent"
        )
    return signatures.flatten().to_numpy(zero_copy_only=False).astype(np.uint32).reshape(n, num_perm)


def _read_documents(out_dir: Path, step: NearDedup, index: int, batch: pa.Table) -> pa.Table:
    table = read_alive(out_dir, step, index, ["id", "signature", "shingles", "source"], batch.to_pylist()[0])
    rank = {source: n for n, source in enumerate(step.params.source_priority)}
    _signature_matrix(table.column("signature"), step.config.num_perm, table.column("id"), step.label)
    sizes = pc.fill_null(pc.list_value_length(table.column("shingles")), 0).cast(pa.int64())
    priority = [rank.get(s, len(rank)) for s in table.column("source").to_pylist()]
    return pa.table(
        {"node": table.column("node"), "id": table.column("id"), "priority": pa.array(priority, pa.int64()),
         "signature": table.column("signature"), "n_shingles": sizes},
        schema=DOC_SCHEMA,
    )  # fmt: skip


def _read_reference(store: ReferenceStore, batch: pa.Table) -> pa.Table:
    group = batch.to_pylist()[0]["group"]
    start, rows = store.id_groups[group]
    signatures, _, offsets = store.arrays()
    sig = np.asarray(signatures[start : start + rows], dtype=np.uint32)
    sizes = np.diff(np.asarray(offsets[start : start + rows + 1], dtype=np.int64))
    nodes = np.arange(start, start + rows, dtype=np.int64) - store.count
    flat = pa.array(sig.reshape(-1), pa.uint32())
    lists = pa.ListArray.from_arrays(pa.array(np.arange(0, sig.size + 1, store.num_perm, dtype=np.int32)), flat)
    return pa.table(
        {"node": nodes, "id": reference_ids(store, group), "priority": np.full(rows, -1, np.int64),
         "signature": lists, "n_shingles": sizes},
        schema=DOC_SCHEMA,
    )  # fmt: skip


def read_documents(
    out_dir: Path, step: NearDedup, index: int, shards: Dataset, store: ReferenceStore | None
) -> Dataset:
    """Reference documents (if any) and the corpus documents alive at the step."""
    import ray.data

    docs = shards.map_batches(partial(_read_documents, out_dir, step, index), batch_format="pyarrow", batch_size=1)
    if store is None or not store.id_groups:
        return docs
    groups = ray.data.from_items([{"group": g} for g in range(len(store.id_groups))],
                                 override_num_blocks=len(store.id_groups))  # fmt: skip
    refs = groups.map_batches(partial(_read_reference, store), batch_format="pyarrow", batch_size=1)
    return refs.union(docs)


def _band_rows(bands: int, rows: int, table: pa.Table) -> pa.Table:
    active = table.filter(pc.greater(table.column("n_shingles"), 0))
    n = active.num_rows
    if n == 0:
        return _BAND_SCHEMA.empty_table()
    num_perm = len(active.column("signature")[0])
    sig = active.column("signature").combine_chunks().flatten().to_numpy().astype(np.uint32).reshape(n, num_perm)
    keys = band_keys(sig, bands, rows).reshape(-1).view(np.int64)
    nodes = np.repeat(active.column("node").to_numpy(), bands)
    return pa.table({"key": keys, "node": nodes}, schema=_BAND_SCHEMA)


def _bucket_pairs(max_bucket: int, table: pa.Table) -> pa.Table:
    ordered = table.sort_by([("key", "ascending"), ("node", "ascending")])
    lo, hi = bucket_links(ordered.column("key").to_numpy(), ordered.column("node").to_numpy(), max_bucket)
    keep = (lo != hi) & (hi >= 0)  # hi < 0: both in the reference store, already deduplicated
    return pa.table({"lo": lo[keep], "hi": hi[keep]}, schema=PAIR_SCHEMA)


def candidate_pairs(docs: Dataset, step: NearDedup, parts: int) -> Dataset:
    """LSH candidate pairs ``lo < hi`` (node ids), possibly repeated across buckets."""
    config = step.config
    bands = docs.map_batches(partial(_band_rows, config.bands, config.rows), batch_format="pyarrow", batch_size=None)
    return group_apply(bands, ["key"], partial(_bucket_pairs, DEFAULT_MAX_BUCKET), parts)


def document_info(table: pa.Table) -> pa.Table:
    """What the keep rule needs of a document: node, id, priority."""
    return table.select(["node", "id", "priority"])
