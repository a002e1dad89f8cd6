"""The loop: exact resume (mid-epoch and at an epoch boundary), checkpoints, early stop."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sciprep.training import pretrain
from sciprep.training.checkpoint import list_checkpoints
from sciprep.training.config import PretrainConfig
from sciprep.training.loop import _update_early_stop
from sciprep.training.metrics import read_metrics
from tests.training.conftest import Sample, run_config

_TIMING = {"tokens_per_s", "gflops_per_s", "mfu"}


def _small_epochs(sample: Sample, out: Path, **overrides: object) -> PretrainConfig:
    """About a dozen steps per epoch: few arXiv windows, all proteins, some prompts; dropout on."""
    settings: dict[str, object] = dict(
        context_length=32, batch_size=4, grad_accum=2, dropout=0.1, source_weights={"arxiv": 0.05, "uniref50": 1.0},
        prompt_ratio=0.2, eval_windows=8, eval_interval=5, keep_checkpoints=2,
    )  # fmt: skip
    return run_config(sample, out, **{**settings, **overrides})


def _records(run: Path) -> list[dict[str, object]]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in _TIMING} for line in lines]


@pytest.fixture(scope="module")
def uninterrupted(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The reference run and its steps per epoch."""
    out = tmp_path_factory.mktemp("full") / "run"
    state = pretrain(_small_epochs(sample, out))
    assert state["epoch"] == 2 and state["total_steps"] % 2 == 0
    return out, state["total_steps"] // 2


@pytest.mark.parametrize("where", ["mid-epoch", "epoch-boundary"])
def test_killed_and_resumed_run_matches_uninterrupted_run(sample: Sample, uninterrupted: tuple[Path, int],
                                                           tmp_path: Path, where: str) -> None:  # fmt: skip
    reference_run, per_epoch = uninterrupted
    stop = per_epoch if where == "epoch-boundary" else per_epoch // 2 + 1
    out = tmp_path / "run"
    first = pretrain(_small_epochs(sample, out, stop_at_step=stop))
    assert first["stopped"] and first["step"] == stop
    assert not (out / "model").exists()
    second = pretrain(_small_epochs(sample, out))
    assert second["step"] == 2 * per_epoch and not second["stopped"]
    assert _records(out) == _records(reference_run)
    resumed = load_file(out / "model" / "model.safetensors")
    reference = load_file(reference_run / "model" / "model.safetensors")
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)


def test_checkpoints_are_complete_and_only_the_last_n_are_kept(uninterrupted: tuple[Path, int]) -> None:
    run, per_epoch = uninterrupted
    checkpoints = list_checkpoints(run)
    state = json.loads((checkpoints[-1] / "trainer_state.json").read_text())
    # keep_checkpoints=2 newest, plus the best validation step's checkpoint (never pruned).
    best = f"step-{state['best_step']:08d}"
    names = [c.name for c in checkpoints]
    assert best in names and names[-1] == f"step-{2 * per_epoch:08d}"
    assert len(set(names) - {best}) <= 2 and len(names) >= 2
    assert (state["step"], state["epoch"], state["cursor"]) == (2 * per_epoch, 2, 0)
    for name in ("model.safetensors", "optimizer.safetensors", "rng-rank0.safetensors", "config.json",
                 "tokenizer.json"):  # fmt: skip
        assert (checkpoints[-1] / name).is_file()
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]


def test_resuming_with_a_different_batch_is_refused(sample: Sample, uninterrupted: tuple[Path, int]) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        pretrain(_small_epochs(sample, uninterrupted[0], batch_size=2))


@pytest.mark.parametrize("change", [{"prompt_ratio": 0.3}, {"source_weights": {"arxiv": 5.0}},
                                    {"dropout": 0.0}, {"preset": "mini"}])  # fmt: skip
def test_resuming_with_a_different_data_mix_or_model_is_refused(
    sample: Sample, uninterrupted: tuple[Path, int], change: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match=f"different {next(iter(change))}"):
        pretrain(_small_epochs(sample, uninterrupted[0], **change))


def test_resuming_on_another_packed_directory_is_refused(
    sample: Sample, uninterrupted: tuple[Path, int], tmp_path: Path
) -> None:
    other = tmp_path / "packed"
    shutil.copytree(sample.packed, other, ignore=shutil.ignore_patterns("parts"))
    with pytest.raises(ValueError, match="different data"):
        pretrain(_small_epochs(sample, uninterrupted[0], data=str(other)))


def test_early_stop_records_the_epoch_where_patience_ran_out() -> None:
    state: dict[str, object] = {"step": 0, "epoch": 0, "best_val": None, "best_step": None,
                                "best_epoch": None, "bad_evals": 0, "early_stop": None}  # fmt: skip
    for step, (loss, epoch) in enumerate([(3.0, 1.0), (2.5, 2.0), (2.6, 3.0), (2.7, 4.0), (2.8, 5.0)], 1):
        state["step"], state["epoch"] = step, int(epoch)
        _update_early_stop(state, loss, epoch, patience=2)
        if state["early_stop"]:
            break
    assert state["early_stop"] == {"epoch": 4.0, "completed_epochs": 4, "step": 4, "best_val": 2.5,
                                   "best_step": 2, "best_epoch": 2.0}  # fmt: skip


def test_overfitting_run_stops_early_and_exports_its_best_weights(sample: Sample, tmp_path: Path) -> None:
    # Training on the protein source alone overfits it while the held-out text loss turns upward.
    out = tmp_path / "run"
    state = pretrain(run_config(sample, out, context_length=32, source_weights={"arxiv": 0.0}, epochs=40,
                                patience=2, eval_windows=16, log_interval=5, keep_checkpoints=1))  # fmt: skip
    stop = state["early_stop"]
    assert stop is not None and state["step"] < state["total_steps"]
    val = [r for r in read_metrics(out) if r["type"] == "val"]
    assert [r["loss"] for r in val][-3:] == sorted(r["loss"] for r in val[-3:])  # two rises in a row
    assert stop["epoch"] == val[-1]["epoch"] and stop["best_step"] == val[-3]["step"]
    record = [r for r in read_metrics(out) if r["type"] == "early_stop"][0]
    assert record["completed_epochs"] == stop["completed_epochs"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["early_stop"] == stop and summary["exported_step"] == stop["best_step"]
    best = out / "checkpoints" / f"step-{stop['best_step']:08d}"
    assert best.is_dir()  # protected from keep_checkpoints=1
    exported, kept = load_file(out / "model" / "model.safetensors"), load_file(best / "model.safetensors")
    assert all(torch.equal(exported[k], kept[k]) for k in kept)
