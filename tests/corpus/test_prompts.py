"""Prompt converters: FreeSolv questions, generic Q/A templates, seeded grouped splits."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdkit import Chem

from sciprep.corpus.document import Document
from sciprep.corpus.prompts import read_prompts, template_fields
from sciprep.corpus.shards import Reject
from sciprep.corpus.splits import is_validation


def _docs(out: list[object]) -> list[Document]:
    return [d for d in out if isinstance(d, Document)]


def test_freesolv_gives_iupac_and_hydration_prompts_per_molecule(shared_data: Path) -> None:
    path = shared_data / "chem" / "freesolv.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = list(read_prompts(path, "freesolv", template="freesolv"))
    docs = _docs(out)
    assert len(out) == 2 * len(rows) and len(docs) == len(out)
    tags = {"I_SMILES": 0, "SMILES": 0}
    for row, (iupac, energy) in zip(rows, zip(docs[::2], docs[1::2])):
        smiles = Chem.MolToSmiles(Chem.MolFromSmiles(row["smiles"]))
        tag = "I_SMILES" if re.search(r"[@/\\]|\[\d", smiles) else "SMILES"
        tags[tag] += 1
        assert (
            iupac.prompt
            == f"Question: What is the IUPAC name of [START_{tag}]{smiles}[END_{tag}]?\n\nAnswer:"
        )
        assert iupac.answer == f" {row['iupac']}"
        hydration = f"Question: Predict the hydration free energy of [START_{tag}]{smiles}[END_{tag}] in water"
        assert energy.prompt.startswith(hydration)
        assert energy.answer == f" {float(row['expt']):.2f} kcal/mol"
        for doc in (iupac, energy):
            assert doc.kind == "prompt" and doc.text == doc.prompt + doc.answer
        assert iupac.split == energy.split, "both questions about a molecule share its split"
    test_share = sum(d.split == "test" for d in docs) / len(docs)
    assert 0.01 < test_share < 0.15
    assert len({d.id for d in docs}) == len(docs)
    assert tags["I_SMILES"] and tags["SMILES"], "stereo molecules keep I_SMILES, the rest use SMILES"


def test_split_follows_the_shared_held_out_rule(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text(
        "".join(
            json.dumps({"question": f"q{i}", "answer": f"a{i}", "topic": f"t{i % 7}"}) + "\n"
            for i in range(200)
        )
    )
    docs = _docs(list(read_prompts(path, "qa", group_field="topic", test_fraction=0.3, seed=5)))
    for doc in docs:
        assert doc.split == ("test" if is_validation(doc.metadata.extra["group"], 0.3, 5) else "train")
    by_topic = {}
    for doc in docs:
        by_topic.setdefault(doc.metadata.extra["group"], set()).add(doc.split)
    assert all(len(splits) == 1 for splits in by_topic.values())


def test_bad_freesolv_rows_are_rejected_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "fs.csv"
    path.write_text("iupac,smiles,expt\nethanol,CCO,-5.0\nbroken,c1cc(,1.0\n,CC,abc\n", encoding="utf-8")
    out = list(read_prompts(path, "fs", template="freesolv"))
    assert [type(x).__name__ for x in out] == ["Document", "Document", "Reject", "Reject", "Reject"]
    assert out[2].position == "line 3" and "syntax error" in out[2].reason
    assert out[3].position == "line 4 (iupac)" and out[4].position == "line 4 (hydration)"
    assert "'abc' is not a number" in out[4].reason


def test_qa_templates_fill_from_csv_columns_and_reject_missing_fields(tmp_path: Path) -> None:
    path = tmp_path / "qa.csv"
    path.write_text("term,definition\nentropy,a measure of disorder\nenthalpy,\n", encoding="utf-8")
    out = list(
        read_prompts(path, "qa", question="Question: Define {term}.\n\nAnswer:", answer=" {definition}")
    )
    assert (
        isinstance(out[0], Document)
        and out[0].text == "Question: Define entropy.\n\nAnswer: a measure of disorder"
    )
    assert isinstance(out[1], Reject) and "definition" in out[1].reason and out[1].position == "line 3"


def test_qa_markup_option_wraps_math(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps({"question": "Solve $x^2 = 4$.", "answer": "$x = \\pm 2$"}) + "\n")
    (doc,) = read_prompts(path, "qa", markup=True)
    assert doc.prompt.count("[START_MATH]") == 1 and doc.answer.count("[START_MATH]") == 1


@pytest.mark.parametrize("template", ["{a.__class__}", "{0}", "{a[0]}", "{}"])
def test_templates_may_only_name_plain_columns(template: str) -> None:
    with pytest.raises(ValueError, match="plain column name"):
        template_fields(template)


def test_unknown_template_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    with pytest.raises(ValueError, match="unknown prompt template"):
        list(read_prompts(path, "s", template="nope"))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=30))
def test_every_qa_row_is_a_document_or_a_reject(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str]]
) -> None:
    path = tmp_path_factory.mktemp("qa") / "qa.jsonl"
    path.write_text(
        "".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in rows), encoding="utf-8"
    )
    out = list(read_prompts(path, "qa"))
    assert len(out) == len(rows)
    for (question, answer), item in zip(rows, out):
        if isinstance(item, Document):
            assert item.prompt == f"Question: {question}\n\nAnswer:" and item.answer == f" {answer}"
        else:
            assert not question or not answer


def test_cli_prompts_writes_a_prompt_corpus(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sciprep.cli import main
    from sciprep.corpus.shards import iter_documents

    out = tmp_path / "prompts"
    code = main(["corpus", "prompts", str(shared_data / "chem" / "freesolv.csv"), "--template", "freesolv",
                 "--out", str(out), "--test-fraction", "0.2", "--seed", "3", "--no-progress"])  # fmt: skip
    docs = list(iter_documents(out))
    with open(shared_data / "chem" / "freesolv.csv", newline="", encoding="utf-8") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    assert code == 0 and f"prompts: {2 * rows:,} documents, 0 rejected" in capsys.readouterr().out
    assert all(d.kind == "prompt" and d.source == "prompts" for d in docs)
    assert all(
        d.split == ("test" if is_validation(d.metadata.extra["group"], 0.2, 3) else "train") for d in docs
    )


def test_freesolv_tags_i_smiles_only_for_stereo_or_isotopes(tmp_path: Path) -> None:
    path = tmp_path / "fs.csv"
    path.write_text(
        "iupac,smiles,expt\nethanol,CCO,-5.0\n(2R)-butan-2-ol,C[C@@H](O)CC,-4.6\nmethane-d,[2H]C,2.0\n",
        encoding="utf-8",
    )
    prompts = [d.prompt for d in _docs(list(read_prompts(path, "fs", template="freesolv")))[::2]]
    assert "[START_SMILES]CCO[END_SMILES]" in prompts[0]
    assert "[START_I_SMILES]CC[C@@H](C)O[END_I_SMILES]" in prompts[1]
    assert "[START_I_SMILES][2H]C[END_I_SMILES]" in prompts[2]
