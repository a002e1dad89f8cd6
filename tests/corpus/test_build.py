"""Building a corpus: conservation, rejects, manifest, determinism, resume, CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sciprep.cli import main
from sciprep.corpus import build as build_module
from sciprep.corpus.build import build_corpus
from sciprep.corpus.document import Document, stable_id
from sciprep.corpus.modality import modality_chars
from sciprep.corpus.readers import READERS
from sciprep.corpus.recipe import load_recipe
from sciprep.corpus.shards import Reject, iter_documents, read_rejects


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def inputs(tmp_path: Path) -> Path:
    """A small recipe over hand-made files: good records, bad records, an unknown file type."""
    _write(
        tmp_path / "data" / "prot.fasta", ">sp|P1|A_HUMAN Alpha OS=Homo sapiens GN=A\nMKVLAAGIVG\n>bad\nMK1\n"
    )
    _write(
        tmp_path / "data" / "mols.csv", "name,smiles\nethanol,CCO\nbroken,C1CC(\nalanine,C[C@H](N)C(=O)O\n"
    )
    _write(tmp_path / "data" / "misc" / "readme.xyz", "what is this")
    _write(tmp_path / "data" / "misc" / "notes.jsonl", '{"text": "Energy $E=mc^2$."}\n')
    return _write(
        tmp_path / "recipe.yaml",
        """
sources:
  - name: proteins
    path: data/prot.fasta
    weight: 3
    licence: CC-BY-4.0
  - name: chem
    path: data/mols.csv
    kind: molecule
  - name: misc
    path: data/misc
