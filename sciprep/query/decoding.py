"""Deterministic beam search, free or constrained to a :class:`TokenTrie`.

Decoding is written against :class:`NextTokenModel` (log-probabilities of the next
token for a batch of continuations of one fixed prompt), so the trie guarantee can be
property-tested with random logits and no neural network.

Constrained scores follow GENRE (De Cao et al., 2021): tokens outside the trie are
masked and the rest renormalised, so a hypothesis' score is its log-probability under
the model *restricted to the index*. These probabilities over all index entries sum to
one, which makes ``exp(score)`` a usable confidence. The model's unrestricted
log-probability is kept alongside (``model_logprob``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from sciprep.query.trie import TokenTrie


class NextTokenModel(Protocol):
    """Next-token log-probabilities after a fixed prompt."""

    def next_logprobs(self, continuations: Sequence[Sequence[int]]) -> np.ndarray:
        """``[len(continuations), vocab]`` log-softmax rows, one per continuation."""
        ...

    def token_logprobs(self, continuations: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Per continuation, ``[len(c), vocab]`` rows: the distribution *before* each token."""
        ...


@dataclass
class Hypothesis:
    """A (partial or finished) decoded continuation."""

    tokens: list[int]
    score: float
    model_logprob: float
    node: int = 0
    values: list[int] = field(default_factory=list)


def _log_normalise(logprobs: np.ndarray) -> np.ndarray:
    top = float(np.max(logprobs))
    return logprobs - (top + float(np.log(np.sum(np.exp(logprobs - top)))))


def _sort_key(h: Hypothesis) -> tuple[float, list[int]]:
    return (-h.score, h.tokens)


def normalized_score(h: Hypothesis, length_penalty: float) -> float:
    """``score / len(tokens) ** length_penalty``: 0 ranks by total log-probability,
    1 by mean per-token log-probability (long answers are no longer penalised)."""
    return h.score / max(1, len(h.tokens)) ** length_penalty


def beam_search(
    model: NextTokenModel,
    *,
    beam: int,
    max_steps: int,
    end_id: int,
    trie: TokenTrie | None = None,
    k: int | None = None,
    length_penalty: float = 0.0,
) -> list[Hypothesis]:
    """The ``k`` (default ``beam``) best finished continuations, best first.

    With ``trie`` every returned hypothesis is a complete trie sequence (its ``values``
    say which entries); without, a hypothesis finishes at ``end_id`` or after
    ``max_steps`` tokens. Finished hypotheses are ranked by :func:`normalized_score`.
    With ``length_penalty == 0`` the search stops as soon as no live beam can overtake
    the k-th finished one (exact, since scores only fall); otherwise it uses the usual
    heuristic of comparing the best live beam's score at its current length. Ties break
    on the token sequence, so results never depend on the order of equal floats.
    """
    if beam < 1:
        raise ValueError(f"beam must be >= 1, got {beam}")
    want = beam if k is None else k

    def rank(h: Hypothesis) -> tuple[float, list[int]]:
        return (-normalized_score(h, length_penalty), h.tokens)

    live = [Hypothesis([], 0.0, 0.0)]
    finished: list[Hypothesis] = []
    for step in range(max_steps):
        rows = model.next_logprobs([h.tokens for h in live])
        candidates: list[Hypothesis] = []
        for h, row in zip(live, rows):
            if trie is None:
                top = np.argsort(-row, kind="stable")[:beam]
                for tok in top:
                    lp = float(row[tok])
                    candidates.append(Hypothesis(h.tokens + [int(tok)], h.score + lp, h.model_logprob + lp))
                continue
            allowed = trie.allowed(h.node)
            if allowed.size == 0:
                continue
            restricted = _log_normalise(row[allowed])
            order = np.argsort(-restricted, kind="stable")[:beam]
            for j in order:
                tok = int(allowed[j])
                node = trie.child(h.node, tok)
                assert node is not None
                candidates.append(
                    Hypothesis(
                        h.tokens + [tok],
                        h.score + float(restricted[j]),
                        h.model_logprob + float(row[tok]),
                        node,
                        list(trie.values(node)),
                    )
                )
        candidates.sort(key=_sort_key)
        live = []
        last_step = step == max_steps - 1
        for cand in candidates:
            done = bool(cand.values) if trie is not None else cand.tokens[-1] == end_id
            if trie is not None and done and trie.allowed(cand.node).size:
                # A stored sequence that is also a prefix of a longer one: finish it and keep going.
                finished.append(cand)
                live.append(Hypothesis(cand.tokens, cand.score, cand.model_logprob, cand.node))
            elif done or (trie is None and last_step):
                finished.append(cand)
            else:
                live.append(cand)
            if len(live) >= beam:
                break
        finished.sort(key=rank)
        finished = finished[:want]
        if not live or (
            len(finished) >= want
            and normalized_score(live[0], length_penalty) <= normalized_score(finished[-1], length_penalty)
        ):
            break
    return finished


