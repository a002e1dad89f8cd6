"""Cleaning throughput and false kills on real science documents.

Builds documents from ``../shared/data`` with the corpus readers (unarXive papers,
UniRef/Swiss-Prot proteins, GenBank DNA, ChEMBL and NCI compounds), then prints:

* per step: tag + decide throughput (MB/s, documents/s) on the in-memory documents,
  plus decontamination against an evaluation set made of 5 of the papers' abstracts
  (it must remove exactly those 5 papers);
* end to end: ``sciprep clean`` with the default pipeline versus an I/O-only pipeline
  (no steps: read, stage, write) measured in the same run, as a ratio;
* false kills: how many of these real documents each filter removes. With
  ``datatrove`` importable (install it in a separate virtualenv, never in the
  project's: ``pip install datatrove``) its C4, Gopher quality and Gopher repetition
  filters run on the same documents for comparison.

Usage: ``python benchmarks/clean_throughput.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from rdkit import RDConfig

from sciprep.cleaning import Pipeline, default_pipeline
from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.base import Keep, Modify, Step, StepContext
from sciprep.corpus.document import Document
from sciprep.corpus.readers import get_reader
from sciprep.corpus.shards import write_documents

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_documents() -> list[Document]:
    """Real documents through the corpus stage's own readers."""
    inputs = [
        ("unarxive", DATA / "arxiv" / "unarxive_sample.jsonl", "arxiv"),
        ("fasta", DATA / "bio" / "uniref50_sample.fasta", "uniref"),
        ("fasta", DATA / "bio" / "multi_ex.fasta", "swissprot"),
        ("genbank", DATA / "bio" / "NC_005816.gb", "genbank"),
        ("smiles", DATA / "chem" / "chembl_samples.csv", "chembl"),
        ("smiles", Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi", "nci"),
    ]
    docs: list[Document] = []
    for reader, path, source in inputs:
        docs.extend(d for d in get_reader(reader)(path, source) if isinstance(d, Document))
    return docs


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def step_outcomes(step: Step, docs: list[Document]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for doc in docs:
        decision = step.decide(doc, step.tag(doc))
        if isinstance(decision, Keep):
            outcomes["kept"] += 1
        else:
            outcomes["modified" if isinstance(decision, Modify) else "removed"] += 1
    return outcomes


def datatrove_kills(docs: list[Document]) -> dict[str, Counter[str]] | None:
    """Documents per kind each datatrove web filter would remove, or None if not installed."""
    try:
        from datatrove.data import Document as DtDocument
        from datatrove.pipeline.filters import (
            C4QualityFilter,
            GopherQualityFilter,
            GopherRepetitionFilter,
        )
    except ImportError:
        return None
    filters = {"datatrove C4": C4QualityFilter(), "datatrove Gopher quality": GopherQualityFilter(),
               "datatrove Gopher repetition": GopherRepetitionFilter()}  # fmt: skip
    kills: dict[str, Counter[str]] = {}
    for name, flt in filters.items():
        kills[name] = Counter()
        for doc in docs:
            result = flt.filter(DtDocument(text=doc.text, id=doc.id))
            keep = result[0] if isinstance(result, tuple) else result
            if not keep:
                kills[name][doc.kind] += 1
    return kills


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    docs = load_documents()
    megabytes = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
    kinds = Counter(d.kind for d in docs)
    print(f"{len(docs)} documents, {megabytes:.2f} MB ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    print(f"machine: {os.cpu_count()} CPUs visible\n")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        half = len(docs) // 2
        write_documents(root / "in" / "shards" / "part-00000.parquet", docs[:half])
        write_documents(root / "in" / "shards" / "part-00001.parquet", docs[half:])
        # An evaluation set that leaks: the abstract (longest of the first paragraphs) of 5 papers.
        papers = [d for d in docs if d.kind == "paper"][:5]
        abstracts = [max(p.text.split("\n\n")[:4], key=len).replace("\n", " ") for p in papers]
        eval_file = root / "leaked_abstracts.txt"
        eval_file.write_text("\n".join(abstracts) + "\n")
        leaky = build_step("decontaminate", {"eval_path": str(eval_file)}, label="decontaminate_5_leaks")
        pipeline = default_pipeline()
        context = StepContext(in_dir=root / "in", out_dir=root / "scratch")
        print(f"{'step':22} {'MB/s':>8} {'docs/s':>9}  outcome on these real documents")
        for step in [*pipeline.steps, leaky]:
            step.setup(context)
            applicable = [d for d in docs if step.applies_to(d.kind)]
            if step.scope == "corpus":
                seconds = best_of(lambda s=step, a=applicable: [s.tag(d) for d in a], args.repeat)
                note = "tag only (decision is corpus-wide)"
            else:
                seconds = best_of(lambda s=step, a=applicable: [s.decide(d, s.tag(d)) for d in a], args.repeat)
                note = ", ".join(f"{k} {v}" for k, v in sorted(step_outcomes(step, applicable).items()))
            if step.describe().get("evaluation", {}).get("items") == 0:
                note += " (empty evaluation set: this corpus has no test prompts)"
            mb = sum(len(d.text.encode("utf-8")) for d in applicable) / 1e6
            print(f"{step.label:22} {mb / seconds:8.2f} {len(applicable) / seconds:9.0f}  {note}")

        runs = iter(range(1_000_000))

        def clean(pipe_factory: Callable[[], Pipeline]) -> Callable[[], object]:
            return lambda: pipe_factory().run(root / "in", root / f"out{next(runs)}", progress=False)

        io_only = best_of(clean(lambda: Pipeline([])), args.repeat)
        full = best_of(clean(default_pipeline), args.repeat)
        print(
            f"\nend to end: I/O only {len(docs) / io_only:.0f} docs/s; default pipeline "
            f"{len(docs) / full:.0f} docs/s ({megabytes / full:.2f} MB/s), {full / io_only:.1f}x the I/O-only time"
        )

    kills = datatrove_kills(docs)
    if kills is None:
        print("\ndatatrove not importable: peer filters skipped")
        return
    print("\nreal documents removed by web-text filters (per kind):")
    for name, counter in kills.items():
        print(f"  {name:28} {sum(counter.values()):5}  {dict(sorted(counter.items()))}")


if __name__ == "__main__":
    main()
