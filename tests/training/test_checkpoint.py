"""Damaged checkpoints are refused before anything is restored, naming the file and the key."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from sciprep.tokenize import SciTokenizer
from sciprep.training.checkpoint import (
    OPTIMIZER_FILE, STATE_FILE, load_checkpoint, read_snapshot, save_checkpoint,
)  # fmt: skip
from sciprep.training.config import PretrainConfig
from sciprep.training.distributed import DistContext
from sciprep.training.export import MODEL_FILE
from sciprep.training.loop import make_optimizer
from sciprep.training.parallel import ParallelModel
from sciprep.training.presets import build_model, model_config
from tests.training.conftest import Sample

CPU = torch.device("cpu")
CTX = DistContext(rank=0, world=1, device=CPU)


def _trained(seed: int) -> tuple[ParallelModel, torch.optim.Optimizer]:
    parallel = ParallelModel(build_model(model_config("tiny", 300, 16), seed), CTX, "ddp")
    optimizer = make_optimizer(parallel.model, PretrainConfig(out="unused"), CPU)
    ids = torch.randint(0, 300, (2, 17), generator=torch.Generator().manual_seed(seed))
    parallel.module(input_ids=ids[:, :-1], labels=ids[:, 1:]).loss.backward()
    optimizer.step()
    return parallel, optimizer


@pytest.fixture(scope="module")
def checkpoint(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real checkpoint of one optimizer step of the tiny model."""
    parallel, optimizer = _trained(0)
    state = {"step": 1, "epoch": 0, "cursor": 2, "world": 1, "global_batch": 2, "config": {}}
    return save_checkpoint(tmp_path_factory.mktemp("ckpt"), 1, parallel.model, parallel.snapshot(optimizer), state,
                           SciTokenizer.load(sample.tokenizer), keep=1)  # fmt: skip


def _edit_tensors(name: str, edit: Callable[[dict[str, torch.Tensor]], None]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        tensors = load_file(path / name)
        edit(tensors)
        save_file(tensors, path / name)

    return apply


def _edit_state(edit: Callable[[dict[str, object]], None]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        state = json.loads((path / STATE_FILE).read_text())
        edit(state)
        (path / STATE_FILE).write_text(json.dumps(state))

    return apply


def _truncate(name: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        data = (path / name).read_bytes()
        (path / name).write_bytes(data[: len(data) // 2])

    return apply


def _rename(old: str, new: str) -> Callable[[dict[str, torch.Tensor]], None]:
    return lambda tensors: tensors.__setitem__(new, tensors.pop(old))


EMBED = "model.decoder.embed_tokens.weight"
DAMAGE = {
    "truncated state": (_truncate(STATE_FILE), rf"{STATE_FILE}: not valid JSON \(Expecting"),
    "no param groups": (_edit_state(lambda s: s.pop("optimizer_param_groups")),
                        rf"{STATE_FILE}: no optimizer_param_groups"),
    "group lacks lr": (_edit_state(lambda s: s["optimizer_param_groups"][0].pop("lr")),  # type: ignore[index]
                       rf"{STATE_FILE}: key 'optimizer_param_groups' group 0 lacks \['lr'\]"),
    "renamed key": (_edit_tensors(OPTIMIZER_FILE, _rename("0.step", "x0.step")),
                    rf"{OPTIMIZER_FILE}: key 'x0.step' is not <parameter index>\.step"),
    "index past the parameters": (_edit_tensors(OPTIMIZER_FILE, _rename("0.step", "999.step")),
                                  rf"{OPTIMIZER_FILE}: key '999.step': the optimizer has only \d+ parameters"),
    "truncated moment": (_edit_tensors(OPTIMIZER_FILE, lambda t: t.__setitem__("0.exp_avg", t["0.exp_avg"][:10])),
                         rf"{OPTIMIZER_FILE}: key '0.exp_avg' has shape \(10, 128\)"),
    "float64 moment": (_edit_tensors(OPTIMIZER_FILE, lambda t: t.__setitem__("1.exp_avg_sq",
                                                                            t["1.exp_avg_sq"].double())),
                       rf"{OPTIMIZER_FILE}: key '1.exp_avg_sq' has shape .* dtype torch.float64"),
    "moment missing": (_edit_tensors(OPTIMIZER_FILE, lambda t: t.pop("2.exp_avg_sq")),
                       rf"{OPTIMIZER_FILE}: parameter 2 has only \['exp_avg', 'step'\]"),
    "truncated optimizer file": (_truncate(OPTIMIZER_FILE), rf"{OPTIMIZER_FILE}: not a readable safetensors file"),
    "weight of another shape": (_edit_tensors(MODEL_FILE, lambda t: t.__setitem__(EMBED,
                                                                                  t[EMBED][:, :64].contiguous())),
                                rf"{MODEL_FILE}: key '{EMBED}' has shape \(300, 64\)"),
    "weight missing": (_edit_tensors(MODEL_FILE, lambda t: t.pop(EMBED)), rf"{MODEL_FILE}: does not match the model"),
    "rng state missing": (_edit_tensors("rng-rank0.safetensors", _rename("cpu", "gpu")),
                          r"rng-rank0.safetensors: key 'cpu' is missing"),
}  # fmt: skip


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_checkpoint_is_refused_naming_file_and_key_and_nothing_is_restored(
    checkpoint: Path, tmp_path: Path, damage: str
) -> None:
    damaged = tmp_path / checkpoint.name
    shutil.copytree(checkpoint, damaged)
    apply, message = DAMAGE[damage]
    apply(damaged)
    target, optimizer = _trained(1)
    before = {k: v.clone() for k, v in target.model.state_dict().items()}
    with pytest.raises(ValueError, match=f"{damaged}/{message}"):
        load_checkpoint(damaged, target, optimizer)
    assert all(torch.equal(before[k], v) for k, v in target.model.state_dict().items())


def test_an_intact_checkpoint_restores_weights_optimizer_and_state(checkpoint: Path) -> None:
    target, optimizer = _trained(1)
    state = load_checkpoint(checkpoint, target, optimizer)
    assert state["step"] == 1 and "optimizer_param_groups" not in state
    saved = read_snapshot(checkpoint)
    for name, tensor in saved.weights.items():
        assert torch.equal(target.model.state_dict()[name], tensor), name
    restored = optimizer.state_dict()["state"]
    for key, tensor in saved.optimizer.items():
        index, field = key.split(".", 1)
        assert torch.equal(restored[int(index)][field], tensor), key
