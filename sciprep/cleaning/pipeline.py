"""A cleaning pipeline: an ordered list of steps run over a corpus directory.

Output directory layout (``OUT``)::

    OUT/shards/<stem>.parquet      kept documents, one file per input shard (corpus format)
    OUT/excluded/<stem>.parquet    removed documents + step, reason, score
    OUT/rejects.parquet            unusable records (corpus Reject rows: file, position, reason, step)
    OUT/report.json                pipeline, totals and per-step / per-source counts
    OUT/manifest.json              the input manifest with cleaned per-source counts
    OUT/attributes/<label>/...     stored step attributes (tag phase), reused by later runs
    OUT/work/...                   staged shards and completion markers (resume)

A run has two passes (see :mod:`~sciprep.cleaning.tagpass` and
:mod:`~sciprep.cleaning.writepass`) with corpus-scope decisions in between. Both passes
are one task per input shard on an executor (:mod:`sciprep.execution`: this process, a
process pool, or Ray); each task writes its own files and marker. Each
shard's marker is written only after its files' atomic renames, and carries the run
fingerprint (pipeline parameters + input shard names, sizes and times): rerunning the same
command resumes, skipping finished shards. Rerunning with changed parameters needs
``redecide=True``: decisions and outputs are redone, stored attributes are reused
wherever their tag parameters and the text they saw are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from sciprep.atomicio import write_json_atomic
from sciprep.cleaning.corpus_decisions import CorpusOutcome, resolve_corpus_decisions
from sciprep.cleaning.report import build_manifest, build_report
from sciprep.cleaning.steps.base import Step, StepContext
from sciprep.cleaning.tagpass import TAGGED_DIR, ReadReject, tag_shard
from sciprep.cleaning.writepass import (
    EXCLUDED_DIR,
    add_stats,
    check_conservation,
    new_stats,
    write_shard,
)
from sciprep.corpus.shards import (
    MANIFEST_FILE,
    REJECTS_FILE,
    SHARDS_DIR,
    Reject,
    list_shards,
    write_rejects,
)
from sciprep.corpus.shards import read_rejects as read_input_rejects
from sciprep.execution.executor import Executor
from sciprep.execution.local import LocalExecutor
from sciprep.execution.ray_executor import RayExecutor

REPORT_FILE = "report.json"
_RUN_FILE = Path("work") / "run.json"
_DONE_DIR = Path("work") / "done"
#: Bump when the meaning of the work files changes, so old work directories are not resumed.
_FORMAT_VERSION = 1


class Pipeline:
    """Ordered cleaning steps; :meth:`run` cleans a corpus directory into another."""

    def __init__(self, steps: Sequence[Step], seed: int = 0) -> None:
        labels = [s.label for s in steps]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"cleaning pipeline: step labels must be unique, repeated: {', '.join(repeated)} "
                             "(give repeated steps a distinct `label:`)")  # fmt: skip
        self.steps = list(steps)
        self.seed = seed

    def describe(self) -> list[dict[str, Any]]:
        """Every step with its label and full parameters, in order."""
        return [step.describe() for step in self.steps]

    def fingerprint(self, shards: Sequence[Path]) -> str:
        """Identity of a run: every step's parameters and tag fingerprint, and the input shards."""
        payload = {
            "format": _FORMAT_VERSION,
            "seed": self.seed,
            "pipeline": self.describe(),
            "tags": [step.tag_fingerprint() for step in self.steps],
            "inputs": [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in shards],
        }
        blob = json.dumps(payload, sort_keys=True).encode("utf-8")
        return hashlib.blake2b(blob, digest_size=16).hexdigest()

    def run(
        self,
        in_dir: str | Path,
        out_dir: str | Path,
        *,
        redecide: bool = False,
        progress: bool = True,
        log: Callable[[str], None] | None = None,
        executor: Executor | None = None,
    ) -> dict[str, Any]:
        """Clean ``in_dir`` into ``out_dir``; return the report (also written to ``report.json``).

        ``executor`` runs the per-shard tag and write passes (default: this process); the
        steps travel to its workers pickled, as set up here. On a :class:`RayExecutor` the
        corpus-wide decisions are made on the cluster too. Every executor gives the same
        output, and a rerun skips the shards whose markers a failed run left.

        Raises ValueError for an unusable input/output directory, or when ``out_dir`` holds
        a run with other settings and ``redecide`` is false. Raises
        :class:`~sciprep.cleaning.writepass.ConservationError` if counts do not add up.
        """
        # Tasks may run in other processes or on other nodes, whose working directory is
        # not ours: every path they receive is absolute.
        in_dir, out_dir = Path(in_dir).absolute(), Path(out_dir).absolute()
        shards = list_shards(in_dir)
        _check_dirs(in_dir, out_dir)
        stems = [p.stem for p in shards]
        context = StepContext(in_dir=in_dir, out_dir=out_dir, seed=self.seed)
        for step in self.steps:
            step.setup(context)
        fingerprint = self.fingerprint(shards)
        self._claim(out_dir, fingerprint, stems, redecide)

        executor = executor if executor is not None else LocalExecutor()
        tag_markers = executor.map(
            partial(_tag_task, out_dir=out_dir, steps=self.steps, fingerprint=fingerprint),
            shards,
            desc="clean: tag",
            label=_shard_name,
            progress=progress,
        )

        if isinstance(executor, RayExecutor):
            from sciprep.cleaning.distributed import resolve_corpus_decisions_ray

            outcome = resolve_corpus_decisions_ray(out_dir, stems, self.steps, progress=progress)
        else:
            outcome = resolve_corpus_decisions(out_dir, stems, self.steps)

        parts = _outcome_by_stem(outcome, stems)
        done_markers = executor.map(
            partial(_write_task, out_dir=out_dir, steps=self.steps, fingerprint=fingerprint),
            [(shard, marker["read_rejects"], parts[shard.stem]) for shard, marker in zip(shards, tag_markers)],
            desc="clean: write",
            label=lambda item: _shard_name(item[0]),
            progress=progress,
        )
        total = new_stats(self.steps)
        rejects: list[Reject] = []
        for marker in done_markers:
            add_stats(total, marker["stats"])
            rejects.extend(Reject(**r) for r in marker["rejects"])

        check_conservation(total, f"cleaning {in_dir} -> {out_dir}")
        report = build_report(self.describe(), total, stems)
        # The input's own rejects (the corpus stage's) travel on, so the rejects file beside
        # the documents a later stage reads is complete, as the manifest's counts say.
        write_rejects(out_dir / REJECTS_FILE, [*read_input_rejects(in_dir / REJECTS_FILE), *rejects])
        write_json_atomic(out_dir / REPORT_FILE, report)
        write_json_atomic(out_dir / MANIFEST_FILE, build_manifest(in_dir, report))
        if log is not None:
            log(_reuse_line(tag_markers))
        return report

    def _claim(self, out_dir: Path, fingerprint: str, stems: Sequence[str], redecide: bool) -> None:
        """Check ``out_dir`` may be (re)used by this run and record the run fingerprint."""
        run_file = out_dir / _RUN_FILE
        previous = None
        if run_file.exists():
            previous = json.loads(run_file.read_text(encoding="utf-8")).get("fingerprint")
        elif out_dir.exists() and any(out_dir.iterdir()):
            raise ValueError(f"{out_dir}: exists and is not a cleaning output directory; choose an empty --out")
        if redecide and previous is None:
            raise ValueError(f"{out_dir}: no earlier cleaning run to re-decide; run without --redecide first")
        if previous is not None and previous != fingerprint:
            if not redecide:
                raise ValueError(
                    f"{out_dir}: holds a cleaning run with other settings or inputs; pass --redecide to "
                    "re-decide with the new settings (stored attributes are reused), or choose another --out"
                )
            _drop_stale_outputs(out_dir, set(stems))
        write_json_atomic(run_file, {"fingerprint": fingerprint, "pipeline": self.describe()})


