"""Generic inputs: JSON lines, Parquet tables and plain text/Markdown files.

For material already in text form (web scrapes, exported corpora, lecture notes). The text
is taken from a configurable field (``text_field``, default ``text``); common bibliographic
fields (``title``, ``authors``, ``year``, ``doi``, ``arxiv_id``, ``pmid``, ``licence``)
fill :class:`~sciprep.corpus.document.Metadata` when present, and an ``id`` field is kept
as the document id. With ``markup=True`` (default) the tokenizer's ``wrap`` adds Galactica
markup (math, SMILES, sequences) to the text. A row without usable text is a reject.

A Parquet file with :data:`~sciprep.corpus.document.DOCUMENT_SCHEMA` is a sciprep shard
(from ``corpus build`` or ``clean``): its documents pass through unchanged (id, kind,
text, metadata, references, prompt/answer, split; no markup is added again), except that
``source`` becomes the recipe's source name so its manifest weight applies; the shard's
own source is kept in ``metadata.extra["original_source"]`` (the first one, when a
corpus is rebuilt more than once). The text options do not apply to such files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.corpus.document import DOCUMENT_SCHEMA, Document, Metadata, stable_id
from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.sourcefile import (
    MAX_INPUT_BYTES,
    READ_ERRORS,
    describe_error,
    open_text,
    reject,
)
from sciprep.corpus.readers.tables import json_lines
from sciprep.corpus.shards import Reject

_META_FIELDS = ("title", "authors", "year", "doi", "arxiv_id", "pmid", "licence", "license")


def _markup(text: str, markup: bool, math: bool) -> str:
    if not markup:
        return text
    from sciprep.tokenize import wrap  # the tokenizer owns the markup rules

    return wrap(text, math=math)


def _metadata(row: dict[str, Any]) -> Metadata:
    meta = Metadata()
    if isinstance(row.get("title"), str):
        meta.title = row["title"]
    authors = row.get("authors")
    if isinstance(authors, list) and all(isinstance(a, str) for a in authors):
        meta.authors = list(authors)
    year = row.get("year")
    if isinstance(year, int) and not isinstance(year, bool):
        meta.year = year
    for key in ("doi", "arxiv_id", "pmid"):
        if isinstance(row.get(key), str | int) and not isinstance(row.get(key), bool):
            setattr(meta, key, str(row[key]))
    licence = row.get("licence", row.get("license"))
    if isinstance(licence, str):
        meta.licence = licence
    return meta


def _row_document(
    row: Any,
    source: str,
    path: Path,
    position: str,
    text_field: str,
    id_field: str,
    markup: bool,
    math: bool,
) -> Document | Reject:
    if not isinstance(row, dict):
        return reject(source, path, position, f"expected a JSON object, got {type(row).__name__}")
    text = row.get(text_field)
    if text is None:
        fields = sorted(str(k) for k in row)[:20]
        return reject(
            source, path, position, f"no {text_field!r} field (fields: {fields}); set the text_field option"
        )
    if not isinstance(text, str):
        return reject(source, path, position, f"field {text_field!r} is {type(text).__name__}, not text")
    if not text.strip():
        return reject(source, path, position, f"field {text_field!r} is empty")
    raw_id = row.get(id_field)
    doc_id = (
        str(raw_id)
        if isinstance(raw_id, str | int) and str(raw_id)
        else stable_id(source, path.name, position)
    )
    return Document(
        id=doc_id,
        text=_markup(text, markup, math),
        source=source,
        kind="text",
        metadata=_metadata(row),
    )


@register_reader("jsonl", (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"))
def read_jsonl(
    path: Path,
    source: str,
    *,
    text_field: str = "text",
    id_field: str = "id",
    markup: bool = True,
    math: bool = True,
) -> ReaderOutput:
    """One document per JSON object line of ``path``."""
    line = 0
    try:
        for line, value, error in json_lines(path):
            position = f"line {line}"
            if error:
                yield reject(source, path, position, error)
            else:
                yield _row_document(value, source, path, position, text_field, id_field, markup, math)
    except READ_ERRORS as err:
        yield reject(source, path, f"after line {line}", f"unreadable from here on: {describe_error(err)}")


def _parquet_rows(path: Path, wanted: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    parquet = pq.ParquetFile(path)
    columns = [name for name in parquet.schema_arrow.names if name in wanted]
    for batch in parquet.iter_batches(batch_size=1024, columns=columns):
        yield from batch.to_pylist()


def is_document_table(schema: pa.Schema) -> bool:
    """True when ``schema`` has every :data:`DOCUMENT_SCHEMA` column with its type (a sciprep shard)."""
    names = set(schema.names)
    return all(
        field.name in names and schema.field(field.name).type.equals(field.type) for field in DOCUMENT_SCHEMA
    )


def _shard_document(row: dict[str, Any], source: str, path: Path, position: str) -> Document | Reject:
    for key in ("id", "text", "kind"):
        value = row.get(key)
        if not isinstance(value, str) or not value.strip():
            return reject(source, path, position, f"sciprep shard row without a usable {key!r}")
    if row["kind"] == "prompt" and not (row.get("prompt") and row.get("answer")):
        return reject(source, path, position, f"prompt record {row['id']!r} lacks its prompt or answer")
    doc = Document.from_row(row)
    if doc.source and doc.source != source:
        doc.metadata.extra.setdefault("original_source", doc.source)
    doc.source = source
    return doc


def _shard_documents(parquet: pq.ParquetFile, source: str, path: Path) -> ReaderOutput:
    row_number = 0
    for batch in parquet.iter_batches(batch_size=1024, columns=DOCUMENT_SCHEMA.names):
        for row in batch.to_pylist():
            row_number += 1
            yield _shard_document(row, source, path, f"row {row_number}")


@register_reader("parquet", (".parquet",))
def read_parquet(
    path: Path,
    source: str,
    *,
    text_field: str = "text",
    id_field: str = "id",
    markup: bool = True,
    math: bool = True,
) -> ReaderOutput:
    """One document per row of a Parquet table (only the needed columns are read); a
    sciprep shard's documents pass through unchanged (see the module docstring)."""
    if path.stat().st_size > MAX_INPUT_BYTES:
        yield reject(source, path, "file", f"larger than {MAX_INPUT_BYTES} bytes; split it")
        return
    row_number = 0
    try:
        parquet = pq.ParquetFile(path)
        if is_document_table(parquet.schema_arrow):
            yield from _shard_documents(parquet, source, path)
            return
        wanted = (text_field, id_field, *_META_FIELDS)
        for row_number, row in enumerate(_parquet_rows(path, wanted), start=1):
            yield _row_document(row, source, path, f"row {row_number}", text_field, id_field, markup, math)
    except (pa.ArrowException, *READ_ERRORS) as err:
        yield reject(source, path, f"after row {row_number}", f"unreadable Parquet: {describe_error(err)}")


def _title(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
        if line.strip():
            return ""
    return ""


@register_reader("text", (".txt", ".md", ".markdown", ".text", ".txt.gz", ".md.gz"))
def read_text(path: Path, source: str, *, markup: bool = True, math: bool = True) -> ReaderOutput:
    """The whole file as one document (a leading ``# Heading`` becomes the title)."""
    try:
        with open_text(path) as handle:
            text = handle.read()
    except READ_ERRORS as err:
        yield reject(source, path, "file", f"unreadable: {describe_error(err)}")
        return
    if not text.strip():
        yield reject(source, path, "file", "file is empty")
        return
    yield Document(
        id=stable_id(source, path.name),
        text=_markup(text, markup, math),
        source=source,
        kind="text",
        metadata=Metadata(title=_title(text)),
    )
