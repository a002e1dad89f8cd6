"""Throughput accounting and the JSONL metrics log.

FLOPs per token follow the PaLM appendix B estimate used by nanoGPT:
``6 * N + 12 * layers * hidden * context`` for forward plus backward. On a GPU with
a known peak, MFU = achieved / peak at the precision the matrix products run in
(bf16 autocast, TF32 when PyTorch allows it for fp32, else plain fp32); on CPU (no
meaningful peak) GFLOP/s is reported.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sciprep.atomicio import write_text_atomic

METRICS_FILE = "metrics.jsonl"

#: Dense peak TFLOP/s (vendor datasheets, SXM parts) per precision, matched by substring of the device name.
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H200": {"bf16": 989.0, "tf32": 495.0, "fp32": 67.0},
    "H100": {"bf16": 989.0, "tf32": 495.0, "fp32": 67.0},
    "A100": {"bf16": 312.0, "tf32": 156.0, "fp32": 19.5},
    "L40S": {"bf16": 362.0, "tf32": 183.0, "fp32": 91.6},
    "A10G": {"bf16": 125.0, "tf32": 62.5, "fp32": 31.2},
    "4090": {"bf16": 165.0, "tf32": 82.6, "fp32": 82.6},
}


def flops_per_token(params: int, layers: int, hidden: int, context_length: int) -> float:
    """Training FLOPs (forward + backward) per token."""
    return 6.0 * params + 12.0 * layers * hidden * context_length


def device_peak_tflops(device_name: str, precision: str = "bf16") -> float | None:
    """Peak TFLOP/s of a CUDA device at ``precision`` (``bf16``, ``tf32``, ``fp32``); None when unknown."""
    for key, peaks in PEAK_TFLOPS.items():
        if key in device_name:
            return peaks[precision]
    return None


def matmul_precision(bf16: bool) -> str:
    """The peak that applies to a run's matrix products: ``bf16``, else ``tf32`` if allowed, else ``fp32``."""
    import torch

    if bf16:
        return "bf16"
    return "fp32" if torch.get_float32_matmul_precision() == "highest" else "tf32"


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
