"""The demo's stage sequence: each stage's command, then its headline figures.

Stages run through :func:`sciprep.cli.main` with the arguments a user would type (each
printed as ``$ sciprep ...`` before it runs), so their progress bars, messages and
outputs are the real ones. After each stage its figures are read back from the files it
wrote (:mod:`sciprep.demo.figures`) and summarised; at the end they go to
``DIR/figures.json`` and ``DIR/report.html``.

Rerunning into the same directory with the same settings lets every stage resume (a
finished stage does nothing or redoes its work to the same bytes); with other settings
the demo's earlier outputs are removed first, because several stages refuse, rightly,
to continue a run made with different settings. A directory that holds anything but a
demo run is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sciprep.atomicio import write_json_atomic, write_text_atomic
from sciprep.demo import figures as fig
from sciprep.demo.headlines import HEADLINES
from sciprep.demo.inputs import INPUTS_DIR, RECIPE_FILE, write_recipe
from sciprep.tokenize.specials import START_REF

#: Citation queries: context ending in ``[START_REF]``, answered from the corpus's references.
CITATION_QUERIES: tuple[str, ...] = (
    f"The vacuum solution of Einstein's field equations for a static spherical mass was found by {START_REF}",
    f"The first codon assignment, UUU for phenylalanine, came from translating poly-U RNA {START_REF}",
    f"The plot of reciprocal rate against reciprocal substrate concentration {START_REF}",
)
#: Formula queries: a description, answered with formulas of the corpus.
FORMULA_QUERIES: tuple[str, ...] = (
    "the Schwarzschild radius",
    "the Michaelis-Menten initial rate",
    "the energies of the oscillator levels",
)
ANSWERS_PER_QUERY = 3
SETTINGS_FILE = "demo.json"


@dataclass(frozen=True)
class DemoSettings:
    """What the demo trains and how long; the defaults finish well under a minute on an idle 2-core CPU.

    ``threads`` is torch's CPU thread count for every model stage: the tiny model's
    operations are too small to gain from more, and on a busy machine extra threads
    mostly wait on each other.
    """

    epochs: int = 4
    tune_epochs: int = 30
    tune_lr: float = 2e-3
    molecules: int = 200
    vocab_size: int = 1800
    context_length: int = 128
    val_fraction: float = 0.2
    eval_limit: int = 20
    queries_per_kind: int = 3
    threads: int = 1
    progress: bool = True

    def fingerprint(self) -> dict[str, Any]:
        """The settings that change outputs (progress bars do not)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "progress"}


#: The CI budget (``--quick``): fewer molecules, epochs and evaluation cases.
QUICK = DemoSettings(epochs=2, tune_epochs=1, molecules=40, vocab_size=1000, eval_limit=3, queries_per_kind=1)


#: Every file and folder the demo writes in its directory, by layout name.
OUTPUTS: dict[str, str] = {
    "corpus": "corpus", "clean": "clean", "tokenizer": "tokenizer", "packed": "packed", "run": "run",
    "tuned": "tuned", "index": "index", "answers": "answers", "eval": "eval", "report": "report.html",
    "figures": "figures.json", "timings": "timings.json", "recipe": RECIPE_FILE, "inputs": INPUTS_DIR,
    "settings": SETTINGS_FILE,
}  # fmt: skip


@dataclass(frozen=True)
class DemoLayout:
    """Where each stage writes inside the demo directory (names as in :data:`OUTPUTS`)."""

    root: Path

    def path(self, name: str) -> Path:
        """The path of output ``name``; KeyError for a name not in :data:`OUTPUTS`."""
        return self.root / OUTPUTS[name]

    corpus = property(lambda self: self.path("corpus"))
    clean = property(lambda self: self.path("clean"))
    tokenizer = property(lambda self: self.path("tokenizer"))
    packed = property(lambda self: self.path("packed"))
    run = property(lambda self: self.path("run"))
    tuned = property(lambda self: self.path("tuned"))
    index = property(lambda self: self.path("index"))
    answers = property(lambda self: self.path("answers"))
    eval = property(lambda self: self.path("eval"))
    report = property(lambda self: self.path("report"))
    figures = property(lambda self: self.path("figures"))
    timings = property(lambda self: self.path("timings"))
    settings = property(lambda self: self.path("settings"))


#: Commands whose first argument is a sub-command (``train pack``, ``corpus build``, ...).
_COMMAND_GROUPS = ("corpus", "train", "tokenizer", "query", "eval")


def stage_name(argv: Sequence[str]) -> str:
    """The command a stage runs, without its arguments: ``train pack``, ``clean``, ``ask``."""
    return " ".join(argv[:2]) if argv[0] in _COMMAND_GROUPS else argv[0]


