"""``sciprep train plot``: the loss PNG depends on the metrics, not on where the run lives."""

from __future__ import annotations

import json
import math
from pathlib import Path

from sciprep.training.metrics import METRICS_FILE
from sciprep.training.plot import plot_run


def _write_run(run_dir: Path) -> Path:
    run_dir.mkdir(parents=True)
    records = [{"type": "train", "step": s, "epoch": s / 10, "tokens_seen": 512 * s, "loss": 7 * math.exp(-s / 9)}
               for s in range(1, 21)]  # fmt: skip
    records += [{"type": "val", "step": s, "epoch": s / 10, "tokens_seen": 512 * s, "loss": 7.5 * math.exp(-s / 11)}
                for s in (10, 20)]  # fmt: skip
    (run_dir / METRICS_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    return run_dir


def test_same_metrics_in_different_folders_give_byte_identical_plots(tmp_path: Path) -> None:
    first = plot_run(_write_run(tmp_path / "a" / "run"))
    second = plot_run(_write_run(tmp_path / "somewhere" / "else" / "run"))
    assert first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first.read_bytes() == second.read_bytes()


def test_plot_title_is_the_run_folder_name_or_the_given_title(tmp_path: Path) -> None:
    run = _write_run(tmp_path / "my-run")
    default = plot_run(run, tmp_path / "default.png").read_bytes()
    titled = plot_run(run, tmp_path / "titled.png", title="my-run").read_bytes()
    other = plot_run(run, tmp_path / "other.png", title="another title").read_bytes()
    assert default == titled != other
