"""The Ray decision phase decides exactly as the local one, on real papers with planted copies."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sciprep.cleaning import pipeline
from sciprep.cleaning.corpus_decisions import CorpusOutcome, resolve_corpus_decisions
from sciprep.cleaning.distributed import resolve_corpus_decisions_ray
from sciprep.cleaning.pipeline import Pipeline
from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.base import Remove, Step, StepParams, register_step
from sciprep.corpus.document import Document, Metadata
from sciprep.corpus.shards import list_shards, write_documents
from tests.cleaning.real_documents import unarxive_papers


def _edit(text: str, rate: float, seed: int) -> str:
    """``rate`` of the words replaced by other words of the same text (a revision)."""
    rng = random.Random(seed)
    words = text.split(" ")
    for _ in range(round(rate * len(words))):
        words[rng.randrange(len(words))] = rng.choice(words)
    return " ".join(words)


def _shift_numbers(text: str) -> str:
    return re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), text)


def _copy(doc: Document, doc_id: str, text: str | None = None, **meta: Any) -> Document:
    return Document(id=doc_id, text=doc.text if text is None else text, source=doc.source, kind=doc.kind,
                    metadata=Metadata(**meta))  # fmt: skip


def _write(root: Path, shards: list[list[Document]]) -> Path:
    for n, docs in enumerate(shards):
        write_documents(root / "shards" / f"part-{n:05d}.parquet", docs)
    return root


def _run(in_dir: Path, out_dir: Path, steps: list[Step]) -> list[str]:
    Pipeline(steps).run(in_dir, out_dir, progress=False)
    return [p.stem for p in list_shards(in_dir)]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _store_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file()}


def _both(out_dir: Path, stems: list[str], steps: list[Step], store: Path | None) -> tuple[CorpusOutcome, ...]:
    """Ray then local on the same tagged run; with ``store``, each one's store files too."""
    ray_outcome = resolve_corpus_decisions_ray(out_dir, stems, steps)
    ray_store = _store_bytes(store) if store else {}
    if store:
        shutil.rmtree(store)
    local = resolve_corpus_decisions(out_dir, stems, steps)
    local_store = _store_bytes(store) if store else {}
    return ray_outcome, local, ray_store, local_store


@pytest.fixture(scope="module")
def papers(shared_data: Path) -> list[Document]:
    return unarxive_papers(shared_data)


def _steps(**near: Any) -> list[Step]:
    return [build_step("length", {"min_chars": 200}), build_step("exact_dedup"), build_step("near_dedup", near)]


def _planted(p: list[Document]) -> list[list[Document]]:
    """Real papers in three shards (the three longest left out, for time), with copies planted across them."""
    return [
        p[0:10],
        [*p[11:20], _copy(p[0], "exact-copy"), _copy(p[3], "revised-10", _edit(p[3].text, 0.10, 1)),
         _copy(p[5], "numbers-changed", _shift_numbers(p[5].text)), _copy(p[7], "revised-5", _edit(p[7].text, 0.05, 2)),
         _copy(p[1], "spaced-copy", p[1].text.replace(" ", "  "))],
        [*p[21:26], _copy(p[3], "revised-twice", _edit(_edit(p[3].text, 0.10, 1), 0.08, 3)),
         _copy(p[8], "abstract-of-8", p[8].text[:1500], arxiv_id=p[8].metadata.arxiv_id, pmid="31415926"),
         Document(id=p[2].id, text=p[31].text, source="arxiv", kind="paper"),
         Document(id="too-short", text="A short note.", source="arxiv", kind="paper")],
    ]  # fmt: skip


@pytest.fixture(scope="module")
def planted(papers: list[Document], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("planted") / "in", _planted(papers))


