from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.tokenize import Span, segment
from tests.tokenize.sample_data import arxiv_formulas, arxiv_paragraphs


def test_spans_of_every_kind_are_reported_in_order() -> None:
    text = (
        "We have $x$ and \\cite{a} with CC(=O)O, C[C@H](N)C(=O)O, "
        "MKTAYIAKQRQISFVKSHFSRQ, ACGTTGCAACGTAGCT, <work>1+1</work>."
    )
    kinds = [s.kind for s in segment(text)]
    assert kinds == ["math", "ref", "smiles", "i_smiles", "amino", "dna", "work"]


def test_nothing_is_detected_inside_existing_markup_or_math() -> None:
    text = "[START_MATH]CC(=O)O[END_MATH] $MKTAYIAKQRQISFVKSHFSRQ$ <work>CC(=O)O</work>"
    assert [(s.kind, s.marked) for s in segment(text)] == [
        ("math", True), ("math", False), ("work", True),
    ]  # fmt: skip


def test_no_chemistry_or_sequence_detections_in_arxiv_text(shared_data: Path) -> None:
    texts = arxiv_paragraphs(shared_data) + arxiv_paragraphs(shared_data, resolve=True)
    texts += arxiv_formulas(shared_data)  # bare LaTeX, no delimiters to protect it
    detections = []
    for text in texts:
        detections.extend((s.kind, s.text(text)) for s in segment(text) if s.kind not in ("math", "ref"))
    assert detections == []


def test_resolved_arxiv_formulas_and_citations_are_found(shared_data: Path) -> None:
    text = arxiv_paragraphs(shared_data, 40, resolve=True)
    kinds = {s.kind for t in text for s in segment(t)}
    assert kinds == {"math", "ref"}


def test_arxiv_abstract_formulas_are_math(shared_data: Path) -> None:
    abstract = arxiv_paragraphs(shared_data, 1)[0]
    math = [s.text(abstract) for s in segment(abstract) if s.kind == "math"]
    assert math and all(m.startswith("$") and m.endswith("$") for m in math)


@settings(deadline=None)
@given(st.text(alphabet=st.sampled_from(list("$\\()[]{}CcO=1 \nxAGT")), max_size=60))
def test_spans_are_sorted_disjoint_and_inside_the_text(text: str) -> None:
    spans = segment(text)
    for span in spans:
        assert isinstance(span, Span) and 0 <= span.start < span.end <= len(text)
    for a, b in itertools.pairwise(spans):
        assert a.end <= b.start
