from __future__ import annotations

from pathlib import Path

from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.base import KEEP, Remove
from sciprep.corpus.document import Document
from tests.cleaning.conftest import prose
from tests.cleaning.real_documents import (
    compounds,
    dna,
    latex_source,
    proteins,
    unarxive_papers,
)


def _decide(text: str, kind: str = "paper", **params: object) -> object:
    step = build_step("quality", params)
    doc = Document(id="d", text=text, source="s", kind=kind)
    return step.decide(doc, step.tag(doc))


def test_natural_prose_is_kept() -> None:
    assert _decide(prose("quality", 200)) is KEEP


def test_repeated_lines_are_removed_with_the_rule_and_score() -> None:
    text = prose("head", 60) + "\n" + "\n".join(["Click here to subscribe to our newsletter today"] * 12)
    decision = _decide(text, kind="text")
    assert isinstance(decision, Remove)
    assert "duplicate line" in decision.reason and decision.score is not None and decision.score > 0.3


def test_latex_braces_and_commands_do_not_remove_a_paper() -> None:
    body = prose("latex", 300)
    latex = "\\section{Method}\n" + body.replace(". ", ". \\cite{ref1} \\textbf{note} {x}_{i} ", 10)
    assert "{" in latex and _decide(latex) is KEEP


def test_math_heavy_paper_is_judged_on_its_prose_only() -> None:
    formulas = " ".join(f"[START_MATH]$\\sum_{{i={k}}}^n \\# x_i^{k} ... $[END_MATH]" for k in range(80))
    assert _decide(prose("math", 120) + " " + formulas) is KEEP


def test_data_kinds_are_exempt_from_word_and_symbol_rules() -> None:
    sequence = "# P12345\n\n[START_AMINO]" + "MKV" * 200 + "[END_AMINO]"
    assert _decide(sequence, kind="protein") is KEEP
    assert isinstance(_decide(sequence, kind="paper"), Remove)  # a "paper" with no prose is not one


def test_short_prose_is_removed_and_threshold_is_configurable() -> None:
    short = prose("brief", 30)
    assert isinstance(_decide(short, kind="abstract"), Remove)
    assert _decide(short, kind="abstract", min_words=20) is KEEP


def test_real_papers_latex_sequences_and_compounds_are_not_removed(shared_data: Path) -> None:
    step = build_step("quality")
    docs = unarxive_papers(shared_data) + [latex_source(shared_data)] + proteins(shared_data)
    docs += dna(shared_data) + compounds(shared_data, limit=100)
    killed = []
    for doc in docs:
        decision = step.decide(doc, step.tag(doc))
        if decision is not KEEP:
            killed.append((doc.kind, doc.id, decision))
    assert killed == []
