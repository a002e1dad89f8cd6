"""The seeded document sample a tokenizer is trained on.

Galactica trained its tokenizer on a random 2% of the corpus. A fraction alone leaves a
small corpus with a handful of documents, so the sample is the union of a Bernoulli
``fraction`` sample and a uniform reservoir of ``min_docs`` documents (Algorithm R): a
large corpus gets about ``fraction`` of it, a small one gets at least ``min_docs`` (all of
it when it has fewer). Memory holds only the sample. The same texts, fraction and seed
give the same sample, returned in corpus order.
"""

from __future__ import annotations

import random
from collections.abc import Iterable


def sample_texts(texts: Iterable[str], fraction: float, seed: int, min_docs: int) -> list[str]:
    """The seeded sample of ``texts`` (see the module docstring)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"sample fraction must be in (0, 1], not {fraction}")
    if min_docs < 0:
        raise ValueError(f"min_docs must be >= 0, not {min_docs}")
    rng = random.Random(seed)
    chosen: dict[int, str] = {}
    reservoir: list[tuple[int, str]] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text #{i} is {type(text).__name__}, expected str")
        if rng.random() < fraction:
            chosen[i] = text
        if len(reservoir) < min_docs:
            reservoir.append((i, text))
        else:
            j = rng.randrange(i + 1)
            if j < min_docs:
                reservoir[j] = (i, text)
    if len(chosen) < min_docs:
        chosen.update(reservoir)
    return [chosen[i] for i in sorted(chosen)]
