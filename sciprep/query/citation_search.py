"""Citation queries: which indexed works fit a context ending in ``[START_REF]``.

Four methods share one :class:`CitationSearcher`:

* ``constrained``: beam search restricted to the trie of tokenised
  ``Title, Surname[END_REF]`` strings; every answer is an index entry.
* ``unconstrained``: free beam search until ``[END_REF]`` (Galactica's behaviour; used
  by the evaluation to measure hallucination); answers not in the index are marked
  ``grounded=False``.
* ``retrieval``: BM25 over each entry's title, surname and citation contexts.
* ``hybrid`` (default): constrained beams plus BM25 candidates, ranked by a product
  of experts: ``log p_bm25 + model_weight * PMI``, where ``p_bm25`` is the BM25
  softmax over the candidates and PMI is how much the context raises the model's
  log-probability of the entry over an empty context. PMI removes what the model
  prefers regardless of the context (short titles, frequent works), which is what
  makes a weak model confidently wrong; a model the context does not move has
  PMI ~ 0 and leaves BM25's order, a model that recognises the context lifts its
  answer by as many nats as the context gives it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sciprep.query.answers import CONSTRAINED, HYBRID, RETRIEVAL, UNCONSTRAINED, Answer, softmax
from sciprep.query.bm25 import BM25
from sciprep.query.decoding import decode, score_sequences
from sciprep.query.index_store import QueryIndex
from sciprep.query.lm import LanguageModel, special_id
from sciprep.query.markup import split_citation
from sciprep.query.reference_index import ReferenceEntry
from sciprep.query.reference_keys import fold
from sciprep.query.trie import TokenTrie
from sciprep.tokenize.specials import END_REF, START_REF

CITATION_METHODS = (HYBRID, CONSTRAINED, RETRIEVAL, UNCONSTRAINED)


@dataclass
class CitationSettings:
    """Decoding and fusion knobs; the defaults are what the CLI uses."""

    beam: int = 8
    max_tokens: int = 96
    retrieval_candidates: int = 20
    #: Weight of the model's evidence (PMI, in nats) against BM25's log-share in ``hybrid``.
    model_weight: float = 1.0
    #: > 0: sample this many answers (seeded) instead of beam search.
    samples: int = 0
    seed: int | None = None
    temperature: float = 1.0

    def decoding(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~sciprep.query.decoding.decode`."""
        return {"beam": self.beam, "samples": self.samples, "seed": self.seed, "temperature": self.temperature}


def citation_prompt(context: str) -> str:
    """``context`` ending in ``[START_REF]``, as the model saw citations in training."""
    text = context.rstrip()
    return text if text.endswith(START_REF) else f"{text} {START_REF}"


