"""Which documents are alive at a corpus step, read shard by shard inside Ray tasks.

The same rule as :func:`sciprep.cleaning.corpus_decisions.resolve_corpus_decisions`: a
document is alive at step ``index`` when no earlier corpus decision stopped it, the
tag pass did not stop it before this step, and the step applies to its kind. Each
shard's task reads only that shard's staged columns and attribute file; the decisions
taken so far reach it as the positions stopped in that shard (one list per shard,
carried in the shard's own row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sciprep.cleaning.attributes import attribute_path, attribute_schema
from sciprep.cleaning.corpus_decisions import Key
from sciprep.cleaning.distributed.shuffle import SHARD_SHIFT, corpus_nodes
from sciprep.cleaning.steps.base import Step
from sciprep.cleaning.tagpass import staged_path

if TYPE_CHECKING:
    from ray.data import Dataset

COUNT_SCHEMA = pa.schema([("alive", pa.int64()), ("covered", pa.int64())])


def shard_items(stems: Sequence[str], stopped: Mapping[Key, Any]) -> list[dict[str, Any]]:
    """One row per input shard: its stem, index and the positions already stopped in it."""
    if len(stems) > 1 << (63 - SHARD_SHIFT):
        raise ValueError(f"{len(stems)} input shards: the decisions on Ray number at most {1 << (63 - SHARD_SHIFT)}")
    by_shard: dict[str, list[int]] = {stem: [] for stem in stems}
    for stem, position in stopped:
        by_shard[stem].append(position)
    return [{"stem": stem, "index": n, "stopped": sorted(by_shard[stem])} for n, stem in enumerate(stems)]


def shard_dataset(items: list[dict[str, Any]]) -> Dataset:
    """The shard rows as a Dataset with one block per shard, so every shard is its own task."""
    import ray.data

    return ray.data.from_items(items, override_num_blocks=max(1, len(items)))


def alive_positions(out_dir: Path, stem: str, stopped: Sequence[int], step: Step, index: int) -> np.ndarray:
    """Positions, in the shard, of the documents alive at step ``index`` (sorted)."""
    staged = pq.read_table(staged_path(out_dir, stem), columns=["kind", "_position", "_stop_index"])
    stop = pc.fill_null(staged.column("_stop_index").cast(pa.int64()), np.iinfo(np.int64).max).to_numpy()
    kinds = staged.column("kind").to_pylist()
    applies = {kind: step.applies_to(kind) for kind in set(kinds)}
    mask = (stop > index) & np.fromiter((applies[k] for k in kinds), dtype=bool, count=len(kinds))
    positions = staged.column("_position").to_numpy()[mask]
    return np.setdiff1d(positions, np.asarray(stopped, dtype=np.int64))


def alive_attributes(out_dir: Path, step: Step, stem: str, positions: np.ndarray, columns: Sequence[str]) -> pa.Table:
    """Attribute rows (``columns``, file order) of the documents at ``positions``."""
    path = attribute_path(out_dir, step, stem)
    schema = attribute_schema(step)
    wanted = list(dict.fromkeys(["position", *columns]))
    if not path.exists():
        return schema.empty_table().select(wanted)
    table = pq.read_table(path, schema=schema, columns=wanted)
    return table.filter(pc.is_in(table.column("position"), pa.array(positions, pa.int64())))


def _count_shard(out_dir: Path, step: Step, index: int, batch: pa.Table) -> pa.Table:
    row = batch.to_pylist()[0]
    positions = alive_positions(out_dir, row["stem"], row["stopped"] or [], step, index)
    covered = alive_attributes(out_dir, step, row["stem"], positions, []).num_rows
    return pa.table({"alive": [positions.size], "covered": [covered]}, schema=COUNT_SCHEMA)


def check_coverage(out_dir: Path, step: Step, index: int, shards: Dataset) -> None:
    """Raise, as the local path does, when stored attributes miss documents alive at the step.

    One small count per shard reaches the driver.
    """
    counts = shards.map_batches(partial(_count_shard, out_dir, step, index), batch_format="pyarrow", batch_size=1)
    rows = counts.take_all()
    alive, covered = sum(r["alive"] for r in rows), sum(r["covered"] for r in rows)
    if covered != alive:
        raise RuntimeError(
            f"cleaning step {step.label!r}: stored attributes cover {covered} of "
            f"{alive} documents alive at this step; the output directory is inconsistent"
        )


def read_alive(out_dir: Path, step: Step, index: int, columns: Sequence[str], row: dict[str, Any]) -> pa.Table:
    """One shard's alive attribute rows (``columns``) with a ``node`` column."""
    positions = alive_positions(out_dir, row["stem"], row["stopped"] or [], step, index)
    table = alive_attributes(out_dir, step, row["stem"], positions, columns)
    nodes = corpus_nodes(row["index"], table.column("position").to_numpy())
    return table.append_column("node", pa.array(nodes, pa.int64()))
