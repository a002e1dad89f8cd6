"""Sub-commands of the training stage: ``sciprep train pack|pretrain|tune|plot``."""

from __future__ import annotations

import argparse
import json
import os

from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION
from sciprep.training.config import PretrainConfig, TuneConfig, add_config_flags


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this stage's sub-commands to the top-level parser."""
    train = sub.add_parser("train", help="pack tokens, pretrain, tune and plot science LMs")
    commands = train.add_subparsers(dest="train_command", metavar="STEP", required=True)

    pack = commands.add_parser("pack", help="tokenise a corpus directory into memory-mapped token files")
    pack.add_argument("corpus", metavar="CORPUS_DIR")
    pack.add_argument("--tokenizer", required=True, metavar="DIR", help="a saved SciTokenizer")
    pack.add_argument("--out", required=True, metavar="DIR")
    pack.add_argument("--val-fraction", type=float, default=DEFAULT_VALIDATION_FRACTION)
    pack.add_argument("--split-seed", type=int, default=DEFAULT_SPLIT_SEED)
    pack.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
    pack.set_defaults(func=_pack)

    pretrain = commands.add_parser(
        "pretrain", help="pretrain a preset model on packed tokens (every config key is also a flag)"
    )
    pretrain.add_argument("config", nargs="?", metavar="CONFIG.yaml")
    add_config_flags(pretrain, PretrainConfig)
    pretrain.set_defaults(func=_pretrain)

    tune = commands.add_parser("tune", help="tune a model on prompt records (loss on answers only)")
    tune.add_argument("config", nargs="?", metavar="CONFIG.yaml")
    add_config_flags(tune, TuneConfig)
    tune.set_defaults(func=_tune)

    plot = commands.add_parser("plot", help="PNG of train/validation loss vs tokens and epochs")
    plot.add_argument("run_dir", metavar="RUN_DIR")
    plot.add_argument("--out", metavar="PNG", help="default: RUN_DIR/loss.png")
    plot.set_defaults(func=_plot)


def _pack(args: argparse.Namespace) -> int:
    from sciprep.training.packing import pack_corpus

    meta = pack_corpus(args.corpus, args.tokenizer, args.out, args.val_fraction, args.split_seed,
                       progress=args.progress)  # fmt: skip
    splits = {n: {"documents": s["documents"], "tokens": s["tokens"]} for n, s in meta["splits"].items()}
    report = {"out": args.out, "splits": splits, "documents_in": meta["documents_in"],
              "held_out_prompts": meta["held_out_prompts"], "rejected": meta["rejected"]}  # fmt: skip
    print(json.dumps(report, indent=2))
    return 0


def _report(state: dict[str, object], out: str) -> int:
    """One line on how the run ended (printed by the first process only under torchrun)."""
    if os.environ.get("RANK", "0") != "0":
        return 0
    if state.get("stopped"):
        print(f"stopped at step {state['step']} ({state['stopped']}); rerun the same command to resume")
    else:
        print(f"finished: model in {out}/model, summary in {out}/summary.json")
    return 0


def _pretrain(args: argparse.Namespace) -> int:
    from sciprep.training.config import flags_from_namespace, load_config
    from sciprep.training.distributed import shutdown_distributed
    from sciprep.training.pretrain import pretrain

    cfg = load_config(PretrainConfig, args.config, flags_from_namespace(args))
    try:
        return _report(pretrain(cfg), cfg.out)
    finally:
        shutdown_distributed()


def _tune(args: argparse.Namespace) -> int:
    from sciprep.training.config import flags_from_namespace, load_config
    from sciprep.training.distributed import shutdown_distributed
    from sciprep.training.tune import tune

    cfg = load_config(TuneConfig, args.config, flags_from_namespace(args))
    try:
        return _report(tune(cfg), cfg.out)
    finally:
        shutdown_distributed()


def _plot(args: argparse.Namespace) -> int:
    from sciprep.training.plot import plot_run

    print(plot_run(args.run_dir, args.out))
    return 0
