from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.cleaning.lsh import (
    band_keys,
    candidate_pairs,
    candidate_probability,
    main,
    s_curve_point,
    threshold_report,
)


def test_s_curve_point_is_the_fineweb_threshold_for_14x8() -> None:
    assert s_curve_point(14, 8) == pytest.approx((1 / 14) ** (1 / 8))
    assert 0.71 < s_curve_point(14, 8) < 0.73


@given(bands=st.integers(1, 200), rows=st.integers(1, 16))
def test_candidate_probability_rises_from_zero_to_one(bands: int, rows: int) -> None:
    probs = candidate_probability(np.linspace(0, 1, 21), bands, rows)
    assert probs[0] == 0.0 and probs[-1] == pytest.approx(1.0)
    assert np.all(np.diff(probs) >= 0)


def test_threshold_report_prints_the_point_and_the_curve() -> None:
    report = threshold_report(20, 5, num_perm=128)
    assert "(1/b)^(1/r) = 0.549" in report and "100 of 128 permutations" in report
    assert report.count("\n") > 20
    with pytest.raises(ValueError, match="exceeds num_perm"):
        threshold_report(20, 7, num_perm=128)


def test_threshold_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bands", "64", "--rows", "2"]) == 0
    assert "0.125" in capsys.readouterr().out
    assert main(["--bands", "0", "--rows", "2"]) == 2


@settings(max_examples=50, deadline=None)
@given(sig=st.lists(st.integers(0, 2**32 - 1), min_size=8, max_size=8), others=st.integers(0, 5))
def test_identical_signatures_are_always_candidates(sig: list[int], others: int) -> None:
    rng = np.random.default_rng(others)
    rows = [rng.integers(0, 2**32, 8, dtype=np.uint64).astype(np.uint32) for _ in range(others)]
    signatures = np.array([sig, *rows, sig], dtype=np.uint32)
    pairs = candidate_pairs(signatures, bands=4, rows=2)
    assert [0, len(signatures) - 1] in pairs.tolist()
    assert np.all(pairs[:, 0] < pairs[:, 1])


def test_documents_sharing_no_band_are_not_candidates() -> None:
    signatures = np.array([[1, 2, 3, 4], [1, 9, 3, 8], [1, 2, 7, 7]], dtype=np.uint32)
    # bands of 2 rows: doc 0 and 2 share band (1, 2); doc 1 shares none.
    assert candidate_pairs(signatures, bands=2, rows=2).tolist() == [[0, 2]]


def test_inactive_documents_never_pair() -> None:
    signatures = np.zeros((3, 4), dtype=np.uint32)
    pairs = candidate_pairs(signatures, 2, 2, active=np.array([True, False, True]))
    assert pairs.tolist() == [[0, 2]]


def test_a_huge_bucket_yields_linear_pairs_that_still_connect_everyone() -> None:
    n = 500
    signatures = np.zeros((n, 4), dtype=np.uint32)
    pairs = candidate_pairs(signatures, 2, 2, max_bucket=64)
    assert len(pairs) < 2 * n
    assert set(pairs[:, 0].tolist()) | set(pairs[:, 1].tolist()) == set(range(n))
    assert all(p[0] == 0 for p in pairs[: n - 1].tolist())


def test_band_keys_differ_between_bands_with_equal_rows() -> None:
    keys = band_keys(np.array([[5, 5, 5, 5]], dtype=np.uint32), 2, 2)
    assert keys[0, 0] != keys[0, 1]
    with pytest.raises(ValueError, match="exceeds the signature width"):
        band_keys(np.zeros((1, 4), np.uint32), 3, 2)
