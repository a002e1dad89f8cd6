"""The trainer under torchrun: multi-node DDP, FSDP, tuning, failures, resuming across world sizes.

Every multi-process pretraining run here trains the same tiny model on the same
real sample with a global batch of 4 rows, so each equals a single process with
batch 4 (up to the order of floating-point sums in the gradient reduction).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sciprep.training import pretrain, tune
from sciprep.training.checkpoint import list_checkpoints, load_checkpoint
from sciprep.training.config import PretrainConfig, TuneConfig
from sciprep.training.distributed import DistContext
from sciprep.training.loop import make_optimizer
from sciprep.training.metrics import read_metrics
from sciprep.training.parallel import ParallelModel
from sciprep.training.windows import WindowPlanner
from tests.training.conftest import Sample, run_config
from tests.training.launch import hide_checkpoints_from_other_ranks, spawn_training, torchrun_nodes

STEPS = 8
STOP = 4
GLOBAL_BATCH = 4
CONTEXT = 32


def _config(sample: Sample, out: Path, batch_size: int, **overrides: object) -> PretrainConfig:
    settings: dict[str, object] = dict(context_length=CONTEXT, batch_size=batch_size, dropout=0.0, eval_windows=8,
                                       epochs=None, max_tokens=STEPS * GLOBAL_BATCH * CONTEXT, threads=1)  # fmt: skip
    return run_config(sample, out, **{**settings, **overrides})


def _losses(run: Path, kind: str = "train") -> list[float]:
    return [r["loss"] for r in read_metrics(run) if r["type"] == kind]


def _weights(directory: Path) -> dict[str, torch.Tensor]:
    return load_file(directory / "model.safetensors")


def _assert_close_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=atol, rtol=0), name


@pytest.fixture(scope="module")
def single(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One process, batch 4: the reference every multi-process run is compared with."""
    out = tmp_path_factory.mktemp("single") / "run"
    torch.set_num_threads(1)
    pretrain(_config(sample, out, GLOBAL_BATCH))
    return out


