"""Markup a text already carries: well-formed tag pairs are honoured, stray tags are text.

A pair is well formed when ``[START_X]`` is followed by ``[END_X]`` of the same kind with
no other special token in between (``<work>`` blocks may contain other markup but not
another ``<work>``). Anything else (an unclosed ``[START_SMILES]``, a mismatched
``[START_DNA]..[END_AMINO]``, a lone ``</work>``, a ``<s>`` outside a work block) is a
*stray* tag: it is kept verbatim,
nothing is detected across it, and the tokenizer gives it its single id without starting
a span. The tokenizer's pre-tokenizer applies the very same pairing rule, so "what the
tokenizer treats as a span" and "what :func:`find_marked` reports" agree.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sciprep.tokenize.spans import Span
from sciprep.tokenize.specials import SPECIAL_TOKENS

#: Bracket-style kinds whose content may not contain another tag.
_BRACKET_KINDS = ("ref", "smiles", "i_smiles", "amino", "dna", "sup", "sub", "math")

# Any special token, ``<s>`` and ``<work>`` included: the tokenizer cuts text at each, so
# no span may contain one, and one outside a pair is a stray tag.
_ANY_TAG = "|".join(re.escape(tag) for tag in SPECIAL_TOKENS)
_PAIR_NAMES = "|".join(k.upper() for k in _BRACKET_KINDS)

_PAIR = re.compile(
    rf"\[START_({_PAIR_NAMES})\](?:(?!{_ANY_TAG}).)*?\[END_\1\]"
    rf"|<work>(?:(?!</?work>).)*?</work>",
    re.S,
)
ANY_TAG = re.compile(_ANY_TAG)


class Marked(NamedTuple):
    """Well-formed markup spans and stray tag ranges, both sorted by position."""

    spans: list[Span]
    stray: list[tuple[int, int]]


def find_marked(text: str) -> Marked:
    """Find the markup ``text`` already carries (see the module docstring for the rule)."""
    spans: list[Span] = []
    stray: list[tuple[int, int]] = []
    if "[START_" not in text and "[END_" not in text and "<" not in text:
        return Marked(spans, stray)
    pos = 0
    while True:
        tag = ANY_TAG.search(text, pos)
        if tag is None:
            break
        pair = _PAIR.match(text, tag.start())
        if pair is None:
            stray.append((tag.start(), tag.end()))
            pos = tag.end()
            continue
        name = pair.group(1)
        kind = name.lower() if name else "work"
        spans.append(Span(kind, pair.start(), pair.end(), marked=True))
        pos = pair.end()
    return Marked(spans, stray)
