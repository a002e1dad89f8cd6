"""SMILES/CSV/SDF readers: real FreeSolv, ChEMBL and NCI molecules, RDKit facts, bad rows."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import pytest
from rdkit import Chem, RDConfig
from rdkit.Chem import Crippen, Descriptors, rdMolDescriptors

from sciprep.corpus.document import Document
from sciprep.corpus.readers.compounds import read_sdf, read_smiles
from sciprep.corpus.shards import Reject

NCI_SMILES = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
_SMILES = re.compile(r"\[START_(I_)?SMILES\](.*?)\[END_(I_)?SMILES\]")


def _docs(out: list[object]) -> list[Document]:
    return [d for d in out if isinstance(d, Document)]


def test_freesolv_rows_become_named_compounds_with_rdkit_properties(shared_data: Path) -> None:
    path = shared_data / "chem" / "freesolv.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    docs = _docs(list(read_smiles(path, "freesolv")))
    assert len(docs) == len(rows)
    for doc, row in list(zip(docs, rows))[:50]:
        mol = Chem.MolFromSmiles(row["smiles"])
        assert doc.text.startswith(f"# {row['iupac']}") and doc.kind == "compound"
        assert _SMILES.search(doc.text).group(2) == Chem.MolToSmiles(mol)
        assert f"Molecular formula: {rdMolDescriptors.CalcMolFormula(mol)}" in doc.text
        assert f"Molecular weight: {Descriptors.MolWt(mol):.2f} g/mol" in doc.text
        assert f"LogP (Crippen): {Crippen.MolLogP(mol):.2f}" in doc.text
        assert f"Hydrogen bond donors: {rdMolDescriptors.CalcNumHBD(mol)}" in doc.text
        assert f"Hydrogen bond acceptors: {rdMolDescriptors.CalcNumHBA(mol)}" in doc.text
        assert f"Topological polar surface area: {rdMolDescriptors.CalcTPSA(mol):.2f}" in doc.text
        assert doc.metadata.extra["expt"] == row["expt"]


def test_stereo_smiles_use_isomeric_markup_and_flat_ones_do_not(shared_data: Path) -> None:
    docs = _docs(list(read_smiles(shared_data / "chem" / "chembl_samples.csv", "chembl")))
    assert len(docs) == 2000
    for doc in docs:
        match = _SMILES.search(doc.text)
        smiles, isomeric = match.group(2), bool(match.group(1))
        has_stereo = any(c in smiles for c in "@/\\") or re.search(r"\[\d+[A-Z]", smiles) is not None
        assert isomeric == has_stereo, smiles
    assert any("[START_I_SMILES]" in d.text for d in docs) and any("[START_SMILES]" in d.text for d in docs)


def test_nci_smi_file_conserves_every_line_and_rejects_with_line_numbers() -> None:
    lines = [line for line in NCI_SMILES.read_text().splitlines() if line.strip()]
    out = list(read_smiles(NCI_SMILES, "nci"))
    rejects = [r for r in out if isinstance(r, Reject)]
    assert len(out) == len(lines)
    assert rejects and all(re.fullmatch(r"line \d+", r.position) for r in rejects)
    for rej in rejects:
        number = int(rej.position.split()[1])
        assert lines[number - 1].split()[0][:50] in rej.reason


def test_unparsable_smiles_is_rejected_with_row_number_and_rdkit_is_silent(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mols.csv"
    path.write_text(
        "Name,SMILES\nethanol,CCO\nbroken,c1ccccc1(\nbad valence,C(C)(C)(C)(C)C\n,\n", encoding="utf-8"
    )
    out = list(read_smiles(path, "s"))
    assert isinstance(out[0], Document) and out[0].text.startswith("# ethanol")
    assert [r.position for r in out[1:]] == ["line 3", "line 4", "line 5"]
    assert "syntax error" in out[1].reason and "valence" in out[2].reason and "empty" in out[3].reason
    assert "SMILES" not in capfd.readouterr().err


def test_smiles_column_is_found_case_insensitively_or_by_option(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv"
    path.write_text("id\tSmiles\tStructure\n1\tCCO\tc1ccccc1\n", encoding="utf-8")
    (doc,) = read_smiles(path, "s")
    assert "CCO" in doc.text
    (doc,) = read_smiles(path, "s", smiles_column="structure")
    assert "c1ccccc1" in doc.text


def test_table_without_smiles_column_is_one_reject_naming_columns(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    (rej,) = read_smiles(path, "s")
    assert isinstance(rej, Reject) and "['a', 'b']" in rej.reason and "no SMILES column" in rej.reason
    (rej,) = read_smiles(path, "s", smiles_column="mol")
    assert isinstance(rej, Reject) and rej.reason.startswith("no column 'mol' among columns ['a', 'b']")


def test_headerless_smiles_table_is_read_from_its_first_line(tmp_path: Path) -> None:
    lines = NCI_SMILES.read_text(encoding="utf-8").splitlines()[:60]
    path = tmp_path / "nci.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = list(read_smiles(path, "nci"))
    docs = _docs(out)
    assert len(out) == len(lines) and len(docs) >= 0.9 * len(lines)
    assert docs[0].metadata.extra["input_smiles"] == lines[0].split("\t")[0]
    assert docs[0].metadata.extra["column_2"] == lines[0].split("\t")[1]
    assert all(r.position.startswith("line ") for r in out if isinstance(r, Reject))


def test_smiles_column_with_an_unknown_name_is_found_by_content(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("flag,structure,name\nY,CCO,ethanol\nN,c1ccccc1,benzene\nY,C1CC(,broken\n")
    out = list(read_smiles(path, "s"))
    assert [d.metadata.title for d in _docs(out)] == ["ethanol", "benzene"]
    assert _docs(out)[0].metadata.extra == {"formula": "C2H6O", "input_smiles": "CCO", "flag": "Y"}
    assert isinstance(out[2], Reject) and out[2].position == "line 4"


def test_short_row_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("smiles,name\nCCO\n", encoding="utf-8")
    (rej,) = read_smiles(path, "s")
    assert isinstance(rej, Reject) and rej.position == "line 2"


def test_sdf_records_become_compounds_and_bad_blocks_rejects(tmp_path: Path) -> None:
    path = tmp_path / "m.sdf"
    writer = Chem.SDWriter(str(path))
    for name, smiles in (("alanine", "C[C@H](N)C(=O)O"), ("benzene", "c1ccccc1")):
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", name)
        mol.SetProp("IUPAC_NAME", f"iupac-{name}")
        writer.write(mol)
    writer.close()
    good = path.read_text()
    broken_block = "junk\n  RDKit\n\n  2  1  0  0  0  0  0  0  0  0999 V2000\nnot an atom line\n$$$$\n"
    path.write_text(good + broken_block, encoding="utf-8")
    out = list(read_sdf(path, "s"))
    assert [type(x).__name__ for x in out] == ["Document", "Document", "Reject"]
    assert out[0].text.startswith("# alanine") and "IUPAC name: iupac-alanine" in out[0].text
    assert "[START_I_SMILES]C[C@H](N)C(=O)O[END_I_SMILES]" in out[0].text
    assert out[2].position == "record 3"


def test_gzipped_smi_is_read(tmp_path: Path) -> None:
    path = tmp_path / "few.smi.gz"
    path.write_bytes(gzip.compress(b"SMILES Name\nCCO ethanol\nCC(=O)O acetic acid\n"))
    docs = _docs(list(read_smiles(path, "s")))
    assert [d.metadata.title for d in docs] == ["ethanol", "acetic acid"]
