from __future__ import annotations

from pathlib import Path

import pytest
from datasets import load_dataset
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.corpus.document import Document, Metadata, Reference
from sciprep.corpus.shards import ShardWriter, iter_documents, list_shards, read_documents, write_documents

_TEXT = st.text(min_size=0, max_size=40)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    return Document(
        id=draw(st.text(min_size=1, max_size=8)),
        text=draw(_TEXT),
        source=draw(st.sampled_from(["arxiv", "chem"])),
        kind=draw(st.sampled_from(["paper", "compound", "prompt"])),
        metadata=Metadata(
            title=draw(_TEXT),
            authors=draw(st.lists(_TEXT, max_size=3)),
            year=draw(st.none() | st.integers(1600, 2100)),
            doi=draw(st.none() | _TEXT),
            extra=draw(st.dictionaries(_TEXT, _TEXT, max_size=3)),
        ),
        references=draw(st.lists(st.builds(Reference, key=_TEXT, title=_TEXT, authors=st.lists(_TEXT, max_size=2)), max_size=2)),
        prompt=draw(st.none() | _TEXT),
        answer=draw(st.none() | _TEXT),
        split=draw(st.none() | st.sampled_from(["train", "test"])),
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(documents(), max_size=5))
def test_documents_round_trip_through_parquet(tmp_path_factory: pytest.TempPathFactory, docs: list[Document]) -> None:
    path = tmp_path_factory.mktemp("shard") / "s.parquet"
    assert write_documents(path, docs) == len(docs)
    assert list(read_documents(path)) == docs


def test_shard_writer_bounds_shards_and_keeps_order(tmp_path: Path) -> None:
    docs = [Document(id=str(i), text="x" * 10, source="s", kind="paper") for i in range(7)]
    writer = ShardWriter(tmp_path, "s", max_docs=3)
    for doc in docs:
        writer.add(doc)
    paths = writer.close()
    assert [p.name for p in paths] == ["s-00000.parquet", "s-00001.parquet", "s-00002.parquet"]
    assert list_shards(tmp_path) == paths
    assert [d.id for d in iter_documents(tmp_path)] == [d.id for d in docs]


def test_shards_open_with_datasets(tmp_path: Path) -> None:
    docs = [
        Document(id="a", text="t", source="s", kind="paper", metadata=Metadata(extra={"k": "v"})),
        Document(id="b", text="u", source="s", kind="prompt", prompt="q", answer="a", split="test"),
    ]
    write_documents(tmp_path / "shards" / "s-00000.parquet", docs)
    ds = load_dataset("parquet", data_files=str(tmp_path / "shards" / "*.parquet"), split="train")
    assert ds["id"] == ["a", "b"] and ds[0]["metadata"]["extra"] == [{"key": "k", "value": "v"}]


def test_a_directory_without_shards_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a sciprep corpus directory"):
        list_shards(tmp_path)
