"""Formula delimiters, validity and the normalised form used for matching."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sciprep.query.latex import is_valid_latex, latex_problems, normalize_latex, split_delimiters


@pytest.mark.parametrize(
    ("latex", "body", "display"),
    [
        ("$a+b$", "a+b", False),
        ("\\(a+b\\)", "a+b", False),
        ("$$a+b$$", "a+b", True),
        ("\\[ a+b \\]", "a+b", True),
        ("\\begin{equation*} a+b \\end{equation*}", "a+b", True),
        ("\\begin{align} a&=b \\end{align}", "a&=b", True),
        ("a+b", "a+b", False),
    ],
)
def test_split_delimiters_recognises_inline_and_display_forms(latex: str, body: str, display: bool) -> None:
    formula = split_delimiters(latex)
    assert (formula.body, formula.display) == (body, display)


def test_two_inline_formulas_are_not_mistaken_for_one() -> None:
    assert split_delimiters("$a$ and $b$").body == "$a$ and $b$"
    assert "stray '$' inside the formula" in latex_problems("$a$ and $b$")


@pytest.mark.parametrize(
    ("latex", "needle"),
    [
        ("$\\frac{a}{b$", "unclosed"),
        ("$a}$", "unmatched"),
        ("$\\left( a$", "\\left"),
        ("$\\begin{matrix} a \\end{array}$", "does not close"),
        ("$\\begin{matrix} a$", "unclosed environment"),
        ("$$  $$", "empty"),
    ],
)
def test_malformed_formulas_are_reported_with_the_reason(latex: str, needle: str) -> None:
    problems = latex_problems(latex)
    assert problems and any(needle in p for p in problems), problems


def test_well_formed_formulas_pass_the_parser() -> None:
    for latex in ("$r_s = \\frac{2GM}{c^2}$", "\\[ P(A|B) = \\frac{P(B|A)P(A)}{P(B)} \\]", "$\\{x\\}$"):
        assert is_valid_latex(latex), latex_problems(latex)


def test_normalisation_ignores_spacing_delimiters_and_cosmetic_macros() -> None:
    a = normalize_latex("\\[ \\dfrac{a}{b} + x^{2} \\, \\label{eq:1} \\]")
    b = normalize_latex("$\\frac{a}{b}+x^2$")
    assert a == b == "\\frac{a}{b}+x^2"
    assert normalize_latex("$\\alpha x$") != normalize_latex("$\\alphax$")
    assert normalize_latex("$\\left( y \\right).$") == "(y)"


@example("$$.")  # the trailing "." hid the delimiters from the first pass
@given(st.text(alphabet="ab^_{}\\ ,.$()+=12", max_size=30))
def test_normalisation_is_idempotent(latex: str) -> None:
    once = normalize_latex(latex)
    assert normalize_latex(once) == once
