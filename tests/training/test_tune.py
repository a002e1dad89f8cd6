"""Tuning: from a pretrained run, on prompt records; held-out answer loss falls."""

from __future__ import annotations

import dataclasses
import importlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from transformers import AutoModelForCausalLM

from sciprep.corpus.shards import write_documents
from sciprep.tokenize import SciTokenizer
from sciprep.tokenize.specials import PAD, SPECIAL_IDS
from sciprep.training import ExampleRows, TuneConfig, evaluate_examples, load_config, load_prompt_examples, tune
from sciprep.training.distributed import init_distributed
from sciprep.training.export import read_training_info
from sciprep.training.loop import plan_steps
from sciprep.training.metrics import read_metrics
from sciprep.training.sft_data import evaluation_sample
from sciprep.training.tune import fit_batch_to_rows, held_out_rule, resolve_model_dir
from tests.training.conftest import VAL_FRACTION, Sample, freesolv_prompts

DOCS = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def documented_tune_yaml() -> str:
    """The example tune.yaml of docs/training.md, verbatim."""
    text = DOCS.read_text(encoding="utf-8")
    return text[text.index("Example `tune.yaml`") :].split("```yaml\n", 1)[1].split("```", 1)[0]


def test_documented_tune_yaml_is_a_valid_config_with_paths_beside_it(tmp_path: Path) -> None:
    config = tmp_path / "tune.yaml"
    config.write_text(documented_tune_yaml())
    cfg = load_config(TuneConfig, config, {})
    raw = yaml.safe_load(documented_tune_yaml())
    assert cfg.data == str(tmp_path / raw["data"]) and cfg.init == str(tmp_path / raw["from"])
    assert cfg.out == str(tmp_path / raw["out"])


