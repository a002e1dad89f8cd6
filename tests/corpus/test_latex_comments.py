"""TeX comment stripping follows TeX: escaped percent, line joining, nothing eaten."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sciprep.corpus.latex.comments import strip_comments


def test_escaped_percent_is_text_and_comment_is_removed() -> None:
    assert strip_comments("coverage is 90.4\\% here % a note\nnext") == "coverage is 90.4\\% here next"


def test_percent_at_line_end_joins_lines_without_eating_a_character() -> None:
    assert strip_comments("hyphen-%\n   ated word") == "hyphen-ated word"
    assert strip_comments("ab% c\nd") == "abd"


def test_line_break_before_percent_does_not_escape_it() -> None:
    assert strip_comments("row \\\\% comment\nnext") == "row \\\\next"


def test_whole_line_comment_leaves_no_blank_line_and_paragraphs_survive() -> None:
    assert strip_comments("one\n% note\ntwo") == "one\ntwo"
    assert strip_comments("one\n\n% note\n\ntwo") == "one\n\n\ntwo"


def test_percent_in_url_verb_and_verbatim_is_not_a_comment() -> None:
    assert strip_comments("\\url{http://x.org/a%20b} % c\nz") == "\\url{http://x.org/a%20b} z"
    assert strip_comments("\\verb|50%| off % c\nz") == "\\verb|50%| off z"
    text = "\\begin{verbatim}\n% kept\n\\end{verbatim}\n% dropped\nafter"
    assert strip_comments(text) == "\\begin{verbatim}\n% kept\n\\end{verbatim}\nafter"


def test_comment_environment_and_iffalse_blocks_are_removed() -> None:
    assert strip_comments("a \\begin{comment}secret\\end{comment} b") == "a  b"
    assert strip_comments("a \\iffalse x \\ifdraft y \\fi z \\fi b") == "a  b"


def test_unclosed_iffalse_keeps_the_rest_of_the_file() -> None:
    assert strip_comments("a \\iffalse never closed") == "a \\iffalse never closed"


@given(st.text(alphabet=st.characters(blacklist_characters="%\\"), max_size=200))
def test_text_without_percent_or_backslash_is_unchanged(text: str) -> None:
    assert strip_comments(text) == text


@given(st.text(alphabet="ab %\\\n{}", max_size=120))
def test_stripping_is_idempotent_and_leaves_no_unescaped_percent(text: str) -> None:
    once = strip_comments(text)
    assert strip_comments(once) == once
    backslashes = 0
    for ch in once:
        if ch == "%":
            assert backslashes % 2 == 1
        backslashes = backslashes + 1 if ch == "\\" else 0
