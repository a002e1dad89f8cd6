"""The first pass of a cleaning run: every input shard through every step.

Document-scope steps tag and decide; corpus-scope steps only tag (their decision waits
for the whole corpus). A document stops at the first document-scope step that removes
or rejects it. The pass writes, per input shard, a *staged* Parquet file
(``OUT/work/tagged/<stem>.parquet``: the documents as the last step saw them plus
where and why they stopped) and each step's attributes; then a marker
(``<stem>.json``) written only after those renames, so a crash never leaves a shard
that looks finished but is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.atomicio import atomic_path
from sciprep.cleaning.attributes import (
    load_cached,
    stores_attributes,
    text_hash,
    write_attributes,
)
from sciprep.cleaning.steps.base import Keep, Modify, Reject, Remove, Step
from sciprep.corpus.document import DOCUMENT_SCHEMA, Document

TAGGED_DIR = Path("work") / "tagged"

STAGED_SCHEMA = pa.schema(
    list(DOCUMENT_SCHEMA)
    + [
        pa.field("_position", pa.int64()),
        pa.field("_in_bytes", pa.int64()),
        pa.field("_stop_index", pa.int32()),
        pa.field("_stop_kind", pa.string()),
        pa.field("_stop_reason", pa.string()),
        pa.field("_stop_score", pa.float64()),
        pa.field("_modified_steps", pa.list_(pa.int32())),
        pa.field("_modified_deltas", pa.list_(pa.int64())),
    ]
)


@dataclass
class ReadReject:
    """An input row that is not a usable document (it never reaches a step)."""

    position: int
    source: str
    reason: str


@dataclass
class _Staged:
    doc: Document
    position: int
    in_bytes: int
    stop_index: int | None = None
    stop_kind: str | None = None
    stop_reason: str | None = None
    stop_score: float | None = None
    modified_steps: list[int] = field(default_factory=list)
    modified_deltas: list[int] = field(default_factory=list)

    def to_row(self) -> dict[str, Any]:
        row = self.doc.to_row()
        row.update(
            _position=self.position,
            _in_bytes=self.in_bytes,
            _stop_index=self.stop_index,
            _stop_kind=self.stop_kind,
            _stop_reason=self.stop_reason,
            _stop_score=self.stop_score,
            _modified_steps=self.modified_steps,
            _modified_deltas=self.modified_deltas,
        )
        return row


def staged_path(out_dir: Path, stem: str) -> Path:
    return out_dir / TAGGED_DIR / f"{stem}.parquet"


def _row_to_document(row: dict[str, Any]) -> Document:
    """Validate one input row; a ValueError says what is wrong with it."""
    for key in ("id", "text", "source", "kind"):
        if not isinstance(row.get(key), str):
            raise ValueError(f"field {key!r} is missing or not a string ({row.get(key)!r})")
    if not row["id"]:
        raise ValueError("empty document id")
    try:
        return Document.from_row(row)
    except (TypeError, KeyError) as err:
        raise ValueError(f"row does not match the document schema: {err}") from None


def read_input_shard(path: Path) -> tuple[list[tuple[int, Document]], list[ReadReject]]:
    """The usable documents of one input shard with their positions, and the unusable rows."""
    docs: list[tuple[int, Document]] = []
    rejects: list[ReadReject] = []
    position = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            try:
                docs.append((position, _row_to_document(row)))
            except ValueError as err:
                source = row.get("source") if isinstance(row.get("source"), str) else ""
                rejects.append(ReadReject(position, source, f"{path.name} row {position}: {err}"))
            position += 1
    return docs, rejects


class _StepCache:
    """One step's stored attributes for one shard, and the rows this run will store."""

    def __init__(self, out_dir: Path, step: Step, stem: str) -> None:
        self.step = step
        self.enabled = stores_attributes(step)
        self.cached = load_cached(out_dir, step, stem) if self.enabled else {}
        self.rows: list[dict[str, Any]] = []
        self.reused = 0
        self.computed = 0

    def attributes(self, doc: Document, position: int) -> dict[str, Any]:
        if not self.enabled:
            return self.step.tag(doc)
        digest = text_hash(doc.text)
        hit = self.cached.get(doc.id)
        if hit is not None and hit[0] == digest:
            attrs = hit[1]
            self.reused += 1
        else:
            attrs = self.step.tag(doc)
            missing = {f.name for f in self.step.attributes} - set(attrs)
            if missing:
                raise TypeError(f"cleaning step {self.step.label!r}: tag() did not return {sorted(missing)}")
            self.computed += 1
        self.rows.append({"id": doc.id, "position": position, "text_hash": digest, **attrs})
        return attrs

    def rows_to_store(self, positions: dict[str, int]) -> list[dict[str, Any]]:
        """This run's rows, plus stored rows of the shard's documents that did not reach the step.

        A document an earlier step stops in this run (a stricter threshold) keeps its
        stored attributes, so relaxing the threshold again reuses them instead of
        recomputing. ``positions`` maps each id of the shard to its position now; ids no
        longer in the shard are dropped. A carried row is only reused while its text hash
        still matches the text the step sees.
        """
        visited = {row["id"] for row in self.rows}
        carried = [
            {"id": doc_id, "position": positions[doc_id], "text_hash": digest, **attrs}
            for doc_id, (digest, attrs) in self.cached.items()
            if doc_id in positions and doc_id not in visited
        ]
        return self.rows + sorted(carried, key=lambda row: row["position"])


