"""Shared fixtures: where the real sample data lives, and skipping when it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository; tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at {SHARED_DATA} (only on developer/CI machines)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ray_local():  # type: ignore[no-untyped-def]
    """A local Ray instance (2 CPUs, small object store) shared by every Ray test in a process.

    Skips where the optional ``ray`` extra is not installed (CI installs it).
    """
    ray = pytest.importorskip("ray", reason="the optional `ray` extra is not installed (pip install 'sciprep[ray]')")
    if not ray.is_initialized():
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=256 * 1024 * 1024,
            log_to_driver=False,
            configure_logging=False,
        )
    yield ray
    ray.shutdown()
