"""Opening untrusted input files: transparent gzip, bounded size, strict UTF-8.

Every reader in this package opens its input through :func:`open_text` or
:func:`open_binary` so that a ``.gz`` file is decompressed on the fly, a decompression
bomb stops at :data:`MAX_INPUT_BYTES` instead of filling memory or disk, and the errors a
broken file can raise are one tuple (:data:`READ_ERRORS`) a reader catches at the record
boundary and turns into a :class:`~sciprep.corpus.shards.Reject`.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import IO

from sciprep.corpus.shards import Reject

#: Upper bound on the (decompressed) bytes read from one input file.
MAX_INPUT_BYTES = 8 * 1024**3

_GZIP_MAGIC = b"\x1f\x8b"


class InputTooLarge(ValueError):
    """Raised when a file (after decompression) exceeds the byte limit."""


#: What reading a damaged, truncated, oversized or mis-encoded file can raise.
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    UnicodeDecodeError,
    InputTooLarge,
)


class _BoundedRaw(io.RawIOBase):
    """A raw stream that raises :class:`InputTooLarge` once ``limit`` bytes were read."""

    def __init__(self, inner: IO[bytes], limit: int, name: str) -> None:
        self._inner = inner
        self._limit = limit
        self._seen = 0
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        self._seen += len(data)
        if self._seen > self._limit:
            raise InputTooLarge(
                f"{self._name}: more than {self._limit} bytes after decompression; "
                "split the file or raise the limit"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def is_gzip(path: Path) -> bool:
    """True when ``path`` starts with the gzip magic bytes (whatever its suffix)."""
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def open_binary(path: Path, limit: int = MAX_INPUT_BYTES) -> io.BufferedReader:
    """Open ``path`` for reading bytes, gunzipping if needed, bounded to ``limit`` bytes."""
    inner: IO[bytes] = gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")
    return io.BufferedReader(_BoundedRaw(inner, limit, str(path)))


def open_text(path: Path, limit: int = MAX_INPUT_BYTES, newline: str | None = None) -> io.TextIOWrapper:
    """Open ``path`` as strict UTF-8 text (BOM tolerated), gunzipping if needed, bounded."""
    return io.TextIOWrapper(open_binary(path, limit), encoding="utf-8-sig", newline=newline)


def read_bounded(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """All (decompressed) bytes of ``path``; :class:`InputTooLarge` past ``limit`` bytes."""
    with open_binary(path, limit) as handle:
        return handle.read()


def describe_error(err: BaseException) -> str:
    """A one-line description of a read error for a reject reason."""
    if isinstance(err, UnicodeDecodeError):
        return f"not valid UTF-8 at byte {err.start}; convert the file to UTF-8"
    if isinstance(err, EOFError):
        return f"file is truncated ({err}); re-download it"
    if isinstance(err, zlib.error | gzip.BadGzipFile):
        return f"corrupt gzip data ({err}); re-download it"
    return f"{type(err).__name__}: {err}"


def reject(source: str, path: Path, position: str, reason: str) -> Reject:
    """A read-step :class:`Reject` for record ``position`` of ``path``."""
    return Reject(source=source, file=str(path), position=position, reason=reason)
