"""Sub-commands of the query stage: ``query index``, ``ask``, ``eval citations|formulas``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION
from sciprep.query.citation_search import CITATION_METHODS as CITATION_CHOICES
from sciprep.query.formula_search import FORMULA_METHODS as FORMULA_CHOICES
from sciprep.tokenize.specials import START_MATH


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``query index``, ``ask`` and ``eval citations|formulas``."""
    query = sub.add_parser("query", help="build citation/formula indexes from a corpus")
    query_sub = query.add_subparsers(dest="query_command", metavar="SUBCOMMAND", required=True)
    index = query_sub.add_parser("index", help="reference + formula index of CORPUS_DIR")
    index.add_argument("corpus_dir", type=Path, metavar="CORPUS_DIR")
    index.add_argument("--out", type=Path, required=True, metavar="INDEX_DIR")
    index.add_argument("--no-progress", action="store_true", help="no progress bar")
    index.set_defaults(func=_index)

    ask = sub.add_parser("ask", help="answer a citation or formula query, grounded in the index")
    ask.add_argument("model_dir", type=Path, metavar="MODEL_DIR")
    ask.add_argument("query", metavar="QUERY", help="context ending in [START_REF], or a formula description")
    ask.add_argument("--index", type=Path, required=True, metavar="INDEX_DIR")
    ask.add_argument("--kind", choices=("citation", "formula"),
                     help="default: formula if QUERY ends in [START_MATH], else citation")
    ask.add_argument("-k", type=int, default=5, help="answers to return (default 5)")
    ask.add_argument("--method", help=f"citation: {'|'.join(CITATION_CHOICES)}; formula: "
                                      f"{'|'.join(FORMULA_CHOICES)} (default hybrid)")
    ask.add_argument("--beam", type=int, help="beam width (default: 8 citations, 5 formulas)")
    ask.add_argument("--max-tokens", type=int, help="generation limit (default: 96 citations, 128 formulas)")
    ask.add_argument("--json", action="store_true", help="print the answers as a JSON list")
    ask.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    ask.add_argument("--sample", type=int, metavar="N", help="sample N answers instead of beam search (needs --seed)")
    ask.add_argument("--seed", type=int, help="seed for --sample")
    ask.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    ask.set_defaults(func=_ask)

    eval_sub = _eval_subcommands(sub)
    for name, methods, what in (("citations", CITATION_CHOICES, "citation prediction (accuracy@1/@k, "
                                 "hallucination rate)"),
                                ("formulas", FORMULA_CHOICES, "formula recall (exact / normalised LaTeX)")):
        p = eval_sub.add_parser(name, help=f"held-out {what}")
        p.add_argument("--model", type=Path, required=True, metavar="MODEL_DIR")
        p.add_argument("--index", type=Path, required=True, metavar="INDEX_DIR")
        p.add_argument("--corpus", type=Path, metavar="CORPUS_DIR", help="default: the corpus the index was built from")
        p.add_argument("-k", type=int, default=5, help="accuracy@k cut-off (default 5)")
        p.add_argument("--methods", nargs="+", choices=methods, default=list(methods[1:]) + [methods[0]])
        p.add_argument("--limit", type=int, help="evaluate at most this many cases (deterministic sample)")
        p.add_argument("--beam", type=int, help="beam width (default: 8 citations, 5 formulas)")
        p.add_argument("--max-tokens", type=int, help="generation limit (default: 96 citations, 128 formulas)")
        p.add_argument("--fraction", type=float, help="validation fraction (default: the one recorded in "
                       f"MODEL_DIR/sciprep_training.json, else {DEFAULT_VALIDATION_FRACTION})")
        p.add_argument("--seed", type=int, help="validation split seed (default: the recorded one, "
                       f"else {DEFAULT_SPLIT_SEED})")
        p.add_argument("--out", type=Path, metavar="FILE", help="also write the JSON report here")
        p.add_argument("--json", action="store_true", help="print the report as JSON")
        p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
        p.add_argument("--no-progress", action="store_true", help="no progress bars (model loading included)")
        p.set_defaults(func=_eval, eval_kind=name)


