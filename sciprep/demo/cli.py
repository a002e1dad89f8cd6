"""``sciprep demo``: its flags, and the ``--quick`` budget used in CI."""

from __future__ import annotations

import argparse
import dataclasses


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``sciprep demo``."""
    from sciprep.demo.flow import QUICK, DemoSettings

    full = DemoSettings()
    parser = sub.add_parser(
        "demo",
        help="run the whole flow on the built-in demo corpus and write DIR/report.html",
        description="Build a corpus from the documents shipped with sciprep and RDKit's NCI molecules, clean "
        "it, train a tokenizer, pretrain a tiny model for several epochs, tune it on prompts, answer citation "
        "and formula queries, and write DIR/report.html. Every stage's output stays in DIR in its normal "
        "format. Rerunning into the same DIR resumes.",
    )
    parser.add_argument("--out", default="demo-run", help="output directory (default: demo-run)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smaller budget for CI: {QUICK.molecules} NCI molecules, {QUICK.epochs} pretraining "
                             f"epochs, {QUICK.tune_epochs} tuning epoch")  # fmt: skip
    parser.add_argument("--epochs", type=int, help=f"pretraining epochs (default {full.epochs})")
    parser.add_argument("--tune-epochs", type=int, help=f"prompt-tuning epochs (default {full.tune_epochs})")
    parser.add_argument("--molecules", type=int,
                        help=f"NCI molecules from RDKit added to the corpus (default {full.molecules}; 0 for none)")
    parser.add_argument("--vocab-size", type=int, help=f"tokenizer vocabulary size (default {full.vocab_size})")
    parser.add_argument("--threads", type=int, help=f"torch CPU threads for the model stages (default {full.threads})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=_handle)


def _handle(args: argparse.Namespace) -> int:
    from sciprep.demo.flow import QUICK, DemoSettings, run_demo

    settings = QUICK if args.quick else DemoSettings()
    given = {"epochs": args.epochs, "tune_epochs": args.tune_epochs, "molecules": args.molecules,
             "vocab_size": args.vocab_size, "threads": args.threads}  # fmt: skip
    for name, value in given.items():
        if value is not None and value < (0 if name == "molecules" else 1):
            raise ValueError(f"--{name.replace('_', '-')} must be at least {0 if name == 'molecules' else 1}, "
                             f"got {value}")  # fmt: skip
    changes = {name: value for name, value in given.items() if value is not None}
    settings = dataclasses.replace(settings, progress=not args.no_progress, **changes)
    return run_demo(args.out, settings)
