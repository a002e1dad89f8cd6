from __future__ import annotations

from pathlib import Path

import pytest

from sciprep.cleaning import pipeline_from_config
from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.base import KEEP, Modify, Remove, StepContext
from sciprep.cleaning.steps.decontaminate import Decontaminate, widen_to_markup
from sciprep.corpus.document import Document
from sciprep.corpus.shards import iter_documents
from tests.cleaning.conftest import MakeCorpus, prose

_LEAK = "the measured binding energy of the complex was found to agree with the simulation within error"


def _step(tmp_path: Path, **params: object) -> Decontaminate:
    eval_file = tmp_path / "eval.txt"
    eval_file.write_text(_LEAK + "\n")
    step = build_step("decontaminate", {"eval_path": str(eval_file), **params})
    assert isinstance(step, Decontaminate)
    step.setup(StepContext(in_dir=tmp_path, out_dir=tmp_path / "out"))
    return step


def _decide(step: Decontaminate, doc: Document) -> object:
    return step.decide(doc, step.tag(doc))


def test_drop_mode_removes_a_document_sharing_a_13_gram(tmp_path: Path) -> None:
    step = _step(tmp_path)
    doc = Document(
        id="d", text=prose("a", 100) + " " + _LEAK.upper() + ". " + prose("b", 100), source="arxiv", kind="paper"
    )
    decision = _decide(step, doc)
    assert isinstance(decision, Remove) and "evaluation set" in decision.reason
    assert decision.score is not None and 0 < decision.score < 0.1
    assert _decide(step, Document(id="c", text=prose("clean", 200), source="s", kind="paper")) is KEEP


def test_cut_mode_removes_only_the_leaked_stretch_and_keeps_markup_whole(tmp_path: Path) -> None:
    step = _step(tmp_path, mode="cut")
    leak_words = _LEAK.split()
    leaky = " ".join(leak_words[:6]) + " [START_MATH]$E$[END_MATH] " + " ".join(leak_words[6:])
    step.index = type(step.index).build([leaky], 13, 8)
    text = prose("before", 150) + "\n" + leaky + "\n" + prose("after", 150)
    decision = _decide(step, Document(id="d", text=text, source="s", kind="paper"))
    assert isinstance(decision, Modify)
    assert "binding energy" not in decision.text and "[START_MATH]" not in decision.text
    assert decision.text.startswith(prose("before", 150)[:50]) and decision.text.endswith(prose("after", 150)[-50:])


def test_cut_mode_drops_documents_that_are_mostly_leaked(tmp_path: Path) -> None:
    step = _step(tmp_path, mode="cut")
    assert isinstance(_decide(step, Document(id="d", text=_LEAK + " ok", source="s", kind="paper")), Remove)


def test_test_split_documents_are_exempt(tmp_path: Path) -> None:
    step = _step(tmp_path)
    doc = Document(id="t", text=_LEAK, source="s", kind="prompt", prompt=_LEAK, answer="", split="test")
    assert _decide(step, doc) is KEEP


def test_widening_covers_touched_markup_spans() -> None:
    text = "ab [START_SMILES]CCO[END_SMILES] cd"
    assert widen_to_markup(text, [(0, 5)]) == [(0, 32)]


def test_a_new_evaluation_set_changes_the_tag_fingerprint(tmp_path: Path) -> None:
    first = _step(tmp_path).tag_fingerprint()
    (tmp_path / "eval.txt").write_text("another evaluation item with quite a few words in it for sure\n")
    second = build_step("decontaminate", {"eval_path": str(tmp_path / "eval.txt")})
    second.setup(StepContext(in_dir=tmp_path, out_dir=tmp_path / "out"))
    assert first != second.tag_fingerprint()


def test_missing_evaluation_file_is_a_clear_error(tmp_path: Path) -> None:
    step = build_step("decontaminate", {"eval_path": str(tmp_path / "nope.jsonl")})
    with pytest.raises(FileNotFoundError, match="nope.jsonl: evaluation set not found"):
        step.setup(StepContext(in_dir=tmp_path, out_dir=tmp_path / "out"))


def test_default_evaluation_set_is_the_input_corpus_test_prompts(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    question = "What is the hydration free energy of [START_I_SMILES]C[C@H](O)CC[END_I_SMILES] in water?"
    test_prompt = Document(id="q", text=question + " -3.2", source="freesolv", kind="prompt",
                           prompt=question, answer=" -3.2", split="test")  # fmt: skip
    leaky = Document(id="leak", text=prose("a", 80) + " " + question + " -3.2 kcal/mol. " + prose("b", 80),
                     source="web", kind="paper")  # fmt: skip
    clean = Document(id="clean", text=prose("c", 200), source="arxiv", kind="paper")
    src = make_corpus([[test_prompt, leaky], [clean]])
    report = pipeline_from_config({"steps": ["decontaminate"]}).run(src, tmp_path / "out", progress=False)
    step = report["steps"][0]
    assert step["removed"] == 1 and step["removed_by_source"] == {"web": 1}
    assert step["evaluation"]["items"] == 1
    assert {d.id for d in iter_documents(tmp_path / "out")} == {"q", "clean"}
