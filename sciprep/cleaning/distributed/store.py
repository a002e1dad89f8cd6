"""The kept documents' signature store, written by Ray tasks straight into its files.

Same files, same bytes as :func:`~sciprep.cleaning.signature_store.save_signature_store`
on the local path (``OUT/signatures/<label>/``), but no sketch passes through the
driver:

1. each shard's task counts its kept documents and their shingles (one small record
   per shard reaches the driver, which lays out where each shard's rows go);
2. the driver creates the ``.npy`` files at full size (temporary names), each shard's
   task memory-maps them and writes its rows at its offsets, and writes its ids to a
   part file;
3. the driver streams the id parts into ``ids.parquet`` (row groups as
   ``pyarrow.parquet.write_table`` makes them), renames everything into place and
   writes ``minhash.json`` last, so an interrupted write never looks complete.

The output directory must be on storage every Ray node sees (as for the whole run).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sciprep.atomicio import current_umask, write_json_atomic
from sciprep.cleaning.distributed.alive import alive_attributes, alive_positions, shard_dataset
from sciprep.cleaning.distributed.reference import IDS, OFFSETS, SHINGLES, SIGNATURES
from sciprep.cleaning.signature_store import MANIFEST
from sciprep.cleaning.steps.near_dedup import NearDedup

_PLAN_SCHEMA = pa.schema([("index", pa.int64()), ("documents", pa.int64()), ("shingles", pa.int64())])
#: Rows per row group of ``ids.parquet``: pyarrow's default, so the file matches the local one.
_ID_ROW_GROUP = 1024 * 1024


def _kept(out_dir: Path, step: NearDedup, index: int, row: dict[str, Any], columns: Sequence[str]) -> pa.Table:
    positions = alive_positions(out_dir, row["stem"], row["stopped"] or [], step, index)
    return alive_attributes(out_dir, step, row["stem"], positions, columns)


def _plan(out_dir: Path, step: NearDedup, index: int, batch: pa.Table) -> pa.Table:
    row = batch.to_pylist()[0]
    kept = _kept(out_dir, step, index, row, ["shingles"])
    shingles = int(pc.sum(pc.fill_null(pc.list_value_length(kept.column("shingles")), 0)).as_py() or 0)
    counts = {"index": [row["index"]], "documents": [kept.num_rows], "shingles": [shingles]}
    return pa.table(counts, schema=_PLAN_SCHEMA)


def _write_shard(
    out_dir: Path, step: NearDedup, index: int, files: dict[str, str], layout: dict[int, tuple[int, int]],
    batch: pa.Table,
) -> pa.Table:  # fmt: skip
    row = batch.to_pylist()[0]
    doc_base, shingle_base = layout[row["index"]]
    kept = _kept(out_dir, step, index, row, ["id", "signature", "shingles"])
    pq.write_table(kept.select(["id"]), files["parts"] + f"/{row['index']:09d}.parquet")
    n = kept.num_rows
    if n == 0:
        return _PLAN_SCHEMA.empty_table()
    signatures = kept.column("signature").combine_chunks()
    shingles = kept.column("shingles").combine_chunks()
    sizes = pc.fill_null(pc.list_value_length(shingles), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    values = shingles.flatten().to_numpy(zero_copy_only=False).astype(np.uint32)
    sig_out = np.load(files[SIGNATURES], mmap_mode="r+", allow_pickle=False)
    sig_out[doc_base : doc_base + n] = signatures.flatten().to_numpy(zero_copy_only=False).reshape(n, -1)
    sig_out.flush()
    off_out = np.load(files[OFFSETS], mmap_mode="r+", allow_pickle=False)
    off_out[doc_base + 1 : doc_base + n + 1] = shingle_base + np.cumsum(sizes)
    off_out.flush()
    if values.size:
        sh_out = np.load(files[SHINGLES], mmap_mode="r+", allow_pickle=False)
        sh_out[shingle_base : shingle_base + values.size] = values
        sh_out.flush()
    return _PLAN_SCHEMA.empty_table()


@contextmanager
def _temporary(root: Path, name: str) -> Iterator[Path]:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=root)
    os.close(fd)
    path = Path(tmp)
    os.chmod(path, 0o666 & ~current_umask())
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _allocate(path: Path, dtype: type, shape: tuple[int, ...]) -> None:
    if int(np.prod(shape)) == 0:
        with open(path, "wb") as fh:
            np.save(fh, np.zeros(shape, dtype), allow_pickle=False)
        return
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    array.flush()
    del array


def _commit(path: Path, target: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(path, target)


def _merge_ids(parts: Path, target: Path) -> None:
    """Concatenate the shards' id files, in shard order, into one ``ids.parquet``."""
    schema = pa.schema([("id", pa.string())])
    files = sorted(parts.glob("*.parquet"))
    if sum(pq.ParquetFile(f).metadata.num_rows for f in files) == 0:
        pq.write_table(schema.empty_table(), target)
        return
    buffer: list[pa.Table] = []
    buffered = 0
    with pq.ParquetWriter(target, schema) as writer:
        for part in files:
            table = pq.read_table(part).cast(schema)
            buffer.append(table)
            buffered += table.num_rows
            while buffered >= _ID_ROW_GROUP:
                merged = pa.concat_tables(buffer).combine_chunks()
                writer.write_table(merged.slice(0, _ID_ROW_GROUP))
                buffer = [merged.slice(_ID_ROW_GROUP)]
                buffered -= _ID_ROW_GROUP
        if buffered:
            writer.write_table(pa.concat_tables(buffer).combine_chunks())


def write_kept_store(out_dir: Path, step: NearDedup, index: int, items: list[dict[str, Any]], root: Path) -> None:
    """Write the store of the documents alive at step ``index`` that no decision stopped.

    ``items`` are :func:`~sciprep.cleaning.distributed.alive.shard_items` rows whose
    stopped positions include this step's removals.
    """
    shards = shard_dataset(items)
    plan = shards.map_batches(partial(_plan, out_dir, step, index), batch_format="pyarrow", batch_size=1).take_all()
    plan.sort(key=lambda r: r["index"])
    layout: dict[int, tuple[int, int]] = {}
    documents = shingles = 0
    for r in plan:
        layout[r["index"]] = (documents, shingles)
        documents += r["documents"]
        shingles += r["shingles"]
    root.mkdir(parents=True, exist_ok=True)
    (root / MANIFEST).unlink(missing_ok=True)
    parts = Path(tempfile.mkdtemp(prefix=".ids-parts.", dir=root))
    try:
        with _temporary(root, SIGNATURES) as sig, _temporary(root, SHINGLES) as sh, \
                _temporary(root, OFFSETS) as off, _temporary(root, IDS) as ids:  # fmt: skip
            _allocate(sig, np.uint32, (documents, step.config.num_perm))
            _allocate(sh, np.uint32, (shingles,))
            _allocate(off, np.int64, (documents + 1,))
            files = {SIGNATURES: str(sig), SHINGLES: str(sh), OFFSETS: str(off), "parts": str(parts)}
            shards.map_batches(
                partial(_write_shard, out_dir, step, index, files, layout), batch_format="pyarrow", batch_size=1
            ).materialize()
            _merge_ids(parts, ids)
            for tmp, name in ((sig, SIGNATURES), (sh, SHINGLES), (off, OFFSETS), (ids, IDS)):
                _commit(tmp, root / name)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    config = step.config.to_mapping()
    write_json_atomic(root / MANIFEST, {"config": config, "documents": documents})
