from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sciprep.cli import main
from sciprep.tokenize import SciTokenizer


def _corpus(path: Path) -> Path:
    lines = [
        json.dumps({"text": f"Paper {i}: we measure $x_{i}$ of CC(=O)Oc1ccccc1C(=O)O at {i * 7} K."})
        for i in range(200)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tokenizer_train_then_tokenize_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = _corpus(tmp_path / "c.jsonl")
    out = tmp_path / "tok"
    assert main(["tokenizer", "train", str(corpus), "--out", str(out), "--vocab-size", "400", "--wrap"]) == 0
    assert (out / "tokenizer.json").is_file() and (out / "tokenizer_config.json").is_file()
    capsys.readouterr()

    monkeypatch.setattr("sys.stdin", io.StringIO("Aspirin CC(=O)O at 300 K"))
    assert main(["tokenize", "--tokenizer", str(out), "--wrap"]) == 0
    result = json.loads(capsys.readouterr().out)
    tok = SciTokenizer.load(out)
    assert result["ids"] == tok.encode("Aspirin [START_SMILES]CC(=O)O[END_SMILES] at 300 K")
    assert "".join(result["tokens"]) == "Aspirin [START_SMILES]CC(=O)O[END_SMILES] at 300 K"


def test_tokenize_prints_ids_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tok"
    assert (
        main(
            [
                "tokenizer",
                "train",
                str(_corpus(tmp_path / "c.jsonl")),
                "--out",
                str(out),
                "--vocab-size",
                "300",
            ]
        )
        == 0
    )
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("12"))
    assert main(["tokenize", "--tokenizer", str(out), "--format", "ids"]) == 0
    assert capsys.readouterr().out.split() == [str(i) for i in SciTokenizer.load(out).encode("12")]


def test_train_on_malformed_input_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    assert main(["tokenizer", "train", str(bad), "--out", str(tmp_path / "t")]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err


def test_tokenize_of_a_lone_surrogate_is_a_clear_error(
    tmp_path: Path,
    tiny_tokenizer: SciTokenizer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tiny_tokenizer.save(tmp_path / "tok")
    monkeypatch.setattr("sys.stdin", io.StringIO("bytes \udcff here"))
    assert main(["tokenize", "--tokenizer", str(out)]) == 2
    assert "lone surrogate '\\udcff' at character 6" in capsys.readouterr().err


def test_tokenizer_train_no_progress_prints_no_bars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _corpus(tmp_path / "c.jsonl")
    assert main(["tokenizer", "train", str(corpus), "--out", str(tmp_path / "a"), "--vocab-size", "400"]) == 0
    assert "reading:" in capsys.readouterr().err  # the bar is there by default
    argv = ["tokenizer", "train", str(corpus), "--out", str(tmp_path / "b"), "--vocab-size", "400", "--no-progress"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "reading:" not in err and "doc/s" not in err and "wrote" in err
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (tmp_path / "b" / "tokenizer.json").read_bytes()
