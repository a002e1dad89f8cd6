"""The unit every detector reports: a kind and a half-open character range."""

from __future__ import annotations

from dataclasses import dataclass

#: Kinds :func:`~sciprep.tokenize.segment` reports, in the order they are documented.
KINDS: tuple[str, ...] = ("math", "smiles", "i_smiles", "amino", "dna", "ref", "work")


@dataclass(frozen=True)
class Span:
    """``text[start:end]`` is of modality ``kind``.

    ``marked`` is true for a span the text already carried markup for; its range then
    covers the opening and closing tags, and :func:`~sciprep.tokenize.wrap` leaves it as
    it is. Unmarked spans cover only the content (math spans include their LaTeX
    delimiters, which stay inside the markup so nothing is lost).
    """

    kind: str
    start: int
    end: int
    marked: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span range {self.start}..{self.end} for kind {self.kind!r}")

    def text(self, source: str) -> str:
        """The characters of ``source`` this span covers."""
        return source[self.start : self.end]