def test_tuning_lowers_held_out_answer_loss_and_writes_a_model(
    sample: Sample, pretrained: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tuned"
    config = tmp_path / "tune.yaml"
    settings = yaml.safe_load(documented_tune_yaml())
    settings.update({"data": str(sample.corpus), "from": str(pretrained), "out": str(out)})
    # A shorter budget for the test: one epoch at a higher rate, fewer and shorter answers.
    settings.update(epochs=1, lr=1e-3, context_length=128, eval_examples=16, max_new_tokens=6, log_interval=5,
                    progress=False)  # fmt: skip
    config.write_text(yaml.safe_dump(settings))
    cfg = load_config(TuneConfig, config, {})
    tokenizer = SciTokenizer.load(pretrained / "model")
    splits = load_prompt_examples(sample.corpus, tokenizer, 129, VAL_FRACTION, 0)
    held_out = evaluation_sample(splits.test, 16)
    before = evaluate_examples(AutoModelForCausalLM.from_pretrained(pretrained / "model"), tokenizer,
                               held_out, init_distributed("cpu"), 8, 6, "fp32")  # fmt: skip
    state = tune(cfg)
    assert not state["stopped"]
    val = [r for r in read_metrics(out) if r["type"] == "val"]
    assert val[-1]["examples"] == 16 and 0.0 <= val[-1]["exact_match"] <= 1.0
    assert val[-1]["loss"] < before["loss"]
    # Throughput and accounting count the examples' tokens, not the padding of packed rows.
    rows = ExampleRows(splits.train, 128, cfg.seed)
    consumed = rows.plan(0)[: state["step"] * cfg.batch_size]
    real = int((rows.packed.tokens[consumed, :-1] != SPECIAL_IDS[PAD]).sum())  # no <pad> in FreeSolv text
    assert state["tokens_seen"] == real < state["step"] * cfg.batch_size * 128
    assert [r for r in read_metrics(out) if r["type"] == "train"][-1]["tokens_seen"] == real
    summary = json.loads((out / "summary.json").read_text())
    assert summary["accounting"]["sources"]["prompts"]["tokens_seen"] == real
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


def _unsplit_prompt_corpus(sample: Sample, root: Path) -> Path:
    """The sample's FreeSolv prompts without a split field, so the held-out rule decides."""
    docs = [dataclasses.replace(d, split=None) for d in sample.documents if d.kind == "prompt"]
    write_documents(root / "shards" / "prompts-00000.parquet", docs)
    return root


def test_tune_holds_out_with_the_base_models_pretraining_rule_by_default(
    sample: Sample, pretrained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _unsplit_prompt_corpus(sample, tmp_path / "corpus")
    seen: dict[str, object] = {}

    def capture(corpus_dir: object, tokenizer: object, max_tokens: int, val_fraction: float, split_seed: int) -> None:
        seen.update(val_fraction=val_fraction, split_seed=split_seed)
        raise RuntimeError("stop before training")

    # The module, not the package attribute (which is the tune function).
    monkeypatch.setattr(importlib.import_module("sciprep.training.tune"), "load_prompt_examples", capture)
    cfg = TuneConfig(data=str(corpus), init=str(pretrained), out=str(tmp_path / "t"), progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the recorded rule is used silently
        with pytest.raises(RuntimeError, match="stop before training"):
            tune(cfg)
    assert seen == {"val_fraction": VAL_FRACTION, "split_seed": 0}  # the pack's, not the 0.05 default
    with pytest.warns(UserWarning, match="val_fraction 0.05 differs from the 0.25"):
        with pytest.raises(RuntimeError, match="stop before training"):
            tune(dataclasses.replace(cfg, val_fraction=0.05))
    assert seen["val_fraction"] == 0.05


def test_checkpoints_record_the_held_out_rule_for_tuning_from_them(pretrained: Path) -> None:
    checkpoint = sorted((pretrained / "checkpoints").glob("step-*"))[-1]
    assert read_training_info(checkpoint) == read_training_info(pretrained / "model")
    cfg = TuneConfig(data="corpus", init=str(checkpoint), out="t")
    assert held_out_rule(cfg, checkpoint) == (VAL_FRACTION, 0)


def test_model_without_a_recorded_rule_warns_and_uses_the_corpus_defaults(pretrained: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    with pytest.warns(UserWarning, match="no sciprep_training.json"):
        assert held_out_rule(TuneConfig(data="c", init=str(bare), out="t"), bare) == (0.05, 0)


def test_evaluated_examples_are_spread_over_the_held_out_split() -> None:
    items = list(range(100))
    picked = evaluation_sample(items, 5)  # type: ignore[arg-type]
    gaps = np.diff(picked)
    assert len(picked) == 5 and picked[0] == 0 and picked[-1] == 99 and gaps.max() - gaps.min() <= 1
    assert evaluation_sample(items, None) == items and evaluation_sample(items, 500) == items  # type: ignore[arg-type]
    assert len(set(evaluation_sample(items, 99))) == 99  # type: ignore[arg-type]


def test_tune_data_must_be_a_corpus_with_prompt_records(sample: Sample, pretrained: Path, tmp_path: Path) -> None:
    cfg = TuneConfig(data=str(sample.packed), init=str(pretrained), out=str(tmp_path / "t"), progress=False)
    with pytest.raises(ValueError, match=f"a packed directory.*--data {sample.corpus}"):
        tune(cfg)  # the packed directory is pretraining's input, not tuning's
    with pytest.raises(ValueError, match="not a sciprep corpus directory"):
        tune(dataclasses.replace(cfg, data=str(tmp_path / "nowhere")))
    prose = tmp_path / "prose"
    write_documents(prose / "shards" / "a-00000.parquet", [d for d in sample.documents if d.kind != "prompt"])
    with pytest.raises(ValueError, match="no prompt records"):
        tune(dataclasses.replace(cfg, data=str(prose)))


def test_batch_is_clamped_to_a_small_training_set_on_one_process_only() -> None:
    cfg = TuneConfig(batch_size=8, grad_accum=1)
    clamped, warning = fit_batch_to_rows(cfg, 5, world=1)
    assert clamped.batch_size == 5 and warning and "5 packed rows" in warning and "batch_size 5" in warning
    assert fit_batch_to_rows(cfg, 8, world=1) == (cfg, None)  # already fits
    assert fit_batch_to_rows(cfg, 5, world=2) == (cfg, None)  # across processes the loop's error stands
    accumulating = TuneConfig(batch_size=4, grad_accum=3)
    assert fit_batch_to_rows(accumulating, 7, world=1)[0].batch_size == 2
    assert fit_batch_to_rows(accumulating, 2, world=1) == (accumulating, None)  # a batch of one cannot fit


def test_tuning_on_fewer_rows_than_one_batch_warns_and_trains(
    shared_data: Path, pretrained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "qa"
    write_documents(corpus / "shards" / "qa-00000.parquet", freesolv_prompts(shared_data, limit=10))
    cfg = TuneConfig(data=str(corpus), init=str(pretrained), out=str(tmp_path / "tuned"), epochs=1,
                     batch_size=8, context_length=128, eval_examples=2, max_new_tokens=2, progress=False)  # fmt: skip
    state = tune(cfg)
    assert "warning: the training set has" in capsys.readouterr().err
    assert state["step"] >= 1 and (tmp_path / "tuned" / "model" / "config.json").is_file()
    rows = ExampleRows(load_prompt_examples(corpus, SciTokenizer.load(pretrained / "model"), 129,
                                            VAL_FRACTION, 0).train, 128, 0)  # fmt: skip
    with pytest.raises(ValueError, match="a step needs"):  # without the clamp the loop refuses the same data
        plan_steps(cfg, rows, 1)
