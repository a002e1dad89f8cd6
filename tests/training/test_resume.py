"""Resuming across world sizes: the global batch is kept or the resume is refused clearly."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from sciprep.training.config import PretrainConfig
from sciprep.training.distributed import DistContext
from sciprep.training.resume import adapt_to_world, check_compatible, fit_global_batch, global_batch_of

WHERE = Path("runs/a")


def _ctx(world: int) -> DistContext:
    return DistContext(rank=0, world=world, device=torch.device("cpu"))


def _saved(world: int, batch_size: int, grad_accum: int, step: int = 5) -> dict[str, object]:
    cfg = PretrainConfig(out=str(WHERE), batch_size=batch_size, grad_accum=grad_accum)
    return {"world": world, "global_batch": batch_size * grad_accum * world, "step": step,
            "config": asdict(cfg), "inputs": {}}  # fmt: skip


@given(per_rank=st.integers(1, 256), world=st.integers(1, 16), max_batch=st.integers(1, 64))
def test_fitted_batch_keeps_the_global_batch_with_the_fewest_accumulation_steps(
    per_rank: int, world: int, max_batch: int
) -> None:
    batch, accum = fit_global_batch(per_rank * world, world, max_batch)
    assert batch * accum * world == per_rank * world
    assert 1 <= batch <= max_batch
    assert not any(per_rank % b == 0 for b in range(batch + 1, min(max_batch, per_rank) + 1))


@given(global_batch=st.integers(1, 512), world=st.integers(2, 16))
def test_a_global_batch_the_world_does_not_divide_is_refused(global_batch: int, world: int) -> None:
    if global_batch % world == 0:
        assert fit_global_batch(global_batch, world, 8)[0] >= 1
    else:
        with pytest.raises(ValueError, match=f"{global_batch} rows per step cannot be split evenly over {world}"):
            fit_global_batch(global_batch, world, 8)


def test_a_changed_world_size_is_refused_naming_both_sizes_and_the_flag() -> None:
    cfg = PretrainConfig(out=str(WHERE), batch_size=4)
    with pytest.raises(ValueError, match=r"made with 4 process\(es\) but this run has 2; resume with 4, or pass "
                                         r"--allow-world-size-change .* \(16 rows per step\)"):  # fmt: skip
        adapt_to_world(cfg, _saved(4, 4, 1), _ctx(2), WHERE)


def test_the_same_world_size_changes_nothing() -> None:
    cfg = PretrainConfig(out=str(WHERE), batch_size=4)
    assert adapt_to_world(cfg, _saved(2, 4, 1), _ctx(2), WHERE) == (cfg, None)


@pytest.mark.parametrize(("old", "new", "cap", "expected"), [
    (4, 2, 4, (4, 2)),  # half the processes: twice the accumulation
    (2, 4, 4, (2, 1)),  # twice the processes: half the micro-batch
    (1, 3, 8, (4, 1)),  # 12 rows over 3 processes
    (4, 1, 6, (4, 4)),  # 16 rows on one process, at most 6 per micro-batch: 4 x 4
])  # fmt: skip
def test_an_allowed_world_change_rechooses_the_per_rank_batch(old: int, new: int, cap: int,
                                                              expected: tuple[int, int]) -> None:  # fmt: skip
    saved = _saved(old, 4 if old != 1 else 12, 1)
    cfg = PretrainConfig(out=str(WHERE), batch_size=cap, allow_world_size_change=True)
    adapted, change = adapt_to_world(cfg, saved, _ctx(new), WHERE)
    assert (adapted.batch_size, adapted.grad_accum) == expected
    assert adapted.batch_size * adapted.grad_accum * new == global_batch_of(saved)
    assert change == {"step": 5, "from_world": old, "to_world": new, "batch_size": expected[0],
                      "grad_accum": expected[1]}  # fmt: skip
    fresh = {"inputs": {}, "global_batch": global_batch_of(saved), "world": new}
    check_compatible(adapted, saved, fresh, WHERE)  # per-rank keys may differ now


def test_an_allowed_world_change_that_cannot_keep_the_global_batch_names_both_sizes() -> None:
    cfg = PretrainConfig(out=str(WHERE), batch_size=4, allow_world_size_change=True)
    with pytest.raises(ValueError, match=r"cannot resume with 3 process\(es\) \(made with 2\).*8 rows per step"):
        adapt_to_world(cfg, _saved(2, 4, 1), _ctx(3), WHERE)


def test_per_rank_batch_changes_are_refused_when_the_world_size_is_the_same() -> None:
    saved = _saved(2, 4, 1)
    cfg = PretrainConfig(out=str(WHERE), batch_size=2, grad_accum=2)
    with pytest.raises(ValueError, match="different batch_size, grad_accum; use a new --out or --no-resume"):
        check_compatible(cfg, saved, {"inputs": {}, "global_batch": 8, "world": 2}, WHERE)


@pytest.mark.parametrize("allow", [False, True])
def test_after_a_world_change_the_same_command_resumes_at_the_new_size(allow: bool) -> None:
    """The saved per-rank keys were chosen by the change (4 procs x 4 -> 2 x 4 x 2), not given by the user."""
    saved = _saved(2, 4, 2, step=7)
    saved["world_changes"] = [{"step": 5, "from_world": 4, "to_world": 2, "batch_size": 4, "grad_accum": 2}]
    cfg = PretrainConfig(out=str(WHERE), batch_size=4, allow_world_size_change=allow)  # the user's grad_accum 1
    adapted, change = adapt_to_world(cfg, saved, _ctx(2), WHERE)
    assert change is None  # same world: no new change recorded, every rank's RNG is restored
    assert (adapted.batch_size, adapted.grad_accum) == (4, 2)
    check_compatible(adapted, saved, {"inputs": {}, "global_batch": 16, "world": 2}, WHERE)
    with pytest.raises(ValueError, match="different global batch"):
        check_compatible(adapted, saved, {"inputs": {}, "global_batch": 8, "world": 2}, WHERE)


def test_checkpoints_without_a_recorded_global_batch_derive_it_from_their_config() -> None:
    saved = _saved(3, 4, 2)
    del saved["global_batch"]
    assert global_batch_of(saved) == 24
