"""A faster route to exactly the ids ``tokenizer.json`` gives, for batch encoding.

In ``tokenizers`` every ``Split`` stage costs time for every piece it sees, and Galactica's
rules make many pieces (one per SMILES/protein/DNA character, one per math operator).
:class:`SpanEncoder` does the span stages in Python instead:

* one compiled ``re`` finds the well-formed ``[START_X]..[END_X]`` pairs, the same ones
  the span stages find (no span tag and no added token between the two tags; added
  tokens are cut out before pre-tokenization, so a span never crosses one);
* the text with every span's content deleted (the tags stay) goes to a copy of the
  backend whose only splitting stage is the final prose stage. Its regex treats a span
  tag as a piece boundary (``\\s+(?=TAG)``, ``(?!TAG)``), so the prose around a tag gives
  the same pieces whether the tag ends the string or sits next to the other tag;
* each span's content is cut into the pieces the span stages make (characters; math
  operators and the runs between them; SMILES atoms), and each piece is mapped to the
  ids the final stage and BPE give it alone, kept in a bounded cache;
* the content ids are put back between the two tag ids.

BPE tokenizes every piece on its own, so this is the backend's result, not an
approximation. It is used only when the backend is exactly what :mod:`~sciprep.tokenize.
pretokenize` builds (same pre-tokenizer, no normalizer, the expected added tokens, no
truncation, padding or BPE dropout); :meth:`SpanEncoder.for_backend` returns None
otherwise. In atom mode the final stage keeps a whole piece such as ``[Cl]`` or ``%12``
intact (``\\A..\\z``), which a prose piece beside a span could be; such texts go to the
backend unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

from tokenizers import Regex, Tokenizer
from tokenizers import pre_tokenizers as pre

from sciprep.tokenize.pretokenize import (
    PRETOKENIZED_TAGS,
    PROSE,
    PROSE_ATOM_AWARE,
    SMILES_ATOM_PIECE,
    SMILES_MODES,
    SPAN_KINDS,
    build_pre_tokenizer,
)
from sciprep.tokenize.specials import SPECIAL_IDS, SPECIAL_TOKENS

_ADDED_TAGS = tuple(t for t in SPECIAL_TOKENS if t not in PRETOKENIZED_TAGS)
_ANY_TAG = "|".join(
    [r"\[(?:START|END)_(?:" + "|".join(SPAN_KINDS) + r")\]", *(re.escape(t) for t in _ADDED_TAGS)]
)
# Groups: opening tag, kind, content, closing tag. The content holds no tag of any kind;
# possessive repeats keep a failed candidate linear.
_SPAN_RE = re.compile(
    rf"(\[START_({'|'.join(SPAN_KINDS)})\])((?:[^\[<]++|(?!{_ANY_TAG})[\[<])*+)(\[END_\2\])"
)
_FIELDS = 5
_OPS = r"\-+*/=<>^_|~!&?()\[\]{}"
_MATH_PIECE_RE = re.compile(rf"[{_OPS}]|[^{_OPS}]+")
_SMILES_ATOM_RE = re.compile(SMILES_ATOM_PIECE, re.S)
# Atom mode: a prose piece beside a span that the final stage could keep whole.
_ATOM_EDGE_BEFORE = re.compile(r"[\]\d]\Z")
_ATOM_EDGE_AFTER = re.compile(r"[\[%]")
_TAG_IDS = {k: (SPECIAL_IDS[f"[START_{k}]"], SPECIAL_IDS[f"[END_{k}]"]) for k in SPAN_KINDS}
#: Distinct span pieces remembered between calls (the cache is emptied when full).
PIECE_CACHE_SIZE = 1 << 18
_ADDED_TOKEN_FLAGS = ("content", "single_word", "lstrip", "rstrip", "normalized")


def _known_set_up(backend: Tokenizer, smiles: str) -> bool:
    """Whether ``backend`` is what :mod:`~sciprep.tokenize.tokenizer` saves for ``smiles``."""
    spec: dict[str, Any] = json.loads(backend.to_str())
    model = spec.get("model") or {}
    added = sorted(tuple(t.get(k) for k in _ADDED_TOKEN_FLAGS) for t in spec.get("added_tokens", []))
    return (
        spec.get("pre_tokenizer") == json.loads(build_pre_tokenizer(smiles).__getstate__())
        and spec.get("normalizer") is None
        and spec.get("truncation") is None
        and spec.get("padding") is None
        and model.get("type") == "BPE"
        and model.get("dropout") is None
        and added == sorted((t, False, False, False, False) for t in _ADDED_TAGS)
    )


def _ids(tok: Tokenizer, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tok.encode_batch_fast(texts, add_special_tokens=False)] if texts else []


class SpanEncoder:
    """Encodes like ``backend`` (char or atom SMILES mode) with the span stages in Python."""

    def __init__(self, prose: Tokenizer, smiles: str) -> None:
        self._prose = prose
        self._atom = smiles == "atom"
        self._cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def for_backend(cls, backend: Tokenizer, smiles: str) -> SpanEncoder | None:
        """A SpanEncoder equivalent to ``backend``, or None when its set-up is not the known one."""
        if smiles not in SMILES_MODES or not _known_set_up(backend, smiles):
            return None
        prose = Tokenizer.from_str(backend.to_str())
        final_stage = PROSE_ATOM_AWARE if smiles == "atom" else PROSE
        prose.pre_tokenizer = pre.Sequence(
            [
                pre.Split(Regex(final_stage), "isolated"),
                pre.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
        # Splicing finds each span by its two tag ids, so each tag must be one token.
        if any(prose.encode(t, add_special_tokens=False).ids != [SPECIAL_IDS[t]] for t in PRETOKENIZED_TAGS):
            return None
        return cls(prose, smiles)

    def encode_batch(self, texts: Sequence[str], backend: Tokenizer) -> list[list[int]]:
        """Ids of each text; ``backend`` (the full tokenizer) encodes the texts this cannot."""
        # One cache object per call: a full cache is replaced, never emptied, so a call
        # running in another thread keeps the entries it filled.
        if len(self._cache) > PIECE_CACHE_SIZE:
            self._cache = {}
        cache = self._cache
        shells: list[str] = []
        plans: list[tuple[list[str], list[Sequence[str]]] | None] = []
        hard: list[int] = []
        missing: set[str] = set()
        for index, text in enumerate(texts):
            parts = _SPAN_RE.split(text) if "[START_" in text else [text]
            if len(parts) == 1:
                shells.append(text)
                plans.append(None)
                continue
            if self._atom and self._atom_edge(parts):
                hard.append(index)
                shells.append("")
                plans.append(None)
                continue
            kinds: list[str] = parts[2::_FIELDS]
            pieces: list[Sequence[str]] = []
            for kind, content in zip(kinds, parts[3::_FIELDS], strict=True):
                cut = self._pieces(kind, content)
                pieces.append(cut)
                missing.update(set(cut).difference(cache))
            parts[2::_FIELDS] = parts[3::_FIELDS] = [""] * len(kinds)
            shells.append("".join(parts))
            plans.append((kinds, pieces))
        if missing:
            new = sorted(missing)
            for piece, ids in zip(new, _ids(self._prose, new), strict=True):
                cache[piece] = tuple(ids)
        lookup = cache.__getitem__
        encoded = _ids(self._prose, shells)
        out = [_splice(ids, plan, lookup) for ids, plan in zip(encoded, plans, strict=True)]
        for index, ids in zip(hard, _ids(backend, [texts[i] for i in hard]), strict=True):
            out[index] = ids
        return out

    def _pieces(self, kind: str, content: str) -> Sequence[str]:
        """The pieces the span stages cut ``content`` of a ``kind`` span into."""
        if kind == "MATH":
            return _MATH_PIECE_RE.findall(content)
        if self._atom and kind in ("SMILES", "I_SMILES"):
            return _SMILES_ATOM_RE.findall(content)
        return content  # one piece per character

    @staticmethod
    def _atom_edge(parts: list[str]) -> bool:
        """Whether a prose piece next to a span could be a whole atom piece (atom mode)."""
        gaps = parts[::_FIELDS]
        return any(_ATOM_EDGE_BEFORE.search(g) for g in gaps[:-1]) or any(
            _ATOM_EDGE_AFTER.match(g) for g in gaps[1:]
        )


def _splice(
    ids: list[int],
    plan: tuple[list[str], list[Sequence[str]]] | None,
    lookup: Callable[[str], tuple[int, ...]],
) -> list[int]:
    """Put each span's content ids (``lookup`` of its pieces) right after its opening tag id."""
    if plan is None:
        return ids
    out: list[int] = []
    pos = 0
    for kind, pieces in zip(*plan, strict=True):
        start, end = _TAG_IDS[kind]
        # The opening tag id directly followed by the closing one. Stray tags never
        # form that pair: an opening tag right before a closing one is an empty span.
        at = ids.index(start, pos)
        while ids[at + 1] != end:
            at = ids.index(start, at + 1)
        out += ids[pos : at + 1]
        out.extend(chain.from_iterable(map(lookup, pieces)))
        pos = at + 1
    out += ids[pos:]
    return out
