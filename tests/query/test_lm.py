"""The model wrapper: cached decoding gives the same numbers as a plain forward pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from sciprep.query.lm import LanguageModel
from sciprep.tokenize.specials import EOS, SPECIAL_IDS


@pytest.fixture(scope="module")
def opt_model(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny OPT (the trainer's architecture) sharing the test tokenizer."""
    from transformers import OPTConfig, OPTForCausalLM

    from sciprep.tokenize import SciTokenizer

    tokenizer = SciTokenizer.load(tiny_model)
    config = OPTConfig(vocab_size=tokenizer.vocab_size, hidden_size=48, num_hidden_layers=2, ffn_dim=96,
                       num_attention_heads=4, max_position_embeddings=512, word_embed_proj_dim=48,
                       do_layer_norm_before=True, tie_word_embeddings=True, bos_token_id=0, pad_token_id=1,
                       eos_token_id=2)  # fmt: skip
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("opt")
    OPTForCausalLM(config).save_pretrained(out)
    tokenizer.save(out)
    return out


@pytest.fixture(params=["llama", "opt"])
def model_dir(request: pytest.FixtureRequest, tiny_model: Path) -> Path:
    return tiny_model if request.param == "llama" else request.getfixturevalue("opt_model")


def _plain(lm: LanguageModel, ids: list[int]) -> np.ndarray:
    with torch.inference_mode():
        logits = lm.model(input_ids=torch.tensor([ids])).logits[0].float()
    return torch.log_softmax(logits, dim=-1).numpy()


def test_cached_beam_steps_match_a_full_forward_pass(model_dir: Path) -> None:
    lm = LanguageModel.load(model_dir)
    prompted = lm.prompt("Black holes radiate [START_REF]", reserve=16)
    prompt = prompted.prompt_ids
    assert prompt[0] == SPECIAL_IDS[EOS]  # the separator packed streams put before each document
    conts = [[40], [41], [42]]
    steps = [
        prompted.next_logprobs([[]]),
        prompted.next_logprobs(conts),
        prompted.next_logprobs([c + [50] for c in conts]),
    ]
    for row, cont in zip(steps[2], conts):
        np.testing.assert_allclose(row, _plain(lm, prompt + cont + [50])[-1], atol=1e-4)
    np.testing.assert_allclose(steps[0][0], _plain(lm, prompt)[-1], atol=1e-4)
    uncached = lm.prompt("Black holes radiate [START_REF]", reserve=16).next_logprobs([[41, 50], [7]])
    np.testing.assert_allclose(uncached[0], steps[2][1], atol=1e-4)
    np.testing.assert_allclose(uncached[1], _plain(lm, prompt + [7])[-1], atol=1e-4)


def test_token_logprobs_are_the_distributions_before_each_token(model_dir: Path) -> None:
    lm = LanguageModel.load(model_dir)
    prompted = lm.prompt("Energy is", reserve=8)
    rows = prompted.token_logprobs([[60, 61, 62], [70]])
    full = _plain(lm, prompted.prompt_ids + [60, 61, 62])
    n = len(prompted.prompt_ids)
    np.testing.assert_allclose(rows[0], full[n - 1 : n + 2], atol=1e-4)
    assert rows[1].shape == (1, full.shape[1])


def test_long_prompts_keep_their_most_recent_tokens(tiny_model: Path) -> None:
    lm = LanguageModel.load(tiny_model, max_context=32)
    text = " ".join(f"word{i}" for i in range(200)) + " [START_REF]"
    prompted = lm.prompt(text, reserve=8)
    assert len(prompted.prompt_ids) == 32
    assert prompted.prompt_ids == lm.tokenizer.encode(text)[-32:]


def test_a_model_directory_without_safetensors_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    broken = tmp_path / "model"
    shutil.copytree(tiny_model, broken)
    (broken / "model.safetensors").rename(broken / "pytorch_model.bin")  # pickle-format name: never loaded
    with pytest.raises(FileNotFoundError, match=str(broken)):
        LanguageModel.load(broken)
