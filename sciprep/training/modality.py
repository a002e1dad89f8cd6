"""Which modality each token of a stream is in, from the enclosing Galactica markup.

A token is ``math``/``smiles``/``protein``/``dna`` when an opening tag of that kind
precedes it in the same document and its closing tag has not yet been seen; the
closing tag itself counts to the span (predicting where a formula ends is part of
modelling the formula), the opening tag counts as ``text`` (predicting where a
formula starts is part of modelling the prose). Everything else is ``text``.
Spans never leak past ``</s>``, so an unclosed tag affects one document only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sciprep.tokenize.specials import (
    END_AMINO, END_DNA, END_I_SMILES, END_MATH, END_SMILES, EOS, SPECIAL_IDS,
    START_AMINO, START_DNA, START_I_SMILES, START_MATH, START_SMILES,
)  # fmt: skip

MODALITIES: tuple[str, ...] = ("text", "math", "smiles", "protein", "dna")

_SPANS: dict[str, tuple[tuple[str, str], ...]] = {
    "math": ((START_MATH, END_MATH),),
    "smiles": ((START_SMILES, END_SMILES), (START_I_SMILES, END_I_SMILES)),
    "protein": ((START_AMINO, END_AMINO),),
    "dna": ((START_DNA, END_DNA),),
}


def token_modalities(tokens: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Index into :data:`MODALITIES` for every position of ``tokens`` (uint8 array)."""
    ids = np.asarray(tokens, dtype=np.int64)
    n = len(ids)
    out = np.zeros(n, dtype=np.uint8)
    if n == 0:
        return out
    # Index of the most recent </s> at or before each position (-1 when none).
    positions = np.arange(n)
    last_eos = np.maximum.accumulate(np.where(ids == SPECIAL_IDS[EOS], positions, -1))
    for code, name in enumerate(MODALITIES[1:], start=1):
        delta = np.zeros(n, dtype=np.int64)
        for start, end in _SPANS[name]:
            delta += (ids == SPECIAL_IDS[start]).astype(np.int64)
            delta -= (ids == SPECIAL_IDS[end]).astype(np.int64)
        # depth_before[i]: opens minus closes strictly before i, restarted after each </s>.
        running = np.concatenate(([0], np.cumsum(delta)[:-1]))
        base = np.where(last_eos >= 0, np.cumsum(delta)[np.maximum(last_eos, 0)], 0)
        depth_before = running - base
        inside = (depth_before > 0) & (out == 0)
        out[inside] = code
    return out
