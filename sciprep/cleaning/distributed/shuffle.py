"""Ray Data plumbing of the distributed decisions: node ids, key partitions, co-grouping.

Every shuffle here is Ray Data's ``groupby(...).map_groups(...)``. Rows are grouped by
a *partition* column computed from their key (a 64-bit mix of the key, modulo the
partition count), so one ``map_groups`` call receives every row of many keys and
handles them with vectorised numpy instead of one Python call per key. Rows with equal
keys always meet in one call whatever the partition count, which only sets how much
each call holds.

Documents are *nodes*: ``shard index << 40 | position`` for a document of the corpus
(so node order is corpus order), and ``index - n`` (negative) for document ``index`` of
a reference signature store of ``n`` documents (so they come first, in store order).
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sciprep.cleaning.minhash import mix64

if TYPE_CHECKING:
    from ray.data import Dataset

SHARD_SHIFT = 40
POSITION_MASK = (1 << SHARD_SHIFT) - 1
#: Rows one ``map_groups`` call should hold at most (about 16 bytes each in the big shuffles).
ROWS_PER_PARTITION = 1_000_000
_PART = "_part"
_SIDE = "_side"
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)


def corpus_nodes(shard_index: int, positions: np.ndarray) -> np.ndarray:
    """Node ids of documents at ``positions`` of input shard number ``shard_index``."""
    return (np.int64(shard_index) << np.int64(SHARD_SHIFT)) | np.asarray(positions, dtype=np.int64)


def node_shards(nodes: np.ndarray) -> np.ndarray:
    """Input shard index of each corpus node (reference nodes give negative values)."""
    return np.asarray(nodes, dtype=np.int64) >> np.int64(SHARD_SHIFT)


def node_positions(nodes: np.ndarray) -> np.ndarray:
    """Position in its input shard of each corpus node."""
    return np.asarray(nodes, dtype=np.int64) & np.int64(POSITION_MASK)


def node_key(stems: Sequence[str], node: int) -> tuple[str, int]:
    """``(input shard stem, position)`` of a corpus node."""
    return stems[int(node) >> SHARD_SHIFT], int(node) & POSITION_MASK


@contextmanager
def data_context() -> Iterator[None]:
    """Ray Data settings for these shuffles: sort-based (no aggregator actors to start),
    quiet, and failing with the task's own exception.

    Datasets copy the current context when they are created, so only the datasets built
    inside the ``with`` block use these settings. A map function's exception reaches the
    caller as Ray's task error wrapping that exception (not Ray Data's generic
    ``UserCodeException``), which :func:`~sciprep.execution.ray_executor.unwrap_task_error`
    unwraps. Ray Data's own log lines (two per execution, progress, and a copy of every
    failure, which the raised exception carries anyway) are silenced meanwhile.
    """
    from ray.data import DataContext
    from ray.data.context import ShuffleStrategy

    context = DataContext.get_current().copy()
    context.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    context.enable_progress_bars = False
    context.raise_original_map_exception = True
    logger = logging.getLogger("ray.data")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with DataContext.current(context):
            yield
    finally:
        logger.setLevel(level)


def partition_count(rows: int) -> int:
    """Partitions for a shuffle of ``rows`` rows: at least one per CPU of the cluster."""
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(cpus, math.ceil(rows / ROWS_PER_PARTITION), 1)


def mix64_copy(values: np.ndarray) -> np.ndarray:
    """SplitMix64 of 64-bit integers, as a fresh uint64 array (the input is left alone)."""
    return mix64(np.asarray(values).astype(np.int64).view(np.uint64).copy())


def key_hash(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A 64-bit hash of each value of an integer or string column (stable across processes)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return np.array([zlib.crc32(v.encode("utf-8")) for v in column.to_pylist()], dtype=np.int64)
    return column.to_numpy(zero_copy_only=False).astype(np.uint64).view(np.int64)


def _add_partition(keys: Sequence[str], parts: int, table: pa.Table) -> pa.Table:
    mixed = np.zeros(table.num_rows, np.uint64)
    for name in keys:
        mixed = mix64_copy((mixed * _MIX1).view(np.int64) ^ key_hash(table.column(name)))
    return table.append_column(_PART, pa.array((mixed % np.uint64(parts)).astype(np.int64)))


def _without_partition(fn: Callable[[pa.Table], pa.Table], table: pa.Table) -> pa.Table:
    return fn(table.drop_columns([_PART]))


def group_apply(ds: Dataset, keys: Sequence[str], fn: Callable[[pa.Table], pa.Table], parts: int) -> Dataset:
    """``fn`` over partitions of ``ds`` in which rows with equal ``keys`` are never split.

    ``fn`` gets a table with every row of the keys hashed to one partition (in no
    particular order) and returns a table; outputs are concatenated.
    """
    keyed = ds.map_batches(partial(_add_partition, list(keys), parts), batch_format="pyarrow", batch_size=None)
    return keyed.groupby(_PART).map_groups(partial(_without_partition, fn), batch_format="pyarrow")


def _conform(schema: pa.Schema, side: int, table: pa.Table) -> pa.Table:
    columns = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
        if f.name != _SIDE
    ]
    columns.append(pa.array(np.full(table.num_rows, side, np.int8)))
    return pa.Table.from_arrays(columns, schema=schema)


def _split_sides(schemas: Sequence[pa.Schema], fn: Callable[[list[pa.Table]], pa.Table], table: pa.Table) -> pa.Table:
    side = table.column(_SIDE)
    parts = []
    for n, schema in enumerate(schemas):
        rows = table.filter(pc.equal(side, np.int8(n)))
        parts.append(rows.select(schema.names).cast(schema))
    return fn(parts)


def cogroup(
    datasets: Sequence[Dataset],
    schemas: Sequence[pa.Schema],
    key: str,
    fn: Callable[[list[pa.Table]], pa.Table],
    parts: int,
) -> Dataset:
    """``fn`` over partitions holding, from every dataset, the rows of the same ``key`` values.

    Each dataset must have the schema given for it, with ``key`` among its columns
    (same type everywhere). ``fn`` receives one table per dataset, in order.
    """
    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        for f in schema:
            if f.name in fields and fields[f.name].type != f.type:
                raise TypeError(f"cogroup: column {f.name!r} has types {fields[f.name].type} and {f.type}")
            fields.setdefault(f.name, f.with_nullable(True))
    union = pa.schema([*fields.values(), pa.field(_SIDE, pa.int8())])
    conformed = [
        ds.map_batches(partial(_conform, union, n), batch_format="pyarrow", batch_size=None)
        for n, ds in enumerate(datasets)
    ]
    merged = conformed[0].union(*conformed[1:]) if len(conformed) > 1 else conformed[0]
    return group_apply(merged, [key], partial(_split_sides, list(schemas), fn), parts)


def rows_of(ds: Dataset, column: str, value: int) -> Dataset:
    """The rows of ``ds`` whose integer ``column`` equals ``value``, without that column."""

    def pick(table: pa.Table) -> pa.Table:
        return table.filter(pc.equal(table.column(column), value)).drop_columns([column])

    return ds.map_batches(pick, batch_format="pyarrow", batch_size=None)
