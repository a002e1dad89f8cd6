"""Task functions for executor tests: importable by worker processes and Ray workers."""

from __future__ import annotations

import os
import time
from pathlib import Path


def square_after_work(n: int) -> int:
    """``n * n`` after work that shrinks as ``n`` grows, so later items tend to finish first."""
    total = 0
    for i in range((50 - n % 50) * 2000):
        total += i
    return n * n + (total - total)


def worker_pid(_: int) -> int:
    return os.getpid()


def parse_int(text: str) -> int:
    return int(text)


def die_on(bad: str):  # type: ignore[no-untyped-def]
    """A task that kills its own worker process for item ``bad``."""
    return _DieOn(bad)


class _DieOn:
    def __init__(self, bad: str) -> None:
        self.bad = bad

    def __call__(self, item: str) -> str:
        if item == self.bad:
            os._exit(3)
        return item


class MarkDone:
    """Writes ``<folder>/<item>`` then returns the item; raises for ``fail``."""

    def __init__(self, folder: Path, fail: str) -> None:
        self.folder = folder
        self.fail = fail

    def __call__(self, item: str) -> str:
        if item == self.fail:
            raise ValueError(f"item {item} is bad")
        (self.folder / item).write_text(item, encoding="utf-8")
        return item


def wait_for(path: Path, seconds: float = 30.0) -> bool:
    """Whether ``path`` appears within ``seconds`` (a bounded wait for a condition)."""
    for _ in range(int(seconds * 20)):
        if path.exists():
            return True
        time.sleep(0.05)
    return False


class DieWhilePartnerRuns:
    """Marks ``<folder>/<item>.started``; item ``bad`` kills its worker once ``partner`` has
    started, every other item waits for ``<folder>/release`` (which never comes here)."""

    def __init__(self, folder: Path, bad: str, partner: str) -> None:
        self.folder, self.bad, self.partner = folder, bad, partner

    def __call__(self, item: str) -> str:
        (self.folder / f"{item}.started").touch()
        if item == self.bad:
            wait_for(self.folder / f"{self.partner}.started")
            os._exit(3)
        wait_for(self.folder / "release")
        return item


class RecordPidAndWait:
    """Writes ``<folder>/<item>.pid`` (this worker's pid), then waits for ``<folder>/release``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, item: str) -> str:
        (self.folder / f"{item}.pid").write_text(str(os.getpid()), encoding="utf-8")
        wait_for(self.folder / "release", 60.0)
        return item


class ElsewhereExecutor:
    """Runs tasks in this process with another working directory, as a Ray worker on another
    node (or a worker started elsewhere) does, and each task twice, as Ray does when a
    worker dies after its task finished."""

    inline = True

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def map(self, fn, items, *, desc, label=str, progress=True):  # type: ignore[no-untyped-def]
        home = Path.cwd()
        os.chdir(self.cwd)
        try:
            for item in items:
                fn(item)
            return [fn(item) for item in items]
        finally:
            os.chdir(home)

    def close(self) -> None:
        """Nothing to release."""
