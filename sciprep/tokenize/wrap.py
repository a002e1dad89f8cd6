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
from sciprep.tokenize.spans import Span
from sciprep.tokenize.specials import MARKUP


@dataclass
class WrapResult:
    """Wrapped text, and the citation keys the bibliography did not know (in order)."""

    text: str
    unresolved: list[str] = field(default_factory=list)


def _rewrite(
    text: str,
    spans: list[Span],
    bibliography: Mapping[str, BibEntry] | None,
    unresolved: list[str],
    *,
    math: bool,
    tags: bool,
) -> tuple[str, bool]:
    """``text`` with its citation commands resolved (given a bibliography) and, when
    ``tags``, every other unmarked span between its tags; and whether a resolved command's
    ``[..]`` notes were kept as free text."""
    out: list[str] = []
    pos = 0
    noted = False
    for span in spans:
        if span.marked or (span.kind == "math" and not math):
            continue
        if span.kind == "ref":
            match = None if bibliography is None else CITE.match(text, span.start, span.end)
            if match is None or bibliography is None:
                continue
            replacement = resolve_cite(match, bibliography, unresolved)
            noted = noted or (bool(match.group(2)) and replacement != match.group())
        elif tags:
            start_tag, end_tag = MARKUP[span.kind]
            replacement = start_tag + text[span.start : span.end] + end_tag
        else:
            continue
        out.append(text[pos : span.start])
        out.append(replacement)
        pos = span.end
    if pos == 0:
        return text, noted
    out.append(text[pos:])
    return "".join(out), noted


def wrap_report(
    text: str, bibliography: Mapping[str, BibEntry] | None = None, *, math: bool = True
) -> WrapResult:
    """Wrap ``text`` and report unresolved citation keys.

    ``bibliography`` maps citation keys to :class:`BibEntry`; without one, citation
    commands are left as they are and nothing is reported. ``math=False`` leaves formulas
    untagged (they are still never mistaken for chemistry or sequences).

    A reference takes its command's place as a region edge, so the other spans stay as
    found. A note kept as free text (``(p.~5)``) joins the text around it instead; then
    the citations are resolved first and the result is segmented again before tagging,
    the way a second ``wrap`` sees it, which keeps ``wrap`` idempotent.
    """
    unresolved: list[str] = []
    spans = segment(text)
    wrapped, noted = _rewrite(text, spans, bibliography, unresolved, math=math, tags=True)
    if noted:
        unresolved.clear()
        resolved, _ = _rewrite(text, spans, bibliography, unresolved, math=math, tags=False)
        wrapped, _ = _rewrite(resolved, segment(resolved), None, [], math=math, tags=True)
    return WrapResult(wrapped, unresolved)


def wrap(text: str, bibliography: Mapping[str, BibEntry] | None = None, *, math: bool = True) -> str:
    """``text`` with every detected span wrapped in Galactica's special tokens."""
    return wrap_report(text, bibliography, math=math).text
