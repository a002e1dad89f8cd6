"""SMILES in running text: syntax signals first, then RDKit must parse and sanitize it.

Precision comes before recall. A whitespace-delimited token (minus sentence punctuation
and balanced outer quotes/brackets) is a SMILES only when all of these hold:

* it is written in SMILES grammar: atoms of the organic subset, aromatic atoms, bracket
  atoms, bonds, branches, ring closures (a regex, no letters outside SMILES);
* it carries a *strong* signal a word, acronym, gene name or formula does not: a branch
  ``(``, a bracket atom, a ``=``/``#`` bond, ``@`` chirality, a lowercase aromatic atom or
  a ring-closure digit (``/``, ``\\``, ``-`` and ``.`` alone are not enough: ``CO/NO``),
  or it is an unbranched chain of at least :data:`MIN_CHAIN` atoms, half of them carbon
  (``CCCCCCCCS``);
* it is at least :data:`MIN_LENGTH` characters and has at least :data:`MIN_HEAVY_ATOMS`
  heavy atoms (so ``P=NP`` and ``C=O`` in prose stay prose);
* RDKit parses and sanitizes it (valences must make chemical sense), with RDKit's log
  blocked.

``CC``, ``CO``, ``NO``, ``CNS``, ``III``, ``H2O``, ``CO2``, ``BRCA1`` all fail one rule.
Isomeric SMILES (``@``, ``/``, ``\\``) are reported as ``i_smiles``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache

MIN_LENGTH = 5
MIN_HEAVY_ATOMS = 3
MIN_CHAIN = 8
MIN_CHAIN_CARBON_FRACTION = 0.5

_ATOM = r"(?:Cl|Br|[BCNOPSFI]|[bcnops]|\[[^\[\]\s]{1,24}\])"
_SMILES = re.compile(rf"{_ATOM}(?:{_ATOM}|[-=#$:/\\.()~*]|%\d\d|\d|@)*")
_STRONG = re.compile(r"[(\[=#@]|[bcnops]|\d")
_ISOMERIC = re.compile(r"[@/\\]")
# A whitespace-delimited token with a strong signal somewhere, or starting like a long
# chain. Lookaheads only, so the scan is linear even on adversarial tokens.
_CANDIDATE = re.compile(rf"(?<!\S)(?=\S*?[(\[=#@\d]|[\"'(]?[CNOS](?:[CNOSPFI]|Cl|Br){{{MIN_CHAIN - 1}}})\S+")
_CHAIN = re.compile(r"(?:[CNOSPFI]|Cl|Br)+")
_SENTENCE = ",;:.!?"
_CLOSING = ")]}>\"'"
_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">", '"': '"', "'": "'"}
_PARTNER = {")": "(", "]": "[", "}": "{", ">": "<", "(": ")", "[": "]", "{": "}", "<": ">"}


@lru_cache(maxsize=65_536)
def parses_as_smiles(candidate: str) -> bool:
    """Whether RDKit parses and sanitizes ``candidate`` with enough heavy atoms."""
    from rdkit import Chem, rdBase

    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(candidate)
    return mol is not None and mol.GetNumHeavyAtoms() >= MIN_HEAVY_ATOMS


def _excess(counts: Counter[str], char: str) -> bool:
    """Whether ``char`` (a bracket or quote) occurs more often than its partner."""
    partner = _PARTNER.get(char)
    if partner is None:
        return counts[char] % 2 == 1
    return counts[char] > counts[partner]


def _trim(token: str, start: int) -> tuple[str, int]:
    """Strip a balanced outer bracket pair, unbalanced brackets and sentence punctuation.

    Counts are kept up to date while stripping, so this is linear in the token length.
    """
    counts = Counter(token)
    i, j = 0, len(token)
    while j - i > 1:
        first, last = token[i], token[j - 1]
        if first in _PAIRS and last == _PAIRS[first] and j - i > 2:
            counts[first] -= 1
            counts[last] -= 1
            if counts["("] == counts[")"] and counts["["] == counts["]"]:
                i, j = i + 1, j - 1
                continue
            counts[first] += 1
            counts[last] += 1
        if last in _SENTENCE or (last in _CLOSING and _excess(counts, last)):
            counts[last] -= 1
            j -= 1
            continue
        if first in _PAIRS and _excess(counts, first):
            counts[first] -= 1
            i += 1
            continue
        break
    return token[i:j], start + i


def _is_chain(token: str) -> bool:
    """An unbranched aliphatic chain long and carbon-rich enough to be no acronym."""
    return (
        len(token) >= MIN_CHAIN
        and _CHAIN.fullmatch(token) is not None
        and token.count("C") - token.count("Cl") >= MIN_CHAIN_CARBON_FRACTION * len(token)
    )


def is_smiles(token: str) -> bool:
    """Whether a bare token (no surrounding punctuation) passes every rule above."""
    return (
        len(token) >= MIN_LENGTH
        and _SMILES.fullmatch(token) is not None
        and (_STRONG.search(token) is not None or _is_chain(token))
        and parses_as_smiles(token)
    )


def smiles_kind(token: str) -> str:
    """``i_smiles`` for isomeric SMILES (stereo or double-bond geometry), else ``smiles``."""
    return "i_smiles" if _ISOMERIC.search(token) else "smiles"


def find_smiles(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[str, int, int]]:
    """Yield ``(kind, start, end)`` for every SMILES in ``text[start:end]``."""
    stop = len(text) if end is None else end
    for m in _CANDIDATE.finditer(text, start, stop):
        token, at = _trim(m.group(), m.start())
        if is_smiles(token):
            yield smiles_kind(token), at, at + len(token)
