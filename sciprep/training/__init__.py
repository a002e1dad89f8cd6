"""Training: packed token files, multi-epoch pretraining, prompt tuning, plots.

The public API; the command line (``sciprep train pack|pretrain|tune|plot``) wraps it.
Names are imported on first use (PEP 562), so importing this package, or any
``sciprep`` command, does not pay for torch and transformers.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sciprep.training.config import PARALLEL_MODES, LoopConfig, PretrainConfig, TuneConfig, load_config
    from sciprep.training.distributed import DistContext, init_distributed, shutdown_distributed
    from sciprep.training.export import export_model, read_training_info
    from sciprep.training.loop import run_training
    from sciprep.training.modality import MODALITIES, token_modalities
    from sciprep.training.packing import load_packed_meta, pack_corpus, read_source_weights
    from sciprep.training.parallel import ParallelModel, Snapshot
    from sciprep.training.plot import plot_run
    from sciprep.training.presets import PRESETS, build_model, model_config
    from sciprep.training.pretrain import ValidationSet, pretrain
    from sciprep.training.resume import fit_global_batch
    from sciprep.training.sft_data import (
        Example, ExampleRows, PackedRows, evaluation_sample, load_prompt_examples, pack_examples,
    )  # fmt: skip
    from sciprep.training.token_files import open_tokens, read_header
    from sciprep.training.tune import evaluate_examples, tune
    from sciprep.training.windows import WindowPlanner

_MODULES = {
    "config": ("PARALLEL_MODES", "LoopConfig", "PretrainConfig", "TuneConfig", "load_config"),
    "distributed": ("DistContext", "init_distributed", "shutdown_distributed"),
    "export": ("export_model", "read_training_info"),
    "loop": ("run_training",),
    "modality": ("MODALITIES", "token_modalities"),
    "packing": ("load_packed_meta", "pack_corpus", "read_source_weights"),
    "parallel": ("ParallelModel", "Snapshot"),
    "plot": ("plot_run",),
    "presets": ("PRESETS", "build_model", "model_config"),
    "pretrain": ("ValidationSet", "pretrain"),
    "resume": ("fit_global_batch",),
    "sft_data": ("Example", "ExampleRows", "PackedRows", "evaluation_sample", "load_prompt_examples", "pack_examples"),
    "token_files": ("open_tokens", "read_header"),
    "tune": ("evaluate_examples", "tune"),
    "windows": ("WindowPlanner",),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_HOME)


class _TrainingPackage(types.ModuleType):
    """Keeps ``pretrain`` and ``tune`` the functions when their modules load.

    The import system binds a freshly loaded submodule onto its package, which
    would replace the function of the same name with the module.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _HOME.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _TrainingPackage


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
