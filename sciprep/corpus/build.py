"""Run a recipe: every source's inputs through its reader into Parquet shards, with a manifest.

Output (see :mod:`sciprep.corpus.shards`)::

    DIR/shards/<source>-NNNNN.parquet   documents of each source, bounded shards
    DIR/rejects.parquet                 every unusable record: source, file, position, reason
    DIR/manifest.json                   per source: documents, bytes, characters per modality,
                                        rejected, weight, reader, kinds, files, shards
    DIR/.progress/                      resume state (per-source completion markers)

Contract: for every source and file, ``documents + rejected`` = records read (nothing is
dropped silently); the same inputs and recipe give byte-identical shards, rejects and
manifest. Resume: a source whose completion marker matches its current fingerprint
(recipe entry + input names, sizes and mtimes) is not read again; a source interrupted
mid-way reuses the shards it had finished (shards are written atomically). A marker is
written only after the source's shards and rejects are on disk.

Safety: ``out_dir`` must be new, empty, or an earlier build's output (it has ``.progress/``);
a build deletes only shard files an earlier build recorded (or, for a source it had
started, would have written), never other files it finds in the folder.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sciprep import __version__
from sciprep.atomicio import write_json_atomic, write_text_atomic
from sciprep.corpus import prompts as _prompts  # noqa: F401  registers the ``prompts`` reader
from sciprep.corpus.document import Document
from sciprep.corpus.inputs import detect_input_reader, display_path, expand_paths, input_problem
from sciprep.corpus.modality import MODALITIES, modality_chars
from sciprep.corpus.readers import ReaderOutput, get_reader
from sciprep.corpus.recipe import Recipe, SourceSpec
from sciprep.corpus.shards import (
    MANIFEST_FILE,
    REJECTS_FILE,
    SHARDS_DIR,
    Reject,
    ShardWriter,
    read_rejects,
    write_rejects,
)

PROGRESS_DIR = ".progress"
MANIFEST_FORMAT = "sciprep-corpus/1"

BoundReader = Callable[[Path, str], ReaderOutput]


def bind_reader(name: str, options: dict[str, Any], source: str) -> BoundReader:
    """The reader ``name`` with the recipe's ``options`` applied, validated up front.

    Raises ValueError naming the source when an option is unknown to the reader or has
    the wrong type (compared with the option's default).
    """
    fn = get_reader(name)
    params = {
        p.name: p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is not p.empty
    }
    for key, value in options.items():
        if key not in params:
            known = ", ".join(sorted(params)) or "none"
            raise ValueError(
                f"source {source!r}: reader {name!r} has no option {key!r} (its options: {known})"
            )
        default = params[key].default
        expected: tuple[type, ...] = (int, float) if isinstance(default, float) else (type(default),)
        if default is not None and (
            not isinstance(value, expected) or isinstance(value, bool) != isinstance(default, bool)
        ):
            raise ValueError(
                f"source {source!r}: option {key!r} of reader {name!r} must be "
                f"{type(default).__name__}, got {value!r}"
            )
    return partial(fn, **options) if options else fn


@dataclass
class SourceTally:
    """Counts of one source as they accumulate; becomes its manifest entry."""

    documents: int = 0
    rejected: int = 0
    bytes: int = 0
    characters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODALITIES, 0))
    kinds: Counter[str] = field(default_factory=Counter)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, doc: Document, file: str) -> None:
        self.documents += 1
        self.bytes += len(doc.text.encode("utf-8"))
        for modality, count in modality_chars(doc.text).items():
            self.characters[modality] += count
        self.kinds[doc.kind] += 1
        self.files[file]["documents"] += 1

    def add_reject(self, file: str) -> None:
        self.rejected += 1
        self.files[file]["rejected"] += 1


def _fingerprint(spec: SourceSpec, inputs: list[Path], base_dir: Path, recipe: Recipe) -> str:
    facts = {
        "version": __version__,
        "spec": {k: v for k, v in spec.__dict__.items() if k != "weight"},
        "bounds": [recipe.shard_max_docs, recipe.shard_max_bytes],
        "inputs": [_input_signature(p, base_dir) for p in inputs],
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


def _input_signature(path: Path, base_dir: Path) -> list[Any]:
    """Name, size and mtime of every file of an input (links not followed)."""
    files = [path]
    if path.suffix.lower() in (".tex", ".ltx") and path.is_file():
        # a lone .tex is read with the bibliography beside it (latex.archive)
        files += sorted(path.parent.glob("*.bib")) + [p for p in [path.with_suffix(".bbl")] if p.exists()]
    elif path.is_dir() and not path.is_symlink():
        files = sorted(
            Path(dirpath) / name
            for dirpath, _dirs, names in os.walk(path, followlinks=False)
            for name in names
        )
    signature: list[Any] = []
    for file in files:
        try:
            info = file.lstat()
        except OSError:
            signature.append([display_path(file, base_dir), None, None])
            continue
        signature.append([display_path(file, base_dir), info.st_size, info.st_mtime_ns])
    return signature


def _shard_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(name)}-\d{{5}}\.parquet$")


def _remove_shards(shard_dir: Path, name: str, previous: set[str]) -> None:
    """Delete the shards of source ``name`` that an earlier build wrote (``previous``)."""
    pattern = _shard_pattern(name)
    for shard in sorted(previous):
        if pattern.match(shard):
            (shard_dir / shard).unlink(missing_ok=True)


def _prepare(doc: Document, spec: SourceSpec) -> Document:
    doc.source = spec.name
    if spec.kind:
        doc.kind = spec.kind
    if spec.licence and not doc.metadata.licence:
        doc.metadata.licence = spec.licence
    return doc


def _reader_for(spec: SourceSpec, path: Path) -> str | None:
    return spec.reader or detect_input_reader(path)


def _guarded(items: ReaderOutput, source: str, path: Path) -> ReaderOutput:
    """A reader's output, ending in a reject when reading the file fails part-way (the file
    vanished, became unreadable, or a link in its path broke); output errors still raise."""
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except OSError as err:
            yield Reject(source, str(path), "file", f"reading stopped: {err}")
            return
        yield item


def _run_source(
    spec: SourceSpec, recipe: Recipe, out: Path, inputs: list[Path], progress: bool
) -> tuple[dict[str, Any], list[Reject]]:
    writer = ShardWriter(out, spec.name, recipe.shard_max_docs, recipe.shard_max_bytes)
    tally = SourceTally()
    rejects: list[Reject] = []
    bound: dict[str, BoundReader] = {}
    # disable=None: a bar on a terminal, silence when stderr is a file or pipe (CI logs)
    with tqdm(desc=spec.name, unit=" docs", disable=None if progress else True, leave=False) as bar:
        for path in inputs:
            file = display_path(path, recipe.base_dir)
            tally.files[file] = {"documents": 0, "rejected": 0, "reader": None}
            problem = input_problem(path)
            if problem is not None:
                rejects.append(Reject(spec.name, file, "file", problem))
                tally.add_reject(file)
                continue
            reader_name = _reader_for(spec, path)
            if reader_name is None:
                rejects.append(
                    Reject(spec.name, file, "file", "no reader for this file type; set reader: in the recipe")
                )
                tally.add_reject(file)
                continue
            tally.files[file]["reader"] = reader_name
            if reader_name not in bound:
                bound[reader_name] = bind_reader(reader_name, spec.options, spec.name)
            bar.set_postfix_str(file[-40:])
            for item in _guarded(bound[reader_name](path, spec.name), spec.name, path):
                if isinstance(item, Reject):
                    rejects.append(
                        replace(item, source=spec.name, file=item.file.replace(str(path), file, 1))
                    )
                    tally.add_reject(file)
                else:
                    writer.add(_prepare(item, spec))
                    tally.add(item, file)
                    bar.update()
    shards = writer.close()
    entry = {
        "documents": tally.documents,
        "rejected": tally.rejected,
        "bytes": tally.bytes,
        "characters": tally.characters,
        "kinds": dict(sorted(tally.kinds.items())),
        "files": tally.files,
        "reader": spec.reader,
        "weight": spec.weight,
        "licence": spec.licence,
        "shards": [f"{SHARDS_DIR}/{p.name}" for p in shards],
    }
    return entry, rejects


def build_corpus(recipe: Recipe, out_dir: str | os.PathLike[str], *, progress: bool = True) -> dict[str, Any]:
    """Build (or resume) the corpus of ``recipe`` in ``out_dir``; return the manifest.

    Raises FileNotFoundError/ValueError for recipe problems (a path matching nothing, an
    unknown reader or option) before or while reaching the offending source.
    """
    out = Path(out_dir)
    progress_dir = out / PROGRESS_DIR
    _refuse_foreign_folder(out)
    progress_dir.mkdir(parents=True, exist_ok=True)
    previous = _previous_shards(out)
    (out / SHARDS_DIR).mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict[str, Any]] = {}
    all_rejects: list[Reject] = []
    for spec in recipe.sources:
        inputs = [
            p
            for p in expand_paths(spec.paths, recipe.base_dir, spec.reader, spec.name)
            if not _inside(p, out)
        ]
        fingerprint = _fingerprint(spec, inputs, recipe.base_dir, recipe)
        marker = progress_dir / f"{spec.name}.json"
        rejects_file = progress_dir / f"{spec.name}.rejects.parquet"
        done = json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else None
        if (
            done
            and done["fingerprint"] == fingerprint
            and all((out / s).exists() for s in done["entry"]["shards"])
        ):
            entry, rejects = {**done["entry"], "weight": spec.weight}, read_rejects(rejects_file)
        else:
            marker.unlink(missing_ok=True)
            started = progress_dir / f"{spec.name}.started"
            if not started.exists() or started.read_text(encoding="utf-8") != fingerprint:
                _remove_shards(out / SHARDS_DIR, spec.name, previous)  # shards of other inputs are stale
                write_text_atomic(started, fingerprint)
            entry, rejects = _run_source(spec, recipe, out, inputs, progress)
            write_rejects(rejects_file, rejects)
            write_json_atomic(marker, {"fingerprint": fingerprint, "entry": entry})
            started.unlink()
        entries[spec.name] = entry
        all_rejects.extend(rejects)
    _remove_stale(out, recipe, entries, previous)
    write_rejects(out / REJECTS_FILE, all_rejects)
    manifest = _manifest(entries, recipe)
    write_json_atomic(out / MANIFEST_FILE, manifest)
    return manifest


def _inside(path: Path, folder: Path) -> bool:
    """True for files of the corpus being written (an output folder under an input folder)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def _refuse_foreign_folder(out: Path) -> None:
    """Refuse to write into a non-empty folder that no build started: its files are not ours."""
    if out.is_dir() and not (out / PROGRESS_DIR).is_dir() and any(out.iterdir()):
        raise ValueError(
            f"{out} is not empty and is not a corpus build folder (no {PROGRESS_DIR}/ in it); "
            "choose a new or empty --out folder so nothing in it is overwritten or deleted"
        )


