"""Sub-commands of the query stage."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this stage's sub-commands to the top-level parser."""
