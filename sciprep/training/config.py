"""Run configuration: typed dataclasses, their defaults in one place, YAML or flags.

Every key of a YAML config is also a command-line flag (``epochs`` <-> ``--epochs``,
``source_weights`` <-> ``--source-weights arxiv=2,pubmed=1``); precedence is
defaults < YAML < flags. Relative paths in a YAML file (``data``, ``out``, ``from``)
are relative to the YAML file's folder, as recipe paths are; flags stay relative
to the working directory.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

#: How the model is spread over several processes (see :mod:`sciprep.training.parallel`).
PARALLEL_MODES = ("ddp", "fsdp")


@dataclass
class LoopConfig:
    """Settings shared by pretraining and tuning (the training loop's knobs)."""

    out: str = ""
    seed: int = 0
    batch_size: int = 8
    grad_accum: int = 1
    context_length: int = 256
    epochs: float | None = 1.0
    max_tokens: int | None = None  # budget in tokens; overrides epochs when set
    stop_at_step: int | None = None  # checkpoint and exit at this step; the schedule is unchanged
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_fraction: float = 0.05
    decay: str = "cosine"
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    eval_interval: int = 0  # steps between evaluations besides each epoch end; 0 = epoch ends only
    patience: int = 0  # stop after this many evaluations without improvement; 0 = never
    log_interval: int = 10
    checkpoint_interval: int = 200  # steps; checkpoints are also written at every epoch end
    keep_checkpoints: int = 3
    device: str = "auto"
    precision: str = "auto"  # auto = bf16 autocast on CUDA, fp32 on CPU
    compile: bool = False
    threads: int | None = None
    progress: bool = True
    resume: bool = True  # continue from the newest checkpoint in out; --no-resume deletes them
    parallel: str = "ddp"  # with several processes: ddp (full replicas) or fsdp (sharded, FSDP2)
    # resume a checkpoint made with another number of processes, keeping its global batch
    allow_world_size_change: bool = False
    # seconds a collective may wait for the slowest process, e.g. while rank 0 writes a checkpoint
    dist_timeout: float = 1800.0
    metrics: bool = True


@dataclass
class PretrainConfig(LoopConfig):
    """``sciprep train pretrain``: a model from a preset on a packed directory."""

    data: str = ""
    preset: str = "tiny"
    dropout: float | None = None
    prompt_ratio: float = 0.0
    source_weights: dict[str, float] = field(default_factory=dict)
    eval_windows: int | None = None  # cap on validation windows per evaluation; None = all


@dataclass
class TuneConfig(LoopConfig):
    """``sciprep train tune``: supervised tuning on prompt records from a checkpoint."""

    data: str = ""
    init: str = ""  # flag --from: a model dir, a checkpoint dir or a run dir
    lr: float = 3e-4
    epochs: float | None = 3.0
    # Held-out rule for prompt records without a split; None = the one the base model
    # was pretrained with (its sciprep_training.json), else the corpus defaults.
    val_fraction: float | None = None
    split_seed: int | None = None
    max_new_tokens: int = 48
    eval_examples: int | None = 256


C = TypeVar("C", bound=LoopConfig)
_FLAG_NAMES = {"init": "--from"}
#: Config keys holding paths: resolved against the YAML file's folder when given there.
_PATH_KEYS = ("data", "out", "init")


def _base_type(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return args[0]
    return tp


def _parse_weights(text: str) -> dict[str, float]:
    weights = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected SOURCE=WEIGHT, got {item!r}")
        weights[name.strip()] = float(value)
    return weights


def _coerce(name: str, tp: Any, value: Any, where: str) -> Any:
    base = _base_type(tp)
    if value is None:
        if base is not tp:
            return None
        raise ValueError(f"{where}: {name} may not be empty")
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }
    if typing.get_origin(base) is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: {name} must be a mapping, got {value!r}")
        return {str(k): float(v) for k, v in value.items()}
    if not ok.get(base, True):
        raise ValueError(f"{where}: {name} must be {base.__name__}, got {value!r}")
    return float(value) if base is float else value


def add_config_flags(parser: argparse.ArgumentParser, cls: type[LoopConfig]) -> None:
    """One flag per config field; only flags actually given reach the namespace."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flag = _FLAG_NAMES.get(f.name, "--" + f.name.replace("_", "-"))
        base = _base_type(hints[f.name])
        kwargs: dict[str, Any] = {"dest": f"cfg_{f.name}", "default": argparse.SUPPRESS,
                                  "metavar": f.name.upper()}
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
            del kwargs["metavar"]
        elif typing.get_origin(base) is dict:
            kwargs["type"] = _parse_weights
            kwargs["metavar"] = "NAME=W,..."
        else:
            kwargs["type"] = base
        parser.add_argument(flag, **kwargs)


def load_config(cls: type[C], path: str | os.PathLike[str] | None, flags: dict[str, Any]) -> C:
    """Build ``cls`` from defaults, then the YAML file at ``path``, then ``flags``."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    if path:
        where = str(path)
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ValueError(f"{where}: not valid YAML ({err})") from err
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: a config must be a mapping of keys to values")
        for key, value in raw.items():
            name = {"from": "init"}.get(str(key), str(key).replace("-", "_"))
            if name not in hints:
                known = ", ".join(sorted(hints))
                raise ValueError(f"{where}: unknown key {key!r}; known keys: {known}")
            values[name] = _coerce(name, hints[name], value, where)
            if name in _PATH_KEYS and values[name]:
                values[name] = str(Path(path).parent / Path(values[name]).expanduser())
    values.update(flags)
    config = cls(**values)
    if not config.out:
        raise ValueError("no output directory: give --out DIR or `out:` in the config")
    if config.batch_size < 1 or config.grad_accum < 1 or config.context_length < 2:
        raise ValueError("batch_size and grad_accum must be >= 1 and context_length >= 2")
    if config.parallel not in PARALLEL_MODES:
        raise ValueError(f"parallel must be {' or '.join(PARALLEL_MODES)}, got {config.parallel!r}")
    if config.epochs is not None and not config.epochs > 0:
        raise ValueError(f"epochs must be > 0, got {config.epochs}")
    if not config.dist_timeout > 0:
        raise ValueError(f"dist_timeout must be > 0 seconds, got {config.dist_timeout}")
    if config.max_tokens is not None and config.max_tokens <= 0:
        raise ValueError(f"max_tokens must be > 0, got {config.max_tokens}")
    return config


def flags_from_namespace(args: argparse.Namespace) -> dict[str, Any]:
    """The config values given as flags (``cfg_``-prefixed attributes)."""
    return {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_")}
