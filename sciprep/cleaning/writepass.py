"""The second pass of a cleaning run: final decisions and the output files of one shard.

For each staged document the first stopping step in pipeline order wins (a
document-scope stop from the tag pass or a corpus-scope decision). Kept documents go
to ``OUT/shards/<stem>.parquet`` (the corpus shard format), removed ones to
``OUT/excluded/<stem>.parquet`` with step, reason and score; rejected ones are
returned for ``OUT/rejects.parquet``. Per-step counts come back as plain dicts that
add up across shards (see :func:`add_stats`).

Conservation is checked against numbers counted independently of the staging: the
input shard's row count (from its Parquet footer) must equal the staged rows plus the
rows the reader rejected, and the rows actually written (read back from the output
files' footers) plus the rejects must equal it too. A row lost between passes, or a
writer that drops one, raises :class:`ConservationError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.atomicio import atomic_path
from sciprep.cleaning.corpus_decisions import READ_STEP_INDEX, CorpusOutcome
from sciprep.cleaning.steps.base import Remove, Step
from sciprep.cleaning.tagpass import ReadReject, staged_path
from sciprep.corpus.document import DOCUMENT_SCHEMA, Document
from sciprep.corpus.modality import MODALITIES, modality_chars
from sciprep.corpus.shards import SHARDS_DIR, Reject, write_documents

EXCLUDED_DIR = "excluded"
READ_LABEL = "read"

EXCLUDED_SCHEMA = pa.schema(
    list(DOCUMENT_SCHEMA)
    + [pa.field("step", pa.string()), pa.field("reason", pa.string()), pa.field("score", pa.float64())]
)


class ConservationError(RuntimeError):
    """Documents were lost or invented: in != kept + removed + rejected (a bug, never bad input)."""


def _new_step_stats() -> dict[str, Any]:
    return {"entered": 0, "removed": 0, "removed_bytes": 0, "rejected": 0,
            "modified": 0, "bytes_delta": 0, "removed_by_source": {}, "modified_by_source": {}}  # fmt: skip


def _new_source_stats() -> dict[str, Any]:
    return {"in": 0, "kept": 0, "removed": 0, "rejected": 0, "kept_bytes": 0,
            "characters": dict.fromkeys(MODALITIES, 0), "kinds": {}, "shards": {}}  # fmt: skip


def new_stats(steps: Sequence[Step]) -> dict[str, Any]:
    """Zeroed counters for a pipeline (one entry per step, plus input validation)."""
    return {
        "in": {"documents": 0, "bytes": 0},
        "kept": {"documents": 0, "bytes": 0},
        "removed": {"documents": 0, "bytes": 0},
        "rejected": {"documents": 0, "bytes": 0},
        "read": {"rejected": 0},
        "steps": {step.label: _new_step_stats() for step in steps},
        "sources": {},
    }


def add_stats(total: dict[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    """Add nested counters of ``part`` into ``total`` (dicts recurse, numbers add)."""
    for key, value in part.items():
        if isinstance(value, Mapping):
            add_stats(total.setdefault(key, {}), value)
        else:
            total[key] = total.get(key, 0) + value
    return total


def check_conservation(stats: Mapping[str, Any], where: str) -> None:
    """Raise :class:`ConservationError` unless in = kept + removed + rejected."""
    n_in = stats["in"]["documents"]
    parts = stats["kept"]["documents"] + stats["removed"]["documents"] + stats["rejected"]["documents"]
    if n_in != parts:
        raise ConservationError(
            f"{where}: {n_in} documents in but kept + removed + rejected = {parts} "
            f"({stats['kept']['documents']} + {stats['removed']['documents']} + {stats['rejected']['documents']})"
        )


def _check_rows(where: str, expected: int, counted: int, what: str) -> None:
    if counted != expected:
        raise ConservationError(f"{where}: the input shard has {expected} rows but {what} = {counted}")


def write_shard(
    out_dir: Path,
    shard: Path,
    steps: Sequence[Step],
    outcome: CorpusOutcome,
    read_rejects: Sequence[ReadReject],
) -> tuple[dict[str, Any], list[Reject]]:
    """Write the kept and excluded documents of input ``shard``; return its stats and rejects.

    Raises :class:`ConservationError` when the rows staged or written do not account for
    every row of ``shard``.
    """
    stem = shard.stem
    decided = outcome.decided
    stats = new_stats(steps)
    labels = [step.label for step in steps]
    kept: list[Document] = []
    excluded: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    file_name = f"{stem}.parquet"

    def source_stats(source: str) -> dict[str, Any]:
        return stats["sources"].setdefault(source, _new_source_stats())

    for bad in read_rejects:
        stats["in"]["documents"] += 1
        stats["rejected"]["documents"] += 1
        stats["read"]["rejected"] += 1
        source_stats(bad.source)["in"] += 1
        source_stats(bad.source)["rejected"] += 1
        rejects.append(Reject(bad.source, file_name, f"row {bad.position}", bad.reason, READ_LABEL))

    staged = pq.read_table(staged_path(out_dir, stem))
    n_input = pq.ParquetFile(shard).metadata.num_rows
    where = f"shard {file_name}"
    _check_rows(where, n_input, staged.num_rows + len(read_rejects), "staged + unreadable rows")
    for row in staged.to_pylist():
        doc = Document.from_row(row)
        position = row["_position"]
        in_bytes = row["_in_bytes"]
        src = source_stats(doc.source)
        stats["in"]["documents"] += 1
        stats["in"]["bytes"] += in_bytes
        src["in"] += 1

        stop_index: int | None = row["_stop_index"]
        kind, reason, score = row["_stop_kind"], row["_stop_reason"], row["_stop_score"]
        corpus = decided.get((stem, position))
        if corpus is not None and (stop_index is None or corpus.step_index < stop_index):
            stop_index = corpus.step_index
            kind = "remove" if isinstance(corpus.decision, Remove) else "reject"
            reason = corpus.decision.reason
            score = corpus.decision.score if isinstance(corpus.decision, Remove) else None

        entered_until = len(steps) if stop_index is None else stop_index + 1
        for index in range(max(entered_until, 0)):
            if steps[index].applies_to(doc.kind):
                stats["steps"][labels[index]]["entered"] += 1
        for index, delta in zip(row["_modified_steps"], row["_modified_deltas"]):
            if stop_index is None or index < stop_index:
                step_stats = stats["steps"][labels[index]]
                step_stats["modified"] += 1
                step_stats["bytes_delta"] += delta
                step_stats["modified_by_source"][doc.source] = step_stats["modified_by_source"].get(doc.source, 0) + 1

        if stop_index is None:
            for name, value in outcome.metadata.get((stem, position), {}).items():
                setattr(doc.metadata, name, value)
            kept.append(doc)
            text_bytes = len(doc.text.encode("utf-8"))
            stats["kept"]["documents"] += 1
            stats["kept"]["bytes"] += text_bytes
            src["kept"] += 1
            src["kept_bytes"] += text_bytes
            src["kinds"][doc.kind] = src["kinds"].get(doc.kind, 0) + 1
            src["shards"][file_name] = src["shards"].get(file_name, 0) + 1
            for modality, count in modality_chars(doc.text).items():
                src["characters"][modality] += count
            continue
        label = READ_LABEL if stop_index == READ_STEP_INDEX else labels[stop_index]
        if kind == "reject":
            stats["rejected"]["documents"] += 1
            stats["rejected"]["bytes"] += in_bytes
            src["rejected"] += 1
            if stop_index == READ_STEP_INDEX:
                stats["read"]["rejected"] += 1
            else:
                stats["steps"][label]["rejected"] += 1
            rejects.append(Reject(doc.source, file_name, f"row {position} (id {doc.id})", reason, label))
            continue
        step_stats = stats["steps"][label]
        step_stats["removed"] += 1
        step_stats["removed_bytes"] += in_bytes
        by_source = step_stats["removed_by_source"]
        by_source[doc.source] = by_source.get(doc.source, 0) + 1
        stats["removed"]["documents"] += 1
        stats["removed"]["bytes"] += in_bytes
        src["removed"] += 1
        excluded.append({**doc.to_row(), "step": label, "reason": reason, "score": score})

    check_conservation(stats, where)
    _check_rows(where, n_input, stats["in"]["documents"], "documents counted in")
    write_documents(out_dir / SHARDS_DIR / file_name, kept)
    with atomic_path(out_dir / EXCLUDED_DIR / file_name) as tmp:
        pq.write_table(pa.Table.from_pylist(excluded, schema=EXCLUDED_SCHEMA), tmp, compression="zstd")
    written = sum(pq.ParquetFile(out_dir / d / file_name).metadata.num_rows for d in (SHARDS_DIR, EXCLUDED_DIR))
    _check_rows(where, n_input, written + len(rejects), "rows written to shards/ + excluded/ + rejects")
    return stats, rejects
