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
    text = "\ufeffA\u200bB\x07 C\r\nD\r\n\r\n\r\n\r\nE\t \n"
    assert _STEP.normalise(text) == "AB C\nD\n\nE"


def test_whitespace_like_controls_break_lines_instead_of_gluing_words() -> None:
    assert _STEP.normalise("page one\x0cpage two") == "page one\npage two"
    assert _STEP.normalise("a\x0bb\x85c\u2028d") == "a\nb\nc\nd"
    assert _STEP.normalise("first paragraph\u2029second") == "first paragraph\n\nsecond"
    assert _STEP.normalise("field\x1fvalue") == "field value"


def test_raw_math_keeps_its_whitespace_while_prose_is_collapsed() -> None:
    assert _STEP.normalise("a  b $x  \\quad  y$ c") == "a b $x  \\quad  y$ c"
    display = "so  that \\[ a  =  b \\] and \\begin{equation}\n  E  =  mc^2\n\\end{equation}  done"
    assert _STEP.normalise(display) == (
        "so that \\[ a  =  b \\] and \\begin{equation}\n  E  =  mc^2\n\\end{equation} done"
    )


def test_verbatim_blocks_and_code_fences_keep_their_layout() -> None:
    verbatim = "\\begin{verbatim}\nx  =  1\n\n\n\ny  =  2   \n\\end{verbatim}"
    fence = "```python\ndef f(x):\n    return  x  +  1   \n```"
    listing = "\\begin{lstlisting}[language=C]\nint  a;\n\\end{lstlisting}"
    text = f"Before  it:\n{verbatim}\nthen  this:\n{fence}\nand\n{listing}\n\\verb|a  b| end  "
    out = _STEP.normalise(text)
    for block in (verbatim, fence, listing, "\\verb|a  b|"):
        assert block in out
    assert out.startswith("Before it:\n") and out.endswith(" end") and "then this:" in out


def test_unclosed_fence_or_math_does_not_shield_the_rest() -> None:
    assert _STEP.normalise("```\ncode  here and  more") == "```\ncode here and more"
    assert _STEP.normalise("costs $5  and  $ 6") == "costs $5 and $ 6"


def test_code_documents_keep_their_layout() -> None:
    code = "def f(x):\n    return  x  +  1\n"
    assert _STEP.normalise(code, "code") == code.rstrip("\n")
    assert _STEP.normalise("    indented  text", "paper") == "indented text"


def test_max_blank_lines_is_configurable() -> None:
    step = build_step("normalise", {"max_blank_lines": 0})
    assert step.normalise("a\n\n\nb") == "a\nb"


_PIECES = st.sampled_from(
    list("ab  \t\n\r\u00a0\u200be\u0301x²$5\x0c\x85\u2029\\")
    + ["[START_MATH]", "[END_MATH]", "```\n", "\\[", "\\]", "\\begin{verbatim}", "\\end{verbatim}"]
)


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


def test_nfc_maps_canonical_singletons_as_documented_unless_turned_off() -> None:
    text = "\u2329x\u232a in \u2126 and \u212b"
    assert _STEP.normalise(text) == "\u3008x\u3009 in \u03a9 and \u00c5"
    assert build_step("normalise", {"nfc": False}).normalise(text) == text
