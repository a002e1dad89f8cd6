"""A small real corpus for the training tests, built once per test run.

Documents come from ``../shared/data``: unarXive paragraphs with their formulas as
``[START_MATH]`` spans, UniRef50 proteins as ``[START_AMINO]`` spans, and FreeSolv
rows as prompt records (hydration free energy questions). A SciTokenizer with a
small vocabulary is trained on it and the corpus is packed with a large validation
fraction so the held-out stream is non-trivial.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from sciprep.corpus.document import Document
from sciprep.corpus.shards import write_documents
from sciprep.training.config import PretrainConfig

VOCAB_SIZE = 600
VAL_FRACTION = 0.25


@dataclass(frozen=True)
class Sample:
    """Paths of the sample corpus, tokenizer and packed directory."""

    corpus: Path
    tokenizer: Path
    packed: Path
    documents: list[Document]


def arxiv_documents(data: Path, papers: int, paragraphs: int) -> list[Document]:
    docs = []
    with open(data / "arxiv" / "unarxive_sample.jsonl", encoding="utf-8") as fh:
        for line in fh:
            paper = json.loads(line)
            formulas = {k: v.get("latex", "") for k, v in paper["ref_entries"].items()
                        if v.get("type") == "formula"}  # fmt: skip
            texts = []
            for par in paper["body_text"][:paragraphs]:
                text = par["text"]
                for key, latex in formulas.items():
                    text = text.replace("{{formula:" + key + "}}", f"[START_MATH]{latex}[END_MATH]")
                texts.append(text)
            docs.append(Document(id=paper["paper_id"], text="\n\n".join(texts), source="arxiv", kind="paper"))
            if len(docs) == papers:
                break
    return docs


def protein_documents(data: Path) -> list[Document]:
    from Bio import SeqIO

    return [
        Document(id=rec.id, text=f"{rec.description}\n\n[START_AMINO]{rec.seq}[END_AMINO]",
                 source="uniref50", kind="protein")  # fmt: skip
        for rec in SeqIO.parse(data / "bio" / "uniref50_sample.fasta", "fasta")
    ]


def freesolv_prompts(data: Path, limit: int | None = None) -> list[Document]:
    docs = []
    with open(data / "chem" / "freesolv.csv", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            prompt = (f"Question: What is the hydration free energy of "
                      f"[START_I_SMILES]{row['smiles']}[END_I_SMILES] in kcal/mol?\n\nAnswer: ")  # fmt: skip
            answer = f"{float(row['expt']):.1f}"
            docs.append(Document(id=f"freesolv-{i}", text=prompt + answer, source="freesolv", kind="prompt",
                                 prompt=prompt, answer=answer, split="test" if i % 8 == 0 else "train"))  # fmt: skip
            if limit and len(docs) == limit:
                break
    return docs


def train_tokenizer(docs: list[Document], out: Path) -> Path:
    from sciprep.tokenize import SciTokenizer

    SciTokenizer().train([d.text for d in docs], vocab_size=VOCAB_SIZE, sample_fraction=1.0, seed=0).save(out)
    return out


@pytest.fixture(autouse=True)
def _few_threads() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def sample(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """Corpus (two arXiv shards, proteins, prompts), tokenizer and packed directory."""
    from sciprep.training import pack_corpus

    root = tmp_path_factory.mktemp("sample")
    arxiv = arxiv_documents(shared_data, papers=20, paragraphs=4)
    docs = arxiv + protein_documents(shared_data) + freesolv_prompts(shared_data)
    write_documents(root / "corpus" / "shards" / "arxiv-00000.parquet", arxiv[:10])
    write_documents(root / "corpus" / "shards" / "arxiv-00001.parquet", arxiv[10:])
    write_documents(root / "corpus" / "shards" / "mixed-00000.parquet", docs[len(arxiv) :])
    (root / "corpus" / "manifest.json").write_text(
        json.dumps({"sources": {"arxiv": {"documents": 20, "weight": 1.0}, "uniref50": {"weight": 2.0}}})
    )
    tokenizer = train_tokenizer(docs, root / "tokenizer")
    torch.set_num_threads(1)
    pack_corpus(root / "corpus", tokenizer, root / "packed", val_fraction=VAL_FRACTION, progress=False)
    return Sample(corpus=root / "corpus", tokenizer=tokenizer, packed=root / "packed", documents=docs)


def run_config(sample: Sample, out: Path, **overrides: object) -> PretrainConfig:
    """A tiny, quick pretraining configuration on the sample."""
    settings: dict[str, object] = dict(
        data=str(sample.packed), out=str(out), preset="tiny", context_length=64, batch_size=8,
        epochs=2, lr=3e-3, eval_windows=48, log_interval=1, checkpoint_interval=0, progress=False,
    )  # fmt: skip
    settings.update(overrides)
    return PretrainConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pretrained(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-epoch tiny run (with prompt pre-training) on the sample; its run directory."""
    from sciprep.training import pretrain

    out = tmp_path_factory.mktemp("run") / "run"
    torch.set_num_threads(1)
    pretrain(run_config(sample, out, prompt_ratio=0.1))
    return out
