"""Scale-out overhead: corpus build and cleaning on 1 and 2 local workers and on a local Ray.

Builds a corpus from every file in ``../shared/data`` plus RDKit's NCI SMILES (papers,
abstracts, proteins, DNA, compounds, prompts, BibTeX) with each executor, then cleans
it with the default pipeline with each executor, and prints documents/second, MB/s and
estimated tokens/second (Galactica's characters-per-token by modality, as ``sciprep
corpus stats`` estimates) with the ratio against one in-process worker measured in the
same run. Every executor's output is checked byte for byte against the in-process one.

A second part builds and cleans the paper sources alone (unarXive, arXiv LaTeX, JATS)
in one process: the per-core rate on prose-heavy data, which is what a 100B-token
corpus mostly is (see docs/scale.md for the cluster estimate made from these figures).

Shards (``--shard-docs`` documents each) are the unit of parallelism of cleaning, and
inputs/sources that of the build. Ray's start-up (``ray.init`` plus its first workers)
is timed apart from the passes.

Usage: ``python benchmarks/scale.py [--shard-docs 500] [--repeat 1] [--no-ray]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rdkit import RDConfig

from sciprep.cleaning import StepContext, default_pipeline
from sciprep.cleaning.corpus_decisions import resolve_corpus_decisions
from sciprep.corpus.build import build_corpus
from sciprep.corpus.recipe import load_recipe
from sciprep.corpus.stats import corpus_stats
from sciprep.execution import Executor, LocalExecutor

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NCI = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"

PAPERS = """
  - {{name: unarxive, path: {d}/arxiv/unarxive_sample.jsonl, reader: unarxive}}
  - {{name: arxiv_latex, path: {d}/latex/*.tar.gz}}
  - {{name: pmc, path: {d}/jats/*.nxml, reader: jats}}
"""
EVERYTHING = PAPERS + """
  - {{name: pubmed, path: {d}/pubmed}}
  - name: proteins
    path: ["{d}/bio/multi_ex.fasta", "{d}/bio/uniref50_sample.fasta", "{d}/bio/*.faa"]
  - {{name: genomes, path: ["{d}/bio/*.fna", "{d}/bio/*.gb"]}}
  - {{name: chembl, path: {d}/chem/chembl_samples.csv}}
  - {{name: nci, path: {nci}, reader: smiles}}
  - {{name: freesolv_prompts, path: {d}/chem/freesolv.csv, reader: prompts, options: {{template: freesolv}}}}
  - {{name: tugboat, path: {d}/bib/tugboat.bib}}
"""


def _recipe(folder: Path, sources: str, shard_docs: int) -> Path:
    path = folder / f"recipe-{len(sources)}.yaml"
    body = sources.format(d=DATA.as_posix(), nci=NCI.as_posix())
    path.write_text(f"sources:{body}shard_max_docs: {shard_docs}\n", encoding="utf-8")
    return path


def _tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not str(p.relative_to(root)).startswith(skip)
    }


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _best(run: Callable[[Path], Any], outs: list[Path]) -> float:
    """Fastest of one run per output folder (a shared machine's load comes and goes)."""
    return min(_timed(lambda: run(out)) for out in outs)


def _row(phase: str, name: str, seconds: float, size: dict[str, float], base: float | None) -> str:
    ratio = "1.00" if base is None else f"{base / seconds:.2f}"
    return (
        f"{phase:<6} {name:<22} {seconds:8.2f} {size['documents'] / seconds:10,.0f} "
        f"{size['mb'] / seconds:7.2f} {size['tokens'] / seconds:12,.0f} {ratio:>9}"
    )


def _size(corpus: Path) -> dict[str, float]:
    stats = corpus_stats(corpus)
    mb = sum(p.stat().st_size for p in (corpus / "shards").glob("*.parquet")) / 1e6
    chars = sum(stats.characters.values())
    return {"documents": stats.documents, "tokens": sum(stats.tokens.values()), "mb": chars / 1e6, "parquet_mb": mb}


def _time_decisions(corpus: Path, out: Path, use_ray: bool) -> None:
    """The corpus-wide decisions alone (repeated ids, exact and near dedup) on a finished
    run's tags: on the driver as local runs make them, and as Ray Data shuffles."""
    steps = default_pipeline().steps
    for step in steps:
        step.setup(StepContext(in_dir=corpus, out_dir=out))
    stems = sorted(p.stem for p in (corpus / "shards").glob("*.parquet"))
    local = _timed(lambda: resolve_corpus_decisions(out, stems, steps))
    line = f"corpus-wide decisions alone: {local:.2f} s on the driver (local runs)"
    if use_ray:
        from sciprep.cleaning.distributed import resolve_corpus_decisions_ray

        line += f", {_timed(lambda: resolve_corpus_decisions_ray(out, stems, steps)):.2f} s as Ray Data shuffles"
    print(line)


def _executors(use_ray: bool) -> list[tuple[str, Executor]]:
    executors: list[tuple[str, Executor]] = [
        ("local, 1 worker", LocalExecutor(workers=1)),
        ("local, 2 workers", LocalExecutor(workers=2)),
    ]
    if use_ray:
        import logging

        import ray

        from sciprep.execution import RayExecutor

        start = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # one INFO line per Dataset otherwise
        executor = RayExecutor()
        executor.map(abs, [-1, -2], desc="warm-up", progress=False)  # start its workers
        print(f"Ray start-up (ray.init + first workers): {time.perf_counter() - start:.2f} s, not counted below")
        executors.append(("ray, local, 2 CPUs", executor))
    return executors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shard-docs", type=int, default=500, help="documents per corpus shard")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs per executor; the fastest counts")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"real sample data not found at {DATA}")
    print(f"machine: {os.cpu_count()} CPUs (os.cpu_count), load average {os.getloadavg()[0]:.2f}")
    executors = _executors(use_ray=not args.no_ray)
    header = (
        f"{'phase':<6} {'executor':<22} {'seconds':>8} {'docs/s':>10} {'MB/s':>7} {'est. tok/s':>12} {'vs 1 wkr':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recipe = load_recipe(_recipe(folder, EVERYTHING, args.shard_docs))
        builds: list[tuple[str, float]] = []
        for n, (name, executor) in enumerate(executors):
            outs = [folder / f"build-{n}-{r}" for r in range(args.repeat)]
            builds.append((name, _best(lambda out: build_corpus(recipe, out, progress=False, executor=executor), outs)))
            assert all(_tree(out) == _tree(folder / "build-0-0") for out in outs), f"{name}: build output differs"
        corpus = folder / "build-0-0"
        size = _size(corpus)
        shards = len(list((corpus / "shards").glob("*.parquet")))
        print(
            f"corpus: {size['documents']:,} documents, {size['mb']:.1f} M characters, "
            f"~{size['tokens'] / 1e6:.2f} M tokens (estimated), {shards} shards"
        )
        print(header)
        for name, seconds in builds:
            print(_row("build", name, seconds, size, None if name == builds[0][0] else builds[0][1]))
        cleans: list[tuple[str, float]] = []
        for n, (name, executor) in enumerate(executors):
            outs = [folder / f"clean-{n}-{r}" for r in range(args.repeat)]
            clean = lambda out: default_pipeline().run(corpus, out, progress=False, executor=executor)  # noqa: E731
            cleans.append((name, _best(clean, outs)))
            same = all(_tree(out, ("work/",)) == _tree(folder / "clean-0-0", ("work/",)) for out in outs)
            assert same, f"{name}: cleaning output differs from one worker's"
        for name, seconds in cleans:
            print(_row("clean", name, seconds, size, None if name == cleans[0][0] else cleans[0][1]))
        _time_decisions(corpus, folder / "clean-0-0", use_ray=not args.no_ray)

        papers_recipe = load_recipe(_recipe(folder, PAPERS, args.shard_docs))
        build_s = _timed(lambda: build_corpus(papers_recipe, folder / "papers", progress=False))
        papers = _size(folder / "papers")
        clean_s = _timed(lambda: default_pipeline().run(folder / "papers", folder / "papers-clean", progress=False))
        print(
            f"papers only ({papers['documents']:,} documents, ~{papers['tokens'] / 1e6:.2f} M tokens, "
            f"{papers['tokens'] / papers['documents']:,.0f} tokens/document), one process:"
        )
        print(header)
        print(_row("build", "local, 1 worker", build_s, papers, None))
        print(_row("clean", "local, 1 worker", clean_s, papers, None))
        for spec in papers_recipe.sources:  # each paper format's reader alone
            one = replace(papers_recipe, sources=(spec,))
            seconds = _timed(lambda: build_corpus(one, folder / f"paper-{spec.name}", progress=False))
            print(_row("build", f"  {spec.name} alone", seconds, _size(folder / f"paper-{spec.name}"), None))


if __name__ == "__main__":
    main()
