"""Galactica's splitting rules as a Hugging Face pre-tokenizer (so they live in tokenizer.json).

The rules are regular expressions that ``tokenizers`` (Rust, Oniguruma) runs in sequence,
each stage splitting the pieces the previous one produced:

1. *Math*: inside a well-formed ``[START_MATH]..[END_MATH]`` pair, ASCII operators and
   brackets each become a piece (Galactica: "we split ASCII operators into individual
   characters; parentheses are treated like digits"); the text between them is left to
   stage 3.
2. *Sequences*: inside a well-formed SMILES/I_SMILES/AMINO/DNA pair, every character is
   a piece; with ``smiles="atom"`` SMILES follow the Molecular Transformer atom regex
   instead (``Cl``, ``Br``, ``[C@@H]``, ``%10`` stay whole).
3. *Prose*: GPT-2 style words, with every digit its own piece, LaTeX control sequences
   (``\\alpha``, ``\\,``) whole, and every tag (paired or stray) a piece of its own.

A pair is well formed when no other tag lies between ``[START_X]`` and ``[END_X]`` (the
rule of :mod:`sciprep.tokenize.markup`); the opening tag is matched only when a
lookahead finds its closing tag. The pieces inside a span are then matched as a chain
with ``\\G`` (a match must start where the previous one ended), which stops at the
closing tag; outside spans the stage matches nothing, so it costs one scan. The tags are
ordinary vocabulary entries at their fixed ids (BPE ``ignore_merges`` maps a piece found
in the vocabulary straight to its id), not "added tokens": added tokens are cut out
before pre-tokenization, which would hide from these stages whether text lies inside a
span. Since no merge crosses a piece boundary, BPE never merges across a span boundary.
"""

from __future__ import annotations

import re

from tokenizers import Regex
from tokenizers import pre_tokenizers as pre

SEQUENCE_KINDS = ("SMILES", "I_SMILES", "AMINO", "DNA")
SPAN_KINDS = (*SEQUENCE_KINDS, "MATH")

#: Tags handled by the pre-tokenizer (vocabulary entries, never added tokens).
PRETOKENIZED_TAGS: tuple[str, ...] = tuple(
    f"[{edge}_{kind}]" for kind in SPAN_KINDS for edge in ("START", "END")
)

_ANY = r"[\s\S]"
_TAG = r"\[(?:START|END)_(?:" + "|".join(SPAN_KINDS) + r")\]"
_OPS = r"\-+*/=<>^_|~!&?()\[\]{}"


def _opening(kinds: tuple[str, ...]) -> str:
    """An opening tag of one of ``kinds`` whose closing tag follows with no tag between."""
    names = "|".join(kinds)
    return rf"\[START_({names})\](?=(?:(?!{_TAG}){_ANY})*?\[END_\1\])"


def _chain(kinds: tuple[str, ...], piece: str) -> str:
    """``piece`` or the closing tag, right after the previous match, inside a span."""
    not_after_close = "".join(rf"(?<!\[END_{k}\])" for k in kinds)
    closing = r"\[END_(?:" + "|".join(kinds) + r")\]"
    return rf"\G(?<={_ANY}){not_after_close}(?:{closing}|{piece})"


def _stage(kinds: tuple[str, ...], piece: str) -> str:
    return f"{_opening(kinds)}|{_chain(kinds, piece)}"


MATH = _stage(("MATH",), rf"[{_OPS}]|[^{_OPS}]+")
SEQUENCE_CHARS = _stage(SEQUENCE_KINDS, _ANY)
# Molecular Transformer (Schwaller et al. 2019) SMILES regex, reduced to its multi-character
# alternatives: every other alternative of theirs is a single character.
SMILES_ATOMS = _stage(("SMILES", "I_SMILES"), rf"\[[^\[\]]+\]|Br|Cl|%\d\d|{_ANY}")
AMINO_DNA_CHARS = _stage(("AMINO", "DNA"), _ANY)

# A bracket atom or ring-closure piece of the atom stage (whole pieces only).
_ATOM_PIECE = r"\A\[\d*(?:[A-Z][a-z]?|[bcnops]|se|as|\*)[^\[\]]*\]\z|\A%\d\d\z"
_PROSE = (
    rf"'(?:[sdmt]|ll|ve|re)| ?\\(?:[A-Za-z]+|(?!{_TAG})[^A-Za-z\s\p{{N}}])?| ?\p{{L}}+|\p{{N}}"
    rf"| ?(?:(?!{_TAG})[^\s\p{{L}}\p{{N}}\\])+|\s+(?={_TAG})|\s+(?!\S)|\s+"
)
PROSE = rf"{_TAG}|{_PROSE}"
PROSE_ATOM_AWARE = rf"{_TAG}|{_ATOM_PIECE}|{_PROSE}"

#: One SMILES atom piece (Python ``re`` with DOTALL): the rule of :data:`SMILES_ATOMS`.
SMILES_ATOM_PIECE = r"\[[^\[\]]+\]|Br|Cl|%\d\d|."
_SMILES_ATOM_RE = re.compile(SMILES_ATOM_PIECE, re.S)

SMILES_MODES = ("char", "atom")


def _split(pattern: str) -> pre.PreTokenizer:
    return pre.Split(Regex(pattern), "isolated")


def build_pre_tokenizer(smiles: str = "char") -> pre.PreTokenizer:
    """The pre-tokenizer for ``smiles`` mode ``"char"`` (one piece per character) or ``"atom"``."""
    if smiles not in SMILES_MODES:
        raise ValueError(f"smiles mode must be one of {SMILES_MODES}, not {smiles!r}")
    if smiles == "char":
        stages = [_split(MATH), _split(SEQUENCE_CHARS), _split(PROSE)]
    else:
        stages = [_split(MATH), _split(SMILES_ATOMS), _split(AMINO_DNA_CHARS), _split(PROSE_ATOM_AWARE)]
    return pre.Sequence([*stages, pre.ByteLevel(add_prefix_space=False, use_regex=False)])


def smiles_atoms(smiles: str) -> list[str]:
    """Split a SMILES string into atom-level pieces (Molecular Transformer rule).

    The pieces always join back into the input (a single character is the fallback); this
    is checked, and a ValueError raised, because the atom vocabulary is built from them.
    """
    pieces = _SMILES_ATOM_RE.findall(smiles)
    if "".join(pieces) != smiles:
        raise ValueError(f"SMILES atom split does not re-join to the input: {smiles!r}")
    return pieces
