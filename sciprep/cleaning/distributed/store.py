"""The kept documents' signature store, written from Ray tasks' part files.

Same files, same bytes as :func:`~sciprep.cleaning.signature_store.save_signature_store`
on the local path (``OUT/signatures/<label>/``), without any file being written by two
processes at once (shared filesystems such as NFS do not keep concurrent writers to one
file apart):

1. each shard's task writes its kept documents' signatures, shingle counts, shingles and
   ids to part files of its own, atomically (a retried task rewrites the same bytes);
2. the driver concatenates the parts, in shard order, into the store's files: one
   sequential stream per file, one shard's rows in memory at a time;
3. files are renamed into place and ``minhash.json`` is written last, so an interrupted
   write never looks complete. Leftovers of an interrupted write (the parts folder,
   temporary files) are removed when the store is next written.

The output directory must be on storage every Ray node sees (as for the whole run).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sciprep.atomicio import atomic_path, write_json_atomic
from sciprep.cleaning.distributed.alive import alive_attributes, alive_positions, shard_dataset
from sciprep.cleaning.signature_store import IDS, MANIFEST, OFFSETS, SHINGLES, SIGNATURES
from sciprep.cleaning.steps.near_dedup import NearDedup

_PARTS_DIR = ".parts"
_ID_SCHEMA = pa.schema([("id", pa.string())])
#: Rows per row group of ``ids.parquet``: pyarrow's default, so the file matches the local one.
_ID_ROW_GROUP = 1024 * 1024


def _part(parts: Path, index: int, what: str) -> Path:
    return parts / f"{index:09d}.{what}"


def _save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def _write_part(out_dir: Path, step: NearDedup, index: int, parts: str, batch: pa.Table) -> pa.Table:
    """Ray task: one shard's kept rows into its own part files; returns an empty table."""
    row = batch.to_pylist()[0]
    positions = alive_positions(out_dir, row["stem"], row["stopped"] or [], step, index)
    kept = alive_attributes(out_dir, step, row["stem"], positions, ["id", "signature", "shingles"])
    folder, shard = Path(parts), row["index"]
    shingles = kept.column("shingles").combine_chunks()
    signatures = kept.column("signature").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    sizes = pc.fill_null(pc.list_value_length(shingles), 0).to_numpy(zero_copy_only=False)
    values = shingles.flatten().to_numpy(zero_copy_only=False)
    signatures = signatures.astype(np.uint32).reshape(kept.num_rows, step.config.num_perm)
    _save_npy(_part(folder, shard, "signatures.npy"), signatures)
    _save_npy(_part(folder, shard, "sizes.npy"), sizes.astype(np.int64))
    _save_npy(_part(folder, shard, "shingles.npy"), values.astype(np.uint32))
    with atomic_path(_part(folder, shard, "ids.parquet")) as tmp:
        pq.write_table(kept.select(["id"]).cast(_ID_SCHEMA), tmp)
    return batch.slice(0, 0)


def _npy_header(fh: BinaryIO, dtype: type, shape: tuple[int, ...]) -> None:
    """The header ``np.save`` writes for an array of ``dtype`` and ``shape``."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(fh, header)


def _concatenate(parts: Path, indices: Sequence[int], root: Path, num_perm: int) -> int:
    """Write the store's four files from the parts of shards ``indices``; the document count."""
    sizes = [np.load(_part(parts, i, "sizes.npy"), allow_pickle=False) for i in indices]
    documents = sum(s.size for s in sizes)
    shingles = int(sum(int(s.sum()) for s in sizes))
    with atomic_path(root / OFFSETS) as tmp, open(tmp, "wb") as fh:
        _npy_header(fh, np.int64, (documents + 1,))
        base = np.int64(0)
        fh.write(np.zeros(1, np.int64).tobytes())
        for s in sizes:
            ends = base + np.cumsum(s, dtype=np.int64)
            fh.write(ends.tobytes())
            base = ends[-1] if ends.size else base
    for name, what, dtype, shape in (
        (SIGNATURES, "signatures.npy", np.uint32, (documents, num_perm)),
        (SHINGLES, "shingles.npy", np.uint32, (shingles,)),
    ):
        with atomic_path(root / name) as tmp, open(tmp, "wb") as fh:
            _npy_header(fh, dtype, shape)
            for i in indices:
                fh.write(np.ascontiguousarray(np.load(_part(parts, i, what), allow_pickle=False)).tobytes())
    with atomic_path(root / IDS) as tmp:
        _concatenate_ids([_part(parts, i, "ids.parquet") for i in indices], tmp, documents)
    return documents


def _concatenate_ids(files: Sequence[Path], target: Path, total: int) -> None:
    """The shards' id files, in shard order, as one ``ids.parquet`` laid out as pyarrow would."""
    if total == 0:
        pq.write_table(_ID_SCHEMA.empty_table(), target)
        return
    buffer: list[pa.Table] = []
    buffered = 0
    with pq.ParquetWriter(target, _ID_SCHEMA) as writer:
        for part in files:
            table = pq.read_table(part).cast(_ID_SCHEMA)
            buffer.append(table)
            buffered += table.num_rows
            while buffered >= _ID_ROW_GROUP:
                merged = pa.concat_tables(buffer).combine_chunks()
                writer.write_table(merged.slice(0, _ID_ROW_GROUP))
                buffer = [merged.slice(_ID_ROW_GROUP)]
                buffered -= _ID_ROW_GROUP
        if buffered:
            writer.write_table(pa.concat_tables(buffer).combine_chunks())


def _remove_leftovers(root: Path) -> None:
    """Delete what an interrupted write left: the parts folder and temporary files."""
    shutil.rmtree(root / _PARTS_DIR, ignore_errors=True)
    for name in (SIGNATURES, SHINGLES, OFFSETS, IDS, MANIFEST):
        for tmp in root.glob(f".{name}.*.tmp"):
            tmp.unlink(missing_ok=True)
    for legacy in root.glob(".ids-parts.*"):  # the parts folders of earlier versions
        shutil.rmtree(legacy, ignore_errors=True)


def write_kept_store(out_dir: Path, step: NearDedup, index: int, items: list[dict[str, Any]], root: Path) -> None:
    """Write the store of the documents alive at step ``index`` that no decision stopped.

    ``items`` are :func:`~sciprep.cleaning.distributed.alive.shard_items` rows whose
    stopped positions include this step's removals.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / MANIFEST).unlink(missing_ok=True)
    _remove_leftovers(root)
    parts = root / _PARTS_DIR
    parts.mkdir()
    try:
        shard_dataset(items).map_batches(
            partial(_write_part, out_dir, step, index, str(parts)), batch_format="pyarrow", batch_size=1
        ).materialize()
        documents = _concatenate(parts, [item["index"] for item in items], root, step.config.num_perm)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    write_json_atomic(root / MANIFEST, {"config": step.config.to_mapping(), "documents": documents})
