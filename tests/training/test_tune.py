"""Tuning: from a pretrained run, on prompt records; held-out answer loss falls."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM

from sciprep.tokenize import SciTokenizer
from sciprep.training import TuneConfig, evaluate_examples, load_prompt_examples, tune
from sciprep.training.distributed import init_distributed
from sciprep.training.export import read_training_info
from sciprep.training.metrics import read_metrics
from sciprep.training.tune import resolve_model_dir
from tests.training.conftest import Sample


def test_tuning_lowers_held_out_answer_loss_and_writes_a_model(
    sample: Sample, pretrained: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tuned"
    cfg = TuneConfig(data=str(sample.corpus), init=str(pretrained), out=str(out), context_length=128,
                     batch_size=8, epochs=1, lr=1e-3, eval_examples=16, max_new_tokens=6,
                     log_interval=5, progress=False)  # fmt: skip
    tokenizer = SciTokenizer.load(pretrained / "model")
    held_out = load_prompt_examples(sample.corpus, tokenizer, 129, cfg.val_fraction, cfg.split_seed).test[:16]
    before = evaluate_examples(AutoModelForCausalLM.from_pretrained(pretrained / "model"), tokenizer,
                               held_out, init_distributed("cpu"), 8, 6, "fp32")  # fmt: skip
    state = tune(cfg)
    assert not state["stopped"]
    val = [r for r in read_metrics(out) if r["type"] == "val"]
    assert val[-1]["examples"] == 16 and 0.0 <= val[-1]["exact_match"] <= 1.0
    assert val[-1]["loss"] < before["loss"]
    tuned = AutoModelForCausalLM.from_pretrained(out / "model")
    assert tuned.config.model_type == "opt" and SciTokenizer.load(out / "model").vocab_size == tokenizer.vocab_size
    # The tuned model keeps its pretraining's held-out rule for evaluation.
    assert read_training_info(out / "model") == read_training_info(pretrained / "model")


def test_tune_loads_weights_from_safetensors_only(
    sample: Sample, pretrained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def refuse(path: object, **kwargs: object) -> None:
        seen.update(kwargs)
        raise RuntimeError("stop before training")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", refuse)
    with pytest.raises(RuntimeError, match="stop before training"):
        tune(TuneConfig(data=str(sample.corpus), init=str(pretrained), out=str(tmp_path / "t"), progress=False))
    assert seen.get("use_safetensors") is True


def test_from_accepts_run_model_and_checkpoint_directories(pretrained: Path) -> None:
    assert resolve_model_dir(pretrained) == pretrained / "model"
    checkpoint = sorted((pretrained / "checkpoints").glob("step-*"))[-1]
    assert resolve_model_dir(checkpoint) == checkpoint
    with pytest.raises(FileNotFoundError, match="config.json"):
        resolve_model_dir(pretrained / "checkpoints")