@pytest.fixture(scope="module")
def fsdp_full(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fsdp-full") / "run"
    spawn_training(2, _config(sample, out, 2, parallel="fsdp"))
    return out


@pytest.fixture(scope="module")
def fsdp_stopped(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An FSDP run over 2 processes that checkpointed and exited at step STOP of STEPS."""
    out = tmp_path_factory.mktemp("fsdp-stopped") / "run"
    spawn_training(2, _config(sample, out, 2, parallel="fsdp", stop_at_step=STOP))
    return out


@pytest.mark.slow
def test_two_torchrun_nodes_with_c10d_rendezvous_train_like_one_process(
    sample: Sample, single: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    torchrun_nodes(2, ["train", "pretrain", "--data", str(sample.packed), "--out", str(out), "--preset", "tiny",
                       "--context-length", str(CONTEXT), "--batch-size", "2", "--dropout", "0",
                       "--max-tokens", str(STEPS * GLOBAL_BATCH * CONTEXT), "--epochs", "2", "--lr", "3e-3",
                       "--eval-windows", "8", "--log-interval", "1", "--checkpoint-interval", "0",
                       "--threads", "1", "--no-progress"], tmp_path)  # fmt: skip
    assert len(_losses(out)) == STEPS  # only global rank 0 logs
    assert torch.allclose(torch.tensor(_losses(out)), torch.tensor(_losses(single)), rtol=1e-4)
    assert torch.allclose(torch.tensor(_losses(out, "val")), torch.tensor(_losses(single, "val")), rtol=1e-4)
    _assert_close_weights(_weights(out / "model"), _weights(single / "model"), atol=1e-4)
    (last,) = list_checkpoints(out)
    assert last.name == f"step-{STEPS:08d}" and (out / "model" / "model.safetensors").is_file()
    assert {p.name for p in last.glob("rng-*")} == {"rng-rank0.safetensors", "rng-rank1.safetensors"}
    state = json.loads((last / "trainer_state.json").read_text())
    assert (state["world"], state["global_batch"], state["step"]) == (2, GLOBAL_BATCH, STEPS)
    assert not list(out.glob(".*")) and not list((out / "checkpoints").glob(".*"))  # no leftover temp files


@pytest.mark.slow
def test_fsdp_over_two_processes_matches_one_process_and_writes_the_same_files(
    single: Path, fsdp_full: Path
) -> None:
    from transformers import AutoModelForCausalLM

    assert torch.allclose(torch.tensor(_losses(fsdp_full)), torch.tensor(_losses(single)), rtol=1e-4)
    assert torch.allclose(torch.tensor(_losses(fsdp_full, "val")), torch.tensor(_losses(single, "val")), rtol=1e-4)
    _assert_close_weights(_weights(fsdp_full / "model"), _weights(single / "model"), atol=1e-4)
    (sharded_ckpt,) = list_checkpoints(fsdp_full)
    (single_ckpt,) = list_checkpoints(single)
    # Same user-facing files: full model, full optimizer state by parameter index, same groups.
    assert {p.name for p in sharded_ckpt.iterdir()} - {"rng-rank1.safetensors"} == {
        p.name for p in single_ckpt.iterdir()}  # fmt: skip
    sharded_opt = load_file(sharded_ckpt / "optimizer.safetensors")
    single_opt = load_file(single_ckpt / "optimizer.safetensors")
    assert sharded_opt.keys() == single_opt.keys()
    for key in single_opt:
        assert sharded_opt[key].shape == single_opt[key].shape, key
        assert torch.allclose(sharded_opt[key], single_opt[key], atol=1e-5, rtol=1e-3), key
    groups = [json.loads((c / "trainer_state.json").read_text())["optimizer_param_groups"]
              for c in (sharded_ckpt, single_ckpt)]  # fmt: skip
    assert groups[0] == groups[1]
    # Loads in a plain process: with transformers, and as a training state.
    hf = AutoModelForCausalLM.from_pretrained(sharded_ckpt, use_safetensors=True)
    embeddings = _weights(sharded_ckpt)["model.decoder.embed_tokens.weight"]
    assert torch.equal(hf.model.decoder.embed_tokens.weight, embeddings)
    assert hf.lm_head.weight is hf.model.decoder.embed_tokens.weight
    model = AutoModelForCausalLM.from_config(hf.config)
    ctx = DistContext(rank=0, world=1, device=torch.device("cpu"))
    parallel = ParallelModel(model, ctx, "fsdp")  # one process: nothing to shard
    optimizer = make_optimizer(model, PretrainConfig(out="unused"), ctx.device)
    state = load_checkpoint(sharded_ckpt, parallel, optimizer, rank=0)
    assert state["step"] == STEPS
    for name, param in model.named_parameters():
        assert torch.equal(param.detach(), hf.get_parameter(name).detach()), name
    restored = optimizer.state_dict()["state"]
    for key, tensor in sharded_opt.items():
        index, field = key.split(".", 1)
        assert torch.equal(restored[int(index)][field], tensor), key


@pytest.mark.slow
def test_fsdp_resume_with_the_same_world_size_is_exact(sample: Sample, fsdp_full: Path, fsdp_stopped: Path,
                                                       tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "run"
    shutil.copytree(fsdp_stopped, out)
    assert [c.name for c in list_checkpoints(out)] == [f"step-{STOP:08d}"]
    spawn_training(2, _config(sample, out, 2, parallel="fsdp"))
    assert _losses(out) == _losses(fsdp_full)
    assert _losses(out, "val") == _losses(fsdp_full, "val")
    resumed, full = _weights(out / "model"), _weights(fsdp_full / "model")
    assert resumed.keys() == full.keys()
    assert all(torch.equal(resumed[k], full[k]) for k in full)


class _RecordingPlanner(WindowPlanner):
    """The real planner, remembering the rows of every batch it is asked for."""

    instances: list[_RecordingPlanner] = []

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.seen: list[int] = []
        _RecordingPlanner.instances.append(self)

    def batch(self, rows):  # type: ignore[no-untyped-def]
        self.seen.extend(rows.tolist())
        return super().batch(rows)


@pytest.mark.slow
def test_resume_with_another_world_size_needs_the_flag_and_continues_at_the_global_position(
    sample: Sample, single: Path, fsdp_stopped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    shutil.copytree(fsdp_stopped, out)
    with pytest.raises(ValueError, match=r"made with 2 process\(es\) but this run has 1.*--allow-world-size-change"):
        pretrain(_config(sample, out, 2))
    assert [c.name for c in list_checkpoints(out)] == [f"step-{STOP:08d}"]  # nothing touched
    monkeypatch.setattr(importlib.import_module("sciprep.training.pretrain"), "WindowPlanner", _RecordingPlanner)
    monkeypatch.setattr(_RecordingPlanner, "instances", [])
    # One process with micro-batches of 2: the global batch of 4 is kept by accumulating 2 of them.
    stopped = pretrain(_config(sample, out, 2, allow_world_size_change=True, stop_at_step=STOP + 2))
    assert stopped["stopped"] and stopped["step"] == STOP + 2
    # Rerunning the same command resumes at the (now unchanged) world size, re-fitting the batch again.
    state = pretrain(_config(sample, out, 2, allow_world_size_change=True))
    seen = [row for planner in _RecordingPlanner.instances for row in planner.seen]
    assert seen == _RecordingPlanner.instances[0].plan(0)[STOP * GLOBAL_BATCH : STEPS * GLOBAL_BATCH].tolist()
    assert state["step"] == STEPS and state["world"] == 1 and state["global_batch"] == GLOBAL_BATCH
    assert state["world_changes"] == [{"step": STOP, "from_world": 2, "to_world": 1, "batch_size": 2,
                                       "grad_accum": 2}]  # fmt: skip
    assert state["config"]["grad_accum"] == 2
    assert state["tokens_seen"] == STEPS * GLOBAL_BATCH * CONTEXT
    assert torch.allclose(torch.tensor(_losses(out)), torch.tensor(_losses(single)), rtol=1e-4)
    _assert_close_weights(_weights(out / "model"), _weights(single / "model"), atol=1e-4)


@pytest.mark.slow
def test_ddp_resume_with_the_same_world_size_is_exact_though_other_ranks_list_no_checkpoints(
    sample: Sample, tmp_path: Path
) -> None:
    """Dropout on, so every rank's generator must be restored; rank 0 alone chooses the checkpoint.

    The run is resumed from a copy of the uninterrupted run's checkpoint of step STOP (its later
    checkpoint and model removed), the state a crash after that step leaves.
    """
    full, out = tmp_path / "full", tmp_path / "run"
    spawn_training(2, _config(sample, full, 2, dropout=0.1, checkpoint_interval=STOP))
    shutil.copytree(full, out)
    shutil.rmtree(out / "model")
    shutil.rmtree(out / "checkpoints" / f"step-{STEPS:08d}")
    assert [c.name for c in list_checkpoints(out)] == [f"step-{STOP:08d}"]
    spawn_training(2, _config(sample, out, 2, dropout=0.1, checkpoint_interval=STOP),
                   before=hide_checkpoints_from_other_ranks)  # fmt: skip
    assert _losses(out) == _losses(full) and len(_losses(out)) == STEPS
    assert _losses(out, "val") == _losses(full, "val")
    resumed, reference = _weights(out / "model"), _weights(full / "model")
    assert resumed.keys() == reference.keys()
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)


@pytest.mark.slow
def test_tuning_under_fsdp_over_two_processes_matches_one_process(
    sample: Sample, pretrained: Path, tmp_path: Path
) -> None:
    """Rank 1 builds the model on ``meta`` and gets rank 0's weights; 5 held-out examples split 3 + 2, so
    rank 1 runs a throw-away forward and generation in lock-step (``synced_gpus``)."""
    context = 96
    cfg = TuneConfig(data=str(sample.corpus), init=str(pretrained), out=str(tmp_path / "fsdp"), context_length=context,
                     batch_size=1, epochs=None, max_tokens=3 * 2 * context, lr=1e-3, eval_examples=5,
                     max_new_tokens=4, log_interval=1, checkpoint_interval=0, progress=False, threads=1)  # fmt: skip
    spawn_training(2, dataclasses.replace(cfg, parallel="fsdp"))
    # One process with 2 micro-batches of 1 row: the same mean of per-row losses as 2 ranks x 1 row.
    tune(dataclasses.replace(cfg, out=str(tmp_path / "single"), grad_accum=2))
    sharded, single = tmp_path / "fsdp", tmp_path / "single"
    assert len(_losses(sharded)) == 3
    assert torch.allclose(torch.tensor(_losses(sharded)), torch.tensor(_losses(single)), rtol=1e-4)
    (val,) = [r for r in read_metrics(sharded) if r["type"] == "val"]
    (val_single,) = [r for r in read_metrics(single) if r["type"] == "val"]
    assert val["examples"] == val_single["examples"] == 5
    assert val["loss"] == pytest.approx(val_single["loss"], rel=1e-4)
    _assert_close_weights(_weights(sharded / "model"), _weights(single / "model"), atol=1e-4)
    assert not torch.equal(_weights(sharded / "model")["model.decoder.embed_tokens.weight"],
                           _weights(pretrained / "model")["model.decoder.embed_tokens.weight"])  # fmt: skip


@pytest.mark.slow
def test_a_node_failing_at_start_up_stops_every_node_at_once_with_its_error(sample: Sample, tmp_path: Path) -> None:
    """One node cannot see the data; without agreement the other would wait in a collective for the timeout."""
    args = ["train", "pretrain", "--data", str(sample.packed), "--out", str(tmp_path / "run"), "--preset", "tiny",
            "--context-length", str(CONTEXT), "--batch-size", "2", "--max-tokens", "512", "--threads", "1",
            "--no-progress", "--dist-timeout", "60"]  # fmt: skip
    blind = [str(tmp_path / "not-mounted") if a == str(sample.packed) else a for a in args]
    codes = torchrun_nodes(2, [args, blind], tmp_path, timeout_s=90, expect_success=False)
    logs = [(tmp_path / f"node{i}.log").read_text() for i in range(2)]
    assert None not in codes and 0 not in codes, logs
    errors = [[line for line in log.splitlines() if line.startswith("sciprep: error: ")] for log in logs]
    assert errors[0] == errors[1] and len(errors[0]) == 1, logs
    assert f"of 2: {tmp_path / 'not-mounted'}: no packed.json" in errors[0][0]
    assert not (tmp_path / "run" / "checkpoints").exists()
