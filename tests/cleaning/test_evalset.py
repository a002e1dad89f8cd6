from __future__ import annotations

import json
from pathlib import Path

import pytest

from sciprep.cleaning.evalset import NgramIndex, load_eval_items
from sciprep.corpus.document import Document
from tests.cleaning.conftest import MakeCorpus


def test_corpus_directory_gives_its_test_prompts(make_corpus: MakeCorpus) -> None:
    def prompt(i: int, split: str) -> Document:
        return Document(
            id=f"p{i}", text=f"Q{i}?A{i}", source="s", kind="prompt", prompt=f"Q{i}?", answer=f"A{i}", split=split
        )

    root = make_corpus(
        [[prompt(1, "test"), prompt(2, "train"), Document(id="x", text="t", source="s", kind="paper", split="test")]]
    )
    assert load_eval_items(root) == ["Q1?A1"]
    assert load_eval_items(root, splits=("train", "test")) == ["Q1?A1", "Q2?A2"]


def test_jsonl_and_text_files(tmp_path: Path) -> None:
    jsonl = tmp_path / "eval.jsonl"
    jsonl.write_text(json.dumps({"text": "one"}) + "\n\n" + json.dumps({"question": "q", "answer": "a"}) + "\n")
    assert load_eval_items(jsonl) == ["one", "qa"]
    txt = tmp_path / "eval.txt"
    txt.write_text("first line\n\n second\n")
    assert load_eval_items(txt) == ["first line", " second"]


def test_bad_jsonl_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "eval.jsonl"
    bad.write_text('{"text": "ok"}\n{oops\n')
    with pytest.raises(ValueError, match=r"eval.jsonl line 2: not valid JSON"):
        load_eval_items(bad)
    bad.write_text('{"title": "no text"}\n')
    with pytest.raises(ValueError, match="line 1: no string `text`"):
        load_eval_items(bad)
    with pytest.raises(FileNotFoundError, match="evaluation set not found"):
        load_eval_items(tmp_path / "missing.jsonl")


def test_ngrams_match_across_case_and_punctuation() -> None:
    item = "the quick brown fox jumps over the lazy dog near the river bank today"
    index = NgramIndex.build([item], n=13, min_item_words=8)
    text = "Intro. The QUICK brown fox -- jumps over the lazy dog, near the river bank! Outro."
    ranges = list(index.matches(text))
    assert ranges and text[ranges[0][0] : ranges[-1][1]].startswith("The QUICK")


def test_short_items_match_whole_and_tiny_items_are_skipped() -> None:
    index = NgramIndex.build(["what is the iupac name of ethanol here", "too short"], n=13, min_item_words=8)
    assert index.skipped_short == 1
    assert list(index.matches("Q: What is the IUPAC name of ethanol here? A: ethanol"))
    assert not list(index.matches("what is the iupac name of methanol here"))
