"""Throughput accounting and the JSONL metrics log.

FLOPs per token follow the PaLM appendix B estimate used by nanoGPT:
``6 * N + 12 * layers * hidden * context`` for forward plus backward. On a GPU with
a known peak, MFU = achieved / peak; on CPU (no meaningful peak) GFLOP/s is reported.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sciprep.atomicio import write_text_atomic

METRICS_FILE = "metrics.jsonl"

#: Dense bf16 peak TFLOP/s of common accelerators, matched by substring of the device name.
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0, "4090": 165.0}


def flops_per_token(params: int, layers: int, hidden: int, context_length: int) -> float:
    """Training FLOPs (forward + backward) per token."""
    return 6.0 * params + 12.0 * layers * hidden * context_length


def device_peak_tflops(device_name: str) -> float | None:
    """Peak bf16 TFLOP/s for a CUDA device name, or None when unknown (e.g. CPU)."""
    for key, peak in PEAK_TFLOPS.items():
        if key in device_name:
            return peak
    return None


class MetricsLog:
    """Append-only JSONL records (one object per line, keys sorted for stable diffs)."""

    def __init__(self, run_dir: str | os.PathLike[str], enabled: bool = True) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self.enabled = enabled

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (a resumed run re-logs them), atomically."""
        if not self.enabled or not self.path.exists():
            return
        kept = [line for line in self.path.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= step]  # fmt: skip
        write_text_atomic(self.path, "".join(f"{line}\n" for line in kept))

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")


def read_metrics(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of a run's metrics log."""
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{run_dir}: no {METRICS_FILE}; is this a sciprep run directory?")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number}: not a JSON record ({err})") from err
    return records
