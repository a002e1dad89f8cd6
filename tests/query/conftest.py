"""Shared fixtures of the query tests: a real corpus, its index and a tiny model.

The model is random-initialised (its answers are not meant to be good); what the
tests check is that whatever it prefers, answers stay inside the index, carry their
sources and are reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sciprep.cli import main
from sciprep.corpus.shards import iter_documents
from tests.query.unarxive_sample import write_corpus

#: Validation fraction used by the end-to-end tests: 32 papers need more than the default 5 %.
TEST_FRACTION = 0.2


@pytest.fixture(scope="module", autouse=True)
def _single_torch_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread on a shared 2-core machine; restored after each module."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def sample_corpus(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 32-paper unarXive sample as a corpus directory (4 shards)."""
    return write_corpus(shared_data / "arxiv" / "unarxive_sample.jsonl", tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def sample_index(sample_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The query index of :func:`sample_corpus`, built through the CLI."""
    out = tmp_path_factory.mktemp("index")
    assert main(["query", "index", str(sample_corpus), "--out", str(out), "--no-progress"]) == 0
    return out


def make_model_dir(texts: list[str], out: Path, vocab_size: int = 1200, seed: int = 0) -> Path:
    """A tokenizer trained on ``texts`` and a 2-layer random Llama, saved as a model directory."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from sciprep.tokenize import SciTokenizer
    from sciprep.tokenize.specials import SPECIAL_IDS

    tokenizer = SciTokenizer().train(texts, vocab_size=vocab_size, sample_fraction=1.0, seed=seed, min_sample_docs=1)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        bos_token_id=SPECIAL_IDS["<s>"],
        pad_token_id=SPECIAL_IDS["<pad>"],
        eos_token_id=SPECIAL_IDS["</s>"],
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save(out)
    return out


@pytest.fixture(scope="session")
def tiny_model(sample_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory whose tokenizer was trained on the sample corpus."""
    texts = [d.text for d in iter_documents(sample_corpus)]
    return make_model_dir(texts, tmp_path_factory.mktemp("model"))


def fine_tune(model_dir: Path, texts: list[str], steps: int = 60, lr: float = 3e-3) -> None:
    """A few full-batch Adam steps on ``texts`` (each ``<s> text </s>``), saved in place."""
    import torch
    from transformers import AutoModelForCausalLM

    from sciprep.tokenize import SciTokenizer
    from sciprep.tokenize.specials import SPECIAL_IDS

    tokenizer = SciTokenizer.load(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    rows = [[SPECIAL_IDS["<s>"], *tokenizer.encode(t), SPECIAL_IDS["</s>"]] for t in texts]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), SPECIAL_IDS["<pad>"])
    labels = torch.full((len(rows), width), -100)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        labels[i, : len(r)] = torch.tensor(r)
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        model(input_ids=ids, attention_mask=(labels != -100).long(), labels=labels).loss.backward()
        optimizer.step()
    model.save_pretrained(model_dir)
