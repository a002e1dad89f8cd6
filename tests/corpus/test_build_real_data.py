"""Integration: one recipe over every file type in ../shared/data, built like a user would."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sciprep.corpus import build as build_module
from sciprep.corpus.build import build_corpus
from sciprep.corpus.recipe import load_recipe
from sciprep.corpus.shards import iter_documents, read_rejects

RECIPE = """
sources:
  - {{name: unarxive, path: {d}/arxiv/unarxive_sample.jsonl, reader: unarxive}}
  - {{name: arxiv_latex, path: {d}/latex/*.tar.gz}}
  - {{name: pmc, path: {d}/jats/*.nxml, reader: jats}}
  - {{name: pubmed, path: {d}/pubmed, licence: public-domain}}
  - name: proteins
    path: ["{d}/bio/multi_ex.fasta", "{d}/bio/uniref50_sample.fasta", "{d}/bio/*.faa"]
    weight: 2
  - {{name: genomes, path: ["{d}/bio/*.fna", "{d}/bio/*.gb"]}}
  - {{name: chembl, path: {d}/chem/chembl_samples.csv}}
  - {{name: freesolv_prompts, path: {d}/chem/freesolv.csv, reader: prompts, options: {{template: freesolv}}}}
  - {{name: tugboat, path: {d}/bib/tugboat.bib}}
"""


def _recipe(shared_data: Path, folder: Path) -> Path:
    path = folder / "recipe.yaml"
    path.write_text(RECIPE.format(d=shared_data.as_posix()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    folder = tmp_path_factory.mktemp("real")
    recipe = _recipe(shared_data, folder)
    out = folder / "corpus"
    return out, build_corpus(load_recipe(recipe), out, progress=False), recipe


def _csv_rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def test_every_source_yields_documents_and_counts_conserve(
    built: tuple[Path, dict, Path], shared_data: Path
) -> None:
    out, manifest, _ = built
    sources = manifest["sources"]
    assert all(entry["documents"] > 0 for entry in sources.values()), {
        n: e["documents"] for n, e in sources.items()
    }
    records = {n: e["documents"] + e["rejected"] for n, e in sources.items()}
    assert records["unarxive"] == len(
        (shared_data / "arxiv" / "unarxive_sample.jsonl").read_text().splitlines()
    )
    assert records["arxiv_latex"] == 1 and records["pmc"] == 2
    assert records["pubmed"] == 1 + (shared_data / "pubmed" / "pubmed2.xml").read_text().count(
        "<PubmedArticle>"
    )
    proteins = ["multi_ex.fasta", "uniref50_sample.fasta", "NC_005816.faa"]
    assert records["proteins"] == sum((shared_data / "bio" / f).read_text().count(">") for f in proteins)
    assert records["chembl"] == _csv_rows(shared_data / "chem" / "chembl_samples.csv")
    assert records["freesolv_prompts"] == 2 * _csv_rows(shared_data / "chem" / "freesolv.csv")
    for entry in sources.values():
        assert entry["documents"] == sum(f["documents"] for f in entry["files"].values())
        assert entry["rejected"] == sum(f["rejected"] for f in entry["files"].values())


def test_shards_rejects_and_manifest_agree(built: tuple[Path, dict, Path]) -> None:
    out, manifest, _ = built
    docs = list(iter_documents(out))
    rejects = read_rejects(out / "rejects.parquet")
    assert len(docs) == manifest["totals"]["documents"]
    assert len(rejects) == manifest["totals"]["rejected"]
    for name, entry in manifest["sources"].items():
        assert sum(d.source == name for d in docs) == entry["documents"]
        assert sum(r.source == name for r in rejects) == entry["rejected"]
        assert all((out / shard).exists() for shard in entry["shards"])
    assert all(r.file and r.position and r.reason for r in rejects)
    assert {d.kind for d in docs} >= {"paper", "abstract", "protein", "dna", "compound", "prompt"}
    assert all(d.metadata.licence == "public-domain" for d in docs if d.source == "pubmed")
    assert manifest["sources"]["proteins"]["weight"] == 2.0
    totals = manifest["totals"]["characters"]
    assert all(totals[m] > 0 for m in ("text", "math", "smiles", "amino", "dna", "ref")), totals


def test_shards_open_with_hugging_face_datasets(built: tuple[Path, dict, Path], tmp_path: Path) -> None:
    import datasets

    out, manifest, _ = built
    data = datasets.load_dataset(
        "parquet", data_files=str(out / "shards" / "*.parquet"), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert data.num_rows == manifest["totals"]["documents"]
    assert {"id", "text", "source", "kind", "metadata", "references", "prompt", "answer", "split"} <= set(
        data.column_names
    )
    prompts = data.filter(lambda row: row["kind"] == "prompt")
    assert all(row["text"] == row["prompt"] + row["answer"] for row in prompts)


def test_rebuild_is_byte_identical(built: tuple[Path, dict, Path], tmp_path: Path) -> None:
    out, _, recipe = built
    again = tmp_path / "again"
    build_corpus(load_recipe(recipe), again, progress=False)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_resume_skips_every_finished_source(
    built: tuple[Path, dict, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, manifest, recipe = built

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished source was read again")

    monkeypatch.setattr(build_module, "_run_source", must_not_run)
    assert build_corpus(load_recipe(recipe), out, progress=False) == manifest
    assert json.loads((out / "manifest.json").read_text()) == manifest
