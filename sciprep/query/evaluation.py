"""Held-out citation and formula prediction: how often each method finds the truth.

Cases come only from documents of the validation split
(:func:`sciprep.corpus.splits.is_validation`, the trainer's rule), and retrieval is
built with those documents hidden, so neither the model nor BM25 has seen a case's
own sentence. A citation case is the text before a ``[START_REF]`` with the cited
index entry as target; a formula case is the text before a ``[START_MATH]`` with the
formula as target (valid, non-trivial formulas only).

The split settings default to those the model was trained with, read from the
``sciprep_training.json`` the trainer writes into every exported model directory
(:func:`held_out_rule`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sciprep.corpus.document import Document, stable_id
from sciprep.corpus.shards import iter_documents
from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION, is_validation
from sciprep.query.answers import Answer
from sciprep.query.citation_search import CitationSearcher
from sciprep.query.formula_search import FormulaSearcher
from sciprep.query.latex import is_valid_latex, normalize_latex
from sciprep.query.markup import context_before, find_citations, find_math

#: Characters of text before the citation / formula given as the query.
CONTEXT_CHARS = 1_000
#: The file in a model directory recording its training data's held-out rule.
TRAINING_INFO_FILE = "sciprep_training.json"


def held_out_rule(
    model_dir: str | os.PathLike[str], fraction: float | None = None, seed: int | None = None
) -> tuple[float, int, list[str]]:
    """The (validation fraction, split seed) to evaluate ``model_dir`` with, plus warnings.

    Unset values come from the model's ``sciprep_training.json`` (the split its
    training data used), else the corpus defaults. A warning is returned when a
    given value differs from the recorded one (the cases would include trained-on
    documents) or when the model records nothing.
    """
    path = Path(model_dir) / TRAINING_INFO_FILE
    recorded: dict[str, Any] = {}
    if path.is_file():
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err}); re-export the model") from err
        if not isinstance(recorded, dict):
            raise ValueError(f"{path}: expected a JSON object with val_fraction and split_seed")
    warnings: list[str] = []
    settings: list[Any] = []
    for flag, key, given, default in (("--fraction", "val_fraction", fraction, DEFAULT_VALIDATION_FRACTION),
                                      ("--seed", "split_seed", seed, DEFAULT_SPLIT_SEED)):  # fmt: skip
        known = recorded.get(key)
        if given is not None and known is not None and given != known:
            warnings.append(f"{flag} {given} differs from the {key} {known} the model was trained with "
                            f"({path}); held-out cases may include trained-on documents")  # fmt: skip
        settings.append(given if given is not None else known if known is not None else default)
    if not recorded and (fraction is None or seed is None):
        warnings.append(f"{model_dir}: no {TRAINING_INFO_FILE}; using validation fraction {settings[0]} and "
                        f"seed {settings[1]}, pass the --val-fraction/--split-seed given to `train pack`")  # fmt: skip
    return float(settings[0]), int(settings[1]), warnings


@dataclass(frozen=True)
class Case:
    """One held-out prediction: ``context`` should lead to ``target``."""

    doc_id: str
    position: int
    context: str
    target: str
    target_id: str = ""


@dataclass
class MethodScore:
    """Accuracy of one method over the cases."""

    method: str
    cases: int
    accuracy_at_1: float
    accuracy_at_k: float
    hallucination_rate: float
    answers: int
    extra: dict[str, float]


def _held_out(corpus_dir: str | os.PathLike[str], fraction: float, seed: int) -> Iterable[Document]:
    return (d for d in iter_documents(corpus_dir) if is_validation(d.id, fraction, seed))


def _sample(cases: list[Case], limit: int | None) -> list[Case]:
    """A deterministic spread of at most ``limit`` cases (hash order, not document order)."""
    cases.sort(key=lambda c: stable_id(c.doc_id, c.position))
    return cases if limit is None else cases[:limit]


def citation_cases(
    corpus_dir: str | os.PathLike[str],
    searcher: CitationSearcher,
    fraction: float = DEFAULT_VALIDATION_FRACTION,
    seed: int = DEFAULT_SPLIT_SEED,
    limit: int | None = None,
) -> list[Case]:
    """Citation cases from held-out documents whose target resolves to an index entry."""
    cases = []
    for doc in _held_out(corpus_dir, fraction, seed):
        spans, _ = find_citations(doc.text)
        for span in spans:
            entry = searcher.resolve(span.citation)
            context = context_before(doc.text, span.start, CONTEXT_CHARS)
            if entry is not None and context.strip():
                cases.append(Case(doc.id, span.start, context, entry.citation, entry.id))
    return _sample(cases, limit)


def formula_cases(
    corpus_dir: str | os.PathLike[str],
    fraction: float = DEFAULT_VALIDATION_FRACTION,
    seed: int = DEFAULT_SPLIT_SEED,
    limit: int | None = None,
    min_chars: int = 3,
) -> list[Case]:
    """Formula cases: valid formulas of at least ``min_chars`` normalised characters."""
    cases = []
    for doc in _held_out(corpus_dir, fraction, seed):
        spans, _ = find_math(doc.text)
        for span in spans:
            context = context_before(doc.text, span.start, CONTEXT_CHARS)
            if context.strip() and len(normalize_latex(span.latex)) >= min_chars and is_valid_latex(span.latex):
                cases.append(Case(doc.id, span.start, context, span.latex))
    return _sample(cases, limit)


def _score(
    method: str,
    cases: list[Case],
    answer: Callable[[Case], list[Answer]],
    hit: Callable[[Case, Answer], bool],
    k: int,
    extra: dict[str, Callable[[Case, list[Answer]], float]] | None = None,
    progress: bool = False,
) -> MethodScore:
    top1 = topk = answers = ungrounded = 0
    sums = {name: 0.0 for name in (extra or {})}
    for case in tqdm(cases, desc=method, unit="case", disable=not progress):
        got = answer(case)[:k]
        answers += len(got)
        ungrounded += sum(not a.grounded for a in got)
        top1 += bool(got) and hit(case, got[0])
        topk += any(hit(case, a) for a in got)
        for name, fn in (extra or {}).items():
            sums[name] += fn(case, got)
    n = max(1, len(cases))
    return MethodScore(
        method, len(cases), top1 / n, topk / n, ungrounded / answers if answers else 0.0, answers,
        {name: total / n for name, total in sums.items()},
    )


def evaluate_citations(
    searcher: CitationSearcher, cases: list[Case], methods: Iterable[str], k: int = 5, progress: bool = False
) -> list[MethodScore]:
    """accuracy@1 / @k and hallucination rate (answers matching no index entry) per method."""
    return [
        _score(m, cases, lambda c, m=m: searcher.search(c.context, k, m),
               lambda c, a: a.source.get("index_id") == c.target_id, k, progress=progress)
        for m in methods
    ]


def evaluate_formulas(
    searcher: FormulaSearcher, cases: list[Case], methods: Iterable[str], k: int = 5, progress: bool = False
) -> list[MethodScore]:
    """Exact (accuracy_*) and normalised-LaTeX matches @1 / @k, and validity, per method."""

    def normal_at(n: int) -> Callable[[Case, list[Answer]], float]:
        return lambda c, got: float(any(normalize_latex(a.text) == normalize_latex(c.target) for a in got[:n]))

    def valid(_: Case, got: list[Answer]) -> float:
        return sum(not a.problems for a in got) / len(got) if got else 0.0

    return [
        _score(m, cases, lambda c, m=m: searcher.search(c.context, k, m),
               lambda c, a: a.text.strip() == c.target.strip(), k,
               {"normalized_at_1": normal_at(1), "normalized_at_k": normal_at(k), "valid_rate": valid},
               progress=progress)
        for m in methods
    ]


def retrievable_formulas(searcher: FormulaSearcher, cases: list[Case]) -> int:
    """How many cases' formulas (normalised) occur among the formulas ``searcher`` may retrieve.

    Held-out documents are hidden from retrieval, so a held-out formula can only be
    retrieved when it recurs in a trained-on document: this count over the cases is
    the ceiling of formula retrieval's ``normalized_at_k``.
    """
    searchable = {f.normalized for f in searcher.formulas}
    return sum(normalize_latex(c.target) in searchable for c in cases)


def report(
    scores: list[MethodScore],
    cases: int,
    k: int,
    fraction: float,
    seed: int,
    formulas: bool = False,
    retrievable: int | None = None,
) -> dict[str, Any]:
    """The JSON form of an evaluation run.

    For formulas the ungrounded share is named ``not_in_index_rate``: a new formula
    can be right, so it is not called a hallucination there. ``retrievable`` (from
    :func:`retrievable_formulas`) adds ``retrievable_cases`` and ``retrieval_ceiling``,
    the share of cases retrieval could answer at all.
    """
    methods: dict[str, dict[str, Any]] = {}
    for s in scores:
        row: dict[str, Any] = {key: round(v, 6) if isinstance(v, float) else v
                               for key, v in asdict(s).items() if key not in ("method", "extra")}
        if formulas:
            row["not_in_index_rate"] = row.pop("hallucination_rate")
        methods[s.method] = row | {key: round(v, 6) for key, v in s.extra.items()}
    out = {"k": k, "split": {"validation_fraction": fraction, "seed": seed}, "cases": cases, "methods": methods}
    if retrievable is not None:
        out |= {"retrievable_cases": retrievable, "retrieval_ceiling": round(retrievable / cases, 6) if cases else 0.0}
    return out
