"""Quality filters per document kind: Gopher's rules, made safe for science.

Web-text filters wreck papers: C4's "no ``{``" rule kills every LaTeX document (it is
deliberately absent here), and Gopher's word/symbol ratios kill math, code, sequences
and compounds. So:

* statistics are computed on prose only (math/SMILES/sequence/citation spans cut out,
  see :mod:`sciprep.cleaning.quality_stats`);
* kinds in ``ratio_exempt_kinds`` skip the word-count, word-length, symbol, alphabetic
  and stop-word rules (their text is mostly data by design);
* the repetition rules (duplicate lines/paragraphs, top and duplicated n-grams) apply
  to every kind, once a document has ``repetition_min_words`` words of prose (fewer
  words make the fractions meaningless).

Defaults are Gopher's thresholds, except two that real papers break:
``min_alpha_word_fraction`` (0.8 in Gopher) is 0.5 because numeric tables are
legitimate, and ``long_form_kinds`` (papers) get looser duplicated n-gram limits
(0.45 for 5-grams down to 0.35 for 10-grams instead of 0.15 to 0.10): papers restate
definitions and theorems and repeat boilerplate, and on the 32 real arXiv papers of
the unarXive sample Gopher's web limits removed 8 (duplicated 5-gram fractions of
real papers reach 0.39, while templated junk sits well above 0.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sciprep.cleaning.quality_stats import STAT_NAMES, gopher_stats
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

#: Word/symbol rules: (statistic, bound, parameter). Data-heavy kinds are exempt.
_RATIO_RULES: tuple[tuple[str, str, str], ...] = (
    ("words", "min", "min_words"),
    ("words", "max", "max_words"),
    ("mean_word_length", "min", "min_mean_word_length"),
    ("mean_word_length", "max", "max_mean_word_length"),
    ("symbol_ratio", "max", "max_symbol_ratio"),
    ("alpha_word_fraction", "min", "min_alpha_word_fraction"),
    ("stop_words", "min", "min_stop_words"),
    ("bullet_line_fraction", "max", "max_bullet_line_fraction"),
    ("ellipsis_line_fraction", "max", "max_ellipsis_line_fraction"),
)
#: Repetition statistics whose limit is the parameter ``max_<statistic>``.
_REPETITION_STATS = (
    "duplicate_line_fraction",
    "duplicate_paragraph_fraction",
    "duplicate_line_char_fraction",
    "duplicate_paragraph_char_fraction",
)


@dataclass
class QualityParams(StepParams):
    ratio_exempt_kinds: tuple[str, ...] = threshold(
        ("compound", "protein", "dna", "code", "math", "reference", "prompt")
    )
    min_words: int = threshold(50)
    max_words: int = threshold(200_000)
    min_mean_word_length: float = threshold(3.0)
    max_mean_word_length: float = threshold(10.0)
    max_symbol_ratio: float = threshold(0.1)
    min_alpha_word_fraction: float = threshold(0.5)
    min_stop_words: int = threshold(2)
    max_bullet_line_fraction: float = threshold(0.9)
    max_ellipsis_line_fraction: float = threshold(0.3)
    repetition_min_words: int = threshold(50)
    max_duplicate_line_fraction: float = threshold(0.3)
    max_duplicate_paragraph_fraction: float = threshold(0.3)
    max_duplicate_line_char_fraction: float = threshold(0.2)
    max_duplicate_paragraph_char_fraction: float = threshold(0.2)
    max_top_ngram_char_fraction: dict[int, float] = threshold({2: 0.20, 3: 0.18, 4: 0.16})
    max_duplicate_ngram_char_fraction: dict[int, float] = threshold(
        {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
    )
    long_form_kinds: tuple[str, ...] = threshold(("paper",))
    long_form_max_duplicate_ngram_char_fraction: dict[int, float] = threshold(
        {5: 0.45, 6: 0.43, 7: 0.41, 8: 0.39, 9: 0.37, 10: 0.35}
    )


@register_step("quality")
class QualityFilter(Step):
    """Remove low-quality prose (Gopher rules) without touching data-heavy kinds' ratios."""

    Params = QualityParams
    params: QualityParams
    attributes = pa.schema([(name, pa.float64()) for name in STAT_NAMES])

    def tag(self, doc: Document) -> dict[str, Any]:
        return gopher_stats(doc.text)

    def failed_rule(self, kind: str, stats: Mapping[str, float]) -> tuple[str, float] | None:
        """The first rule ``stats`` breaks for a document of ``kind``: (description, value), or None."""
        p = self.params
        rules: list[tuple[str, str, float]] = []  # (statistic, "min" | "max", limit)
        if kind not in p.ratio_exempt_kinds:
            rules += [(stat, bound, getattr(p, param)) for stat, bound, param in _RATIO_RULES]
        if stats["words"] >= p.repetition_min_words:
            rules += [(stat, "max", getattr(p, f"max_{stat}")) for stat in _REPETITION_STATS]
            rules += [(f"top_{n}gram_char_fraction", "max", limit)
                      for n, limit in sorted(p.max_top_ngram_char_fraction.items())]  # fmt: skip
            dup_limits = (
                p.long_form_max_duplicate_ngram_char_fraction
                if kind in p.long_form_kinds
                else p.max_duplicate_ngram_char_fraction
            )
            rules += [(f"duplicate_{n}gram_char_fraction", "max", limit) for n, limit in sorted(dup_limits.items())]
        for stat, bound, limit in rules:
            value = stats[stat]
            if (value < limit) if bound == "min" else (value > limit):
                side = "below the minimum" if bound == "min" else "above the maximum"
                return f"{stat.replace('_', ' ')} {value:.3g} {side} {limit:g}", float(value)
        return None

    def decide(self, doc: Document, attrs: Mapping[str, Any]) -> Decision:
        failed = self.failed_rule(doc.kind, attrs)
        return KEEP if failed is None else Remove(*failed)
