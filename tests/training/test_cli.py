"""The ``sciprep train`` commands end to end: pack, pretrain from YAML + flags, plot."""

from __future__ import annotations

import json
from pathlib import Path

from sciprep.cli import main
from tests.training.conftest import VAL_FRACTION, Sample


def test_pack_pretrain_plot_commands(sample: Sample, tmp_path: Path, capsys: object) -> None:
    packed, run = tmp_path / "packed", tmp_path / "run"
    code = main(["train", "pack", str(sample.corpus), "--tokenizer", str(sample.tokenizer), "--out",
                 str(packed), "--val-fraction", str(VAL_FRACTION), "--no-progress"])  # fmt: skip
    assert code == 0
    assert (packed / "train.tokens").read_bytes() == (sample.packed / "train.tokens").read_bytes()
    config = tmp_path / "run.yaml"
    config.write_text(f"data: {packed}\npreset: tiny\ncontext_length: 32\nbatch_size: 4\nepochs: 2\n"
                      "progress: false\nthreads: 1\n")  # fmt: skip
    code = main(["train", "pretrain", str(config), "--out", str(run), "--epochs", "1", "--max-tokens", "1024",
                 "--eval-windows", "4", "--seed", "3"])  # fmt: skip
    assert code == 0
    state = json.loads(sorted((run / "checkpoints").glob("step-*"))[-1].joinpath("trainer_state.json").read_text())
    assert state["config"]["seed"] == 3 and state["config"]["batch_size"] == 4 and state["step"] == 8
    assert main(["train", "plot", str(run)]) == 0
    assert (run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_packed_directory_is_a_clear_error(tmp_path: Path, capsys: object) -> None:
    code = main(["train", "pretrain", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "run")])
    assert code == 2
    assert "packed.json" in capsys.readouterr().err  # type: ignore[attr-defined]


def test_importing_the_training_package_and_its_commands_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = ("import sys, sciprep.training, sciprep.training.cli; "
            "assert sciprep.training.load_packed_meta; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
