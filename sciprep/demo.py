"""``sciprep demo``: the whole flow, end to end, on the built-in demo corpus.

The demo drives each stage through its own command, exactly as a user would, so it
doubles as a worked example: every intermediate directory it writes (corpus, cleaned
corpus, tokenizer, packed tokens, run, index) can be opened and rerun alone. It ships
its own small corpus (``sciprep/demo/``), so it needs no download and no shared data.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent / "demo"
RECIPE = DEMO_DIR / "recipe.yaml"

CITATION_QUERY = "The vacuum solution of Einstein's field equations was found by [START_REF]"
FORMULA_QUERY = "the Schwarzschild radius"


def demo_commands(out: Path, epochs: int, vocab_size: int) -> list[list[str]]:
    """The stage commands the demo runs, in order (printed before each runs)."""
    corpus, clean, tok = out / "corpus", out / "clean", out / "tokenizer"
    packed, run, index = out / "packed", out / "run", out / "index"
    model = run / "model"
    return [
        ["corpus", "build", str(RECIPE), "--out", str(corpus)],
        ["clean", "--in", str(corpus), "--out", str(clean)],
        ["tokenizer", "train", str(clean), "--out", str(tok), "--vocab-size", str(vocab_size)],
        ["train", "pack", str(clean), "--tokenizer", str(tok), "--out", str(packed),
         "--val-fraction", "0.2"],
        ["train", "pretrain", "--data", str(packed), "--out", str(run), "--preset", "tiny",
         "--epochs", str(epochs), "--seed", "0", "--context-length", "128"],
        ["query", "index", str(clean), "--out", str(index)],
        ["ask", str(model), CITATION_QUERY, "--index", str(index), "--kind", "citation", "-k", "3"],
        ["ask", str(model), FORMULA_QUERY, "--index", str(index), "--kind", "formula", "-k", "3"],
    ]  # fmt: skip


def run_demo(
    out: Path, epochs: int = 3, vocab_size: int = 1000, main: Callable[[Sequence[str]], int] | None = None
) -> int:
    """Run every stage into ``out``; stop at the first failing stage and return its code."""
    if main is None:
        from sciprep.cli import main as cli_main

        main = cli_main
    out.mkdir(parents=True, exist_ok=True)
    for argv in demo_commands(out, epochs, vocab_size):
        print(f"\n$ sciprep {shlex.join(argv)}", flush=True)
        code = main(argv)
        if code:
            print(f"sciprep demo: stage `{argv[0]}` failed with exit code {code}", file=sys.stderr)
            return code
    print(f"\nDemo finished; every stage's output is under {out}/")
    return 0


def _handle(args: argparse.Namespace) -> int:
    return run_demo(Path(args.out), epochs=args.epochs, vocab_size=args.vocab_size)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``sciprep demo``."""
    parser = sub.add_parser(
        "demo",
        help="run the whole flow on the built-in demo corpus",
        description="Build, clean, tokenize, pretrain a tiny model and answer a citation "
        "and a formula query, on the corpus shipped with sciprep.",
    )
    parser.add_argument("--out", default="demo-run", help="output directory (default: demo-run)")
    parser.add_argument("--epochs", type=int, default=3, help="pretraining epochs (default 3)")
    parser.add_argument("--vocab-size", type=int, default=1000, help="tokenizer vocabulary size")
    parser.set_defaults(func=_handle)
