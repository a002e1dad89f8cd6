"""Sub-commands of the tokenize stage: ``sciprep tokenizer train`` and ``sciprep tokenize``."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this stage's sub-commands to the top-level parser."""
    family = sub.add_parser("tokenizer", help="train the modality-aware BPE tokenizer")
    family_sub = family.add_subparsers(dest="tokenizer_command", metavar="SUBCOMMAND", required=True)
    train = family_sub.add_parser(
        "train",
        help="train a tokenizer on JSONL / Parquet / text files or corpus directories",
        description="Train Galactica-style byte-level BPE on a seeded sample of the texts and "
        "write tokenizer.json plus the transformers config files to --out.",
    )
    train.add_argument(
        "files", nargs="+", metavar="FILES", help="*.jsonl[.gz], *.parquet, corpus dirs, text files"
    )
    train.add_argument("--out", required=True, help="output directory")
    train.add_argument("--vocab-size", type=int, default=50_000, help="vocabulary size (default 50000)")
    train.add_argument(
        "--sample-fraction", type=float, default=0.02, help="fraction of documents sampled (default 0.02)"
    )
    train.add_argument(
        "--min-sample-docs", type=int, default=None, help="minimum documents sampled (default 10000)"
    )
    train.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    train.add_argument(
        "--smiles", choices=("char", "atom"), default="char", help="SMILES split: per character or per atom"
    )
    train.add_argument("--text-field", default="text", help="JSON field / Parquet column holding the text")
    train.add_argument("--wrap", action="store_true", help="detect and mark up modalities first (raw text)")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    train.set_defaults(func=_train)

    apply = sub.add_parser(
        "tokenize",
        help="tokenize stdin with a trained tokenizer",
        description="Read text from stdin and print its tokens and ids as JSON.",
    )
    apply.add_argument("--tokenizer", required=True, help="directory written by `sciprep tokenizer train`")
    apply.add_argument("--wrap", action="store_true", help="detect and mark up modalities first")
    apply.add_argument(
        "--format", choices=("json", "ids", "tokens"), default="json", help="output format (default json)"
    )
    apply.set_defaults(func=_tokenize)


def _train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sciprep.tokenize.inputs import iter_texts
    from sciprep.tokenize.tokenizer import DEFAULT_MIN_SAMPLE_DOCS, SciTokenizer
    from sciprep.tokenize.wrap import wrap

    texts = tqdm(iter_texts(args.files, args.text_field), desc="reading", unit="doc", file=sys.stderr,
                 disable=args.no_progress)
    if args.wrap:
        texts = (wrap(t) for t in texts)
    tok = SciTokenizer(smiles=args.smiles).train(
        texts,
        vocab_size=args.vocab_size,
        sample_fraction=args.sample_fraction,
        seed=args.seed,
        min_sample_docs=DEFAULT_MIN_SAMPLE_DOCS if args.min_sample_docs is None else args.min_sample_docs,
        show_progress=sys.stderr.isatty() and not args.no_progress,
    )
    out = tok.save(args.out)
    print(
        f"wrote {out} (vocabulary {tok.vocab_size}, {tok.info['sample_docs']} documents sampled)",
        file=sys.stderr,
    )
    if tok.vocab_size < args.vocab_size:
        print(
            f"warning: only {tok.vocab_size} of the {args.vocab_size} requested ids were learned; "
            "the sample is too small for that vocabulary (add text or raise --sample-fraction)",
            file=sys.stderr,
        )
    return 0


def _tokenize(args: argparse.Namespace) -> int:
    from sciprep.tokenize.tokenizer import SciTokenizer
    from sciprep.tokenize.wrap import wrap

    tok = SciTokenizer.load(args.tokenizer)
    text = sys.stdin.read()
    if args.wrap:
        text = wrap(text)
    try:
        ids = tok.encode(text)
    except ValueError as err:
        print(f"error: stdin: {err}", file=sys.stderr)
        return 2
    if args.format == "ids":
        print(" ".join(map(str, ids)))
    elif args.format == "tokens":
        print(json.dumps([tok.decode([i]) for i in ids], ensure_ascii=False))
    else:
        print(json.dumps({"ids": ids, "tokens": [tok.decode([i]) for i in ids]}, ensure_ascii=False))
    return 0
