"""Training: packed token files, multi-epoch pretraining, prompt tuning, plots.

The public API; the command line (``sciprep train pack|pretrain|tune|plot``) wraps it.
"""

from sciprep.training.config import LoopConfig, PretrainConfig, TuneConfig, load_config
from sciprep.training.export import export_model
from sciprep.training.loop import run_training
from sciprep.training.modality import MODALITIES, token_modalities
from sciprep.training.packing import load_packed_meta, pack_corpus, read_source_weights
from sciprep.training.plot import plot_run
from sciprep.training.presets import PRESETS, build_model, model_config
from sciprep.training.pretrain import ValidationSet, pretrain
from sciprep.training.sft_data import Example, ExampleRows, PackedRows, load_prompt_examples, pack_examples
from sciprep.training.token_files import open_tokens, read_header
from sciprep.training.tune import evaluate_examples, tune
from sciprep.training.windows import WindowPlanner

__all__ = [
    "MODALITIES", "PRESETS", "Example", "ExampleRows", "LoopConfig", "PackedRows", "PretrainConfig",
    "TuneConfig", "ValidationSet", "WindowPlanner", "build_model", "evaluate_examples",
    "export_model", "load_config", "load_packed_meta", "load_prompt_examples", "model_config",
    "open_tokens", "pack_corpus", "pack_examples", "plot_run", "pretrain", "read_header",
    "read_source_weights", "run_training", "token_modalities", "tune",
]  # fmt: skip
