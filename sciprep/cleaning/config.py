"""Pipelines from YAML, and the default pipeline for scientific corpora.

YAML shape::

    seed: 0                      # optional
    steps:
      - normalise                # a bare name: default parameters
      - step: quality            # registry name (see ``sciprep clean --list-steps``)
        label: quality_strict    # optional; unique name in reports and OUT/attributes/
        kinds: [paper, abstract] # optional; only these document kinds go through the step
        exclude_kinds: [prompt]  # optional; these kinds skip the step
        params:                  # optional; the step's typed parameters
          max_duplicate_line_fraction: 0.2

Unknown keys, unknown steps, unknown parameters and wrongly typed values are errors
that name the file and the step.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from sciprep.cleaning.pipeline import Pipeline
from sciprep.cleaning.steps import BUILTIN_STEPS, build_step

#: The default science pipeline: transforms first, then per-document filters, then
#: corpus-wide dedup last so the copy dedup keeps is one every filter accepted.
#: Near-dup shingling compares words; it is meant for prose. Compound, sequence,
#: reference and prompt records are short templates around one data token, so distinct
#: molecules, proteins or questions look alike to it; exact dedup still covers them.
NEAR_DEDUP_EXCLUDED_KINDS: tuple[str, ...] = ("compound", "protein", "dna", "reference", "prompt")

DEFAULT_STEPS: tuple[str, ...] = BUILTIN_STEPS


def default_pipeline(seed: int = 0) -> Pipeline:
    """All built-in steps with their default parameters, in :data:`DEFAULT_STEPS` order."""
    steps = [
        build_step(name, exclude_kinds=NEAR_DEDUP_EXCLUDED_KINDS if name == "near_dedup" else ())
        for name in DEFAULT_STEPS
    ]
    return Pipeline(steps, seed=seed)


def pipeline_from_config(config: Mapping[str, Any], where: str = "pipeline config") -> Pipeline:
    """Build a pipeline from a parsed YAML mapping (see the module docstring)."""
    if not isinstance(config, Mapping):
        raise ValueError(f"{where}: expected a mapping with a `steps:` list")
    unknown = sorted(set(config) - {"steps", "seed"})
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; expected `steps` and `seed`")
    entries = config.get("steps")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{where}: `steps` must be a non-empty list")
    seed = config.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"{where}: `seed` must be an integer, got {seed!r}")
    steps = []
    for number, entry in enumerate(entries, start=1):
        at = f"{where}: steps[{number}]"
        if isinstance(entry, str):
            entry = {"step": entry}
        if not isinstance(entry, Mapping) or not isinstance(entry.get("step"), str):
            raise ValueError(f"{at}: expected a step name or a mapping with `step:`, got {entry!r}")
        extra = sorted(set(entry) - {"step", "label", "params", "kinds", "exclude_kinds"})
        if extra:
            raise ValueError(f"{at}: unknown key(s) {', '.join(map(str, extra))}; put step parameters under `params:`")
        params = entry.get("params") or {}
        if not isinstance(params, Mapping):
            raise ValueError(f"{at}: `params` must be a mapping, got {params!r}")
        label = entry.get("label")
        if label is not None and not isinstance(label, str):
            raise ValueError(f"{at}: `label` must be a string, got {label!r}")
        kinds = entry.get("kinds")
        exclude = entry.get("exclude_kinds") or []
        for key, value in (("kinds", kinds), ("exclude_kinds", exclude)):
            if value is not None and not (isinstance(value, list) and all(isinstance(k, str) for k in value)):
                raise ValueError(f"{at}: `{key}` must be a list of document kinds, got {value!r}")
        try:
            steps.append(build_step(entry["step"], params, label, kinds, exclude))
        except ValueError as err:
            raise ValueError(f"{at}: {err}") from None
    return Pipeline(steps, seed=seed)


def load_pipeline(path: str | Path) -> Pipeline:
    """Read a pipeline YAML file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: pipeline config not found")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from None
    return pipeline_from_config(config, str(path))
