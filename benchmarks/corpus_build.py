"""Corpus building speed: sciprep readers against the bare library loops they wrap.

Every figure is measured in the same run on the same real files, so the ratios say what
sciprep's document building (markup, validation, metadata, rejects) costs on top of the
parsing library itself, and what a resumed build costs against a fresh one:

* SMILES: ``smiles`` reader on RDKit's NCI ``first_5K.smi`` + ChEMBL sample vs a bare
  RDKit loop computing the same properties (parse, canonical SMILES, formula, weight,
  logP, HBD/HBA, TPSA);
* FASTA: ``fasta`` reader vs ``Bio.SeqIO.parse`` to strings, on the sample proteomes
  repeated to ~1 MB;
* JSONL: ``jsonl`` reader (markup off) vs ``json.loads`` per line on the unarXive
  papers as ``{id, text}`` lines (x10); datatrove's ``JsonlReader`` too when it is
  importable (install it in a separate virtualenv, never in the project's);
* build: a full recipe over every file type in ``../shared/data`` (documents/s, MB/s),
  then the same build resumed (all sources finished).

    python benchmarks/corpus_build.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from Bio import SeqIO
from rdkit import Chem, RDConfig
from rdkit.Chem import Crippen, Descriptors, rdMolDescriptors
from rdkit.rdBase import BlockLogs

from sciprep.corpus.build import build_corpus
from sciprep.corpus.readers.compounds import read_smiles
from sciprep.corpus.readers.generic import read_jsonl
from sciprep.corpus.readers.sequences import read_fasta
from sciprep.corpus.recipe import load_recipe

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NCI = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"

RECIPE = """
sources:
  - {{name: unarxive, path: {d}/arxiv/unarxive_sample.jsonl, reader: unarxive}}
  - {{name: latex, path: {d}/latex/*.tar.gz}}
  - {{name: pmc, path: {d}/jats/*.nxml, reader: jats}}
  - {{name: pubmed, path: {d}/pubmed}}
  - {{name: proteins, path: ["{d}/bio/*.fasta", "{d}/bio/*.faa"]}}
  - {{name: genomes, path: ["{d}/bio/*.fna", "{d}/bio/*.gb"]}}
  - {{name: chembl, path: {d}/chem/chembl_samples.csv}}
  - {{name: freesolv, path: {d}/chem/freesolv.csv, reader: prompts, options: {{template: freesolv}}}}
  - {{name: tugboat, path: {d}/bib/tugboat.bib}}
"""


def best(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs after one warm-up, and the count the function returns."""
    count = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), count


def rdkit_loop(paths: list[Path]) -> int:
    done = 0
    with BlockLogs():
        for path in paths:
            lines = path.read_text(encoding="utf-8").splitlines()
            column = 0
            if path.suffix == ".csv":
                column = [c.lower() for c in lines[0].split(",")].index("smiles")
                lines = lines[1:]
            for line in lines:
                fields = line.split(",") if path.suffix == ".csv" else line.split()
                mol = Chem.MolFromSmiles(fields[column]) if fields else None
                if mol is None:
                    continue
                Chem.MolToSmiles(mol)
                rdMolDescriptors.CalcMolFormula(mol), Descriptors.MolWt(mol), Crippen.MolLogP(mol)
                (
                    rdMolDescriptors.CalcNumHBD(mol),
                    rdMolDescriptors.CalcNumHBA(mol),
                    rdMolDescriptors.CalcTPSA(mol),
                )
                done += 1
    return done


def reader_loop(reader: Callable[..., object], paths: list[Path], **options: object) -> Callable[[], int]:
    def run() -> int:
        return sum(1 for path in paths for _ in reader(path, "bench", **options))  # type: ignore[operator]

    return run


def papers_jsonl(unarxive: Path) -> str:
    """The unarXive papers as plain ``{"id", "text"}`` lines (body paragraphs joined)."""
    lines = []
    for line in unarxive.read_text(encoding="utf-8").splitlines():
        paper = json.loads(line)
        text = "\n\n".join(p["text"] for p in paper["body_text"])
        lines.append(json.dumps({"id": paper["paper_id"], "text": text}) + "\n")
    return "".join(lines) * 10


def report(name: str, ours: tuple[float, int], base: tuple[float, int], base_name: str, size: int) -> None:
    print(
        f"{name:<8} sciprep {ours[1] / ours[0]:>10,.0f} rec/s {size / ours[0] / 1e6:>7.2f} MB/s | "
        f"{base_name} {base[1] / base[0]:>10,.0f} rec/s | sciprep/baseline {base[0] / ours[0]:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"real sample data not found at {DATA}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        smiles = [NCI, DATA / "chem" / "chembl_samples.csv"]
        size = sum(p.stat().st_size for p in smiles)
        report(
            "SMILES", best(reader_loop(read_smiles, smiles), args.repeat),
            best(lambda: rdkit_loop(smiles), args.repeat), "bare RDKit", size,
        )  # fmt: skip

        fasta = work / "proteins.fasta"
        sample = "".join((DATA / "bio" / n).read_text() for n in ("multi_ex.fasta", "uniref50_sample.fasta"))
        fasta.write_text(sample * max(1, 1_000_000 // len(sample)))
        report(
            "FASTA", best(reader_loop(read_fasta, [fasta]), args.repeat),
            best(lambda: sum(len(str(r.seq)) > 0 for r in SeqIO.parse(fasta, "fasta")), args.repeat),
            "SeqIO", fasta.stat().st_size,
        )  # fmt: skip

        jsonl = work / "papers.jsonl"
        jsonl.write_text(papers_jsonl(DATA / "arxiv" / "unarxive_sample.jsonl"), encoding="utf-8")
        plain = best(lambda: sum(1 for line in jsonl.open(encoding="utf-8") if json.loads(line)), args.repeat)
        ours = best(reader_loop(read_jsonl, [jsonl], markup=False), args.repeat)
        report("JSONL", ours, plain, "json.loads", jsonl.stat().st_size)
        try:
            from datatrove.pipeline.readers import JsonlReader

            def datatrove_run() -> int:
                return sum(1 for _ in JsonlReader(str(work), glob_pattern=jsonl.name).run())

            report("JSONL", ours, best(datatrove_run, args.repeat), "datatrove", jsonl.stat().st_size)
        except ImportError:
            print("JSONL    datatrove not importable: peer skipped")

        recipe = work / "recipe.yaml"
        recipe.write_text(RECIPE.format(d=DATA.as_posix()), encoding="utf-8")
        inputs = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file() and "LICENSE" not in p.name)
        start = time.perf_counter()
        manifest = build_corpus(load_recipe(recipe), work / "corpus", progress=False)
        fresh = time.perf_counter() - start
        start = time.perf_counter()
        build_corpus(load_recipe(recipe), work / "corpus", progress=False)
        resumed = time.perf_counter() - start
        totals = manifest["totals"]
        print(
            f"build    {totals['documents']:,} documents + {totals['rejected']:,} rejects "
            f"from {inputs / 1e6:.1f} MB in {fresh:.2f} s "
            f"({totals['documents'] / fresh:,.0f} docs/s, {inputs / fresh / 1e6:.2f} MB/s); "
            f"resumed in {resumed:.3f} s ({fresh / resumed:.0f}x faster)"
        )


if __name__ == "__main__":
    main()
