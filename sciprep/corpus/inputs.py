"""From a source's ``path:`` entries to the concrete inputs, each with its reader.

Expansion is deterministic (sorted, hidden files skipped) so two builds read the same
files in the same order. A directory is walked recursively without following symbolic
links: a link found inside an input folder is listed as an input of its own so the build
records it as a reject (:func:`input_problem`) instead of reading outside the tree or
looping. Paths the recipe names itself (or a glob matches) are followed. A directory
holding ``.tex`` files is one LaTeX source tree, unless it holds several independent
papers (:func:`~sciprep.corpus.latex.inputs.independent_mains`): then each main ``.tex``
is an input of its own, read with the ``.bib`` files beside it and its same-stem ``.bbl``.
A sciprep corpus folder (``manifest.json`` beside ``shards/``) stands for its shards only.
Reader detection uses the registry's suffix table, refined by a look at the content where
a suffix is ambiguous: a ``.txt`` starting with ``PMID-`` is MEDLINE, an ``.xml`` whose
root is ``<article>`` is JATS, a JSON-lines file whose first record has unarXive/S2ORC's
``body_text`` paragraphs is ``unarxive``.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from sciprep.corpus.latex.archive import SourceError, load_source
from sciprep.corpus.latex.inputs import independent_mains, tex_texts
from sciprep.corpus.readers import detect_reader
from sciprep.corpus.readers.sourcefile import READ_ERRORS, open_binary
from sciprep.corpus.shards import MANIFEST_FILE, SHARDS_DIR

_SNIFF_BYTES = 4096
#: Folders nested deeper than this below an input folder are refused (a bound on the walk).
MAX_WALK_DEPTH = 64


def _walk(directory: Path, reader: str | None, depth: int = 0) -> list[Path]:
    if depth > MAX_WALK_DEPTH:
        raise ValueError(f"{directory}: folders nested more than {MAX_WALK_DEPTH} levels deep")
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return [directory]  # the build rejects it with the reason (input_problem)
    if _is_corpus_folder(entries):
        return _walk(directory / SHARDS_DIR, reader, depth + 1)  # not its rejects or manifest
    if reader in (None, "latex") and any(
        e.name.endswith(".tex") and e.is_file(follow_symlinks=False) for e in entries
    ):
        return _latex_inputs(directory)
    found: list[Path] = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        child = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            found.extend(_walk(child, reader, depth + 1))
        else:
            found.append(child)
    return found


def _is_corpus_folder(entries: list[os.DirEntry[str]]) -> bool:
    """A sciprep corpus folder: ``manifest.json`` beside a ``shards/`` folder."""
    names = {e.name: e for e in entries}
    return (
        MANIFEST_FILE in names
        and names[MANIFEST_FILE].is_file(follow_symlinks=False)
        and SHARDS_DIR in names
        and names[SHARDS_DIR].is_dir(follow_symlinks=False)
    )


def _latex_inputs(directory: Path) -> list[Path]:
    """The folder as one source tree, or each main file when it holds several papers."""
    try:
        mains = independent_mains(tex_texts(load_source(directory).files))
    except SourceError:
        return [directory]  # the reader reports why as a reject
    return [directory / name for name in mains] if len(mains) > 1 else [directory]


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
            matches = [full] if full.exists() or full.is_symlink() else []
        if not matches:
            raise FileNotFoundError(f"source {source!r}: {pattern!r} matches nothing (looked in {base_dir})")
        for match in matches:
            named = Path(os.path.realpath(match))  # a link the recipe names is followed
            inputs.extend(_walk(named, reader) if named.is_dir() else [named])
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


def input_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input (a reject reason), or None when it can."""
    if path.is_symlink():
        return (
            "symbolic link inside an input folder, not followed; "
            "name its target in the recipe to read it"
        )
    try:
        if path.is_dir():
            with os.scandir(path):
                return None
        with open(path, "rb"):
            return None
    except OSError as err:
        return f"cannot read: {err.strerror or err}"


def display_path(path: Path, base_dir: Path) -> str:
    """``path`` relative to ``base_dir`` when inside it (stable across checkouts), else absolute.

    A link is shown where it lies (its folder resolved), not where it points.
    """
    if path.is_symlink():
        resolved = Path(os.path.realpath(path.parent)) / path.name
    else:
        resolved = Path(os.path.realpath(path))
    try:
        return resolved.relative_to(os.path.realpath(base_dir)).as_posix()
    except ValueError:
        return resolved.as_posix()
