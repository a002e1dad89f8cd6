"""Task functions for executor tests: importable by worker processes and Ray workers."""

from __future__ import annotations

import os
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