class StageFailed(RuntimeError):
    """A stage command returned a non-zero exit code."""

    def __init__(self, argv: Sequence[str], code: int) -> None:
        super().__init__(f"stage `sciprep {stage_name(argv)}` failed with exit code {code}")
        self.code = code


#: What ``demo.json`` must hold besides the settings for the demo to treat a folder as its own.
MARKER_FORMAT = "sciprep-demo"
MARKER_VERSION = 1


def settings_marker(settings: DemoSettings) -> dict[str, Any]:
    """The content of ``DIR/demo.json``: a recognisable format tag, its version and the run's settings."""
    return {"format": MARKER_FORMAT, "version": MARKER_VERSION, "settings": settings.fingerprint()}


def _read_marker(marker: Path) -> dict[str, Any] | None:
    """``marker``'s content when it is a demo marker (format, version, settings and nothing else), else None."""
    try:
        content = json.loads(marker.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{marker}: not a `sciprep demo` settings file ({err}); pick a new or empty --out, "
                         "or remove the file") from err  # fmt: skip
    recognised = (isinstance(content, dict) and set(content) == {"format", "version", "settings"}
                  and content["format"] == MARKER_FORMAT and content["version"] == MARKER_VERSION
                  and isinstance(content["settings"], dict))  # fmt: skip
    return content if recognised else None


def prepare_directory(layout: DemoLayout, settings: DemoSettings) -> None:
    """Make ``layout.root`` ready: new, or an earlier demo run (cleared if its settings differ).

    A folder counts as an earlier demo run only when its ``demo.json`` is the demo's own
    marker (:func:`settings_marker`); any other non-empty folder is refused, so a user's
    files are never removed. An output path that is a symbolic link is refused before
    anything is deleted, since the stages would write, or the clean-up delete, through it.
    """
    root = layout.root
    if root.exists() and not root.is_dir():
        raise ValueError(f"{root}: exists and is not a directory; pick another --out")
    marker = layout.settings
    if root.is_dir() and any(root.iterdir()):
        content = _read_marker(marker) if marker.is_file() and not marker.is_symlink() else None
        if content is None:
            raise ValueError(f"{root}: not empty and not a `sciprep demo` directory (no {SETTINGS_FILE} written "
                             f"by sciprep demo); pick a new or empty --out")  # fmt: skip
        links = [layout.path(name) for name in OUTPUTS if layout.path(name).is_symlink()]
        if links:
            raise ValueError(f"{root}: {', '.join(str(p) for p in links)} is a symbolic link, not an output "
                             "the demo wrote; remove it or pick a new --out")  # fmt: skip
        if content != settings_marker(settings):
            print(f"sciprep demo: {root} holds a run with other settings; removing its outputs", flush=True)
            for name in OUTPUTS:
                path = layout.path(name)
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
    root.mkdir(parents=True, exist_ok=True)
    write_json_atomic(marker, settings_marker(settings))


class _Runner:
    """Runs stage commands, times them and prints their headlines."""

    def __init__(self, main: Callable[[Sequence[str]], int], progress: bool) -> None:
        self.main = main
        self.progress = progress
        self.timings: dict[str, float] = {}
        self.figures: dict[str, Any] = {}

    def command(self, argv: list[str], capture: Path | None = None) -> None:
        print(f"\n$ sciprep {shlex.join(argv)}", flush=True)
        started = time.perf_counter()
        if capture is None:
            code = self.main(argv)
        else:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                code = self.main(argv)
            if code == 0:
                write_text_atomic(capture, buffer.getvalue())
        key = stage_name(argv)
        self.timings[key] = round(self.timings.get(key, 0.0) + time.perf_counter() - started, 3)
        sys.stdout.flush()
        if code:
            raise StageFailed(argv, code)

    def no_progress(self) -> list[str]:
        """``--no-progress`` when progress bars are off (every stage that has bars takes it)."""
        return [] if self.progress else ["--no-progress"]

    def headline(self, stage: str, figures: Any) -> None:
        self.figures[stage] = figures
        print(f"\n== {stage} ==\n{HEADLINES[stage](figures)}", flush=True)


