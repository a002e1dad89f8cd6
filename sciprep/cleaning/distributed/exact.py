"""Exact dedup (step ``exact_dedup``) on Ray, deciding exactly as the local step does.

1. Each shard's task reads its alive documents' stored hashes and identifiers and
   emits one row per grouping key (``c:<content hash>``, ``i:<identifier>``).
2. A shuffle keyed by that key links every later holder of a key to its first holder
   (star edges) and records, for every document, when locally it would first have been
   seen joining ("how it joined": the label of the key of that event).
3. Connected components over the star edges give the groups (content and identifier
   matches closed transitively, as the local union-find does).
4. A shuffle by node attaches each member's attributes and join label to its group; a
   shuffle by group decides each group with :meth:`ExactDedup.resolve_group`.

Only removals and the kept copies' identifier updates reach the driver.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from sciprep.cleaning.distributed.alive import read_alive
from sciprep.cleaning.distributed.components import EDGE_SCHEMA, LABEL_SCHEMA, connected_components
from sciprep.cleaning.distributed.shuffle import cogroup, group_apply, partition_count, rows_of
from sciprep.cleaning.steps.exact_dedup import ExactDedup

if TYPE_CHECKING:
    from ray.data import Dataset

_ATTRIBUTES = ["id", "content_hash", "identifiers", "kind", "source", "n_references", "n_bytes"]
_ROW_SCHEMA = pa.schema(
    [("node", pa.int64()), ("id", pa.string()), ("content_hash", pa.string()), ("identifiers", pa.list_(pa.string())),
     ("kind", pa.string()), ("source", pa.string()), ("n_references", pa.int32()), ("n_bytes", pa.int64())]
)  # fmt: skip
_KEY_SCHEMA = pa.schema([("key", pa.string()), ("node", pa.int64()), ("pos", pa.int32()), ("label", pa.string())])
#: Key-shuffle output: kind 0 = star edge (node = later holder, other = first holder); kind 1 = join-label
#: candidate (node; its event: other = visiting document, pos = key position; label).
_LINK_SCHEMA = pa.schema(
    [("kind", pa.int8()), ("node", pa.int64()), ("other", pa.int64()), ("pos", pa.int32()), ("label", pa.string())]
)
_WHY_SCHEMA = pa.schema([("node", pa.int64()), ("other", pa.int64()), ("pos", pa.int32()), ("label", pa.string())])
_MEMBER_SCHEMA = pa.schema([("root", pa.int64()), *_ROW_SCHEMA, ("why", pa.string())])
OUTCOME_SCHEMA = pa.schema(
    [("node", pa.int64()), ("id", pa.string()), ("reason", pa.string()), ("fields", pa.string())]
)


def _read_rows(out_dir: Path, step: ExactDedup, index: int, batch: pa.Table) -> pa.Table:
    table = read_alive(out_dir, step, index, _ATTRIBUTES, batch.to_pylist()[0])
    return table.select(_ROW_SCHEMA.names).cast(_ROW_SCHEMA)


def _keys(step: ExactDedup, table: pa.Table) -> pa.Table:
    """One row per (document, grouping key), in the order the local step visits keys."""
    p = step.params
    out: dict[str, list[Any]] = {"key": [], "node": [], "pos": [], "label": []}
    for row in table.select(["node", "content_hash", "identifiers", "kind"]).to_pylist():
        keys = []
        if p.by_content:
            keys.append(("content", "c:" + row["content_hash"]))
        if p.by_identifier and row["kind"] not in p.identifier_exempt_kinds:
            keys.extend(("identifier " + k, "i:" + k) for k in row["identifiers"])
        for pos, (label, key) in enumerate(keys):
            out["key"].append(key)
            out["node"].append(row["node"])
            out["pos"].append(pos)
            out["label"].append(label)
    return pa.table(out, schema=_KEY_SCHEMA)


def _link(table: pa.Table) -> pa.Table:
    """Star edges from each key's first holder, and each holder's join-label candidates.

    Locally a document's join label is set by the first event involving it, events
    ordered by (visiting document, key position): as a later holder, its own visit of
    the key; as the first holder, the visit by the key's second holder.
    """
    ordered = table.sort_by([("key", "ascending"), ("node", "ascending")]).to_pylist()
    out: dict[str, list[Any]] = {"kind": [], "node": [], "other": [], "pos": [], "label": []}

    def emit(kind: int, node: int, other: int, pos: int, label: str) -> None:
        for name, value in zip(("kind", "node", "other", "pos", "label"), (kind, node, other, pos, label)):
            out[name].append(value)

    start = 0
    while start < len(ordered):
        end = start
        while end < len(ordered) and ordered[end]["key"] == ordered[start]["key"]:
            end += 1
        if end - start > 1:
            first, second = ordered[start], ordered[start + 1]
            emit(1, first["node"], second["node"], second["pos"], first["label"])
            for row in ordered[start + 1 : end]:
                emit(0, row["node"], first["node"], 0, "")
                emit(1, row["node"], row["node"], row["pos"], row["label"])
        start = end
    return pa.table(out, schema=_LINK_SCHEMA)


def _as_edges(table: pa.Table) -> pa.Table:
    return pa.table({"hi": table.column("node"), "lo": table.column("other")}, schema=EDGE_SCHEMA)


def _members(tables: list[pa.Table]) -> pa.Table:
    """Each grouped document's attributes, group root and join label (first event wins)."""
    labels, why, rows = tables
    root_of = dict(zip(labels.column("node").to_pylist(), labels.column("root").to_pylist()))
    first_event: dict[int, tuple[int, int, str]] = {}
    for node, other, pos, label in zip(*(why.column(c).to_pylist() for c in ("node", "other", "pos", "label"))):
        event = (other, pos, label)
        if node not in first_event or event < first_event[node]:
            first_event[node] = event
    members = [
        {"root": root_of[r["node"]], **r, "why": first_event.get(r["node"], (0, 0, "group"))[2]}
        for r in rows.to_pylist()
        if r["node"] in root_of
    ]
    return pa.Table.from_pylist(members, schema=_MEMBER_SCHEMA)


