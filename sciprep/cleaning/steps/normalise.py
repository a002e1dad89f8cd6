"""Normalisation: Unicode NFC, whitespace and control characters, outside data spans.

NFC, not NFKC: NFKC folds superscripts, ligatures and compatibility letters (``x²`` ->
``x2``, ``µ`` -> ``μ``), which changes the meaning of science text. Math, SMILES and
sequence spans (:data:`sciprep.cleaning.spans.PROTECTED_KINDS`) are copied verbatim.
Leading indentation is kept (code, aligned tables), and documents of
``layout_kinds`` keep all their horizontal whitespace.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sciprep.cleaning.spans import map_free
from sciprep.cleaning.steps.base import (
    Decision,
    Step,
    StepParams,
    register_step,
    transform_text,
)
from sciprep.corpus.document import Document

# C0/C1 controls except tab and newline, plus invisible format characters that break
# word matching (zero-width space, BOM/zero-width no-break space, soft hyphen).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff\u00ad]")
# Unicode spaces other than the ASCII space (NBSP, en/em and thin spaces, ideographic).
_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_RUN_OF_BLANKS = re.compile(r"(?<=\S)[ \t]{2,}")
_TRAILING = re.compile(r"[ \t]+\n")


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
        p = self.params
        text = _CONTROL.sub("", text)  # first: removing one can bring a letter and its accent together
        if p.nfc:
            text = unicodedata.normalize("NFC", text)
        if p.unicode_spaces:
            text = _SPACES.sub(" ", text)
        if p.collapse_spaces and not keep_layout:
            text = _RUN_OF_BLANKS.sub(" ", text)
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