def score_sequences(
    model: NextTokenModel, sequences: Sequence[Sequence[int]], trie: TokenTrie | None = None, batch: int = 8
) -> list[tuple[float, float]]:
    """Teacher-forced ``(score, model_logprob)`` of each sequence; constrained like :func:`beam_search`.

    With ``trie`` each sequence must be a path in it (a ValueError otherwise).
    """
    out: list[tuple[float, float]] = []
    for lo in range(0, len(sequences), batch):
        chunk = sequences[lo : lo + batch]
        for seq, rows in zip(chunk, model.token_logprobs(chunk)):
            score = raw = 0.0
            node: int | None = 0
            for tok, row in zip(seq, rows):
                raw += float(row[tok])
                if trie is None:
                    score += float(row[tok])
                    continue
                assert node is not None
                allowed = trie.allowed(node)
                pos = int(np.searchsorted(allowed, tok))
                if pos >= allowed.size or allowed[pos] != tok:
                    raise ValueError(f"token {tok} leaves the trie; sequence {list(seq)} is not an entry")
                score += float(_log_normalise(row[allowed])[pos])
                node = trie.child(node, tok)
            out.append((score, raw))
    return out


def sample_search(
    model: NextTokenModel,
    *,
    samples: int,
    max_steps: int,
    end_id: int,
    seed: int,
    temperature: float = 1.0,
    trie: TokenTrie | None = None,
) -> list[Hypothesis]:
    """``samples`` ancestral samples (seeded numpy generator), distinct ones best first.

    Only on request: sampling trades determinism-by-construction for diversity, so the
    seed is mandatory and the same seed gives the same samples. With ``trie`` each step
    samples from the restricted, renormalised distribution and a sample ends at the first
    stored sequence it reaches, so every returned sample is an entry (samples still
    unfinished after ``max_steps`` are dropped). ``score`` is the (restricted)
    log-probability at temperature 1.
    """
    if samples < 1 or temperature <= 0:
        raise ValueError(f"need samples >= 1 and temperature > 0, got {samples} and {temperature}")
    rng = np.random.default_rng(seed)
    live = [Hypothesis([], 0.0, 0.0) for _ in range(samples)]
    done: dict[tuple[int, ...], Hypothesis] = {}
    for step in range(max_steps):
        if not live:
            break
        rows = model.next_logprobs([h.tokens for h in live])
        still: list[Hypothesis] = []
        for h, row in zip(live, rows):
            allowed = np.arange(row.size) if trie is None else trie.allowed(h.node)
            restricted = _log_normalise(row[allowed])
            tempered = np.exp(_log_normalise(restricted / temperature))
            j = int(rng.choice(allowed.size, p=tempered / tempered.sum()))
            tok = int(allowed[j])
            node = trie.child(h.node, tok) if trie is not None else None
            nxt = Hypothesis(h.tokens + [tok], h.score + float(restricted[j]), h.model_logprob + float(row[tok]),
                             node or 0, list(trie.values(node)) if trie is not None and node is not None else [])
            finished = bool(nxt.values) if trie is not None else tok == end_id
            if finished or (trie is None and step == max_steps - 1):
                done.setdefault(tuple(nxt.tokens), nxt)
            elif step < max_steps - 1:
                still.append(nxt)
        live = still
    return sorted(done.values(), key=_sort_key)


def decode(
    model: NextTokenModel,
    *,
    k: int,
    beam: int,
    max_steps: int,
    end_id: int,
    trie: TokenTrie | None = None,
    length_penalty: float = 0.0,
    samples: int = 0,
    seed: int | None = None,
    temperature: float = 1.0,
) -> list[Hypothesis]:
    """Beam search by default; :func:`sample_search` when ``samples`` > 0 (a seed is required)."""
    if samples:
        if seed is None:
            raise ValueError("sampling needs a seed so answers can be reproduced (--seed)")
        hyps = sample_search(model, samples=samples, max_steps=max_steps, end_id=end_id, seed=seed,
                             temperature=temperature, trie=trie)
        return sorted(hyps, key=lambda h: (-normalized_score(h, length_penalty), h.tokens))[:k]
    return beam_search(model, beam=max(k, beam), k=k, max_steps=max_steps, end_id=end_id, trie=trie,
                       length_penalty=length_penalty)
