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

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.cleaning.minhash import MinHashConfig
from sciprep.cleaning.signature_store import (
    IDS,
    OFFSETS,
    SHINGLES,
    SIGNATURES,
    check_store_arrays,
    load_store_array,
    read_store_manifest,
)

#: Documents per verification read group (reference nodes are grouped by index // this).
VERIFY_CHUNK = 65536
_ARRAYS = (SIGNATURES, SHINGLES, OFFSETS)


@dataclass(frozen=True)
class ReferenceStore:
    """Where a checked store is (an absolute path), how many documents it holds, and its ids' row groups."""

    root: Path
    count: int
    num_perm: int
    #: ``(first document, documents)`` of each row group of ``ids.parquet``.
    id_groups: tuple[tuple[int, int], ...]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Memory-mapped ``(signatures, shingles, offsets)``."""
        signatures, shingles, offsets = (load_store_array(self.root / n, mmap=True) for n in _ARRAYS)
        return signatures, shingles, offsets

    def read(self, indices: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Signatures ``(k, num_perm)`` and shingle sequences of documents ``indices``."""
        signatures, shingles, offsets = self.arrays()
        idx = np.asarray(indices, dtype=np.int64)
        return np.asarray(signatures[idx]), [np.asarray(shingles[offsets[i] : offsets[i + 1]]) for i in idx]


def open_reference(path: str | Path, expect: MinHashConfig) -> ReferenceStore:
    """Check the store at ``path`` against ``expect`` and describe it (see the module docstring).

    A relative ``path`` starts at this process's working directory, not the tasks'.
    """
    root = Path(path).absolute()
    config, count = read_store_manifest(root, expect)
    sig, sh, off = (load_store_array(root / name, mmap=True) for name in _ARRAYS)
    if not (root / IDS).is_file():
        raise FileNotFoundError(f"{root / IDS}: missing from the signature store")
    meta = pq.ParquetFile(root / IDS).metadata
    check_store_arrays(root, config, count, sig, sh, off, meta.num_rows)
    groups, start = [], 0
    for g in range(meta.num_row_groups):
        rows = meta.row_group(g).num_rows
        groups.append((start, rows))
        start += rows
    return ReferenceStore(root, count, config.num_perm, tuple(groups))


def reference_ids(store: ReferenceStore, group: int) -> pa.Array:
    """The ids of row group ``group`` of ``ids.parquet``."""
    return pq.ParquetFile(store.root / IDS).read_row_group(group, columns=["id"]).column("id").combine_chunks()
