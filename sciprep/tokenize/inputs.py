"""Texts to train a tokenizer on, from JSONL, Parquet, corpus directories or plain text.

* ``*.jsonl`` / ``*.json`` (JSON lines, optionally ``.gz``): the ``text`` field of each
  record (``--text-field`` picks another);
* ``*.parquet``: the ``text`` column, read in batches;
* a directory holding ``shards/*.parquet`` (a sciprep corpus): all its shards;
* anything else: the whole file as one UTF-8 document.

Compressed files (gzip, recognised by their magic bytes) are read transparently, and
every file is bounded to :data:`MAX_TEXT_FILE_BYTES` after decompression.

A malformed record is an error naming the file and line, since a tokenizer trained on a
silently truncated corpus is worse than none. Empty texts are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from sciprep.corpus.readers.sourcefile import READ_ERRORS, describe_error, open_text, read_bounded
from sciprep.tokenize.surrogates import lone_surrogate_index

MAX_TEXT_FILE_BYTES = 1 << 30


def _jsonl(path: Path, field: str) -> Iterator[str]:
    try:
        yield from _jsonl_records(path, field)
    except READ_ERRORS as err:
        raise ValueError(f"{path}: {describe_error(err)}") from None


def _jsonl_records(path: Path, field: str) -> Iterator[str]:
    with open_text(path, MAX_TEXT_FILE_BYTES) as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(
                    f"{path}:{line_no}: not valid JSON ({err.msg} at column {err.colno})"
                ) from None
            if not isinstance(record, dict) or field not in record:
                raise ValueError(f"{path}:{line_no}: record has no {field!r} field (use --text-field)")
            text = record[field]
            if not isinstance(text, str):
                raise ValueError(f"{path}:{line_no}: field {field!r} is {type(text).__name__}, not a string")
            at = lone_surrogate_index(text)
            if at is not None:
                raise ValueError(
                    f"{path}:{line_no}: field {field!r} holds a lone surrogate at character {at} "
                    "(an unpaired \\u escape), which has no UTF-8 form"
                )
            if text:
                yield text


def _parquet(path: Path, field: str) -> Iterator[str]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    if field not in pf.schema_arrow.names:
        raise ValueError(f"{path}: no {field!r} column (columns: {', '.join(pf.schema_arrow.names)})")
    for batch in pf.iter_batches(batch_size=1024, columns=[field]):
        for text in batch.column(0).to_pylist():
            if text:
                yield text


def _plain(path: Path) -> Iterator[str]:
    try:
        text = read_bounded(path, MAX_TEXT_FILE_BYTES).decode("utf-8")
    except READ_ERRORS as err:
        raise ValueError(f"{path}: {describe_error(err)}") from None
    if text:
        yield text


def iter_texts(paths: Sequence[str | Path], text_field: str = "text") -> Iterator[str]:
    """Every text of ``paths``, in the order given (see the module docstring)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            shards = sorted(p for p in (path / "shards").glob("*.parquet") if not p.name.startswith("."))
            if not shards:
                raise ValueError(f"{path}: a directory, but not a sciprep corpus (no shards/*.parquet)")
            for shard in shards:
                yield from _parquet(shard, text_field)
        elif not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        elif path.suffix == ".parquet":
            yield from _parquet(path, text_field)
        elif path.suffix in (".jsonl", ".json", ".ndjson") or path.name.endswith((".jsonl.gz", ".json.gz")):
            yield from _jsonl(path, text_field)
        else:
            yield from _plain(path)
