from __future__ import annotations

import pytest

from sciprep.tokenize.math_spans import MAX_INLINE, find_math


def spans(text: str) -> list[str]:
    return [text[a:b] for a, b in find_math(text)]


@pytest.mark.parametrize(
    "formula",
    [
        "$x$",
        "$a + b = c$",
        "$$\\int_0^1 f(x)\\,dx$$",
        "\\(x^2\\)",
        "\\[ y = mx + b \\]",
        "\\begin{equation}E = mc^2\\end{equation}",
        "\\begin{align*}a &= b \\\\ c &= d\\end{align*}",
        "\\begin{gather}x\\end{gather}",
        "\\begin{multline*}x\\end{multline*}",
        "\\begin{eqnarray}x\\end{eqnarray}",
        "\\begin{displaymath}x\\end{displaymath}",
    ],
)
def test_every_latex_delimiter_is_found_with_its_delimiters(formula: str) -> None:
    assert spans(f"Before {formula} after.") == [formula]


def test_unbalanced_dollar_does_not_swallow_document() -> None:
    text = "It costs $5 per unit.\n\n" + "A long paragraph with $x$ and more text. " * 50
    found = spans(text)
    assert found == ["$x$"] * 50


def test_currency_amounts_are_not_math() -> None:
    assert spans("Prices rose from $10 to $20 last year.") == []


def test_escaped_dollar_is_not_a_delimiter() -> None:
    assert spans("Pay \\$5 and \\$6 now, then $y$.") == ["$y$"]


def test_inline_math_does_not_cross_a_blank_line() -> None:
    assert spans("An $x\n\ny$ case.") == []


def test_inline_math_is_bounded_in_length() -> None:
    assert spans("$" + "x" * (MAX_INLINE + 10) + "$") == []


def test_environment_must_close_with_the_same_name() -> None:
    assert spans("\\begin{equation}x\\end{align}") == []
    assert spans("\\begin{equation*}x\\end{equation*}") == ["\\begin{equation*}x\\end{equation*}"]


def test_display_dollars_take_precedence_over_inline() -> None:
    assert spans("see $$a$b$$ now") == ["$$a$b$$"]


def test_many_unclosed_openers_do_not_hide_a_later_formula() -> None:
    text = "\\begin{equation} x " * 2000 + "$$" + "y" * 60_000 + " $$a$$ and \\begin{align}z\\end{align}"
    assert spans(text) == ["$$a$$", "\\begin{align}z\\end{align}"]
