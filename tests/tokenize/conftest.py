"""Tokenizers trained once per test run: a tiny one on inline text, a real one on sample data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sciprep.tokenize import SciTokenizer, wrap
from tests.tokenize.sample_data import arxiv_paragraphs, chembl_smiles, fasta_sequences

_INLINE = [
    "The energy is $E = mc^2$ and the momentum $p_{10} = (m v)^2$ in 2023.",
    "Aspirin CC(=O)Oc1ccccc1C(=O)O inhibits COX; ethanol is OCC.",
    "The peptide MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ binds DNA ACGTTGCAACGTAGCTAGCA.",
    "Tabs\tand\r\nCRLF  and double  spaces, emoji 😀, Greek αβγ, superscripts x² and ﬁ.",
    "We cite [START_REF] Attention Is All You Need, Vaswani[END_REF] here.",
]


def _inline_corpus() -> list[str]:
    rng = random.Random(0)
    words = " ".join(_INLINE).split()
    docs = [wrap(t) for t in _INLINE]
    for _ in range(300):
        docs.append(" ".join(rng.choice(words) for _ in range(40)))
    return docs


@pytest.fixture(scope="session")
def tiny_tokenizer() -> SciTokenizer:
    """A 600-id tokenizer trained on inline text (no sample data needed)."""
    return SciTokenizer().train(_inline_corpus(), vocab_size=600, seed=0)


@pytest.fixture(scope="session")
def tiny_atom_tokenizer() -> SciTokenizer:
    """A 600-id tokenizer in atom SMILES mode trained on the same inline text."""
    return SciTokenizer(smiles="atom").train(_inline_corpus(), vocab_size=600, seed=0)


@pytest.fixture(scope="session")
def real_corpus(shared_data: Path) -> list[str]:
    """Wrapped arXiv paragraphs with their formulas, a third with a real SMILES, protein or DNA."""
    rng = random.Random(1)
    smiles = chembl_smiles(shared_data)
    proteins = fasta_sequences(shared_data / "bio" / "uniref50_sample.fasta")
    dna = "".join(fasta_sequences(shared_data / "bio" / "NC_005816.fna"))
    docs = []
    for i, para in enumerate(arxiv_paragraphs(shared_data, 1500, resolve=True)):
        if i % 3 == 1:
            a = rng.randrange(len(dna) - 200)
            insert = [rng.choice(smiles), rng.choice(proteins)[:80], dna[a : a + 60]][i % 9 // 3]
            para = f"{para} Here {insert} matters."
        docs.append(wrap(para))
    return docs


@pytest.fixture(scope="session")
def real_tokenizer(real_corpus: list[str]) -> SciTokenizer:
    """A 2,000-id tokenizer trained on :func:`real_corpus`."""
    return SciTokenizer().train(real_corpus, vocab_size=2000, seed=0)
