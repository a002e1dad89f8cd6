"""The formula index: every display and inline formula with its sentence and document.

One row per occurrence (the same formula in two papers is two rows: each has its own
context and source). Validity is computed once here (tag, then decide): retrieval can
prefer valid formulas without re-parsing LaTeX at query time.

Besides its sentence, each formula keeps its own ``context``: the words since the
previous formula of the sentence (``Bayes' theorem states`` for the theorem, not the
``with`` before a side condition in the same sentence), or, for a formula opening its
sentence, the words up to the next formula. Retrieval scores formulas on it, so the
formulas of one sentence no longer tie.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sciprep.corpus.document import Document, stable_id
from sciprep.corpus.shards import Reject
from sciprep.query.latex import latex_problems, normalize_latex, split_delimiters
from sciprep.query.markup import MathSpan, find_math, masked_text, sentence_bounds, strip_markup

_WORD_RE = re.compile(r"[^\W\d_]{2,}")


@dataclass
class FormulaEntry:
    """One formula occurrence. ``latex`` keeps its delimiters; ``body`` does not."""

    id: str
    doc_id: str
    position: int
    latex: str
    body: str
    normalized: str
    display: bool
    sentence: str
    valid: bool
    problem: str = ""
    context: str = ""


def _context(text: str, spans: list[MathSpan], i: int, left: int, right: int) -> str:
    """The words of formula ``i``'s sentence that belong to it (see the module docstring)."""
    before = text[max(left, spans[i - 1].end if i else 0) : spans[i].start]
    if _WORD_RE.search(strip_markup(before)) is None:
        after_end = min(right, spans[i + 1].start) if i + 1 < len(spans) else right
        before = text[spans[i].end : max(spans[i].end, after_end)]
    return " ".join(before.split())


def extract_formulas(doc: Document, where: str) -> tuple[list[FormulaEntry], list[Reject]]:
    """The formulas of ``doc`` in text order; unterminated or oversized math spans as rejects."""
    spans, problems = find_math(doc.text)
    rejects = [
        Reject(doc.source, where, f"doc {doc.id} char {p.position}", p.reason, "query-index") for p in problems
    ]
    masked = masked_text(doc.text) if spans else ""
    out: list[FormulaEntry] = []
    for i, span in enumerate(spans):
        left, right = sentence_bounds(doc.text, span.start, span.end, masked)
        formula = split_delimiters(span.latex)
        problems_found = latex_problems(span.latex)
        out.append(
            FormulaEntry(
                id="f-" + stable_id(doc.id, span.start),
                doc_id=doc.id,
                position=span.start,
                latex=span.latex,
                body=formula.body,
                normalized=normalize_latex(span.latex),
                display=formula.display,
                sentence=" ".join(doc.text[left:right].split()),
                valid=not problems_found,
                problem="; ".join(problems_found),
                context=_context(doc.text, spans, i, left, right),
            )
        )
    return out, rejects
