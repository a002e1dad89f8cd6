from __future__ import annotations

from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.base import KEEP, Remove
from sciprep.corpus.document import Document


def _decide(text: str, kind: str = "compound", **params: object) -> object:
    step = build_step("length", params)
    doc = Document(id="d", text=text, source="s", kind=kind)
    return step.decide(doc, step.tag(doc))


def test_short_and_huge_documents_are_removed_with_their_length_as_score() -> None:
    short = _decide("   tiny   ")
    assert isinstance(short, Remove) and short.score == 4.0 and "below the 20 minimum" in short.reason
    huge = _decide("x" * 101, max_chars=100)
    assert isinstance(huge, Remove) and "above the 100 maximum" in huge.reason
    assert _decide("x" * 50) is KEEP


def test_papers_have_a_higher_floor_than_other_kinds() -> None:
    assert isinstance(_decide("y" * 150, kind="paper"), Remove)
    assert _decide("y" * 150, kind="paper", min_chars_by_kind={}) is KEEP
