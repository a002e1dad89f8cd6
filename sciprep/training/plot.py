"""``sciprep train plot``: train/validation loss against tokens seen and epochs, as a PNG."""

from __future__ import annotations

import os
from pathlib import Path

from sciprep.training.metrics import read_metrics


def plot_run(run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
             title: str | None = None) -> Path:
    """Write ``RUN_DIR/loss.png`` (or ``out``) from the run's metrics log; return its path.

    The title is ``title``, else the run folder's own name: never the absolute path, so
    the same metrics give the same PNG bytes wherever the run lives (and a shared plot
    does not reveal where it was made).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sciprep.atomicio import atomic_path

    records = read_metrics(run_dir)
    train = [r for r in records if r.get("type") == "train"]
    val = [r for r in records if r.get("type") == "val"]
    if not train:
        raise ValueError(f"{run_dir}: the metrics log has no training records yet")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for ax, key, label in ((axes[0], "tokens_seen", "tokens seen"), (axes[1], "epoch", "epochs")):
        ax.plot([r[key] for r in train], [r["loss"] for r in train], label="train", lw=1)
        if val:
            ax.plot([r[key] for r in val], [r["loss"] for r in val], "o-", label="validation", ms=3)
        for r in records:
            if r.get("type") == "early_stop":
                ax.axvline(r[key], color="grey", ls="--", lw=1, label="early stop")
        ax.set_xlabel(label)
        ax.set_ylabel("cross-entropy (nats/token)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{title or Path(run_dir).resolve().name}: train and validation loss")
    target = Path(out) if out else Path(run_dir) / "loss.png"
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return target