def test_ray_decisions_equal_the_local_ones_on_real_papers_with_planted_copies(
    ray_local: Any, papers: list[Document], planted: Path, tmp_path: Path
) -> None:
    p = papers
    out_dir = tmp_path / "out"
    steps = _steps()
    stems = _run(planted, out_dir, steps)

    ray_outcome, local, ray_store, local_store = _both(out_dir, stems, steps, out_dir / "signatures" / "near_dedup")

    assert ray_outcome.decided == local.decided
    assert ray_outcome.metadata == local.metadata
    assert ray_store == local_store and set(ray_store) >= {"signatures.npy", "ids.parquet", "minhash.json"}
    # What was planted is what was found (so equality is not two empty results).
    reasons = sorted(d.decision.reason for d in local.decided.values())
    assert any(f"repeats the one at {stems[0]} row 2" in r for r in reasons)
    assert sum("duplicate by content" in r for r in reasons) == 2
    assert sum("duplicate by identifier arxiv" in r for r in reasons) == 1
    assert sum(r.startswith(f"near duplicate of {p[3].id}") for r in reasons) == 2
    assert sum(r.startswith(f"near duplicate of {p[7].id}") for r in reasons) == 1
    assert not any(r.startswith(f"near duplicate of {p[5].id}") for r in reasons)
    assert {"pmid": "31415926"} in local.metadata.values()


