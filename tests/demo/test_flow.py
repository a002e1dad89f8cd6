"""``sciprep demo --quick``: every stage's output passes that stage's own loaders and checks."""

from __future__ import annotations

import io
import json
import shlex
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sciprep.corpus.shards import iter_documents, list_shards, read_rejects
from sciprep.demo import CITATION_QUERIES, FORMULA_QUERIES, QUICK
from sciprep.tokenize.specials import (
    START_AMINO,
    START_DNA,
    START_I_SMILES,
    START_MATH,
    START_REF,
    START_SMILES,
    START_WORK,
)


def test_corpus_holds_every_modality_and_kind(demo_run: Path) -> None:
    docs = list(iter_documents(demo_run / "corpus"))
    assert {"paper", "reference", "compound", "protein", "dna", "text", "prompt"} <= {d.kind for d in docs}
    text = "\n".join(d.text for d in docs)
    for tag in (START_MATH, START_REF, START_AMINO, START_DNA, START_WORK):
        assert tag in text, tag
    assert START_SMILES in text or START_I_SMILES in text
    papers = [d for d in docs if d.kind == "paper"]
    assert papers and all(START_REF in d.text and START_MATH in d.text for d in papers)
    nci = [d for d in docs if d.source == "nci"]
    assert len(nci) == QUICK.molecules  # RDKit's NCI molecules, as a compound source
    prompts = [d for d in docs if d.kind == "prompt"]
    assert {"train", "test"} == {d.split for d in prompts}
    assert all(d.prompt and d.answer for d in prompts)


def test_corpus_shards_open_with_datasets(demo_run: Path) -> None:
    from datasets import load_dataset

    files = [str(p) for p in list_shards(demo_run / "clean")]
    dataset = load_dataset("parquet", data_files=files, split="train")
    assert len(dataset) == sum(1 for _ in iter_documents(demo_run / "clean"))
    assert {"id", "text", "kind", "source"} <= set(dataset.column_names)


def test_broken_smiles_record_is_a_reject_naming_its_line(demo_run: Path) -> None:
    rejects = read_rejects(demo_run / "corpus" / "rejects.parquet")
    assert [(Path(r.file).name, r.position) for r in rejects] == [("compounds.smi", "line 18")]
    assert "SMILES" in rejects[0].reason


def test_cleaning_removes_the_planted_duplicates_and_junk_with_their_reasons(demo_run: Path) -> None:
    excluded = [row for path in sorted((demo_run / "clean" / "excluded").glob("*.parquet"))
                for row in pq.read_table(path, columns=["id", "source", "kind", "step", "reason"]).to_pylist()]
    by_id = {row["id"]: row for row in excluded}
    assert by_id["stub-see-above"]["step"] == "length"
    banner = by_id["page-cookie-banner"]
    assert banner["step"] == "quality" and "duplicate line" in banner["reason"]
    assert by_id["scan-garbled"]["step"] == "quality"
    assert by_id["quiz-week-3"]["step"] == "decontaminate"
    assert by_id["note-ideal-gas-mirror"]["step"] == "exact_dedup"
    assert "kept note-ideal-gas" in by_id["note-ideal-gas-mirror"]["reason"]
    references = [row for row in excluded if row["kind"] == "reference"]
    assert len(references) == 2 and all(row["step"] == "exact_dedup" for row in references)
    near = [row for row in excluded if row["step"] == "near_dedup"]
    assert len(near) == 1 and near[0]["kind"] == "paper"
    kept = {d.id: d for d in iter_documents(demo_run / "clean")}
    assert near[0]["reason"].split()[3] in kept  # "near duplicate of <kept id> ..."
    assert "<EMAIL>" in kept["note-enzyme-assay"].text and "@example.org" not in kept["note-enzyme-assay"].text


def test_cleaning_conserves_documents(demo_run: Path) -> None:
    report = json.loads((demo_run / "clean" / "report.json").read_text())
    totals = {key: report["totals"][key]["documents"] for key in ("in", "kept", "removed", "rejected")}
    built = json.loads((demo_run / "corpus" / "manifest.json").read_text())["totals"]["documents"]
    excluded = sum(pq.ParquetFile(p).metadata.num_rows for p in (demo_run / "clean" / "excluded").glob("*.parquet"))
    kept = sum(1 for _ in iter_documents(demo_run / "clean"))
    assert totals["in"] == built == totals["kept"] + totals["removed"] + totals["rejected"]
    assert (kept, excluded) == (totals["kept"], totals["removed"])