def _run_steps(item: _Staged, steps: Sequence[Step], caches: Sequence[_StepCache]) -> None:
    for index, (step, cache) in enumerate(zip(steps, caches)):
        doc = item.doc
        if not step.applies_to(doc.kind):
            continue
        try:
            attrs = cache.attributes(doc, item.position)
            if step.scope == "corpus":
                continue
            decision = step.decide(doc, attrs)
        except Exception as err:
            err.add_note(f"while cleaning step {step.label!r} handled document {doc.id!r}")
            raise
        if isinstance(decision, Keep):
            continue
        if isinstance(decision, Modify):
            if decision.text != doc.text:
                delta = len(decision.text.encode("utf-8")) - len(doc.text.encode("utf-8"))
                doc.text = decision.text
                if decision.prompt is not None:
                    doc.prompt = decision.prompt
                if decision.answer is not None:
                    doc.answer = decision.answer
                item.modified_steps.append(index)
                item.modified_deltas.append(delta)
            continue
        if isinstance(decision, (Remove, Reject)):
            item.stop_index = index
            item.stop_kind = "remove" if isinstance(decision, Remove) else "reject"
            item.stop_reason = decision.reason
            item.stop_score = decision.score if isinstance(decision, Remove) else None
            return
        raise TypeError(f"cleaning step {step.label!r} returned {decision!r}, not a Decision")


def tag_shard(shard: Path, out_dir: Path, steps: Sequence[Step]) -> dict[str, Any]:
    """Run the tag pass over one input shard; return the marker content (without fingerprint)."""
    stem = shard.stem
    docs, read_rejects = read_input_shard(shard)
    caches = [_StepCache(out_dir, step, stem) for step in steps]
    staged: list[_Staged] = []
    positions: dict[str, int] = {}
    for position, doc in docs:
        positions.setdefault(doc.id, position)
        item = _Staged(doc, position, len(doc.text.encode("utf-8")))
        _run_steps(item, steps, caches)
        staged.append(item)
    for cache in caches:
        if cache.enabled:
            write_attributes(out_dir, cache.step, stem, cache.rows_to_store(positions))
    table = pa.Table.from_pylist([s.to_row() for s in staged], schema=STAGED_SCHEMA)
    with atomic_path(staged_path(out_dir, stem)) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return {
        "read_rejects": [vars(r) for r in read_rejects],
        "attributes": {c.step.label: {"reused": c.reused, "computed": c.computed} for c in caches if c.enabled},
    }
