"""The build recipe: which sources go into a corpus, read how, weighted how.

A recipe is a YAML file::

    sources:
      - name: arxiv            # free label: Document.source and the shard prefix
        path: papers/          # a file, a directory, a glob, or a list of them,
                               # relative to the recipe file
        reader: latex          # omitted = detected from each file
        weight: 1.0            # upsampling weight, stored in the manifest for the trainer
        options: {}            # keyword options of the reader (e.g. text_field, dna_chunk)
        kind: paper            # optional: override Document.kind
        licence: CC-BY-4.0     # optional: default licence for documents without one
    shard_max_docs: 10000      # optional shard bounds
    shard_max_bytes: 67108864

Unknown keys are errors (a typo must not silently change a build).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sciprep.corpus.shards import DEFAULT_MAX_BYTES, DEFAULT_MAX_DOCS, SHARDS_DIR

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_SOURCE_KEYS = {"name", "path", "reader", "weight", "options", "kind", "licence"}
_RECIPE_KEYS = {"sources", "shard_max_docs", "shard_max_bytes"}


@dataclass(frozen=True)
class SourceSpec:
    """One ``sources:`` entry of a recipe."""

    name: str
    paths: tuple[str, ...]
    reader: str | None = None
    weight: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None
    licence: str | None = None


@dataclass(frozen=True)
class Recipe:
    """A validated recipe; ``base_dir`` is where relative source paths start."""

    sources: tuple[SourceSpec, ...]
    base_dir: Path
    shard_max_docs: int = DEFAULT_MAX_DOCS
    shard_max_bytes: int = DEFAULT_MAX_BYTES


def valid_source_name(name: str) -> bool:
    """Source names become file-name prefixes: letters, digits, ``_.-``, no path parts."""
    return bool(_NAME.match(name))


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"{where}: {message}")


def _positive_int(value: Any, where: str, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _fail(where, f"{key} must be a positive integer, got {value!r}")
    return value


def _optional_str(entry: dict[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _fail(where, f"{key} must be a non-empty string, got {value!r}")
    return value


def parse_source(entry: Any, where: str) -> SourceSpec:
    """Validate one ``sources:`` entry (a mapping) into a :class:`SourceSpec`."""
    if not isinstance(entry, dict):
        raise _fail(where, f"each source must be a mapping with name and path, got {entry!r}")
    unknown = set(entry) - _SOURCE_KEYS
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}; allowed: {sorted(_SOURCE_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not valid_source_name(name):
        raise _fail(where, f"name must be letters, digits, '_', '.', '-' (no slashes), got {name!r}")
    where = f"{where} ({name})"
    raw_paths = entry.get("path")
    paths = [raw_paths] if isinstance(raw_paths, str) else raw_paths
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p.strip() for p in paths):
        raise _fail(where, f"path must be a path/glob or a list of them, got {raw_paths!r}")
    weight = entry.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
        raise _fail(where, f"weight must be a positive number, got {weight!r}")
    options = entry.get("options") or {}
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise _fail(where, f"options must be a mapping of option names to values, got {options!r}")
    return SourceSpec(
        name=name,
        paths=tuple(paths),
        reader=_optional_str(entry, "reader", where),
        weight=float(weight),
        options=dict(options),
        kind=_optional_str(entry, "kind", where),
        licence=_optional_str(entry, "licence", where),
    )


def recipe_from_dict(data: Any, base_dir: Path, where: str = "recipe") -> Recipe:
    """Validate a parsed recipe mapping; ``where`` names it in error messages."""
    if not isinstance(data, dict) or "sources" not in data:
        raise _fail(where, "a recipe is a mapping with a 'sources:' list")
    unknown = set(data) - _RECIPE_KEYS
    if unknown:
        raise _fail(where, f"unknown top-level keys {sorted(unknown)}; allowed: {sorted(_RECIPE_KEYS)}")
    entries = data["sources"]
    if not isinstance(entries, list) or not entries:
        raise _fail(where, "'sources:' must be a non-empty list")
    sources = tuple(parse_source(entry, f"{where}: sources[{i}]") for i, entry in enumerate(entries))
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(where, f"source names must be unique; repeated: {duplicates}")
    return Recipe(
        sources=sources,
        base_dir=base_dir,
        shard_max_docs=_positive_int(data.get("shard_max_docs", DEFAULT_MAX_DOCS), where, "shard_max_docs"),
        shard_max_bytes=_positive_int(
            data.get("shard_max_bytes", DEFAULT_MAX_BYTES), where, "shard_max_bytes"
        ),
    )


def load_recipe(path: str | os.PathLike[str]) -> Recipe:
    """Read and validate a YAML recipe; relative source paths start at its directory."""
    recipe_path = Path(path)
    if not recipe_path.is_file():
        raise FileNotFoundError(f"recipe {recipe_path} does not exist")
    try:
        data = yaml.safe_load(recipe_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{recipe_path}: not valid YAML: {err}") from None
    return recipe_from_dict(data, recipe_path.resolve().parent, str(recipe_path))


def _name_for(path: Path) -> str:
    name = path.name
    if name == SHARDS_DIR and path.parent.name not in ("", ".", ".."):
        name = path.parent.name  # ``clean/shards`` -> ``clean``, not ``shards``
    for suffix in (".gz", ".tar", ".bz2", ".xz", ".zip"):
        name = name.removesuffix(suffix)
    suffix = Path(name).suffix
    stem = name[: -len(suffix)] if suffix[1:].isalpha() and not path.is_dir() else name
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).strip("._-") or "source"
    return cleaned[:100]


def recipe_for_paths(paths: list[str], reader: str | None = None, base_dir: Path | None = None) -> Recipe:
    """A recipe with one source per path (named after it), for ``build --out DIR PATH...``."""
    if not paths:
        raise ValueError("give at least one input path")
    base = (base_dir or Path.cwd()).resolve()
    sources: list[SourceSpec] = []
    taken: set[str] = set()
    for raw in paths:
        name = _name_for(Path(raw))
        unique, n = name, 2
        while unique in taken:
            unique, n = f"{name}-{n}", n + 1
        taken.add(unique)
        sources.append(SourceSpec(name=unique, paths=(raw,), reader=reader))
    return Recipe(sources=tuple(sources), base_dir=base)
