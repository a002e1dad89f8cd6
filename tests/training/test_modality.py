"""Per-token modality from the enclosing markup."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sciprep.tokenize.specials import SPECIAL_IDS as S
from sciprep.training import MODALITIES, token_modalities

TEXT, MATH, SMILES, PROTEIN, DNA = range(5)


def test_span_contents_and_closing_tag_take_the_span_modality() -> None:
    ids = [40, S["[START_MATH]"], 41, 42, S["[END_MATH]"], 43, S["[START_I_SMILES]"], 44, S["[END_I_SMILES]"],
           S["[START_AMINO]"], 45, S["[END_AMINO]"], S["[START_DNA]"], 46, S["[END_DNA]"]]  # fmt: skip
    expected = [TEXT, TEXT, MATH, MATH, MATH, TEXT, TEXT, SMILES, SMILES, TEXT, PROTEIN, PROTEIN,
                TEXT, DNA, DNA]  # fmt: skip
    assert token_modalities(np.array(ids)).tolist() == expected
    assert MODALITIES[MATH] == "math"


@given(st.lists(st.sampled_from([30, 31, S["[START_MATH]"], S["[END_MATH]"], S["[START_DNA]"]]), max_size=40),
       st.lists(st.sampled_from([30, 31]), max_size=10))  # fmt: skip
def test_unclosed_span_never_leaks_into_the_next_document(first: list[int], second: list[int]) -> None:
    modes = token_modalities(np.array([*first, S["</s>"], *second], dtype=np.int64))
    assert modes[len(first) :].tolist() == [TEXT] * (len(second) + 1)
