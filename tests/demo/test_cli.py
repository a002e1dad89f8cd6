"""``sciprep demo`` on the command line: flags, refusals, and reruns into the same directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sciprep.cli import build_parser, main
from sciprep.demo import QUICK, DemoLayout, DemoSettings
from sciprep.demo.flow import OUTPUTS, prepare_directory, settings_marker


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for command in ("corpus", "clean", "dedup-threshold", "tokenizer", "tokenize", "train", "query", "ask",
                    "eval", "demo"):
        assert f"    {command}" in out, command


def test_demo_help_documents_the_budget_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--help"])
    out = capsys.readouterr().out
    for flag in ("--out", "--quick", "--epochs", "--tune-epochs", "--molecules", "--vocab-size", "--threads",
                 "--no-progress"):
        assert flag in out


def test_demo_refuses_a_folder_that_holds_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "thesis.tex").write_text("mine")
    assert main(["demo", "--out", str(tmp_path), "--quick"]) == 2
    assert "not a `sciprep demo` directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]


def test_demo_refuses_a_folder_whose_demo_json_is_not_the_demo_marker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "proj"
    (project / "corpus").mkdir(parents=True)
    (project / "corpus" / "mine.txt").write_text("my own corpus")
    (project / "demo.json").write_text('{"name": "my demo"}')
    assert main(["demo", "--out", str(project), "--quick"]) == 2
    assert "not a `sciprep demo` directory" in capsys.readouterr().err
    assert (project / "corpus" / "mine.txt").read_text() == "my own corpus"
    assert (project / "demo.json").read_text() == '{"name": "my demo"}'


def test_demo_names_a_demo_json_that_is_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "demo.json").write_text("my notes about the demo")
    (tmp_path / "report.html").write_text("mine")
    assert main(["demo", "--out", str(tmp_path), "--quick"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "demo.json") in err and "not a `sciprep demo` settings file" in err
    assert (tmp_path / "report.html").read_text() == "mine"


def test_symlinked_output_is_refused_before_any_output_is_deleted(tmp_path: Path) -> None:
    layout = _fake_run(tmp_path / "demo", QUICK)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("outside the demo")
    layout.run.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ValueError, match="symbolic link"):
        prepare_directory(layout, DemoSettings(epochs=QUICK.epochs + 1))
    assert (layout.corpus / "shards" / "a.parquet").read_bytes() == b"x" and layout.report.is_file()
    assert (elsewhere / "keep.txt").read_text() == "outside the demo"
    assert json.loads(layout.settings.read_text()) == settings_marker(QUICK)


@pytest.mark.parametrize("flag", ["--epochs", "--tune-epochs", "--vocab-size", "--threads"])
def test_demo_refuses_a_budget_below_one(flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path / "d"), flag, "0"]) == 2
    assert f"{flag} must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def _fake_run(root: Path, settings: DemoSettings) -> DemoLayout:
    layout = DemoLayout(root)
    prepare_directory(layout, settings)
    (layout.corpus / "shards").mkdir(parents=True)
    (layout.corpus / "shards" / "a.parquet").write_bytes(b"x")
    layout.report.write_text("<html></html>")
    return layout


def test_rerun_with_the_same_settings_keeps_earlier_outputs_for_the_stages_to_resume(tmp_path: Path) -> None:
    layout = _fake_run(tmp_path / "demo", QUICK)
    prepare_directory(layout, QUICK)
    assert (layout.corpus / "shards" / "a.parquet").read_bytes() == b"x"
    assert json.loads(layout.settings.read_text()) == settings_marker(QUICK)


def test_rerun_with_other_settings_clears_only_the_demo_outputs(tmp_path: Path) -> None:
    layout = _fake_run(tmp_path / "demo", QUICK)
    (layout.root / "notes.txt").write_text("a user's file beside the outputs")
    other = DemoSettings(epochs=QUICK.epochs + 1)
    prepare_directory(layout, other)
    assert not layout.corpus.exists() and not layout.report.exists()
    assert (layout.root / "notes.txt").read_text() == "a user's file beside the outputs"
    assert json.loads(layout.settings.read_text()) == settings_marker(other)


def test_layout_names_every_output_inside_the_demo_directory(tmp_path: Path) -> None:
    layout = DemoLayout(tmp_path)
    for name in OUTPUTS:
        assert layout.path(name).parent == tmp_path
    assert layout.report == tmp_path / "report.html" and layout.run == tmp_path / "run"
