"""One quick demo run shared by every test of this folder (and by both xdist workers)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from sciprep.cli import main


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``sciprep demo --quick`` into a directory every test process shares.

    Under pytest-xdist each worker has its own session; the lock makes the first one run
    the demo and the others reuse its output instead of running it again.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = root / "sciprep-demo-quick"
    with open(root / "sciprep-demo-quick.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "report.html").is_file():
            assert main(["demo", "--out", str(out), "--quick", "--no-progress"]) == 0
    return out
