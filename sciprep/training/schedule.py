"""Learning-rate schedule: linear warmup, then cosine or linear decay to a floor.

A pure function of the step, so the scheduler's state is just the step counter
that the checkpoint already holds.
"""

from __future__ import annotations

import math


def learning_rate(
    step: int, total_steps: int, peak: float, warmup_steps: int, floor_ratio: float = 0.1,
    decay: str = "cosine",
) -> float:  # fmt: skip
    """Learning rate for optimizer step ``step`` (0-based) of ``total_steps``."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    floor = peak * floor_ratio
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    if decay == "cosine":
        return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    if decay == "linear":
        return peak - (peak - floor) * progress
    raise ValueError(f"unknown lr decay {decay!r}; use 'cosine' or 'linear'")
