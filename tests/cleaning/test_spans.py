from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sciprep.cleaning.spans import map_free, map_gaps, raw_spans, segments
from sciprep.tokenize.specials import MARKUP

_PIECES = st.sampled_from(
    ["a", " ", "\n", "x²", "$", "[START_MATH]", "[END_MATH]", "[START_SMILES]", "[END_SMILES]",
     "[START_AMINO]", "[END_AMINO]", "[START_REF]", "[END_REF]", "C[C@H]", "é"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=30).map("".join))
def test_segments_join_back_to_the_text(text: str) -> None:
    parts = segments(text)
    assert "".join(p.text for p in parts) == text
    for part in parts:
        if part.kind is not None:
            start, end = MARKUP[part.kind]
            assert part.text.startswith(start) and part.text.endswith(end)


@given(st.lists(_PIECES, max_size=30).map("".join))
def test_map_free_never_changes_protected_spans(text: str) -> None:
    out = map_free(text, str.upper)
    before = [p.text for p in segments(text) if p.kind]
    assert [p.text for p in segments(out) if p.kind] == before


def test_unbalanced_start_tag_does_not_swallow_the_rest() -> None:
    text = "intro [START_MATH] x and later [START_SMILES]CCO[END_SMILES] tail"
    kinds = [(p.kind, p.text) for p in segments(text)]
    assert kinds == [
        (None, "intro [START_MATH] x and later "),
        ("smiles", "[START_SMILES]CCO[END_SMILES]"),
        (None, " tail"),
    ]


def test_citations_are_not_protected_by_default_and_content_drops_tags() -> None:
    text = "a [START_MATH]$x$[END_MATH] b [START_REF] T, S[END_REF]"
    assert [p.kind for p in segments(text)] == [None, "math", None]
    assert segments(text)[1].content == "$x$"
    assert [p.kind for p in segments(text, ("math", "ref"))] == [None, "math", None, "ref"]


_RAW_PIECES = st.sampled_from(
    ["a", " ", "\n", "$", "$$", "5", "\\[", "\\]", "```\n", "~~~", "\\begin{verbatim}", "\\end{verbatim}",
     "\\begin{equation}", "\\end{equation}", "\\verb|", "|", "x  y"]
)  # fmt: skip


@given(st.lists(_RAW_PIECES, max_size=30).map("".join))
def test_raw_spans_are_sorted_disjoint_and_map_gaps_touches_only_the_rest(text: str) -> None:
    spans = raw_spans(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(b <= c for (_, b), (c, _) in zip(spans, spans[1:]))
    assert map_gaps(text, spans, lambda gap, _after: gap) == text
    marked = map_gaps(text, spans, lambda gap, _after: "#" * len(gap))
    assert [marked[a:b] for a, b in spans] == [text[a:b] for a, b in spans]


def test_raw_spans_find_math_and_verbatim_but_not_math_inside_verbatim() -> None:
    text = "x $a  b$ y \\begin{verbatim}$c$\\end{verbatim}\n```\n$d$\n```\n\\verb|$e$| $f"
    assert [text[a:b] for a, b in raw_spans(text)] == [
        "$a  b$", "\\begin{verbatim}$c$\\end{verbatim}", "```\n$d$\n```", "\\verb|$e$|",
    ]  # fmt: skip
