from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from sciprep.tokenize import SciTokenizer
from sciprep.tokenize.span_encode import SpanEncoder
from sciprep.tokenize.specials import SPECIAL_TOKENS

# Tags (paired, stray, nested, unclosed, truncated), math operators, SMILES atoms that the
# atom-aware stage keeps whole, and the characters the prose rules treat specially.
_FRAGMENTS = st.sampled_from(
    [*SPECIAL_TOKENS, "[START_", "[END_", "[START_MATH", "END_DNA]", "$", "\\", "\\alpha", "\\,", "+", "(",
     ")", "[", "]", "{", "<", ">", "^", "_", "%12", "[Cl]", "[C@@H]", "[1]", "Br", "Cl", "c1", " ", "  ",
     "\n", "\r\n", "\t", "'s", "'ll", "12", "x", "é", "😀", "ACGT", "MKT", "\x00"]
)  # fmt: skip
_SPAN = st.builds(
    "[START_{0}]{1}[END_{0}]".format,
    st.sampled_from(["MATH", "SMILES", "I_SMILES", "AMINO", "DNA"]),
    st.lists(st.one_of(_FRAGMENTS, st.text(max_size=4)), max_size=6).map("".join),
)
_TEXT = st.lists(st.one_of(_FRAGMENTS, _SPAN, st.text(max_size=6)), max_size=16).map("".join)


def _span_encoder(tok: SciTokenizer) -> SpanEncoder:
    encoder = SpanEncoder.for_backend(tok.backend, tok.smiles)
    assert encoder is not None
    return encoder


def _backend_ids(backend: Tokenizer, texts: list[str]) -> list[list[int]]:
    return [backend.encode(t, add_special_tokens=False).ids for t in texts]


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=4))
def test_span_encoder_gives_the_backend_ids_on_any_text(
    tiny_tokenizer: SciTokenizer, texts: list[str]
) -> None:
    encoder = _span_encoder(tiny_tokenizer)
    assert encoder.encode_batch(texts, tiny_tokenizer.backend) == _backend_ids(tiny_tokenizer.backend, texts)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=4))
def test_atom_mode_span_encoder_gives_the_backend_ids_on_any_text(
    tiny_atom_tokenizer: SciTokenizer, texts: list[str]
) -> None:
    encoder = _span_encoder(tiny_atom_tokenizer)
    backend = tiny_atom_tokenizer.backend
    assert encoder.encode_batch(texts, backend) == _backend_ids(backend, texts)


@pytest.mark.parametrize(
    "text",
    ["[START_MATH]x[END_MATH][Cl][START_SMILES]CCl[END_SMILES]", "%12[START_DNA]AC[END_DNA]%12",
     "[START_SMILES]C[C@@H](Cl)%10[END_SMILES] [START_MATH]a<b[END_MATH]<s>[START_DNA][END_DNA]",
     "[START_DNA]AC<work>GT[END_DNA]", "[START_AMINO][START_AMINO]MK[END_AMINO][END_AMINO]",
     "a [START_MATH]$\\frac{1}{2}$[END_MATH]'s  [END_MATH]\\[START_DNA]"],
)  # fmt: skip
def test_span_edges_added_tokens_and_stray_tags_give_the_backend_ids(
    tiny_tokenizer: SciTokenizer, tiny_atom_tokenizer: SciTokenizer, text: str
) -> None:
    for tok in (tiny_tokenizer, tiny_atom_tokenizer):
        assert tok.encode(text) == _backend_ids(tok.backend, [text])[0]


def test_saved_tokenizer_json_gives_the_ids_of_encode_batch_on_real_text(
    tmp_path: Path, real_tokenizer: SciTokenizer, real_corpus: list[str]
) -> None:
    real_tokenizer.save(tmp_path)
    from_file = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    loaded = SciTokenizer.load(tmp_path)
    assert SpanEncoder.for_backend(loaded.backend, loaded.smiles) is not None
    expected = _backend_ids(from_file, real_corpus)
    assert loaded.encode_batch(real_corpus) == expected
    # A second pass answers span pieces from the cache filled by the first.
    assert loaded.encode_batch(real_corpus[::-1]) == expected[::-1]


def test_atom_mode_encode_batch_gives_the_backend_ids_on_real_text(
    real_corpus: list[str], shared_data: Path
) -> None:
    tok = SciTokenizer(smiles="atom").train(real_corpus[:600], vocab_size=800, seed=0)
    assert tok.encode_batch(real_corpus) == _backend_ids(tok.backend, real_corpus)


def test_unknown_backend_set_up_is_encoded_by_the_backend_itself(tiny_tokenizer: SciTokenizer) -> None:
    changed = Tokenizer.from_str(tiny_tokenizer.backend.to_str())
    changed.enable_truncation(4)
    assert SpanEncoder.for_backend(changed, "char") is None
    assert SpanEncoder.for_backend(tiny_tokenizer.backend, "atom") is None
    tok = SciTokenizer()
    tok._tok = changed
    text = "[START_DNA]ACGTACGT[END_DNA] and more words"
    assert tok.encode(text) == changed.encode(text, add_special_tokens=False).ids
    assert len(tok.encode(text)) == 4


def test_a_full_piece_cache_is_replaced_without_changing_ids_even_across_threads(
    monkeypatch: pytest.MonkeyPatch, tiny_tokenizer: SciTokenizer
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from sciprep.tokenize import span_encode

    monkeypatch.setattr(span_encode, "PIECE_CACHE_SIZE", 4)
    encoder = _span_encoder(tiny_tokenizer)
    backend = tiny_tokenizer.backend
    batches = [
        [f"[START_DNA]{'ACGT'[i % 4 :]}N{i}[END_DNA] [START_MATH]$x_{i}+y^{i}$[END_MATH] tail {i}"]
        for i in range(40)
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda batch: encoder.encode_batch(batch, backend), batches))
    assert results == [_backend_ids(backend, batch) for batch in batches]
    sequential = _span_encoder(tiny_tokenizer)
    for batch in batches:
        sequential.encode_batch(batch, backend)
    # 40 batches hold far more distinct pieces than one batch adds after a replacement.
    assert len(sequential._cache) < 20