def _previous_shards(out: Path) -> set[str]:
    """Names of the shard files earlier builds into ``out`` wrote, from their markers and
    from the sources they had started; only these may be deleted as stale."""
    names: set[str] = set()
    shard_dir = out / SHARDS_DIR
    present = sorted(p.name for p in shard_dir.iterdir()) if shard_dir.is_dir() else []
    for marker in sorted((out / PROGRESS_DIR).glob("*.json")):
        try:
            shards = json.loads(marker.read_text(encoding="utf-8"))["entry"]["shards"]
        except (OSError, ValueError, KeyError, TypeError):
            shards = []
        names.update(Path(s).name for s in shards if isinstance(s, str))
    for started in sorted((out / PROGRESS_DIR).glob("*.started")):
        pattern = _shard_pattern(started.name.removesuffix(".started"))
        names.update(n for n in present if pattern.match(n))
    return names


def _remove_stale(out: Path, recipe: Recipe, entries: dict[str, dict[str, Any]], previous: set[str]) -> None:
    """Delete shards earlier builds wrote that this recipe no longer produces, temporary
    files a crash left behind, and markers of sources no longer in the recipe. Files this
    build never wrote are left alone."""
    keep = {Path(s).name for entry in entries.values() for s in entry["shards"]}
    ours = [f".{name}-" for name in (*entries, *(Path(n).stem.rsplit("-", 1)[0] for n in previous))]
    for path in (out / SHARDS_DIR).iterdir():
        if not path.is_file() or path.is_symlink() or path.name in keep:
            continue
        crash_leftover = path.suffix == ".tmp" and path.name.startswith(tuple(ours))
        if path.name in previous or crash_leftover:
            path.unlink()
    known = {
        f"{s.name}{suffix}" for s in recipe.sources for suffix in (".json", ".rejects.parquet", ".started")
    }
    for path in (out / PROGRESS_DIR).iterdir():
        if path.is_file() and path.name not in known:
            path.unlink()


def _manifest(entries: dict[str, dict[str, Any]], recipe: Recipe) -> dict[str, Any]:
    characters = dict.fromkeys(MODALITIES, 0)
    for entry in entries.values():
        for modality in MODALITIES:
            characters[modality] += entry["characters"][modality]
    return {
        "format": MANIFEST_FORMAT,
        "sciprep_version": __version__,
        "sources": entries,
        "totals": {
            "documents": sum(e["documents"] for e in entries.values()),
            "rejected": sum(e["rejected"] for e in entries.values()),
            "bytes": sum(e["bytes"] for e in entries.values()),
            "characters": characters,
        },
        "shard_max_docs": recipe.shard_max_docs,
        "shard_max_bytes": recipe.shard_max_bytes,
    }
