"""Generic JSONL / Parquet / text readers: text fields, metadata, markup, broken rows."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sciprep.corpus.document import Document
from sciprep.corpus.readers.generic import read_jsonl, read_parquet, read_text
from sciprep.corpus.shards import Reject
from sciprep.tokenize import wrap


def test_jsonl_rows_become_documents_and_bad_rows_rejects_with_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [
        json.dumps(
            {
                "id": "doc-1",
                "text": "Energy is $E = mc^2$.",
                "title": "Relativity",
                "year": 1905,
                "authors": ["Einstein, A."],
                "doi": "10.1/x",
            }
        ),
        "{not json",
        json.dumps({"body": "no text field"}),
        json.dumps({"text": 42}),
        json.dumps({"text": "   "}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"text": "Second good row."}),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = list(read_jsonl(path, "web"))
    assert [type(x).__name__ for x in out] == [
        "Document",
        "Reject",
        "Reject",
        "Reject",
        "Reject",
        "Reject",
        "Document",
    ]
    first = out[0]
    assert first.id == "doc-1" and first.metadata.title == "Relativity" and first.metadata.year == 1905
    assert first.metadata.authors == ["Einstein, A."] and first.metadata.doi == "10.1/x"
    assert first.text == wrap("Energy is $E = mc^2$.") and "[START_MATH]" in first.text
    assert [r.position for r in out[1:6]] == ["line 2", "line 3", "line 4", "line 5", "line 6"]
    assert "invalid JSON" in out[1].reason and "'text'" in out[2].reason and "body" in out[2].reason
    assert out[6].id and out[6].id != first.id


def test_markup_can_be_switched_off_and_text_field_chosen(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"content": "Energy is $E = mc^2$."}) + "\n", encoding="utf-8")
    (doc,) = read_jsonl(path, "s", text_field="content", markup=False)
    assert doc.text == "Energy is $E = mc^2$."


def test_parquet_rows_are_read_from_the_named_column(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"body": ["first text", None, "third"], "title": ["A", "B", "C"]}), path)
    out = list(read_parquet(path, "s", text_field="body", markup=False))
    assert [type(x).__name__ for x in out] == ["Document", "Reject", "Document"]
    assert out[0].metadata.title == "A" and out[1].position == "row 2"


def test_corrupt_parquet_is_a_reject(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    (rej,) = read_parquet(path, "s")
    assert isinstance(rej, Reject) and "Parquet" in rej.reason


def test_text_file_is_one_document_titled_by_its_heading(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Lecture 3\n\nThe integral $\\int_0^1 x\\,dx$ is one half.\n", encoding="utf-8")
    (doc,) = read_text(path, "notes")
    assert isinstance(doc, Document) and doc.metadata.title == "Lecture 3" and "[START_MATH]" in doc.text


def test_empty_or_undecodable_text_file_is_rejected(tmp_path: Path) -> None:
    empty, binary = tmp_path / "e.txt", tmp_path / "b.txt"
    empty.write_text("\n\n", encoding="utf-8")
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert "empty" in next(iter(read_text(empty, "s"))).reason
    assert "UTF-8" in next(iter(read_text(binary, "s"))).reason


def test_sciprep_shard_rows_pass_through_and_unusable_ones_are_rejects(tmp_path: Path) -> None:
    from sciprep.corpus.document import DOCUMENT_SCHEMA, Metadata, Reference

    good = Document(
        id="p1", text="Q? A", source="freesolv", kind="prompt", prompt="Q?", answer=" A", split="test",
        metadata=Metadata(title="t", extra={"task": "qa"}),
        references=[Reference(key="r1", title="A paper", authors=["Doe, J."])],
    )  # fmt: skip
    rows = [good.to_row(), {**good.to_row(), "id": "p2", "answer": None}, {**good.to_row(), "text": ""}]
    path = tmp_path / "shard.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), path)
    first, no_answer, empty = read_parquet(path, "mixed", markup=True)
    moved = Metadata(title="t", extra={"task": "qa", "original_source": "freesolv"})
    assert first == Document(**{**good.__dict__, "source": "mixed", "metadata": moved})
    assert isinstance(no_answer, Reject) and no_answer.position == "row 2" and "'p2'" in no_answer.reason
    assert isinstance(empty, Reject) and "'text'" in empty.reason
