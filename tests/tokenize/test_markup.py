from __future__ import annotations

from sciprep.tokenize.markup import find_marked


def test_well_formed_pairs_are_marked_spans_including_tags() -> None:
    text = "a [START_SMILES]CCO[END_SMILES] b <work>x [START_MATH]y[END_MATH]</work>"
    marked = find_marked(text)
    assert [(s.kind, s.text(text)) for s in marked.spans] == [
        ("smiles", "[START_SMILES]CCO[END_SMILES]"),
        ("work", "<work>x [START_MATH]y[END_MATH]</work>"),
    ]
    assert all(s.marked for s in marked.spans)
    assert marked.stray == []


def test_unclosed_and_mismatched_tags_are_stray() -> None:
    text = "x [START_SMILES]CCO and [START_DNA]ACGT[END_AMINO] [END_MATH]"
    marked = find_marked(text)
    assert marked.spans == []
    assert [text[a:b] for a, b in marked.stray] == [
        "[START_SMILES]", "[START_DNA]", "[END_AMINO]", "[END_MATH]",
    ]  # fmt: skip


def test_nested_tag_makes_the_outer_opening_stray() -> None:
    text = "[START_SMILES]C[START_SMILES]CCO[END_SMILES]"
    marked = find_marked(text)
    assert [s.text(text) for s in marked.spans] == ["[START_SMILES]CCO[END_SMILES]"]
    assert marked.stray == [(0, len("[START_SMILES]"))]


def test_multi_line_span_is_one_pair() -> None:
    text = "[START_AMINO]MKTAYIAKQR\nQISFVKSHFS[END_AMINO]"
    assert [s.kind for s in find_marked(text).spans] == ["amino"]


def test_control_token_inside_breaks_a_pair_as_in_the_tokenizer() -> None:
    text = "[START_SMILES]CC<s>O[END_SMILES]"
    marked = find_marked(text)
    assert marked.spans == []
    assert [text[a:b] for a, b in marked.stray] == ["[START_SMILES]", "<s>", "[END_SMILES]"]
