"""Sub-commands of the corpus stage: ``sciprep corpus build | stats | prompts``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION
from sciprep.execution.executor import add_executor_arguments, executor_from_args

_RECIPE_SUFFIXES = (".yaml", ".yml")


def _print_summary(manifest: dict[str, Any], out: str) -> None:
    for name, entry in manifest["sources"].items():
        counts = f"{entry['documents']:,} documents, {entry['rejected']:,} rejected"
        print(f"{name}: {counts}, weight {entry['weight']:g}")
    totals = manifest["totals"]
    print(f"wrote {out}: {totals['documents']:,} documents in shards/, {totals['rejected']:,} rejects")


def _build(args: argparse.Namespace) -> int:
    from sciprep.corpus.build import build_corpus
    from sciprep.corpus.recipe import load_recipe, recipe_for_paths

    inputs: list[str] = args.inputs
    recipes = [p for p in inputs if p.lower().endswith(_RECIPE_SUFFIXES)]
    if recipes and len(inputs) > 1:
        raise ValueError("give either one recipe file or input paths, not both")
    if recipes:
        if args.reader:
            raise ValueError("--reader applies to input paths; set reader: in the recipe instead")
        recipe = load_recipe(recipes[0])
    else:
        recipe = recipe_for_paths(inputs, reader=args.reader)
    with executor_from_args(args) as executor:
        manifest = build_corpus(recipe, args.out, progress=not args.no_progress, executor=executor)
    _print_summary(manifest, args.out)
    return 0


def _stats(args: argparse.Namespace) -> int:
    from sciprep.corpus.stats import corpus_stats, format_stats

    stats = corpus_stats(args.corpus, tokenizer=args.tokenizer)
    print(json.dumps(stats.to_dict(), indent=2, sort_keys=True) if args.json else format_stats(stats))
    return 0


def _prompts(args: argparse.Namespace) -> int:
    from sciprep.corpus.build import build_corpus
    from sciprep.corpus.recipe import Recipe, SourceSpec, valid_source_name

    if not valid_source_name(args.name):
        raise ValueError(f"--name {args.name!r}: use letters, digits, '_', '.', '-'")
    options: dict[str, Any] = {
        "template": args.template,
        "test_fraction": args.test_fraction,
        "seed": args.seed,
    }
    for key in ("question", "answer", "group_field"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.markup:
        options["markup"] = True
    spec = SourceSpec(name=args.name, paths=tuple(args.inputs), reader="prompts", options=options)
    manifest = build_corpus(
        Recipe(sources=(spec,), base_dir=Path.cwd()), args.out, progress=not args.no_progress
    )
    _print_summary(manifest, args.out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this stage's sub-commands to the top-level parser."""
    corpus = sub.add_parser("corpus", help="build a document corpus from scientific sources")
    commands = corpus.add_subparsers(dest="corpus_command", metavar="SUBCOMMAND", required=True)

    build = commands.add_parser(
        "build",
        help="build Parquet shards + manifest from a recipe or from paths",
        description="sciprep corpus build RECIPE.yaml --out DIR, or sciprep corpus build --out DIR PATH...",
    )
    build.add_argument(
        "inputs",
        nargs="+",
        metavar="RECIPE.yaml|PATH",
        help="a YAML recipe, or input files/directories/globs",
    )
    build.add_argument("--out", required=True, help="corpus directory to write (resumes if it exists)")
    build.add_argument("--reader", help="reader for all PATHs (default: detected per file)")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_executor_arguments(build)
    build.set_defaults(func=_build)

    stats = commands.add_parser("stats", help="documents, tokens by modality and source mix of a corpus")
    stats.add_argument("corpus", metavar="DIR")
    stats.add_argument("--tokenizer", help="tokenizer.json for exact token counts (default: estimate)")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.set_defaults(func=_stats)

    prompts = commands.add_parser(
        "prompts",
        help="turn a table (FreeSolv, Q/A CSV/JSONL) into prompt/answer records",
        description="sciprep corpus prompts freesolv.csv --out DIR --template freesolv",
    )
    prompts.add_argument("inputs", nargs="+", metavar="TABLE", help="CSV/TSV/JSONL files")
    prompts.add_argument("--out", required=True, help="corpus directory to write")
    prompts.add_argument("--template", default="qa", choices=("qa", "freesolv"))
    prompts.add_argument("--question", help="question template over the row's columns (qa)")
    prompts.add_argument("--answer", help="answer template over the row's columns (qa)")
    prompts.add_argument("--group-field", dest="group_field", help="column whose equal values share a split")
    prompts.add_argument(
        "--test-fraction",
        type=float,
        default=DEFAULT_VALIDATION_FRACTION,
        help="share of groups in the test split",
    )
    prompts.add_argument("--seed", type=int, default=DEFAULT_SPLIT_SEED, help="split seed")
    prompts.add_argument(
        "--markup", action="store_true", help="apply Galactica markup to prompts and answers"
    )
    prompts.add_argument("--name", default="prompts", help="source name (shard prefix)")
    prompts.add_argument("--no-progress", action="store_true", help="no progress bar")
    prompts.set_defaults(func=_prompts)
