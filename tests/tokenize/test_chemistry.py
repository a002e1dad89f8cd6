from __future__ import annotations

import os
from pathlib import Path

import pytest

from sciprep.tokenize.chemistry import find_smiles, is_smiles, smiles_kind
from tests.tokenize.sample_data import chembl_smiles


@pytest.mark.parametrize(
    "word",
    ["CC", "CO", "NO", "CNS", "III", "H2O", "CO2", "C6H12O6", "NaCl", "BRCA1", "TP53", "IL-6",
     "P=NP", "C=O", "CO/NO", "O(N)", "O(n^2)", "f(x)", "(1)", "DNA", "ACGT", "e.g.", "x=y", "2019"],
)  # fmt: skip
def test_words_acronyms_formulas_and_gene_names_are_not_smiles(word: str) -> None:
    assert not is_smiles(word)
    assert list(find_smiles(f"We saw {word} here.")) == []


def test_smiles_in_a_sentence_is_found_without_punctuation() -> None:
    text = "Aspirin (CC(=O)Oc1ccccc1C(=O)O), like CN1C=NC2=C1C(=O)N(C(=O)N2C)C."
    found = [(k, text[a:b]) for k, a, b in find_smiles(text)]
    assert found == [
        ("smiles", "CC(=O)Oc1ccccc1C(=O)O"),
        ("smiles", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"),
    ]


def test_isomeric_smiles_are_classified_by_stereo_and_geometry() -> None:
    assert smiles_kind("C[C@H](N)C(=O)O") == "i_smiles"
    assert smiles_kind("C/C=C/C") == "i_smiles"
    assert smiles_kind("CC(=O)O") == "smiles"


def test_invalid_valence_is_rejected_by_rdkit() -> None:
    assert not is_smiles("CC(C)(C)(C)(C)C")


def test_rdkit_parse_errors_are_not_logged(capfd: pytest.CaptureFixture[str]) -> None:
    list(find_smiles("Bad C1CC(=O and c1cccc1 here."))
    assert "SMILES Parse Error" not in capfd.readouterr().err


def test_recall_on_real_chembl_smiles_in_prose(shared_data: Path) -> None:
    smiles = chembl_smiles(shared_data)
    hits = 0
    for s in smiles:
        text = f"The compound {s} was tested."
        found = [text[a:b] for _, a, b in find_smiles(text)]
        hits += found == [s]
    assert hits / len(smiles) >= 0.99


def test_recall_on_real_nci_smiles_in_prose() -> None:
    from rdkit import RDConfig

    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    with open(path, encoding="utf-8") as fh:
        smiles = [line.split()[0] for line in fh if line.strip()][:2000]
    hits = sum([f"x {s} y"[a:b] for _, a, b in find_smiles(f"x {s} y")] == [s] for s in smiles)
    assert hits / len(smiles) >= 0.95
