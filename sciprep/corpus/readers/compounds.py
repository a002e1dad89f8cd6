"""SMILES tables and SDF files (RDKit): one ``kind="compound"`` document per molecule.

- ``smiles``: ``.smi`` files (``SMILES [name]`` per line, optional header) and CSV/TSV
  files with a SMILES column (found case-insensitively, or named by ``smiles_column``);
  a name/IUPAC column is used for the title when present, other columns are kept in
  ``metadata.extra``.
- ``sdf``: SD files (optionally gzipped); the title line and the usual name properties
  (``PUBCHEM_IUPAC_NAME``, ``IUPAC_NAME``, ``NAME``) give the names.

An unparsable or chemically invalid SMILES, or an SDF block RDKit cannot read, is a
reject with its line/record number and RDKit's reason; RDKit's own logging is silenced.
"""

from __future__ import annotations

import csv
from pathlib import Path

from rdkit import Chem
from rdkit.rdBase import BlockLogs

from sciprep.corpus.document import Document, Metadata, stable_id
from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.compound_text import describe, parse_smiles, render
from sciprep.corpus.readers.sourcefile import READ_ERRORS, describe_error, open_binary, open_text, reject
from sciprep.corpus.readers.tables import csv_rows, find_column
from sciprep.corpus.shards import Reject

SMILES_COLUMNS = ("smiles", "canonical_smiles", "isomeric_smiles", "smiles_string", "mol_smiles")
NAME_COLUMNS = ("name", "compound", "compound_name", "pref_name", "molecule_name", "title")
IUPAC_COLUMNS = ("iupac", "iupac_name", "iupacname")
SDF_NAME_PROPS = ("PUBCHEM_IUPAC_NAME", "IUPAC_NAME", "IUPAC", "NAME", "Name")


def _compound(
    source: str,
    path: Path,
    position: str,
    smiles: str,
    name: str = "",
    iupac: str = "",
    extra: dict[str, str] | None = None,
) -> Document | Reject:
    mol, reason = parse_smiles(smiles)
    if mol is None:
        return reject(source, path, position, reason)
    facts = describe(mol)
    fields = {"formula": facts.formula, "input_smiles": smiles.strip(), **(extra or {})}
    if iupac:
        fields["iupac"] = iupac
    return Document(
        id=stable_id(source, path.name, position),
        text=render(facts, name=name, iupac=iupac),
        source=source,
        kind="compound",
        metadata=Metadata(title=name or iupac or facts.formula, extra=fields),
    )


def _smi_lines(path: Path, source: str) -> ReaderOutput:
    number = 0
    try:
        with open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                smiles, _, name = stripped.replace("\t", " ").partition(" ")
                if number == 1 and smiles.lower() in SMILES_COLUMNS:
                    continue  # a header line
                name = name.strip()
                extra = {"id": name} if name.isdigit() else {}
                yield _compound(
                    source, path, f"line {number}", smiles, name="" if extra else name, extra=extra
                )
    except READ_ERRORS as err:
        yield reject(source, path, f"after line {number}", f"unreadable from here on: {describe_error(err)}")


def _csv_table(path: Path, source: str, smiles_column: str, name_column: str, delimiter: str) -> ReaderOutput:
    line = 0
    try:
        header, rows = csv_rows(path, delimiter)
        smiles_key = find_column(header, smiles_column, SMILES_COLUMNS)
        if smiles_key is None:
            wanted = repr(smiles_column) if smiles_column else "a SMILES column"
            yield reject(
                source, path, "header", f"no {wanted} among columns {header}; set the smiles_column option"
            )
            rows.close()  # type: ignore[attr-defined]
            return
        name_key = find_column(header, name_column, NAME_COLUMNS)
        iupac_key = find_column(header, "", IUPAC_COLUMNS)
        for line, row in rows:
            position = f"line {line}"
            if None in row or any(v is None for v in row.values()):
                yield reject(source, path, position, f"row does not have the header's {len(header)} columns")
                continue
            extra = {
                k: str(v) for k, v in row.items() if k not in (smiles_key, name_key, iupac_key) and v != ""
            }
            yield _compound(
                source,
                path,
                position,
                row[smiles_key],
                name=row[name_key].strip() if name_key else "",
                iupac=row[iupac_key].strip() if iupac_key else "",
                extra=extra,
            )
    except (*READ_ERRORS, csv.Error) as err:
        yield reject(source, path, f"after line {line}", f"unreadable from here on: {describe_error(err)}")


@register_reader("smiles", (".smi", ".smiles", ".csv", ".tsv", ".smi.gz", ".csv.gz"))
def read_smiles(
    path: Path, source: str, *, smiles_column: str = "", name_column: str = "", delimiter: str = ""
) -> ReaderOutput:
    """One compound document per SMILES in a ``.smi`` file or a CSV/TSV table."""
    if path.name.lower().removesuffix(".gz").endswith((".smi", ".smiles")):
        return _smi_lines(path, source)
    return _csv_table(path, source, smiles_column, name_column, delimiter)


def _sdf_names(mol: Chem.Mol) -> tuple[str, str]:
    title = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
    iupac = ""
    for prop in SDF_NAME_PROPS:
        if mol.HasProp(prop) and mol.GetProp(prop).strip():
            iupac = mol.GetProp(prop).strip()
            break
    return title, iupac


@register_reader("sdf", (".sdf", ".sd", ".mol", ".sdf.gz"))
def read_sdf(path: Path, source: str) -> ReaderOutput:
    """One compound document per molecule block of an SD file."""
    index = 0
    try:
        with open_binary(path) as handle, BlockLogs():
            for index, mol in enumerate(Chem.ForwardSDMolSupplier(handle), start=1):
                position = f"record {index}"
                if mol is None or mol.GetNumAtoms() == 0:
                    yield reject(
                        source,
                        path,
                        position,
                        "RDKit cannot read this molecule block (bad atom/bond lines or valence)",
                    )
                    continue
                name, iupac = _sdf_names(mol)
                smiles = Chem.MolToSmiles(mol)
                extra = {
                    k: str(v) for k, v in sorted(mol.GetPropsAsDict().items()) if k not in SDF_NAME_PROPS
                }
                yield _compound(
                    source,
                    path,
                    position,
                    smiles,
                    name=name,
                    iupac=iupac if iupac != name else "",
                    extra=extra,
                )
    except READ_ERRORS as err:
        yield reject(
            source, path, f"after record {index}", f"unreadable SD file from here on: {describe_error(err)}"
        )
