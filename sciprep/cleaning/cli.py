"""Sub-commands of the cleaning stage: ``sciprep clean`` and ``sciprep dedup-threshold``."""

from __future__ import annotations

import argparse
import sys

import yaml

from sciprep.execution.executor import add_executor_arguments, executor_from_args


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this stage's sub-commands to the top-level parser."""
    parser = sub.add_parser(
        "clean",
        help="clean a corpus directory: normalise, filter, redact PII, decontaminate, dedup",
        description=(
            "Clean a corpus directory (DIR/shards/*.parquet) into another in the same format, "
            "plus OUT/excluded/ (every removed document with step, reason, score) and "
            "OUT/report.json. Without --config the default science pipeline runs. Rerunning "
            "the same command resumes; after changing thresholds, add --redecide to re-decide "
            "from the stored attributes."
        ),
    )
    parser.add_argument(
        "--config", metavar="CONFIG.yaml", help="pipeline YAML (default: the built-in science pipeline)"
    )
    parser.add_argument("--in", dest="in_dir", metavar="DIR", help="input corpus directory")
    parser.add_argument("--out", dest="out_dir", metavar="DIR", help="output directory")
    parser.add_argument(
        "--redecide",
        action="store_true",
        help="OUT holds an earlier run with other settings: redo decisions and outputs, reusing stored attributes",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_executor_arguments(parser)
    parser.add_argument("--print-config", action="store_true", help="print the pipeline as YAML and exit")
    parser.add_argument(
        "--list-steps", action="store_true", help="list the available steps with their parameters and exit"
    )
    parser.set_defaults(func=_clean)

    from sciprep.cleaning import lsh

    threshold = sub.add_parser(
        "dedup-threshold",
        help="MinHash-LSH calculator: the S-curve point of a bands x rows choice",
        description="Print the similarity at which a pair becomes an LSH candidate with "
        "probability 1/2, (1/b)^(1/r), and the probability curve around it.",
    )
    lsh.add_threshold_arguments(threshold)
    threshold.set_defaults(func=lsh.threshold_command)


def _clean(args: argparse.Namespace) -> int:
    from sciprep.cleaning.config import default_pipeline, load_pipeline
    from sciprep.cleaning.report import format_table
    from sciprep.cleaning.steps import STEPS, get_step

    if args.list_steps:
        get_step("normalise")  # loads the built-in steps
        for name in sorted(STEPS):
            cls = STEPS[name]
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            print(f"{name} ({cls.scope}): {doc}")
            for key, value in cls.Params().to_mapping().items():
                print(f"    {key}: {value!r}")
        return 0
    pipeline = load_pipeline(args.config) if args.config else default_pipeline()
    if args.print_config:
        keys = ("step", "label", "kinds", "exclude_kinds", "params")
        steps = [{k: d[k] for k in keys if k in d} for d in pipeline.describe()]
        print(yaml.safe_dump({"seed": pipeline.seed, "steps": steps}, sort_keys=False), end="")
        return 0
    if not args.in_dir or not args.out_dir:
        raise ValueError("sciprep clean needs --in DIR and --out DIR")
    with executor_from_args(args) as executor:
        progress = not args.no_progress
        report = pipeline.run(
            args.in_dir, args.out_dir, redecide=args.redecide, progress=progress, log=print, executor=executor
        )
    print(format_table(report))
    for entry in report["steps"]:
        if entry.get("evaluation", {}).get("items") == 0:
            print(
                f"note: {entry['label']}: the evaluation set is empty (no test-split prompt records in the "
                "input); set its eval_path parameter to decontaminate against another set",
                file=sys.stderr,
            )
    print(f"wrote {args.out_dir}/shards/, excluded/, rejects.parquet, report.json, manifest.json", file=sys.stderr)
    return 0
