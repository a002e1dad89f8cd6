"""Cleaning on every executor: same kept ids, exclusions, report and bytes; resume on Ray."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from sciprep.cleaning import Pipeline, default_pipeline, pipeline_from_config
from sciprep.cleaning.corpus_decisions import resolve_corpus_decisions
from sciprep.cleaning.steps.base import Step, StepParams
from sciprep.cli import main
from sciprep.corpus.build import build_corpus
from sciprep.corpus.document import Document
from sciprep.corpus.recipe import load_recipe

# Real records of several kinds, with copies (a mirror source re-reads some inputs) so
# that exact dedup removes documents and repeated ids are rejected; 64-document shards.
RECIPE = """
sources:
  - {{name: unarxive, path: {d}/arxiv/unarxive_sample.jsonl, reader: unarxive}}
  - {{name: pmc, path: {d}/jats/*.nxml, reader: jats}}
  - {{name: pubmed, path: {d}/pubmed}}
  - name: proteins
    path: ["{d}/bio/multi_ex.fasta", "{d}/bio/uniref50_sample.fasta", "{d}/bio/*.faa"]
  - {{name: genomes, path: ["{d}/bio/*.fna", "{d}/bio/*.gb"]}}
  - {{name: compounds, path: {d}/chem/freesolv.csv, reader: smiles}}
  - name: mirror
    path: ["{d}/pubmed", "{d}/bio/uniref50_sample.fasta", "{d}/jats/*.nxml"]
shard_max_docs: 64
"""


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _outputs(root: Path) -> dict[str, bytes]:
    """What a user reads: kept and excluded shards, rejects, report, manifest."""
    return {name: data for name, data in _tree(root).items() if not name.startswith(("work/", "attributes/"))}


@pytest.fixture(scope="module")
def corpus(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    recipe = folder / "recipe.yaml"
    recipe.write_text(RECIPE.format(d=shared_data.as_posix()), encoding="utf-8")
    build_corpus(load_recipe(recipe), folder / "corpus", progress=False)
    return folder / "corpus"


@pytest.fixture(scope="module")
def in_process(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("clean") / "out"
    return out, default_pipeline().run(corpus, out, progress=False)


def test_the_sample_exercises_removals_and_rejects(in_process: tuple[Path, dict[str, Any]]) -> None:
    _, report = in_process
    assert report["totals"]["removed"]["documents"] > 0 and report["totals"]["rejected"]["documents"] > 0
    assert len(list((in_process[0] / "shards").glob("*.parquet"))) > 4


def test_ray_keeps_and_excludes_the_same_documents_with_the_same_report(
    ray_local: Any, corpus: Path, in_process: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    from sciprep.execution import RayExecutor

    report = default_pipeline().run(corpus, tmp_path / "ray", progress=False, executor=RayExecutor())
    assert report == in_process[1]
    assert _outputs(tmp_path / "ray") == _outputs(in_process[0])


@pytest.fixture
def resolver_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Ray runs decide corpus-wide with the in-process resolver, recording each call.

    For tests about the per-shard tasks on Ray; the distributed resolver's own output is
    checked by :func:`test_ray_keeps_and_excludes_the_same_documents_with_the_same_report`.
    """
    calls: list[list[str]] = []

    def recording(out_dir: Path, stems: list[str], steps: list[Step], *, progress: bool = False) -> Any:
        calls.append(list(stems))
        return resolve_corpus_decisions(out_dir, stems, steps)

    fake = types.ModuleType("sciprep.cleaning.distributed")
    fake.resolve_corpus_decisions_ray = recording  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sciprep.cleaning.distributed", fake)
    return calls


def test_ray_runs_make_corpus_decisions_with_the_distributed_resolver(
    ray_local: Any, corpus: Path, tmp_path: Path, resolver_calls: list[list[str]]
) -> None:
    from sciprep.execution import RayExecutor

    config = {"steps": ["length", "exact_dedup"]}
    report = pipeline_from_config(config).run(corpus, tmp_path / "ray", progress=False, executor=RayExecutor())
    assert resolver_calls == [sorted(p.stem for p in (corpus / "shards").glob("*.parquet"))]
    assert report == pipeline_from_config(config).run(corpus, tmp_path / "local", progress=False)


@dataclass
class _TriggerParams(StepParams):
    trigger: str = ""
    doc_id: str = ""


class FailWhileTriggered(Step):
    """Raises on one document while a trigger file exists: one failing task on one shard."""

    name = "fail_while_triggered"
    Params = _TriggerParams
    params: _TriggerParams

    def tag(self, doc: Document) -> dict[str, Any]:
        if doc.id == self.params.doc_id and Path(self.params.trigger).exists():
            raise RuntimeError(f"injected failure on document {doc.id}")
        return {}


def test_a_failed_ray_run_resumes_skipping_finished_shards(
    ray_local: Any,
    corpus: Path,
    in_process: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    resolver_calls: list[list[str]],
) -> None:
    from sciprep.execution import RayExecutor

    shards = sorted((corpus / "shards").glob("*.parquet"))
    victim = shards[len(shards) // 2]
    trigger = tmp_path / "trigger"
    trigger.touch()
    params = _TriggerParams(trigger=str(trigger), doc_id=pq.read_table(victim, columns=["id"]).column("id")[0].as_py())

    def pipeline() -> Pipeline:
        return Pipeline([FailWhileTriggered(params), *default_pipeline().steps])

    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="injected failure") as info:
        pipeline().run(corpus, out, progress=False, executor=RayExecutor())
    assert any(victim.name in note for note in info.value.__notes__), "the error names the shard"
    tagged = out / "work" / "tagged"
    finished = {p.name: p.stat().st_mtime_ns for p in tagged.glob("*.json")}
    # Tasks are submitted in shard order, a few per CPU at a time: shards before the
    # victim were finished before it was submitted, later ones may or may not have been.
    assert f"{victim.stem}.json" not in finished and f"{shards[0].stem}.json" in finished
    assert not (out / "report.json").exists()

    trigger.unlink()
    report = pipeline().run(corpus, out, progress=False, executor=RayExecutor())
    assert {name: (tagged / name).stat().st_mtime_ns for name in finished} == finished, "finished shards rerun"
    assert sorted(p.stem for p in tagged.glob("*.json")) == [p.stem for p in shards]
    assert len(resolver_calls) == 1, "the failed run stopped before the corpus-wide decisions"

    # The same outputs as an uninterrupted run (whose pipeline lacks only the injected step).
    reference, reference_report = in_process
    assert report["totals"] == reference_report["totals"] and report["steps"][1:] == reference_report["steps"]
    without_report = {name: data for name, data in _outputs(out).items() if name != "report.json"}
    assert without_report == {name: data for name, data in _outputs(reference).items() if name != "report.json"}


def test_two_local_workers_from_the_cli_write_the_same_bytes_as_one_process(
    corpus: Path, in_process: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "cli"
    argv = ["clean", "--in", str(corpus), "--out", str(out), "--no-progress", "--executor", "local", "--workers", "2"]
    code = main(argv)
    assert code == 0 and _tree(out) == _tree(in_process[0])
