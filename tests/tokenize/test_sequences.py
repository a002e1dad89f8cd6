from __future__ import annotations

import random
from pathlib import Path

import pytest

from sciprep.tokenize.sequences import find_sequences, is_dna, is_protein
from tests.tokenize.sample_data import fasta_sequences


@pytest.mark.parametrize(
    "word",
    ["CHARACTERISTICALLY", "INTERNATIONALLY", "REPRESENTATIVES", "ACKNOWLEDGEMENTS",
     "THERMODYNAMICALLY", "SPECTRALLY", "GATTACA", "AAAAAAAAAAAAAAAA"],
)  # fmt: skip
def test_english_words_in_capitals_are_not_sequences(word: str) -> None:
    assert list(find_sequences(f"THE {word} RESULT")) == []


def test_protein_and_dna_in_prose_are_found() -> None:
    text = "Peptide MKTAYIAKQRQISFVKSHFSRQ and primer ACGTTGCAACGTAGCT."
    found = [(k, text[a:b]) for k, a, b in find_sequences(text)]
    assert found == [("amino", "MKTAYIAKQRQISFVKSHFSRQ"), ("dna", "ACGTTGCAACGTAGCT")]


def test_fasta_wrapped_sequence_is_one_span_with_its_newlines() -> None:
    text = "Sequence:\nMKTAYIAKQRQISFVKSHFS\nRQLEERLGLIEVQAPILSRV\nGDGTQ\nEnd."
    found = [(k, text[a:b]) for k, a, b in find_sequences(text)]
    assert found == [("amino", "MKTAYIAKQRQISFVKSHFS\nRQLEERLGLIEVQAPILSRV\nGDGTQ")]


def test_rna_and_lowercase_dna_are_nucleotides() -> None:
    assert is_dna("AUGGCCAUUGUAAUGGGC")
    assert is_dna("acgtacgtacgtacgtacgt")
    assert not is_dna("ACGUACGTACGTACGT")


def test_short_or_low_diversity_runs_are_not_proteins() -> None:
    assert not is_protein("MKTAYIAKQ")
    assert not is_protein("AAAAALLLLLAAAAALLLLL")


def test_recall_on_real_proteins_and_dna(shared_data: Path) -> None:
    rng = random.Random(0)
    cases: list[tuple[str, str]] = []
    for name in ("uniref50_sample.fasta", "multi_ex.fasta", "NC_005816.faa"):
        for seq in fasta_sequences(shared_data / "bio" / name):
            length = rng.randint(20, 80)
            start = rng.randrange(max(1, len(seq) - length))
            cases.append(("amino", seq[start : start + length]))
    dna = "".join(fasta_sequences(shared_data / "bio" / "NC_005816.fna"))
    for _ in range(40):
        start = rng.randrange(len(dna) - 200)
        cases.append(("dna", dna[start : start + rng.randint(20, 200)]))
    hits = 0
    for kind, seq in cases:
        text = f"The sequence {seq} binds."
        hits += [(k, text[a:b]) for k, a, b in find_sequences(text)] == [(kind, seq)]
    assert hits / len(cases) >= 0.95
