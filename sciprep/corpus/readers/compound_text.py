"""How one molecule becomes a Galactica-style compound document (RDKit).

The SMILES is RDKit's canonical isomeric SMILES, wrapped in ``[START_I_SMILES]`` when
it carries isomeric information (stereo or isotopes) and ``[START_SMILES]`` otherwise,
followed by properties RDKit computes from the structure itself (formula, molecular
weight, Crippen logP, H-bond donors/acceptors, TPSA) so every compound document has the
same facts whatever its source provided.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdkit import Chem
from rdkit.Chem import Crippen, Descriptors, rdMolDescriptors
from rdkit.rdBase import BlockLogs

from sciprep.tokenize.specials import END_I_SMILES, END_SMILES, START_I_SMILES, START_SMILES

#: What makes a SMILES isomeric: tetrahedral (``@``), double-bond (``/``, ``\\``) or isotope labels.
_ISOMERIC = re.compile(r"[@/\\]|\[\d")


@dataclass(frozen=True)
class CompoundFacts:
    """Canonical structure and RDKit-computed properties of one molecule."""

    smiles: str
    isomeric: bool
    formula: str
    weight: float
    logp: float
    donors: int
    acceptors: int
    tpsa: float


def parse_smiles(smiles: str) -> tuple[Chem.Mol | None, str]:
    """``(mol, "")`` for a usable SMILES, ``(None, reason)`` otherwise; RDKit logs silenced."""
    text = smiles.strip()
    if not text:
        return None, "empty SMILES"
    with BlockLogs():  # RDKit logs to stderr; the reason goes to the reject instead
        mol = Chem.MolFromSmiles(text, sanitize=False)
        if mol is None:
            return None, f"SMILES syntax error in {text[:200]!r}"
        if mol.GetNumAtoms() == 0:
            return None, f"SMILES {text[:200]!r} has no atoms"
        try:
            Chem.SanitizeMol(mol)
        except (Chem.rdchem.MolSanitizeException, RuntimeError, ValueError) as err:
            return None, f"chemically invalid SMILES {text[:200]!r}: {err}"
    return mol, ""


def describe(mol: Chem.Mol) -> CompoundFacts:
    """Canonical SMILES and the computed properties of a sanitized molecule."""
    with BlockLogs():
        smiles = Chem.MolToSmiles(mol, isomericSmiles=True)
        return CompoundFacts(
            smiles=smiles,
            isomeric=bool(_ISOMERIC.search(smiles)),
            formula=rdMolDescriptors.CalcMolFormula(mol),
            weight=Descriptors.MolWt(mol),
            logp=Crippen.MolLogP(mol),
            donors=rdMolDescriptors.CalcNumHBD(mol),
            acceptors=rdMolDescriptors.CalcNumHBA(mol),
            tpsa=rdMolDescriptors.CalcTPSA(mol),
        )


def smiles_markup(facts: CompoundFacts) -> str:
    """The SMILES wrapped in the I_SMILES or SMILES tags (I_SMILES when isomeric)."""
    if facts.isomeric:
        return f"{START_I_SMILES}{facts.smiles}{END_I_SMILES}"
    return f"{START_SMILES}{facts.smiles}{END_SMILES}"


def render(facts: CompoundFacts, name: str = "", iupac: str = "", synonyms: tuple[str, ...] = ()) -> str:
    """The compound document text: title, names, SMILES markup, computed properties."""
    title = name or iupac or facts.formula
    lines = [f"# {title}", ""]
    if iupac and iupac != title:
        lines.append(f"IUPAC name: {iupac}")
    if synonyms:
        lines.append(f"Synonyms: {', '.join(synonyms)}")
    if lines[-1]:
        lines.append("")
    lines += [
        smiles_markup(facts),
        "",
        "## Computed properties",
        "",
        f"Molecular formula: {facts.formula}",
        f"Molecular weight: {facts.weight:.2f} g/mol",
        f"LogP (Crippen): {facts.logp:.2f}",
        f"Hydrogen bond donors: {facts.donors}",
        f"Hydrogen bond acceptors: {facts.acceptors}",
        f"Topological polar surface area: {facts.tpsa:.2f} Å²",
    ]
    return "\n".join(lines)
