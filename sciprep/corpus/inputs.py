"""From a source's ``path:`` entries to the concrete inputs, each with its reader.

Expansion is deterministic (sorted, hidden files skipped) so two builds read the same
files in the same order. A directory is walked recursively, except that a directory
holding ``.tex`` files is one LaTeX source tree. Reader detection uses the registry's
suffix table, refined by a look at the content where a suffix is ambiguous: a ``.txt``
starting with ``PMID-`` is MEDLINE, an ``.xml`` whose root is ``<article>`` is JATS, a
JSON-lines file whose first record has unarXive/S2ORC's ``body_text`` paragraphs is
``unarxive``.
"""

from __future__ import annotations

import glob
from pathlib import Path

from sciprep.corpus.readers import detect_reader
from sciprep.corpus.readers.sourcefile import READ_ERRORS, open_binary

_SNIFF_BYTES = 4096


def _walk(directory: Path, reader: str | None) -> list[Path]:
    if reader in (None, "latex") and any(p.suffix == ".tex" for p in directory.iterdir() if p.is_file()):
        return [directory]
    found: list[Path] = []
    for child in sorted(directory.iterdir(), key=lambda p: p.name):
        if child.name.startswith("."):
            continue
        found.extend(_walk(child, reader) if child.is_dir() else [child])
    return found


def expand_paths(patterns: tuple[str, ...], base_dir: Path, reader: str | None, source: str) -> list[Path]:
    """The input paths of a source, in a stable order, without duplicates.

    Raises FileNotFoundError naming the source and pattern when a pattern matches nothing.
    """
    inputs: list[Path] = []
    for pattern in patterns:
        full = Path(pattern).expanduser()
        full = full if full.is_absolute() else base_dir / full
        if glob.has_magic(pattern):
            matches = [Path(p) for p in sorted(glob.glob(str(full), recursive=True))]
        else:
            matches = [full] if full.exists() else []
        if not matches:
            raise FileNotFoundError(f"source {source!r}: {pattern!r} matches nothing (looked in {base_dir})")
        for match in matches:
            inputs.extend(_walk(match, reader) if match.is_dir() else [match])
    unique: dict[Path, None] = dict.fromkeys(inputs)
    return list(unique)


def _head(path: Path) -> bytes:
    try:
        with open_binary(path) as handle:
            return handle.read(_SNIFF_BYTES)
    except READ_ERRORS:
        return b""  # the reader will report the damage as a reject


def detect_input_reader(path: Path) -> str | None:
    """The reader for ``path`` from its suffix and, where ambiguous, its first bytes."""
    if path.is_dir():
        return "latex"
    by_suffix = detect_reader(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".txt", ".nbib", ".medline")):
        return "medline" if _head(path).lstrip().startswith(b"PMID-") else by_suffix
    if name.endswith((".jsonl", ".ndjson")):
        first_line = _head(path).split(b"\n", 1)[0]
        return "unarxive" if b'"body_text"' in first_line and b'"paper_id"' in first_line else by_suffix
    if name.endswith((".xml", ".nxml")):
        head = _head(path)
        if b"<PubmedArticleSet" in head or b"<PubmedBookArticle" in head:
            return "pubmed_xml"
        if b"<article" in head:
            return "jats"
    return by_suffix


def display_path(path: Path, base_dir: Path) -> str:
    """``path`` relative to ``base_dir`` when inside it (stable across checkouts), else absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(base_dir.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()
