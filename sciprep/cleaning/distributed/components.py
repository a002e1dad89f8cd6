"""Connected components of an edge Dataset on Ray: alternating large-star / small-star.

The algorithm of Kiveris et al., "Connected Components in MapReduce and Beyond"
(SoCC 2014). Edges are kept as ``(hi, lo)`` with ``hi > lo``; each round is one
shuffle keyed by node:

* *large-star*: every node ``u`` links each larger neighbour to the smallest node of
  its neighbourhood ``m(u) = min(u, N(u))``;
* *small-star*: every node ``u`` links itself and each smaller neighbour to the
  smallest of them.

Both keep connectivity and never add edges. The graph has converged when it is a
forest of stars centred on their smallest node: every node has at most one smaller
neighbour, and a node with one has no larger neighbour. Large-star checks this on its
input (the output then equals the input) and emits each node's label at the same
time, so the last round costs nothing extra. Rounds grow like ``O(log^2 n)`` in the
worst case and are a handful in practice (chains of near-duplicates converge in about
``log2`` of their length). No node's edges ever meet on one machine except in the
partition that owns that node; the driver only reads one count per round.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sciprep.cleaning.distributed.shuffle import group_apply, partition_count, rows_of

if TYPE_CHECKING:
    from ray.data import Dataset

_log = logging.getLogger(__name__)
EDGE_SCHEMA = pa.schema([("hi", pa.int64()), ("lo", pa.int64())])
LABEL_SCHEMA = pa.schema([("node", pa.int64()), ("root", pa.int64())])
#: Large-star output: kind 0 = edge (a=hi, b=lo), 1 = label (a=node, b=root), 2 = unsettled node.
_STAR_SCHEMA = pa.schema([("kind", pa.int8()), ("a", pa.int64()), ("b", pa.int64())])
_EDGE, _LABEL, _UNSETTLED = 0, 1, 2


def unique_pairs(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``(u, v)`` pairs sorted by ``u`` then ``v``."""
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    if u.size < 2:
        return u, v
    keep = np.empty(u.size, dtype=bool)
    keep[0] = True
    keep[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return u[keep], v[keep]


def _groups(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and size of each run of equal values in sorted ``u``."""
    starts = np.flatnonzero(np.concatenate(([True], u[1:] != u[:-1]))) if u.size else np.empty(0, np.int64)
    sizes = np.diff(np.append(starts, u.size))
    return starts, sizes


def _star_table(kind: int, a: np.ndarray, b: np.ndarray) -> pa.Table:
    return pa.table(
        {"kind": pa.array(np.full(a.size, kind, np.int8)), "a": pa.array(a, pa.int64()), "b": pa.array(b, pa.int64())},
        schema=_STAR_SCHEMA,
    )


_DIRECTED_SCHEMA = pa.schema([("u", pa.int64()), ("v", pa.int64())])


def _both_directions(table: pa.Table) -> pa.Table:
    """Each edge once at each endpoint: large-star needs a node's whole neighbourhood."""
    hi, lo = table.column("hi"), table.column("lo")
    return pa.table(
        {"u": pa.concat_arrays([hi.combine_chunks(), lo.combine_chunks()]),
         "v": pa.concat_arrays([lo.combine_chunks(), hi.combine_chunks()])},
        schema=_DIRECTED_SCHEMA,
    )  # fmt: skip


def _large_star(table: pa.Table) -> pa.Table:
    u, v = unique_pairs(table.column("u").to_numpy(), table.column("v").to_numpy())
    if u.size == 0:
        return _STAR_SCHEMA.empty_table()
    starts, sizes = _groups(u)
    nodes = u[starts]
    smallest = np.minimum(np.minimum.reduceat(v, starts), nodes)
    smaller = np.add.reduceat((v < u).astype(np.int64), starts)
    larger = sizes - smaller
    unsettled = (smaller > 1) | ((smaller == 1) & (larger > 0))
    m = np.repeat(smallest, sizes)
    out = v > u
    return pa.concat_tables(
        [
            _star_table(_EDGE, v[out], m[out]),
            _star_table(_LABEL, nodes, smallest),
            _star_table(_UNSETTLED, nodes[unsettled], nodes[unsettled]),
        ]
    )


def _small_star(table: pa.Table) -> pa.Table:
    u, v = unique_pairs(table.column("hi").to_numpy(), table.column("lo").to_numpy())
    if u.size == 0:
        return EDGE_SCHEMA.empty_table()
    starts, sizes = _groups(u)
    smallest = np.repeat(np.minimum.reduceat(v, starts), sizes)
    # u itself joins its smallest neighbour; every other smaller neighbour v does too.
    nodes = np.concatenate([u[starts], v])
    targets = np.concatenate([smallest[starts], smallest])
    keep = nodes != targets
    return pa.table({"hi": nodes[keep], "lo": targets[keep]}, schema=EDGE_SCHEMA)


def _as_edges(table: pa.Table) -> pa.Table:
    return pa.table({"hi": table.column("a"), "lo": table.column("b")}, schema=EDGE_SCHEMA)


def _as_labels(table: pa.Table) -> pa.Table:
    return pa.table({"node": table.column("a"), "root": table.column("b")}, schema=LABEL_SCHEMA)


def connected_components(edges: Dataset, n_edges: int | None = None, max_rounds: int | None = None) -> Dataset:
    """``(node, root)`` for every node with an edge in ``edges`` (``hi``, ``lo`` int64 columns).

    ``root`` is the smallest node of the node's component; nodes without edges are
    absent (each is its own component). Returns a materialised Dataset.
    """
    count = edges.count() if n_edges is None else n_edges
    parts = partition_count(2 * count)
    limit = max_rounds if max_rounds is not None else 4 * (math.ceil(math.log2(count + 2)) ** 2) + 8
    current = edges
    for rounds in range(1, limit + 1):
        directed = current.map_batches(_both_directions, batch_format="pyarrow", batch_size=None)
        star = group_apply(directed, ["u"], _large_star, parts).materialize()
        if rows_of(star, "kind", _UNSETTLED).count() == 0:
            _log.debug("connected components of %d edges: %d rounds", count, rounds)
            return rows_of(star, "kind", _LABEL).map_batches(_as_labels, batch_format="pyarrow").materialize()
        large = rows_of(star, "kind", _EDGE).map_batches(_as_edges, batch_format="pyarrow")
        current = group_apply(large, ["hi"], _small_star, parts).materialize()
    raise RuntimeError(f"connected components did not converge in {limit} rounds over {count} edges")
