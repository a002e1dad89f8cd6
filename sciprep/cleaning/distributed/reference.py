"""A reference signature store read piecewise: memory-mapped rows, never the whole store.

The driver checks the store as :func:`~sciprep.cleaning.signature_store.load_signature_store`
does (same errors: missing or incomplete store, unreadable manifest, other sketch
format or MinHash settings, inconsistent arrays), reading only headers, the manifest
and the offsets, in bounded chunks. Tasks then memory-map the arrays and read the rows
they need: one row group of ``ids.parquet`` at a time when banding, single documents
when verifying. The store must sit where every Ray node can read it (as the output
directory must).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.cleaning.minhash import SKETCH_FORMAT, MinHashConfig
from sciprep.cleaning.signature_store import MANIFEST, compatible

SIGNATURES = "signatures.npy"
SHINGLES = "shingles.npy"
OFFSETS = "shingle_offsets.npy"
IDS = "ids.parquet"
#: Documents per verification read group (reference nodes are grouped by index // this).
VERIFY_CHUNK = 65536
_CHECK_CHUNK = 1 << 20
_SKETCH_KEYS = ("ngram", "num_perm", "seed", "lowercase", "keep_punctuation", "collapse_numbers")


@dataclass(frozen=True)
class ReferenceStore:
    """Where a checked store is, how many documents it holds, and its ids' row groups."""

    root: Path
    count: int
    num_perm: int
    #: ``(first document, documents)`` of each row group of ``ids.parquet``.
    id_groups: tuple[tuple[int, int], ...]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Memory-mapped ``(signatures, shingles, offsets)``."""
        return tuple(_mmap(self.root / name) for name in (SIGNATURES, SHINGLES, OFFSETS))  # type: ignore[return-value]

    def read(self, indices: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Signatures ``(k, num_perm)`` and shingle sequences of documents ``indices``."""
        signatures, shingles, offsets = self.arrays()
        idx = np.asarray(indices, dtype=np.int64)
        return np.asarray(signatures[idx]), [np.asarray(shingles[offsets[i] : offsets[i + 1]]) for i in idx]


def _mmap(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from the signature store")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise ValueError(f"{path}: not a plain numpy array file: {err}") from err


def open_reference(path: str | Path, expect: MinHashConfig) -> ReferenceStore:
    """Check the store at ``path`` against ``expect`` and describe it (see the module docstring)."""
    root = Path(path)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{root}: not a MinHash signature store (no {MANIFEST}; it is written last, "
            "so the store may be incomplete: rebuild it)"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        raw = dict(manifest["config"])
        fmt = raw.pop("sketch_format")
        config = MinHashConfig(**raw)
        count = int(manifest["documents"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{manifest_path}: unreadable signature store manifest: {err}") from err
    if fmt != SKETCH_FORMAT:
        raise ValueError(
            f"{manifest_path}: sketch format {fmt} differs from this version's {SKETCH_FORMAT}; recompute the store"
        )
    if not compatible(config, expect):
        diff = {
            k: (getattr(config, k), getattr(expect, k))
            for k in _SKETCH_KEYS
            if getattr(config, k) != getattr(expect, k)
        }
        raise ValueError(f"{manifest_path}: store made with other MinHash settings (stored, wanted): {diff}")
    sig, sh, off = (_mmap(root / name) for name in (SIGNATURES, SHINGLES, OFFSETS))
    if not (root / IDS).is_file():
        raise FileNotFoundError(f"{root / IDS}: missing from the signature store")
    meta = pq.ParquetFile(root / IDS).metadata
    problems = []
    if sig.dtype != np.uint32 or sig.ndim != 2 or sig.shape != (count, config.num_perm):
        problems.append(f"signatures are {sig.dtype}{sig.shape}, expected uint32({count}, {config.num_perm})")
    if sh.dtype != np.uint32 or sh.ndim != 1:
        problems.append(f"shingles are {sh.dtype}{sh.shape}, expected a uint32 vector")
    if off.dtype != np.int64 or off.shape != (count + 1,):
        problems.append(f"shingle offsets are {off.dtype}{off.shape}, expected int64({count + 1},)")
    elif off[0] != 0 or off[-1] != sh.size or not _non_decreasing(off):
        problems.append("shingle offsets are not a non-decreasing cover of the shingles")
    if meta.num_rows != count:
        problems.append(f"{IDS} has {meta.num_rows} ids, expected {count}")
    if problems:
        raise ValueError(f"{root}: inconsistent signature store: {'; '.join(problems)}")
    groups, start = [], 0
    for g in range(meta.num_row_groups):
        rows = meta.row_group(g).num_rows
        groups.append((start, rows))
        start += rows
    return ReferenceStore(root, count, config.num_perm, tuple(groups))


def _non_decreasing(offsets: np.ndarray) -> bool:
    for lo in range(0, offsets.size - 1, _CHECK_CHUNK):
        chunk = np.asarray(offsets[lo : lo + _CHECK_CHUNK + 1])
        if np.any(np.diff(chunk) < 0):
            return False
    return True


def reference_ids(store: ReferenceStore, group: int) -> pa.Array:
    """The ids of row group ``group`` of ``ids.parquet``."""
    return pq.ParquetFile(store.root / IDS).read_row_group(group, columns=["id"]).column("id").combine_chunks()