def _decide_groups(step: ExactDedup, table: pa.Table) -> pa.Table:
    out: dict[str, list[Any]] = {"node": [], "id": [], "reason": [], "fields": []}
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in table.sort_by([("root", "ascending"), ("node", "ascending")]).to_pylist():
        row["order"] = row["node"]
        groups.setdefault(row["root"], []).append(row)
    for rows in groups.values():
        node_of = {r["id"]: r["node"] for r in rows}
        removed, updates = step.resolve_group(rows, [r["why"] for r in rows])
        for doc_id, decision in removed.items():
            for name, value in zip(out, (node_of[doc_id], doc_id, decision.reason, None)):
                out[name].append(value)
        for doc_id, fields in updates.items():
            for name, value in zip(out, (node_of[doc_id], doc_id, None, json.dumps(fields, sort_keys=True))):
                out[name].append(value)
    return pa.table(out, schema=OUTCOME_SCHEMA)


def decide_exact(out_dir: Path, step: ExactDedup, index: int, shards: Dataset) -> list[dict[str, Any]]:
    """Removals (``reason`` set) and identifier updates (``fields`` JSON) as small records."""
    rows = shards.map_batches(
        partial(_read_rows, out_dir, step, index), batch_format="pyarrow", batch_size=1
    ).materialize()
    keys = rows.map_batches(partial(_keys, step), batch_format="pyarrow", batch_size=None).materialize()
    n_keys = keys.count()
    if n_keys == 0:
        return []
    parts = partition_count(n_keys)
    links = group_apply(keys, ["key"], _link, parts).materialize()
    edges = rows_of(links, "kind", 0).map_batches(_as_edges, batch_format="pyarrow")
    n_edges = edges.count()
    if n_edges == 0:
        return []
    labels = connected_components(edges, n_edges)
    why = rows_of(links, "kind", 1)
    members = cogroup(
        [labels, why, rows], [LABEL_SCHEMA, _WHY_SCHEMA, _ROW_SCHEMA], "node", _members, parts
    ).materialize()
    return group_apply(members, ["root"], partial(_decide_groups, step), parts).take_all()
