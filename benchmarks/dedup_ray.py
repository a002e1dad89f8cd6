"""Corpus-wide dedup decisions: one process versus Ray shuffles, on the near-dup benchmark set.

Builds the labelled set of ``benchmarks/dedup.py`` (real arXiv passages, edited copies,
numbers-changed copies; ``--scale k`` concatenates the sets of seeds ``0..k-1``, so
clusters grow across seeds), writes it as ``--shards`` input shards, and runs a cleaning
run's tag pass once (``exact_dedup`` then ``near_dedup``). Then it times the decision
phase alone, best of ``--repeat`` after a warm-up, both ways on the same stored
attributes:

* ``resolve_corpus_decisions``: every signature in this process;
* ``resolve_corpus_decisions_ray``: Ray Data shuffles on a local Ray with ``--cpus`` CPUs.

and checks that both decided exactly the same. The ratio is the price (or gain) of the
distributed form on one machine; its point is that no step needs all signatures on one
node.

Usage: ``python benchmarks/dedup_ray.py [--scale 1] [--shards 8] [--cpus 2] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sciprep.cleaning import Pipeline
from sciprep.cleaning.corpus_decisions import CorpusOutcome, resolve_corpus_decisions
from sciprep.cleaning.distributed import resolve_corpus_decisions_ray
from sciprep.cleaning.steps import build_step
from sciprep.corpus.document import Document, stable_id
from sciprep.corpus.shards import list_shards, write_documents

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dedup import DEFAULT_DATA, build_set  # noqa: E402  (a sibling script, not a package)


def best_of(fn: Callable[[], CorpusOutcome], repeat: int) -> tuple[float, CorpusOutcome]:
    fn()  # warm-up: imports, Ray workers
    times, outcome = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        outcome = fn()
        times.append(time.perf_counter() - start)
    assert outcome is not None
    return min(times), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scale", type=int, default=1, help="labelled sets of seeds 0..scale-1, concatenated")
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"benchmark data not found: {args.data} (pass --data)")

    texts = [t for seed in range(args.scale) for t in build_set(args.data, seed).texts]
    docs = [Document(id=stable_id("bench", str(n)), text=t, source="arxiv", kind="paper") for n, t in enumerate(texts)]
    print(
        f"{len(docs)} documents in {args.shards} shards; machine: {os.cpu_count()} CPUs visible, Ray given {args.cpus}"
    )

    import ray

    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        per = -(-len(docs) // args.shards)
        for n in range(args.shards):
            write_documents(root / "in" / "shards" / f"part-{n:05d}.parquet", docs[n * per : (n + 1) * per])
        steps = [build_step("exact_dedup"), build_step("near_dedup", {"write_store": False})]
        start = time.perf_counter()
        Pipeline(steps).run(root / "in", root / "out", progress=False)
        print(f"tag pass + local decisions + write pass: {time.perf_counter() - start:.1f} s")
        stems = [p.stem for p in list_shards(root / "in")]
        local_s, local = best_of(lambda: resolve_corpus_decisions(root / "out", stems, steps), args.repeat)
        ray_s, on_ray = best_of(lambda: resolve_corpus_decisions_ray(root / "out", stems, steps), args.repeat)
    ray.shutdown()
    same = on_ray.decided == local.decided and on_ray.metadata == local.metadata
    removed = sum(1 for d in local.decided.values() if d.step_index >= 0)
    print(f"removed {removed} of {len(docs)}; Ray result identical to local: {same}")
    print("| decision phase | seconds | documents/s | x local |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in (("local (one process)", local_s), (f"Ray Data ({args.cpus} CPUs)", ray_s)):
        print(f"| {name} | {seconds:.2f} | {len(docs) / seconds:,.0f} | {local_s / seconds:.2f} |")
    if not same:
        raise SystemExit("Ray and local decisions differ")


if __name__ == "__main__":
    main()
