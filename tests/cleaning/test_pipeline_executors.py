"""Cleaning on every executor: same kept ids, exclusions, report and bytes; resume on Ray."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
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
from tests.execution.tasks import ElsewhereExecutor

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


def test_relative_in_and_out_reach_tasks_that_run_in_another_directory(
    corpus: Path, in_process: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    relative_in = os.path.relpath(corpus, tmp_path)
    default_pipeline().run(relative_in, "out", progress=False, executor=ElsewhereExecutor(elsewhere))
    assert not any(elsewhere.iterdir()), "tasks wrote relative to their own working directory"
    assert _tree(tmp_path / "out") == _tree(in_process[0]), "running every task twice changed nothing"


# A small corpus (papers, abstracts, a mirror of the abstracts: copies to remove) in 8-document
# shards, so the tag pass has several shards to finish one by one.
SMALL_RECIPE = """
sources:
  - {{name: unarxive, path: {d}/arxiv/unarxive_sample.jsonl, reader: unarxive}}
  - {{name: pubmed, path: {d}/pubmed}}
  - {{name: mirror, path: {d}/pubmed}}
shard_max_docs: 8
"""
_RAY_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+\s+(INFO|WARNING)", re.MULTILINE)


def _descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


_RAY_AGENTS = ("ray::DashboardAgent", "ray::RuntimeEnvAgent")


def _command(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")[0].decode().strip()
    except OSError:
        return ""


def _running(pids: set[int]) -> set[int]:
    """The processes of ``pids`` that still run (zombies are finished)."""
    alive = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _poll(condition: Any, seconds: float) -> bool:
    """Whether ``condition()`` holds within ``seconds`` (a bounded wait for a condition)."""
    for _ in range(int(seconds * 20)):
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc (Linux)")
def test_a_killed_ray_clean_command_resumes_and_leaves_no_ray_running(shared_data: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the optional `ray` extra is not installed (pip install 'sciprep[ray]')")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(SMALL_RECIPE.format(d=shared_data.as_posix()), encoding="utf-8")
    corpus = tmp_path / "corpus"
    build_corpus(load_recipe(recipe), corpus, progress=False)
    out = tmp_path / "ray"
    command = [sys.executable, "-m", "sciprep.cli", "clean", "--in", str(corpus), "--out", str(out),
               "--no-progress", "--executor", "ray"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    tagged = out / "work" / "tagged"

    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as run:
        started = _poll(lambda: run.poll() is not None or any(tagged.glob("*.json")), 120)
        ray_processes = _descendants(run.pid)
        run.kill()
        first_stderr = run.communicate()[1]
    assert started and run.returncode == -signal.SIGKILL, f"killed mid-run; stderr: {first_stderr}"
    # Ray's two node agents see the raylet die at once but then spend up to a minute trying
    # to report it to the dead GCS (a fixed 60 s timeout in Ray) before exiting on their
    # own; every other process of the run (GCS, raylet, workers, forkserver) must be gone.
    lingering = {pid for pid in ray_processes if _command(pid) not in _RAY_AGENTS}
    assert _poll(lambda: not _running(lingering), 30), "the killed command's Ray processes outlived it"
    finished = {p.name: p.stat().st_mtime_ns for p in tagged.glob("*.json")}

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert {name: (tagged / name).stat().st_mtime_ns for name in finished} == finished, "finished shards rerun"
    for stderr in (first_stderr, rerun.stderr):
        assert not _RAY_LOG_LINE.search(stderr) and "Started a local Ray" not in stderr, stderr

    reference = tmp_path / "local"
    default_pipeline().run(corpus, reference, progress=False)
    assert _outputs(out) == _outputs(reference)
