"""Modality-aware tokenization: detect and mark up math, chemistry, sequences, citations;
train, apply and save a Galactica-style byte-level BPE tokenizer."""

from sciprep.tokenize.citations import BibEntry
from sciprep.tokenize.pretokenize import smiles_atoms
from sciprep.tokenize.segment import segment
from sciprep.tokenize.spans import KINDS, Span
from sciprep.tokenize.tokenizer import SciTokenizer
from sciprep.tokenize.wrap import WrapResult, wrap, wrap_report

__all__ = [
    "KINDS",
    "BibEntry",
    "SciTokenizer",
    "Span",
    "WrapResult",
    "segment",
    "smiles_atoms",
    "wrap",
    "wrap_report",
]
