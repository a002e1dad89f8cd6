"""Galactica markup: put every detected span between its special tokens.

Wrapping only inserts tags (and, with a bibliography, replaces citation commands by
references), so ``wrap`` never loses text; text that already carries markup keeps it, and
``wrap(wrap(x)) == wrap(x)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sciprep.tokenize.citations import CITE, BibEntry, resolve_cite
from sciprep.tokenize.segment import segment
from sciprep.tokenize.specials import MARKUP


@dataclass
class WrapResult:
    """Wrapped text, and the citation keys the bibliography did not know (in order)."""

    text: str
    unresolved: list[str] = field(default_factory=list)


def wrap_report(
    text: str, bibliography: Mapping[str, BibEntry] | None = None, *, math: bool = True
) -> WrapResult:
    """Wrap ``text`` and report unresolved citation keys.

    ``bibliography`` maps citation keys to :class:`BibEntry`; without one, citation
    commands are left as they are and nothing is reported. ``math=False`` leaves formulas
    untagged (they are still never mistaken for chemistry or sequences).
    """
    out: list[str] = []
    unresolved: list[str] = []
    pos = 0
    for span in segment(text):
        if span.marked:
            continue
        if span.kind == "math" and not math:
            continue
        if span.kind == "ref":
            if bibliography is None:
                continue
            match = CITE.match(text, span.start, span.end)
            if match is None:
                continue
            out.append(text[pos : span.start])
            out.append(resolve_cite(match, bibliography, unresolved))
        else:
            start_tag, end_tag = MARKUP[span.kind]
            out.append(text[pos : span.start])
            out.append(start_tag + text[span.start : span.end] + end_tag)
        pos = span.end
    if pos == 0:
        return WrapResult(text, unresolved)
    out.append(text[pos:])
    return WrapResult("".join(out), unresolved)


def wrap(text: str, bibliography: Mapping[str, BibEntry] | None = None, *, math: bool = True) -> str:
    """``text`` with every detected span wrapped in Galactica's special tokens."""
    return wrap_report(text, bibliography, math=math).text
