"""Read an arXiv LaTeX source into memory, safely.

arXiv serves a paper's source as a gzip'd tar (``.tar.gz``/``.tgz``), a gzip'd single
``.tex`` (``.gz``), or authors hand over a directory or one ``.tex`` file. :func:`load_source`
returns the text files that matter (``.tex``, ``.ltx``, ``.bbl``, ``.bib``) as
``relative posix path -> bytes`` and never writes to disk.

Archives are untrusted: members are read in one streaming pass with bounded counts and
sizes (:data:`MAX_MEMBERS`, :data:`MAX_FILE_BYTES`, :data:`MAX_TEXT_BYTES`,
:data:`MAX_ARCHIVE_BYTES` decompressed), links and devices are skipped, and names that are
absolute or climb out with ``..`` are skipped (listed in :attr:`SourceFiles.skipped`).
A corrupt or truncated archive raises :class:`SourceError` with the reason.
"""

from __future__ import annotations

import gzip
import os
import posixpath
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

MAX_MEMBERS = 10_000
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_TEXT_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
TEXT_SUFFIXES = (".tex", ".ltx", ".bbl", ".bib")
_TAR_MAGIC_OFFSET = 257


class SourceError(ValueError):
    """The source cannot be read (corrupt, truncated, too large, nothing usable)."""


@dataclass
class SourceFiles:
    """The text files of one LaTeX source, keyed by normalized relative posix path."""

    files: dict[str, bytes]
    skipped: list[str] = field(default_factory=list)


def load_source(path: Path) -> SourceFiles:
    """The text files of a directory, ``.tex``, ``.tar(.gz)``/``.tgz`` or ``.gz`` source."""
    if path.is_dir():
        return _load_directory(path)
    name = path.name.lower()
    if name.endswith((".tex", ".ltx")):
        return _load_single_tex(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(2)
        if head == b"\x1f\x8b":
            return _load_gzip(path)
        if _is_tar(path):
            with tarfile.open(path, mode="r|") as tar:
                return _load_tar(tar)
    except (OSError, EOFError, zlib.error, tarfile.TarError) as err:
        raise SourceError(f"corrupt or truncated archive: {err}") from None
    raise SourceError("not a LaTeX source: expected a directory, .tex, .tar.gz/.tgz or gzip'd .tex")


def _read_bounded_file(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SourceError(f"{path.name} is {size} bytes, over the {MAX_FILE_BYTES}-byte limit for one file")
    return path.read_bytes()


def _load_single_tex(path: Path) -> SourceFiles:
    """A lone ``.tex`` plus the bibliography beside it: every sibling ``.bib`` (used only
    when ``\\bibliography`` names it) and the ``.bbl`` of the same stem, as BibTeX or
    latexmk leave them next to a paper a user keeps outside an archive."""
    files = {path.name: _read_bounded_file(path)}
    siblings = sorted(path.parent.glob("*.bib")) + [path.with_suffix(".bbl")]
    for sibling in siblings:
        if sibling.is_file() and not sibling.is_symlink():
            files[sibling.name] = _read_bounded_file(sibling)
    return SourceFiles(files)


def _load_directory(root: Path) -> SourceFiles:
    files: dict[str, bytes] = {}
    skipped: list[str] = []
    total = 0
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for filename in sorted(filenames):
            seen += 1
            if seen > MAX_MEMBERS:
                raise SourceError(f"directory has more than {MAX_MEMBERS} files")
            full = Path(dirpath) / filename
            rel = full.relative_to(root).as_posix()
            if not filename.lower().endswith(TEXT_SUFFIXES):
                continue
            if full.is_symlink():
                skipped.append(f"{rel} (symbolic link)")
                continue
            data = _read_bounded_file(full)
            total += len(data)
            if total > MAX_TEXT_BYTES:
                raise SourceError(f"text files exceed {MAX_TEXT_BYTES} bytes in total")
            files[rel] = data
    return SourceFiles(files, skipped)


def _is_tar(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(_TAR_MAGIC_OFFSET)
        return handle.read(5) == b"ustar"


def _load_gzip(path: Path) -> SourceFiles:
    with gzip.open(path, "rb") as stream:
        head = stream.read(_TAR_MAGIC_OFFSET + 5)
    if head[_TAR_MAGIC_OFFSET:] == b"ustar":
        with tarfile.open(path, mode="r|gz") as tar:
            return _load_tar(tar)
    with gzip.open(path, "rb") as stream:
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SourceError(f"gzip'd file decompresses to more than {MAX_FILE_BYTES} bytes")
    stem = path.name[: -len(".gz")] if path.name.lower().endswith(".gz") else path.name
    if not stem.lower().endswith(TEXT_SUFFIXES):
        stem += ".tex"
    return SourceFiles({stem: data})


def _load_tar(tar: tarfile.TarFile) -> SourceFiles:
    """One streaming pass over a tar: bounded, no links, no names escaping the root."""
    files: dict[str, bytes] = {}
    skipped: list[str] = []
    members = 0
    declared = 0
    text_total = 0
    for member in tar:
        members += 1
        if members > MAX_MEMBERS:
            raise SourceError(f"archive has more than {MAX_MEMBERS} members")
        declared += max(member.size, 0)
        if declared > MAX_ARCHIVE_BYTES:
            raise SourceError(f"archive expands to more than {MAX_ARCHIVE_BYTES} bytes")
        name = _safe_name(member.name)
        if name is None:
            skipped.append(f"{member.name} (absolute or outside the archive)")
            continue
        if not member.isfile():
            if member.issym() or member.islnk():
                skipped.append(f"{name} (link)")
            continue
        if not name.lower().endswith(TEXT_SUFFIXES):
            continue
        if member.size > MAX_FILE_BYTES:
            raise SourceError(f"{name} is {member.size} bytes, over the {MAX_FILE_BYTES}-byte limit")
        handle = tar.extractfile(member)
        if handle is None:
            continue
        data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) != member.size:
            raise SourceError(f"{name}: archive truncated inside this member")
        text_total += len(data)
        if text_total > MAX_TEXT_BYTES:
            raise SourceError(f"text files exceed {MAX_TEXT_BYTES} bytes in total")
        files[name] = data
    return SourceFiles(files, skipped)


def _safe_name(name: str) -> str | None:
    """Normalized relative name, or None for absolute names and ``..`` escapes."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    norm = posixpath.normpath(name.replace("\\", "/"))
    if norm == ".." or norm.startswith("../"):
        return None
    return norm
