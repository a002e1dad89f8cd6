"""The demo's inputs: the corpus shipped in ``sciprep/demo/data`` plus RDKit's NCI molecules.

The recipe is written into the demo directory at run time (``DIR/recipe.yaml``) because
two of its paths are only known then: the installed package's data folder and the
slice of RDKit's NCI set, copied to ``DIR/inputs/``. Paths in the written recipe are
absolute, so ``sciprep corpus build DIR/recipe.yaml --out ...`` works from any folder.

What the shipped files hold, and what each is for:

* ``papers/*.tex`` + ``papers/demo.bib``: five short LaTeX papers written for sciprep
  (prose, inline and display math, ``\\cite`` resolved against the BibTeX) and
  ``gravity-v2.tex``, a lightly revised copy of ``gravity.tex`` (a near duplicate);
* ``reading-list.bib``: a second bibliography repeating two entries (exact duplicates);
* ``compounds.smi``: named molecules, one of them a broken SMILES (a corpus reject);
* ``proteins.fasta`` and ``dna.fasta``: peptides and back-translated coding sequences;
* ``worked.jsonl``: worked solutions with Galactica's ``<work>`` blocks;
* ``notes.jsonl``: short notes, among them an exact copy, a cookie banner, OCR
  gibberish, a stub, a note with contact details and a revision sheet quoting a
  held-out question, so every cleaning step has something to do;
* ``qa.csv``: question/answer pairs for prompt pre-training and tuning.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from sciprep.atomicio import atomic_path

DATA_DIR = Path(__file__).resolve().parent / "data"
RECIPE_FILE = "recipe.yaml"
INPUTS_DIR = "inputs"

#: Passes over the NCI molecules per epoch: property tables are repetitive, papers are not.
NCI_WEIGHT = 0.5
#: Share of question/answer pairs held out for tuning evaluation (and decontamination).
PROMPT_TEST_FRACTION = 0.2


def nci_smiles_file() -> Path:
    """RDKit's bundled NCI sample (5,000 real molecules, ``SMILES<TAB>id`` lines)."""
    from rdkit import RDConfig

    path = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: RDKit's NCI sample is missing from this RDKit installation; "
                                "run the demo with --molecules 0 to leave it out")  # fmt: skip
    return path


def _write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` atomically unless the file already holds it.

    Leaving an identical file untouched keeps its modification time, which is part of
    the corpus stage's resume fingerprint: a rerun then does not rebuild that source.
    """
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def _nci_slice(out: Path, molecules: int) -> Path:
    """The first ``molecules`` lines of the NCI sample, copied into ``out/inputs/``."""
    lines = nci_smiles_file().read_text(encoding="utf-8").splitlines(keepends=True)[:molecules]
    target = out / INPUTS_DIR / f"nci-first-{molecules}.smi"
    _write_if_changed(target, "".join(lines).encode("utf-8"))
    return target


def recipe_mapping(out: Path, molecules: int) -> dict[str, Any]:
    """The demo recipe as a mapping (``sources`` in the corpus stage's recipe format)."""
    data = DATA_DIR
    sources: list[dict[str, Any]] = [
        {"name": "papers", "path": str(data / "papers" / "*.tex"), "reader": "latex", "weight": 2.0},
        {"name": "references", "path": [str(data / "papers" / "demo.bib"), str(data / "reading-list.bib")],
         "reader": "bibtex"},
        {"name": "compounds", "path": str(data / "compounds.smi"), "reader": "smiles"},
    ]  # fmt: skip
    if molecules > 0:
        sources.append({"name": "nci", "path": str(_nci_slice(out, molecules)), "reader": "smiles",
                        "weight": NCI_WEIGHT})  # fmt: skip
    sources += [
        {"name": "proteins", "path": str(data / "proteins.fasta"), "reader": "fasta",
         "options": {"alphabet": "protein"}},
        {"name": "dna", "path": str(data / "dna.fasta"), "reader": "fasta", "options": {"alphabet": "dna"}},
        {"name": "worked", "path": str(data / "worked.jsonl"), "reader": "jsonl"},
        {"name": "notes", "path": str(data / "notes.jsonl"), "reader": "jsonl"},
        {"name": "prompts", "path": str(data / "qa.csv"), "reader": "prompts",
         "options": {"template": "qa", "test_fraction": PROMPT_TEST_FRACTION}},
    ]  # fmt: skip
    return {"sources": sources}


_HEADER = """\
# Written by `sciprep demo`: the built-in demo corpus (sciprep/demo/data) plus the first
# {molecules} molecules of RDKit's NCI sample. Rebuild it alone with
#   sciprep corpus build {recipe} --out CORPUS_DIR
# or copy it as the starting point of a recipe for your own files.
"""


def write_recipe(out: Path, molecules: int) -> Path:
    """Write ``out/recipe.yaml`` (and the NCI slice it reads); return the recipe's path."""
    if molecules < 0:
        raise ValueError(f"--molecules must be 0 or more, got {molecules}")
    target = out / RECIPE_FILE
    header = _HEADER.format(molecules=molecules, recipe=os.fspath(target))
    body = yaml.safe_dump(recipe_mapping(out, molecules), sort_keys=False, allow_unicode=True, width=200)
    _write_if_changed(target, (header + body).encode("utf-8"))
    return target
