"""Citation / math span parsing and sentence context."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sciprep.query.markup import (
    MAX_CITATION_CHARS,
    MAX_SENTENCE_CHARS,
    citation_string,
    context_before,
    find_citations,
    find_math,
    sentence_bounds,
    split_citation,
    strip_markup,
)


def test_citations_parse_title_and_surname_even_when_the_title_has_commas() -> None:
    text = "Known [START_REF] Space, time, and gravity, Einstein[END_REF] and [START_REF] Solo title[END_REF]."
    spans, problems = find_citations(text)
    assert problems == []
    assert [(s.title, s.surname) for s in spans] == [("Space, time, and gravity", "Einstein"), ("Solo title", "")]
    assert text[spans[0].start : spans[0].end] == "[START_REF] Space, time, and gravity, Einstein[END_REF]"


def test_unterminated_citation_is_reported_and_does_not_swallow_the_next_one() -> None:
    text = "Broken [START_REF] Lost title, Nobody and later [START_REF] Real work, Smith[END_REF] end."
    spans, problems = find_citations(text)
    assert [s.citation for s in spans] == ["Real work, Smith"]
    assert len(problems) == 1 and problems[0].position == text.index("[START_REF]")


def test_oversized_and_empty_spans_are_problems_not_entries() -> None:
    text = f"[START_REF] {'x' * (MAX_CITATION_CHARS + 1)}[END_REF] [START_REF]  [END_REF]"
    spans, problems = find_citations(text)
    assert spans == []
    assert [p.reason.split()[0] for p in problems] == ["citation", "empty"]


def test_math_spans_keep_their_delimiters() -> None:
    text = "Energy [START_MATH]$E = mc^2$[END_MATH] and [START_MATH]\\[ a + b \\][END_MATH]."
    spans, _ = find_math(text)
    assert [s.latex for s in spans] == ["$E = mc^2$", "\\[ a + b \\]"]


def test_sentence_does_not_end_at_a_period_inside_math() -> None:
    text = "First sentence. Then [START_MATH]$x = 1. Y$[END_MATH] holds here. Last one."
    start = text.index("[START_MATH]")
    end = text.index("[END_MATH]") + len("[END_MATH]")
    left, right = sentence_bounds(text, start, end)
    assert text[left:right] == "Then [START_MATH]$x = 1. Y$[END_MATH] holds here."


def test_context_before_starts_at_a_word_boundary() -> None:
    text = "alpha beta gamma delta [START_REF]"
    end = text.index("[START_REF]")
    assert context_before(text, end, 14) == "gamma delta "
    assert context_before(text, end, 12) == "gamma delta "
    assert context_before(text, end, 500) == text[:end]


def test_strip_markup_keeps_span_contents() -> None:
    assert strip_markup("a [START_REF] T, S[END_REF] b").split() == ["a", "T,", "S", "b"]


_words = st.text(alphabet=st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8)


@given(st.lists(_words, min_size=1, max_size=6), st.lists(_words, min_size=1, max_size=2))
def test_split_citation_inverts_citation_string(title_words: list[str], surname_words: list[str]) -> None:
    title, surname = " ".join(title_words), " ".join(surname_words)
    assert split_citation(citation_string(title, surname)) == (title, surname)


def test_a_long_sentence_is_cut_at_word_boundaries_outside_markup() -> None:
    words = " ".join(["abcdef"] * 90)  # 629 characters, no sentence end; 400 is not a multiple of 7
    formula = "[START_MATH]$x$[END_MATH]"
    text = f"{words} [START_MATH]$y = 1$[END_MATH] {words} {formula} {words}"
    start = text.index(formula)
    left, right = sentence_bounds(text, start, start + len(formula))
    assert start - left <= MAX_SENTENCE_CHARS and right - start - len(formula) <= MAX_SENTENCE_CHARS
    assert text[left - 1].isspace() and text[left:].startswith("abcdef ")
    assert text[right].isspace() and text[:right].endswith(" abcdef")


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=0, max_value=30))
def test_sentence_cuts_never_split_a_word_or_span(word_len: int, pad: int) -> None:
    words = " ".join(["w" * word_len] * (900 // (word_len + 1)))
    text = f"{'a' * pad} {words} [START_REF] A title, Doe[END_REF] {words} {'b' * pad}"
    start = text.index("[START_REF]")
    left, right = sentence_bounds(text, start, text.index("[END_REF]") + len("[END_REF]"))
    assert left == 0 or text[left - 1].isspace()
    assert right == len(text) or text[right].isspace()


def test_a_display_equation_ending_in_a_period_ends_its_sentence() -> None:
    theorem = "[START_MATH]\\begin{equation}\n P(A|B) = \\frac{P(B|A)P(A)}{P(B)} .\n\\end{equation}[END_MATH]"
    text = f"Bayes' theorem states {theorem} The evidence is [START_MATH]$P(B)$[END_MATH] here."
    start = text.index(theorem)
    assert sentence_bounds(text, start, start + len(theorem)) == (0, start + len(theorem))
    later = text.index("[START_MATH]$P(B)")
    left, _ = sentence_bounds(text, later, later + 30)
    assert text[left:].startswith("The evidence is")
