"""Large-star / small-star connected components on Ray agree with union-find."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sciprep.cleaning.distributed import connected_components
from sciprep.cleaning.distributed.components import EDGE_SCHEMA
from sciprep.cleaning.distributed.shuffle import data_context


def _union_find_roots(edges: list[tuple[int, int]]) -> dict[int, int]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def _ray_roots(edges: list[tuple[int, int]]) -> dict[int, int]:
    import ray.data

    hi = [max(a, b) for a, b in edges]
    lo = [min(a, b) for a, b in edges]
    with data_context():
        ds = ray.data.from_arrow(pa.table({"hi": hi, "lo": lo}, schema=EDGE_SCHEMA))
        labels = connected_components(ds).take_all()
    roots = {r["node"]: r["root"] for r in labels}
    assert len(roots) == len(labels), "every node is labelled once"
    return roots


#: Node ids as the decision phase makes them: negative (reference store) and sparse large ones.
_IDS = st.lists(st.integers(-(2**40), 2**50), min_size=2, max_size=24, unique=True)


@st.composite
def _graphs(draw: Any) -> list[tuple[int, int]]:
    ids = draw(_IDS)
    index = st.integers(0, len(ids) - 1)
    pairs = draw(st.lists(st.tuples(index, index).filter(lambda p: p[0] != p[1]), min_size=1, max_size=40))
    return [(ids[a], ids[b]) for a, b in pairs]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edges=_graphs())
def test_components_match_union_find_on_random_graphs(ray_local: Any, edges: list[tuple[int, int]]) -> None:
    assert _ray_roots(edges) == _union_find_roots(edges)


def test_a_long_chain_collapses_to_its_smallest_node(ray_local: Any) -> None:
    rng = np.random.default_rng(0)
    order = rng.permutation(200).tolist()
    edges = [(order[k], order[k + 1]) for k in range(199)]
    assert _ray_roots(edges) == dict.fromkeys(range(200), 0)


def test_components_refuse_to_loop_forever(ray_local: Any) -> None:
    import ray.data

    with data_context(), pytest.raises(RuntimeError, match="did not converge in 1 rounds"):
        ds = ray.data.from_arrow(pa.table({"hi": [1, 2, 3], "lo": [0, 1, 2]}, schema=EDGE_SCHEMA))
        connected_components(ds, max_rounds=1)
