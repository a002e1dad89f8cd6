"""Parquet shards of :class:`~sciprep.corpus.document.Document`: the format between stages.

Layout of a corpus directory (the corpus and cleaning stages both write it)::

    DIR/shards/<name>-00000.parquet   documents, DOCUMENT_SCHEMA, bounded size
    DIR/rejects.parquet               records that could not be used, with reasons
    DIR/manifest.json                 counts per source

``datasets.load_dataset("parquet", data_files="DIR/shards/*.parquet")`` opens it.
Shards are written atomically, so an existing shard file is a finished shard.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.atomicio import atomic_path
from sciprep.corpus.document import DOCUMENT_SCHEMA, Document

SHARDS_DIR = "shards"
REJECTS_FILE = "rejects.parquet"
MANIFEST_FILE = "manifest.json"

#: Default shard bounds: small enough to resume cheaply, large enough for Parquet to compress.
DEFAULT_MAX_DOCS = 10_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class Reject:
    """A record that could not become a document: where it was and why."""

    source: str
    file: str
    position: str
    reason: str
    step: str = "read"


REJECT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("file", pa.string()),
        ("position", pa.string()),
        ("reason", pa.string()),
        ("step", pa.string()),
    ]
)


def write_documents(path: str | os.PathLike[str], docs: Iterable[Document]) -> int:
    """Write ``docs`` to one Parquet file atomically; return how many were written."""
    rows = [d.to_row() for d in docs]
    table = pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return len(rows)


def read_documents(path: str | os.PathLike[str]) -> Iterator[Document]:
    """Yield the documents of one Parquet file in stored order."""
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            yield Document.from_row(row)


def list_shards(corpus_dir: str | os.PathLike[str]) -> list[Path]:
    """The shard files of a corpus directory, in a deterministic (sorted) order."""
    shard_dir = Path(corpus_dir) / SHARDS_DIR
    if not shard_dir.is_dir():
        raise FileNotFoundError(
            f"{corpus_dir}: not a sciprep corpus directory (no {SHARDS_DIR}/ folder); "
            "build one with `sciprep corpus build`"
        )
    return sorted(p for p in shard_dir.glob("*.parquet") if not p.name.startswith("."))


def iter_documents(corpus_dir: str | os.PathLike[str]) -> Iterator[Document]:
    """Every document of a corpus directory, shard by shard."""
    for shard in list_shards(corpus_dir):
        yield from read_documents(shard)


def write_rejects(path: str | os.PathLike[str], rejects: Iterable[Reject]) -> int:
    """Write reject rows atomically; return the count."""
    rows = [asdict(r) for r in rejects]
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(rows, schema=REJECT_SCHEMA), tmp)
    return len(rows)


def read_rejects(path: str | os.PathLike[str]) -> list[Reject]:
    """Read reject rows back (an absent file means none)."""
    if not Path(path).exists():
        return []
    return [Reject(**row) for row in pq.read_table(path).to_pylist()]


class ShardWriter:
    """Split a stream of documents into bounded shards named ``<prefix>-NNNNN.parquet``.

    Shard boundaries depend only on the stream and the bounds, so a rerun over the same
    input produces the same files; :meth:`would_skip` lets a caller skip the work of a
    shard that already exists (resume).
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        prefix: str,
        max_docs: int = DEFAULT_MAX_DOCS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.shard_dir = Path(out_dir) / SHARDS_DIR
        self.shard_dir.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_docs = max_docs
        self.max_bytes = max_bytes
        self.index = 0
        self.written: list[Path] = []
        self._buffer: list[Document] = []
        self._bytes = 0

    def path_for(self, index: int) -> Path:
        return self.shard_dir / f"{self.prefix}-{index:05d}.parquet"

    def add(self, doc: Document) -> None:
        self._buffer.append(doc)
        self._bytes += len(doc.text.encode("utf-8"))
        if len(self._buffer) >= self.max_docs or self._bytes >= self.max_bytes:
            self.flush()

    def flush(self) -> None:
        """Write the buffered documents as the next shard (unless it already exists)."""
        if not self._buffer:
            return
        path = self.path_for(self.index)
        if not path.exists():
            write_documents(path, self._buffer)
        self.written.append(path)
        self.index += 1
        self._buffer = []
        self._bytes = 0

    def close(self) -> list[Path]:
        self.flush()
        return self.written
