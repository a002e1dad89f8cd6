"""Find Galactica citation and math spans in corpus text, with the words around them.

The corpus writes citations as ``[START_REF] Title, Surname[END_REF]`` and math as
``[START_MATH]$...$[END_MATH]`` (the LaTeX delimiters stay inside). Everything the
query stage indexes or evaluates starts from these spans, so the parsing rules live in
one place. Inputs are untrusted: an unterminated or oversized span is reported as a
:class:`MarkupProblem` (with its character offset) instead of swallowing the rest of
the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sciprep.tokenize.specials import END_MATH, END_REF, SPECIAL_TOKENS, START_MATH, START_REF

#: Longest citation / formula body accepted; longer spans are markup damage, not data.
MAX_CITATION_CHARS = 1_000
MAX_FORMULA_CHARS = 5_000
#: How far a sentence is searched for on each side of a span.
MAX_SENTENCE_CHARS = 400

_SPECIAL_RE = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS if t.startswith("[")))
_SPACE_RE = re.compile(r"\s+")
#: A formula ending its sentence: ``.`` before the closing delimiter (``\end{equation}``, ``\]``, ``$``).
_CLOSING_STOP_RE = re.compile(r"[.!?]\s*(?:\\end\{[A-Za-z*]+\}|\\\]|\${1,2})?\s*$")
_SENTENCE_END_RE = re.compile(r"(?:[.!?]\s+(?=[A-Z0-9\[(\"'`])|\n\s*\n)")


@dataclass(frozen=True)
class CitationSpan:
    """One ``[START_REF] Title, Surname[END_REF]`` occurrence; offsets cover the tags."""

    start: int
    end: int
    title: str
    surname: str

    @property
    def citation(self) -> str:
        """The ``Title, Surname`` string exactly as Galactica writes it."""
        return citation_string(self.title, self.surname)


@dataclass(frozen=True)
class MathSpan:
    """One ``[START_MATH]...[END_MATH]`` occurrence; ``latex`` keeps its delimiters."""

    start: int
    end: int
    latex: str


@dataclass(frozen=True)
class MarkupProblem:
    """A span that could not be used: where it starts and why."""

    kind: str
    position: int
    reason: str


def clean_title(title: str) -> str:
    """A title as citations write it: whitespace collapsed, no trailing ``.,;:``."""
    return " ".join(title.split()).rstrip(".,;: ")


def citation_string(title: str, surname: str) -> str:
    """Galactica's in-text citation form: ``Title, Surname`` (just the title without one)."""
    title = clean_title(title)
    surname = " ".join(surname.split())
    return f"{title}, {surname}" if surname else title


def split_citation(inner: str) -> tuple[str, str]:
    """Inverse of :func:`citation_string`: split at the last ``", "``.

    A surname never contains ``", "``, a title may, so the last separator is the one.
    """
    inner = " ".join(inner.split())
    if ", " in inner:
        title, surname = inner.rsplit(", ", 1)
        if surname and len(surname.split()) <= 3:
            return title.strip(), surname.strip()
    return inner, ""


def _spans(
    text: str, open_tag: str, close_tag: str, kind: str, max_chars: int
) -> tuple[list[tuple[int, int, str]], list[MarkupProblem]]:
    found: list[tuple[int, int, str]] = []
    problems: list[MarkupProblem] = []
    pos = 0
    while True:
        start = text.find(open_tag, pos)
        if start < 0:
            return found, problems
        body_start = start + len(open_tag)
        close = text.find(close_tag, body_start)
        reopen = text.find(open_tag, body_start)
        if close < 0 or (0 <= reopen < close):
            problems.append(MarkupProblem(kind, start, f"{open_tag} without a matching {close_tag}"))
            pos = body_start
            continue
        body = text[body_start:close]
        end = close + len(close_tag)
        if len(body) > max_chars:
            problems.append(
                MarkupProblem(kind, start, f"{kind} span of {len(body)} chars exceeds {max_chars}")
            )
        elif not body.strip():
            problems.append(MarkupProblem(kind, start, f"empty {kind} span"))
        else:
            found.append((start, end, body))
        pos = end


def find_citations(text: str) -> tuple[list[CitationSpan], list[MarkupProblem]]:
    """All well-formed citation spans of ``text`` in order, and the malformed ones."""
    raw, problems = _spans(text, START_REF, END_REF, "citation", MAX_CITATION_CHARS)
    spans = []
    for start, end, body in raw:
        title, surname = split_citation(body)
        spans.append(CitationSpan(start, end, title, surname))
    return spans, problems


def find_math(text: str) -> tuple[list[MathSpan], list[MarkupProblem]]:
    """All well-formed math spans of ``text`` in order, and the malformed ones."""
    raw, problems = _spans(text, START_MATH, END_MATH, "formula", MAX_FORMULA_CHARS)
    return [MathSpan(start, end, body.strip()) for start, end, body in raw], problems


def strip_markup(text: str) -> str:
    """``text`` without markup tags (their contents stay), for word-level matching."""
    return _SPECIAL_RE.sub(" ", text)


def _masked(text: str) -> str:
    """``text`` with every markup span blanked (same length), so '.' inside math is no sentence end.

    A formula whose LaTeX ends in ``.`` (a display equation closing its sentence) keeps
    that one ``.`` as its last character, so the sentence ends with it.
    """
    chars = list(text)
    for open_tag, close_tag in ((START_MATH, END_MATH), (START_REF, END_REF)):
        pos = 0
        while (start := text.find(open_tag, pos)) >= 0:
            close = text.find(close_tag, start + len(open_tag))
            end = len(text) if close < 0 else close + len(close_tag)
            chars[start:end] = "_" * (end - start)
            if open_tag == START_MATH and close >= 0 and _CLOSING_STOP_RE.search(text, start, close):
                chars[end - 1] = "."
            pos = end
    return "".join(chars)


def sentence_bounds(text: str, start: int, end: int, masked: str | None = None) -> tuple[int, int]:
    """Character bounds of the sentence holding ``text[start:end]``.

    A sentence longer than :data:`MAX_SENTENCE_CHARS` on either side is cut at a word
    boundary outside markup, never inside a word or a neighbouring span. ``masked``
    (from a previous call's :func:`masked_text`) saves re-masking a long document for
    each of its spans.
    """
    masked = _masked(text) if masked is None else masked
    lo = max(0, start - MAX_SENTENCE_CHARS)
    left = lo
    for match in _SENTENCE_END_RE.finditer(masked, lo, start):
        left = match.end()
    if left == lo and lo > 0 and not masked[lo - 1].isspace():
        space = _SPACE_RE.search(masked, lo, start)
        left = space.end() if space else start
    hi = min(len(text), end + MAX_SENTENCE_CHARS)
    match = _SENTENCE_END_RE.search(masked, max(start, end - 1), hi)  # the span's own closing '.'
    if match:
        return left, match.start() + 1
    if hi < len(text) and not masked[hi].isspace():
        spaces = [m.start() for m in _SPACE_RE.finditer(masked, end, hi)]
        hi = spaces[-1] if spaces else end
    return left, hi


def masked_text(text: str) -> str:
    """Precompute the sentence-splitting mask of ``text`` for :func:`sentence_bounds`."""
    return _masked(text)


def context_before(text: str, position: int, max_chars: int) -> str:
    """Up to ``max_chars`` of ``text`` before ``position``, starting at a word boundary."""
    lo = max(0, position - max_chars)
    if lo > 0 and not text[lo - 1].isspace():
        space = text.find(" ", lo, position)
        lo = space + 1 if space >= 0 else lo
    return text[lo:position]
