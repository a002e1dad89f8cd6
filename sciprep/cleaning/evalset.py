"""Evaluation sets for decontamination, and their long word n-grams.

An evaluation set is a list of texts, loaded from one of:

* a corpus directory (``DIR/shards/*.parquet``): its prompt records (``kind ==
  "prompt"``) whose split is in ``splits`` (default ``test``), as prompt + answer;
* a ``.jsonl`` file: one JSON object per line, its ``text`` field, else ``prompt`` /
  ``question`` + ``answer``;
* any other file: UTF-8 text, one item per non-empty line.

Words are ``\\w+`` runs, casefolded, so formatting and punctuation do not hide a copy.
An item shorter than ``n`` words contributes itself whole (if it has at least
``min_item_words``): a short test question copied verbatim is contamination too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from sciprep.corpus.shards import SHARDS_DIR, list_shards

_WORD = re.compile(r"\w+")
#: Refuse evaluation files larger than this (they are held-out sets, not corpora).
MAX_EVAL_FILE_BYTES = 512 * 1024 * 1024


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(casefolded word, start, end) for every word of ``text``."""
    return [(m.group(0).casefold(), m.start(), m.end()) for m in _WORD.finditer(text)]


def load_eval_items(path: Path, splits: Sequence[str] = ("test",)) -> list[str]:
    """The texts of an evaluation set (see the module docstring for formats)."""
    if (path / SHARDS_DIR).is_dir():
        return _corpus_prompts(path, splits)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: evaluation set not found (a corpus directory, .jsonl or text file)")
    if path.stat().st_size > MAX_EVAL_FILE_BYTES:
        raise ValueError(f"{path}: evaluation file larger than {MAX_EVAL_FILE_BYTES} bytes")
    lines = path.read_text(encoding="utf-8", errors="strict").splitlines()
    if path.suffix.lower() != ".jsonl":
        return [line for line in lines if line.strip()]
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} line {number}: not valid JSON ({err.msg})") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{path} line {number}: expected a JSON object")
        if isinstance(obj.get("text"), str):
            items.append(obj["text"])
        elif isinstance(obj.get("answer"), str) and isinstance(obj.get("prompt", obj.get("question")), str):
            items.append(obj.get("prompt", obj.get("question")) + obj["answer"])
        else:
            raise ValueError(f"{path} line {number}: no string `text`, or `prompt`/`question` + `answer`")
    return items


def _corpus_prompts(corpus_dir: Path, splits: Sequence[str]) -> list[str]:
    """Prompt records of ``splits`` in a corpus directory, reading only the needed columns and rows."""
    columns = ["kind", "split", "text", "prompt", "answer"]
    wanted = pc.field("kind") == "prompt"
    items: list[str] = []
    for shard in list_shards(corpus_dir):
        table = pq.read_table(shard, columns=columns, filters=wanted)
        for row in table.to_pylist():
            if row["split"] in splits:
                prompt, answer = row["prompt"], row["answer"]
                items.append(prompt + (answer or "") if prompt is not None else row["text"])
    return items


@dataclass
class NgramIndex:
    """The n-grams of an evaluation set, by length (``n`` plus lengths of whole short items)."""

    n: int
    grams: dict[int, set[tuple[str, ...]]] = field(default_factory=dict)
    items: int = 0
    skipped_short: int = 0
    digest: str = ""

    @classmethod
    def build(cls, items: Sequence[str], n: int, min_item_words: int) -> NgramIndex:
        index = cls(n=n, items=len(items))
        hasher = hashlib.blake2b(digest_size=16)
        hasher.update(f"{n}:{min_item_words}".encode())
        for item in items:
            hasher.update(b"\x1e" + item.encode("utf-8"))
            toks = words(item)
            if len(toks) >= n:
                bucket = index.grams.setdefault(n, set())
                bucket.update(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
            elif len(toks) >= min_item_words:
                index.grams.setdefault(len(toks), set()).add(tuple(toks))
            else:
                index.skipped_short += 1
        index.digest = hasher.hexdigest()
        return index

    def matches(self, text: str) -> Iterator[tuple[int, int]]:
        """Character ranges of ``text`` covered by evaluation n-grams (may overlap)."""
        toks = word_spans(text)
        names = [t[0] for t in toks]
        for length in sorted(self.grams):
            bucket = self.grams[length]
            for i in range(len(names) - length + 1):
                if tuple(names[i : i + length]) in bucket:
                    yield toks[i][1], toks[i + length - 1][2]

    def windows(self, text: str) -> int:
        """How many ``n``-word windows ``text`` has (the denominator of the contamination score)."""
        return max(len(words(text)) - self.n + 1, 1)