""",
    )


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_build_conserves_records_and_reports_rejects(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    manifest = build_corpus(load_recipe(inputs), out, progress=False)
    assert manifest == _manifest(out)
    proteins, chem, misc = (manifest["sources"][n] for n in ("proteins", "chem", "misc"))
    assert (proteins["documents"], proteins["rejected"], proteins["weight"]) == (1, 1, 3.0)
    assert (chem["documents"], chem["rejected"]) == (2, 1)
    assert (misc["documents"], misc["rejected"]) == (1, 1)
    assert misc["files"]["data/misc/readme.xyz"] == {"documents": 0, "rejected": 1, "reader": None}
    docs = list(iter_documents(out))
    rejects = read_rejects(out / "rejects.parquet")
    assert len(docs) == manifest["totals"]["documents"] == 4
    assert len(rejects) == manifest["totals"]["rejected"] == 3
    assert {(r.source, r.file, r.position) for r in rejects} == {
        ("proteins", "data/prot.fasta", "record 2 (bad)"),
        ("chem", "data/mols.csv", "line 3"),
        ("misc", "data/misc/readme.xyz", "file"),
    }
    assert all(r.reason for r in rejects)


def test_recipe_kind_licence_and_source_are_applied(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    build_corpus(load_recipe(inputs), out, progress=False)
    docs = {d.source: d for d in iter_documents(out)}
    assert docs["proteins"].metadata.licence == "CC-BY-4.0" and docs["proteins"].kind == "protein"
    assert docs["chem"].kind == "molecule"


def test_manifest_counts_bytes_and_modality_characters_from_markup(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    manifest = build_corpus(load_recipe(inputs), out, progress=False)
    for name, entry in manifest["sources"].items():
        docs = [d for d in iter_documents(out) if d.source == name]
        assert entry["bytes"] == sum(len(d.text.encode()) for d in docs)
        for modality, count in entry["characters"].items():
            assert count == sum(modality_chars(d.text)[modality] for d in docs)
    assert manifest["sources"]["proteins"]["characters"]["amino"] == len("MKVLAAGIVG")
    assert manifest["sources"]["misc"]["characters"]["math"] > 0


def test_rebuild_into_another_directory_is_byte_identical(inputs: Path, tmp_path: Path) -> None:
    recipe = load_recipe(inputs)
    first, second = tmp_path / "one", tmp_path / "two"
    build_corpus(recipe, first, progress=False)
    build_corpus(recipe, second, progress=False)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_finished_sources_are_skipped_and_changed_ones_rebuilt(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "corpus"
    recipe = load_recipe(inputs)
    before = build_corpus(recipe, out, progress=False)
    ran: list[str] = []
    real = build_module._run_source
    monkeypatch.setattr(
        build_module, "_run_source", lambda spec, *a, **k: ran.append(spec.name) or real(spec, *a, **k)
    )
    assert build_corpus(recipe, out, progress=False) == before and ran == []
    inputs.write_text(inputs.read_text().replace("weight: 3", "weight: 5"), encoding="utf-8")
    reweighted = build_corpus(load_recipe(inputs), out, progress=False)
    assert ran == [] and reweighted["sources"]["proteins"]["weight"] == 5.0
    _write(tmp_path / "data" / "mols.csv", "name,smiles\nwater,O\n")
    after = build_corpus(load_recipe(inputs), out, progress=False)
    assert ran == ["chem"] and after["sources"]["chem"]["documents"] == 1
    assert [d.metadata.title for d in iter_documents(out) if d.source == "chem"] == ["water"]


def _counting_reader(calls: list[str], fail_after: int | None = None):
    def read(path: Path, source: str) -> Iterator[Document | Reject]:
        for i, line in enumerate(path.read_text().splitlines()):
            if fail_after is not None and i == fail_after:
                raise KeyboardInterrupt("simulated crash")
            calls.append(line)
            yield Document(id=stable_id(source, i), text=line, source=source, kind="text")

    return read


def test_crash_mid_source_resumes_reusing_finished_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "lines.txt", "\n".join(f"line {i}" for i in range(10)) + "\n")
    recipe_file = _write(
        tmp_path / "r.yaml",
        "sources:\n  - {name: lines, path: lines.txt, reader: counting}\nshard_max_docs: 3\n",
    )
    out = tmp_path / "corpus"
    calls: list[str] = []
    monkeypatch.setitem(READERS, "counting", _counting_reader(calls, fail_after=7))
    with pytest.raises(KeyboardInterrupt):
        build_corpus(load_recipe(recipe_file), out, progress=False)
    finished = sorted((out / "shards").glob("*.parquet"))
    assert [p.name for p in finished] == ["lines-00000.parquet", "lines-00001.parquet"]
    assert not (out / "manifest.json").exists() and not (out / ".progress" / "lines.json").exists()
    stamps = {p.name: p.stat().st_mtime_ns for p in finished}
    monkeypatch.setitem(READERS, "counting", _counting_reader(calls))
    manifest = build_corpus(load_recipe(recipe_file), out, progress=False)
    assert manifest["sources"]["lines"]["documents"] == 10
    assert {p.name: p.stat().st_mtime_ns for p in finished} == stamps, "finished shards are not rewritten"
    assert [d.text for d in iter_documents(out)] == [f"line {i}" for i in range(10)]


def test_dropping_a_source_removes_its_shards(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    build_corpus(load_recipe(inputs), out, progress=False)
    smaller = _write(tmp_path / "small.yaml", "sources:\n  - {name: chem, path: data/mols.csv}\n")
    manifest = build_corpus(load_recipe(smaller), out, progress=False)
    assert list(manifest["sources"]) == ["chem"]
    assert {d.source for d in iter_documents(out)} == {"chem"}
    assert {r.source for r in read_rejects(out / "rejects.parquet")} == {"chem"}


@pytest.mark.parametrize(
    ("options", "message"),
    [("{colour: red}", "has no option 'colour'"), ("{dna_chunk: many}", "must be int")],
)
def test_bad_reader_options_fail_before_reading(tmp_path: Path, options: str, message: str) -> None:
    _write(tmp_path / "a.fasta", ">a\nACGT\n")
    recipe_file = _write(
        tmp_path / "r.yaml", f"sources:\n  - {{name: s, path: a.fasta, reader: fasta, options: {options}}}\n"
    )
    with pytest.raises(ValueError, match=message):
        build_corpus(load_recipe(recipe_file), tmp_path / "out", progress=False)


def test_unknown_reader_lists_known_ones(tmp_path: Path) -> None:
    _write(tmp_path / "a.fasta", ">a\nACGT\n")
    recipe_file = _write(tmp_path / "r.yaml", "sources:\n  - {name: s, path: a.fasta, reader: fastq}\n")
    with pytest.raises(ValueError, match="unknown reader 'fastq'.*fasta"):
        build_corpus(load_recipe(recipe_file), tmp_path / "out", progress=False)


def test_cli_builds_from_recipe_and_from_paths(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["corpus", "build", str(inputs), "--out", str(tmp_path / "a"), "--no-progress"]) == 0
    assert "proteins: 1 documents, 1 rejected" in capsys.readouterr().out
    fasta = tmp_path / "data" / "prot.fasta"
    assert main(["corpus", "build", "--out", str(tmp_path / "b"), "--no-progress", str(fasta)]) == 0
    assert list(_manifest(tmp_path / "b")["sources"]) == ["prot"]
    assert main(["corpus", "build", "--out", str(tmp_path / "c"), str(tmp_path / "nothing*.fa")]) == 2
    assert "matches nothing" in capsys.readouterr().err


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(["CCO", "c1ccccc1", "C1CC(", "", "N[C@@H](C)C(=O)O", "Xx", "O=C=O"]), max_size=25
    )
)
def test_documents_plus_rejects_equal_rows_for_any_table(
    tmp_path_factory: pytest.TempPathFactory, smiles: list[str]
) -> None:
    root = tmp_path_factory.mktemp("prop")
    _write(root / "m.csv", "smiles\n" + "".join(f"{s}\n" for s in smiles) if smiles else "smiles\n")
    recipe_file = _write(root / "r.yaml", "sources:\n  - {name: m, path: m.csv}\n")
    manifest = build_corpus(load_recipe(recipe_file), root / "out", progress=False)
    entry = manifest["sources"]["m"]
    rows = len([s for s in smiles if s])  # csv skips blank lines: an empty one-column row is no record
    assert entry["documents"] + entry["rejected"] == rows
    assert pq.read_metadata(root / "out" / "rejects.parquet").num_rows == entry["rejected"]


def test_output_inside_an_input_folder_is_not_read_back(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "a.fasta", ">a\nMKV\n")
    recipe_file = _write(tmp_path / "r.yaml", "sources:\n  - {name: s, path: data}\n")
    build_corpus(load_recipe(recipe_file), tmp_path / "data" / "corpus", progress=False)
    manifest = build_corpus(load_recipe(recipe_file), tmp_path / "data" / "corpus", progress=False)
    assert list(manifest["sources"]["s"]["files"]) == ["data/a.fasta"]


def test_every_kind_of_damaged_input_becomes_a_reject_and_the_build_goes_on(tmp_path: Path) -> None:
    import gzip

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.tar.gz").write_bytes(gzip.compress(b"this is not a tar archive" * 20)[:60])
    fasta = gzip.compress(b"".join(b">p%d\nMKVLAAGIVGLLA\n" % i for i in range(3000)))
    (bad / "cut.fasta.gz").write_bytes(fasta[: len(fasta) // 2])
    _write(bad / "broken.xml", "<PubmedArticleSet><PubmedArticle><MedlineCitation>")
    _write(bad / "letters.fasta", ">ok\nMKV\n>weird\nMK#V\n")
    _write(bad / "mols.smi", "CCO ethanol\nC1CC( broken\n")
    _write(bad / "paper" / "nomain.tex", "just text, no documentclass\n")
    _write(tmp_path / "good.jsonl", '{"text": "A good document."}\n')
    recipe_file = _write(
        tmp_path / "r.yaml", "sources:\n  - {name: bad, path: bad}\n  - {name: good, path: good.jsonl}\n"
    )
    manifest = build_corpus(load_recipe(recipe_file), tmp_path / "out", progress=False)
    files = manifest["sources"]["bad"]["files"]
    assert all(entry["rejected"] >= 1 for entry in files.values()), files
    assert files["bad/letters.fasta"]["documents"] == 1 and files["bad/mols.smi"]["documents"] == 1
    assert files["bad/cut.fasta.gz"]["documents"] > 0, "records before the truncation are kept"
    assert manifest["sources"]["good"]["documents"] == 1
    rejects = read_rejects(tmp_path / "out" / "rejects.parquet")
    assert len(rejects) == manifest["totals"]["rejected"]
    assert {r.file for r in rejects} == set(files)
    reasons = " | ".join(r.reason for r in rejects)
    for fragment in ("truncated", "malformed XML", "'#'", "syntax error"):
        assert fragment in reasons


def test_build_refuses_a_non_empty_folder_that_is_not_a_build_output(inputs: Path, tmp_path: Path) -> None:
    victim = tmp_path / "cleaned"
    _write(victim / "shards" / "papers-00000.parquet", "someone else's shard")
    _write(victim / "manifest.json", "{}")
    recipe = load_recipe(inputs)
    with pytest.raises(ValueError, match="not a corpus build folder"):
        build_corpus(recipe, victim, progress=False)
    assert (victim / "shards" / "papers-00000.parquet").read_text(encoding="utf-8") == "someone else's shard"
    assert not (victim / ".progress").exists()
    build_corpus(recipe, tmp_path / "empty", progress=False)  # a new folder is fine
    (tmp_path / "made").mkdir()
    build_corpus(recipe, tmp_path / "made", progress=False)  # and so is an empty one


def test_rebuild_deletes_only_shards_an_earlier_build_wrote(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    build_corpus(load_recipe(inputs), out, progress=False)
    foreign = _write(out / "shards" / "notes-00000.parquet", "a file this build never wrote")
    smaller = _write(tmp_path / "small.yaml", "sources:\n  - {name: chem, path: data/mols.csv}\n")
    build_corpus(load_recipe(smaller), out, progress=False)
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["chem-00000.parquet", "notes-00000.parquet"]
    assert foreign.read_text(encoding="utf-8") == "a file this build never wrote"


def test_links_in_an_input_folder_become_rejects_and_the_build_goes_on(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data / "a.fasta", ">a\nMKV\n")
    (data / "loop").mkdir()
    (data / "loop" / "up").symlink_to("..")
    _write(tmp_path / "outside" / "secret.fasta", ">secret\nMKV\n")
    (data / "outlink").symlink_to(tmp_path / "outside")
    (data / "broken.fasta").symlink_to(data / "gone.fasta")
    recipe_file = _write(tmp_path / "r.yaml", "sources:\n  - {name: s, path: data}\n")
    manifest = build_corpus(load_recipe(recipe_file), tmp_path / "out", progress=False)
    assert all("secret" not in d.text for d in iter_documents(tmp_path / "out"))
    files = manifest["sources"]["s"]["files"]
    assert files["data/a.fasta"]["documents"] == 1
    rejects = {r.file: r.reason for r in read_rejects(tmp_path / "out" / "rejects.parquet")}
    assert set(rejects) == {"data/broken.fasta", "data/loop/up", "data/outlink"}
    assert all("symbolic link" in reason for reason in rejects.values())


def test_file_failing_mid_read_is_a_reject_not_an_aborted_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def vanishing(path: Path, source: str) -> Iterator[Document | Reject]:
        yield Document(id=stable_id(source, str(path)), source=source, kind="text", text="kept")
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setitem(READERS, "vanishing", vanishing)
    _write(tmp_path / "a.txt", "x")
    _write(tmp_path / "b.txt", "y")
    recipe_file = _write(tmp_path / "r.yaml", "sources:\n  - {name: s, path: '*.txt', reader: vanishing}\n")
    manifest = build_corpus(load_recipe(recipe_file), tmp_path / "out", progress=False)
    entry = manifest["sources"]["s"]
    assert (entry["documents"], entry["rejected"]) == (2, 2)
    assert all("reading stopped" in r.reason for r in read_rejects(tmp_path / "out" / "rejects.parquet"))


def test_demo_papers_folder_builds_each_paper_with_its_citations_resolved(tmp_path: Path) -> None:
    papers = Path(__file__).resolve().parents[2] / "sciprep" / "demo" / "data" / "papers"
    assert main(["corpus", "build", "--out", str(tmp_path / "out"), "--no-progress", str(papers)]) == 0
    docs = list(iter_documents(tmp_path / "out"))
    # Every .tex file there is a standalone paper with its own \documentclass.
    assert sorted(d.metadata.extra["main_file"] for d in docs) == sorted(p.name for p in papers.glob("*.tex"))
    assert len(docs) > 2
    for doc in docs:
        assert int(doc.metadata.extra["cite_keys"]) > 0
        assert doc.metadata.extra["cite_keys_resolved"] == doc.metadata.extra["cite_keys"]
    assert _manifest(tmp_path / "out")["totals"]["rejected"] == 0


def test_rebuilding_from_sciprep_shards_keeps_prompts_and_documents_intact(tmp_path: Path) -> None:
    qa = _write(
        tmp_path / "qa.jsonl",
        "".join(json.dumps({"question": f"{i}+{i}?", "answer": str(2 * i)}) + "\n" for i in range(40)),
    )
    out = str(tmp_path / "prompts")
    assert main(["corpus", "prompts", str(qa), "--out", out, "--test-fraction", "0.3", "--no-progress"]) == 0
    text = _write(tmp_path / "notes.jsonl", '{"id": "n1", "text": "Energy $E=mc^2$.", "title": "Notes"}\n')
    build_corpus(load_recipe(_write(tmp_path / "r.yaml", f"sources:\n  - {{name: web, path: {text}}}\n")),
                 tmp_path / "clean", progress=False)  # fmt: skip
    before = {d.id: d for d in [*iter_documents(tmp_path / "prompts"), *iter_documents(tmp_path / "clean")]}
    mixed = tmp_path / "mixed"
    inputs = [str(tmp_path / "clean" / "shards"), str(tmp_path / "prompts")]
    assert main(["corpus", "build", "--out", str(mixed), *inputs, "--no-progress"]) == 0
    after = list(iter_documents(mixed))
    manifest = json.loads((mixed / "manifest.json").read_text())
    assert sorted(manifest["sources"]) == ["clean", "prompts"] and manifest["totals"]["rejected"] == 0
    assert sorted(d.id for d in after) == sorted(before)
    assert [d.metadata.extra["original_source"] for d in after if d.source == "clean"] == ["web"]
    for doc in after:
        old = before[doc.id]
        assert doc.metadata.extra.pop("original_source", doc.source) == old.source
        assert (doc.text, doc.kind, doc.prompt, doc.answer, doc.split, doc.metadata, doc.references) == (
            old.text, old.kind, old.prompt, old.answer, old.split, old.metadata, old.references
        )  # fmt: skip
    assert {d.source for d in after if d.kind == "prompt"} == {"prompts"}
    assert {d.split for d in after if d.kind == "prompt"} == {"train", "test"}
