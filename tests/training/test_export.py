"""The finished model directory loads with transformers and with SciTokenizer."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from sciprep.tokenize import SciTokenizer
from sciprep.corpus.splits import DEFAULT_SPLIT_SEED
from sciprep.training.checkpoint import list_checkpoints
from sciprep.training.export import read_training_info
from tests.training.conftest import VAL_FRACTION, Sample


def test_saved_model_loads_with_auto_classes_and_matches_last_checkpoint(pretrained: Path) -> None:
    model_dir = pretrained / "model"
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    hf_tokenizer = AutoTokenizer.from_pretrained(model_dir)
    sci = SciTokenizer.load(model_dir)
    text = "The energy [START_MATH]E = mc^2[END_MATH] of"
    ids = sci.encode(text)
    assert hf_tokenizer(text, add_special_tokens=False)["input_ids"] == ids
    assert model.config.model_type == "opt" and model.config.tie_word_embeddings
    checkpoint = AutoModelForCausalLM.from_pretrained(list_checkpoints(pretrained)[-1]).eval()
    with torch.no_grad():
        x = torch.tensor([ids])
        assert torch.equal(model(x).logits, checkpoint(x).logits)
        out = model.generate(x, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == len(ids) + 5 or out[0, -1].item() == model.generation_config.eos_token_id


def test_model_directory_records_the_held_out_rule_of_its_data(sample: Sample, pretrained: Path) -> None:
    info = read_training_info(pretrained / "model")
    assert info == {"val_fraction": VAL_FRACTION, "split_seed": DEFAULT_SPLIT_SEED, "corpus_dir": str(sample.corpus)}
