"""Galactica's special tokens, at fixed ids, in one place.

Every stage that writes or reads markup imports these names instead of spelling the
strings, so the corpus, the tokenizer, the trainer and the query engine cannot drift.
The order of :data:`SPECIAL_TOKENS` *is* the id assignment: ``<s>``=0, ``<pad>``=1,
``</s>``=2, ``<unk>``=3, then the markup tokens.
"""

from __future__ import annotations

BOS = "<s>"
PAD = "<pad>"
EOS = "</s>"
UNK = "<unk>"

START_REF, END_REF = "[START_REF]", "[END_REF]"
START_WORK, END_WORK = "<work>", "</work>"
START_SMILES, END_SMILES = "[START_SMILES]", "[END_SMILES]"
START_I_SMILES, END_I_SMILES = "[START_I_SMILES]", "[END_I_SMILES]"
START_AMINO, END_AMINO = "[START_AMINO]", "[END_AMINO]"
START_DNA, END_DNA = "[START_DNA]", "[END_DNA]"
START_SUP, END_SUP = "[START_SUP]", "[END_SUP]"
START_SUB, END_SUB = "[START_SUB]", "[END_SUB]"
START_MATH, END_MATH = "[START_MATH]", "[END_MATH]"

SPECIAL_TOKENS: tuple[str, ...] = (
    BOS, PAD, EOS, UNK,
    START_REF, END_REF,
    START_WORK, END_WORK,
    START_SMILES, END_SMILES,
    START_I_SMILES, END_I_SMILES,
    START_AMINO, END_AMINO,
    START_DNA, END_DNA,
    START_SUP, END_SUP,
    START_SUB, END_SUB,
    START_MATH, END_MATH,
)  # fmt: skip

SPECIAL_IDS: dict[str, int] = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}

#: Span kind -> (opening tag, closing tag). Kinds are the names ``segment`` reports.
MARKUP: dict[str, tuple[str, str]] = {
    "ref": (START_REF, END_REF),
    "work": (START_WORK, END_WORK),
    "smiles": (START_SMILES, END_SMILES),
    "i_smiles": (START_I_SMILES, END_I_SMILES),
    "amino": (START_AMINO, END_AMINO),
    "dna": (START_DNA, END_DNA),
    "sup": (START_SUP, END_SUP),
    "sub": (START_SUB, END_SUB),
    "math": (START_MATH, END_MATH),
}
