"""Sources with several inputs: one task per input, then one merge into the source's shards.

Each input task reads its file with :func:`~sciprep.corpus.reading.read_input` and writes
``<parts>/<NNNNNN>.parquet`` (its documents, in reader order) and then
``<parts>/<NNNNNN>.json`` (its counts and rejects, with the build fingerprint): a rerun
skips every input whose summary matches. The merge streams the parts in input order
through the same :class:`~sciprep.corpus.shards.ShardWriter` a one-task source uses, so
the shards, rejects and counts are byte for byte those of reading the inputs one after
another in one process.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.atomicio import atomic_path, write_json_atomic
from sciprep.corpus.document import DOCUMENT_SCHEMA, Document
from sciprep.corpus.reading import BoundReader, SourceTally, read_input
from sciprep.corpus.recipe import SourceSpec
from sciprep.corpus.shards import Reject, ShardWriter

_BATCH_ROWS = 1024


def part_paths(parts_dir: Path, index: int) -> tuple[Path, Path]:
    """The documents file and the summary of input ``index`` of a source."""
    return parts_dir / f"{index:06d}.parquet", parts_dir / f"{index:06d}.json"


def read_part(
    spec: SourceSpec, path: Path, base_dir: Path, parts_dir: Path, index: int, fingerprint: str
) -> dict[str, Any]:
    """Read input ``index`` of ``spec`` into its part files (skipped if already there);
    return its summary: ``fingerprint``, ``tally`` and ``rejects``."""
    documents, summary_path = part_paths(parts_dir, index)
    if summary_path.exists() and documents.exists():
        summary: dict[str, Any] = json.loads(summary_path.read_text(encoding="utf-8"))
        if summary.get("fingerprint") == fingerprint:
            return summary
    tally = SourceTally()
    rejects: list[Reject] = []
    bound: dict[str, BoundReader] = {}
    with atomic_path(documents) as tmp, pq.ParquetWriter(tmp, DOCUMENT_SCHEMA, compression="zstd") as writer:
        rows: list[dict[str, Any]] = []

        def emit(doc: Document) -> None:
            rows.append(doc.to_row())
            if len(rows) >= _BATCH_ROWS:
                writer.write_table(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA))
                rows.clear()

        read_input(spec, path, base_dir, bound, tally, rejects, emit)
        writer.write_table(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA))
    summary = {"fingerprint": fingerprint, "tally": tally.to_json(), "rejects": [asdict(r) for r in rejects]}
    write_json_atomic(summary_path, summary)
    return summary


def merge_parts(
    out: Path, spec: SourceSpec, parts_dir: Path, count: int, shard_max_docs: int, shard_max_bytes: int
) -> tuple[dict[str, Any], list[Reject]]:
    """The shards of ``spec`` from its ``count`` parts, in input order; its entry and rejects.

    A shard already on disk (a merge interrupted after writing it) is not rewritten.
    Raises FileNotFoundError if a part is missing (its input task has not run).
    """
    writer = ShardWriter(out, spec.name, shard_max_docs, shard_max_bytes)
    tally = SourceTally()
    rejects: list[Reject] = []
    for index in range(count):
        documents, summary_path = part_paths(parts_dir, index)
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        tally.absorb(SourceTally.from_json(summary["tally"]))
        rejects.extend(Reject(**r) for r in summary["rejects"])
        for batch in pq.ParquetFile(documents).iter_batches(batch_size=_BATCH_ROWS):
            for row in batch.to_pylist():
                writer.add(Document.from_row(row))
    return tally.entry(spec, writer.close()), rejects


def remove_parts(parts_dirs: Sequence[Path]) -> None:
    """Delete part folders (after their source's marker is written, or when stale)."""
    for folder in parts_dirs:
        if folder.is_dir():
            shutil.rmtree(folder)
