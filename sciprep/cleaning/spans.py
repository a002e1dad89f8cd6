"""Markup spans that cleaning must leave byte-for-byte alone.

Math, SMILES and sequence spans are data, not prose: NFC-normalising, collapsing
whitespace, redacting "phone numbers" or counting "words" inside them corrupts
formulas, stereo-chemistry and residues. Steps split a text into protected and free
segments, transform only the free ones, and join them back.

A start tag without its end tag is *not* a span (an unbalanced tag must not shield,
or hide, the rest of the document); the stray tag stays as free text.

Text that is not yet tagged carries data too: :func:`raw_spans` finds raw LaTeX math
(``$..$``, ``\\[..\\]``, equation environments; the same rules as
:func:`sciprep.tokenize.math_spans.find_math`), LaTeX verbatim environments
(``verbatim``, ``lstlisting``, ``minted``, ...), ``\\verb|..|`` and Markdown code
fences, so layout changes can leave them alone too. Unclosed ones are not spans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sciprep.tokenize.math_spans import find_math
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


#: LaTeX environments whose body is printed as typed.
VERBATIM_ENVIRONMENTS: tuple[str, ...] = (
    "verbatim", "Verbatim", "BVerbatim", "lstlisting", "minted", "alltt", "comment",
)  # fmt: skip
_VERBATIM_OPEN = re.compile(
    r"\\begin\{(" + "|".join(VERBATIM_ENVIRONMENTS) + r")(\*?)\}"
    r"|^[ \t]*(`{3,}|~{3,})[^\n]*$"
    r"|\\verb\*?([^\sA-Za-z*])",
    re.M,
)


def _verbatim_close(text: str, opener: re.Match[str], missing: set[str]) -> int | None:
    """End offset of the verbatim block ``opener`` starts, or None when it does not close."""
    if opener.group(1) is not None:
        closer = f"\\end{{{opener.group(1)}{opener.group(2)}}}"
        if closer in missing:
            return None
        at = text.find(closer, opener.end())
        if at < 0:
            missing.add(closer)  # nor will any later opener of the same kind close
            return None
        return at + len(closer)
    if opener.group(3) is not None:
        fence = opener.group(3)
        pattern = rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$"
        m = re.compile(pattern, re.M).search(text, opener.end() + 1) if opener.end() < len(text) else None
        return m.end() if m is not None else None
    delimiter = opener.group(4)
    line_end = text.find("\n", opener.end())
    at = text.find(delimiter, opener.end(), len(text) if line_end < 0 else line_end)
    return at + 1 if at >= 0 else None


def raw_spans(text: str) -> list[tuple[int, int]]:
    """Sorted, disjoint ``(start, end)`` of the untagged math and verbatim blocks of ``text``.

    Verbatim blocks are found first (a ``$`` inside code is not math); math is found in
    the text between them.
    """
    blocks: list[tuple[int, int]] = []
    missing: set[str] = set()
    pos = 0
    while (opener := _VERBATIM_OPEN.search(text, pos)) is not None:
        close = _verbatim_close(text, opener, missing)
        if close is None:
            pos = opener.end() if opener.end() > opener.start() else opener.start() + 1
            continue
        blocks.append((opener.start(), close))
        pos = close
    out: list[tuple[int, int]] = []
    free_from = 0
    for start, end in [*blocks, (len(text), len(text))]:
        out.extend(find_math(text, free_from, start))
        if end > start:
            out.append((start, end))
        free_from = end
    return out


def map_gaps(text: str, spans: Iterable[tuple[int, int]], fn: Callable[[str, bool], str]) -> str:
    """Apply ``fn(gap, after_span)`` to the parts of ``text`` outside the sorted, disjoint ``spans``.

    ``after_span`` says whether the gap directly follows a span (else it starts ``text``).
    """
    out: list[str] = []
    pos = 0
    for start, end in spans:
        if start > pos:
            out.append(fn(text[pos:start], pos > 0))
        out.append(text[start:end])
        pos = end
    if pos < len(text) or not out:
        out.append(fn(text[pos:], pos > 0))
    return "".join(out)
