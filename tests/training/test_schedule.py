"""Learning-rate schedule: warmup, then decay to the 10% floor."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sciprep.training.schedule import learning_rate


@pytest.mark.parametrize("decay", ["cosine", "linear"])
def test_warmup_reaches_peak_then_decays_to_ten_percent(decay: str) -> None:
    lrs = [learning_rate(s, 100, 1e-3, 10, 0.1, decay) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False))
    assert learning_rate(100, 100, 1e-3, 10, 0.1, decay) == pytest.approx(1e-4)


@given(step=st.integers(0, 10_000), total=st.integers(1, 10_000), warmup=st.integers(0, 500))
def test_rate_stays_between_floor_and_peak(step: int, total: int, warmup: int) -> None:
    lr = learning_rate(step, total, 3e-4, warmup, 0.1)
    assert 0 < lr <= 3e-4 + 1e-12
    if step >= warmup:
        assert lr >= 3e-5 - 1e-12


def test_unknown_decay_is_an_error() -> None:
    with pytest.raises(ValueError, match="step"):
        learning_rate(50, 100, 1e-3, 10, 0.1, "step")
