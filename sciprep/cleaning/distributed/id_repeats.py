"""Repeated document ids on Ray: a shuffle keyed by id; the first occurrence wins.

Every staged document takes part (as locally, also those a document step already
stopped). Rows meet by id; within an id the smallest node, i.e. the first in (shard
order, position), is the one kept, and every later one is rejected naming it. Only the
rejected documents come back to the driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sciprep.cleaning.distributed.alive import shard_dataset, shard_items
from sciprep.cleaning.distributed.shuffle import (
    corpus_nodes,
    group_apply,
    node_key,
    partition_count,
)
from sciprep.cleaning.tagpass import staged_path

_ID_SCHEMA = pa.schema([("id", pa.string()), ("node", pa.int64())])
_REPEAT_SCHEMA = pa.schema([("id", pa.string()), ("node", pa.int64()), ("first", pa.int64())])


def _read_ids(out_dir: Path, batch: pa.Table) -> pa.Table:
    row = batch.to_pylist()[0]
    staged = pq.read_table(staged_path(out_dir, row["stem"]), columns=["id", "_position"])
    nodes = corpus_nodes(row["index"], staged.column("_position").to_numpy())
    return pa.table({"id": staged.column("id"), "node": pa.array(nodes, pa.int64())}, schema=_ID_SCHEMA)


def _repeats(table: pa.Table) -> pa.Table:
    if table.num_rows < 2:
        return _REPEAT_SCHEMA.empty_table()
    ordered = table.sort_by([("id", "ascending"), ("node", "ascending")])
    ids = ordered.column("id")
    nodes = ordered.column("node").to_numpy()
    same = np.asarray(pc.equal(ids.slice(1), ids.slice(0, ids.length() - 1)), dtype=bool)
    later = np.concatenate(([False], same))
    if not later.any():
        return _REPEAT_SCHEMA.empty_table()
    starts = np.flatnonzero(~later)
    first = nodes[starts[np.searchsorted(starts, np.arange(nodes.size), side="right") - 1]]
    return pa.table(
        {"id": ids.filter(pa.array(later)), "node": nodes[later], "first": first[later]}, schema=_REPEAT_SCHEMA
    )


def repeated_ids(out_dir: Path, stems: Sequence[str]) -> list[tuple[tuple[str, int], str]]:
    """``[((stem, position), reason)]`` for every occurrence of an id after its first."""
    shards = shard_dataset(shard_items(stems, {}))
    rows = shards.map_batches(partial(_read_ids, out_dir), batch_format="pyarrow", batch_size=1).materialize()
    count = rows.count()
    if count == 0:
        return []
    found = group_apply(rows, ["id"], _repeats, partition_count(count)).take_all()
    return [_rejection(stems, r) for r in found]


def _rejection(stems: Sequence[str], row: dict[str, Any]) -> tuple[tuple[str, int], str]:
    shard, position = node_key(stems, row["first"])
    return node_key(stems, row["node"]), f"document id {row['id']!r} repeats the one at {shard} row {position}"
