from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.base import KEEP, Modify
from sciprep.cleaning.steps.normalise import Normalise
from sciprep.corpus.document import Document

_STEP = Normalise()


def test_nfc_composes_accents_but_keeps_superscripts_and_micro() -> None:
    decomposed = unicodedata.normalize("NFD", "Café résumé")
    out = _STEP.normalise(f"{decomposed}: x² in µm, ﬁeld")
    assert out == "Café résumé: x² in µm, ﬁeld"  # NFKC would give "x2", "μm", "field"


def test_math_smiles_and_sequence_spans_are_byte_identical() -> None:
    spans = [
        "[START_MATH]$a  \\quad\tb$\n\n\n\n[END_MATH]",
        "[START_I_SMILES]C[C@@H](O)  C[END_I_SMILES]",
        "[START_AMINO]MKV\u00a0LL[END_AMINO]",
        "[START_DNA]AC\x07GT[END_DNA]",
    ]
    text = "Text   with\u00a0spaces " + " and ".join(spans) + "\x00 end  "
    out = _STEP.normalise(text)
    for span in spans:
        assert span in out
    assert out.startswith("Text with spaces ") and out.endswith(" end")


def test_controls_zero_width_and_blank_lines_are_cleaned() -> None:
    text = "\ufeffA\u200bB\x0c C\r\nD\r\n\r\n\r\n\r\nE\t \n"
    assert _STEP.normalise(text) == "AB C\nD\n\nE"


def test_code_documents_keep_their_layout() -> None:
    code = "def f(x):\n    return  x  +  1\n"
    assert _STEP.normalise(code, "code") == code.rstrip("\n")
    assert _STEP.normalise("    indented  text", "paper") == "indented text"


def test_max_blank_lines_is_configurable() -> None:
    step = build_step("normalise", {"max_blank_lines": 0})
    assert step.normalise("a\n\n\nb") == "a\nb"


_PIECES = st.sampled_from(list("ab  \t\n\r\u00a0\u200be\u0301x²") + ["[START_MATH]", "[END_MATH]"])


@given(st.lists(_PIECES, max_size=40).map("".join))
def test_normalising_twice_changes_nothing_more(text: str) -> None:
    once = _STEP.normalise(text)
    assert _STEP.normalise(once) == once


def test_decide_keeps_clean_text_and_modifies_prompt_halves() -> None:
    clean = Document(id="a", text="Already clean.", source="s", kind="paper")
    assert _STEP.decide(clean, {}) is KEEP
    prompt = Document(id="p", text="Name  it? ethanol\u00a0", source="s", kind="prompt",
                      prompt="Name  it? ", answer="ethanol\u00a0")  # fmt: skip
    decision = _STEP.decide(prompt, {})
    assert isinstance(decision, Modify)
    assert (decision.prompt, decision.answer) == ("Name it? ", "ethanol ")
    assert decision.text == decision.prompt + decision.answer
