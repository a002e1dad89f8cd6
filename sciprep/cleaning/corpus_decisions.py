"""Between the two passes: decisions that need the whole corpus.

After the tag pass, this reads only small columns of the staged shards and the stored
attributes, and resolves, in pipeline order:

* repeated document ids (a later occurrence is rejected: ids must be unique for any
  decision keyed by id to mean anything);
* each corpus-scope step's ``decide_corpus`` over the documents still alive at it.

The result maps ``(input shard stem, position)`` to the step index that stopped the
document and its decision (index ``-1`` is input validation), and to metadata updates
for documents a corpus step keeps on behalf of removed copies: a step that implements
:class:`MergesMetadata` (exact dedup: the identifiers of the copies it removed) is asked
for them with the same table it decided on. Updates change metadata only, never text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.cleaning.attributes import read_attribute_table
from sciprep.cleaning.steps.base import Reject, Remove, Step
from sciprep.cleaning.tagpass import staged_path

READ_STEP_INDEX = -1

Key = tuple[str, int]


@dataclass(frozen=True)
class CorpusDecision:
    step_index: int
    decision: Remove | Reject


@runtime_checkable
class MergesMetadata(Protocol):
    """A corpus step that moves metadata from the copies it removes onto the copy it keeps."""

    def metadata_updates(self, table: pa.Table) -> dict[str, dict[str, str]]:
        """``{kept id: {Metadata field: value}}`` for the table given to ``decide_corpus``."""
        ...


@dataclass
class CorpusOutcome:
    """What the corpus-wide phase decided: stops, and metadata updates of kept documents."""

    decided: dict[Key, CorpusDecision] = field(default_factory=dict)
    #: Later steps' values win over earlier ones' for the same field.
    metadata: dict[Key, dict[str, str]] = field(default_factory=dict)


def resolve_corpus_decisions(out_dir: Path, stems: Sequence[str], steps: Sequence[Step]) -> CorpusOutcome:
    """Decisions for documents stopped by id repetition or by a corpus-scope step."""
    ids: list[str] = []
    keys: list[Key] = []
    stops: list[int | None] = []
    kinds: list[str] = []
    for stem in stems:
        table = pq.read_table(staged_path(out_dir, stem), columns=["id", "kind", "_position", "_stop_index"])
        ids.extend(table.column("id").to_pylist())
        kinds.extend(table.column("kind").to_pylist())
        keys.extend((stem, p) for p in table.column("_position").to_pylist())
        stops.extend(table.column("_stop_index").to_pylist())

    decided: dict[Key, CorpusDecision] = {}
    metadata: dict[Key, dict[str, str]] = {}
    first_seen: dict[str, Key] = {}
    for doc_id, key in zip(ids, keys):
        if doc_id in first_seen:
            shard, position = first_seen[doc_id]
            reason = f"document id {doc_id!r} repeats the one at {shard} row {position}"
            decided[key] = CorpusDecision(READ_STEP_INDEX, Reject(reason))
        else:
            first_seen[doc_id] = key

    for index, step in enumerate(steps):
        if step.scope != "corpus":
            continue
        alive = {
            key
            for key, stop, kind in zip(keys, stops, kinds)
            if key not in decided and (stop is None or stop > index) and step.applies_to(kind)
        }
        table = read_attribute_table(out_dir, step, stems)
        shards, positions = table.column("shard").to_pylist(), table.column("position").to_pylist()
        mask = [(s, p) in alive for s, p in zip(shards, positions)]
        table = table.filter(pa.array(mask, type=pa.bool_()))
        if table.num_rows != len(alive):
            raise RuntimeError(
                f"cleaning step {step.label!r}: stored attributes cover {table.num_rows} of "
                f"{len(alive)} documents alive at this step; the output directory is inconsistent"
            )
        apply_corpus_removals(step, index, table, decided, metadata)
    return CorpusOutcome(decided, metadata)


def apply_corpus_removals(
    step: Step, index: int, table: pa.Table,
    decided: dict[Key, CorpusDecision], metadata: dict[Key, dict[str, str]],
) -> None:  # fmt: skip
    """Run ``step.decide_corpus`` over ``table`` (its alive documents' attributes, with
    ``shard`` and ``position``) and record its removals and metadata updates.

    Raises TypeError when the step returns something other than :class:`Remove`, and
    ValueError when it names an id that is not in ``table`` or updates a removed one.
    """
    shards, positions = table.column("shard").to_pylist(), table.column("position").to_pylist()
    position_of = dict(zip(table.column("id").to_pylist(), zip(shards, positions)))
    removals = step.decide_corpus(table)
    for doc_id in sorted(removals):
        decision = removals[doc_id]
        if not isinstance(decision, Remove):
            raise TypeError(f"cleaning step {step.label!r}: decide_corpus must return Remove, got {decision!r}")
        if doc_id not in position_of:
            raise ValueError(f"cleaning step {step.label!r}: removed unknown or already removed id {doc_id!r}")
        decided[position_of[doc_id]] = CorpusDecision(index, decision)
    if isinstance(step, MergesMetadata):
        for doc_id, values in sorted(step.metadata_updates(table).items()):
            if doc_id not in position_of or position_of[doc_id] in decided:
                raise ValueError(f"cleaning step {step.label!r}: metadata update for {doc_id!r}, not an id it kept")
            metadata.setdefault(position_of[doc_id], {}).update(values)
