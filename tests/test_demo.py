"""The README's quick start: ``sciprep demo`` runs every stage on the shipped corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from sciprep.cli import main
from sciprep.corpus.shards import iter_documents
from sciprep.demo import CITATION_QUERY


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--epochs", "1"]) == 0
    return out


def test_demo_builds_a_corpus_with_every_modality(demo_run: Path) -> None:
    docs = list(iter_documents(demo_run / "corpus"))
    kinds = {d.kind for d in docs}
    assert {"paper", "reference", "compound", "protein", "prompt"} <= kinds
    papers = [d for d in docs if d.kind == "paper"]
    assert all("[START_REF]" in d.text and "[START_MATH]" in d.text for d in papers)
    manifest = json.loads((demo_run / "corpus" / "manifest.json").read_text())
    assert manifest["sources"]["papers"]["weight"] == 2.0


def test_demo_model_loads_with_transformers(demo_run: Path) -> None:
    model_dir = demo_run / "run" / "model"
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    assert tok.eos_token == "</s>" and model.config.vocab_size >= len(tok)


def test_demo_citation_answers_are_references_of_the_corpus(
    demo_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    args = ["ask", str(demo_run / "run" / "model"), CITATION_QUERY, "--index", str(demo_run / "index")]
    assert main([*args, "--kind", "citation", "-k", "3", "--json"]) == 0
    answers = json.loads(capsys.readouterr().out)
    titles = {d.metadata.title for d in iter_documents(demo_run / "corpus") if d.kind == "reference"}
    assert len(answers) == 3
    assert all(a["text"].rsplit(",", 1)[0] in titles for a in answers)