def _shard_name(shard: Path) -> str:
    return shard.name


def _tag_task(shard: Path, *, out_dir: Path, steps: Sequence[Step], fingerprint: str) -> dict[str, Any]:
    """Tag pass of one shard (skipped when this run's marker exists); returns its marker."""
    marker_path = out_dir / TAGGED_DIR / f"{shard.stem}.json"
    marker = _read_marker(marker_path, fingerprint)
    if marker is None:
        marker = {"fingerprint": fingerprint, **tag_shard(shard, out_dir, steps)}
        write_json_atomic(marker_path, marker)
    return marker


def _write_task(
    item: tuple[Path, list[dict[str, Any]], CorpusOutcome],
    *,
    out_dir: Path,
    steps: Sequence[Step],
    fingerprint: str,
) -> dict[str, Any]:
    """Write pass of one shard (skipped when this run's marker exists); returns its marker."""
    shard, read_rejects, outcome = item
    marker_path = out_dir / _DONE_DIR / f"{shard.stem}.json"
    marker = _read_marker(marker_path, fingerprint)
    if marker is None:
        bad_rows = [ReadReject(**r) for r in read_rejects]
        stats, shard_rejects = write_shard(out_dir, shard, steps, outcome, bad_rows)
        marker = {"fingerprint": fingerprint, "stats": stats, "rejects": [vars(r) for r in shard_rejects]}
        write_json_atomic(marker_path, marker)
    return marker


def _outcome_by_stem(outcome: CorpusOutcome, stems: Sequence[str]) -> dict[str, CorpusOutcome]:
    """The corpus outcome cut per input shard: each write task receives only its own part."""
    parts = {stem: CorpusOutcome() for stem in stems}
    for key, decision in outcome.decided.items():
        parts[key[0]].decided[key] = decision
    for key, values in outcome.metadata.items():
        parts[key[0]].metadata[key] = values
    return parts


def _check_dirs(in_dir: Path, out_dir: Path) -> None:
    src, dst = in_dir.resolve(), out_dir.resolve()
    if dst == src or src / SHARDS_DIR in (dst, *dst.parents):
        raise ValueError(f"--out {out_dir} must not be the input directory {in_dir} or inside its shards")


def _read_marker(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """A completion marker's content if it belongs to this run, else None."""
    if not path.exists():
        return None
    marker = json.loads(path.read_text(encoding="utf-8"))
    return marker if marker.get("fingerprint") == fingerprint else None


def _drop_stale_outputs(out_dir: Path, stems: set[str]) -> None:
    """Remove output shards of input shards that no longer exist (a re-decide over new input)."""
    for folder in (SHARDS_DIR, EXCLUDED_DIR):
        for path in sorted((out_dir / folder).glob("*.parquet")):
            if path.stem not in stems:
                path.unlink()
    for markers in (TAGGED_DIR, _DONE_DIR):
        if (out_dir / markers).is_dir():
            shutil.rmtree(out_dir / markers)


def _reuse_line(tag_markers: Sequence[dict[str, Any]]) -> str:
    """One line saying how many stored attributes were reused versus computed."""
    totals: dict[str, Any] = {}
    for marker in tag_markers:
        add_stats(totals, marker["attributes"])
    if not totals:
        return "attributes: none stored by this pipeline"
    parts = [f"{label} {c['reused']} reused / {c['computed']} computed" for label, c in sorted(totals.items())]
    return "attributes: " + "; ".join(parts)
