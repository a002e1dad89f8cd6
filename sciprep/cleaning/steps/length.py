"""Length limits: drop empty or near-empty documents and implausibly huge ones.

Limits are in characters of the document text (after normalisation when the step
runs after it). A per-kind override lets short-by-nature records (compounds, prompts)
keep a lower floor than papers. The length is stored as an attribute so limits can be
re-decided; the score of a removal is the length itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sciprep.cleaning.steps.base import (
    KEEP,
    Decision,
    Remove,
    Step,
    StepParams,
    register_step,
    threshold,
)
from sciprep.corpus.document import Document


@dataclass
class LengthParams(StepParams):
    min_chars: int = threshold(20)
    max_chars: int = threshold(5_000_000)
    min_chars_by_kind: dict[str, int] = threshold({"paper": 200, "abstract": 100})


@register_step("length")
class LengthLimits(Step):
    """Remove documents shorter than the kind's floor or longer than ``max_chars``."""

    Params = LengthParams
    params: LengthParams
    attributes = pa.schema([("chars", pa.int64())])

    def tag(self, doc: Document) -> dict[str, Any]:
        return {"chars": len(doc.text.strip())}

    def decide(self, doc: Document, attrs: Mapping[str, Any]) -> Decision:
        chars = attrs["chars"]
        floor = self.params.min_chars_by_kind.get(doc.kind, self.params.min_chars)
        if chars < floor:
            return Remove(f"{chars} characters, below the {floor} minimum for kind {doc.kind!r}", float(chars))
        if chars > self.params.max_chars:
            return Remove(f"{chars} characters, above the {self.params.max_chars} maximum", float(chars))
        return KEEP
