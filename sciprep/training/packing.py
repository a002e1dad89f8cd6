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
inside a source, each followed by ``</s>``; no ``<s>`` is written, so ``</s>`` is
what the model sees before every document but the first (queries start prompts
with it, see :mod:`sciprep.query.lm`). Conservation: ``documents_in`` (the row
count of the corpus shards' Parquet metadata) = packed + ``held_out_prompts`` +
rejected, checked on every pack.

Resume: a part is reused only when its fingerprint matches the tokenizer, the
split settings and the shard it came from (absolute path, size and mtime), so a
changed corpus is re-tokenised.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from sciprep.atomicio import atomic_dir, atomic_path, write_json_atomic
from sciprep.corpus.document import Document
from sciprep.corpus.shards import MANIFEST_FILE, Reject, list_shards, read_documents, write_rejects
from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION, is_validation
from sciprep.tokenize.specials import EOS, SPECIAL_IDS
from sciprep.training.modality import MODALITIES, token_modalities
from sciprep.training.token_files import HEADER_BYTES, token_dtype, write_header

PACKED_FORMAT = "sciprep-packed"
PACKED_VERSION = 1
PACKED_META = "packed.json"
SPLITS = ("train", "val", "prompts")
EOS_ID = SPECIAL_IDS[EOS]
_ENCODE_BATCH = 256
#: Layout of a part's metadata; part of its fingerprint, so older parts are re-tokenised.
_PART_FORMAT = 2


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


def _part_fingerprint(settings: str, shard: Path) -> str:
    """What a part's tokens depend on: tokenizer and split ``settings`` plus the shard file itself."""
    stat = shard.stat()
    identity = f"{settings}:{shard.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def _reject_reason(doc: Document) -> str | None:
    if not doc.text.strip():
        return "empty text"
    if doc.kind == "prompt" and (not doc.prompt or not doc.answer):
        return "prompt record without both prompt and answer"
    return None


def _pack_shard(shard: Path, tokenizer: Any, fingerprint: str, opts: dict[str, Any],
                part: Path, bar: tqdm) -> None:  # fmt: skip
    """Tokenise one shard into ``part`` (an ``.npz`` of plain arrays plus JSON metadata).

    Per split the part holds the documents' tokens, each followed by ``</s>``
    (``<split>_tokens``), their lengths, and in the metadata each document's id and
    source, per-source (documents, tokens) counts, so assembly can place every
    part's tokens without loading the others, and tokens per modality.
    """
    ids: dict[str, list[str]] = {s: [] for s in SPLITS}
    sources: dict[str, list[str]] = {s: [] for s in SPLITS}
    chunks: dict[str, list[np.ndarray[Any, Any]]] = {s: [] for s in SPLITS}
    lengths: dict[str, list[int]] = {s: [] for s in SPLITS}
    rejects: list[dict[str, str]] = []
    held_out = 0
    pending: list[tuple[str, Document]] = []

    def flush() -> None:
        encoded = tokenizer.encode_batch([d.text for _, d in pending])
        for split in SPLITS:
            batch = [(doc, toks) for (s, doc), toks in zip(pending, encoded, strict=True) if s == split]
            if not batch:
                continue
            ids[split].extend(doc.id for doc, _ in batch)
            sources[split].extend(doc.source for doc, _ in batch)
            lengths[split].extend(len(toks) for _, toks in batch)
            chunks[split].append(np.concatenate([np.array([*toks, EOS_ID], dtype=np.uint32) for _, toks in batch]))
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
    counts: dict[str, dict[str, list[int]]] = {s: {} for s in SPLITS}
    modality_tokens: dict[str, list[int]] = {}
    for split in SPLITS:
        arrays[f"{split}_tokens"] = np.concatenate(chunks[split]) if chunks[split] else np.zeros(0, np.uint32)
        kinds = np.bincount(token_modalities(arrays[f"{split}_tokens"]), minlength=len(MODALITIES))
        modality_tokens[split] = [int(k) for k in kinds]
        arrays[f"{split}_lengths"] = np.array(lengths[split], dtype=np.int64)
        for source, length in zip(sources[split], lengths[split], strict=True):
            entry = counts[split].setdefault(source, [0, 0])
            entry[0] += 1
            entry[1] += length + 1
    meta = {"fingerprint": fingerprint, "ids": ids, "sources": sources, "counts": counts, "rejects": rejects,
            "held_out_prompts": held_out, "modality_tokens": modality_tokens}  # fmt: skip
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with atomic_path(part) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy stubs mistype **arrays


def _load_meta(part: Path) -> dict[str, Any]:
    """A part's JSON metadata, without reading its token arrays."""
    with np.load(part, allow_pickle=False) as data:
        return json.loads(data["meta"].tobytes().decode("utf-8"))  # type: ignore[no-any-return]


def _copy_part(part: Path, meta: dict[str, Any], split: str, index: int, offsets: dict[tuple[str, int], int],
               written: np.ndarray[Any, Any]) -> dict[tuple[str, int], dict[str, list[Any]]]:  # fmt: skip
    """Copy one part's ``split`` tokens to their places in ``written``; its docs rows per (source, part)."""
    with np.load(part, allow_pickle=False) as data:
        tokens, lengths = data[f"{split}_tokens"], data[f"{split}_lengths"]
    doc_sources = np.array(meta["sources"][split], dtype=object)
    doc_ids = np.array(meta["ids"][split], dtype=object)
    blocks = {}
    for name in meta["counts"][split]:
        chosen = doc_sources == name
        block = tokens[np.repeat(chosen, lengths + 1)]
        at = offsets[(name, index)]
        written[at : at + len(block)] = block
        starts = at + np.concatenate(([0], np.cumsum(lengths[chosen] + 1)[:-1]))
        blocks[(name, index)] = {"id": doc_ids[chosen].tolist(), "start": starts.tolist(),
                                 "length": lengths[chosen].tolist()}  # fmt: skip
    return blocks


def _assemble_split(split: str, parts: list[Path], metas: list[dict[str, Any]], out: Path,
                    vocab_size: int) -> dict[str, Any]:  # fmt: skip
    """Write a split's token file, grouped by source, one part in memory at a time.

    The parts' per-source counts fix where each (source, part) block goes; each part's
    split arrays are then read once and copied into the memory-mapped output.
    """
    names = sorted({s for meta in metas for s in meta["counts"][split]})
    dtype = token_dtype(vocab_size)
    offsets: dict[tuple[str, int], int] = {}
    source_ranges: dict[str, dict[str, int]] = {}
    position = 0
    for name in names:
        begin, docs = position, 0
        for i, meta in enumerate(metas):
            n_docs, n_tokens = meta["counts"][split].get(name, (0, 0))
            offsets[(name, i)] = position
            position += n_tokens
            docs += n_docs
        source_ranges[name] = {"start": begin, "end": position, "documents": docs, "tokens": position - begin}
    blocks: dict[tuple[str, int], dict[str, list[Any]]] = {}
    with atomic_path(out / f"{split}.tokens") as tmp:
        with open(tmp, "wb") as fh:
            write_header(fh, {})
            fh.truncate(HEADER_BYTES + position * dtype.itemsize)
        if position:
            written = np.memmap(tmp, dtype=dtype, mode="r+", offset=HEADER_BYTES, shape=(position,))
            for i, (part, meta) in enumerate(zip(parts, metas, strict=True)):
                if meta["ids"][split]:
                    blocks.update(_copy_part(part, meta, split, i, offsets, written))
            written.flush()
            del written
        header = {"split": split, "dtype": dtype.name, "tokens": position,
                  "documents": sum(r["documents"] for r in source_ranges.values()), "vocab_size": vocab_size,
                  "eos_id": EOS_ID, "sources": {n: [r["start"], r["end"]] for n, r in source_ranges.items()}}  # fmt: skip
        with open(tmp, "r+b") as fh:
            write_header(fh, header)
    rows: dict[str, list[Any]] = {"id": [], "source": [], "start": [], "length": []}
    for key in sorted(blocks, key=lambda k: (k[0], k[1])):
        rows["id"].extend(blocks[key]["id"])
        rows["source"].extend([key[0]] * len(blocks[key]["id"]))
        rows["start"].extend(blocks[key]["start"])
        rows["length"].extend(blocks[key]["length"])
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
    settings = f"{tokenizer_fingerprint(tokenizer_dir)}:{val_fraction}:{split_seed}:{PACKED_VERSION}:{_PART_FORMAT}"
    parts_dir = out / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    parts = [parts_dir / f"{shard.stem}.npz" for shard in shards]
    rows_in = {shard: pq.ParquetFile(shard).metadata.num_rows for shard in shards}
    todo = []
    for shard, part in zip(shards, parts, strict=True):
        fingerprint = _part_fingerprint(settings, shard)
        if part.exists() and _load_meta(part)["fingerprint"] == fingerprint:
            continue
        todo.append((shard, part, fingerprint))
    with tqdm(total=sum(rows_in[s] for s, _, _ in todo), desc="pack", unit="doc", disable=not progress) as bar:
        opts = {"val_fraction": val_fraction, "split_seed": split_seed}
        for shard, part, fingerprint in todo:
            _pack_shard(shard, tokenizer, fingerprint, opts, part, bar)
    with atomic_dir(out / "tokenizer") as tmp:
        tokenizer.save(tmp)
    metas = [_load_meta(p) for p in parts]
    splits = {split: _assemble_split(split, parts, metas, out, tokenizer.vocab_size) for split in SPLITS}
    for split in SPLITS:
        totals = np.sum([m["modality_tokens"][split] for m in metas], axis=0)
        splits[split]["modality_tokens"] = {name: int(n) for name, n in zip(MODALITIES, totals, strict=True)}
    _warn_unvalidated_modalities(splits, val_fraction)
    rejects = [Reject(source=r["source"], file=str(shard), position=r["id"], reason=r["reason"],
                      step="pack") for shard, m in zip(shards, metas, strict=True) for r in m["rejects"]]  # fmt: skip
    write_rejects(out / "rejects.parquet", rejects)
    held_out = sum(m["held_out_prompts"] for m in metas)
    packed = sum(s["documents"] for s in splits.values())
    documents_in = sum(rows_in.values())
    if documents_in != packed + held_out + len(rejects):
        raise RuntimeError(
            f"{corpus_dir}: the shards hold {documents_in} documents but {packed} were packed, "
            f"{held_out} held out and {len(rejects)} rejected; delete {parts_dir} and pack again"
        )
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
        "documents_in": documents_in,
        "held_out_prompts": held_out,
        "rejected": len(rejects),
    }
    write_json_atomic(out / PACKED_META, meta)
    return meta


def _warn_unvalidated_modalities(splits: dict[str, Any], val_fraction: float) -> None:
    """Warn for each modality with training tokens but none held out: it would get no validation loss.

    An empty validation split is not warned about here: pretraining refuses it outright.
    """
    train, val = splits["train"]["modality_tokens"], splits["val"]["modality_tokens"]
    if not any(val.values()):
        return
    for name in MODALITIES:
        if train[name] and not val[name]:
            warnings.warn(f"modality {name!r} has {train[name]} training tokens but none in the validation "
                          f"split (val_fraction {val_fraction}), so loss_{name} will never be reported; "
                          "pack with a larger --val-fraction or add documents of that kind",
                          UserWarning, stacklevel=3)  # fmt: skip


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

