"""The corpus-wide decisions of a cleaning run, on Ray, identical to the local ones.

:func:`resolve_corpus_decisions_ray` has the contract and the result of
:func:`sciprep.cleaning.corpus_decisions.resolve_corpus_decisions`: same decided keys,
same reasons and scores, same metadata updates, and for ``near_dedup`` with
``write_store`` the same signature store files. Repeated ids, ``exact_dedup`` and
``near_dedup`` run as Ray Data shuffles (see the sibling modules); any other
corpus-scope step is decided on the driver with its own ``decide_corpus``, as locally.
The driver holds only the decisions: one record per stopped document and per kept
document that gains identifiers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from sciprep.cleaning.attributes import read_attribute_table
from sciprep.cleaning.corpus_decisions import (
    READ_STEP_INDEX,
    CorpusDecision,
    CorpusOutcome,
    Key,
    apply_corpus_removals,
)
from sciprep.cleaning.distributed.alive import alive_positions, check_coverage, shard_dataset, shard_items
from sciprep.cleaning.distributed.exact import decide_exact
from sciprep.cleaning.distributed.id_repeats import repeated_ids
from sciprep.cleaning.distributed.near import candidate_pairs, read_documents
from sciprep.cleaning.distributed.near_clusters import near_removals
from sciprep.cleaning.distributed.reference import open_reference
from sciprep.cleaning.distributed.shuffle import data_context, node_key, partition_count
from sciprep.cleaning.distributed.store import write_kept_store
from sciprep.cleaning.distributed.verify import verified_edges
from sciprep.cleaning.near_duplicates import check_cluster_settings
from sciprep.cleaning.steps.base import Reject, Remove, Step
from sciprep.cleaning.steps.exact_dedup import ExactDedup
from sciprep.cleaning.steps.near_dedup import NearDedup
from sciprep.execution.ray_executor import unwrap_task_error


def resolve_corpus_decisions_ray(
    out_dir: Path, stems: Sequence[str], steps: Sequence[Step], *, progress: bool = False
) -> CorpusOutcome:
    """Decisions for documents stopped by id repetition or by a corpus-scope step, on Ray.

    Needs an initialised Ray (``ray.init()``) whose workers can read ``out_dir``.
    ``progress`` shows one bar tick per corpus step.
    """
    import ray

    if not ray.is_initialized():
        raise RuntimeError("resolve_corpus_decisions_ray needs Ray: call ray.init() (or ray.init(address=...)) first")
    out_dir = Path(out_dir).absolute()  # tasks' working directory is not ours
    decided: dict[Key, CorpusDecision] = {}
    metadata: dict[Key, dict[str, str]] = {}
    corpus_steps = [(index, step) for index, step in enumerate(steps) if step.scope == "corpus"]
    try:
        _resolve(out_dir, stems, corpus_steps, decided, metadata, progress)
    except ray.exceptions.RayTaskError as err:
        # An input error inside a task (a malformed attribute) is raised as it is locally.
        cause = unwrap_task_error(err)
        raise cause from cause.__cause__
    return CorpusOutcome(decided, metadata)


def _resolve(
    out_dir: Path, stems: Sequence[str], corpus_steps: Sequence[tuple[int, Step]],
    decided: dict[Key, CorpusDecision], metadata: dict[Key, dict[str, str]], progress: bool,
) -> None:  # fmt: skip
    with data_context(), tqdm(total=1 + len(corpus_steps), desc="clean: decide (ray)", disable=not progress) as bar:
        for key, reason in repeated_ids(out_dir, stems):
            decided[key] = CorpusDecision(READ_STEP_INDEX, Reject(reason))
        bar.update()
        for index, step in corpus_steps:
            bar.set_postfix_str(step.label)
            shards = shard_dataset(shard_items(stems, decided))
            check_coverage(out_dir, step, index, shards)
            if type(step) is ExactDedup:
                _apply_exact(out_dir, stems, step, index, shards, decided, metadata)
            elif type(step) is NearDedup:
                _apply_near(out_dir, stems, step, index, shards, decided)
            else:
                _apply_on_driver(out_dir, stems, step, index, decided, metadata)
            bar.update()


def _apply_exact(
    out_dir: Path, stems: Sequence[str], step: ExactDedup, index: int, shards: Any,
    decided: dict[Key, CorpusDecision], metadata: dict[Key, dict[str, str]],
) -> None:  # fmt: skip
    records = sorted(decide_exact(out_dir, step, index, shards), key=lambda r: (r["node"], r["reason"] is None))
    for r in records:
        if r["reason"] is not None:
            decided[node_key(stems, r["node"])] = CorpusDecision(index, Remove(r["reason"], 1.0))
        else:
            metadata.setdefault(node_key(stems, r["node"]), {}).update(json.loads(r["fields"]))


def _apply_near(
    out_dir: Path, stems: Sequence[str], step: NearDedup, index: int, shards: Any,
    decided: dict[Key, CorpusDecision],
) -> None:  # fmt: skip
    p = step.params
    store = open_reference(p.reference, step.config) if p.reference is not None else None
    check_cluster_settings(p.min_jaccard, p.min_coverage, p.min_number_agreement, p.min_numeric_shingles)
    docs = read_documents(out_dir, step, index, shards, store).materialize()
    n_docs = docs.count()
    removals: list[dict[str, Any]] = []
    if n_docs:
        parts = partition_count(n_docs * step.config.bands)
        pairs = candidate_pairs(docs, step, parts).materialize()
        if pairs.count():
            edges = verified_edges(pairs, out_dir, step, stems, store, parts).materialize()
            n_edges = edges.count()
            if n_edges:
                removals = near_removals(docs, edges, n_edges, parts)
    for r in sorted(removals, key=lambda r: r["node"]):
        decided[node_key(stems, r["node"])] = CorpusDecision(index, Remove(r["reason"], r["score"]))
    if step.store_dir is not None:
        write_kept_store(out_dir, step, index, shard_items(stems, decided), step.store_dir)


def _apply_on_driver(
    out_dir: Path, stems: Sequence[str], step: Step, index: int,
    decided: dict[Key, CorpusDecision], metadata: dict[Key, dict[str, str]],
) -> None:  # fmt: skip
    """A corpus step without a distributed form: its own ``decide_corpus``, as locally."""
    stopped = shard_items(stems, decided)
    alive = {
        (row["stem"], int(p))
        for row in stopped
        for p in alive_positions(out_dir, row["stem"], row["stopped"], step, index).tolist()
    }
    table = read_attribute_table(out_dir, step, stems)
    keys = list(zip(table.column("shard").to_pylist(), table.column("position").to_pylist()))
    table = table.filter(pa.array([k in alive for k in keys], type=pa.bool_()))
    apply_corpus_removals(step, index, table, decided, metadata)
