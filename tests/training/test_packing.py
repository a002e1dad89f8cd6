"""Packing: token files round-trip to the tokenizer's stream, splits, resume, accounting."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sciprep.corpus.document import Document
from sciprep.corpus.shards import read_rejects, write_documents
from sciprep.corpus.splits import is_validation
from sciprep.tokenize import SciTokenizer
from sciprep.tokenize.specials import EOS, SPECIAL_IDS
from sciprep.training import load_packed_meta, open_tokens, pack_corpus, read_header, read_source_weights
from sciprep.training.packing import SPLITS
from tests.training.conftest import VAL_FRACTION, Sample


def _docs_table(packed: Path, split: str) -> list[dict[str, object]]:
    return pq.read_table(packed / f"{split}.docs.parquet").to_pylist()


def test_packed_tokens_round_trip_to_each_documents_encoding(sample: Sample) -> None:
    tokenizer = SciTokenizer.load(sample.tokenizer)
    by_id = {d.id: d for d in sample.documents}
    for split in SPLITS:
        tokens = open_tokens(sample.packed / f"{split}.tokens")
        rows = _docs_table(sample.packed, split)
        assert rows, split
        for row in rows:
            start, length = row["start"], row["length"]
            assert tokens[start : start + length].tolist() == tokenizer.encode(by_id[row["id"]].text)
            assert tokens[start + length] == SPECIAL_IDS[EOS]
        # The documents tile the stream exactly: no gaps, nothing extra.
        assert sum(r["length"] + 1 for r in rows) == len(tokens)
        assert tokenizer.decode(tokens[: rows[0]["length"]].tolist()) == by_id[rows[0]["id"]].text


def test_documents_are_grouped_by_source_in_corpus_order(sample: Sample) -> None:
    rows = _docs_table(sample.packed, "train")
    sources = [r["source"] for r in rows]
    assert sources == sorted(sources)
    order = [d.id for d in sample.documents]
    arxiv_ids = [r["id"] for r in rows if r["source"] == "arxiv"]
    assert arxiv_ids == sorted(arxiv_ids, key=order.index)
    header = read_header(sample.packed / "train.tokens")
    for source, (begin, end) in header["sources"].items():
        inside = [r for r in rows if r["source"] == source]
        assert inside[0]["start"] == begin and inside[-1]["start"] + inside[-1]["length"] + 1 == end


def test_validation_and_held_out_prompts_follow_the_shared_split_rule(sample: Sample) -> None:
    val_ids = {r["id"] for r in _docs_table(sample.packed, "val")}
    train_ids = {r["id"] for r in _docs_table(sample.packed, "train")}
    prompt_ids = {r["id"] for r in _docs_table(sample.packed, "prompts")}
    for doc in sample.documents:
        if doc.kind == "prompt":
            assert (doc.id in prompt_ids) == (doc.split == "train")
        else:
            assert (doc.id in val_ids) == is_validation(doc.id, VAL_FRACTION)
            assert (doc.id in train_ids) != (doc.id in val_ids)
    meta = load_packed_meta(sample.packed)
    assert meta["documents_in"] == len(sample.documents)
    packed = sum(s["documents"] for s in meta["splits"].values())
    assert packed + meta["held_out_prompts"] + meta["rejected"] == len(sample.documents)


def test_header_and_meta_record_dtype_and_per_source_counts(sample: Sample) -> None:
    meta = load_packed_meta(sample.packed)
    assert meta["dtype"] == "uint16"
    assert meta["source_weights"] == {"arxiv": 1.0, "uniref50": 2.0}
    for split in SPLITS:
        header = read_header(sample.packed / f"{split}.tokens")
        info = meta["splits"][split]
        assert header["tokens"] == info["tokens"] == sum(s["tokens"] for s in info["sources"].values())
        assert open_tokens(sample.packed / f"{split}.tokens").dtype == np.uint16


def test_repack_after_losing_a_part_resumes_to_identical_files(sample: Sample, tmp_path: Path) -> None:
    out = tmp_path / "packed"
    shutil.copytree(sample.packed, out)
    before = {p.name: p.read_bytes() for p in out.glob("*.tokens")}
    removed = sorted((out / "parts").glob("*.npz"))[1]
    removed.unlink()
    untouched = sorted((out / "parts").glob("*.npz"))[0]
    mtime = untouched.stat().st_mtime_ns
    pack_corpus(sample.corpus, sample.tokenizer, out, val_fraction=VAL_FRACTION, progress=False)
    assert removed.exists()
    assert untouched.stat().st_mtime_ns == mtime  # finished shard was not redone
    assert {p.name: p.read_bytes() for p in out.glob("*.tokens")} == before


def test_empty_and_incomplete_records_become_rejects_with_reasons(sample: Sample, tmp_path: Path) -> None:
    docs = [
        Document(id="ok", text="A paragraph about [START_MATH]x^2[END_MATH].", source="s", kind="paper"),
        Document(id="blank", text="   ", source="s", kind="paper"),
        Document(id="noanswer", text="Q?", source="s", kind="prompt", prompt="Q?", answer=None),
    ]
    write_documents(tmp_path / "corpus" / "shards" / "s-00000.parquet", docs)
    meta = pack_corpus(tmp_path / "corpus", sample.tokenizer, tmp_path / "out", val_fraction=0.0, progress=False)
    assert meta["splits"]["train"]["documents"] == 1
    reasons = {r.position: r.reason for r in read_rejects(tmp_path / "out" / "rejects.parquet")}
    assert reasons == {"blank": "empty text", "noanswer": "prompt record without both prompt and answer"}


def test_truncated_token_file_is_refused_with_its_path(sample: Sample, tmp_path: Path) -> None:
    path = tmp_path / "train.tokens"
    path.write_bytes((sample.packed / "train.tokens").read_bytes()[:-2])
    with pytest.raises(ValueError, match="truncated"):
        open_tokens(path)


def test_bad_manifest_weight_names_the_source(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"sources": {"pubmed": {"weight": "lots"}}}))
    with pytest.raises(ValueError, match="pubmed"):
        read_source_weights(tmp_path)
    assert read_source_weights(tmp_path / "missing") == {}


def _write_corpus(root: Path, docs: list[Document]) -> Path:
    write_documents(root / "shards" / "s-00000.parquet", docs)
    return root


def _papers(prefix: str, n: int) -> list[Document]:
    return [Document(id=f"{prefix}{i}", text=f"Paper {prefix} {i} on [START_MATH]x^{i}[END_MATH].",
                     source="s", kind="paper") for i in range(n)]  # fmt: skip


def test_repack_into_the_same_out_after_the_corpus_changes_retokenises(sample: Sample, tmp_path: Path) -> None:
    first = _write_corpus(tmp_path / "a", _papers("a", 3))
    second = _write_corpus(tmp_path / "b", _papers("b", 7))  # same shard name, other documents
    pack_corpus(first, sample.tokenizer, tmp_path / "out", val_fraction=0.0, progress=False)
    meta = pack_corpus(second, sample.tokenizer, tmp_path / "out", val_fraction=0.0, progress=False)
    assert meta["documents_in"] == meta["splits"]["train"]["documents"] == 7
    ids = {r["id"] for r in _docs_table(tmp_path / "out", "train")}
    assert ids == {f"b{i}" for i in range(7)}
    # Rewriting a shard in place (new size and mtime) is noticed too.
    _write_corpus(second, _papers("c", 2))
    meta = pack_corpus(second, sample.tokenizer, tmp_path / "out", val_fraction=0.0, progress=False)
    assert {r["id"] for r in _docs_table(tmp_path / "out", "train")} == {"c0", "c1"}


def test_conservation_counts_shard_rows_and_fails_on_stale_parts(
    sample: Sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sciprep.training.packing as packing

    monkeypatch.setattr(packing, "_part_fingerprint", lambda settings, shard: "ignores-the-shard")
    pack_corpus(_write_corpus(tmp_path / "a", _papers("a", 3)), sample.tokenizer, tmp_path / "out",
                val_fraction=0.0, progress=False)  # fmt: skip
    with pytest.raises(RuntimeError, match="hold 5 documents but 3 were packed"):
        pack_corpus(_write_corpus(tmp_path / "b", _papers("b", 5)), sample.tokenizer, tmp_path / "out",
                    val_fraction=0.0, progress=False)  # fmt: skip


def test_query_prompts_start_with_the_token_that_precedes_every_packed_document(
    sample: Sample, pretrained: Path
) -> None:
    from sciprep.query.lm import LanguageModel
    from sciprep.tokenize.specials import BOS

    lm = LanguageModel.load(pretrained / "model")
    first = lm.prompt("The energy [START_MATH]", reserve=8).prompt_ids[0]
    tokens = open_tokens(sample.packed / "train.tokens")
    starts = [r["start"] for r in _docs_table(sample.packed, "train") if r["start"] > 0]
    assert starts and {int(tokens[s - 1]) for s in starts} == {first}
    assert SPECIAL_IDS[BOS] not in set(tokens.tolist())


def _dna(prefix: str, n: int, held_out: bool) -> list[Document]:
    """``n`` DNA records whose ids fall on the chosen side of the shared split rule."""
    ids = (f"{prefix}-{i}" for i in range(10_000))
    chosen = [i for i in ids if is_validation(i, VAL_FRACTION, 0) == held_out][:n]
    return [Document(id=i, text="Plasmid fragment.\n\n[START_DNA]ACGTTGCAACGT[END_DNA]", source="genbank",
                     kind="sequence") for i in chosen]  # fmt: skip


def test_pack_warns_when_a_training_modality_has_no_validation_tokens(sample: Sample, tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "a", _papers("p", 40) + _dna("dna", 3, held_out=False))
    with pytest.warns(UserWarning, match="modality 'dna' has .* training tokens but none in the validation"):
        meta = pack_corpus(corpus, sample.tokenizer, tmp_path / "out-a", val_fraction=VAL_FRACTION, progress=False)
    assert meta["splits"]["train"]["modality_tokens"]["dna"] > 0 == meta["splits"]["val"]["modality_tokens"]["dna"]
    corpus = _write_corpus(tmp_path / "b", _papers("p", 40) + _dna("dna", 3, held_out=False)
                           + _dna("dna", 1, held_out=True))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        meta = pack_corpus(corpus, sample.tokenizer, tmp_path / "out-b", val_fraction=VAL_FRACTION, progress=False)
    assert meta["splits"]["val"]["modality_tokens"]["dna"] > 0
