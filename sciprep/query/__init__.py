"""Citation and formula queries grounded in the corpus.

Build an index (:func:`build_index`), load it (:class:`QueryIndex`) and a model
(:class:`LanguageModel`), then ask :class:`CitationSearcher` / :class:`FormulaSearcher`;
:mod:`sciprep.query.evaluation` measures them on held-out documents. torch is only
imported when a model is loaded.
"""

from sciprep.query.answers import Answer
from sciprep.query.bm25 import BM25
from sciprep.query.citation_search import CitationSearcher, CitationSettings, citation_prompt
from sciprep.query.decoding import (
    Hypothesis,
    NextTokenModel,
    beam_search,
    decode,
    sample_search,
    score_sequences,
)
from sciprep.query.evaluation import (
    Case,
    MethodScore,
    citation_cases,
    evaluate_citations,
    evaluate_formulas,
    formula_cases,
    retrievable_formulas,
)
from sciprep.query.formula_index import FormulaEntry
from sciprep.query.formula_search import FormulaSearcher, FormulaSettings, formula_prompt
from sciprep.query.index_store import QueryIndex, build_index
from sciprep.query.latex import is_valid_latex, latex_problems, normalize_latex
from sciprep.query.lm import LanguageModel
from sciprep.query.reference_index import CitationContext, ReferenceEntry
from sciprep.query.trie import TokenTrie

__all__ = [
    "Answer",
    "BM25",
    "Case",
    "CitationContext",
    "CitationSearcher",
    "CitationSettings",
    "FormulaEntry",
    "FormulaSearcher",
    "FormulaSettings",
    "Hypothesis",
    "LanguageModel",
    "MethodScore",
    "NextTokenModel",
    "QueryIndex",
    "ReferenceEntry",
    "TokenTrie",
    "beam_search",
    "build_index",
    "citation_cases",
    "citation_prompt",
    "decode",
    "evaluate_citations",
    "evaluate_formulas",
    "formula_cases",
    "formula_prompt",
    "is_valid_latex",
    "latex_problems",
    "normalize_latex",
    "retrievable_formulas",
    "sample_search",
    "score_sequences",
]
