"""Run a recipe: every source's inputs through its reader into Parquet shards, with a manifest.

Output (see :mod:`sciprep.corpus.shards`)::

    DIR/shards/<source>-NNNNN.parquet   documents of each source, bounded shards
    DIR/rejects.parquet                 every unusable record: source, file, position, reason
    DIR/manifest.json                   per source: documents, bytes, characters per modality,
                                        rejected, weight, reader, kinds, files, shards
    DIR/.progress/                      resume state (per-source completion markers,
                                        per-input parts of a source being read)

Contract: for every source and file, ``documents + rejected`` = records read (nothing is
dropped silently); the same inputs and recipe give byte-identical shards, rejects and
manifest. Resume: a source whose completion marker matches its current fingerprint
(recipe entry + input names, sizes and mtimes) is not read again; a source interrupted
mid-way reuses the shards it had finished (shards are written atomically), and a source
with several inputs reuses the inputs it had read (see :mod:`sciprep.corpus.parts`). A
marker is written only after the source's shards and rejects are on disk.

Execution: sources and inputs are tasks on an executor (:mod:`sciprep.execution`); each
task writes its own files and marker, and the manifest and rejects are merged in recipe
order, so local processes and Ray give the same bytes as one process.

Safety: ``out_dir`` must be new, empty, or an earlier build's output (it has ``.progress/``);
a build deletes only shard files an earlier build recorded (or, for a source it had
started, would have written), never other files it finds in the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sciprep import __version__
from sciprep.atomicio import write_json_atomic, write_text_atomic
from sciprep.corpus.inputs import display_path, expand_paths
from sciprep.corpus.modality import MODALITIES
from sciprep.corpus.parts import merge_parts, read_part, remove_parts
from sciprep.corpus.reading import BoundReader, SourceTally, bind_reader, read_input
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
from sciprep.execution.executor import Executor
from sciprep.execution.local import LocalExecutor

PROGRESS_DIR = ".progress"
#: Under ``PROGRESS_DIR``: per-input parts of sources with several inputs, until merged.
PARTS_DIR = "parts"
MANIFEST_FORMAT = "sciprep-corpus/1"

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


@dataclass(frozen=True)
class _Unit:
    """One task of a build: a whole source (``index`` None) or input ``index`` of a source
    with several inputs (``inputs`` then holds that one input)."""

    spec: SourceSpec
    recipe: Recipe
    out: Path
    fingerprint: str
    inputs: tuple[Path, ...]
    index: int | None = None
    progress: bool = False

    def label(self) -> str:
        if self.index is None:
            return f"source {self.spec.name}"
        return f"source {self.spec.name} file {display_path(self.inputs[0], self.recipe.base_dir)}"


def _parts_dir(out: Path, source: str) -> Path:
    return out / PROGRESS_DIR / PARTS_DIR / source


def _run_source(
    spec: SourceSpec, recipe: Recipe, out: Path, inputs: list[Path], progress: bool
) -> tuple[dict[str, Any], list[Reject]]:
    """Read every input of ``spec`` in order straight into its shards; its entry and rejects."""
    writer = ShardWriter(out, spec.name, recipe.shard_max_docs, recipe.shard_max_bytes)
    tally = SourceTally()
    rejects: list[Reject] = []
    bound: dict[str, BoundReader] = {}
    # disable=None: a bar on a terminal, silence when stderr is a file or pipe (CI logs)
    with tqdm(desc=spec.name, unit=" docs", disable=None if progress else True, leave=False) as bar:
        for path in inputs:
            read_input(spec, path, recipe.base_dir, bound, tally, rejects, writer.add, bar)
    return tally.entry(spec, writer.close()), rejects


def _finish_source(unit: _Unit, entry: dict[str, Any], rejects: list[Reject]) -> None:
    """Record a finished source: rejects, then the marker (its completion), then cleanup."""
    progress_dir = unit.out / PROGRESS_DIR
    name = unit.spec.name
    write_rejects(progress_dir / f"{name}.rejects.parquet", rejects)
    write_json_atomic(progress_dir / f"{name}.json", {"fingerprint": unit.fingerprint, "entry": entry})
    (progress_dir / f"{name}.started").unlink(missing_ok=True)
    remove_parts([_parts_dir(unit.out, name)])


def _read_task(unit: _Unit) -> None:
    """Executor task: a whole source into its shards, or one input into its part.

    Idempotent (Ray reruns a task whose worker died after it finished): a source already
    finished for this fingerprint is left as it is.
    """
    if _finished(unit.out, unit.spec, unit.fingerprint):
        return
    if unit.index is None:
        entry, rejects = _run_source(unit.spec, unit.recipe, unit.out, list(unit.inputs), unit.progress)
        _finish_source(unit, entry, rejects)
    else:
        parts = _parts_dir(unit.out, unit.spec.name)
        read_part(unit.spec, unit.inputs[0], unit.recipe.base_dir, parts, unit.index, unit.fingerprint)


def _merge_task(unit: _Unit) -> None:
    """Executor task: the parts of a source with several inputs into its shards.

    Idempotent: a source already finished (its parts then deleted) is left as it is.
    """
    if _finished(unit.out, unit.spec, unit.fingerprint):
        return
    recipe = unit.recipe
    parts = _parts_dir(unit.out, unit.spec.name)
    entry, rejects = merge_parts(
        unit.out, unit.spec, parts, len(unit.inputs), recipe.shard_max_docs, recipe.shard_max_bytes
    )
    _finish_source(unit, entry, rejects)


def _finished(out: Path, spec: SourceSpec, fingerprint: str) -> bool:
    """Whether a task finished ``spec`` for this fingerprint and its shards are all there."""
    marker = out / PROGRESS_DIR / f"{spec.name}.json"
    done = json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else None
    return bool(done and done["fingerprint"] == fingerprint and all((out / s).exists() for s in done["entry"]["shards"]))


def build_corpus(
    recipe: Recipe, out_dir: str | os.PathLike[str], *, progress: bool = True, executor: Executor | None = None
) -> dict[str, Any]:
    """Build (or resume) the corpus of ``recipe`` in ``out_dir``; return the manifest.

    ``executor`` runs the reading tasks (default: this process): a source with one input
    is one task; a source with several has one task per input, then one merge task. Every
    executor writes the same bytes. Raises FileNotFoundError/ValueError for recipe
    problems (a path matching nothing, an unknown reader or option) before reading or
    while reaching the offending input.
    """
    executor = executor if executor is not None else LocalExecutor()
    # Tasks may run in other processes or on other nodes, whose working directory is not
    # ours: every path they receive is absolute.
    out = Path(out_dir).absolute()
    if not recipe.base_dir.is_absolute():
        recipe = replace(recipe, base_dir=recipe.base_dir.absolute())
    progress_dir = out / PROGRESS_DIR
    _refuse_foreign_folder(out)
    progress_dir.mkdir(parents=True, exist_ok=True)
    previous = _previous_shards(out)
    (out / SHARDS_DIR).mkdir(parents=True, exist_ok=True)
    reads: list[_Unit] = []
    merges: list[_Unit] = []
    for spec in recipe.sources:
        if spec.reader:
            bind_reader(spec.reader, spec.options, spec.name)  # a bad reader or option fails before any work
        inputs = [
            p.absolute()
            for p in expand_paths(spec.paths, recipe.base_dir, spec.reader, spec.name)
            if not _inside(p, out)
        ]
        fingerprint = _fingerprint(spec, inputs, recipe.base_dir, recipe)
        if _finished(out, spec, fingerprint):
            continue
        (progress_dir / f"{spec.name}.json").unlink(missing_ok=True)
        started = progress_dir / f"{spec.name}.started"
        if not started.exists() or started.read_text(encoding="utf-8") != fingerprint:
            _remove_shards(out / SHARDS_DIR, spec.name, previous)  # shards of other inputs are stale
            remove_parts([_parts_dir(out, spec.name)])
            write_text_atomic(started, fingerprint)
        if len(inputs) <= 1:
            reads.append(_Unit(spec, recipe, out, fingerprint, tuple(inputs), progress=progress and executor.inline))
        else:
            reads.extend(_Unit(spec, recipe, out, fingerprint, (path,), n) for n, path in enumerate(inputs))
            merges.append(_Unit(spec, recipe, out, fingerprint, tuple(inputs)))
    executor.map(_read_task, reads, desc="corpus: read", label=_Unit.label, progress=progress)
    executor.map(_merge_task, merges, desc="corpus: shards", label=_Unit.label, progress=progress)

    entries: dict[str, dict[str, Any]] = {}
    all_rejects: list[Reject] = []
    for spec in recipe.sources:
        marker = json.loads((progress_dir / f"{spec.name}.json").read_text(encoding="utf-8"))
        entries[spec.name] = {**marker["entry"], "weight": spec.weight}
        all_rejects.extend(read_rejects(progress_dir / f"{spec.name}.rejects.parquet"))
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
    remove_parts([out / PROGRESS_DIR / PARTS_DIR])  # every source is finished: parts are spent


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
