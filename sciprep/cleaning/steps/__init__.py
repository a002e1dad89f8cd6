"""Built-in cleaning steps, registered by name (the names YAML pipelines use).

The step contract (tag/decide phases, scopes, typed parameters) is documented in
:mod:`sciprep.cleaning.steps.base`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from sciprep.cleaning.steps.base import (
    KEEP,
    STEPS,
    Decision,
    Keep,
    Modify,
    Reject,
    Remove,
    Step,
    StepContext,
    StepParams,
    register_step,
    threshold,
)

#: The built-in steps, one module each, named as their module (importing one registers
#: it), listed in the order the default science pipeline runs them.
BUILTIN_STEPS: tuple[str, ...] = (
    "normalise",
    "markup",
    "length",
    "quality",
    "pii",
    "decontaminate",
    "exact_dedup",
    "near_dedup",
)


def _load_builtin_steps() -> None:
    for module in BUILTIN_STEPS:
        importlib.import_module(f"{__name__}.{module}")


def get_step(name: str) -> type[Step]:
    """The step class registered as ``name``; a clear error lists the known names."""
    _load_builtin_steps()
    try:
        return STEPS[name]
    except KeyError:
        raise ValueError(f"unknown cleaning step {name!r}; known steps: {', '.join(sorted(STEPS))}") from None


def build_step(
    name: str,
    params: Mapping[str, Any] | None = None,
    label: str | None = None,
    kinds: Sequence[str] | None = None,
    exclude_kinds: Sequence[str] = (),
) -> Step:
    """Instantiate step ``name`` with validated ``params`` (a YAML mapping), limited to ``kinds``."""
    cls = get_step(name)
    where = f"cleaning step {label or name!r}"
    return cls(cls.Params.from_mapping(params, where), label=label).restrict(kinds, exclude_kinds)


__all__ = [
    "KEEP",
    "STEPS",
    "Decision",
    "Keep",
    "Modify",
    "Reject",
    "Remove",
    "Step",
    "StepContext",
    "StepParams",
    "build_step",
    "get_step",
    "register_step",
    "threshold",
]
