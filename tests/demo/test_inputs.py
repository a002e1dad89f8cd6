"""The demo corpus shipped in the package, and the recipe written into the demo directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sciprep.corpus.recipe import load_recipe
from sciprep.demo.inputs import DATA_DIR, NCI_WEIGHT, nci_smiles_file, write_recipe

#: At most a few hundred KB of demo data ship with the package.
MAX_SHIPPED_BYTES = 300_000


def test_shipped_demo_corpus_is_small() -> None:
    files = [p for p in DATA_DIR.rglob("*") if p.is_file()]
    assert files and sum(p.stat().st_size for p in files) <= MAX_SHIPPED_BYTES


def test_recipe_reads_every_shipped_file_by_absolute_path(tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, 25))
    paths = {Path(p) for source in recipe.sources for p in source.paths}
    assert all(p.is_absolute() for p in paths)
    read = set()
    for path in paths:
        read |= set(path.parent.glob(path.name)) if "*" in path.name else {path}
    shipped = {p for p in DATA_DIR.rglob("*") if p.is_file()}
    assert shipped <= read | {DATA_DIR / "papers" / "demo.bib"}  # demo.bib is also read beside each paper
    assert {s.name for s in recipe.sources} >= {"papers", "references", "compounds", "nci", "proteins", "dna",
                                                 "worked", "notes", "prompts"}


def test_nci_source_is_a_slice_of_rdkits_real_molecules(tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, 25))
    nci = next(s for s in recipe.sources if s.name == "nci")
    lines = Path(nci.paths[0]).read_text().splitlines()
    assert lines == nci_smiles_file().read_text().splitlines()[:25]
    assert nci.weight == NCI_WEIGHT


def test_rewriting_the_same_recipe_leaves_its_files_untouched_so_the_build_resumes(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, 10)
    nci = tmp_path / "inputs" / "nci-first-10.smi"
    for path in (recipe, nci):
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    write_recipe(tmp_path, 10)
    assert recipe.stat().st_mtime_ns == nci.stat().st_mtime_ns == 1_000_000_000


def test_no_molecules_leaves_the_nci_source_out(tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, 0))
    assert "nci" not in {s.name for s in recipe.sources}
    with pytest.raises(ValueError, match="--molecules"):
        write_recipe(tmp_path, -1)


def test_every_stereocentre_named_in_the_demo_compounds_matches_rdkit_cip_labels() -> None:
    import re

    from rdkit import Chem
    from rdkit.Chem import rdCIPLabeler

    checked = 0
    for number, line in enumerate((DATA_DIR / "compounds.smi").read_text(encoding="utf-8").splitlines(), 1):
        smiles, _, name = line.partition(" ")
        descriptor = re.match(r"\(((?:\d*[RS],?)+)\)-", name)
        if not descriptor:
            continue
        mol = Chem.MolFromSmiles(smiles)
        assert mol is not None, f"compounds.smi line {number}"
        rdCIPLabeler.AssignCIPLabels(mol)
        labels = sorted(a.GetProp("_CIPCode") for a in mol.GetAtoms() if a.HasProp("_CIPCode"))
        named = sorted(re.sub(r"\d", "", part) for part in descriptor.group(1).split(","))
        assert labels == named, f"compounds.smi line {number}: {name} but RDKit labels {labels}"
        checked += 1
    assert checked >= 2  # (S)-ibuprofen and (S)-nicotine at least
