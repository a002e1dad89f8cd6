"""The token file format: a fixed-size JSON header, then raw little-endian token ids.

A ``.tokens`` file opens without sciprep::

    header = json.loads(open(path, "rb").read(4096))
    tokens = numpy.memmap(path, dtype=header["dtype"], mode="r", offset=header["header_bytes"])

The header is versioned (``format``/``version``) so a reader can refuse files it does
not understand instead of silently misreading them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

TOKEN_FORMAT = "sciprep-tokens"
TOKEN_FORMAT_VERSION = 1
HEADER_BYTES = 4096


def token_dtype(vocab_size: int) -> np.dtype[Any]:
    """uint16 when every id fits in 16 bits, else uint32."""
    return np.dtype(np.uint16) if vocab_size <= 2**16 else np.dtype(np.uint32)


def write_header(fh: BinaryIO, header: dict[str, Any]) -> None:
    """Write ``header`` (padded to :data:`HEADER_BYTES`) at the start of ``fh``."""
    full = {"format": TOKEN_FORMAT, "version": TOKEN_FORMAT_VERSION, "header_bytes": HEADER_BYTES}
    full.update(header)
    raw = json.dumps(full, sort_keys=True).encode("utf-8")
    if len(raw) >= HEADER_BYTES:
        raise ValueError(f"token file header is {len(raw)} bytes; at most {HEADER_BYTES - 1} fit")
    fh.seek(0)
    fh.write(raw + b" " * (HEADER_BYTES - 1 - len(raw)) + b"\n")


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a token file; ValueError when it is not one this version reads."""
    with open(path, "rb") as fh:
        raw = fh.read(HEADER_BYTES)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a sciprep token file (bad header: {err})") from err
    if header.get("format") != TOKEN_FORMAT or header.get("version") != TOKEN_FORMAT_VERSION:
        raise ValueError(
            f"{path}: token file format {header.get('format')!r} v{header.get('version')} is not "
            f"{TOKEN_FORMAT!r} v{TOKEN_FORMAT_VERSION}; re-run `sciprep train pack`"
        )
    return header  # type: ignore[no-any-return]


def open_tokens(path: str | os.PathLike[str]) -> np.ndarray[Any, Any]:
    """Memory-map the token ids of a token file (read-only) after checking its size."""
    header = read_header(path)
    dtype = np.dtype(header["dtype"])
    expected = header["header_bytes"] + header["tokens"] * dtype.itemsize
    actual = Path(path).stat().st_size
    if actual != expected:
        raise ValueError(
            f"{path}: {actual} bytes but the header promises {expected}; the file is truncated "
            "or corrupt, re-run `sciprep train pack`"
        )
    if header["tokens"] == 0:
        return np.empty(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=header["header_bytes"])
