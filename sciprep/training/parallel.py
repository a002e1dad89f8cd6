"""How the model is spread over processes: one process, DDP, or FSDP2.

* ``ddp`` (the default): every process holds the whole model and optimizer state;
  gradients are averaged with an all-reduce (``DistributedDataParallel``).
* ``fsdp``: ``torch.distributed.fsdp.fully_shard`` (FSDP2) on every transformer
  block (the classes a Hugging Face model lists in ``_no_split_modules``, e.g.
  ``OPTDecoderLayer``) and then on the whole model, so parameters, gradients and
  AdamW moments are split across all processes and a block's weights are gathered
  only while it runs. Use it when the model plus its optimizer state do not fit on
  one device. With one process it is the same as ``ddp``. Only rank 0 needs real
  initial weights: the other ranks may build the model on the ``meta`` device
  (:func:`model_device`), and rank 0's weights are scattered to them, so only rank
  0 ever holds a full copy in host memory.

Either way a checkpoint holds the *full* model and optimizer state in the same
files (gathered to rank 0 with :mod:`torch.distributed.checkpoint.state_dict`,
full state dicts offloaded to CPU, and scattered back from rank 0 on resume), so
a checkpoint of a sharded run loads in a single process and vice versa.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch

from sciprep.training.config import PARALLEL_MODES
from sciprep.training.distributed import DistContext


@dataclass
class Snapshot:
    """The full training state as tensors, on CPU, on rank 0 (empty on other ranks).

    ``optimizer`` maps ``"<parameter index>.<key>"`` (AdamW ``step``, ``exp_avg``,
    ``exp_avg_sq``) to tensors, the layout ``torch.optim.Optimizer.state_dict`` uses;
    ``param_groups`` are its JSON-able group settings.
    """

    weights: dict[str, torch.Tensor]
    optimizer: dict[str, torch.Tensor]
    param_groups: list[dict[str, Any]]


class ParallelModel:
    """The model wrapped for ``mode`` across ``ctx``'s processes, and its full state.

    ``module`` is what the training loop calls; ``model`` stays the Hugging Face
    model (sharded in place under FSDP, so evaluation and generation call it too).
    Build the optimizer on ``model.parameters()`` after this wraps it. Under FSDP
    every rank starts from rank 0's weights (other ranks' may be on ``meta``).
    """

    def __init__(self, model: Any, ctx: DistContext, mode: str) -> None:
        if mode not in PARALLEL_MODES:
            raise ValueError(f"parallel must be one of {', '.join(PARALLEL_MODES)}, got {mode!r}")
        self.model = model
        self.ctx = ctx
        self.sharded = mode == "fsdp" and ctx.world > 1
        if self.sharded != ctx.sharded:
            raise ValueError(f"parallel {mode!r} over {ctx.world} process(es) but the process context says "
                             f"sharded={ctx.sharded}; pass the same mode to init_distributed")  # fmt: skip
        self._ddp: torch.nn.parallel.DistributedDataParallel | None = None
        if self.sharded:
            initial = model.state_dict() if ctx.is_main else {}
            _shard_blocks(model, ctx)
            if not ctx.is_main:
                model.to_empty(device=ctx.device)
            from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

            set_model_state_dict(model, initial, options=StateDictOptions(full_state_dict=True,
                                                                          broadcast_from_rank0=True))  # fmt: skip
        else:
            model.to(ctx.device)
            if ctx.world > 1:
                self._ddp = torch.nn.parallel.DistributedDataParallel(
                    model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)  # fmt: skip
        self.module: torch.nn.Module = self._ddp if self._ddp is not None else model

    def gradient_sync(self, enabled: bool) -> contextlib.AbstractContextManager[Any]:
        """Context for one micro-batch's backward: reduce gradients across ranks only if ``enabled``.

        Pass False for all but the last micro-batch of a step (gradient accumulation).
        """
        if self.sharded:
            self.model.set_requires_gradient_sync(enabled)
        elif self._ddp is not None and not enabled:
            return self._ddp.no_sync()
        return contextlib.nullcontext()

    def full_weights(self) -> dict[str, torch.Tensor]:
        """The full model tensors on CPU on rank 0 (empty elsewhere). Every rank must call this."""
        if not self.sharded:
            if not self.ctx.is_main:
                return {}
            return {name: t.detach().cpu().contiguous() for name, t in self.model.state_dict().items()}
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(self.model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))

    def snapshot(self, optimizer: torch.optim.Optimizer) -> Snapshot:
        """Gather the full model and optimizer state to rank 0. Every rank must call this."""
        weights = self.full_weights()
        if not self.sharded:
            return Snapshot(weights, *_optimizer_tensors(optimizer.state_dict())) if self.ctx.is_main else (
                Snapshot({}, {}, []))  # fmt: skip
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        named = get_optimizer_state_dict(self.model, optimizer, options=options)
        if not self.ctx.is_main:
            return Snapshot({}, {}, [])
        index = {fqn: i for i, fqn in enumerate(self._optimizer_fqns(optimizer))}
        by_index = {
            "state": {index[fqn]: entry for fqn, entry in named["state"].items()},
            "param_groups": [{**g, "params": [index[f] for f in g["params"]]} for g in named["param_groups"]],
        }
        return Snapshot(weights, *_optimizer_tensors(by_index))

    def restore(self, optimizer: torch.optim.Optimizer, snapshot: Snapshot | None, where: str) -> None:
        """Load a full state into the model and optimizer. Every rank must call this.

        Unsharded, every rank passes the snapshot; sharded, rank 0 passes it and the
        others pass None (rank 0 scatters the shards). ``where`` names the source in errors.
        """
        if not self.sharded:
            assert snapshot is not None
            # strict: a name missing from the file is an error unless it is tied to one present
            # (an untied lm_head.weight left out would otherwise stay randomly initialised)
            self.model.load_state_dict(_complete_weights(self.model, snapshot.weights, where), strict=True)
            optimizer.load_state_dict(_optimizer_state_dict(snapshot.optimizer, snapshot.param_groups))
            return
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions, set_model_state_dict, set_optimizer_state_dict,
        )  # fmt: skip

        weights: dict[str, Any] = {}
        named: dict[str, Any] = {}
        if snapshot is not None:
            weights = _complete_weights(self.model, snapshot.weights, where)
            fqns = self._optimizer_fqns(optimizer)
            plain = _optimizer_state_dict(snapshot.optimizer, snapshot.param_groups)
            if len(plain["state"]) > len(fqns) or any(i >= len(fqns) for i in plain["state"]):
                raise ValueError(f"{where}: optimizer state has more parameters than the model ({len(fqns)})")
            named = {
                "state": {fqns[i]: entry for i, entry in plain["state"].items()},
                "param_groups": [{**g, "params": [fqns[i] for i in g["params"]]} for g in plain["param_groups"]],
            }
        options = StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
        set_model_state_dict(self.model, weights, options=options)
        set_optimizer_state_dict(self.model, optimizer, named, options=options)

    def _optimizer_fqns(self, optimizer: torch.optim.Optimizer) -> list[str]:
        """Parameter names in the optimizer's index order (the order its state dict numbers them)."""
        names = {id(p): name for name, p in self.model.named_parameters()}
        return [names[id(p)] for group in optimizer.param_groups for p in group["params"]]


