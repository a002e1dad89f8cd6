"""Find every modality span in a text: existing markup, math, citations, SMILES, sequences.

Order of precedence, each only where nothing earlier claimed the characters:

1. markup the text already carries (well-formed pairs; stray tags block detection),
2. LaTeX math,
3. citation commands (kind ``ref``),
4. SMILES (token level), then protein/DNA runs.

Detectors run on the free regions between claimed ones, with region edges acting as
token edges. Every region a SMILES or sequence span cuts off is searched again until none
of the detectors finds anything in it, which is what makes
:func:`~sciprep.tokenize.wrap` idempotent: the regions a second pass over the wrapped
text sees are exactly those settled regions, now closed by tags.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sciprep.tokenize.chemistry import find_smiles
from sciprep.tokenize.citations import CITE
from sciprep.tokenize.markup import find_marked
from sciprep.tokenize.math_spans import find_math
from sciprep.tokenize.sequences import find_sequences
from sciprep.tokenize.spans import Span


def _gaps(claimed: Iterable[tuple[int, int]], start: int, end: int) -> Iterator[tuple[int, int]]:
    """The sub-ranges of ``start..end`` not covered by the sorted, disjoint ``claimed``."""
    pos = start
    for a, b in claimed:
        if a > pos:
            yield pos, a
        pos = max(pos, b)
    if pos < end:
        yield pos, end


def _math_and_cites(text: str, start: int, end: int) -> list[Span]:
    found = [Span("math", a, b) for a, b in find_math(text, start, end)]
    if text.find("cite", start, end) >= 0 or text.find("Cite", start, end) >= 0:
        math_ranges = [(s.start, s.end) for s in found]
        for a, b in _gaps(math_ranges, start, end):
            found.extend(Span("ref", m.start(), m.end()) for m in CITE.finditer(text, a, b))
        found.sort(key=lambda s: s.start)
    return found


def _chemistry_and_sequences(text: str, start: int, end: int) -> list[Span]:
    """SMILES and sequence spans of ``text[start:end]``, settled region by region.

    A sequence found inside a whitespace token cuts that token once it is tagged, and the
    piece beside it can then be a SMILES on its own (``c1ccccc1}ACGT..``). So every region
    a span cuts off is searched again, SMILES first, until each remaining region holds
    neither: those remaining regions are exactly what a second pass over the wrapped text
    sees, which keeps :func:`~sciprep.tokenize.wrap` idempotent.
    """
    found: list[Span] = []
    pending = [(start, end)]
    while pending:
        a, b = pending.pop()
        new = [Span(kind, s, e) for kind, s, e in find_smiles(text, a, b)]
        if not new:
            new = [Span(kind, s, e) for kind, s, e in find_sequences(text, a, b)]
        if new:
            found.extend(new)
            pending.extend(_gaps([(s.start, s.end) for s in new], a, b))
    found.sort(key=lambda s: s.start)
    return found


def segment(text: str) -> list[Span]:
    """All spans of ``text``, sorted by start and non-overlapping.

    Kinds are ``math``, ``smiles``, ``i_smiles``, ``amino``, ``dna``, ``ref`` (citation
    commands, and existing ``[START_REF]`` markup) and ``work`` (existing ``<work>``
    blocks), plus ``sup``/``sub`` where the text already marks them.
    """
    marked = find_marked(text)
    blocked = sorted([(s.start, s.end) for s in marked.spans] + marked.stray)
    spans: list[Span] = list(marked.spans)
    for a, b in _gaps(blocked, 0, len(text)):
        claimed = _math_and_cites(text, a, b)
        spans.extend(claimed)
        for c, d in _gaps([(s.start, s.end) for s in claimed], a, b):
            spans.extend(_chemistry_and_sequences(text, c, d))
    spans.sort(key=lambda s: s.start)
    return spans
