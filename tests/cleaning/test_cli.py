from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sciprep.cleaning.config import pipeline_from_config
from sciprep.cli import main
from tests.cleaning.conftest import MakeCorpus
from tests.cleaning.test_pipeline import _fixture_shards


def test_clean_writes_the_output_and_prints_the_step_table(
    make_corpus: MakeCorpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_corpus(_fixture_shards())
    out = tmp_path / "out"
    assert main(["clean", "--in", str(src), "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "exact_dedup" in printed and "in 10 = kept 7 + removed 2 + rejected 1" in printed
    assert json.loads((out / "report.json").read_text())["totals"]["kept"]["documents"] == 7
    assert sorted(p.name for p in (out / "shards").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]


def test_config_change_needs_redecide_on_the_command_line(
    make_corpus: MakeCorpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_corpus(_fixture_shards())
    out = tmp_path / "out"
    config = tmp_path / "clean.yaml"
    config.write_text("steps:\n  - normalise\n  - step: length\n    params: {min_chars: 5, min_chars_by_kind: {}}\n")
    assert main(["clean", "--in", str(src), "--out", str(out), "--no-progress"]) == 0
    assert main(["clean", "--config", str(config), "--in", str(src), "--out", str(out), "--no-progress"]) == 2
    assert "--redecide" in capsys.readouterr().err
    assert (
        main(["clean", "--config", str(config), "--in", str(src), "--out", str(out), "--no-progress", "--redecide"])
        == 0
    )


def test_printed_default_config_loads_back_to_the_same_pipeline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clean", "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    from sciprep.cleaning import default_pipeline

    assert pipeline_from_config(printed).describe() == default_pipeline().describe()


def test_list_steps_shows_every_step_and_its_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clean", "--list-steps"]) == 0
    printed = capsys.readouterr().out
    for name in ("normalise", "markup", "quality", "pii", "decontaminate", "exact_dedup", "near_dedup"):
        assert f"\n{name} (" in "\n" + printed
    assert "min_words: 50" in printed


def test_missing_input_directory_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clean", "--in", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "not a sciprep corpus directory" in capsys.readouterr().err


def test_empty_evaluation_set_is_pointed_out(
    make_corpus: MakeCorpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_corpus(_fixture_shards())
    assert main(["clean", "--in", str(src), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    assert "decontaminate: the evaluation set is empty" in capsys.readouterr().err


def test_dedup_threshold_prints_the_s_curve_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dedup-threshold", "--bands", "20", "--rows", "5"]) == 0
    out = capsys.readouterr().out
    assert f"{(1 / 20) ** (1 / 5):.3f}" in out
