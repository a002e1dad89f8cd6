"""Markup spans that cleaning must leave byte-for-byte alone.

Math, SMILES and sequence spans are data, not prose: NFC-normalising, collapsing
whitespace, redacting "phone numbers" or counting "words" inside them corrupts
formulas, stereo-chemistry and residues. Steps split a text into protected and free
segments, transform only the free ones, and join them back.

A start tag without its end tag is *not* a span (an unbalanced tag must not shield,
or hide, the rest of the document); the stray tag stays as free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sciprep.tokenize.specials import MARKUP

#: Span kinds whose content is data (see :data:`sciprep.tokenize.specials.MARKUP`).
PROTECTED_KINDS: tuple[str, ...] = ("math", "smiles", "i_smiles", "amino", "dna")


@dataclass(frozen=True)
class Segment:
    """A slice of a text: ``kind`` is a markup kind for a protected span, else None.

    ``text`` includes the start and end tags for protected spans, ``content`` excludes them.
    """

    text: str
    kind: str | None = None

    @property
    def content(self) -> str:
        if self.kind is None:
            return self.text
        start, end = MARKUP[self.kind]
        return self.text[len(start) : len(self.text) - len(end)]


def _start_pattern(kinds: Iterable[str]) -> re.Pattern[str]:
    tags = sorted((MARKUP[k][0] for k in kinds), key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in tags))


_START_TO_KIND = {start: kind for kind, (start, _end) in MARKUP.items()}
_DEFAULT_PATTERN = _start_pattern(PROTECTED_KINDS)


def segments(text: str, kinds: Iterable[str] = PROTECTED_KINDS) -> list[Segment]:
    """Split ``text`` into free and protected segments; ``"".join`` of them is ``text``."""
    kinds = tuple(kinds)
    pattern = _DEFAULT_PATTERN if kinds == PROTECTED_KINDS else _start_pattern(kinds)
    out: list[Segment] = []
    free_from = 0
    search_from = 0
    while True:
        match = pattern.search(text, search_from)
        if match is None:
            break
        kind = _START_TO_KIND[match.group(0)]
        end_tag = MARKUP[kind][1]
        close = text.find(end_tag, match.end())
        if close < 0:
            search_from = match.end()  # unbalanced: the tag is plain text
            continue
        if match.start() > free_from:
            out.append(Segment(text[free_from : match.start()]))
        stop = close + len(end_tag)
        out.append(Segment(text[match.start() : stop], kind))
        free_from = search_from = stop
    if free_from < len(text) or not out:
        out.append(Segment(text[free_from:]))
    return out


def map_free(text: str, fn: Callable[[str], str], kinds: Iterable[str] = PROTECTED_KINDS) -> str:
    """Apply ``fn`` to every free segment of ``text``; protected spans are copied verbatim."""
    return "".join(fn(s.text) if s.kind is None else s.text for s in segments(text, kinds))
