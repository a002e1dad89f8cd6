"""Decontamination: documents sharing long n-grams (default 13 words) with an evaluation set.

The evaluation set (see :mod:`sciprep.cleaning.evalset`) defaults to the input
corpus's own prompt records of split ``test``; ``eval_path`` points elsewhere (another
corpus directory, a ``.jsonl`` or a text file). Documents whose split is in
``exempt_splits`` are the evaluation set itself and are never touched. ``mode: drop``
removes a contaminated document; ``mode: cut`` removes only the matching stretches
(widened so no markup span is cut in half) and drops the document if less than
``min_kept_fraction`` of it would remain. Removals are counted per source in
``report.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from sciprep.cleaning.evalset import NgramIndex, load_eval_items
from sciprep.cleaning.spans import segments
from sciprep.cleaning.steps.base import (
    KEEP,
    Decision,
    Modify,
    Remove,
    Step,
    StepContext,
    StepParams,
    register_step,
    threshold,
)
from sciprep.corpus.document import Document
from sciprep.tokenize.specials import MARKUP

_SPAN = pa.struct([("start", pa.int64()), ("end", pa.int64())])


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of half-open character ranges."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def widen_to_markup(text: str, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Extend each range over any markup span it touches, so cutting never orphans a tag."""
    spans = []
    pos = 0
    for seg in segments(text, tuple(MARKUP)):
        if seg.kind is not None:
            spans.append((pos, pos + len(seg.text)))
        pos += len(seg.text)
    widened = []
    for start, end in ranges:
        for s, e in spans:
            if s < end and start < e:
                start, end = min(start, s), max(end, e)
        widened.append((start, end))
    return merge_ranges(widened)


@dataclass
class DecontaminateParams(StepParams):
    eval_path: str | None = None
    eval_splits: tuple[str, ...] = ("test",)
    n: int = 13
    min_item_words: int = 8
    mode: Literal["drop", "cut"] = threshold("drop")
    min_matches: int = threshold(1)
    min_kept_fraction: float = threshold(0.5)
    exempt_splits: tuple[str, ...] = threshold(("test",))


@register_step("decontaminate")
class Decontaminate(Step):
    """Drop or cut documents that contain text of the evaluation set."""

    Params = DecontaminateParams
    params: DecontaminateParams
    attributes = pa.schema([("matched_windows", pa.int32()), ("windows", pa.int32()), ("ranges", pa.list_(_SPAN))])

    def __init__(self, params: StepParams | None = None, label: str | None = None) -> None:
        super().__init__(params, label)
        self.index = NgramIndex(n=self.params.n)

    def setup(self, context: StepContext) -> None:
        p = self.params
        if p.n < 1 or p.min_item_words < 1:
            raise ValueError(f"cleaning step {self.label!r}: n and min_item_words must be positive")
        source = Path(p.eval_path) if p.eval_path else context.in_dir
        items = load_eval_items(source, p.eval_splits)
        self.index = NgramIndex.build(items, p.n, p.min_item_words)

    def tag_fingerprint(self) -> str:
        """Tag parameters plus the evaluation set's content: a new test set re-tags."""
        return f"{super().tag_fingerprint()}-{self.index.digest}"

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["evaluation"] = {
            "items": self.index.items,
            "too_short": self.index.skipped_short,
            "digest": self.index.digest,
        }
        return info

    def tag(self, doc: Document) -> dict[str, Any]:
        if not self.index.grams:  # empty evaluation set: nothing can match
            return {"matched_windows": 0, "windows": 0, "ranges": []}
        found = list(self.index.matches(doc.text))
        ranges = merge_ranges(found)
        return {
            "matched_windows": len(found),
            "windows": self.index.windows(doc.text),
            "ranges": [{"start": s, "end": e} for s, e in ranges],
        }

    def decide(self, doc: Document, attrs: Mapping[str, Any]) -> Decision:
        p = self.params
        matched = attrs["matched_windows"]
        if matched < p.min_matches or doc.split in p.exempt_splits:
            return KEEP
        score = min(matched / attrs["windows"], 1.0)
        reason = f"{matched} n-gram(s) of {p.n}+ words shared with the evaluation set"
        is_prompt = doc.prompt is not None and doc.answer is not None
        if p.mode == "drop" or is_prompt:
            return Remove(reason, score)
        ranges = widen_to_markup(doc.text, [(r["start"], r["end"]) for r in attrs["ranges"]])
        pieces, pos = [], 0
        for start, end in ranges:
            pieces.append(doc.text[pos:start])
            pos = end
        pieces.append(doc.text[pos:])
        kept = "\n".join(piece.strip() for piece in pieces if piece.strip())
        if len(kept) < p.min_kept_fraction * len(doc.text):
            return Remove(f"{reason}; cutting would keep under {p.min_kept_fraction:.0%}", score)
        return Modify(kept, f"cut {len(ranges)} contaminated stretch(es)")
