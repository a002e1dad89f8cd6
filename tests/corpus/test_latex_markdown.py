"""Body conversion rules, one LaTeX construct at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.corpus.latex.markdown import convert_body


def test_sections_number_like_latex_and_starred_ones_do_not() -> None:
    text = convert_body(
        "\\section{A}\\subsection{B}\\subsection{C}\\section*{Acknowledgements}\\section{D}\\subsubsection{E}"
    ).text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["## 1 A", "### 1.1 B", "### 1.2 C", "## Acknowledgements", "## 2 D", "#### 2.0.1 E"]


def test_appendix_sections_are_lettered_and_kept() -> None:
    converted = convert_body(
        "\\section{Main}x\\appendix\\section{First}y\\section{Second}\\label{app:b}z See \\ref{app:b}."
    )
    assert "## Appendix A: First" in converted.text
    assert "## Appendix B: Second" in converted.text
    assert "z See B." in converted.text
    assert converted.appendix_sections == 2


def test_inline_and_display_math_are_verbatim_and_labels_numbered() -> None:
    body = (
        "Let $a_1$ and \\(b\\) be\n"
        "\\begin{align}x&=1\\label{e1}\\\\ y&=2\\nonumber\\\\ z&=3\\label{e3}\\end{align}\nso \\eqref{e3}."
    )
    text = convert_body(body).text
    assert "Let $a_1$ and \\(b\\) be\n\\begin{align}x&=1\\\\ y&=2\\nonumber\\\\ z&=3\\end{align}\nso (2)." in text


def test_literal_dollar_is_escaped_and_tilde_is_a_space() -> None:
    assert convert_body("costs \\$5~today").text.strip() == "costs \\$5 today"


def test_citations_stay_as_commands_for_the_resolver_and_are_counted() -> None:
    converted = convert_body("As \\citet{a} and \\citep[p.~3]{b, c} and \\citealp{d} said.\\nocite{*}")
    assert converted.text.strip() == "As \\citet{a} and \\citep[p. 3]{b,c} and \\cite{d} said."
    assert converted.cite_keys == ["a", "b", "c", "d"]


def test_floats_keep_only_their_caption_numbered_by_kind() -> None:
    body = (
        "\\begin{table}\\begin{tabular}{cc}1&2\\end{tabular}\\caption{Scores.}\\label{t}\\end{table}"
        "\\begin{figure*}\\includegraphics{x}\\caption[short]{A \\textbf{bold} plot.}\\end{figure*}"
        "Table~\\ref{t} shows it."
    )
    text = convert_body(body).text
    assert "Table 1: Scores." in text
    assert "Figure 1: A bold plot." in text
    assert "Table 1 shows it." in text
    assert "1&2" not in text


def test_footnotes_urls_and_formatting_keep_their_text() -> None:
    body = (
        "Data\\footnote{See \\url{https://x.org}.} from \\href{https://y.org}{our site} "
        "in \\textcolor{red}{red} \\emph{now}."
    )
    assert convert_body(body).text.strip() == "Data (See https://x.org.) from our site in red now."


def test_lists_and_code_blocks() -> None:
    body = (
        "\\begin{enumerate}\\item one\\item[(b)] two\\end{enumerate}"
        "\\begin{verbatim}\nx = 1 % not a comment\n\\end{verbatim}"
    )
    text = convert_body(body).text
    assert "- one\n- (b) two" in text
    assert "```\nx = 1 % not a comment\n```" in text


def test_theorem_like_environments_are_named() -> None:
    text = convert_body("\\begin{lem}Small.\\end{lem}\\begin{proof}Trivial.\\end{proof}", {"lem": "Lemma"}).text
    assert "Lemma. Small." in text and "Proof. Trivial." in text


def test_unknown_reference_prints_a_question_mark() -> None:
    assert convert_body("See \\ref{missing}.").text.strip() == "See ?."


def test_source_line_breaks_join_but_blank_lines_separate_paragraphs() -> None:
    assert convert_body("one\ntwo\n\nthree").text == "one two\n\nthree\n"


_TOKENS = [
    "\\section", "{", "}", "[", "]", "$", "$$", "\\[", "\\]", "\\begin{equation}", "\\end{equation}",
    "\\begin{figure}", "\\end{figure}", "\\caption", "\\label{x}", "\\ref{x}", "\\cite{a,b}", "\\item",
    "\\begin{itemize}", "\\end{itemize}", "\n", "\n\n", "word ", "\\footnote", "\\\\", "~", "&", "#",
    "\\appendix", "\\begin{abstract}", "\\end{abstract}", "\\$", "\\textbf", "\\href", "\\item[", "\\url{",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=40))
def test_malformed_latex_never_raises_and_keeps_every_cite_key(tokens: list[str]) -> None:
    body = "".join(tokens)
    converted = convert_body(body)
    assert isinstance(converted.text, str)
    assert converted.cite_keys == ["a", "b"] * converted.cite_keys.count("a")
