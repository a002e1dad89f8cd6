"""Throughput accounting: FLOPs per token and the peak MFU is measured against."""

from __future__ import annotations

import pytest
import torch

from sciprep.training.metrics import PEAK_TFLOPS, device_peak_tflops, matmul_precision


@pytest.mark.parametrize("name", ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB", "NVIDIA L40S"])
def test_fp32_runs_are_measured_against_the_fp32_peak_not_bf16(name: str) -> None:
    bf16, tf32, fp32 = (device_peak_tflops(name, p) for p in ("bf16", "tf32", "fp32"))
    assert bf16 is not None and tf32 is not None and fp32 is not None
    assert fp32 <= tf32 < bf16


def test_unknown_devices_have_no_peak() -> None:
    assert device_peak_tflops("cpu", "fp32") is None
    assert all(set(peaks) == {"bf16", "tf32", "fp32"} for peaks in PEAK_TFLOPS.values())


def test_matmul_precision_follows_autocast_and_torchs_tf32_setting() -> None:
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("highest")
        assert matmul_precision(bf16=False) == "fp32"
        torch.set_float32_matmul_precision("high")  # TF32 allowed
        assert matmul_precision(bf16=False) == "tf32"
        assert matmul_precision(bf16=True) == "bf16"
    finally:
        torch.set_float32_matmul_precision(before)
