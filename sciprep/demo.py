"""``sciprep demo``: the whole flow on the built-in demo corpus."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``sciprep demo``."""
