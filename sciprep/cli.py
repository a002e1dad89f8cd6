"""The ``sciprep`` command: one sub-command family per stage.

Each stage owns its sub-commands in ``sciprep/<stage>/cli.py`` (a ``register``
function adding parsers whose ``func`` returns an exit code), so this file only
assembles them. Heavy libraries (torch, transformers) are imported inside the
handlers, which keeps ``sciprep --help`` fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sciprep import __version__
from sciprep.cleaning import cli as cleaning_cli
from sciprep.corpus import cli as corpus_cli
from sciprep import demo
from sciprep.query import cli as query_cli
from sciprep.tokenize import cli as tokenize_cli
from sciprep.training import cli as training_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sciprep",
        description="Scientific sources -> clean corpus -> tokenizer -> science LM -> grounded answers.",
    )
    parser.add_argument("--version", action="version", version=f"sciprep {__version__}")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on an input error, show the full traceback instead of one line",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (corpus_cli, cleaning_cli, tokenize_cli, training_cli, query_cli, demo):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError) as err:
        # The library's contract: bad input (a missing file, a malformed recipe or config,
        # an unknown name) raises one of these with a message naming the culprit, so the
        # user gets that one line. Anything else is a bug and keeps its traceback;
        # --traceback shows it for these too.
        if args.traceback:
            raise
        # Notes say where the error arose (which pass, which task); they belong to the line.
        notes = "".join(f" ({note})" for note in getattr(err, "__notes__", ()))
        print(f"sciprep: error: {err}{notes}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
