"""A directory of MinHash sketches, so a later corpus can be deduplicated against this one.

Layout (every file opens without sciprep: numpy ``.npy``, Parquet, JSON)::

    DIR/signatures.npy       (n, num_perm) uint32 MinHash signatures
    DIR/shingles.npy         uint32 shingle fingerprints, each document's in text order in turn
    DIR/shingle_offsets.npy  (n + 1,) int64: document i owns shingles[off[i]:off[i+1]]
    DIR/ids.parquet          one column ``id`` (string), row i = document i
    DIR/minhash.json         the MinHashConfig, sketch format and document count

``minhash.json`` is written last, so a store without it is incomplete. Arrays are
read with ``allow_pickle=False``; a store made with other shingle or hashing
settings is refused rather than silently compared.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.atomicio import atomic_path, write_json_atomic
from sciprep.cleaning.minhash import SKETCH_FORMAT, MinHashConfig, Sketch

MANIFEST = "minhash.json"
SIGNATURES = "signatures.npy"
SHINGLES = "shingles.npy"
OFFSETS = "shingle_offsets.npy"
IDS = "ids.parquet"
_ARRAYS = {"signatures": SIGNATURES, "shingles": SHINGLES, "offsets": OFFSETS}
#: Settings that change what a signature or shingle means; the rest (banding) may differ.
_SKETCH_KEYS = ("ngram", "num_perm", "seed", "lowercase", "keep_punctuation", "collapse_numbers")
#: Offsets checked per step, so a memory-mapped store is never read whole.
_CHECK_CHUNK = 1 << 20


@dataclass
class SignatureStore:
    """Sketches of ``ids`` made under ``config``."""

    config: MinHashConfig
    ids: list[str]
    sketch: Sketch

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.sketch):
            raise ValueError(f"signature store has {len(self.ids)} ids for {len(self.sketch)} sketches")


def compatible(a: MinHashConfig, b: MinHashConfig) -> bool:
    """Whether sketches made under ``a`` and ``b`` can be compared (banding may differ)."""
    return all(getattr(a, k) == getattr(b, k) for k in _SKETCH_KEYS)


def save_signature_store(path: str | os.PathLike[str], store: SignatureStore) -> None:
    """Write ``store`` to directory ``path`` (created; existing store files are replaced)."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    (root / MANIFEST).unlink(missing_ok=True)
    arrays = {
        "signatures": np.ascontiguousarray(store.sketch.signatures, dtype=np.uint32),
        "shingles": np.ascontiguousarray(store.sketch.shingles, dtype=np.uint32),
        "offsets": np.ascontiguousarray(store.sketch.offsets, dtype=np.int64),
    }
    for key, name in _ARRAYS.items():
        with atomic_path(root / name) as tmp, open(tmp, "wb") as fh:
            np.save(fh, arrays[key], allow_pickle=False)
    with atomic_path(root / IDS) as tmp:
        pq.write_table(pa.table({"id": pa.array(store.ids, type=pa.string())}), tmp)
    write_json_atomic(root / MANIFEST, {"config": store.config.to_mapping(), "documents": len(store.ids)})


def load_signature_store(path: str | os.PathLike[str], expect: MinHashConfig | None = None) -> SignatureStore:
    """Read a store written by :func:`save_signature_store`.

    With ``expect``, the store's sketch settings must match it. Raises
    ``FileNotFoundError`` for a missing/incomplete store and ``ValueError`` (naming
    the file) for inconsistent or incompatible contents.
    """
    root = Path(path)
    config, count = read_store_manifest(root, expect)
    arrays = {key: load_store_array(root / name) for key, name in _ARRAYS.items()}
    ids = pq.read_table(root / IDS, columns=["id"]).column("id").to_pylist()
    check_store_arrays(root, config, count, arrays["signatures"], arrays["shingles"], arrays["offsets"], len(ids))
    sketch = Sketch(arrays["signatures"], arrays["shingles"], arrays["offsets"])
    return SignatureStore(config, ids, sketch)


def read_store_manifest(root: Path, expect: MinHashConfig | None = None) -> tuple[MinHashConfig, int]:
    """The MinHash settings and document count of the store at ``root``, checked.

    Raises ``FileNotFoundError`` when the manifest is missing (an incomplete store) and
    ``ValueError`` for an unreadable manifest, another sketch format, or settings other
    than ``expect``'s.
    """
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
            f"{manifest_path}: sketch format {fmt} differs from this version's {SKETCH_FORMAT}; "
            "recompute the store"
        )
    if expect is not None and not compatible(config, expect):
        diff = {
            k: (getattr(config, k), getattr(expect, k))
            for k in _SKETCH_KEYS
            if getattr(config, k) != getattr(expect, k)
        }
        raise ValueError(f"{manifest_path}: store made with other MinHash settings (stored, wanted): {diff}")
    return config, count


def load_store_array(path: Path, *, mmap: bool = False) -> np.ndarray:
    """One ``.npy`` file of a store (memory-mapped read-only with ``mmap``); no pickles."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from the signature store")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as err:
        raise ValueError(f"{path}: not a plain numpy array file: {err}") from err


def check_store_arrays(
    root: Path, config: MinHashConfig, count: int,
    signatures: np.ndarray, shingles: np.ndarray, offsets: np.ndarray, n_ids: int,
) -> None:  # fmt: skip
    """Raise ``ValueError`` naming ``root`` when the arrays do not fit the manifest.

    Reads the offsets in bounded chunks, so memory-mapped arrays stay on disk.
    """
    problems = []
    sig, sh, off = signatures, shingles, offsets
    if sig.dtype != np.uint32 or sig.ndim != 2 or sig.shape != (count, config.num_perm):
        problems.append(f"signatures are {sig.dtype}{sig.shape}, expected uint32({count}, {config.num_perm})")
    if sh.dtype != np.uint32 or sh.ndim != 1:
        problems.append(f"shingles are {sh.dtype}{sh.shape}, expected a uint32 vector")
    if off.dtype != np.int64 or off.shape != (count + 1,):
        problems.append(f"shingle offsets are {off.dtype}{off.shape}, expected int64({count + 1},)")
    elif off[0] != 0 or off[-1] != sh.size or not _non_decreasing(off):
        problems.append("shingle offsets are not a non-decreasing cover of the shingles")
    if n_ids != count:
        problems.append(f"{IDS} has {n_ids} ids, expected {count}")
    if problems:
        raise ValueError(f"{root}: inconsistent signature store: {'; '.join(problems)}")


def _non_decreasing(offsets: np.ndarray) -> bool:
    for lo in range(0, offsets.size - 1, _CHECK_CHUNK):
        if np.any(np.diff(np.asarray(offsets[lo : lo + _CHECK_CHUNK + 1])) < 0):
            return False
    return True


def concat_stores(stores: Sequence[SignatureStore]) -> SignatureStore:
    """One store holding ``stores`` in order (all must have compatible settings)."""
    if not stores:
        raise ValueError("concat_stores needs at least one store")
    first = stores[0].config
    for other in stores[1:]:
        if not compatible(first, other.config):
            raise ValueError("cannot concatenate signature stores made with different MinHash settings")
    ids = [i for s in stores for i in s.ids]
    return SignatureStore(first, ids, Sketch.concat([s.sketch for s in stores], first.num_perm))
