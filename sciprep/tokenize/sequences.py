"""Protein and nucleotide sequences in running text: length, alphabet and composition.

A run of capitals is a protein (``amino``) only when it is long (:data:`MIN_AMINO`
residues), uses only the 20 standard one-letter codes (plus a little ``X``), has many
distinct residues, and its letters are more likely under UniProt's residue frequencies
than under English letter frequencies (mean log-likelihood ratio at least
:data:`MIN_PROTEIN_LLR`). English words in capitals (``CHARACTERISTICALLY``) are rich in
E, T, H, N and poor in K, Q, V, G, so they fail the last test even when every letter is a
residue code. A run of ``ACGT`` (``U`` for RNA, ``N`` for unknown) of :data:`MIN_DNA`
bases, or an all-lowercase run of :data:`MIN_DNA_LOWER`, is ``dna``. Sequences wrapped
over several lines, FASTA style, are one span (newlines included, so nothing is lost).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

MIN_AMINO = 12
MIN_DISTINCT_RESIDUES = 6
MAX_X_FRACTION = 0.1
MIN_PROTEIN_LLR = 0.15
MIN_DNA = 12
MIN_DNA_LOWER = 16
MAX_N_FRACTION = 0.25

# UniProtKB/Swiss-Prot residue composition and English letter frequencies, in percent.
_PROTEIN_FREQ = {
    "A": 8.25, "R": 5.53, "N": 4.06, "D": 5.45, "C": 1.37, "Q": 3.93, "E": 6.75,
    "G": 7.07, "H": 2.27, "I": 5.96, "L": 9.66, "K": 5.84, "M": 2.42, "F": 3.86,
    "P": 4.70, "S": 6.56, "T": 5.34, "W": 1.08, "Y": 2.92, "V": 6.87,
}  # fmt: skip
_ENGLISH_FREQ = {
    "A": 8.17, "R": 5.99, "N": 6.75, "D": 4.25, "C": 2.78, "Q": 0.10, "E": 12.70,
    "G": 2.02, "H": 6.09, "I": 6.97, "L": 4.03, "K": 0.77, "M": 2.41, "F": 2.23,
    "P": 1.93, "S": 6.33, "T": 9.06, "W": 2.36, "Y": 1.97, "V": 0.98,
}  # fmt: skip
_LLR = {aa: math.log(_PROTEIN_FREQ[aa] / _ENGLISH_FREQ[aa]) for aa in _PROTEIN_FREQ}
_LLR["X"] = 0.0

_RES = "ACDEFGHIKLMNPQRSTVWYX"
_EDGE_L = r"(?<![A-Za-z0-9_\-\[])"
_EDGE_R = r"(?![A-Za-z0-9_\]])"
_RUN = re.compile(
    rf"{_EDGE_L}(?:[{_RES}]{{{MIN_DNA},}}(?:\r?\n[{_RES}]+(?=\r?\n|$))*"
    rf"|[acgtun]{{{MIN_DNA_LOWER},}}(?:\r?\n[acgtun]+(?=\r?\n|$))*){_EDGE_R}",
    re.M,
)
_NEWLINES = re.compile(r"[\r\n]")


def is_dna(seq: str) -> bool:
    """Whether a run (newlines removed) is a nucleotide sequence."""
    upper = seq.upper()
    n = len(upper)
    if n < (MIN_DNA if seq.isupper() else MIN_DNA_LOWER) or upper.strip("ACGTUN"):
        return False
    if "T" in upper and "U" in upper:
        return False
    distinct = len(set(upper) - {"N"})
    return distinct >= 3 and upper.count("N") <= MAX_N_FRACTION * n


def is_protein(seq: str) -> bool:
    """Whether a run of capitals (newlines removed) is a protein sequence."""
    n = len(seq)
    if n < MIN_AMINO or not seq.isupper() or seq.strip(_RES):
        return False
    if len(set(seq)) < MIN_DISTINCT_RESIDUES or seq.count("X") > MAX_X_FRACTION * n:
        return False
    return sum(_LLR[c] for c in seq) / n >= MIN_PROTEIN_LLR


def find_sequences(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[str, int, int]]:
    """Yield ``(kind, start, end)`` for every DNA or protein run in ``text[start:end]``."""
    stop = len(text) if end is None else end
    for m in _RUN.finditer(text, start, stop):
        seq = _NEWLINES.sub("", m.group())
        if is_dna(seq):
            yield "dna", m.start(), m.end()
        elif is_protein(seq):
            yield "amino", m.start(), m.end()