def test_tokenizer_loads_with_tokenizers_and_transformers_and_gives_sciprep_ids(demo_run: Path) -> None:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    from sciprep.tokenize.tokenizer import SciTokenizer

    tok_dir = demo_run / "tokenizer"
    ours = SciTokenizer.load(tok_dir)
    plain = Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    fast = PreTrainedTokenizerFast(tokenizer_file=str(tok_dir / "tokenizer.json"))
    for doc in list(iter_documents(demo_run / "clean"))[::25]:
        ids = ours.encode(doc.text)
        assert plain.encode(doc.text, add_special_tokens=False).ids == ids
        assert fast(doc.text, add_special_tokens=False)["input_ids"] == ids
    assert ours.tokens(f"{START_SMILES}CCO[END_SMILES]")[1:4] == ["C", "C", "O"]


def test_packed_tokens_load_with_the_training_readers_and_validate_every_modality(demo_run: Path) -> None:
    from sciprep.training import load_packed_meta, open_tokens, read_header

    meta = load_packed_meta(demo_run / "packed")
    assert meta["documents_in"] == (sum(s["documents"] for s in meta["splits"].values())
                                    + meta["held_out_prompts"] + meta["rejected"])
    for split in ("train", "val"):
        header = read_header(demo_run / "packed" / f"{split}.tokens")
        ids = open_tokens(demo_run / "packed" / f"{split}.tokens")
        assert len(ids) == header["tokens"] == meta["splits"][split]["tokens"]
        assert int(np.max(ids)) < meta["vocab_size"]
    val = meta["splits"]["val"]["modality_tokens"]
    assert all(val[m] > 0 for m in ("text", "math", "smiles", "protein", "dna")), val


