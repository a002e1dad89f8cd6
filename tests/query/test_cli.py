"""End to end through the CLI on the real unarXive sample: index, ask, evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sciprep.cli import main
from tests.query.conftest import TEST_FRACTION

CONTEXT = "Pre-trained transformer language models such as BERT [START_REF]"


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_ask_returns_index_entries_with_sources_reproducibly(
    tiny_model: Path, sample_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ask", str(tiny_model), CONTEXT, "--index", str(sample_index), "-k", "3", "--json"]
    answers = _json(capsys, argv)
    assert isinstance(answers, list) and len(answers) == 3
    entries = {r["id"]: r for r in pq.read_table(sample_index / "references.parquet").to_pylist()}
    for answer in answers:
        assert {"text", "score", "source", "confidence"} <= answer.keys()
        entry = entries[answer["source"]["index_id"]]
        assert answer["text"] == entry["citation"] and answer["grounded"]
        assert answer["source"].get("doi") == entry["doi"]
    assert _json(capsys, argv) == answers


def test_sampled_answers_repeat_with_their_seed_and_stay_in_the_index(
    tiny_model: Path, sample_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ask", str(tiny_model), CONTEXT, "--index", str(sample_index), "--method", "constrained",
            "--sample", "4", "--seed", "3", "--json"]  # fmt: skip
    answers = _json(capsys, argv)
    assert isinstance(answers, list) and answers
    assert all(a["grounded"] and a["source"]["index_id"].startswith("ref-") for a in answers)
    assert _json(capsys, argv) == answers
    assert main(argv[:-3] + ["--json"]) == 2
    assert "--seed" in capsys.readouterr().err


def test_ask_for_a_formula_names_its_source_document(
    tiny_model: Path, sample_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ask", str(tiny_model), "the loss function", "--index", str(sample_index), "--kind", "formula",
            "--method", "retrieval", "-k", "2", "--json"]  # fmt: skip
    answers = _json(capsys, argv)
    assert len(answers) == 2
    doc_ids = {f["doc_id"] for f in pq.read_table(sample_index / "formulas.parquet").to_pylist()}
    assert all(a["source"]["doc_id"] in doc_ids and a["text"].startswith("$") for a in answers)


def test_citation_evaluation_reports_every_method(
    tiny_model: Path, sample_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    report = _json(capsys, ["eval", "citations", "--model", str(tiny_model), "--index", str(sample_index),
                            "--fraction", str(TEST_FRACTION), "--limit", "6", "--max-tokens", "40", "--out", str(out),
                            "--json"])  # fmt: skip
    assert isinstance(report, dict)
    assert json.loads(out.read_text()) == report
    assert report["cases"] == 6
    methods = report["methods"]
    assert set(methods) == {"constrained", "unconstrained", "retrieval", "hybrid"}
    for name, row in methods.items():
        assert 0.0 <= row["accuracy_at_1"] <= row["accuracy_at_k"] <= 1.0, name
        assert 0.0 <= row["hallucination_rate"] <= 1.0
    for name in ("constrained", "retrieval", "hybrid"):
        assert methods[name]["hallucination_rate"] == 0.0
        assert methods[name]["answers"] > 0


def test_formula_evaluation_reports_exact_and_normalised_matches(
    tiny_model: Path, sample_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _json(capsys, ["eval", "formulas", "--model", str(tiny_model), "--index", str(sample_index),
                            "--fraction", str(TEST_FRACTION), "--limit", "3", "--methods", "retrieval",
                            "generated", "--max-tokens", "24", "--json"])  # fmt: skip
    assert isinstance(report, dict) and report["cases"] == 3
    for row in report["methods"].values():
        assert 0.0 <= row["accuracy_at_1"] <= row["normalized_at_1"] <= row["normalized_at_k"] <= 1.0
        assert 0.0 <= row["valid_rate"] <= 1.0
    assert report["methods"]["retrieval"]["valid_rate"] == 1.0
    assert 0 <= report["retrievable_cases"] <= report["cases"]
    assert report["methods"]["retrieval"]["normalized_at_k"] <= report["retrieval_ceiling"]


def test_ask_with_a_missing_index_fails_with_a_clear_message(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", str(tiny_model), CONTEXT, "--index", str(tmp_path / "nope")]) == 2
    assert "not a query index" in capsys.readouterr().err


def test_evaluation_defaults_to_the_split_recorded_in_the_model_and_warns_on_a_mismatch(
    tiny_model: Path, sample_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    (model / "sciprep_training.json").write_text(json.dumps({"val_fraction": TEST_FRACTION, "split_seed": 3}))
    argv = ["eval", "formulas", "--model", str(model), "--index", str(sample_index), "--limit", "2",
            "--methods", "retrieval", "--json"]  # fmt: skip
    report = _json(capsys, argv)
    assert isinstance(report, dict) and report["split"] == {"validation_fraction": TEST_FRACTION, "seed": 3}
    assert main([*argv, "--seed", "0"]) == 0
    assert "--seed 0 differs from the split_seed 3" in capsys.readouterr().err


def test_evaluation_no_progress_silences_case_and_weight_loading_bars(
    tiny_model: Path, sample_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["eval", "citations", "--model", str(tiny_model), "--index", str(sample_index), "--fraction",
            str(TEST_FRACTION), "--limit", "2", "--max-tokens", "16", "--methods", "hybrid", "retrieval"]  # fmt: skip
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "a.json")]) == 0
    assert "hybrid:" in capsys.readouterr().err  # bars are on by default
    assert main([*argv, "--out", str(tmp_path / "b.json"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert not any(bar in err for bar in ("hybrid:", "retrieval:", "Loading weights", "it/s"))
    assert json.loads((tmp_path / "a.json").read_text()) == json.loads((tmp_path / "b.json").read_text())
