"""Row-shaped inputs (CSV/TSV with or without a header, JSON lines) for the compound and
prompt readers.

Rows come with their line number so a reject can point at the exact record, and column
lookup is case-insensitive so ``SMILES``, ``smiles`` and ``Smiles`` all work.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sciprep.corpus.readers.sourcefile import open_text

#: Largest accepted CSV field (characters): big enough for long peptides' SMILES.
MAX_FIELD_CHARS = 1_000_000


def delimiter_for(path: Path, explicit: str = "") -> str:
    """The explicit delimiter, else tab for ``.tsv``/``.tab`` names, else comma."""
    if explicit:
        return explicit
    name = path.name.lower().removesuffix(".gz")
    return "\t" if name.endswith((".tsv", ".tab")) else ","


def csv_rows(
    path: Path, delimiter: str = "", fieldnames: list[str] | None = None
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The header and an iterator of ``(line_number, row)`` for a delimited file.

    With ``fieldnames`` the file has no header: the first line is a row too. A row with
    more fields than the header has the extras under the key ``None``; a row with fewer
    has ``None`` values (``csv.DictReader``'s convention), which callers reject. Errors
    from a broken file surface while iterating.
    """
    csv.field_size_limit(MAX_FIELD_CHARS)
    handle = open_text(path, newline="")
    reader = csv.DictReader(handle, fieldnames=fieldnames, delimiter=delimiter_for(path, delimiter))
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
    except BaseException:
        handle.close()
        raise
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        with handle:
            for row in reader:
                yield reader.line_num, row

    return header, rows()


def first_records(path: Path, delimiter: str = "", limit: int = 20) -> list[list[str]]:
    """The first ``limit`` non-blank lines of a delimited file as plain field lists (for
    sniffing a file's layout before reading it)."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    with open_text(path, newline="") as handle:
        records = (r for r in csv.reader(handle, delimiter=delimiter_for(path, delimiter)) if r)
        return [[field.strip() for field in record] for _, record in zip(range(limit), records)]


def json_lines(path: Path) -> Iterator[tuple[int, Any, str]]:
    """``(line_number, value, error)`` per non-blank line; ``error`` is set for bad JSON."""
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line), ""
            except json.JSONDecodeError as err:
                yield number, None, f"invalid JSON: {err.msg} at column {err.colno}"


def find_column(header: Iterable[str], wanted: str, candidates: tuple[str, ...]) -> str | None:
    """The header name matching ``wanted`` (if given) or else the first candidate, ignoring case.

    Returns None when nothing matches; a ``wanted`` name that is absent also gives None
    so the caller can reject the file naming the available columns.
    """
    by_lower = {name.lower(): name for name in header}
    if wanted:
        return by_lower.get(wanted.lower())
    for candidate in candidates:
        if candidate in by_lower:
            return by_lower[candidate]
    return None
