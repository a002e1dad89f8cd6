"""Configuration: YAML keys and flags are the same settings; flags win."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from sciprep.training import PretrainConfig, TuneConfig, load_config
from sciprep.training.config import add_config_flags, flags_from_namespace


def _flags(cls: type, argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    add_config_flags(parser, cls)
    return flags_from_namespace(parser.parse_args(argv))


def test_flags_override_yaml_which_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("data: packed\nout: run\nepochs: 4\nlr: 0.002\nsource_weights: {arxiv: 2}\n")
    cfg = load_config(PretrainConfig, path, _flags(PretrainConfig, ["--epochs", "2", "--no-progress"]))
    assert (cfg.epochs, cfg.lr, cfg.progress, cfg.source_weights) == (2.0, 0.002, False, {"arxiv": 2.0})
    assert cfg.batch_size == PretrainConfig().batch_size


def test_every_key_is_also_a_flag() -> None:
    flags = _flags(PretrainConfig, ["--out", "r", "--source-weights", "arxiv=2,pubmed=0.5", "--eval-windows", "8"])
    assert flags == {"out": "r", "source_weights": {"arxiv": 2.0, "pubmed": 0.5}, "eval_windows": 8}
    assert _flags(TuneConfig, ["--from", "runs/a"]) == {"init": "runs/a"}


def test_unknown_or_mistyped_keys_name_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("out: run\nepoch: 3\n")
    with pytest.raises(ValueError, match=r"bad\.yaml.*'epoch'"):
        load_config(PretrainConfig, path, {})
    path.write_text("out: run\nbatch_size: many\n")
    with pytest.raises(ValueError, match="batch_size"):
        load_config(PretrainConfig, path, {})


def test_yaml_paths_are_relative_to_the_yaml_file_and_flags_to_the_cwd(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    path = folder / "tune.yaml"
    path.write_text(f"data: ../corpus\nout: runs/t\nfrom: {tmp_path / 'abs'}\n")
    cfg = load_config(TuneConfig, path, {})
    assert Path(cfg.data) == folder / "../corpus"
    assert Path(cfg.out) == folder / "runs/t"
    assert Path(cfg.init) == tmp_path / "abs"
    assert load_config(TuneConfig, path, _flags(TuneConfig, ["--out", "here"])).out == "here"


@pytest.mark.parametrize("setting", [["--epochs", "-1"], ["--epochs", "0"], ["--max-tokens", "-5"],
                                     ["--dist-timeout", "0"]])  # fmt: skip
def test_a_non_positive_budget_or_timeout_is_refused(setting: list[str]) -> None:
    with pytest.raises(ValueError, match=setting[0][2:].replace("-", "_") + " must be > 0"):
        load_config(PretrainConfig, None, {"out": "r", **_flags(PretrainConfig, setting)})


def test_parallel_strategy_and_world_size_flags_parse_and_unknown_strategies_are_refused() -> None:
    cfg = load_config(PretrainConfig, None, _flags(PretrainConfig, ["--out", "r", "--parallel", "fsdp",
                                                                    "--allow-world-size-change"]))  # fmt: skip
    assert (cfg.parallel, cfg.allow_world_size_change) == ("fsdp", True)
    assert (PretrainConfig().parallel, PretrainConfig().allow_world_size_change) == ("ddp", False)
    with pytest.raises(ValueError, match="parallel must be ddp or fsdp, got 'zero3'"):
        load_config(PretrainConfig, None, {"out": "r", "parallel": "zero3"})
