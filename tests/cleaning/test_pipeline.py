from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sciprep.cleaning.pipeline as pipeline_module
import sciprep.cleaning.writepass as writepass_module
from sciprep.cleaning import (
    ConservationError,
    Pipeline,
    default_pipeline,
    pipeline_from_config,
)
from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.base import Remove, Step, StepParams, register_step
from sciprep.corpus.document import DOCUMENT_SCHEMA, Document, Metadata
from sciprep.corpus.shards import Reject, iter_documents, read_rejects, write_rejects
from tests.cleaning.conftest import MakeCorpus, prose


def _paper(doc_id: str, text: str, source: str = "arxiv", **meta: Any) -> Document:
    return Document(id=doc_id, text=text, source=source, kind="paper", metadata=Metadata(**meta))


def _fixture_shards() -> list[list[Document]]:
    """Three shards exercising every outcome: kept, modified, removed, rejected."""
    return [
        [
            _paper("keep-1", prose("one", 150)),
            _paper("dup-a", prose("dup", 150)),
            _paper("short", "Too short."),
            _paper("smiles", prose("chem", 120) + " Bad [START_SMILES]C1CC(C[END_SMILES] here."),
        ],
        [
            _paper("dup-b", "  " + prose("dup", 150).upper(), source="pmc"),
            _paper("email", prose("mail", 120) + " Contact ann@lab.example.org for data."),
            _paper("keep-1", prose("repeat-id", 150)),
        ],
        [Document(id=f"cmp-{i}", text=f"# C{i}\n\n[START_SMILES]{s}[END_SMILES]", source="chem", kind="compound")
         for i, s in enumerate(["CCO", "c1ccccc1", "CC(=O)O"])],
    ]  # fmt: skip


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_document_is_kept_removed_or_rejected_with_a_reason(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    out = tmp_path / "out"
    report = default_pipeline().run(src, out, progress=False)

    totals = report["totals"]
    assert totals["in"]["documents"] == 10
    assert totals["in"]["documents"] == sum(totals[k]["documents"] for k in ("kept", "removed", "rejected"))
    kept = {d.id: d for d in iter_documents(out)}
    assert set(kept) == {"keep-1", "dup-a", "smiles", "email", "cmp-0", "cmp-1", "cmp-2"}
    assert "[START_SMILES]" not in kept["smiles"].text and "C1CC(C" in kept["smiles"].text
    assert "<EMAIL>" in kept["email"].text

    excluded = [row for f in sorted((out / "excluded").glob("*.parquet")) for row in pq.read_table(f).to_pylist()]
    by_id = {row["id"]: row for row in excluded}
    assert set(by_id) == {"short", "dup-b"}
    assert by_id["short"]["step"] == "length" and by_id["short"]["score"] == 10.0
    assert by_id["dup-b"]["step"] == "exact_dedup" and "kept dup-a" in by_id["dup-b"]["reason"]

    rejects = read_rejects(out / "rejects.parquet")
    assert [(r.step, r.file, r.position) for r in rejects] == [("read", "part-00001.parquet", "row 2 (id keep-1)")]
    assert "repeats the one at part-00000 row 0" in rejects[0].reason

    steps = {s["label"]: s for s in report["steps"]}
    assert steps["markup"]["modified"] == 1 and steps["pii"]["modified"] == 1
    assert steps["exact_dedup"]["removed_by_source"] == {"pmc": 1}
    assert steps["near_dedup"]["entered"] == 4  # dup-b left at exact_dedup; compounds skip near dedup
    assert json.loads((out / "report.json").read_text()) == report


def test_unreadable_rows_become_rejects_naming_file_and_row(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus([[_paper("ok", prose("ok", 150))]])
    rows = [_paper("fine", prose("fine", 150)).to_row(), {**_paper("x", "").to_row(), "text": None}]
    pq.write_table(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), src / "shards" / "part-00001.parquet")
    report = pipeline_from_config({"steps": ["normalise"]}).run(src, tmp_path / "out", progress=False)
    assert report["totals"]["rejected"]["documents"] == 1 and report["read"]["rejected"] == 1
    (reject,) = read_rejects(tmp_path / "out" / "rejects.parquet")
    assert reject.file == "part-00001.parquet" and "row 1" in reject.reason and "'text'" in reject.reason


def test_markup_reject_mode_sends_documents_to_rejects(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    pipe = pipeline_from_config({"steps": [{"step": "markup", "params": {"mode": "reject"}}]})
    report = pipe.run(src, tmp_path / "out", progress=False)
    reasons = {r.position: r.step for r in read_rejects(tmp_path / "out" / "rejects.parquet")}
    assert reasons["row 3 (id smiles)"] == "markup"
    assert report["steps"][0]["rejected"] == 1


def test_output_is_byte_identical_across_runs(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    default_pipeline().run(src, tmp_path / "a", progress=False)
    default_pipeline().run(src, tmp_path / "b", progress=False)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


@pytest.mark.parametrize("phase", ["tag_shard", "write_shard"])
def test_resume_after_a_crash_is_byte_identical(
    phase: str, make_corpus: MakeCorpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_corpus(_fixture_shards())
    default_pipeline().run(src, tmp_path / "clean", progress=False)

    real = getattr(pipeline_module, phase)
    calls: list[str] = []

    def crash_on_second_shard(*args: Any, **kwargs: Any) -> Any:
        calls.append("x")
        if len(calls) == 2:
            raise KeyboardInterrupt("injected crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, phase, crash_on_second_shard)
    with pytest.raises(KeyboardInterrupt):
        default_pipeline().run(src, tmp_path / "crashed", progress=False)
    assert not (tmp_path / "crashed" / "report.json").exists()

    redone: list[str] = []

    def count(*args: Any, **kwargs: Any) -> Any:
        redone.append("x")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, phase, count)
    default_pipeline().run(src, tmp_path / "crashed", progress=False)
    assert len(redone) == 2  # the first shard was finished and is not redone
    assert _tree(tmp_path / "crashed") == _tree(tmp_path / "clean")


def test_new_thresholds_need_redecide_and_reuse_stored_attributes(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    out = tmp_path / "out"
    lines: list[str] = []
    default_pipeline().run(src, out, progress=False)

    steps = [{"step": n} for n in ("normalise", "markup", "length", "quality", "pii", "decontaminate", "exact_dedup")]
    steps[2]["params"] = {"min_chars_by_kind": {}, "min_chars": 5}
    relaxed = pipeline_from_config({"steps": steps})
    with pytest.raises(ValueError, match="--redecide"):
        relaxed.run(src, out, progress=False)
    report = relaxed.run(src, out, progress=False, redecide=True, log=lines.append)

    excluded = pq.read_table(out / "excluded" / "part-00000.parquet").to_pylist()
    assert [(r["id"], r["step"]) for r in excluded] == [("short", "quality")]
    assert report["steps"][2]["removed"] == 0 and report["steps"][3]["removed"] == 1
    # Every stored attribute is reused except the quality statistics of the document
    # that now passes the length step and reaches the quality step for the first time.
    assert "length 10 reused / 0 computed" in lines[0]
    assert "quality 9 reused / 1 computed" in lines[0]


def test_redecide_without_an_earlier_run_is_an_error(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    with pytest.raises(ValueError, match="no earlier cleaning run"):
        default_pipeline().run(src, tmp_path / "out", redecide=True, progress=False)


def test_output_directory_must_not_be_the_input_or_foreign(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    with pytest.raises(ValueError, match="must not be the input"):
        default_pipeline().run(src, src, progress=False)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a cleaning output directory"):
        default_pipeline().run(src, foreign, progress=False)


@register_step("test_alive_probe")
class _AliveProbe(Step):
    """Corpus step that records which documents it was shown and removes one."""

    Params = StepParams
    scope = "corpus"
    attributes = pa.schema([("chars", pa.int64())])
    seen: list[str] = []

    def tag(self, doc: Document) -> dict[str, Any]:
        return {"chars": len(doc.text)}

    def decide_corpus(self, table: pa.Table) -> dict[str, Remove]:
        type(self).seen = table.column("id").to_pylist()
        return {"email": Remove("probe", 0.5)}


def test_corpus_step_sees_only_documents_alive_at_its_position(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    pipe = Pipeline(
        [build_step("length"), build_step("test_alive_probe", exclude_kinds=["compound"]), build_step("exact_dedup")]
    )
    report = pipe.run(src, tmp_path / "out", progress=False)
    assert _AliveProbe.seen == ["keep-1", "dup-a", "smiles", "dup-b", "email"]  # no short, no repeated id, no compounds
    assert [s["removed"] for s in report["steps"]] == [1, 1, 1]


def test_conservation_is_checked_by_the_pipeline(
    make_corpus: MakeCorpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_corpus(_fixture_shards())
    real = pipeline_module.write_shard

    def losing(*args: Any, **kwargs: Any) -> Any:
        stats, rejects = real(*args, **kwargs)
        stats["kept"]["documents"] -= 1
        return stats, rejects

    monkeypatch.setattr(pipeline_module, "write_shard", losing)
    with pytest.raises(ConservationError, match="documents in but kept"):
        pipeline_from_config({"steps": ["normalise"]}).run(src, tmp_path / "out", progress=False)


def test_a_row_lost_between_the_passes_is_a_conservation_error(
    make_corpus: MakeCorpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_corpus(_fixture_shards())
    real = pipeline_module.tag_shard

    def dropping(shard: Path, out_dir: Path, steps: Any) -> Any:
        marker = real(shard, out_dir, steps)
        staged = out_dir / "work" / "tagged" / f"{shard.stem}.parquet"
        table = pq.read_table(staged)
        pq.write_table(table.slice(0, table.num_rows - 1), staged)
        return marker

    monkeypatch.setattr(pipeline_module, "tag_shard", dropping)
    with pytest.raises(ConservationError, match="part-00000.parquet: the input shard has 4 rows but staged"):
        pipeline_from_config({"steps": ["normalise"]}).run(src, tmp_path / "out", progress=False)


def test_a_row_the_writer_drops_is_a_conservation_error(
    make_corpus: MakeCorpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_corpus(_fixture_shards())
    real = writepass_module.write_documents

    def losing(path: Path, docs: list[Document]) -> Any:
        return real(path, docs[1:])

    monkeypatch.setattr(writepass_module, "write_documents", losing)
    with pytest.raises(ConservationError, match="rows written to shards/ \\+ excluded/ \\+ rejects = 3"):
        pipeline_from_config({"steps": ["normalise"]}).run(src, tmp_path / "out", progress=False)


def test_attributes_survive_a_redecide_in_which_an_earlier_step_stops_everything(
    make_corpus: MakeCorpus, tmp_path: Path
) -> None:
    src = make_corpus(_fixture_shards())
    out = tmp_path / "out"
    lines: list[str] = []

    def run(min_chars: int) -> dict[str, Any]:
        length = {"step": "length", "params": {"min_chars": min_chars, "min_chars_by_kind": {}}}
        pipe = pipeline_from_config({"steps": [length, "exact_dedup"]})
        return pipe.run(src, out, progress=False, redecide=out.exists(), log=lines.append)

    first = run(5)
    assert run(10**6)["steps"][1]["entered"] == 0
    again = run(5)
    assert "exact_dedup 0 reused / 0 computed" in lines[1]
    assert "exact_dedup 10 reused / 0 computed" in lines[2]
    assert again["totals"] == first["totals"]


def test_kept_copy_gains_the_identifiers_of_the_copies_exact_dedup_removed(
    make_corpus: MakeCorpus, tmp_path: Path
) -> None:
    paper = _paper("paper", prose("full text", 1500), doi="10.1000/abc")
    abstract = Document(id="abs1", text=prose("abstract", 80), source="pubmed", kind="abstract",
                        metadata=Metadata(doi="10.1000/ABC", pmid="123"))  # fmt: skip
    src = make_corpus([[abstract], [paper]])
    default_pipeline().run(src, tmp_path / "out", progress=False)
    (kept,) = iter_documents(tmp_path / "out")
    assert (kept.id, kept.metadata.doi, kept.metadata.pmid) == ("paper", "10.1000/abc", "123")
    (removed,) = pq.read_table(tmp_path / "out" / "excluded" / "part-00000.parquet").to_pylist()
    assert removed["id"] == "abs1" and "kept paper" in removed["reason"]


def test_manifest_carries_source_weights_and_cleaned_counts(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    manifest = {
        "format": "sciprep-corpus/1",
        "sources": {
            "arxiv": {"documents": 6, "rejected": 2, "weight": 2.0, "reader": "latex", "files": {"a.tex": {}}},
            "gone": {"documents": 1, "rejected": 0, "weight": 0.5},
        },
    }
    (src / "manifest.json").write_text(json.dumps(manifest))
    default_pipeline().run(src, tmp_path / "out", progress=False)
    out = json.loads((tmp_path / "out" / "manifest.json").read_text())
    arxiv = out["sources"]["arxiv"]
    assert (arxiv["weight"], arxiv["reader"], arxiv["documents"], arxiv["kinds"]) == (2.0, "latex", 4, {"paper": 4})
    assert (
        arxiv["rejected"] == 3 and arxiv["cleaning"] == {"in": 6, "removed": 1, "rejected": 1} and "files" not in arxiv
    )
    assert arxiv["shards"] == ["shards/part-00000.parquet", "shards/part-00001.parquet"]
    assert arxiv["characters"]["text"] > 0 and out["sources"]["chem"]["characters"]["smiles"] == len(
        "CCOc1ccccc1CC(=O)O"
    )
    assert out["sources"]["gone"]["documents"] == 0 and out["sources"]["gone"]["weight"] == 0.5
    assert out["format"] == "sciprep-corpus/1" and out["totals"]["documents"] == 7


def test_rejects_of_the_input_corpus_travel_to_the_output(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    upstream = Reject("arxiv", "broken.tar.gz", "archive", "corrupt or truncated archive")
    write_rejects(src / "rejects.parquet", [upstream])
    default_pipeline().run(src, tmp_path / "out", progress=False)
    carried = read_rejects(tmp_path / "out" / "rejects.parquet")
    assert carried[0] == upstream and len(carried) >= 1


def test_a_failing_step_names_itself_and_the_document(make_corpus: MakeCorpus, tmp_path: Path) -> None:
    src = make_corpus(_fixture_shards())
    step = build_step("length")

    def broken(doc: Document) -> dict[str, Any]:
        raise ZeroDivisionError("bug")

    step.tag = broken  # type: ignore[method-assign]
    with pytest.raises(ZeroDivisionError) as info:
        Pipeline([step]).run(src, tmp_path / "out", progress=False)
    assert "cleaning step 'length' handled document 'keep-1'" in "".join(info.value.__notes__)


_DOCS = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", ""]), st.integers(0, 3), st.sampled_from(["paper", "compound"])),
    min_size=1,
    max_size=12,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=_DOCS, split=st.integers(1, 3))
def test_counts_conserve_for_any_corpus(
    docs: list[tuple[str, int, str]], split: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("prop")
    corpus = [Document(id=f"d{i % 9}", text=(prose(t, 40) if t else "") + " x" * n, source=t or "none", kind=k)
              for i, (t, n, k) in enumerate(docs)]  # fmt: skip
    shards = [corpus[i::split] for i in range(split)]
    from sciprep.corpus.shards import write_documents

    for i, shard in enumerate(shards):
        write_documents(root / "in" / "shards" / f"s-{i}.parquet", shard)
    pipe = pipeline_from_config({"steps": ["normalise", "length", "exact_dedup"]})
    report = pipe.run(root / "in", root / "out", progress=False)
    t = report["totals"]
    assert t["in"]["documents"] == len(corpus)
    assert t["in"]["documents"] == t["kept"]["documents"] + t["removed"]["documents"] + t["rejected"]["documents"]
    assert t["kept"]["documents"] == sum(1 for _ in iter_documents(root / "out"))
