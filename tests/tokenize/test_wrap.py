from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.tokenize import BibEntry, wrap, wrap_report
from sciprep.tokenize.specials import SPECIAL_TOKENS
from tests.tokenize.sample_data import arxiv_paragraphs

_TAGS = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS))
BIB = {
    "vaswani": BibEntry("Attention Is All You Need", "Vaswani"),
    "he": BibEntry("Deep Residual Learning", "He"),
}

_PIECES = st.sampled_from(
    ["$", "$$", "\\(", "\\)", "\\[", "\\]", " ", "\n", "\n\n", "x", "5", "CC(=O)O", "c1ccccc1",
     "C/C=C/C", "ACGTACGTACGTAC", "MKTAYIAKQRQISFVKSHFSRQ", "\\cite{vaswani}", "\\citep{zz,he}",
     "\\begin{equation}", "\\end{equation}", "(", ")", ".", "\\", "[", "]", "é", "😀",
     *SPECIAL_TOKENS]
)  # fmt: skip
_TEXTS = st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=25).map("".join)


def test_every_modality_is_wrapped_in_galactica_tokens() -> None:
    text = "Let $x$ be CC(=O)O or C/C=C/C with MKTAYIAKQRQISFVKSHFSRQ and ACGTTGCAACGTAGCT."
    assert wrap(text) == (
        "Let [START_MATH]$x$[END_MATH] be [START_SMILES]CC(=O)O[END_SMILES] or "
        "[START_I_SMILES]C/C=C/C[END_I_SMILES] with [START_AMINO]MKTAYIAKQRQISFVKSHFSRQ[END_AMINO] "
        "and [START_DNA]ACGTTGCAACGTAGCT[END_DNA]."
    )


def test_math_switch_leaves_formulas_untagged() -> None:
    assert wrap("Let $x$ be CC(=O)O.", math=False) == "Let $x$ be [START_SMILES]CC(=O)O[END_SMILES]."


def test_citations_become_references_per_known_key() -> None:
    result = wrap_report("As shown \\citep{vaswani,he}.", BIB)
    assert result.text == (
        "As shown [START_REF] Attention Is All You Need, Vaswani[END_REF]"
        "[START_REF] Deep Residual Learning, He[END_REF]."
    )
    assert result.unresolved == []


def test_unknown_citation_keys_stay_and_are_reported_in_order() -> None:
    result = wrap_report("See \\cite{x1} and \\citet*{vaswani, x2,he} and \\citealp{x3}.", BIB)
    assert result.text == (
        "See \\cite{x1} and [START_REF] Attention Is All You Need, Vaswani[END_REF]\\citet*{x2}"
        "[START_REF] Deep Residual Learning, He[END_REF] and \\citealp{x3}."
    )
    assert result.unresolved == ["x1", "x2", "x3"]


def test_without_bibliography_citations_are_untouched() -> None:
    assert wrap_report("See \\cite{vaswani}.").text == "See \\cite{vaswani}."


def test_existing_markup_is_honoured() -> None:
    text = "[START_AMINO]MKV[END_AMINO] and [START_SMILES]CCO[END_SMILES] with <work>$x$</work>"
    assert wrap(text) == text


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_wrap_is_idempotent(text: str) -> None:
    once = wrap(text, BIB)
    assert wrap(once, BIB) == once


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_wrap_only_inserts_tags(text: str) -> None:
    assert _TAGS.sub("", wrap(text)) == _TAGS.sub("", text)


def test_wrap_of_real_arxiv_text_is_idempotent_and_lossless(shared_data: Path) -> None:
    for text in arxiv_paragraphs(shared_data, 400):
        once = wrap(text)
        assert wrap(once) == once
        assert _TAGS.sub("", once) == _TAGS.sub("", text)


def test_bibliography_of_plain_title_surname_tuples_is_accepted() -> None:
    text = wrap(r"Shown in \cite{a}.", bibliography={"a": ("Title A", "Smith")})
    assert text == "Shown in [START_REF] Title A, Smith[END_REF]."


# Modality fragments joined by punctuation, brackets or tags rather than whitespace: a tag
# or a sequence run then cuts a token in two, and the piece beside it may be a SMILES.
_FRAGMENTS = st.sampled_from(
    ["c1ccccc1", "CC(=O)O", "C/C=C/C", "OCC", "ACGTACGTACGTACGTACGTAGCT", "acgtacgtacgtacgtac",
     "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEV", "word", "HELLO", "$x$", "5", "\\citep[p.~5]{he}",
     "\\citep[see][CC(=O)O]{zz,he}", "\\cite{vaswani}"]
)  # fmt: skip
_JOINERS = st.one_of(
    st.sampled_from(["", " ", "\n", "}", "{", "(", ")", "[", "]", "\\[", "\\]", "$", ".", ","]),
    st.sampled_from(SPECIAL_TOKENS),
)
_TOUCHING = st.lists(st.tuples(_FRAGMENTS, _JOINERS).map("".join), max_size=8).map("".join)


def test_sequence_beside_a_smiles_fragment_settles_in_one_pass() -> None:
    text = "c1ccccc1}ACGTACGTACGTACGTACGTAGCT\\][START_SMILES]wordMKTAYIAKQRQISFVKSHFSRQLEERLGLIEV\\["
    once = wrap(text)
    assert once.startswith("[START_SMILES]c1ccccc1[END_SMILES]}[START_DNA]ACGTACGTACGTACGTACGTAGCT[END_DNA]")
    assert wrap(once) == once


@settings(max_examples=800, deadline=None)
@given(_TOUCHING)
def test_wrap_is_idempotent_when_modalities_touch(text: str) -> None:
    once = wrap(text, BIB)
    assert wrap(once, BIB) == once
    assert wrap(wrap(text)) == wrap(text)


def test_citation_notes_are_kept_beside_the_references() -> None:
    once = wrap(r"As in \citep[p.~5]{he}.", BIB)
    assert once == "As in [START_REF] Deep Residual Learning, He[END_REF] (p.~5)."
    result = wrap_report(r"See \citep[see][ch.~2]{vaswani,zz}.", BIB)
    assert result.text == (
        "See see [START_REF] Attention Is All You Need, Vaswani[END_REF]\\citep{zz} (ch.~2)."
    )
    assert result.unresolved == ["zz"]


def test_citation_note_is_wrapped_as_a_second_pass_would() -> None:
    once = wrap(r"Made as \citep[CC(=O)O]{he}.", BIB)
    assert once == (
        "Made as [START_REF] Deep Residual Learning, He[END_REF] ([START_SMILES]CC(=O)O[END_SMILES])."
    )
    assert wrap(once, BIB) == once
