"""LaTeX math: ``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]`` and display environments.

Inline ``$`` follows Pandoc's rule, which is what keeps currency and stray dollars from
swallowing a document: the opening ``$`` must be followed by a non-space, the closing one
preceded by a non-space and not followed by a digit, the formula may not cross a blank
line and is at most :data:`MAX_INLINE` characters. A ``$`` that does not close under these
rules is ordinary text. Escaped ``\\$`` never opens or closes math. Display math is
bounded by :data:`MAX_DISPLAY` characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_INLINE = 2_000
MAX_DISPLAY = 50_000

ENVIRONMENTS = (
    "equation", "align", "gather", "multline", "eqnarray", "displaymath",
    "math", "flalign", "alignat", "dmath",
)  # fmt: skip

_OPENER = re.compile(r"(\$\$|\$|\\\(|\\\[|\\begin\{(" + "|".join(ENVIRONMENTS) + r")(\*?)\})")
_INLINE_BODY = re.compile(rf"(?=\S)((?:\\.|[^\\$]){{1,{MAX_INLINE}}}?)(?<=\S)(?<!\\)\$(?!\d)", re.S)
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_CLOSERS = {"$$": re.compile(r"(?<!\\)\$\$"), "\\(": re.compile(r"\\\)"), "\\[": re.compile(r"\\\]")}


def _close(text: str, opener: re.Match[str], stop: int, searched: dict[str, int]) -> int | None:
    """End offset of the formula opened by ``opener``, or None when it does not close.

    ``searched`` maps a closing delimiter to the offset up to which an earlier search found
    none, so a text full of unclosed openers is still scanned in linear time.
    """
    token = opener.group(1)
    body = opener.end(1)
    if token == "$":
        m = _INLINE_BODY.match(text, body, stop)
        if m is None or _BLANK_LINE.search(m.group(1)):
            return None
        return m.end()
    if token.startswith("\\begin"):
        end_text = f"\\end{{{opener.group(2)}{opener.group(3)}}}"
        closer = re.compile(re.escape(end_text))
    else:
        end_text, closer = token, _CLOSERS[token]
    limit = min(stop, body + MAX_DISPLAY)
    known_empty = searched.get(end_text, 0) - len(end_text) + 1
    m = closer.search(text, max(body, known_empty), limit)
    if m is None:
        searched[end_text] = limit
        return None
    if token in ("$$", "\\(") and _BLANK_LINE.search(text, body, m.start()):
        return None
    return m.end()


def _escaped(text: str, pos: int) -> bool:
    """Whether ``text[pos]`` is preceded by an odd number of backslashes."""
    start = pos
    while pos > 0 and text[pos - 1] == "\\":
        pos -= 1
    return (start - pos) % 2 == 1


def find_math(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of every formula in ``text[start:end]``, delimiters included."""
    stop = len(text) if end is None else end
    pos = start
    searched: dict[str, int] = {}
    while pos < stop:
        opener = _OPENER.search(text, pos, stop)
        if opener is None:
            return
        if _escaped(text, opener.start()):
            pos = opener.start() + 1
            continue
        close = _close(text, opener, stop, searched)
        if close is None:
            pos = opener.end(1)
            continue
        yield opener.start(1), close
        pos = close
