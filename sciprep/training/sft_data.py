"""Prompt/answer examples packed into fixed-length rows with per-example loss masks.

Each example is ``prompt tokens + answer tokens + </s>``. Its labels are the
answer tokens and the closing ``</s>`` (so the model learns where an answer ends);
prompt positions are ignored (-100). Examples are packed greedily into rows of
``context_length + 1`` tokens (an example never straddles rows; the tail of a row
is ``<pad>`` with ignored labels), and the first label of every example is masked
too, so no example is trained to predict its own start from its neighbour.
Packed examples do not see each other either: each row comes with a block-diagonal
causal attention mask and positions that restart at 0 for every example, so an
example's logits are the same packed or alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from sciprep.corpus.document import Document
from sciprep.corpus.shards import iter_documents
from sciprep.corpus.splits import is_validation
from sciprep.tokenize.specials import EOS, PAD, SPECIAL_IDS
from sciprep.training.loop import IGNORE_INDEX
from sciprep.training.windows import PROMPT_SOURCE, epoch_rng

EOS_ID = SPECIAL_IDS[EOS]
PAD_ID = SPECIAL_IDS[PAD]


@dataclass(frozen=True)
class Example:
    """One tokenised prompt record."""

    id: str
    prompt: list[int]
    answer: list[int]  # without the closing </s>

    @property
    def tokens(self) -> list[int]:
        return [*self.prompt, *self.answer, EOS_ID]

    @property
    def labels(self) -> list[int]:
        """Per-position targets: answer tokens and </s>, prompt positions ignored."""
        return [IGNORE_INDEX] * len(self.prompt) + [*self.answer, EOS_ID]


@dataclass
class PromptSplits:
    """Tokenised train and held-out examples, plus what could not be used and why."""

    train: list[Example]
    test: list[Example]
    skipped: dict[str, int]


def load_prompt_examples(corpus_dir: str | os.PathLike[str], tokenizer: Any, max_tokens: int,
                         val_fraction: float, split_seed: int) -> PromptSplits:  # fmt: skip
    """Prompt records of a corpus, split by their ``split`` field (else the shared held-out rule)."""
    records: list[tuple[Document, bool]] = []
    skipped: dict[str, int] = {}
    for doc in iter_documents(corpus_dir):
        if doc.kind != "prompt":
            continue
        if not doc.prompt or not doc.answer:
            skipped["missing prompt or answer"] = skipped.get("missing prompt or answer", 0) + 1
            continue
        test = doc.split == "test" if doc.split else is_validation(doc.id, val_fraction, split_seed)
        records.append((doc, test))
    if not records:
        raise ValueError(f"{corpus_dir}: no prompt records (kind='prompt' with prompt and answer)")
    prompts = tokenizer.encode_batch([d.prompt for d, _ in records])
    answers = tokenizer.encode_batch([d.answer for d, _ in records])
    splits = PromptSplits(train=[], test=[], skipped=skipped)
    for (doc, test), p, a in zip(records, prompts, answers, strict=True):
        example = Example(id=doc.id, prompt=list(p), answer=list(a))
        if len(example.tokens) > max_tokens:
            reason = f"longer than {max_tokens} tokens"
            splits.skipped[reason] = splits.skipped.get(reason, 0) + 1
            continue
        (splits.test if test else splits.train).append(example)
    return splits


def evaluation_sample(examples: list[Example], limit: int | None) -> list[Example]:
    """At most ``limit`` examples spread evenly over ``examples`` (first and last included).

    Corpus order groups records by source and file, so the first ``limit`` would
    score one source only; an even spread keeps the mix. None or 0 = all.
    """
    if not limit or len(examples) <= limit:
        return list(examples)
    pick = np.linspace(0, len(examples) - 1, limit).round().astype(int)
    return [examples[i] for i in pick]


@dataclass
class PackedRows:
    """Packed examples: each array is ``[n_rows, context_length + 1]`` int64.

    ``segments`` numbers the examples within a row (padding gets its own number);
    ``positions`` restart at 0 at every example's first token; ``lengths`` ``[n_rows]``
    is how many leading tokens of each row are examples (the rest is padding).
    """

    tokens: np.ndarray[Any, Any]
    labels: np.ndarray[Any, Any]
    segments: np.ndarray[Any, Any]
    positions: np.ndarray[Any, Any]
    lengths: np.ndarray[Any, Any]


def pack_examples(examples: list[Example], context_length: int) -> PackedRows:
    """Greedily pack ``examples`` (in order) into rows of ``context_length + 1`` tokens."""
    width = context_length + 1
    rows_tok: list[list[int]] = []
    rows_lab: list[list[int]] = []
    rows_seg: list[list[int]] = []
    rows_pos: list[list[int]] = []
    for example in examples:
        tokens, labels = example.tokens, example.labels
        if len(tokens) > width:
            raise ValueError(f"example {example.id}: {len(tokens)} tokens exceed the row width {width}")
        labels[0] = IGNORE_INDEX
        if not rows_tok or len(rows_tok[-1]) + len(tokens) > width:
            for rows in (rows_tok, rows_lab, rows_seg, rows_pos):
                rows.append([])
        segment = rows_seg[-1][-1] + 1 if rows_seg[-1] else 0
        rows_tok[-1].extend(tokens)
        rows_lab[-1].extend(labels)
        rows_seg[-1].extend([segment] * len(tokens))
        rows_pos[-1].extend(range(len(tokens)))
    n = len(rows_tok)
    packed = PackedRows(
        tokens=np.full((n, width), PAD_ID, dtype=np.int64),
        labels=np.full((n, width), IGNORE_INDEX, dtype=np.int64),
        segments=np.zeros((n, width), dtype=np.int64),
        positions=np.zeros((n, width), dtype=np.int64),
        lengths=np.array([len(row) for row in rows_tok], dtype=np.int64),
    )
    for i in range(n):
        used = len(rows_tok[i])
        packed.tokens[i, :used] = rows_tok[i]
        packed.labels[i, :used] = rows_lab[i]
        packed.segments[i, :used] = rows_seg[i]
        packed.segments[i, used:] = rows_seg[i][-1] + 1
        packed.positions[i, :used] = rows_pos[i]
        packed.positions[i, used:] = np.arange(width - used)
    return packed


class ExampleRows:
    """Packed tuning rows as a :class:`~sciprep.training.loop.RowSource`."""

    sources = [PROMPT_SOURCE]

    def __init__(self, examples: list[Example], context_length: int, seed: int) -> None:
        order = epoch_rng(seed, 0, 3).permutation(len(examples))
        self.context_length = context_length
        self.seed = seed
        self.packed = pack_examples([examples[i] for i in order], context_length)
        self._causal = np.tril(np.ones((context_length, context_length), dtype=bool))

    def plan(self, epoch: int) -> np.ndarray[Any, Any]:
        return epoch_rng(self.seed, epoch, 1).permutation(len(self.packed.tokens))

    def batch(self, rows: np.ndarray[Any, Any]) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
        """Inputs with a block-diagonal causal mask ``[B, 1, T, T]`` and restarting positions."""
        segments = self.packed.segments[rows, :-1]
        mask = self._causal[None] & (segments[:, :, None] == segments[:, None, :])
        inputs = {
            "input_ids": self.packed.tokens[rows, :-1],
            "attention_mask": mask[:, None],
            "position_ids": self.packed.positions[rows, :-1],
        }
        return inputs, self.packed.labels[rows, 1:]

    def row_sources(self, rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.zeros(len(rows), dtype=np.int64)

    def row_tokens(self, rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Example tokens among each row's ``context_length`` inputs (padding excluded)."""
        return np.minimum(self.packed.lengths[rows], self.context_length)

    def unique_tokens_by_source(self) -> np.ndarray[Any, Any]:
        return np.array([int(self.row_tokens(np.arange(len(self.packed.tokens))).sum())])
