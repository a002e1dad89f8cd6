"""``sciprep train pack``: a corpus directory -> memory-mapped token files.

Output layout (every file opens without sciprep)::

    OUT/packed.json            what was packed: splits, per-source token counts, weights
    OUT/<split>.tokens         token ids (see :mod:`sciprep.training.token_files`)
    OUT/<split>.docs.parquet   one row per document: id, source, start, length
    OUT/tokenizer/             the tokenizer the ids belong to (``SciTokenizer.save``)
    OUT/rejects.parquet        documents that could not be packed, with reasons
    OUT/parts/                 per-shard intermediate results (resume)

Splits: ``train`` and ``val`` hold ordinary documents, held out by
:func:`sciprep.corpus.splits.is_validation`; ``prompts`` holds prompt records of
the train split (for prompt pre-training). Prompt records of the test split are
left out of every stream so tuning evaluation never sees trained-on answers.
Within a split documents are grouped by source (sorted by name), in corpus order
inside a source, each followed by ``</s>``. Conservation: ``documents_in`` =
packed + ``held_out_prompts`` + rejected.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from sciprep.atomicio import atomic_path, write_json_atomic
from sciprep.corpus.document import Document
from sciprep.corpus.shards import MANIFEST_FILE, Reject, list_shards, read_documents, write_rejects
from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION, is_validation
from sciprep.tokenize.specials import EOS, SPECIAL_IDS
from sciprep.training.atomic_dirs import atomic_dir
from sciprep.training.token_files import token_dtype, write_header

PACKED_FORMAT = "sciprep-packed"
PACKED_VERSION = 1
PACKED_META = "packed.json"
SPLITS = ("train", "val", "prompts")
EOS_ID = SPECIAL_IDS[EOS]
_ENCODE_BATCH = 256


def read_source_weights(corpus_dir: str | os.PathLike[str]) -> dict[str, float]:
    """Per-source upsampling weights from ``manifest.json`` (absent manifest/weight -> 1.0)."""
    path = Path(corpus_dir) / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err}); fix or delete the manifest") from err
    sources = manifest.get("sources") if isinstance(manifest, dict) else None
    weights: dict[str, float] = {}
    for name, entry in (sources or {}).items():
        if not isinstance(entry, dict) or entry.get("weight") is None:
            continue
        weight = entry["weight"]
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ValueError(f"{path}: source {name!r} has weight {weight!r}; need a number >= 0")
        weights[name] = float(weight)
    return weights


def tokenizer_fingerprint(tokenizer_dir: str | os.PathLike[str]) -> str:
    """A hash of the tokenizer's files: packed ids are only valid for this tokenizer."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(tokenizer_dir).iterdir() if p.is_file()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _assign_split(doc: Document, val_fraction: float, split_seed: int) -> str | None:
    """``train``/``val``/``prompts`` for a usable document, None for a held-out prompt."""
    if doc.kind == "prompt":
        if doc.split == "test" or (
            doc.split is None and is_validation(doc.id, val_fraction, split_seed)
        ):
            return None
        return "prompts"
    return "val" if is_validation(doc.id, val_fraction, split_seed) else "train"


def _reject_reason(doc: Document) -> str | None:
    if not doc.text.strip():
        return "empty text"
    if doc.kind == "prompt" and (not doc.prompt or not doc.answer):
        return "prompt record without both prompt and answer"
    return None


