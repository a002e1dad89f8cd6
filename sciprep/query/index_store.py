"""Build, write and load a query index directory.

Layout of ``INDEX_DIR`` (every file opens without sciprep)::

    index.json                 manifest: counts, corpus shards, format version
    references.parquet/.jsonl  one ReferenceEntry per row (the .jsonl adds its contexts)
    citation_contexts.parquet  entry_id, doc_id, position, sentence
    formulas.parquet/.jsonl    one FormulaEntry per row
    index_rejects.parquet      unusable citations / formulas / references, with reasons
    parts/                     per-shard extraction results (resume; reused by reruns)

Extraction runs shard by shard and each shard's results are written atomically under
``parts/`` keyed by the shard's name, size and mtime, so a crashed build resumes where it
stopped and an unchanged shard is never re-read. Merging is deterministic: the same
corpus gives byte-identical files. ``INDEX_DIR`` must be new, empty or an earlier index:
the build never writes into the corpus or any other folder whose files are not its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from sciprep import __version__
from sciprep.atomicio import atomic_path, write_json_atomic, write_text_atomic
from sciprep.corpus.document import stable_id
from sciprep.corpus.shards import REJECT_SCHEMA, Reject, list_shards, read_documents
from sciprep.query.formula_index import FormulaEntry, extract_formulas
from sciprep.query.reference_index import (
    CitationContext,
    Observation,
    ReferenceEntry,
    merge_observations,
    observe_references,
)

FORMAT_VERSION = 2
MANIFEST = "index.json"
PARTS = "parts"
REJECTS = "index_rejects.parquet"
#: Where format 1 wrote its rejects; removed when an earlier index is rebuilt.
_OLD_REJECTS = "rejects.parquet"

_S, _I, _B, _LS = pa.string(), pa.int64(), pa.bool_(), pa.list_(pa.string())
OBSERVATION_SCHEMA = pa.schema(
    [("keys", _LS), ("title", _S), ("surname", _S), ("authors", _LS), ("year", _I), ("doi", _S),
     ("arxiv_id", _S), ("pmid", _S), ("raw", _S), ("doc_id", _S), ("origin", _S), ("position", _I),
     ("sentence", _S)]
)  # fmt: skip
REFERENCE_SCHEMA = pa.schema(
    [("id", _S), ("title", _S), ("surname", _S), ("citation", _S), ("authors", _LS), ("year", _I),
     ("doi", _S), ("arxiv_id", _S), ("pmid", _S), ("cite_count", _I), ("mention_count", _I),
     ("keys", _LS), ("raw", _S)]
)  # fmt: skip
CONTEXT_SCHEMA = pa.schema([("entry_id", _S), ("doc_id", _S), ("position", _I), ("sentence", _S)])
FORMULA_SCHEMA = pa.schema(
    [("id", _S), ("doc_id", _S), ("position", _I), ("latex", _S), ("body", _S), ("normalized", _S),
     ("display", _B), ("sentence", _S), ("valid", _B), ("problem", _S), ("context", _S)]
)  # fmt: skip


def _write_table(path: Path, rows: list[Any], schema: pa.Schema) -> None:
    table = pa.Table.from_pylist([vars(r) for r in rows], schema=schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _read_rows(path: Path, cls: type) -> list[Any]:
    names = {f.name for f in fields(cls)}
    return [cls(**{k: v for k, v in row.items() if k in names}) for row in pq.read_table(path).to_pylist()]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    write_text_atomic(path, text)


def _fingerprint(shard: Path) -> str:
    """Names a shard's part files: a changed shard or a new sciprep version re-extracts it."""
    st = shard.stat()
    return f"{shard.stem}-{stable_id(shard.name, st.st_size, st.st_mtime_ns, FORMAT_VERSION, __version__)}"


def _extract_shard(shard: Path, part_dir: Path, fp: str) -> dict[str, int]:
    observations: list[Observation] = []
    formulas: list[FormulaEntry] = []
    rejects: list[Reject] = []
    docs = 0
    for doc in read_documents(shard):
        docs += 1
        obs, bad = observe_references(doc, shard.name)
        observations.extend(obs)
        rejects.extend(bad)
        found, bad = extract_formulas(doc, shard.name)
        formulas.extend(found)
        rejects.extend(bad)
    _write_table(part_dir / f"{fp}.observations.parquet", observations, OBSERVATION_SCHEMA)
    _write_table(part_dir / f"{fp}.formulas.parquet", formulas, FORMULA_SCHEMA)
    _write_table(part_dir / f"{fp}.rejects.parquet", rejects, REJECT_SCHEMA)
    stats = {
        "documents": docs,
        "bibliography_items": sum(o.origin == "bibliography" for o in observations),
        "citations_indexed": sum(o.origin == "mention" for o in observations),
        "reference_documents": sum(o.origin == "entry" for o in observations),
        "formulas_indexed": len(formulas),
        "rejects": len(rejects),
    }
    write_json_atomic(part_dir / f"{fp}.json", stats)  # written last: marks the part complete
    return stats