def test_pretraining_ran_every_epoch_and_model_loads_with_transformers(demo_run: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    records = [json.loads(line) for line in (demo_run / "run" / "metrics.jsonl").read_text().splitlines()]
    epoch_ends = [r for r in records if r["type"] == "val" and r.get("epoch_end")]
    assert [r["epoch"] for r in epoch_ends] == [float(e) for e in range(1, QUICK.epochs + 1)]
    assert all(np.isfinite(r["loss"]) and "loss_protein" in r and "loss_dna" in r for r in epoch_ends)
    model = AutoModelForCausalLM.from_pretrained(demo_run / "run" / "model", use_safetensors=True)
    tok = AutoTokenizer.from_pretrained(demo_run / "run" / "model")
    ids = torch.tensor([tok("The Schwarzschild radius", add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        out = model(input_ids=ids, labels=ids)
    assert out.logits.shape[-1] == model.config.vocab_size and torch.isfinite(out.loss)
    assert (demo_run / "run" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tuned_model_loads_and_was_evaluated_on_held_out_prompts(demo_run: Path) -> None:
    from transformers import AutoModelForCausalLM

    summary = json.loads((demo_run / "tuned" / "summary.json").read_text())
    held_out = [d for d in iter_documents(demo_run / "clean") if d.kind == "prompt" and d.split == "test"]
    assert summary["held_out_examples"] == len(held_out) > 0
    records = [json.loads(line) for line in (demo_run / "tuned" / "metrics.jsonl").read_text().splitlines()]
    evaluations = [r for r in records if r["type"] == "val"]
    assert len(evaluations) >= QUICK.tune_epochs and all("exact_match" in r for r in evaluations)
    AutoModelForCausalLM.from_pretrained(demo_run / "tuned" / "model", use_safetensors=True)


def test_answers_are_entries_of_the_corpus(demo_run: Path) -> None:
    from sciprep.query.index_store import QueryIndex

    QueryIndex.load(demo_run / "index")  # the query stage's own loader accepts the index
    clean = {d.id: d for d in iter_documents(demo_run / "clean")}
    titles = {d.metadata.title for d in clean.values() if d.kind == "reference"}
    citation = json.loads((demo_run / "answers" / "citation-1.json").read_text())
    assert citation and all(a["grounded"] and a["text"].rsplit(",", 1)[0] in titles for a in citation)
    assert citation[0]["text"].endswith("Schwarzschild")  # CITATION_QUERIES[0] asks for his paper
    assert CITATION_QUERIES[0].endswith(START_REF)
    formulas = json.loads((demo_run / "answers" / "formula-1.json").read_text())
    assert formulas and all(a["text"] in clean[a["source"]["doc_id"]].text for a in formulas)


def test_figures_json_reports_what_the_stage_files_hold(demo_run: Path) -> None:
    figures = json.loads((demo_run / "figures.json").read_text())
    assert figures["cleaning"]["kept"] == sum(1 for _ in iter_documents(demo_run / "clean"))
    from tokenizers import Tokenizer

    plain = Tokenizer.from_file(str(demo_run / "tokenizer" / "tokenizer.json"))
    assert figures["tokenizer"]["vocab_size"] == plain.get_vocab_size(with_added_tokens=True)
    assert figures["tokenizer"]["tokens_per_byte"]["smiles"] == pytest.approx(1.0)
    assert len(figures["pretraining"]["epochs"]) == QUICK.epochs
    assert figures["evaluation"]["citations"]["cases"] >= 1


#: The distinctive part of each shipped formula query's intended answer, in query order.
INTENDED_FORMULAS = (r"\frac{2 G M}{c^2}", r"v = \frac{V_{\max} [S]}{K_{\mathrm{M}} + [S]}", r"E_n = \hbar\omega")
#: Budget flags added to the "continue with" commands that would otherwise train or evaluate for minutes.
BUDGET = {("train", "pretrain"): ["--epochs", "1", "--no-progress"], ("eval", "citations"): ["--limit", "2"]}


def test_each_shipped_formula_query_finds_its_intended_formula_first(
    demo_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sciprep.cli import main

    assert len(FORMULA_QUERIES) == len(INTENDED_FORMULAS)
    for query, intended in zip(FORMULA_QUERIES, INTENDED_FORMULAS, strict=True):
        capsys.readouterr()
        assert main(["ask", str(demo_run / "run" / "model"), query, "--index", str(demo_run / "index"), "--kind",
                     "formula", "-k", "1", "--threads", "1", "--json"]) == 0  # fmt: skip
        top = json.loads(capsys.readouterr().out)[0]["text"]
        assert intended in top, (query, top)


def test_every_continue_with_command_of_the_report_runs_on_the_demo_outputs(
    demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each command the report suggests, run where the report says (the demo directory), exits 0.

    The demo's outputs are linked into a scratch directory (``run/`` is copied, since
    ``train plot`` rewrites its PNG), so new outputs land there and the shared run is untouched.
    """
    from sciprep.cli import main
    from sciprep.demo.report_html import CONTINUE_WITH

    for name in ("recipe.yaml", "corpus", "clean", "tokenizer", "packed", "tuned", "index"):
        (tmp_path / name).symlink_to(demo_run / name)
    shutil.copytree(demo_run / "run", tmp_path / "run", ignore=shutil.ignore_patterns("checkpoints"))
    monkeypatch.chdir(tmp_path)
    commands = [command for _, _, command in CONTINUE_WITH if command]
    assert len(commands) >= 8
    for command in commands:
        stdin, _, command = command.rpartition(" | ")
        argv = shlex.split(command)
        assert argv[0] == "sciprep", command
        argv = argv[1:] + BUDGET.get((argv[1], argv[2]), [])
        if stdin:
            monkeypatch.setattr("sys.stdin", io.StringIO(shlex.split(stdin)[1] + "\n"))
        capsys.readouterr()
        assert main(argv) == 0, (command, capsys.readouterr().err[-2000:])
        out = capsys.readouterr().out
        if argv[0] == "tokenize":
            assert "[START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES]" in "".join(json.loads(out)["tokens"])
    # The new outputs pass their stages' own checks.
    report = json.loads((tmp_path / "clean2" / "report.json").read_text())
    assert report["totals"]["in"]["documents"] == sum(report["totals"][k]["documents"]
                                                      for k in ("kept", "removed", "rejected"))  # fmt: skip
    assert sorted(p.name for p in list_shards(tmp_path / "corpus2")) == sorted(
        p.name for p in list_shards(demo_run / "corpus"))  # fmt: skip
    epochs = [r for r in (json.loads(line) for line in (tmp_path / "run2" / "metrics.jsonl").read_text().splitlines())
              if r["type"] == "val" and r.get("epoch_end")]  # fmt: skip
    assert [r["epoch"] for r in epochs] == [1.0] and (tmp_path / "run2" / "model" / "model.safetensors").is_file()
    assert not (demo_run / "run2").exists() and not (demo_run / "clean2").exists()


def test_a_failing_stage_stops_the_demo_with_its_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sciprep.cli import main
    from sciprep.demo import run_demo

    def fail_at_clean(argv: list[str]) -> int:
        return 3 if argv[0] == "clean" else main(argv)

    assert run_demo(tmp_path / "d", QUICK, main=fail_at_clean) == 3
    assert "stage `sciprep clean` failed with exit code 3" in capsys.readouterr().err
    assert (tmp_path / "d" / "corpus" / "manifest.json").is_file()
    assert not (tmp_path / "d" / "report.html").exists()