def _eval_subcommands(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """The sub-commands of ``eval``; joins them when another stage registered ``eval`` first."""
    existing = sub.choices.get("eval")
    if existing is None:
        parser = sub.add_parser("eval", help="held-out evaluation of citation and formula answers")
        return parser.add_subparsers(dest="eval_command", metavar="SUBCOMMAND", required=True)
    for action in existing._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return existing.add_subparsers(dest="eval_command", metavar="SUBCOMMAND", required=True)


def _index(args: argparse.Namespace) -> int:
    from sciprep.query.index_store import build_index

    manifest = build_index(args.corpus_dir, args.out, progress=not args.no_progress)
    counts = manifest["counts"]
    print(
        f"indexed {counts['documents']} documents: {counts['references']} references "
        f"({counts['citable_references']} citable, {counts['citation_contexts']} contexts), "
        f"{counts['formulas_indexed']} formulas ({counts['formulas_valid']} valid), "
        f"{counts['rejects']} rejects -> {args.out}"
    )
    return 0


def _load(model_dir: Path, need: bool, threads: int | None, progress: bool = True) -> Any:
    """The model when the chosen methods need one (retrieval alone does not).

    With ``progress`` off, transformers' weight-loading bar is off too, for this load only.
    """
    if not need:
        return None
    import torch
    from transformers.utils import logging as hf_logging

    from sciprep.query.lm import LanguageModel

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    bars_were_on = hf_logging.is_progress_bar_enabled()
    if not progress:
        hf_logging.disable_progress_bar()
    try:
        return LanguageModel.load(model_dir)
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()


def _decoding(args: argparse.Namespace) -> dict[str, int]:
    """The decoding settings given on the command line (absent ones keep their defaults)."""
    given = {"beam": args.beam, "max_tokens": args.max_tokens}
    for name, value in given.items():
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    return {name: value for name, value in given.items() if value is not None}


def _ask(args: argparse.Namespace) -> int:
    from sciprep.query.citation_search import CitationSearcher, CitationSettings
    from sciprep.query.formula_search import FormulaSearcher, FormulaSettings
    from sciprep.query.index_store import QueryIndex

    kind = args.kind or ("formula" if args.query.rstrip().endswith(START_MATH) else "citation")
    method = args.method or "hybrid"
    choices = CITATION_CHOICES if kind == "citation" else FORMULA_CHOICES
    if method not in choices:
        raise ValueError(f"--method {method!r} is not a {kind} method; choose from {', '.join(choices)}")
    if args.k < 1:
        raise ValueError(f"-k must be at least 1, got {args.k}")
    index = QueryIndex.load(args.index)
    lm = _load(args.model_dir, method != "retrieval", args.threads)
    if args.sample is not None and (args.sample < 1 or args.seed is None):
        raise ValueError("--sample N needs N >= 1 and a --seed, so the answers can be reproduced")
    sampling = {"samples": args.sample or 0, "seed": args.seed, "temperature": args.temperature}
    if kind == "citation":
        searcher: Any = CitationSearcher(index, lm, CitationSettings(**_decoding(args), **sampling))
    else:
        searcher = FormulaSearcher(index, lm, FormulaSettings(**_decoding(args), **sampling))
    answers = searcher.search(args.query, args.k, method)
    if args.json:
        print(json.dumps([a.to_json() for a in answers], indent=2, ensure_ascii=False))
        return 0
    if not answers:
        print("no answer found in the index", file=sys.stderr)
        return 1
    for rank, a in enumerate(answers, 1):
        where = ", ".join(f"{key}={a.source[key]}" for key in ("index_id", "doi", "arxiv_id", "pmid", "doc_id")
                          if a.source.get(key))
        flags = "" if a.grounded else "  [not in index]"
        flags += f"  [invalid: {'; '.join(a.problems)}]" if a.problems else ""
        print(f"{rank}. {a.text}\n   confidence {a.confidence:.3f}  score {a.score:.4f}  {where or 'no source'}{flags}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from sciprep.atomicio import write_json_atomic
    from sciprep.corpus.splits import is_validation
    from sciprep.query.citation_search import CitationSearcher, CitationSettings
    from sciprep.query.evaluation import (
        citation_cases,
        evaluate_citations,
        evaluate_formulas,
        formula_cases,
        held_out_rule,
        report,
        retrievable_formulas,
    )
    from sciprep.query.formula_search import FormulaSearcher, FormulaSettings
    from sciprep.query.index_store import QueryIndex

    for flag, value in (("-k", args.k), ("--limit", args.limit)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be at least 1, got {value}")
    args.fraction, args.seed, warnings = held_out_rule(args.model, args.fraction, args.seed)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    index = QueryIndex.load(args.index)
    corpus = args.corpus or index.manifest.get("corpus")
    if not corpus:
        raise ValueError(f"{args.index}: index does not record its corpus; pass --corpus CORPUS_DIR")
    progress = not (args.json or args.no_progress)
    lm = _load(args.model, any(m != "retrieval" for m in args.methods), args.threads, progress)

    def hide(doc_id: str) -> bool:
        return is_validation(doc_id, args.fraction, args.seed)

    retrievable = None
    if args.eval_kind == "citations":
        c_searcher = CitationSearcher(index, lm, CitationSettings(**_decoding(args)), hide_doc=hide)
        cases = citation_cases(corpus, c_searcher, args.fraction, args.seed, args.limit)
        scores = evaluate_citations(c_searcher, cases, args.methods, args.k, progress)
    else:
        f_searcher = FormulaSearcher(index, lm, FormulaSettings(**_decoding(args)), hide_doc=hide)
        cases = formula_cases(corpus, args.fraction, args.seed, args.limit)
        retrievable = retrievable_formulas(f_searcher, cases)
        scores = evaluate_formulas(f_searcher, cases, args.methods, args.k, progress)
    result = report(scores, len(cases), args.k, args.fraction, args.seed, args.eval_kind == "formulas", retrievable)
    if args.out:
        write_json_atomic(args.out, result)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    if not cases:
        print(f"no held-out {args.eval_kind} cases in {corpus} (validation fraction {args.fraction})")
        return 0
    print(f"{len(cases)} held-out {args.eval_kind} cases, k={args.k}")
    if retrievable is not None:
        print(f"  {retrievable} of them also occur in non-held-out documents (retrieval ceiling "
              f"{result['retrieval_ceiling']:.3f}; held-out documents are hidden from retrieval)")
    for method, row in result["methods"].items():
        cells = "  ".join(f"{key}={value:.3f}" for key, value in row.items() if isinstance(value, float))
        print(f"  {method:<14} {cells}")
    return 0