def model_device(ctx: DistContext, mode: str) -> torch.device:
    """Where to build the model before :class:`ParallelModel` wraps it.

    ``meta`` (no memory) on ranks other than 0 of a sharded run, which receive rank
    0's weights; the CPU otherwise (the wrapper moves it to ``ctx.device``).
    """
    return torch.device("meta" if mode == "fsdp" and ctx.world > 1 and not ctx.is_main else "cpu")


def _shard_blocks(model: Any, ctx: DistContext) -> None:
    """``fully_shard`` each transformer block, then the root (embeddings, final norm, head)."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    blocks = set(getattr(model, "_no_split_modules", None) or ())
    if not blocks:
        raise ValueError(f"{type(model).__name__} does not name its transformer blocks (_no_split_modules); "
                         "FSDP cannot choose what to shard: use --parallel ddp")  # fmt: skip
    mesh = init_device_mesh(ctx.device.type, (ctx.world,))
    for module in list(model.modules()):
        if type(module).__name__ in blocks:
            fully_shard(module, mesh=mesh)
    fully_shard(model, mesh=mesh)


def tied_aliases(model: Any) -> dict[str, str]:
    """Parameter names that are another parameter under a second name (``lm_head.weight`` ->
    ``model.decoder.embed_tokens.weight`` when embeddings are tied); files store such a tensor once."""
    first: dict[int, str] = {}
    aliases = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        owner = first.setdefault(id(param), name)
        if owner != name:
            aliases[name] = owner
    return aliases


def _complete_weights(model: Any, weights: dict[str, torch.Tensor], where: str) -> dict[str, torch.Tensor]:
    """``weights`` plus the tied names stored once; refused (naming ``where``) unless the keys match."""
    full = dict(weights)
    for name, owner in tied_aliases(model).items():
        if name not in full and owner in full:
            full[name] = full[owner]
    expected = set(model.state_dict())
    if set(full) != expected:
        raise ValueError(f"{where}: checkpoint does not match the model (missing {sorted(expected - set(full))}, "
                         f"unexpected {sorted(set(full) - expected)})")  # fmt: skip
    return full


def _optimizer_tensors(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    """An optimizer state dict as flat named tensors plus its JSON-able param-group settings."""
    tensors = {
        f"{index}.{key}": value.detach().cpu().contiguous()
        for index, entry in state["state"].items()
        for key, value in entry.items()
    }
    return tensors, state["param_groups"]


def _optimizer_state_dict(tensors: dict[str, torch.Tensor], groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Inverse of :func:`_optimizer_tensors` (group ``betas`` back to tuples after JSON)."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = tensor
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in groups]
    return {"state": state, "param_groups": groups}
