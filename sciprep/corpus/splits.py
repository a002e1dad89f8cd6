"""Which documents are held out: one seeded rule every stage agrees on.

The trainer's validation set, the prompt datasets' test split and the citation
evaluation must be the *same* documents, or evaluation leaks. The rule depends only
on the document id and a seed, so it is stable across runs, shards and machines.
"""

from __future__ import annotations

import hashlib

DEFAULT_VALIDATION_FRACTION = 0.05
DEFAULT_SPLIT_SEED = 0


def split_score(doc_id: str, seed: int = DEFAULT_SPLIT_SEED) -> float:
    """A uniform number in [0, 1) derived from ``doc_id`` and ``seed``."""
    digest = hashlib.blake2b(f"{seed}:{doc_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def is_validation(
    doc_id: str, fraction: float = DEFAULT_VALIDATION_FRACTION, seed: int = DEFAULT_SPLIT_SEED
) -> bool:
    """True when ``doc_id`` belongs to the held-out split."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation fraction must be in [0, 1), got {fraction}")
    return split_score(doc_id, seed) < fraction
