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
    result = wrap_report("As shown \\citep[see][p.~3]{vaswani,he}.", BIB)
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
