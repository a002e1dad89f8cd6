"""SciTokenizer: byte-level BPE with Galactica's special tokens and splitting rules.

Everything that decides the ids lives in ``tokenizer.json`` (pre-tokenizer regexes,
vocabulary, merges), so ``transformers.AutoTokenizer.from_pretrained(dir)`` or
``tokenizers.Tokenizer.from_file(dir + "/tokenizer.json")`` give exactly the ids
:meth:`SciTokenizer.encode` gives. Byte-level BPE has no unknown characters and no
normalizer, so ``decode(encode(x)) == x`` for every string.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tokenizers import Regex, Tokenizer, decoders, models, trainers
from tokenizers import pre_tokenizers as pre

from sciprep.atomicio import write_json_atomic, write_text_atomic
from sciprep.tokenize.pretokenize import (
    PRETOKENIZED_TAGS,
    SMILES_MODES,
    build_pre_tokenizer,
    smiles_atoms,
)
from sciprep.tokenize.sampling import sample_texts
from sciprep.tokenize.span_encode import SpanEncoder
from sciprep.tokenize.specials import BOS, EOS, PAD, SPECIAL_IDS, SPECIAL_TOKENS, UNK
from sciprep.tokenize.surrogates import lone_surrogate_index

TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_MAP_FILE = "special_tokens_map.json"
META_FILE = "sciprep_tokenizer.json"
FORMAT_VERSION = 1

#: Default minimum sample: small corpora are used whole.
DEFAULT_MIN_SAMPLE_DOCS = 10_000
#: Atom-level SMILES: at most this fraction of the vocabulary goes to atom tokens.
MAX_ATOM_VOCAB_FRACTION = 0.05
_CONTROL = (BOS, PAD, EOS, UNK)
_ALL_TAGS = "|".join(re.escape(t) for t in SPECIAL_TOKENS)
_ADDED_TAGS = "|".join(re.escape(t) for t in SPECIAL_TOKENS if t not in PRETOKENIZED_TAGS)
_PRINTABLE_ASCII = re.compile(r"[!-~]+")
_SMILES_SPAN = re.compile(r"\[START_(I_SMILES|SMILES)\]((?:(?!\[(?:START|END)_)[\s\S])*?)\[END_\1\]")


def _training_pre_tokenizer(smiles: str) -> pre.PreTokenizer:
    """The inference pre-tokenizer, with every special token cut out and dropped.

    At inference the added tokens are split off before pre-tokenization; during training
    they are isolated here instead (the span tags are left to the span stage, which needs
    them), and in the end no tag text feeds the merge statistics.
    """
    return pre.Sequence(
        [
            pre.Split(Regex(_ADDED_TAGS), "isolated"),
            build_pre_tokenizer(smiles),
            pre.Split(Regex(rf"\A(?:{_ALL_TAGS})\z"), "removed"),
        ]
    )


#: Atom tokens every atom-level vocabulary holds (budget permitting), seen in the sample or
#: not: the two-letter organic atoms, two-digit ring closures and the bracket atoms that
#: dominate ChEMBL/PubChem, so an unseen ``%10`` or ``[C@@H]`` is still one token.
BASE_ATOMS: tuple[str, ...] = (
    "Cl", "Br",
    "[C@@H]", "[C@H]", "[C@@]", "[C@]", "[nH]", "[N+]", "[O-]", "[N-]", "[n+]", "[NH+]",
    "[NH2+]", "[NH3+]", "[S@]", "[S@@]", "[P@]", "[P@@]", "[Si]", "[Se]", "[se]", "[H]",
    "[2H]", "[13C]", "[Na+]", "[K+]", "[Li+]", "[Cl-]", "[Br-]", "[I-]", "[OH-]", "[B-]",
    "[Mg+2]", "[Ca+2]", "[Zn+2]", "[Fe+2]", "[Fe+3]", "[Cu+2]", "[Pt]", "[Al]",
    *(f"%{n}" for n in range(10, 100)),
)  # fmt: skip


def _atom_vocabulary(sample: Sequence[str], budget: int) -> list[str]:
    """Multi-character SMILES atoms: those seen at least twice in the sample (most
    frequent first), then :data:`BASE_ATOMS`, up to ``budget`` tokens."""
    counts: Counter[str] = Counter()
    for text in sample:
        if "SMILES]" not in text:
            continue
        for m in _SMILES_SPAN.finditer(text):
            counts.update(p for p in smiles_atoms(m.group(2)) if len(p) > 1 and _PRINTABLE_ASCII.fullmatch(p))
    frequent = sorted((a for a, c in counts.items() if c >= 2), key=lambda a: (-counts[a], a))
    return list(dict.fromkeys([*frequent, *BASE_ATOMS]))[:budget]


def _finish(tok: Tokenizer, smiles: str, extra_tokens: Sequence[str]) -> Tokenizer:
    """Turn a freshly trained tokenizer into the saved form (see the module docstring)."""
    spec: dict[str, Any] = json.loads(tok.to_str())
    vocab: dict[str, int] = spec["model"]["vocab"]
    for token in extra_tokens:
        if token not in vocab:
            vocab[token] = len(vocab)
    spec["model"]["ignore_merges"] = True
    spec["added_tokens"] = [
        {
            "id": SPECIAL_IDS[t],
            "content": t,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": t in _CONTROL,
        }
        for t in SPECIAL_TOKENS
        if t not in PRETOKENIZED_TAGS
    ]
    out = Tokenizer.from_str(json.dumps(spec))
    out.pre_tokenizer = build_pre_tokenizer(smiles)
    out.decoder = decoders.ByteLevel()
    out.post_processor = None
    return out


def _require_unicode_scalars(text: str, where: str) -> None:
    """Raise ValueError naming the position of a lone surrogate (see :mod:`.surrogates`)."""
    at = lone_surrogate_index(text)
    if at is not None:
        raise ValueError(
            f"{where}: lone surrogate {text[at]!r} at character {at} has no UTF-8 form; "
            "decode the source with errors='replace' or fix it there"
        )


class SciTokenizer:
    """Galactica-style tokenizer: train on a corpus sample, encode, decode, save, load."""

    def __init__(self, smiles: str = "char") -> None:
        if smiles not in SMILES_MODES:
            raise ValueError(f"smiles mode must be one of {SMILES_MODES}, not {smiles!r}")
        self.smiles = smiles
        self._tok: Tokenizer | None = None
        self._meta: dict[str, Any] = {}
        self._span_encoder: SpanEncoder | None = None
        self._span_encoder_of: Tokenizer | None = None

    # -- training -------------------------------------------------------------------------

    def train(
        self,
        texts: Iterable[str],
        vocab_size: int = 50_000,
        sample_fraction: float = 0.02,
        seed: int = 0,
        min_sample_docs: int = DEFAULT_MIN_SAMPLE_DOCS,
        show_progress: bool = False,
    ) -> SciTokenizer:
        """Train byte-level BPE on a seeded sample of ``texts``; return ``self``.

        ``texts`` should already carry markup (see :func:`~sciprep.tokenize.wrap`); the
        sample is ``sample_fraction`` of them but at least ``min_sample_docs``.
        """
        floor = len(SPECIAL_TOKENS) + 256
        if vocab_size <= floor:
            raise ValueError(f"vocab_size must exceed {floor} (special tokens + 256 bytes), not {vocab_size}")
        sample = sample_texts(texts, sample_fraction, seed, min_sample_docs)
        if not sample:
            raise ValueError("no texts to train the tokenizer on")
        extra: list[str] = []
        if self.smiles == "atom":
            extra = _atom_vocabulary(sample, int(vocab_size * MAX_ATOM_VOCAB_FRACTION))
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = _training_pre_tokenizer(self.smiles)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size - len(extra),
            min_frequency=2,
            special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=pre.ByteLevel.alphabet(),
            show_progress=show_progress,
        )
        tok.train_from_iterator(sample, trainer=trainer, length=len(sample))
        self._tok = _finish(tok, self.smiles, extra)
        self._meta = {
            "format_version": FORMAT_VERSION,
            "smiles": self.smiles,
            "seed": seed,
            "sample_fraction": sample_fraction,
            "min_sample_docs": min_sample_docs,
            "sample_docs": len(sample),
            "sample_chars": sum(len(t) for t in sample),
            "requested_vocab_size": vocab_size,
            "vocab_size": self.vocab_size,
        }
        return self

    # -- encoding -------------------------------------------------------------------------

    @property
    def backend(self) -> Tokenizer:
        """The underlying ``tokenizers.Tokenizer`` (raises if not trained or loaded)."""
        if self._tok is None:
            raise RuntimeError("SciTokenizer is not trained: call train() or SciTokenizer.load(dir)")
        return self._tok

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (no ``<s>``/``</s>`` added).

        Raises ValueError for a string holding a lone surrogate, which has no UTF-8 form.
        """
        _require_unicode_scalars(text, "text")
        return self._encode_checked([text])[0]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of many texts at once (parallel, no offsets computed).

        The ids are those of :attr:`backend` (and so of ``tokenizer.json``); the span
        rules run in Python where that is faster (:mod:`~sciprep.tokenize.span_encode`).
        Raises ValueError naming the text and position of a lone surrogate.
        """
        batch = list(texts)
        for i, text in enumerate(batch):
            _require_unicode_scalars(text, f"text {i} of the batch")
        return self._encode_checked(batch)

    def _encode_checked(self, texts: list[str]) -> list[list[int]]:
        """Ids of texts already known to be encodable as UTF-8."""
        backend = self.backend
        if self._span_encoder_of is not backend:
            self._span_encoder = SpanEncoder.for_backend(backend, self.smiles)
            self._span_encoder_of = backend
        if self._span_encoder is not None:
            return self._span_encoder.encode_batch(texts, backend)
        return [e.ids for e in backend.encode_batch_fast(texts, add_special_tokens=False)]

    def tokens(self, text: str) -> list[str]:
        """The text of each token of ``text`` (one string per id, bytes joined as UTF-8)."""
        return [self.decode([i]) for i in self.encode(text)]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of ``ids``; special tokens are kept, so ``decode(encode(x)) == x``."""
        return self.backend.decode(list(ids), skip_special_tokens=False)

    @property
    def info(self) -> dict[str, Any]:
        """How it was trained: seed, sample size, SMILES mode, requested vocabulary (a copy)."""
        return dict(self._meta)

    @property
    def vocab_size(self) -> int:
        """Number of ids, special tokens included."""
        return self.backend.get_vocab_size(with_added_tokens=True)

    def token_to_id(self, token: str) -> int | None:
        """The id of a vocabulary entry (byte-level form) or special token, else None."""
        return self.backend.token_to_id(token)

    def id_to_token(self, token_id: int) -> str | None:
        """The vocabulary entry (byte-level form) of an id, else None."""
        return self.backend.id_to_token(token_id)

    # -- files ----------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``tokenizer.json`` plus the ``transformers`` config files into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / TOKENIZER_FILE, self.backend.to_str(pretty=True) + "\n")
        specials = {"bos_token": BOS, "eos_token": EOS, "pad_token": PAD, "unk_token": UNK}
        write_json_atomic(
            out / CONFIG_FILE,
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                **specials,
                "add_bos_token": False,
                "add_eos_token": False,
                "clean_up_tokenization_spaces": False,
                "model_max_length": 1_000_000_000,
            },
        )
        write_json_atomic(out / SPECIAL_MAP_FILE, specials)
        write_json_atomic(
            out / META_FILE, self._meta or {"format_version": FORMAT_VERSION, "smiles": self.smiles}
        )
        return out

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> SciTokenizer:
        """Load a directory written by :meth:`save`."""
        path = Path(directory)
        tok_file = path / TOKENIZER_FILE
        if not tok_file.is_file():
            raise FileNotFoundError(f"{path}: no {TOKENIZER_FILE}; write one with `sciprep tokenizer train`")
        meta: dict[str, Any] = {}
        meta_file = path / META_FILE
        if meta_file.is_file():
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
            raise ValueError(
                f"{meta_file}: format version {meta['format_version']} is newer than this sciprep"
            )
        loaded = cls(smiles=meta.get("smiles", "char"))
        loaded._tok = Tokenizer.from_file(str(tok_file))
        loaded._meta = meta
        for token, expected in SPECIAL_IDS.items():
            found = loaded._tok.token_to_id(token)
            if found != expected:
                raise ValueError(f"{tok_file}: special token {token} has id {found}, expected {expected}")
        return loaded
