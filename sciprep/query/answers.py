"""What a query returns: an answer, where it came from and how sure the system is."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: Methods an answer can come from.
CONSTRAINED, UNCONSTRAINED, RETRIEVAL, HYBRID, GENERATED = (
    "constrained", "unconstrained", "retrieval", "hybrid", "generated",
)  # fmt: skip


@dataclass
class Answer:
    """One ranked answer.

    ``score`` orders answers of one query (higher is better; its scale depends on
    ``method``). ``confidence`` is a probability in [0, 1]: for constrained generation
    the model's probability of this entry among *all* index entries; for retrieval and
    hybrid the share of this answer among the candidates considered. ``source`` names
    the index entry (``index_id`` plus ``doi`` / ``arxiv_id`` / ``pmid``) or the
    formula's ``doc_id``; ``grounded`` is False only for text that matches nothing in
    the index (possible only with unconstrained generation).
    """

    text: str
    score: float
    confidence: float
    source: dict[str, Any]
    method: str
    grounded: bool = True
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (finite floats rounded for stable output)."""
        out = asdict(self)
        out["score"] = _round(self.score)
        out["confidence"] = _round(self.confidence)
        return out


def _round(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def softmax(values: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Numerically stable softmax; an empty input gives an empty output."""
    if values.size == 0:
        return values.astype(np.float64)
    z = (values - values.max()) / temperature
    e = np.exp(z)
    return e / e.sum()
