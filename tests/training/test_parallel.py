"""The parallel wrapper in one process: full-state snapshots round-trip, FSDP placement rules."""

from __future__ import annotations

import pytest
import torch

from sciprep.training.config import PretrainConfig
from sciprep.training.distributed import DistContext
from sciprep.training.loop import make_optimizer
from sciprep.training.parallel import ParallelModel, Snapshot, model_device
from sciprep.training.presets import build_model, model_config

CPU = torch.device("cpu")


def _ctx(rank: int = 0, world: int = 1) -> DistContext:
    return DistContext(rank=rank, world=world, device=CPU)


def _trained(seed: int) -> tuple[ParallelModel, torch.optim.Optimizer]:
    parallel = ParallelModel(build_model(model_config("tiny", 300, 16), seed), _ctx(), "ddp")
    optimizer = make_optimizer(parallel.model, PretrainConfig(out="unused"), CPU)
    ids = torch.randint(0, 300, (2, 17), generator=torch.Generator().manual_seed(seed))
    parallel.module(input_ids=ids[:, :-1], labels=ids[:, 1:]).loss.backward()
    optimizer.step()
    return parallel, optimizer


def test_a_snapshot_restores_weights_and_optimizer_exactly_into_another_model() -> None:
    source, source_opt = _trained(0)
    snapshot = source.snapshot(source_opt)
    target, target_opt = _trained(1)
    target.restore(target_opt, snapshot, "snapshot")
    for (name, a), (_, b) in zip(source.model.named_parameters(), target.model.named_parameters(), strict=True):
        assert torch.equal(a, b), name
    assert target.model.lm_head.weight is target.model.model.decoder.embed_tokens.weight
    again = target.snapshot(target_opt)
    assert again.optimizer.keys() == snapshot.optimizer.keys()
    assert all(torch.equal(again.optimizer[k], snapshot.optimizer[k]) for k in snapshot.optimizer)
    assert again.param_groups == snapshot.param_groups


def test_a_snapshot_of_another_model_shape_is_refused_naming_the_keys() -> None:
    target, target_opt = _trained(0)
    weights = {k: v for k, v in target.snapshot(target_opt).weights.items() if "layers.3." not in k}
    with pytest.raises(ValueError, match=r"ckpt: checkpoint does not match the model \(missing .*layers\.3\."):
        target.restore(target_opt, Snapshot(weights, {}, target_opt.state_dict()["param_groups"]), "ckpt")


@pytest.mark.parametrize(("rank", "world", "mode", "device"), [
    (0, 1, "fsdp", "cpu"), (0, 2, "fsdp", "cpu"), (1, 2, "fsdp", "meta"), (1, 2, "ddp", "cpu"),
])  # fmt: skip
def test_only_non_zero_ranks_of_a_sharded_run_build_the_model_without_memory(
    rank: int, world: int, mode: str, device: str
) -> None:
    assert model_device(_ctx(rank, world), mode).type == device


def test_an_unknown_parallel_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="parallel must be one of ddp, fsdp, got 'zero'"):
        ParallelModel(build_model(model_config("tiny", 300, 16), 0), _ctx(), "zero")


@pytest.mark.parametrize("tied", [True, False])
def test_an_output_head_left_out_of_a_snapshot_is_accepted_only_when_tied_to_the_embeddings(tied: bool) -> None:
    config = model_config("tiny", 300, 16)
    config.tie_word_embeddings = tied
    source = ParallelModel(build_model(config, 0), _ctx(), "ddp")
    source_opt = make_optimizer(source.model, PretrainConfig(out="unused"), CPU)
    snapshot = source.snapshot(source_opt)
    snapshot.weights.pop("lm_head.weight")
    target = ParallelModel(build_model(config, 1), _ctx(), "ddp")
    target_opt = make_optimizer(target.model, PretrainConfig(out="unused"), CPU)
    if not tied:
        assert target.model.lm_head.weight is not target.model.model.decoder.embed_tokens.weight
        with pytest.raises(ValueError, match=r"ckpt: checkpoint does not match the model \(missing \['lm_head"):
            target.restore(target_opt, snapshot, "ckpt")
        return
    target.restore(target_opt, snapshot, "ckpt")
    assert target.model.lm_head.weight is target.model.model.decoder.embed_tokens.weight
    assert torch.equal(target.model.lm_head.weight, source.model.lm_head.weight)
