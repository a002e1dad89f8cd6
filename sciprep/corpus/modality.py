"""How much of a text is prose, math, SMILES, protein, DNA or citation, read from its markup.

The manifest and ``sciprep corpus stats`` report characters per modality so a user can
see the mixture (Galactica's corpus table) before training. Spans are read from the
Galactica tags of :mod:`sciprep.tokenize.specials`; the tag strings themselves count
towards no modality, an unclosed tag is treated as prose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sciprep.tokenize.specials import MARKUP, SPECIAL_TOKENS

#: Modalities in report order; ``text`` is everything outside a recognised span.
MODALITIES: tuple[str, ...] = ("text", "math", "smiles", "amino", "dna", "ref")

#: Markup kind -> modality (isomeric SMILES counts as SMILES).
_SPAN_MODALITY = {
    "math": "math",
    "smiles": "smiles",
    "i_smiles": "smiles",
    "amino": "amino",
    "dna": "dna",
    "ref": "ref",
}

_SPAN = re.compile(
    "|".join(
        f"{re.escape(MARKUP[kind][0])}(?P<{kind}>.*?){re.escape(MARKUP[kind][1])}" for kind in _SPAN_MODALITY
    ),
    re.DOTALL,
)
_TAG = re.compile("|".join(re.escape(tok) for tok in sorted(SPECIAL_TOKENS, key=len, reverse=True)))


def segments(text: str) -> Iterator[tuple[str, str]]:
    """``(modality, content)`` pieces of ``text`` in order, tags removed, empty pieces skipped."""
    pos = 0
    for match in _SPAN.finditer(text):
        prose = _TAG.sub("", text[pos : match.start()])
        if prose:
            yield "text", prose
        kind = match.lastgroup or ""
        content = match.group(kind)
        if content:
            yield _SPAN_MODALITY[kind], content
        pos = match.end()
    prose = _TAG.sub("", text[pos:])
    if prose:
        yield "text", prose


def modality_chars(text: str) -> dict[str, int]:
    """Characters per modality (every key of :data:`MODALITIES` present)."""
    counts = dict.fromkeys(MODALITIES, 0)
    for modality, content in segments(text):
        counts[modality] += len(content)
    return counts
