from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.tokenize import SciTokenizer, wrap
from sciprep.tokenize.specials import MARKUP, SPECIAL_IDS, SPECIAL_TOKENS
from tests.tokenize.sample_data import chembl_smiles, fasta_sequences

_TAG_TEXT = st.sampled_from([*list(SPECIAL_TOKENS), "<work>", "</work>", "[START_", "$", "\\("])
_ANY_TEXT = st.lists(st.one_of(st.text(max_size=12), _TAG_TEXT), max_size=12).map("".join)


def span_contents(text: str, kind: str) -> list[str]:
    start, end = (re.escape(t) for t in MARKUP[kind])
    return re.findall(f"{start}(.*?){end}", text, flags=re.S)


def test_special_tokens_have_galacticas_fixed_ids(tiny_tokenizer: SciTokenizer) -> None:
    for token, expected in SPECIAL_IDS.items():
        assert tiny_tokenizer.token_to_id(token) == expected
        assert tiny_tokenizer.encode(token) == [expected]
    assert [tiny_tokenizer.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]


@settings(max_examples=400, deadline=None)
@given(_ANY_TEXT)
def test_decode_encode_round_trips_any_string(tiny_tokenizer: SciTokenizer, text: str) -> None:
    assert tiny_tokenizer.decode(tiny_tokenizer.encode(text)) == text


@pytest.mark.parametrize(
    "text",
    ["tab\there", "crlf\r\nline", "double  space", "emoji 😀👍🏽", "Greek αβγΩ", "x² and H₂O and ﬁ",
     "literal [START_SMILES] in prose", "[END_MATH] stray", "<work> unclosed", "", " ", "\n\n\n"],
)  # fmt: skip
def test_round_trip_keeps_whitespace_unicode_and_literal_tags(
    tiny_tokenizer: SciTokenizer, text: str
) -> None:
    assert tiny_tokenizer.decode(tiny_tokenizer.encode(text)) == text


def test_encode_adds_no_bos_or_eos(tiny_tokenizer: SciTokenizer) -> None:
    ids = tiny_tokenizer.encode("hello")
    assert SPECIAL_IDS["<s>"] not in ids and SPECIAL_IDS["</s>"] not in ids


def test_encode_batch_matches_encode(tiny_tokenizer: SciTokenizer) -> None:
    texts = ["one $x$", "[START_DNA]ACGT[END_DNA]", "", "😀 2023"]
    assert tiny_tokenizer.encode_batch(texts) == [tiny_tokenizer.encode(t) for t in texts]


def test_round_trip_on_real_text(real_tokenizer: SciTokenizer, real_corpus: list[str]) -> None:
    for text in real_corpus:
        assert real_tokenizer.decode(real_tokenizer.encode(text)) == text


def test_every_digit_is_its_own_token(real_tokenizer: SciTokenizer, real_corpus: list[str]) -> None:
    for ids in real_tokenizer.encode_batch(real_corpus[:300]):
        for i in ids:
            assert sum(c.isdigit() for c in real_tokenizer.decode([i])) <= 1


def test_one_token_per_residue_base_and_smiles_character(
    real_tokenizer: SciTokenizer, shared_data: Path
) -> None:
    proteins = fasta_sequences(shared_data / "bio" / "uniref50_sample.fasta")
    dna = "".join(fasta_sequences(shared_data / "bio" / "NC_005816.fna"))[:3000]
    smiles = chembl_smiles(shared_data)[:300]
    cases = [("amino", p) for p in proteins] + [("dna", dna)] + [("smiles", s) for s in smiles]
    for kind, seq in cases:
        start, end = MARKUP[kind]
        ids = real_tokenizer.encode(f"x {start}{seq}{end} y")
        inner = ids[ids.index(SPECIAL_IDS[start]) + 1 : ids.index(SPECIAL_IDS[end])]
        assert len(inner) == len(seq)
        assert real_tokenizer.decode(inner) == seq


def test_no_token_crosses_a_span_boundary(real_tokenizer: SciTokenizer, real_corpus: list[str]) -> None:
    for text in real_corpus[:400]:
        boundaries = {m.start() for m in re.finditer(r"\[(?:START|END)_", text)}
        boundaries |= {m.end() for m in re.finditer(r"\[(?:START|END)_[A-Z_]+\]", text)}
        encoding = real_tokenizer.backend.encode(text, add_special_tokens=False)
        for a, b in encoding.offsets:
            assert not any(a < edge < b for edge in boundaries), text[a:b]


def test_math_operators_are_single_tokens(real_tokenizer: SciTokenizer) -> None:
    ids = real_tokenizer.encode("[START_MATH]$a+b=(c)^{2}-[d]$[END_MATH]")
    pieces = [real_tokenizer.decode([i]) for i in ids]
    for op in "+=()^{}-[]":
        assert op in pieces


def test_unclosed_or_mismatched_tag_starts_no_span(real_tokenizer: SciTokenizer) -> None:
    prose = "the energy of the system"
    start, end = SPECIAL_IDS["[START_SMILES]"], SPECIAL_IDS["[END_AMINO]"]
    assert real_tokenizer.encode("[START_SMILES]" + prose) == [start, *real_tokenizer.encode(prose)]
    assert real_tokenizer.encode(f"[START_SMILES]{prose}[END_AMINO]") == [
        start,
        *real_tokenizer.encode(prose),
        end,
    ]
    closed = real_tokenizer.encode(f"[START_SMILES]{prose}[END_SMILES]")
    assert len(closed) == len(prose) + 2