def test_a_whole_cleaning_run_with_ray_decisions_is_byte_identical_to_the_local_run(
    ray_local: Any, planted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(planted, tmp_path / "local", _steps())
    monkeypatch.setattr(pipeline, "resolve_corpus_decisions", resolve_corpus_decisions_ray)
    _run(planted, tmp_path / "ray", _steps())

    local, ray_tree = _tree(tmp_path / "local"), _tree(tmp_path / "ray")
    assert local == ray_tree
    assert "report.json" in local and any(name.startswith("excluded/") for name in local)


def test_ray_decisions_against_a_reference_store_equal_the_local_ones(
    ray_local: Any, papers: list[Document], tmp_path: Path
) -> None:
    p = papers
    earlier = _write(tmp_path / "earlier", [p[0:8], p[8:14]])
    _run(earlier, tmp_path / "earlier-clean", [build_step("near_dedup")])
    store = tmp_path / "earlier-clean" / "signatures" / "near_dedup"
    shards = [
        [*p[14:20], _copy(p[2], "old-revised", _edit(p[2].text, 0.10, 4))],
        [*p[20:24], _copy(p[10], "old-revised-2", _edit(p[10].text, 0.05, 5)),
         _copy(p[15], "new-revised", _edit(p[15].text, 0.10, 6)),
         _copy(p[4], "old-numbers", _shift_numbers(p[4].text))],
    ]  # fmt: skip
    in_dir = _write(tmp_path / "in", shards)
    out_dir = tmp_path / "out"
    steps = [build_step("near_dedup", {"reference": str(store)})]
    stems = _run(in_dir, out_dir, steps)
    # What a driver killed while writing the store leaves behind is cleared by the next write.
    kept_store = out_dir / "signatures" / "near_dedup"
    (kept_store / ".signatures.npy.k1ll3d.tmp").write_bytes(b"\0" * 4096)
    (kept_store / ".parts").mkdir()
    (kept_store / ".parts" / "000000000.sizes.npy").write_bytes(b"stale")

    ray_outcome, local, ray_store, local_store = _both(out_dir, stems, steps, kept_store)

    assert ray_outcome.decided == local.decided and ray_outcome.metadata == local.metadata
    assert ray_store == local_store, "the same files, leftovers gone"
    reasons = sorted(d.decision.reason for d in local.decided.values())
    assert sum("the reference corpus's" in r for r in reasons) == 2
    assert sum(r.startswith(f"near duplicate of {p[15].id}") for r in reasons) == 1
    assert len(reasons) == 3


@register_step("test_ray_longest_half")
class _LongestHalf(Step):
    """A corpus step with no Ray form: removes the longer half, tags the shortest kept one."""

    Params = StepParams
    scope = "corpus"
    attributes = pa.schema([("chars", pa.int64())])

    def tag(self, doc: Document) -> dict[str, Any]:
        return {"chars": len(doc.text)}

    def decide_corpus(self, table: pa.Table) -> dict[str, Remove]:
        ranked = sorted(zip(table.column("chars").to_pylist(), table.column("id").to_pylist()))
        return {doc_id: Remove("longer half", float(chars)) for chars, doc_id in ranked[len(ranked) // 2 :]}

    def metadata_updates(self, table: pa.Table) -> dict[str, dict[str, str]]:
        return {min(zip(table.column("chars").to_pylist(), table.column("id").to_pylist()))[1]: {"licence": "shortest"}}


def test_a_corpus_step_without_a_ray_form_is_decided_on_the_driver_as_locally(
    ray_local: Any, planted: Path, tmp_path: Path
) -> None:
    steps = [*_steps()[:2], build_step("test_ray_longest_half", exclude_kinds=["abstract"]), _steps()[2]]
    stems = _run(planted, tmp_path / "out", steps)

    ray_outcome, local, _, _ = _both(tmp_path / "out", stems, steps, None)

    assert ray_outcome.decided == local.decided and ray_outcome.metadata == local.metadata
    assert {d.step_index for d in local.decided.values()} >= {-1, 1, 2}
    assert {"licence": "shortest"} in local.metadata.values()


def test_missing_attributes_and_a_foreign_reference_store_fail_as_locally(
    ray_local: Any, papers: list[Document], tmp_path: Path
) -> None:
    in_dir = _write(tmp_path / "in", [papers[11:13], papers[13:15]])
    steps = [build_step("near_dedup")]
    stems = _run(in_dir, tmp_path / "out", steps)
    (tmp_path / "out" / "attributes" / "near_dedup" / f"{stems[1]}.parquet").unlink()
    with pytest.raises(RuntimeError) as local_error:
        resolve_corpus_decisions(tmp_path / "out", stems, steps)
    with pytest.raises(RuntimeError) as ray_error:
        resolve_corpus_decisions_ray(tmp_path / "out", stems, steps)
    assert str(ray_error.value) == str(local_error.value) and "cover 2 of 4 documents" in str(local_error.value)

    store = tmp_path / "out" / "signatures" / "near_dedup"
    stems = _run(in_dir, tmp_path / "other", [build_step("near_dedup", {"ngram": 4})])
    other = [build_step("near_dedup", {"ngram": 4, "reference": str(store)})]  # a decide parameter: same tags
    with pytest.raises(ValueError) as local_error:
        resolve_corpus_decisions(tmp_path / "other", stems, other)
    with pytest.raises(ValueError) as ray_error:
        resolve_corpus_decisions_ray(tmp_path / "other", stems, other)
    assert str(ray_error.value) == str(local_error.value) and "other MinHash settings" in str(local_error.value)

    # An input error met inside a Ray task is raised as the task raised it, as locally.
    attributes = tmp_path / "other" / "attributes" / "near_dedup" / f"{stems[0]}.parquet"
    table = pq.read_table(attributes)
    cut = pa.array([row[:100] for row in table.column("signature").to_pylist()], table.schema.field("signature").type)
    pq.write_table(table.set_column(table.schema.get_field_index("signature"), "signature", cut), attributes)
    ngram4 = [build_step("near_dedup", {"ngram": 4})]
    with pytest.raises(ValueError, match="expected num_perm = 128") as local_error:
        resolve_corpus_decisions(tmp_path / "other", stems, ngram4)
    with pytest.raises(ValueError, match="expected num_perm = 128") as ray_error:
        resolve_corpus_decisions_ray(tmp_path / "other", stems, ngram4)
    assert not isinstance(ray_error.value, ray_local.exceptions.RayError)


def test_without_an_initialised_ray_the_call_says_to_initialise_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ray = pytest.importorskip("ray", reason="the optional `ray` extra is not installed")
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with pytest.raises(RuntimeError, match=r"call ray\.init\(\)"):
        resolve_corpus_decisions_ray(tmp_path, ["part-00000"], [build_step("near_dedup")])
