"""Near-dup clusters on Ray: components of the verified edges, then the keep rule per cluster.

Connected components of the accepted edges give the clusters. A shuffle by node
attaches its cluster to every member (with its id and keep priority) and to every
edge (by its smaller node); a shuffle by cluster then decides each one on its own
machine, exactly as :func:`~sciprep.cleaning.near_duplicates.cluster` does:

* the kept document is the member with the lowest ``(priority, node)``: reference
  documents first, then ``source_priority``, then corpus order;
* a member's score is the largest Jaccard of the edges Kruskal's rule takes from the
  cluster's edges in the order (most signature agreement, smaller node, larger node):
  the edges the local union-find would have united on.

One record per removed document comes back to the driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from sciprep.cleaning.distributed.components import LABEL_SCHEMA, connected_components
from sciprep.cleaning.distributed.near import DOC_SCHEMA, document_info
from sciprep.cleaning.distributed.shuffle import cogroup, group_apply
from sciprep.cleaning.distributed.verify import EDGE_SCHEMA

if TYPE_CHECKING:
    from ray.data import Dataset

_INFO_SCHEMA = pa.schema([DOC_SCHEMA.field("node"), DOC_SCHEMA.field("id"), DOC_SCHEMA.field("priority")])
_KEYED_EDGE_SCHEMA = pa.schema([("node", pa.int64()), *(f for f in EDGE_SCHEMA if f.name != "lo")])
#: kind 0 = member (node, id, priority), 1 = edge (node = lo, other = hi, matches, jaccard).
_CLUSTERED_SCHEMA = pa.schema(
    [("kind", pa.int8()), ("root", pa.int64()), ("node", pa.int64()), ("other", pa.int64()), ("id", pa.string()),
     ("priority", pa.int64()), ("matches", pa.int64()), ("jaccard", pa.float64())]
)  # fmt: skip
REMOVAL_SCHEMA = pa.schema([("node", pa.int64()), ("reason", pa.string()), ("score", pa.float64())])


def _keyed_edges(table: pa.Table) -> pa.Table:
    return table.rename_columns(["node", "hi", "matches", "jaccard"]).select(_KEYED_EDGE_SCHEMA.names)


def _cluster_rows(tables: list[pa.Table]) -> pa.Table:
    labels, info, edges = tables
    root_of = dict(zip(labels.column("node").to_pylist(), labels.column("root").to_pylist()))
    rows: list[dict[str, Any]] = []
    for r in info.to_pylist():
        if r["node"] in root_of:
            rows.append({"kind": 0, "root": root_of[r["node"]], "node": r["node"], "id": r["id"],
                         "priority": r["priority"]})  # fmt: skip
    for r in edges.to_pylist():
        rows.append({"kind": 1, "root": root_of[r["node"]], "node": r["node"], "other": r["hi"],
                     "matches": r["matches"], "jaccard": r["jaccard"]})  # fmt: skip
    return pa.Table.from_pylist(rows, schema=_CLUSTERED_SCHEMA)


def _decide(table: pa.Table) -> pa.Table:
    members: dict[int, list[dict[str, Any]]] = {}
    edges: dict[int, list[dict[str, Any]]] = {}
    for r in table.to_pylist():
        (members if r["kind"] == 0 else edges).setdefault(r["root"], []).append(r)
    out: dict[str, list[Any]] = {"node": [], "reason": [], "score": []}
    for root in sorted(members):
        group = members[root]
        keeper = min(group, key=lambda r: (r["priority"], r["node"]))
        score = _spanning_scores(edges.get(root, []))
        where = "the reference corpus's " if keeper["node"] < 0 else ""
        for r in group:
            if r["node"] == keeper["node"] or r["node"] < 0:
                continue
            value = score[r["node"]]
            out["node"].append(r["node"])
            out["reason"].append(
                f"near duplicate of {where}{keeper['id']} (verified Jaccard {value:.3f}; cluster of {len(group)})"
            )
            out["score"].append(round(value, 6))
    return pa.table(out, schema=REMOVAL_SCHEMA)


def _spanning_scores(edges: list[dict[str, Any]]) -> dict[int, float]:
    """Largest Jaccard per node over the edges Kruskal's rule unites, in the local order."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    score: dict[int, float] = {}
    for e in sorted(edges, key=lambda e: (-e["matches"], e["node"], e["other"])):
        a, b = find(e["node"]), find(e["other"])
        if a == b:
            continue
        parent[max(a, b)] = min(a, b)
        for node in (e["node"], e["other"]):
            score[node] = max(score.get(node, 0.0), e["jaccard"])
    return score


def near_removals(docs: Dataset, edges: Dataset, n_edges: int, parts: int) -> list[dict[str, Any]]:
    """``[{node, reason, score}]`` for every corpus document a cluster does not keep."""
    labels = connected_components(edges.map_batches(_as_component_edges, batch_format="pyarrow"), n_edges)
    info = docs.map_batches(document_info, batch_format="pyarrow", batch_size=None)
    keyed = edges.map_batches(_keyed_edges, batch_format="pyarrow", batch_size=None)
    clustered = cogroup([labels, info, keyed], [LABEL_SCHEMA, _INFO_SCHEMA, _KEYED_EDGE_SCHEMA], "node",
                        _cluster_rows, parts)  # fmt: skip
    return group_apply(clustered, ["root"], _decide, parts).take_all()


def _as_component_edges(table: pa.Table) -> pa.Table:
    return pa.table({"hi": table.column("hi"), "lo": table.column("lo")})
