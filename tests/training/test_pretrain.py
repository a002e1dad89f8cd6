"""A real 2-epoch tiny run: validation loss falls, per-modality losses and accounting are reported."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sciprep.tokenize.specials import END_AMINO, END_DNA, EOS, SPECIAL_IDS, START_AMINO, START_DNA

from sciprep.training import MODALITIES, ValidationSet, load_packed_meta
from sciprep.training.metrics import read_metrics
from sciprep.training.token_files import write_header
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


def _target_modalities(val: ValidationSet) -> set[str]:
    kinds = np.concatenate([val.modality[s + 1 : s + 1 + n] for s, n in val.segments])
    return {MODALITIES[k] for k in np.unique(kinds)}


@pytest.mark.parametrize("cap", [2, 3, 5, 40])
def test_capped_validation_keeps_every_held_out_modality(sample: Sample, cap: int) -> None:
    full = ValidationSet(sample.packed / "val.tokens", 64, None)
    capped = ValidationSet(sample.packed / "val.tokens", 64, cap)
    assert len(capped.segments) == min(cap, len(full.segments))
    assert set(capped.segments) <= set(full.segments) and capped.segments == sorted(capped.segments)
    present = _target_modalities(full)
    assert {"text", "math", "protein"} <= present
    # Two windows cannot hold three modalities unless one window does; from three on, all must show.
    if cap >= len(present):
        assert _target_modalities(capped) == present


def _write_stream(path: Path, tokens: list[int]) -> Path:
    with open(path, "wb") as fh:
        write_header(fh, {"split": "val", "dtype": "uint16", "tokens": len(tokens), "documents": 1,
                          "vocab_size": 1000, "eos_id": SPECIAL_IDS[EOS], "sources": {}})  # fmt: skip
        fh.write(np.asarray(tokens, dtype="<u2").tobytes())
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dna_at=st.integers(0, 99), amino_at=st.integers(0, 99), cap=st.integers(3, 30))
def test_a_rare_modality_anywhere_in_validation_gets_windows(tmp_path: Path, dna_at: int, amino_at: int,
                                                             cap: int) -> None:  # fmt: skip
    """100 prose windows of 8 tokens; one DNA and one protein span at arbitrary windows."""
    t = 8
    stream = [100] * (100 * t) + [SPECIAL_IDS[EOS]]
    for at, (start, end) in ((dna_at * t + 1, (START_DNA, END_DNA)), (amino_at * t + 4, (START_AMINO, END_AMINO))):
        stream[at : at + 3] = [SPECIAL_IDS[start], 200, SPECIAL_IDS[end]]
    val = ValidationSet(_write_stream(tmp_path / f"val-{dna_at}-{amino_at}.tokens", stream), t, cap)
    assert len(val.segments) == cap
    assert _target_modalities(val) == {"text", "dna", "protein"}