def test_save_load_gives_identical_ids(
    tmp_path: Path, real_tokenizer: SciTokenizer, real_corpus: list[str]
) -> None:
    real_tokenizer.save(tmp_path)
    loaded = SciTokenizer.load(tmp_path)
    assert loaded.vocab_size == real_tokenizer.vocab_size
    assert loaded.encode_batch(real_corpus[:200]) == real_tokenizer.encode_batch(real_corpus[:200])


def test_transformers_autotokenizer_gives_identical_ids(
    tmp_path: Path, real_tokenizer: SciTokenizer, real_corpus: list[str]
) -> None:
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    real_tokenizer.save(tmp_path)
    hf = AutoTokenizer.from_pretrained(tmp_path)
    fast = PreTrainedTokenizerFast.from_pretrained(tmp_path)
    for loaded in (hf, fast):
        names = ("bos_token", "pad_token", "eos_token", "unk_token")
        assert tuple(getattr(loaded, n) for n in names) == SPECIAL_TOKENS[:4]
        assert tuple(getattr(loaded, f"{n}_id") for n in names) == (0, 1, 2, 3)
    sample = "[START_DNA]ACGT[END_DNA] 42"
    assert fast(sample)["input_ids"] == real_tokenizer.encode(sample)
    texts = [*real_corpus[:200], "[START_SMILES]C[C@H](N)O[END_SMILES] <s> a  b\r\n😀"]
    for text in texts:
        ids = hf(text)["input_ids"]
        assert ids == real_tokenizer.encode(text)
        assert hf.decode(ids) == text


def test_training_is_deterministic(tmp_path: Path, real_corpus: list[str]) -> None:
    a = SciTokenizer().train(real_corpus, vocab_size=800, seed=3).save(tmp_path / "a")
    b = SciTokenizer().train(real_corpus, vocab_size=800, seed=3).save(tmp_path / "b")
    assert (a / "tokenizer.json").read_bytes() == (b / "tokenizer.json").read_bytes()


def test_sample_fraction_and_minimum_control_the_training_sample(real_corpus: list[str]) -> None:
    tok = SciTokenizer().train(real_corpus, vocab_size=600, sample_fraction=0.1, min_sample_docs=50, seed=0)
    assert 50 <= tok.info["sample_docs"] < len(real_corpus) // 5


def test_atom_level_smiles_keep_atoms_whole(shared_data: Path) -> None:
    smiles = chembl_smiles(shared_data)
    corpus = [wrap(f"Compound {s} was made.") for s in smiles[:1500]]
    tok = SciTokenizer(smiles="atom").train(corpus, vocab_size=1000)
    ids = tok.encode("[START_I_SMILES]C[C@@H](Cl)c1ccc(Br)cc1[END_I_SMILES]")
    pieces = [tok.decode([i]) for i in ids]
    assert pieces[1:-1] == [
        "C",
        "[C@@H]",
        "(",
        "Cl",
        ")",
        "c",
        "1",
        "c",
        "c",
        "c",
        "(",
        "Br",
        ")",
        "c",
        "c",
        "1",
    ]
    assert tok.decode(ids) == "[START_I_SMILES]C[C@@H](Cl)c1ccc(Br)cc1[END_I_SMILES]"


def test_too_small_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="vocab_size"):
        SciTokenizer().train(["text"], vocab_size=100)


def test_lone_surrogate_is_refused_naming_its_position(tiny_tokenizer: SciTokenizer) -> None:
    with pytest.raises(ValueError, match=r"'\\ud800' at character 5"):
        tiny_tokenizer.encode("CCO é\ud800")
    with pytest.raises(ValueError, match=r"text 1 of the batch: lone surrogate '\\udfff' at character 0"):
        tiny_tokenizer.encode_batch(["fine", "\udfff x"])
    assert tiny_tokenizer.decode(tiny_tokenizer.encode("fine é")) == "fine é"


def test_load_of_a_directory_without_tokenizer_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        SciTokenizer.load(tmp_path)


def test_no_vocabulary_is_spent_on_sequence_content(real_tokenizer: SciTokenizer) -> None:
    vocab = real_tokenizer.backend.get_vocab()
    # Amino/DNA/SMILES runs only ever reach BPE one character at a time, so training must
    # not learn residue n-grams such as those of the inserted sequences.
    assert not any(len(t) >= 6 and t.isupper() and not t.strip("ACGT") for t in vocab)
    assert "[START_SMILES]" in vocab and vocab["[START_SMILES]"] == 8


def test_load_refuses_a_tokenizer_with_other_special_ids(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models

    Tokenizer(models.BPE(vocab={"a": 0, "<s>": 1}, merges=[])).save(str(tmp_path / "tokenizer.json"))
    with pytest.raises(ValueError, match="special token <s> has id 1, expected 0"):
        SciTokenizer.load(tmp_path)


def test_atom_level_vocabulary_holds_ring_closures_and_bracket_atoms_never_seen() -> None:
    corpus = [wrap(f"Compound {s} was made.") for s in ["CCO", "CCN", "c1ccccc1O"] * 20]
    tok = SciTokenizer(smiles="atom").train(corpus, vocab_size=2400)
    ids = tok.encode("[START_SMILES]C%10CC[Se]C%10[END_SMILES]")
    assert [tok.decode([i]) for i in ids[1:-1]] == ["C", "%10", "C", "C", "[Se]", "C", "%10"]