def _pack_shard(shard: Path, tokenizer: Any, fingerprint: str, opts: dict[str, Any],
                part: Path, bar: tqdm) -> None:  # fmt: skip
    """Tokenise one shard into ``part`` (an ``.npz`` of plain arrays plus JSON metadata)."""
    ids: dict[str, list[str]] = {s: [] for s in SPLITS}
    sources: dict[str, list[str]] = {s: [] for s in SPLITS}
    token_lists: dict[str, list[list[int]]] = {s: [] for s in SPLITS}
    rejects: list[dict[str, str]] = []
    held_out = 0
    pending: list[tuple[str, Document]] = []

    def flush() -> None:
        encoded = tokenizer.encode_batch([d.text for _, d in pending])
        for (split, doc), toks in zip(pending, encoded, strict=True):
            ids[split].append(doc.id)
            sources[split].append(doc.source)
            token_lists[split].append(list(toks))
        bar.update(len(pending))
        pending.clear()

    for doc in read_documents(shard):
        reason = _reject_reason(doc)
        if reason is not None:
            rejects.append({"source": doc.source, "id": doc.id, "reason": reason})
            bar.update(1)
            continue
        split = _assign_split(doc, opts["val_fraction"], opts["split_seed"])
        if split is None:
            held_out += 1
            bar.update(1)
            continue
        pending.append((split, doc))
        if len(pending) >= _ENCODE_BATCH:
            flush()
    if pending:
        flush()
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    for split in SPLITS:
        lengths = np.array([len(t) for t in token_lists[split]], dtype=np.int64)
        flat = np.fromiter(
            (tok for toks in token_lists[split] for tok in (*toks, EOS_ID)),
            dtype=np.uint32,
            count=int(lengths.sum() + len(lengths)),
        )
        arrays[f"{split}_tokens"] = flat
        arrays[f"{split}_lengths"] = lengths
    meta = {"fingerprint": fingerprint, "ids": ids, "sources": sources, "rejects": rejects,
            "held_out_prompts": held_out}  # fmt: skip
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with atomic_path(part) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy stubs mistype **arrays


