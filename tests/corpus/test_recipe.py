"""Recipes: validation with clear errors, path expansion, reader detection."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sciprep.corpus.inputs import detect_input_reader, display_path, expand_paths
from sciprep.corpus.recipe import load_recipe, recipe_for_paths


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_recipe_keeps_keys_and_fills_defaults(tmp_path: Path) -> None:
    recipe_file = _write(
        tmp_path / "r" / "recipe.yaml",
        """
sources:
  - name: arxiv
    path: papers/
    reader: latex
    weight: 2.5
  - name: chem
    path: [a.csv, "b/*.smi"]
    options: {smiles_column: SMILES}
    kind: compound
    licence: CC-BY-4.0
shard_max_docs: 500
""",
    )
    recipe = load_recipe(recipe_file)
    assert recipe.base_dir == recipe_file.parent.resolve() and recipe.shard_max_docs == 500
    arxiv, chem = recipe.sources
    assert (arxiv.name, arxiv.paths, arxiv.reader, arxiv.weight, arxiv.options) == (
        "arxiv",
        ("papers/",),
        "latex",
        2.5,
        {},
    )
    assert chem.paths == ("a.csv", "b/*.smi") and chem.reader is None and chem.weight == 1.0
    assert (
        chem.options == {"smiles_column": "SMILES"}
        and chem.kind == "compound"
        and chem.licence == "CC-BY-4.0"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sources: []", "non-empty list"),
        ("sources:\n  - {name: a, path: x, raeder: latex}", "unknown keys ['raeder']"),
        ("sources:\n  - {name: ../evil, path: x}", "name must be"),
        ("sources:\n  - {name: a, path: x}\n  - {name: a, path: y}", "repeated: ['a']"),
        ("sources:\n  - {name: a, path: x, weight: -1}", "weight must be a positive number"),
        ("sources:\n  - {name: a, path: x, weight: true}", "weight must be a positive number"),
        ("sources:\n  - {name: a}", "path must be"),
        ("sources:\n  - {name: a, path: x, options: [1]}", "options must be a mapping"),
        ("sources:\n  - {name: a, path: x}\nshards: 3", "unknown top-level keys ['shards']"),
        ("sources:\n  - {name: a, path: x}\nshard_max_docs: 0", "shard_max_docs must be a positive integer"),
        ("sources: [unclosed", "not valid YAML"),
    ],
)
def test_invalid_recipes_fail_with_a_message_naming_the_problem(
    tmp_path: Path, body: str, message: str
) -> None:
    recipe_file = _write(tmp_path / "recipe.yaml", body)
    with pytest.raises(ValueError, match="recipe.yaml") as err:
        load_recipe(recipe_file)
    assert message in str(err.value)


def test_missing_recipe_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_recipe(tmp_path / "nope.yaml")


def test_paths_expand_sorted_recursive_and_skip_hidden(tmp_path: Path) -> None:
    for name in ("d/b.fasta", "d/a.fasta", "d/sub/c.fasta", "d/.hidden.fasta", "d/.git/x.fasta"):
        _write(tmp_path / name, ">x\nMKV\n")
    found = expand_paths(("d",), tmp_path, None, "s")
    assert [display_path(p, tmp_path) for p in found] == ["d/a.fasta", "d/b.fasta", "d/sub/c.fasta"]
    globbed = expand_paths(("d/**/*.fasta", "d/a.fasta"), tmp_path, None, "s")
    assert [display_path(p, tmp_path) for p in globbed] == ["d/a.fasta", "d/b.fasta", "d/sub/c.fasta"]


def test_a_directory_with_tex_files_is_one_latex_input(tmp_path: Path) -> None:
    _write(tmp_path / "papers" / "p1" / "main.tex", "\\documentclass{article}")
    _write(tmp_path / "papers" / "p1" / "fig.png", "x")
    _write(tmp_path / "papers" / "p2.tar.gz", "x")
    found = expand_paths(("papers",), tmp_path, "latex", "arxiv")
    assert found == [tmp_path / "papers" / "p1", tmp_path / "papers" / "p2.tar.gz"]
    assert detect_input_reader(found[0]) == "latex"


def test_pattern_matching_nothing_names_source_and_pattern(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="source 'chem': 'missing/\\*.csv' matches nothing"):
        expand_paths(("missing/*.csv",), tmp_path, None, "chem")


def test_ambiguous_suffixes_are_resolved_by_content(tmp_path: Path) -> None:
    medline = _write(tmp_path / "export.txt", "PMID- 123\nTI  - x\n")
    notes = _write(tmp_path / "notes.txt", "plain notes")
    pubmed = _write(tmp_path / "a.xml", "<?xml version='1.0'?>\n<PubmedArticleSet></PubmedArticleSet>")
    jats = _write(tmp_path / "b.xml", "<?xml version='1.0'?>\n<!DOCTYPE article>\n<article></article>")
    zipped = tmp_path / "c.xml.gz"
    zipped.write_bytes(gzip.compress(b"<PubmedArticleSet/>"))
    assert detect_input_reader(medline) == "medline"
    assert detect_input_reader(notes) == "text"
    assert detect_input_reader(pubmed) == "pubmed_xml"
    assert detect_input_reader(jats) == "jats"
    assert detect_input_reader(zipped) == "pubmed_xml"
    assert detect_input_reader(_write(tmp_path / "x.faa", ">a\nM\n")) == "fasta"
    assert detect_input_reader(_write(tmp_path / "x.unknown", "?")) is None
    unarxive = _write(tmp_path / "p.jsonl", '{"paper_id": "1", "body_text": [], "bib_entries": {}}\n')
    assert detect_input_reader(unarxive) == "unarxive"
    assert detect_input_reader(_write(tmp_path / "q.jsonl", '{"text": "body_text"}\n')) == "jsonl"


def test_recipe_for_paths_names_sources_after_files_uniquely(tmp_path: Path) -> None:
    recipe = recipe_for_paths(
        ["data/freesolv.csv", "other/freesolv.csv", "1911.02782.tar.gz", "bio dir/"], base_dir=tmp_path
    )
    assert [s.name for s in recipe.sources] == ["freesolv", "freesolv-2", "1911.02782", "bio_dir"]
    assert recipe.base_dir == tmp_path.resolve()
