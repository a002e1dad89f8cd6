"""Windows: seeded per-epoch permutations, per-source weights, prompt mixing."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.training import WindowPlanner, open_tokens
from tests.training.conftest import Sample

T = 32


def test_permutation_is_seeded_and_differs_across_epochs(sample: Sample) -> None:
    a = WindowPlanner(sample.packed, T, seed=7)
    b = WindowPlanner(sample.packed, T, seed=7)
    other = WindowPlanner(sample.packed, T, seed=8)
    assert np.array_equal(a.plan(0), b.plan(0)) and np.array_equal(a.plan(1), b.plan(1))
    assert not np.array_equal(a.plan(0), a.plan(1))
    assert not np.array_equal(a.plan(0), other.plan(0))
    # Unit weights: every window exactly once per epoch, just in a different order.
    assert sorted(a.plan(0).tolist()) == sorted(a.plan(1).tolist()) == list(range(a.n_train_windows))


def test_windows_are_consecutive_tokens_with_shifted_targets(sample: Sample) -> None:
    planner = WindowPlanner(sample.packed, T, seed=0)
    tokens = open_tokens(sample.packed / "train.tokens")
    rows = planner.plan(0)[:5]
    inputs, y = planner.batch(rows)
    x = inputs["input_ids"]
    for i, row in enumerate(rows):
        assert x[i].tolist() == tokens[row * T : row * T + T].tolist()
        assert y[i].tolist() == tokens[row * T + 1 : row * T + T + 1].tolist()


@settings(max_examples=15, deadline=None)
@given(arxiv=st.floats(0, 3), protein=st.floats(0, 3), epoch=st.integers(0, 5))
def test_source_weights_are_passes_per_epoch(sample: Sample, arxiv: float, protein: float, epoch: int) -> None:
    planner = WindowPlanner(sample.packed, T, seed=1, source_weights={"arxiv": arxiv, "uniref50": protein})
    counts = Counter(planner.row_sources(planner.plan(epoch)).tolist())
    available = Counter(planner.train.window_sources.tolist())
    for name, weight in (("arxiv", arxiv), ("uniref50", protein)):
        index = planner.sources.index(name)
        expected = int(weight) * available[index] + round((weight - int(weight)) * available[index])
        assert counts.get(index, 0) == expected


def test_fractional_weight_picks_a_different_subset_each_epoch(sample: Sample) -> None:
    planner = WindowPlanner(sample.packed, T, seed=0, source_weights={"arxiv": 0.5})
    first, second = (set(planner.plan(e).tolist()) for e in (0, 1))
    assert first != second and len(first) == len(second)


def test_prompt_ratio_sets_the_share_of_prompt_windows(sample: Sample) -> None:
    planner = WindowPlanner(sample.packed, T, seed=0, prompt_ratio=0.25)
    plan = planner.plan(0)
    prompt_share = np.mean(plan >= planner.n_train_windows)
    assert prompt_share == pytest.approx(0.25, abs=0.002)
    x = planner.batch(plan[plan >= planner.n_train_windows][:1])[0]["input_ids"]
    prompts = open_tokens(sample.packed / "prompts.tokens")
    local = int(plan[plan >= planner.n_train_windows][0]) - planner.n_train_windows
    assert x[0].tolist() == prompts[local * T : local * T + T].tolist()


def test_unknown_source_weight_is_an_error_naming_it(sample: Sample) -> None:
    with pytest.raises(ValueError, match="pubmed"):
        WindowPlanner(sample.packed, T, seed=0, source_weights={"pubmed": 2.0})
