from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.tokenize import smiles_atoms
from sciprep.tokenize.pretokenize import build_pre_tokenizer


def pieces(text: str, smiles: str = "char") -> list[str]:
    decode = {c: bytes([b]) for b, c in _byte_chars().items()}
    return [
        b"".join(decode[c] for c in p).decode("utf-8")
        for p, _ in build_pre_tokenizer(smiles).pre_tokenize_str(text)
    ]


def _byte_chars() -> dict[int, str]:
    from tokenizers import pre_tokenizers

    # ByteLevel maps bytes to printable characters; recover the table from its alphabet.
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    return {b: bl.pre_tokenize_str(bytes([b]).decode("latin-1"))[0][0] for b in range(128)}


def test_smiles_atoms_follow_the_molecular_transformer_regex() -> None:
    assert smiles_atoms("C[C@@H](Cl)c1ccc(Br)cc1%10") == [
        "C", "[C@@H]", "(", "Cl", ")", "c", "1", "c", "c", "c", "(", "Br", ")", "c", "c", "1", "%10",
    ]  # fmt: skip


@settings(deadline=None)
@given(st.text(max_size=40))
def test_smiles_atom_pieces_rejoin_to_the_input(text: str) -> None:
    assert "".join(smiles_atoms(text)) == text


def test_sequence_spans_split_into_characters() -> None:
    assert pieces("[START_DNA]ACGT[END_DNA]") == ["[START_DNA]", "A", "C", "G", "T", "[END_DNA]"]


def test_atom_mode_keeps_atoms_whole() -> None:
    assert pieces("[START_SMILES]C[C@@H](Cl)%12[END_SMILES]", "atom") == [
        "[START_SMILES]", "C", "[C@@H]", "(", "Cl", ")", "%12", "[END_SMILES]",
    ]  # fmt: skip


def test_math_operators_and_brackets_split_but_commands_stay_whole() -> None:
    assert pieces("[START_MATH]$\\alpha_{12}+(x)$[END_MATH]") == [
        "[START_MATH]", "$", "\\alpha", "_", "{", "1", "2", "}", "+", "(", "x", ")", "$", "[END_MATH]",
    ]  # fmt: skip


def test_operators_outside_math_follow_prose_rules() -> None:
    assert pieces("a+(b)") == ["a", "+(", "b", ")"]


def test_digits_are_single_pieces_in_prose() -> None:
    assert pieces("in 2023, x12") == ["in", " ", "2", "0", "2", "3", ",", " x", "1", "2"]


def test_unclosed_and_mismatched_tags_are_single_pieces_without_a_span() -> None:
    assert pieces("[START_SMILES]CCO [START_DNA]AC[END_AMINO]") == [
        "[START_SMILES]", "CCO", " ", "[START_DNA]", "AC", "[END_AMINO]",
    ]  # fmt: skip


def test_unknown_smiles_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="smiles mode"):
        build_pre_tokenizer("bpe")
