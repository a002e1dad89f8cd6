"""Formula queries: LaTeX for a description ("the Schwarzschild radius").

* ``generated``: the model writes inside ``[START_MATH]`` until ``[END_MATH]``; each
  beam is validated (:func:`~sciprep.query.latex.latex_problems`) and, when its
  normalised form occurs in the formula index, linked to the documents holding it.
* ``retrieval``: BM25 over each indexed formula's own context (the words since the
  previous formula), plus a smaller share of BM25 over its whole sentence, raised for
  display equations and relations (``=``, ``<`` ...) over bare symbols and quantities;
  distinct formulas only, valid and non-trivial ones only.
* ``hybrid`` (default): valid generated formulas and retrieved ones, each scored by
  the model per token (so a short formula is not preferred for being short), mixed
  with the retrieval share (the average of the two softmax shares).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sciprep.query.answers import GENERATED, HYBRID, RETRIEVAL, Answer, softmax
from sciprep.query.bm25 import BM25
from sciprep.query.decoding import decode, normalized_score, score_sequences
from sciprep.query.formula_index import FormulaEntry
from sciprep.query.index_store import QueryIndex
from sciprep.query.latex import latex_problems, normalize_latex
from sciprep.query.lm import LanguageModel, special_id
from sciprep.tokenize.specials import END_MATH, START_MATH

FORMULA_METHODS = (HYBRID, GENERATED, RETRIEVAL)
_RELATION_RE = re.compile(r"=|<|>|\\(?:approx|sim|simeq|propto|leq?|geq?|neq|equiv|to|rightarrow)(?![A-Za-z])")


@dataclass
class _Candidate:
    """A hybrid candidate: its retrieval score and mean per-token model log-probability (None until scored)."""

    text: str
    source: dict[str, object]
    lexical: float = 0.0
    logprob: float | None = None


@dataclass
class FormulaSettings:
    """Decoding, filtering and fusion knobs; the defaults are what the CLI uses."""

    beam: int = 5
    max_tokens: int = 128
    min_chars: int = 3
    retrieval_candidates: int = 20
    retrieval_weight: float = 0.5
    #: Share of the whole sentence's BM25 score added to the formula's own context score.
    sentence_weight: float = 0.3
    #: Retrieval score multipliers ``1 + bonus`` for display equations and for relations.
    display_bonus: float = 0.25
    relation_bonus: float = 0.25
    #: > 0: sample this many formulas (seeded) instead of beam search.
    samples: int = 0
    seed: int | None = None
    temperature: float = 1.0


def formula_prompt(description: str) -> str:
    """``description`` ending in ``[START_MATH]``."""
    text = description.rstrip()
    return text if text.endswith(START_MATH) else f"{text} {START_MATH}"


class FormulaSearcher:
    """Answer formula queries from a :class:`QueryIndex` (and a model, for generation).

    ``hide_doc`` hides documents from retrieval (held-out documents in evaluation).
    """

    def __init__(
        self,
        index: QueryIndex,
        lm: LanguageModel | None = None,
        settings: FormulaSettings | None = None,
        hide_doc: Callable[[str], bool] | None = None,
    ) -> None:
        self.lm = lm
        self.settings = settings or FormulaSettings()
        self.formulas: list[FormulaEntry] = [
            f for f in index.formulas
            if f.valid and len(f.normalized) >= self.settings.min_chars and not (hide_doc and hide_doc(f.doc_id))
        ]  # fmt: skip
        self.bm25 = BM25([f.context for f in self.formulas])
        self.sentence_bm25 = BM25([f.sentence for f in self.formulas])
        s = self.settings
        self._prior = np.array(
            [(1.0 + s.display_bonus * f.display) * (1.0 + s.relation_bonus * bool(_RELATION_RE.search(f.body)))
             for f in self.formulas], dtype=np.float64,
        )  # fmt: skip
        self._by_normal: dict[str, list[FormulaEntry]] = {}
        for f in index.formulas:
            if not (hide_doc and hide_doc(f.doc_id)):
                self._by_normal.setdefault(f.normalized, []).append(f)

    def _source(self, normalized: str, first: FormulaEntry | None = None) -> dict[str, object]:
        matches = self._by_normal.get(normalized, [])
        head = first or (matches[0] if matches else None)
        if head is None:
            return {}
        docs = sorted({m.doc_id for m in matches} | {head.doc_id})
        return {"doc_id": head.doc_id, "formula_id": head.id, "sentence": head.sentence, "doc_ids": docs}

    def lexical_scores(self, description: str) -> np.ndarray:
        """Retrieval score of every searchable formula (see the module docstring); 0 = no match."""
        s = self.settings
        scores = self.bm25.scores(description) + s.sentence_weight * self.sentence_bm25.scores(description)
        return scores * self._prior

    def _search(self, description: str, n: int) -> list[tuple[int, float]]:
        """Top ``n`` ``(formula index, score)`` with a positive score; ties by index order."""
        scores = self.lexical_scores(description)
        hits = np.flatnonzero(scores > 0)
        order = hits[np.lexsort((hits, -scores[hits]))][:n]
        return [(int(i), float(scores[i])) for i in order]

    def retrieve(self, description: str, k: int = 5) -> list[Answer]:
        """Distinct indexed formulas whose contexts best match ``description``."""
        hits = self._distinct(self._search(description, 10 * max(k, self.settings.retrieval_candidates)))
        if not hits:
            return []
        shares = softmax(np.array([s for _, s in hits]))
        return [
            Answer(self.formulas[i].latex, s, float(p), self._source(self.formulas[i].normalized, self.formulas[i]),
                   RETRIEVAL)
            for (i, s), p in zip(hits[:k], shares)
        ]

    def _distinct(self, hits: list[tuple[int, float]]) -> list[tuple[int, float]]:
        seen: set[str] = set()
        out = []
        for i, s in hits:
            if self.formulas[i].normalized not in seen:
                seen.add(self.formulas[i].normalized)
                out.append((i, s))
        return out[: self.settings.retrieval_candidates]

    def _require_lm(self) -> LanguageModel:
        if self.lm is None:
            raise ValueError("formula generation needs a model; load one with LanguageModel.load(MODEL_DIR)")
        return self.lm

    def generate(self, description: str, k: int = 5) -> list[Answer]:
        """Beam-searched formulas, valid ones first; invalid ones carry their ``problems``."""
        lm = self._require_lm()
        end = special_id(lm.tokenizer, END_MATH)
        model = lm.prompt(formula_prompt(description), reserve=self.settings.max_tokens)
        s = self.settings
        hyps = decode(model, k=max(k, s.beam), beam=s.beam, max_steps=s.max_tokens, end_id=end, length_penalty=1.0,
                      samples=s.samples, seed=s.seed, temperature=s.temperature)
        out: list[Answer] = []
        seen: set[str] = set()
        for h in hyps:
            closed = bool(h.tokens) and h.tokens[-1] == end
            latex = lm.tokenizer.decode(h.tokens[:-1] if closed else h.tokens).strip()
            problems = latex_problems(latex) + ([] if closed else [f"no {END_MATH} within {len(h.tokens)} tokens"])
            normalized = normalize_latex(latex)
            if normalized in seen:
                continue
            seen.add(normalized)
            source = self._source(normalized)
            mean = normalized_score(h, 1.0)
            out.append(Answer(latex, mean, float(np.exp(mean)), source, GENERATED,
                              grounded=bool(source), problems=problems))
        out.sort(key=lambda a: (bool(a.problems), -a.score, a.text))
        return out[:k]

    def hybrid(self, description: str, k: int = 5) -> list[Answer]:
        """Valid generated and retrieved formulas, ranked by model share mixed with BM25 share.

        Every candidate is scored by the model teacher-forced (mean log-probability per
        token of the formula and ``[END_MATH]``), so generated and retrieved ones share
        one scale and a formula does not win for being short.
        """
        lm = self._require_lm()
        s = self.settings
        cands: dict[str, _Candidate] = {}
        for a in self.generate(description, max(k, s.beam)):
            if not a.problems:
                cands[normalize_latex(a.text)] = _Candidate(a.text, a.source)
        for i, score in self._distinct(self._search(description, 10 * s.retrieval_candidates)):
            f = self.formulas[i]
            cands.setdefault(f.normalized, _Candidate(f.latex, self._source(f.normalized, f))).lexical = score
        # A retrieved formula may be longer than what generation writes; half the model's
        # positions stay for it, the rest for the prompt.
        limit = max(s.max_tokens, lm.max_length // 2)
        pending = []
        for cand in cands.values():
            ids = lm.tokenizer.encode(f"{START_MATH}{cand.text}{END_MATH}")[1:]
            if len(ids) <= limit:
                pending.append((cand, ids))
        reserve = max([s.max_tokens, *(len(ids) for _, ids in pending)])
        model = lm.prompt(formula_prompt(description), reserve=reserve)
        for (cand, ids), (score, _) in zip(pending, score_sequences(model, [ids for _, ids in pending])):
            cand.logprob = score / len(ids)
        scored = sorted((c for c in cands.values() if c.logprob is not None), key=lambda c: c.text)
        if not scored:
            return []
        p_model = softmax(np.array([c.logprob for c in scored], dtype=np.float64))
        lexical = np.array([c.lexical for c in scored])
        p_bm25 = softmax(lexical) if lexical.max() > 0 else np.full(len(scored), 1.0 / len(scored))
        mixed = (1.0 - s.retrieval_weight) * p_model + s.retrieval_weight * p_bm25
        order = sorted(range(len(scored)), key=lambda j: (-mixed[j], scored[j].text))[:k]
        return [
            Answer(scored[j].text, float(mixed[j]), float(mixed[j]), scored[j].source, HYBRID,
                   grounded=bool(scored[j].source))
            for j in order
        ]

    def search(self, description: str, k: int = 5, method: str = HYBRID) -> list[Answer]:
        """Dispatch on ``method`` (one of :data:`FORMULA_METHODS`)."""
        if method not in FORMULA_METHODS:
            raise ValueError(f"unknown formula method {method!r}; choose from {', '.join(FORMULA_METHODS)}")
        return {HYBRID: self.hybrid, GENERATED: self.generate, RETRIEVAL: self.retrieve}[method](description, k)
