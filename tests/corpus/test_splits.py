from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sciprep.corpus.splits import is_validation, split_score


@given(st.text(), st.integers(0, 10))
def test_a_larger_fraction_holds_out_a_superset(doc_id: str, seed: int) -> None:
    if is_validation(doc_id, 0.05, seed):
        assert is_validation(doc_id, 0.2, seed)
    assert 0.0 <= split_score(doc_id, seed) < 1.0


def test_fraction_is_close_to_the_requested_share_and_depends_on_the_seed() -> None:
    ids = [f"doc-{i}" for i in range(20_000)]
    held = [i for i in ids if is_validation(i, 0.1, seed=0)]
    assert 0.09 < len(held) / len(ids) < 0.11
    assert held != [i for i in ids if is_validation(i, 0.1, seed=1)]


def test_fraction_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="validation fraction"):
        is_validation("x", 1.0)
