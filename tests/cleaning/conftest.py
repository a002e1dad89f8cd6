"""Small corpus directories for cleaning tests, written with the real shard writer."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from sciprep.corpus.document import Document
from sciprep.corpus.shards import write_documents

MakeCorpus = Callable[..., Path]


_VOCABULARY = (
    "the of and to in that with have be is we a for on by this are as from at which model data "
    "energy field sample measured effect results method analysis protein structure binding site "
    "electron density temperature pressure phase transition lattice spin coupling constant "
    "theorem proof lemma algebra operator function space boundary condition equation solution "
    "network training loss gradient layer parameter estimate variance error bound rate signal "
    "noise frequency spectrum peak detector beam particle decay mass charge molecule reaction "
    "catalyst yield solvent bond orbital cell gene expression sequence mutation species growth "
    "experiment observation simulation approximation limit regime scale order first second new "
    "large small strong weak high low our their these those each both between under over"
).split()


def prose(topic: str, n: int = 120) -> str:
    """Distinct, non-repetitive English-like prose of ``n`` words, seeded by ``topic``."""
    rng = random.Random(topic)
    sentences, words = [], 0
    while words < n:
        length = min(rng.randint(8, 16), n - words)
        sentence = [rng.choice(_VOCABULARY) for _ in range(length)]
        if length >= 6:  # real English: a few stop words in every sentence
            sentence[0], sentence[length // 2] = "the", "of"
        sentences.append(" ".join(sentence).capitalize() + ".")
        words += length
    return " ".join(sentences)


@pytest.fixture
def make_corpus(tmp_path: Path) -> MakeCorpus:
    """``make_corpus(shards, name="in")`` writes one Parquet shard per list of documents."""

    def make(shards: Sequence[Sequence[Document]], name: str = "in") -> Path:
        root = tmp_path / name
        for index, docs in enumerate(shards):
            write_documents(root / "shards" / f"part-{index:05d}.parquet", docs)
        return root

    return make
