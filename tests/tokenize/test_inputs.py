from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sciprep.tokenize.inputs import iter_texts


def test_jsonl_parquet_text_and_corpus_dirs_are_read_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"text": "one"}\n\n{"text": "two"}\n', encoding="utf-8")
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "three"}) + "\n")
    pq.write_table(pa.table({"text": ["four", ""], "id": [1, 2]}), tmp_path / "c.parquet")
    (tmp_path / "d.txt").write_text("five\nlines", encoding="utf-8")
    corpus = tmp_path / "corpus" / "shards"
    corpus.mkdir(parents=True)
    pq.write_table(pa.table({"text": ["six"]}), corpus / "x-00000.parquet")
    paths = [tmp_path / n for n in ("a.jsonl", "b.jsonl.gz", "c.parquet", "d.txt", "corpus")]
    assert list(iter_texts(paths)) == ["one", "two", "three", "four", "five\nlines", "six"]


def test_malformed_json_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: not valid JSON"):
        list(iter_texts([path]))


def test_missing_field_and_column_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"body": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"a\.jsonl:1: record has no 'text' field"):
        list(iter_texts([tmp_path / "a.jsonl"]))
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "b.parquet")
    with pytest.raises(ValueError, match=r"b\.parquet: no 'text' column"):
        list(iter_texts([tmp_path / "b.parquet"]))


def test_other_field_can_be_chosen(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"body": "x"}\n', encoding="utf-8")
    assert list(iter_texts([tmp_path / "a.jsonl"], text_field="body")) == ["x"]


def test_missing_file_and_non_corpus_directory_are_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        list(iter_texts([tmp_path / "nope.jsonl"]))
    with pytest.raises(ValueError, match="not a sciprep corpus"):
        list(iter_texts([tmp_path]))


def test_binary_text_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        list(iter_texts([tmp_path / "x.bin"]))


def test_gzipped_plain_text_is_decompressed(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt.gz"
    path.write_bytes(gzip.compress("E = mc^2 in prose.".encode()))
    assert list(iter_texts([path])) == ["E = mc^2 in prose."]


def test_truncated_gzip_jsonl_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "a"}\n' * 1000)[:40])
    with pytest.raises(ValueError, match="docs.jsonl.gz"):
        list(iter_texts([path]))


def test_unpaired_unicode_escape_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "sur.jsonl"
    path.write_text('{"text": "ok"}\n{"text": "ab\\ud800c"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"sur\.jsonl:2: field 'text' holds a lone surrogate at character 2"):
        list(iter_texts([path]))
