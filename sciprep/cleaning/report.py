"""What a cleaning run tells the user: ``report.json``, the printed table, the manifest.

``report.json`` holds the pipeline (every step's parameters), the totals
(in = kept + removed + rejected, in documents and bytes), per step the documents that
entered it, were removed (with bytes, and per source), rejected or modified, and per
source the same totals. Nothing in it depends on paths or time, so reruns are
byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sciprep.corpus.shards import MANIFEST_FILE, SHARDS_DIR


def format_table(report: Mapping[str, Any]) -> str:
    """The per-step table printed at the end of ``sciprep clean``."""
    header = ("step", "in", "removed", "rejected", "modified", "MB removed", "bytes delta")
    rows: list[tuple[str, ...]] = []
    read = report["read"]
    if read["rejected"]:
        rows.append(("read", str(report["totals"]["in"]["documents"]), "0", str(read["rejected"]), "0", "0.000", "0"))
    for entry in report["steps"]:
        rows.append(
            (
                entry["label"],
                str(entry["entered"]),
                str(entry["removed"]),
                str(entry["rejected"]),
                str(entry["modified"]),
                f"{entry['removed_bytes'] / 1e6:.3f}",
                f"{entry['bytes_delta']:+d}",
            )
        )
    totals = report["totals"]
    rows.append(("kept", str(totals["kept"]["documents"]), "", "", "", f"{totals['kept']['bytes'] / 1e6:.3f} MB", ""))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(header), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    t = totals
    out.append(
        f"in {t['in']['documents']} = kept {t['kept']['documents']} + removed {t['removed']['documents']}"
        f" + rejected {t['rejected']['documents']}"
    )
    return "\n".join(out)


def build_report(
    pipeline: Sequence[Mapping[str, Any]],
    stats: Mapping[str, Any],
    shards: Sequence[str],
) -> dict[str, Any]:
    """``report.json`` content from the summed shard stats (exactly as JSON reads it back)."""
    steps = []
    for desc in pipeline:
        entry = dict(stats["steps"][desc["label"]])
        entry["removed_by_source"] = dict(sorted(entry["removed_by_source"].items()))
        entry["modified_by_source"] = dict(sorted(entry["modified_by_source"].items()))
        steps.append({**desc, **entry})
    report = {
        "pipeline": list(pipeline),
        "shards": list(shards),
        "totals": {k: dict(stats[k]) for k in ("in", "kept", "removed", "rejected")},
        "read": dict(stats["read"]),
        "steps": steps,
        "sources": {k: dict(v) for k, v in sorted(stats["sources"].items())},
    }
    return json.loads(json.dumps(report, sort_keys=True))


def build_manifest(in_dir: Path, report: Mapping[str, Any]) -> dict[str, Any]:
    """The output manifest, in the corpus stage's shape, describing the cleaned corpus.

    Per source: ``documents``, ``rejected`` (the input's plus cleaning's), ``bytes``,
    ``characters`` per modality, ``kinds`` and ``shards`` are recomputed for the kept
    documents; every other field the corpus stage recorded (``weight``, ``reader``,
    ``licence`` ...) is carried over, so the trainer's mixture weights survive
    cleaning. ``cleaning`` adds what happened to the source here.
    """
    input_manifest: dict[str, Any] = {}
    path = in_dir / MANIFEST_FILE
    if path.exists():
        try:
            input_manifest = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err}); fix or remove it") from None
        if not isinstance(input_manifest, dict):
            raise ValueError(f"{path}: expected a JSON object, got {type(input_manifest).__name__}")
    listed = input_manifest.get("sources")
    old_sources: dict[str, dict[str, Any]] = (
        {n: e for n, e in listed.items() if isinstance(e, dict)} if isinstance(listed, dict) else {}
    )
    sources: dict[str, Any] = {}
    for name in sorted(set(report["sources"]) | set(old_sources)):
        old = old_sources.get(name, {})
        counts = report["sources"].get(name)
        entry = {k: v for k, v in old.items() if k != "files"}
        previously_rejected = old.get("rejected", 0) if isinstance(old.get("rejected"), int) else 0
        if counts is None:
            entry.update(documents=0, bytes=0, characters={}, kinds={}, shards=[], rejected=previously_rejected)
        else:
            entry.update(
                documents=counts["kept"],
                rejected=previously_rejected + counts["rejected"],
                bytes=counts["kept_bytes"],
                characters=dict(counts["characters"]),
                kinds=dict(sorted(counts["kinds"].items())),
                shards=[f"{SHARDS_DIR}/{s}" for s in sorted(counts["shards"])],
                cleaning={"in": counts["in"], "removed": counts["removed"], "rejected": counts["rejected"]},
            )
        sources[name] = entry
    characters: dict[str, int] = {}
    for entry in sources.values():
        for modality, count in entry["characters"].items():
            characters[modality] = characters.get(modality, 0) + count
    manifest = dict(input_manifest)
    manifest["sources"] = sources
    manifest["totals"] = {
        "documents": sum(e["documents"] for e in sources.values()),
        "rejected": sum(e["rejected"] for e in sources.values()),
        "bytes": sum(e["bytes"] for e in sources.values()),
        "characters": characters,
    }
    manifest["cleaned"] = {"totals": report["totals"], "report": "report.json"}
    return manifest
