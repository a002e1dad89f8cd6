"""Normalisation: Unicode NFC, whitespace and control characters, outside data spans.

NFC, not NFKC: NFKC folds superscripts, ligatures and compatibility letters (``x²`` ->
``x2``, ``µ`` -> ``μ``), which changes the meaning of science text. Math, SMILES and
sequence spans (:data:`sciprep.cleaning.spans.PROTECTED_KINDS`) are copied verbatim.
Untagged LaTeX math and verbatim/code blocks (:func:`sciprep.cleaning.spans.raw_spans`)
keep their whitespace: only control characters and NFC apply inside them. Leading
indentation is kept (code, aligned tables), and documents of ``layout_kinds`` keep
all their horizontal whitespace.

Whitespace-like controls break lines rather than vanish (vertical tab, form feed,
NEL, the information separators and U+2028 become a newline, U+2029 a blank line),
so ``page one\fpage two`` does not become ``page onepage two``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sciprep.cleaning.spans import map_free, map_gaps, raw_spans
from sciprep.cleaning.steps.base import (
    Decision,
    Step,
    StepParams,
    register_step,
    transform_text,
)
from sciprep.corpus.document import Document

# Controls that Python's str.splitlines/str.split treat as line breaks or spaces.
_LINE_BREAKS = str.maketrans(
    {"\x0b": "\n", "\x0c": "\n", "\x1c": "\n", "\x1d": "\n", "\x1e": "\n", "\x1f": " ", "\x85": "\n",
     "\u2028": "\n", "\u2029": "\n\n"}
)  # fmt: skip
# Other C0/C1 controls except tab and newline, plus invisible format characters that
# break word matching (zero-width space, BOM/zero-width no-break space, soft hyphen).
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200b\ufeff\u00ad]")
# Unicode spaces other than the ASCII space (NBSP, en/em and thin spaces, ideographic).
_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_RUN_OF_BLANKS = re.compile(r"(?<=\S)[ \t]{2,}")
_TRAILING = re.compile(r"[ \t]+\n")
_LEADING_BLANKS = re.compile(r"\A[ \t]{2,}")


@dataclass
class NormaliseParams(StepParams):
    nfc: bool = True
    unicode_spaces: bool = True
    collapse_spaces: bool = True
    max_blank_lines: int = 1
    layout_kinds: tuple[str, ...] = ("code",)


@register_step("normalise")
class Normalise(Step):
    """Canonical text without changing what it says; a no-op on clean text."""

    Params = NormaliseParams
    params: NormaliseParams

    def _free(self, text: str, keep_layout: bool) -> str:
        text = text.translate(_LINE_BREAKS)
        text = _CONTROL.sub("", text)  # before NFC: removing one can bring a letter and its accent together
        if self.params.nfc:
            text = unicodedata.normalize("NFC", text)
        # Math and verbatim are found after the controls are gone, so a second pass finds the same ones.
        return map_gaps(text, raw_spans(text), lambda gap, after: self._layout(gap, keep_layout, after))

    def _layout(self, text: str, keep_layout: bool, after_span: bool = False) -> str:
        p = self.params
        if p.unicode_spaces:
            text = _SPACES.sub(" ", text)
        if p.collapse_spaces and not keep_layout:
            text = _RUN_OF_BLANKS.sub(" ", text)
            if after_span:  # the run continues the line the span ends, not an indentation
                text = _LEADING_BLANKS.sub(" ", text)
        text = _TRAILING.sub("\n", text)
        if p.max_blank_lines >= 0:
            text = re.sub(f"\n{{{p.max_blank_lines + 2},}}", "\n" * (p.max_blank_lines + 1), text)
        return text

    def normalise(self, text: str, kind: str = "", strip: bool = True) -> str:
        """The normalised form of ``text`` (idempotent: normalising twice changes nothing more).

        ``strip`` trims the ends (off for the prompt/answer halves of a prompt record).
        """
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        keep_layout = kind in self.params.layout_kinds
        out = map_free(text, lambda free: self._free(free, keep_layout))
        if not strip:
            return out
        return out.strip() if not keep_layout else out.strip("\n")

    def decide(self, doc: Document, attrs: Mapping[str, Any]) -> Decision:
        whole = doc.prompt is None or doc.answer is None
        return transform_text(doc, lambda text: self.normalise(text, doc.kind, strip=whole), "normalised")