def _load_part(part: Path) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, Any]]:
    with np.load(part, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    return arrays, meta


def _assemble_split(split: str, parts: list[Path], out: Path, vocab_size: int) -> dict[str, Any]:
    """Concatenate a split's documents from all parts, grouped by source, into token files."""
    loaded = [_load_part(p) for p in parts]
    names = sorted({s for _, meta in loaded for s in meta["sources"][split]})
    dtype = token_dtype(vocab_size)
    rows: dict[str, list[Any]] = {"id": [], "source": [], "start": [], "length": []}
    source_ranges: dict[str, dict[str, int]] = {}
    position = 0
    with atomic_path(out / f"{split}.tokens") as tmp:
        with open(tmp, "wb") as fh:
            write_header(fh, {})
            for name in names:
                begin, docs = position, 0
                for arrays, meta in loaded:
                    doc_sources = np.array(meta["sources"][split], dtype=object)
                    lengths = arrays[f"{split}_lengths"]
                    chosen = doc_sources == name if len(lengths) else np.zeros(0, dtype=bool)
                    if not chosen.any():
                        continue
                    mask = np.repeat(chosen, lengths + 1)
                    fh.write(arrays[f"{split}_tokens"][mask].astype(dtype).tobytes())
                    starts = position + np.concatenate(([0], np.cumsum(lengths[chosen] + 1)[:-1]))
                    rows["id"].extend(np.array(meta["ids"][split], dtype=object)[chosen].tolist())
                    rows["source"].extend([name] * int(chosen.sum()))
                    rows["start"].extend(starts.tolist())
                    rows["length"].extend(lengths[chosen].tolist())
                    position += int((lengths[chosen] + 1).sum())
                    docs += int(chosen.sum())
                source_ranges[name] = {"start": begin, "end": position, "documents": docs,
                                       "tokens": position - begin}  # fmt: skip
            header = {"split": split, "dtype": dtype.name, "tokens": position,
                      "documents": len(rows["id"]), "vocab_size": vocab_size, "eos_id": EOS_ID,
                      "sources": {n: [r["start"], r["end"]] for n, r in source_ranges.items()}}  # fmt: skip
            write_header(fh, header)
    table = pa.table(
        {
            "id": pa.array(rows["id"], pa.string()),
            "source": pa.array(rows["source"], pa.string()),
            "start": pa.array(rows["start"], pa.int64()),
            "length": pa.array(rows["length"], pa.int64()),
        }
    )
    with atomic_path(out / f"{split}.docs.parquet") as tmp:
        pq.write_table(table, tmp)
    return {"tokens": position, "documents": len(rows["id"]), "sources": source_ranges}


def pack_corpus(
    corpus_dir: str | os.PathLike[str],
    tokenizer_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    val_fraction: float = DEFAULT_VALIDATION_FRACTION,
    split_seed: int = DEFAULT_SPLIT_SEED,
    progress: bool = True,
) -> dict[str, Any]:
    """Tokenise ``corpus_dir`` into ``out_dir`` and return the ``packed.json`` contents.

    Resumable: each corpus shard's tokens are kept in ``parts/`` and a rerun with the
    same tokenizer and split settings only tokenises shards without a part.
    """
    from sciprep.tokenize import SciTokenizer

    out = Path(out_dir)
    shards = list_shards(corpus_dir)
    if not shards:
        raise ValueError(f"{corpus_dir}: the corpus has no shards to pack")
    tokenizer = SciTokenizer.load(tokenizer_dir)
    fingerprint = hashlib.sha256(
        f"{tokenizer_fingerprint(tokenizer_dir)}:{val_fraction}:{split_seed}:{PACKED_VERSION}".encode()
    ).hexdigest()[:16]
    parts_dir = out / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    parts = [parts_dir / f"{shard.stem}.npz" for shard in shards]
    todo = []
    for shard, part in zip(shards, parts, strict=True):
        if part.exists() and _load_part(part)[1]["fingerprint"] == fingerprint:
            continue
        todo.append((shard, part))
    total = sum(pq.ParquetFile(shard).metadata.num_rows for shard, _ in todo)
    with tqdm(total=total, desc="pack", unit="doc", disable=not progress) as bar:
        opts = {"val_fraction": val_fraction, "split_seed": split_seed}
        for shard, part in todo:
            _pack_shard(shard, tokenizer, fingerprint, opts, part, bar)
    with atomic_dir(out / "tokenizer") as tmp:
        tokenizer.save(tmp)
    splits = {split: _assemble_split(split, parts, out, tokenizer.vocab_size) for split in SPLITS}
    metas = [_load_part(p)[1] for p in parts]
    rejects = [Reject(source=r["source"], file=str(shard), position=r["id"], reason=r["reason"],
                      step="pack") for shard, m in zip(shards, metas, strict=True) for r in m["rejects"]]  # fmt: skip
    write_rejects(out / "rejects.parquet", rejects)
    held_out = sum(m["held_out_prompts"] for m in metas)
    packed = sum(s["documents"] for s in splits.values())
    meta = {
        "format": PACKED_FORMAT,
        "version": PACKED_VERSION,
        "corpus_dir": str(corpus_dir),
        "tokenizer_fingerprint": tokenizer_fingerprint(out / "tokenizer"),
        "vocab_size": tokenizer.vocab_size,
        "dtype": token_dtype(tokenizer.vocab_size).name,
        "eos_id": EOS_ID,
        "val_fraction": val_fraction,
        "split_seed": split_seed,
        "source_weights": read_source_weights(corpus_dir),
        "splits": splits,
        "documents_in": packed + held_out + len(rejects),
        "held_out_prompts": held_out,
        "rejected": len(rejects),
    }
    write_json_atomic(out / PACKED_META, meta)
    return meta


def load_packed_meta(packed_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``packed.json`` of a packed directory, with a clear error when it is not one."""
    path = Path(packed_dir) / PACKED_META
    if not path.exists():
        raise FileNotFoundError(
            f"{packed_dir}: no {PACKED_META}; create it with `sciprep train pack CORPUS_DIR "
            f"--tokenizer DIR --out {packed_dir}`"
        )
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != PACKED_FORMAT or meta.get("version") != PACKED_VERSION:
        raise ValueError(f"{path}: not a {PACKED_FORMAT} v{PACKED_VERSION} directory; re-pack it")
    return meta  # type: ignore[no-any-return]


def iter_split_documents(packed_dir: str | os.PathLike[str], split: str) -> Iterable[dict[str, Any]]:
    """Rows of ``<split>.docs.parquet``: id, source, start, length."""
    yield from pq.read_table(Path(packed_dir) / f"{split}.docs.parquet").to_pylist()
