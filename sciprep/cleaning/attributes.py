"""Stored step attributes: ``OUT/attributes/<step label>/<input shard stem>.parquet``.

Each file holds one row per document that reached the step in that input shard, plus
rows kept from earlier runs for documents of the shard that stopped before the step
this time (so a stricter-then-relaxed threshold does not recompute them): ``id``,
``position`` (row in the input shard), ``text_hash`` (of the text the step saw) and
the step's attribute columns. Readers select the documents alive at the step by
position; rows of other documents are ignored. The step's tag fingerprint is stored in the
Parquet schema metadata; a row is reused only when fingerprint, id and text hash all
match, so a stale attribute can never be applied to changed text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.atomicio import atomic_path
from sciprep.cleaning.steps.base import Step

ATTRIBUTES_DIR = "attributes"
_FINGERPRINT_KEY = b"sciprep.tag_fingerprint"
_KEY_FIELDS = [("id", pa.string()), ("position", pa.int64()), ("text_hash", pa.string())]


def text_hash(text: str) -> str:
    """Short content hash of the exact text a step saw."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def attribute_schema(step: Step) -> pa.Schema:
    """Full stored schema of ``step``: key columns, then its attributes, with its fingerprint."""
    fields = [pa.field(n, t) for n, t in _KEY_FIELDS] + list(step.attributes)
    return pa.schema(fields, metadata={_FINGERPRINT_KEY: step.tag_fingerprint().encode()})


def attribute_path(out_dir: Path, step: Step, shard_stem: str) -> Path:
    return out_dir / ATTRIBUTES_DIR / step.label / f"{shard_stem}.parquet"


def stores_attributes(step: Step) -> bool:
    """Steps without attribute columns (pure transforms) store nothing."""
    return len(step.attributes) > 0


def load_cached(out_dir: Path, step: Step, shard_stem: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{doc id: (text_hash, attributes)}`` from a previous run, if its fingerprint matches."""
    path = attribute_path(out_dir, step, shard_stem)
    if not stores_attributes(step) or not path.exists():
        return {}
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    if meta.get(_FINGERPRINT_KEY) != step.tag_fingerprint().encode():
        return {}
    if [f.name for f in table.schema] != [f.name for f in attribute_schema(step)]:
        return {}
    names = [f.name for f in step.attributes]
    cached: dict[str, tuple[str, dict[str, Any]]] = {}
    for row in table.to_pylist():
        cached[row["id"]] = (row["text_hash"], {n: row[n] for n in names})
    return cached


def write_attributes(out_dir: Path, step: Step, shard_stem: str, rows: Sequence[dict[str, Any]]) -> None:
    """Write one shard's attribute rows atomically (key columns + attribute columns)."""
    schema = attribute_schema(step)
    try:
        table = pa.Table.from_pylist(list(rows), schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise TypeError(
            f"cleaning step {step.label!r}: tag() returned values that do not fit its "
            f"declared attributes {step.attributes}: {err}"
        ) from err
    with atomic_path(attribute_path(out_dir, step, shard_stem)) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_attribute_table(out_dir: Path, step: Step, shard_stems: Sequence[str]) -> pa.Table:
    """All shards' attribute rows of ``step`` with a ``shard`` column, in corpus order."""
    schema = attribute_schema(step)
    tables = []
    for stem in shard_stems:
        path = attribute_path(out_dir, step, stem)
        table = pq.read_table(path, schema=schema) if path.exists() else schema.empty_table()
        shard_col = pa.array([stem] * table.num_rows, type=pa.string())
        tables.append(table.add_column(1, "shard", shard_col))
    if not tables:
        empty = schema.empty_table()
        return empty.add_column(1, "shard", pa.array([], type=pa.string()))
    return pa.concat_tables(tables)
