"""Corpus build on every executor: the same bytes as one process, and resume per input."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sciprep.cli import main
from sciprep.corpus.build import PARTS_DIR, PROGRESS_DIR, build_corpus
from sciprep.corpus.document import Document, stable_id
from sciprep.corpus.readers import READERS
from sciprep.corpus.recipe import load_recipe, recipe_from_dict
from sciprep.corpus.shards import Reject, iter_documents, read_documents
from tests.execution.tasks import ElsewhereExecutor

# Several sources with several inputs each (merged from per-input parts) beside one-input
# sources, small shards so that shards straddle input boundaries.
RECIPE = """
sources:
  - {{name: unarxive, path: {d}/arxiv/unarxive_sample.jsonl, reader: unarxive}}
  - {{name: pmc, path: {d}/jats/*.nxml, reader: jats}}
  - {{name: pubmed, path: {d}/pubmed}}
  - name: proteins
    path: ["{d}/bio/multi_ex.fasta", "{d}/bio/uniref50_sample.fasta", "{d}/bio/*.faa"]
  - {{name: genomes, path: ["{d}/bio/*.fna", "{d}/bio/*.gb"], options: {{dna_chunk: 2000}}}}
  - {{name: mixed, path: ["{d}/bio/uniref50_sample.fasta", "{d}/pubmed", "{d}/bio/LICENSE-biopython.rst"]}}
shard_max_docs: 7
"""


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def recipe_file(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("recipe")
    (folder / "data").symlink_to(shared_data, target_is_directory=True)
    path = folder / "recipe.yaml"
    path.write_text(RECIPE.format(d="data"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def in_process(recipe_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "corpus"
    build_corpus(load_recipe(recipe_file), out, progress=False)
    return out


def test_ray_writes_the_same_bytes_as_one_process(
    ray_local: Any, recipe_file: Path, in_process: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ray"
    assert main(["corpus", "build", str(recipe_file), "--out", str(out), "--no-progress", "--executor", "ray"]) == 0
    assert ray_local.is_initialized(), "the command used the Ray it found and left it running"
    assert _tree(out) == _tree(in_process)


def test_a_multi_input_source_is_its_inputs_in_order_cut_as_one_stream(
    recipe_file: Path, in_process: Path, shared_data: Path, tmp_path: Path
) -> None:
    shards = sorted((in_process / "shards").glob("proteins-*.parquet"))
    sizes = [sum(1 for _ in read_documents(p)) for p in shards]
    assert sizes[:-1] == [7] * (len(sizes) - 1) and 0 < sizes[-1] <= 7, "shards cut at the bound across inputs"
    singles = []
    for name in ("multi_ex.fasta", "uniref50_sample.fasta", "NC_005816.faa"):  # the recipe's order
        out = tmp_path / name
        main(["corpus", "build", "--no-progress", "--out", str(out), str(shared_data / "bio" / name)])
        singles += [d.text for d in iter_documents(out)]
    assert [d.text for d in iter_documents(in_process) if d.source == "proteins"] == singles


def _counting_reader(calls: list[str], fail_on: str | None = None):  # type: ignore[no-untyped-def]
    def read(path: Path, source: str) -> Iterator[Document | Reject]:
        calls.append(path.name)
        if path.name == fail_on:
            raise RuntimeError(f"simulated crash reading {path.name}")
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            yield Document(id=stable_id(source, path.name, i), text=line, source=source, kind="text")

    return read


def test_a_crash_in_one_input_keeps_the_inputs_already_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(4):
        (tmp_path / "in" / f"f{n}.txt").parent.mkdir(exist_ok=True)
        (tmp_path / "in" / f"f{n}.txt").write_text("".join(f"file {n} line {i}\n" for i in range(5)), encoding="utf-8")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("sources:\n  - {name: lines, path: in, reader: counting}\nshard_max_docs: 3\n", encoding="utf-8")
    calls: list[str] = []
    monkeypatch.setitem(READERS, "counting", _counting_reader(calls, fail_on="f2.txt"))
    with pytest.raises(RuntimeError, match="simulated crash") as info:
        build_corpus(load_recipe(recipe), tmp_path / "out", progress=False)
    assert any("source lines file" in note and "f2.txt" in note for note in info.value.__notes__)
    parts = tmp_path / "out" / PROGRESS_DIR / PARTS_DIR / "lines"
    assert sorted(p.name for p in parts.glob("*.json")) == ["000000.json", "000001.json"]

    calls.clear()
    monkeypatch.setitem(READERS, "counting", _counting_reader(calls))
    manifest = build_corpus(load_recipe(recipe), tmp_path / "out", progress=False)
    assert calls == ["f2.txt", "f3.txt"], "inputs read before the crash are not read again"
    assert manifest["sources"]["lines"]["documents"] == 20 and not parts.exists()
    assert [d.text for d in iter_documents(tmp_path / "out")] == [
        f"file {n} line {i}" for n in range(4) for i in range(5)
    ]
    fresh = build_corpus(load_recipe(recipe), tmp_path / "fresh", progress=False)
    assert fresh == manifest and _tree(tmp_path / "fresh") == _tree(tmp_path / "out")


def test_two_local_workers_from_the_cli_write_the_same_bytes_as_one_process(
    recipe_file: Path, in_process: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cli"
    assert main(["corpus", "build", str(recipe_file), "--out", str(out), "--no-progress", "--workers", "2"]) == 0
    assert _tree(out) == _tree(in_process)


def test_relative_paths_and_rerun_tasks_give_the_same_corpus_inside_out(
    recipe_file: Path, in_process: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    base = Path(os.path.relpath(recipe_file.parent, tmp_path))
    relative_recipe = recipe_from_dict(yaml.safe_load(recipe_file.read_text(encoding="utf-8")), base)
    build_corpus(relative_recipe, "rel", progress=False, executor=ElsewhereExecutor(elsewhere))
    assert not any(elsewhere.iterdir()), "tasks wrote relative to their own working directory"
    assert _tree(tmp_path / "rel") == _tree(in_process), "running every task twice changed nothing"