def _check_out_dir(corpus_dir: Path, out: Path) -> bool:
    """Refuse an ``out`` that is the corpus or a non-empty folder no index build wrote.

    Returns whether ``out`` already holds an index (finished, or a crashed build's
    ``parts/``), whose files the build may replace.
    """
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: --out must be a folder, not a file")
    if os.path.realpath(out) == os.path.realpath(corpus_dir):
        raise ValueError(
            f"{out}: --out is the corpus folder {corpus_dir}; the index would overwrite its files. "
            "Choose a separate folder, e.g. --out INDEX_DIR"
        )
    ours = (out / MANIFEST).is_file() or (out / PARTS).is_dir()
    if out.is_dir() and not ours and any(out.iterdir()):
        raise ValueError(
            f"{out} is not empty and is not a query index (no {MANIFEST} or {PARTS}/ in it); "
            "choose a new or empty --out folder so nothing in it is overwritten"
        )
    return ours


def _manifest_version(out: Path) -> object:
    """The format version an earlier index in ``out`` recorded (None without one)."""
    path = out / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")).get("format_version") if path.is_file() else None


def build_index(
    corpus_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], progress: bool = True
) -> dict[str, Any]:
    """Build the reference and formula indexes of ``corpus_dir`` into ``out_dir``; return the manifest.

    ``out_dir`` must be new, empty or an earlier index (ValueError otherwise, before
    anything is written).
    """
    shards = list_shards(corpus_dir)
    if not shards:
        raise FileNotFoundError(f"{corpus_dir}: corpus has no shards/*.parquet files")
    out = Path(out_dir)
    if _check_out_dir(Path(corpus_dir), out) and _manifest_version(out) == 1:
        (out / _OLD_REJECTS).unlink(missing_ok=True)
    part_dir = out / PARTS
    part_dir.mkdir(parents=True, exist_ok=True)
    fps = [_fingerprint(s) for s in shards]
    totals: dict[str, int] = {}
    for shard, fp in zip(tqdm(shards, desc="index shards", unit="shard", disable=not progress), fps):
        marker = part_dir / f"{fp}.json"
        stats = json.loads(marker.read_text()) if marker.exists() else _extract_shard(shard, part_dir, fp)
        for key, value in stats.items():
            totals[key] = totals.get(key, 0) + value
    observations: list[Observation] = []
    formulas: list[FormulaEntry] = []
    rejects: list[Reject] = []
    for fp in fps:
        observations.extend(_read_rows(part_dir / f"{fp}.observations.parquet", Observation))
        formulas.extend(_read_rows(part_dir / f"{fp}.formulas.parquet", FormulaEntry))
        rejects.extend(_read_rows(part_dir / f"{fp}.rejects.parquet", Reject))
    entries, contexts = merge_observations(observations)
    _write_table(out / "references.parquet", entries, REFERENCE_SCHEMA)
    _write_table(out / "citation_contexts.parquet", contexts, CONTEXT_SCHEMA)
    _write_table(out / "formulas.parquet", formulas, FORMULA_SCHEMA)
    _write_table(out / REJECTS, rejects, REJECT_SCHEMA)
    by_entry: dict[str, list[dict[str, Any]]] = {}
    for ctx in contexts:
        by_entry.setdefault(ctx.entry_id, []).append({"doc_id": ctx.doc_id, "sentence": ctx.sentence})
    _write_jsonl(out / "references.jsonl", [{**vars(e), "contexts": by_entry.get(e.id, [])} for e in entries])
    _write_jsonl(out / "formulas.jsonl", [vars(f) for f in formulas])
    current = set(fps)
    for stale in part_dir.iterdir():
        if stale.name.split(".", 1)[0] not in current:
            stale.unlink()
    manifest = {
        "format_version": FORMAT_VERSION,
        "corpus": str(Path(corpus_dir).resolve()),
        "shards": [s.name for s in shards],
        "counts": {
            **totals,
            "references": len(entries),
            "citable_references": sum(bool(e.citation) for e in entries),
            "citation_contexts": len(contexts),
            "formulas_valid": sum(f.valid for f in formulas),
        },
    }
    write_json_atomic(out / MANIFEST, manifest)
    return manifest


@dataclass
class QueryIndex:
    """A loaded index directory."""

    path: Path
    manifest: dict[str, Any]
    references: list[ReferenceEntry]
    contexts: list[CitationContext]
    formulas: list[FormulaEntry]
    _by_id: dict[str, ReferenceEntry] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {e.id: e for e in self.references}

    @classmethod
    def load(cls, index_dir: str | os.PathLike[str]) -> QueryIndex:
        """Read an index built by :func:`build_index`; a clear error if it is not one."""
        path = Path(index_dir)
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise FileNotFoundError(
                f"{path}: not a query index (no {MANIFEST}); "
                f"build one with `sciprep query index CORPUS_DIR --out {path}`"
            )
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{manifest_path}: index format {manifest.get('format_version')} is not {FORMAT_VERSION}; rebuild it"
            )
        return cls(
            path=path,
            manifest=manifest,
            references=_read_rows(path / "references.parquet", ReferenceEntry),
            contexts=_read_rows(path / "citation_contexts.parquet", CitationContext),
            formulas=_read_rows(path / "formulas.parquet", FormulaEntry),
        )

    def reference(self, entry_id: str) -> ReferenceEntry:
        """The entry with id ``entry_id`` (KeyError when absent)."""
        return self._by_id[entry_id]
