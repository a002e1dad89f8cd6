"""A real 2-epoch tiny run: validation loss falls, per-modality losses and accounting are reported."""

from __future__ import annotations

import json
import math
from pathlib import Path

from sciprep.training import load_packed_meta
from sciprep.training.metrics import read_metrics
from tests.training.conftest import Sample


def test_two_epochs_on_real_sample_lower_validation_loss(sample: Sample, pretrained: Path) -> None:
    val = [r for r in read_metrics(pretrained) if r["type"] == "val"]
    assert [r["epoch"] for r in val] == [1.0, 2.0] and all(r["epoch_end"] for r in val)
    uniform = math.log(load_packed_meta(sample.packed)["vocab_size"])
    assert val[0]["loss"] < uniform
    assert val[1]["loss"] < val[0]["loss"]


def test_validation_reports_each_modality_present(pretrained: Path) -> None:
    last = [r for r in read_metrics(pretrained) if r["type"] == "val"][-1]
    assert last["tokens_math"] > 0 and last["tokens_protein"] > 0 and last["tokens_text"] > 0
    assert {"loss_text", "loss_math", "loss_protein"} <= set(last)
    assert "loss_dna" not in last  # no DNA in the held-out documents, so no made-up number
    total = sum(last[f"tokens_{m}"] for m in ("text", "math", "smiles", "protein", "dna"))
    weighted = sum(last[f"loss_{m}"] * last[f"tokens_{m}"] for m in ("text", "math", "protein"))
    assert abs(weighted / total - last["loss"]) < 1e-9


def test_train_records_carry_loss_lr_throughput(pretrained: Path) -> None:
    train = [r for r in read_metrics(pretrained) if r["type"] == "train"]
    assert [r["step"] for r in train] == list(range(1, len(train) + 1))
    assert all(r["tokens_per_s"] > 0 and r["gflops_per_s"] > 0 and r["lr"] > 0 for r in train)
    assert max(r["lr"] for r in train) == max(r["lr"] for r in train[: len(train) // 2])


def test_summary_accounts_for_unique_and_seen_tokens_per_source(pretrained: Path) -> None:
    summary = json.loads((pretrained / "summary.json").read_text())
    acc = summary["accounting"]
    assert acc["epochs_completed"] == 2.0
    assert acc["tokens_seen"] == sum(s["tokens_seen"] for s in acc["sources"].values())
    assert acc["unique_tokens"] == sum(s["unique_tokens"] for s in acc["sources"].values())
    # uniref50 has weight 2 in the corpus manifest: seen four times in two epochs.
    assert acc["sources"]["uniref50"]["repeats"] == 4.0
    assert acc["sources"]["prompts"]["tokens_seen"] > 0
    assert 0.09 < acc["sources"]["prompts"]["tokens_seen"] / acc["tokens_seen"] < 0.11
