from __future__ import annotations

from pathlib import Path

from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.base import KEEP, Modify, Reject
from sciprep.cleaning.steps.markup import find_issues
from sciprep.corpus.document import Document
from tests.cleaning.real_documents import compounds, dna, proteins


def _doc(text: str, **kw: object) -> Document:
    return Document(id="d", text=text, source="s", kind="paper", **kw)


def test_invalid_smiles_span_is_unwrapped_and_valid_spans_stay() -> None:
    step = build_step("markup")
    text = "Ethanol [START_SMILES]CCO[END_SMILES] and junk [START_SMILES]C1CC(C[END_SMILES]."
    decision = step.decide(_doc(text), step.tag(_doc(text)))
    assert isinstance(decision, Modify)
    assert decision.text == "Ethanol [START_SMILES]CCO[END_SMILES] and junk C1CC(C."
    assert "RDKit" in decision.note


def test_reject_mode_rejects_the_document_with_the_reason() -> None:
    step = build_step("markup", {"mode": "reject"})
    text = "Seq [START_AMINO]MKVLLB1Z[END_AMINO]"
    decision = step.decide(_doc(text), step.tag(_doc(text)))
    assert isinstance(decision, Reject) and "'1' are not protein codes" in decision.reason


def test_sequence_alphabets_are_checked_per_kind() -> None:
    issues = list(
        find_issues("[START_DNA]ACGTNRY acgt[END_DNA] [START_DNA]ACGTE[END_DNA] [START_AMINO][END_AMINO]", 100)
    )
    assert [(i["kind"], i["reason"]) for i in issues] == [
        ("dna", "letters 'E' are not nucleotide codes"),
        ("amino", "empty protein sequence"),
    ]


def test_unclosed_tag_is_invalid_and_unwrapping_removes_it() -> None:
    step = build_step("markup")
    text = "A [START_SMILES]CCO and more text"
    decision = step.decide(_doc(text), step.tag(_doc(text)))
    assert isinstance(decision, Modify) and decision.text == "A CCO and more text"


def test_overlong_smiles_is_invalid_without_parsing() -> None:
    assert [i["reason"] for i in find_issues(f"[START_SMILES]{'C' * 50}[END_SMILES]", 10)] == [
        "SMILES longer than 10 characters"
    ]


def test_prompt_record_halves_are_unwrapped_separately() -> None:
    step = build_step("markup")
    prompt, answer = "Name [START_SMILES]XX[END_SMILES]? ", "[START_SMILES]CCO[END_SMILES]"
    doc = _doc(prompt + answer, prompt=prompt, answer=answer)
    decision = step.decide(doc, step.tag(doc))
    assert isinstance(decision, Modify)
    assert (decision.prompt, decision.answer) == ("Name XX? ", answer)


def test_real_compounds_proteins_and_dna_are_all_valid(shared_data: Path) -> None:
    step = build_step("markup")
    docs = compounds(shared_data, limit=200) + proteins(shared_data) + dna(shared_data)
    for doc in docs:
        attrs = step.tag(doc)
        assert attrs["n_checked"] == 1
        assert step.decide(doc, attrs) is KEEP, (doc.id, attrs["issues"])


def test_amino_span_must_look_like_a_protein_not_english() -> None:
    text = (
        "[START_AMINO]HELLO WORLD[END_AMINO] [START_AMINO]CHARACTERISTICALLY DEFINED[END_AMINO] "
        "[START_AMINO]MKTAYIAKQRQISFVKSHFSRQLEERLGLIEV[END_AMINO]"
    )
    issues = list(find_issues(text, 100))
    assert [(i["kind"], i["start"]) for i in issues] == [("amino", 0), ("amino", text.index("[START_AMINO]CHAR"))]
    assert "fewer than 12" in issues[0]["reason"] and "not protein-like" in issues[1]["reason"]
    step = build_step("markup")
    decision = step.decide(_doc(text), step.tag(_doc(text)))
    assert isinstance(decision, Modify)
    assert decision.text.startswith("HELLO WORLD CHARACTERISTICALLY DEFINED [START_AMINO]MKTAY")


def test_isomeric_smiles_without_stereo_marks_is_retagged_as_smiles() -> None:
    text = "[START_I_SMILES]CCO[END_I_SMILES] and [START_I_SMILES]C[C@@H](O)C(=O)O[END_I_SMILES]"
    for mode in ("unwrap", "reject"):
        step = build_step("markup", {"mode": mode})
        decision = step.decide(_doc(text), step.tag(_doc(text)))
        assert isinstance(decision, Modify), mode
        assert decision.text == "[START_SMILES]CCO[END_SMILES] and [START_I_SMILES]C[C@@H](O)C(=O)O[END_I_SMILES]"
    assert list(find_issues("[START_I_SMILES]F/C=C/F[END_I_SMILES]", 100)) == []
    assert list(find_issues("[START_I_SMILES][2H]C([2H])([2H])O[END_I_SMILES]", 100)) == []