@contextlib.contextmanager
def _no_weight_loading_bars() -> Iterator[None]:
    """Turn off transformers' per-load "Loading weights" bar while the demo runs.

    The demo loads its tiny model a dozen times (each ``ask``, evaluation, held-out
    answers); a bar per load buries the stages' own output. The setting is restored after.
    """
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def run_demo(out: str | Path, settings: DemoSettings = DemoSettings(),
             main: Callable[[Sequence[str]], int] | None = None) -> int:  # fmt: skip
    """Run every stage into ``out``; return 0, or the exit code of the first failing stage."""
    if main is None:
        from sciprep.cli import main as cli_main

        main = cli_main
    layout = DemoLayout(Path(out).resolve())
    prepare_directory(layout, settings)
    runner = _Runner(main, settings.progress)
    started = time.perf_counter()
    try:
        with _no_weight_loading_bars():
            _stages(layout, settings, runner)
    except StageFailed as err:
        print(f"sciprep demo: {err}", file=sys.stderr)
        return err.code
    from sciprep.demo.report_html import write_report

    write_json_atomic(layout.figures, runner.figures)
    write_report(layout.report, runner.figures, layout)
    runner.timings["total"] = round(time.perf_counter() - started, 3)
    write_json_atomic(layout.timings, runner.timings)
    print(f"\nDemo finished in {runner.timings['total']:.0f} s; every stage's output is under {layout.root}/")
    print(f"Open {layout.report} in a browser for the report.")
    return 0


def _stages(layout: DemoLayout, settings: DemoSettings, r: _Runner) -> None:
    """The stage sequence (see the module docstring)."""
    from sciprep.demo.holdout import covering_split_seed
    from sciprep.demo.token_stats import token_statistics
    from sciprep.demo.tuned_answers import answer_summary, held_out_answers

    L, s = layout, settings
    recipe = write_recipe(L.root, s.molecules)
    r.command(["corpus", "build", str(recipe), "--out", str(L.corpus), *r.no_progress()])
    r.headline("corpus", fig.corpus_figures(L.corpus))

    r.command(["clean", "--in", str(L.corpus), "--out", str(L.clean), *r.no_progress()])
    r.headline("cleaning", fig.cleaning_figures(L.clean))

    r.command(["tokenizer", "train", str(L.clean), "--out", str(L.tokenizer), "--vocab-size", str(s.vocab_size),
               *r.no_progress()])  # fmt: skip
    r.headline("tokenizer", token_statistics(L.tokenizer, L.clean))

    seed, one_sided = covering_split_seed(L.clean, s.val_fraction)
    r.command(["train", "pack", str(L.clean), "--tokenizer", str(L.tokenizer), "--out", str(L.packed),
               "--val-fraction", str(s.val_fraction), "--split-seed", str(seed), *r.no_progress()])  # fmt: skip
    r.headline("packing", {**fig.packing_figures(L.packed), "one_sided": one_sided})

    r.command(["train", "pretrain", "--data", str(L.packed), "--out", str(L.run), "--preset", "tiny",
               "--epochs", str(s.epochs), "--seed", "0", "--context-length", str(s.context_length),
               "--log-interval", "4", "--threads", str(s.threads), *r.no_progress()])  # fmt: skip
    r.command(["train", "plot", str(L.run)])
    r.headline("pretraining", fig.training_figures(L.run))

    r.command(["train", "tune", "--data", str(L.clean), "--from", str(L.run), "--out", str(L.tuned),
               "--epochs", str(s.tune_epochs), "--lr", str(s.tune_lr), "--seed", "0",
               "--context-length", str(s.context_length), "--batch-size", "2", "--log-interval", "2",
               "--threads", str(s.threads), *r.no_progress()])  # fmt: skip
    r.command(["train", "plot", str(L.tuned)])
    answers = held_out_answers(L.clean, L.run / "model", L.tuned / "model")
    r.headline("tuning", {**fig.tuning_figures(L.tuned), "answers": answers,
                          "summary": answer_summary(L.clean, answers)})  # fmt: skip

    r.command(["query", "index", str(L.clean), "--out", str(L.index), *r.no_progress()])
    asked: list[tuple[str, str, Path]] = []
    for kind, queries in (("citation", CITATION_QUERIES), ("formula", FORMULA_QUERIES)):
        for number, query in enumerate(queries[: s.queries_per_kind], 1):
            target = L.answers / f"{kind}-{number}.json"
            r.command(["ask", str(L.run / "model"), query, "--index", str(L.index), "--kind", kind,
                       "-k", str(ANSWERS_PER_QUERY), "--threads", str(s.threads), "--json"],
                      capture=target)  # fmt: skip
            asked.append((kind, query, target))
    r.headline("answers", fig.answer_figures(asked, L.clean))

    # Held-out citation evaluation, model-ranked (hybrid) against BM25 alone. Formula
    # evaluation is left out: generating every held-out formula takes minutes on a CPU.
    target = L.eval / "citations.json"
    r.command(["eval", "citations", "--model", str(L.run / "model"), "--index", str(L.index),
               "--methods", "hybrid", "retrieval", "--limit", str(s.eval_limit), "--threads", str(s.threads),
               "--out", str(target), *r.no_progress()])  # fmt: skip
    r.headline("evaluation", {"citations": fig.evaluation_figures(target)})