class CitationSearcher:
    """Answer citation queries from a :class:`QueryIndex` (and a model, for generation).

    ``hide_doc`` marks documents whose citation contexts retrieval must not see (the
    evaluation hides held-out documents so their own sentences cannot leak answers).
    """

    def __init__(
        self,
        index: QueryIndex,
        lm: LanguageModel | None = None,
        settings: CitationSettings | None = None,
        hide_doc: Callable[[str], bool] | None = None,
    ) -> None:
        self.index = index
        self.lm = lm
        self.settings = settings or CitationSettings()
        self.entries: list[ReferenceEntry] = index.references
        texts: dict[str, list[str]] = {e.id: [e.title, e.surname, e.raw if not e.title else ""] for e in self.entries}
        for ctx in index.contexts:
            if hide_doc is None or not hide_doc(ctx.doc_id):
                texts[ctx.entry_id].append(ctx.sentence)
        self.bm25 = BM25([" ".join(texts[e.id]) for e in self.entries])
        self._by_citation: dict[str, int] = {}
        for i, e in enumerate(self.entries):
            if e.citation:
                self._by_citation.setdefault(_citation_key(e.title, e.surname), i)
                self._by_citation.setdefault(fold(e.title), i)
        self._trie: TokenTrie | None = None
        self._sequences: dict[int, list[int]] = {}
        #: Restricted log-probability of each entry after an empty context (the model's prior).
        self._prior: dict[int, float] = {}

    # -- lookups -------------------------------------------------------------------

    def resolve(self, citation: str) -> ReferenceEntry | None:
        """The entry a ``Title, Surname`` string names (normalised match), or None."""
        title, surname = split_citation(citation)
        i = self._by_citation.get(_citation_key(title, surname))
        if i is None:
            i = self._by_citation.get(fold(citation)) if fold(citation) else None
        return None if i is None else self.entries[i]

    def _answer(self, entry: ReferenceEntry, score: float, confidence: float, method: str) -> Answer:
        source = {"index_id": entry.id, **entry.ids(), "title": entry.title, "year": entry.year,
                  "cite_count": entry.cite_count}
        return Answer(entry.citation or entry.raw, score, confidence, source, method)

    # -- methods -------------------------------------------------------------------

    def retrieve(self, context: str, k: int = 5) -> list[Answer]:
        """BM25 alone; ``confidence`` is the softmax share among the top candidates."""
        hits = self.bm25.search(context, max(k, self.settings.retrieval_candidates))
        if not hits:
            return []
        shares = softmax(np.array([s for _, s in hits]))
        return [self._answer(self.entries[i], s, float(p), RETRIEVAL) for (i, s), p in zip(hits[:k], shares)]

    def _require_lm(self) -> LanguageModel:
        if self.lm is None:
            raise ValueError("this citation method needs a model; load one with LanguageModel.load(MODEL_DIR)")
        return self.lm

    @property
    def trie(self) -> TokenTrie:
        """The trie of every citable entry, tokenised once (in a batch) by the model's tokenizer."""
        if self._trie is None:
            lm = self._require_lm()
            start = special_id(lm.tokenizer, START_REF)
            citable = [i for i, e in enumerate(self.entries) if e.citation]
            texts = [f"{START_REF} {self.entries[i].citation}{END_REF}" for i in citable]
            batch = getattr(lm.tokenizer, "encode_batch", None)
            encoded = batch(texts) if batch is not None else [lm.tokenizer.encode(t) for t in texts]
            for i, ids in zip(citable, encoded):
                if not ids or ids[0] != start:
                    raise ValueError(f"tokenizer does not keep {START_REF} as one token (entry {self.entries[i].id})")
                self._sequences[i] = list(ids[1:])
            self._trie = TokenTrie([self._sequences[i] for i in citable], citable)
        return self._trie

    def _max_tokens(self) -> int:
        longest = max((len(s) for s in self._sequences.values()), default=0)
        return max(self.settings.max_tokens, longest)

    def constrained(self, context: str, k: int = 5) -> list[Answer]:
        """Trie-constrained beam search: only index entries, scored by restricted log-probability."""
        lm = self._require_lm()
        trie = self.trie
        if len(trie) == 0:
            return []
        model = lm.prompt(citation_prompt(context), reserve=self._max_tokens())
        hyps = decode(model, k=k, max_steps=self._max_tokens(), end_id=special_id(lm.tokenizer, END_REF), trie=trie,
                      **self.settings.decoding())
        return [
            self._answer(self.entries[h.values[0]], h.score, float(np.exp(h.score)), CONSTRAINED) for h in hyps
        ]

    def unconstrained(self, context: str, k: int = 5) -> list[Answer]:
        """Free generation until ``[END_REF]``; answers are resolved against the index afterwards."""
        lm = self._require_lm()
        end = special_id(lm.tokenizer, END_REF)
        model = lm.prompt(citation_prompt(context), reserve=self.settings.max_tokens)
        hyps = decode(model, k=k, max_steps=self.settings.max_tokens, end_id=end, **self.settings.decoding())
        out = []
        for h in hyps:
            tokens = h.tokens[:-1] if h.tokens and h.tokens[-1] == end else h.tokens
            text = " ".join(lm.tokenizer.decode(tokens).split())
            entry = self.resolve(text)
            if entry is None:
                out.append(Answer(text, h.score, float(np.exp(h.score)), {}, UNCONSTRAINED, grounded=False))
            else:
                out.append(self._answer(entry, h.score, float(np.exp(h.score)), UNCONSTRAINED))
        return out

    def _prior_scores(self, entries: list[int]) -> dict[int, float]:
        """The model's restricted log-probability of each entry with no context, cached per entry."""
        lm = self._require_lm()
        todo = [i for i in entries if i not in self._prior]
        if todo:
            model = lm.prompt(citation_prompt(""), reserve=self._max_tokens())
            for i, (score, _) in zip(todo, score_sequences(model, [self._sequences[i] for i in todo], self.trie)):
                self._prior[i] = score
        return {i: self._prior[i] for i in entries}

    def hybrid(self, context: str, k: int = 5) -> list[Answer]:
        """Constrained beams and BM25 candidates, ranked by BM25 log-share plus the model's PMI.

        ``score`` is the fused log-score; ``confidence`` its softmax share among the
        candidates. A candidate BM25 does not match starts ``max(bm25)`` nats behind
        the best match, so only strong model evidence brings it into the answers.
        """
        lm = self._require_lm()
        trie = self.trie
        s = self.settings
        model = lm.prompt(citation_prompt(context), reserve=self._max_tokens())
        end = special_id(lm.tokenizer, END_REF)
        hyps = decode(model, k=max(k, s.beam), max_steps=self._max_tokens(), end_id=end, trie=trie,
                      **s.decoding()) if len(trie) else []
        model_scores = {h.values[0]: h.score for h in hyps}
        bm25 = self.bm25.scores(context)
        hits = [i for i, _ in self.bm25.search(context, s.retrieval_candidates) if i in self._sequences]
        missing = [i for i in hits if i not in model_scores]
        for i, (score, _) in zip(missing, score_sequences(model, [self._sequences[i] for i in missing], trie)):
            model_scores[i] = score
        if not model_scores:
            return []
        cands = sorted(model_scores)
        prior = self._prior_scores(cands)
        pmi = np.array([model_scores[i] - prior[i] for i in cands])
        lexical = np.array([bm25[i] for i in cands])
        fused = lexical - lexical.max() - np.log(np.exp(lexical - lexical.max()).sum()) + s.model_weight * pmi
        shares = softmax(fused)
        order = sorted(range(len(cands)), key=lambda j: (-fused[j], cands[j]))[:k]
        return [self._answer(self.entries[cands[j]], float(fused[j]), float(shares[j]), HYBRID) for j in order]

    def search(self, context: str, k: int = 5, method: str = HYBRID) -> list[Answer]:
        """Dispatch on ``method`` (one of :data:`CITATION_METHODS`)."""
        if method not in CITATION_METHODS:
            raise ValueError(f"unknown citation method {method!r}; choose from {', '.join(CITATION_METHODS)}")
        return getattr(self, {HYBRID: "hybrid", CONSTRAINED: "constrained", RETRIEVAL: "retrieve",
                              UNCONSTRAINED: "unconstrained"}[method])(context, k)


def _citation_key(title: str, surname: str) -> str:
    return f"{fold(title)}|{fold(surname)}"
