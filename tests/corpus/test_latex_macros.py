"""The author's own macros are expanded, with arguments, within bounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sciprep.corpus.latex.macros import collect_macros, expand_macros, read_group


def _expand(source: str) -> str:
    rest, macros = collect_macros(source)
    return expand_macros(rest, macros).text


def test_newcommand_without_arguments_keeps_the_following_space() -> None:
    source = "\\newcommand{\\gorc}{\\textsc{S2ORC}\\xspace}\nWe use \\gorc to win, and \\gorc{} too."
    assert _expand(source) == "We use \\textsc{S2ORC}\\xspace to win, and \\textsc{S2ORC}\\xspace too."


def test_arguments_and_optional_default_are_substituted() -> None:
    source = (
        "\\newcommand{\\pair}[2]{\\langle #1, #2\\rangle}\n"
        "\\newcommand{\\f}[2][x]{f(#1,#2)}\n"
        "$\\pair{a}{b}$ $\\f{y}$ $\\f[z]{y}$ $\\pair a b$"
    )
    assert _expand(source) == "$\\langle a, b\\rangle$ $f(x,y)$ $f(z,y)$ $\\langle a, b\\rangle$"


def test_def_renewcommand_and_math_operators_are_expanded() -> None:
    source = (
        "\\def\\vec#1{\\mathbf{#1}}\n\\renewcommand\\R{\\mathbb{R}}\n"
        "\\DeclareMathOperator*{\\argmax}{arg\\,max}\n$\\vec v \\in \\R$ $\\argmax_x$"
    )
    assert _expand(source) == "$\\mathbf{v} \\in \\mathbb{R}$ $\\operatorname*{arg\\,max}_x$"


def test_nested_macros_expand_until_none_is_left() -> None:
    source = "\\newcommand{\\a}{\\b\\b}\n\\newcommand{\\b}{x}\n\\a"
    assert _expand(source) == "xx"


def test_a_control_word_prefix_is_not_a_use_of_the_macro() -> None:
    assert _expand("\\newcommand{\\foo}{X}\n\\foobar \\foo") == "\\foobar X"


def test_redefining_structural_commands_is_ignored() -> None:
    rest, macros = collect_macros("\\renewcommand{\\section}[1]{gone}\n\\renewcommand{\\cite}{gone}\n\\section{Intro}")
    assert "section" not in macros and "cite" not in macros
    assert expand_macros(rest, macros).text == "\\section{Intro}"


def test_recursive_macro_stops_at_the_bound_and_says_so() -> None:
    rest, macros = collect_macros("\\def\\loop{\\loop x}\n\\loop")
    result = expand_macros(rest, macros)
    assert result.truncated
    assert len(result.text) < 1000


def test_exponential_macro_growth_is_bounded() -> None:
    defs = "\\newcommand{\\a}{\\b\\b\\b\\b}\n\\newcommand{\\b}{\\c\\c\\c\\c}\n\\newcommand{\\c}{\\d\\d\\d\\d}\n"
    defs += "\\newcommand{\\d}{\\e\\e\\e\\e}\n\\newcommand{\\e}{\\a\\a\\a\\a}\n"
    rest, macros = collect_macros(defs + "\\a" * 50)
    result = expand_macros(rest, macros)
    assert result.truncated
    assert len(result.text) <= 4 * len(rest) + 1_000_000 + 10_000


def test_definitions_on_their_own_line_leave_no_paragraph_break() -> None:
    assert _expand("first line\n\\newcommand{\\x}{y}\nsecond \\x") == "first line\nsecond y"


def test_read_group_handles_nesting_and_escaped_braces() -> None:
    assert read_group("  {a{b}\\}c}rest", 0) == ("a{b}\\}c", 11)
    assert read_group("{never closed", 0) is None


@given(st.text(alphabet=st.characters(blacklist_characters="\\"), max_size=200))
def test_text_without_control_sequences_is_untouched(text: str) -> None:
    rest, macros = collect_macros(text)
    assert rest == text and macros == {}
    assert expand_macros(text, {}).text == text
