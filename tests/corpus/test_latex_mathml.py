"""Presentation MathML converts to the LaTeX an author would have written."""

from __future__ import annotations

from defusedxml.ElementTree import fromstring

from sciprep.corpus.latex.mathml import mathml_to_latex

NS = 'xmlns:mml="http://www.w3.org/1998/Math/MathML"'


def _latex(inner: str) -> str:
    return mathml_to_latex(fromstring(f"<mml:math {NS}>{inner}</mml:math>"))


def test_fraction_subscripts_and_operators() -> None:
    inner = (
        "<mml:mrow><mml:mi>C</mml:mi><mml:mo>=</mml:mo><mml:mfrac><mml:mrow><mml:msub><mml:mi>M</mml:mi>"
        "<mml:mi>t</mml:mi></mml:msub><mml:mo>&#x02212;</mml:mo><mml:mn>1</mml:mn></mml:mrow>"
        "<mml:msup><mml:mi>x</mml:mi><mml:mn>2</mml:mn></mml:msup></mml:mfrac></mml:mrow>"
    )
    assert _latex(inner) == "C=\\frac{M_t-1}{x^2}"


def test_greek_letters_functions_and_roots() -> None:
    inner = (
        "<mml:mi>sin</mml:mi><mml:mi>α</mml:mi><mml:mo>≤</mml:mo><mml:msqrt><mml:mi>β</mml:mi></mml:msqrt>"
        "<mml:mroot><mml:mi>x</mml:mi><mml:mn>3</mml:mn></mml:mroot>"
    )
    assert _latex(inner) == "\\sin\\alpha\\leq\\sqrt{\\beta}\\sqrt[3]{x}"


def test_sums_accents_fences_and_tables() -> None:
    inner = (
        "<mml:munderover><mml:mo>∑</mml:mo><mml:mrow><mml:mi>i</mml:mi><mml:mo>=</mml:mo><mml:mn>1</mml:mn></mml:mrow>"
        "<mml:mi>n</mml:mi></mml:munderover><mml:mover><mml:mi>x</mml:mi><mml:mo>¯</mml:mo></mml:mover>"
        "<mml:mfenced><mml:mi>a</mml:mi><mml:mi>b</mml:mi></mml:mfenced>"
        "<mml:mtable><mml:mtr><mml:mtd><mml:mn>1</mml:mn></mml:mtd><mml:mtd><mml:mn>0</mml:mn></mml:mtd></mml:mtr></mml:mtable>"
    )
    assert _latex(inner) == "\\sum_{i=1}^n\\bar{x}\\left(a,b\\right)\\begin{matrix}1 & 0\\end{matrix}"


def test_tex_annotation_wins_over_conversion() -> None:
    inner = (
        "<mml:semantics><mml:mi>q</mml:mi>"
        '<mml:annotation encoding="application/x-tex">\\mathcal{Q}</mml:annotation></mml:semantics>'
    )
    assert _latex(inner) == "\\mathcal{Q}"


def test_multi_letter_identifiers_are_upright_and_control_words_do_not_fuse() -> None:
    assert _latex("<mml:mi>ind</mml:mi><mml:mi>π</mml:mi><mml:mi>r</mml:mi>") == "\\mathrm{ind}\\pi r"


def test_deep_nesting_is_cut_not_crashed() -> None:
    inner = "<mml:mrow>" * 300 + "<mml:mi>x</mml:mi>" + "</mml:mrow>" * 300
    assert _latex(inner) == ""
