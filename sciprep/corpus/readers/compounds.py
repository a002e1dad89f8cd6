"""SMILES tables and SDF files (RDKit): one ``kind="compound"`` document per molecule.

- ``smiles``: ``.smi`` files (``SMILES [name]`` per line, optional header) and CSV/TSV
  files with a SMILES column (named by ``smiles_column``, else found by name
  case-insensitively, else by content: the column whose first rows parse in RDKit; then
  a first row that parses there too means the file has no header); a name/IUPAC column
  is used for the title when present, other columns are kept in ``metadata.extra``.
- ``sdf``: SD files (optionally gzipped); the title line and the usual name properties
  (``PUBCHEM_IUPAC_NAME``, ``IUPAC_NAME``, ``NAME``) give the names.

An unparsable or chemically invalid SMILES, or an SDF block RDKit cannot read, is a
reject with its line/record number and RDKit's reason; RDKit's own logging is silenced.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rdkit import Chem
from rdkit.rdBase import BlockLogs

from sciprep.corpus.document import Document, Metadata, stable_id
from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.compound_text import describe, parse_smiles, render
from sciprep.corpus.readers.sourcefile import READ_ERRORS, describe_error, open_binary, open_text, reject
from sciprep.corpus.readers.tables import csv_rows, find_column, first_records
from sciprep.corpus.shards import Reject

SMILES_COLUMNS = ("smiles", "canonical_smiles", "isomeric_smiles", "smiles_string", "mol_smiles")
NAME_COLUMNS = ("name", "compound", "compound_name", "pref_name", "molecule_name", "title")
IUPAC_COLUMNS = ("iupac", "iupac_name", "iupacname")
SDF_NAME_PROPS = ("PUBCHEM_IUPAC_NAME", "IUPAC_NAME", "IUPAC", "NAME", "Name")
#: Rows looked at to find a SMILES column by content when no column name says so.
SNIFF_ROWS = 20


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


def _parses(value: str) -> bool:
    return parse_smiles(value)[0] is not None


def smiles_column_by_content(records: list[list[str]]) -> tuple[int, bool] | None:
    """``(column index, has_header)`` of the column holding SMILES, judged by content.

    ``records`` are a file's first rows. The column is the one where most rows after the
    first parse in RDKit (at least half; ties go to the longer SMILES, so a ``Y``/``N``
    flag column does not win), and the first row is a header unless its cell there parses
    too. None when no column qualifies.
    """
    if not records:
        return None
    data = records[1:] or records
    best: tuple[int, int, int] | None = None  # (score, characters, -column)
    for column in range(len(records[0])):
        cells = [r[column] for r in data if column < len(r) and _parses(r[column])]
        candidate = (len(cells), sum(map(len, cells)), -column)
        if cells and (best is None or candidate > best):
            best = candidate
    if best is None or 2 * best[0] < len(data):
        return None
    column = -best[2]
    return column, not _parses(records[0][column])


def _locate_smiles(
    path: Path, delimiter: str, smiles_column: str
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]], str] | str:
    """The header, rows and SMILES key of a table, or the reason no SMILES column was found.

    A column named like :data:`SMILES_COLUMNS` (or ``smiles_column``) wins; otherwise the
    content decides (:func:`smiles_column_by_content`), and a file without a header gets
    columns ``column_1``, ``column_2``, ... (usable as ``name_column``).
    """
    header, rows = csv_rows(path, delimiter)
    key = find_column(header, smiles_column, SMILES_COLUMNS)
    if key is not None:
        return header, rows, key
    rows.close()  # type: ignore[attr-defined]
    if smiles_column:
        return f"no column {smiles_column!r} among columns {header}; set smiles_column to one of them"
    records = first_records(path, delimiter, SNIFF_ROWS)
    found = smiles_column_by_content(records)
    if found is None:
        return (
            f"no SMILES column: no column is named {' / '.join(SMILES_COLUMNS)} and none of the "
            f"first {len(records)} rows holds SMILES RDKit can parse (columns: {header}); "
            "set the smiles_column option"
        )
    column, has_header = found
    if has_header:
        header, rows = csv_rows(path, delimiter)
        return header, rows, header[column]
    names = [f"column_{i + 1}" for i in range(len(records[0]))]
    header, rows = csv_rows(path, delimiter, fieldnames=names)
    return header, rows, names[column]


def _csv_table(path: Path, source: str, smiles_column: str, name_column: str, delimiter: str) -> ReaderOutput:
    line = 0
    try:
        located = _locate_smiles(path, delimiter, smiles_column)
        if isinstance(located, str):
            yield reject(source, path, "header", located)
            return
        header, rows, smiles_key = located
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
