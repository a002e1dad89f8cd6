"""Training rows for pretraining: context windows over token streams, planned per epoch.

A *window* is ``context_length + 1`` consecutive tokens starting at a multiple of
``context_length`` (input = first T, target = last T), so the windows of a stream
tile it without overlap. A window belongs to the source of its first token (streams
are grouped by source, so only windows straddling a source boundary are shared).

Per-source weights (Galactica-style upsampling) are in *passes per epoch*: weight
2.0 puts every window of that source in each epoch's plan twice, 1.0 once, 0.5 a
seeded half (a different half every epoch), 0 never. Prompt pre-training adds
windows of the ``prompts`` stream so they make up ``prompt_ratio`` of the epoch's
windows (hence of its tokens). The epoch's plan is a seeded permutation of all
of that, a pure function of (seed, epoch): a resumed run rebuilds it exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sciprep.training.token_files import open_tokens, read_header

PROMPT_SOURCE = "prompts"


def epoch_rng(seed: int, epoch: int, purpose: int) -> np.random.Generator:
    """A generator that depends only on (seed, epoch, purpose)."""
    return np.random.default_rng([seed, epoch, purpose])


@dataclass
class Stream:
    """One token file: its ids and the window starts of each of its sources."""

    tokens: np.ndarray[Any, Any]
    window_sources: np.ndarray[Any, Any]  # source index (into WindowPlanner.sources) per window

    @classmethod
    def load(cls, path: Path, context_length: int, source_index: dict[str, int]) -> Stream:
        header = read_header(path)
        tokens = open_tokens(path)
        n_windows = max(0, (len(tokens) - 1) // context_length)
        starts = np.arange(n_windows, dtype=np.int64) * context_length
        owners = np.zeros(n_windows, dtype=np.int64)
        for name, (begin, end) in header["sources"].items():
            owners[(starts >= begin) & (starts < end)] = source_index[name]
        return cls(tokens=tokens, window_sources=owners)


class WindowPlanner:
    """The rows (windows) of a packed directory and the order they are seen each epoch."""

    def __init__(
        self,
        packed_dir: str | os.PathLike[str],
        context_length: int,
        seed: int,
        source_weights: dict[str, float] | None = None,
        prompt_ratio: float = 0.0,
    ) -> None:
        if context_length < 1:
            raise ValueError(f"context_length must be >= 1, got {context_length}")
        if not 0.0 <= prompt_ratio < 1.0:
            raise ValueError(f"prompt_ratio must be in [0, 1), got {prompt_ratio}")
        root = Path(packed_dir)
        self.context_length = context_length
        self.seed = seed
        train_sources = list(read_header(root / "train.tokens")["sources"])
        self.sources: list[str] = [*train_sources, PROMPT_SOURCE]
        index = {name: i for i, name in enumerate(self.sources)}
        self.train = Stream.load(root / "train.tokens", context_length, index)
        prompt_path = root / "prompts.tokens"
        self.prompts = Stream.load(prompt_path, context_length, {n: index[PROMPT_SOURCE] for n in
                                   read_header(prompt_path)["sources"]})  # fmt: skip
        self.prompt_ratio = prompt_ratio
        if prompt_ratio > 0 and len(self.prompts.window_sources) == 0:
            raise ValueError(
                f"{packed_dir}: prompt_ratio={prompt_ratio} but the packed prompts stream has no "
                f"full window of {context_length + 1} tokens; pack a corpus with prompt records"
            )
        weights = source_weights or {}
        unknown = sorted(set(weights) - set(train_sources) - {PROMPT_SOURCE})
        if unknown:
            raise ValueError(f"source weights name unknown sources {unknown}; known: {train_sources}")
        self.weights = np.array([float(weights.get(n, 1.0)) for n in self.sources])
        if (self.weights < 0).any():
            raise ValueError(f"source weights must be >= 0, got {weights}")
        self._plans: dict[int, np.ndarray[Any, Any]] = {}

    @property
    def n_train_windows(self) -> int:
        return len(self.train.window_sources)

    def unique_tokens_by_source(self) -> np.ndarray[Any, Any]:
        """Distinct tokens available per source (window inputs), for repeat accounting."""
        counts = np.bincount(self.train.window_sources, minlength=len(self.sources))
        counts[-1] = len(self.prompts.window_sources) if self.prompt_ratio > 0 else 0
        return counts * self.context_length

    def plan(self, epoch: int) -> np.ndarray[Any, Any]:
        """Global row ids for ``epoch`` in training order (train windows first, then prompts)."""
        if epoch in self._plans:
            return self._plans[epoch]
        rng = epoch_rng(self.seed, epoch, 0)
        chosen: list[np.ndarray[Any, Any]] = []
        for i, weight in enumerate(self.weights[:-1]):
            windows = np.flatnonzero(self.train.window_sources == i)
            whole, frac = int(weight), weight - int(weight)
            chosen.extend([windows] * whole)
            extra = int(round(frac * len(windows)))
            if extra:
                chosen.append(np.sort(rng.choice(windows, size=extra, replace=False)))
        corpus = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
        if self.prompt_ratio > 0:
            n_prompt = int(round(self.prompt_ratio / (1 - self.prompt_ratio) * len(corpus)))
            corpus = np.concatenate([corpus, self.n_train_windows + self._prompt_rows(epoch, n_prompt)])
        plan = corpus[epoch_rng(self.seed, epoch, 1).permutation(len(corpus))]
        self._plans = {epoch: plan}
        return plan

    def _prompt_rows(self, epoch: int, count: int) -> np.ndarray[Any, Any]:
        """``count`` prompt windows, cycling through seeded permutations (epoch-local)."""
        n = len(self.prompts.window_sources)
        rng = epoch_rng(self.seed, epoch, 2)
        cycles = -(-count // n) if count else 0
        return np.concatenate([rng.permutation(n) for _ in range(cycles)] or [np.zeros(0, np.int64)])[:count]

    def row_sources(self, rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Source index of each global row id."""
        out = np.full(len(rows), len(self.sources) - 1, dtype=np.int64)
        is_train = rows < self.n_train_windows
        out[is_train] = self.train.window_sources[rows[is_train]]
        return out

    def row_tokens(self, rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Every window is full: ``context_length`` input tokens per row."""
        return np.full(len(rows), self.context_length, dtype=np.int64)

    def batch(self, rows: np.ndarray[Any, Any]) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
        """``{"input_ids": ...}`` and next-token targets (int64, ``[len(rows), T]``) for the given rows."""
        t = self.context_length
        windows = np.empty((len(rows), t + 1), dtype=np.int64)
        for i, row in enumerate(rows):
            stream, local = (self.train, row) if row < self.n_train_windows else (
                self.prompts, row - self.n_train_windows)  # fmt: skip
            windows[i] = stream.tokens[local * t : local * t + t + 1]
        return {"input_ids": windows[:, :-1]}, windows[:, 1:]
