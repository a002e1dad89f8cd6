"""``sciprep corpus stats``: counts read from shards, token estimates, the source mix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from sciprep.cli import main
from sciprep.corpus.build import build_corpus
from sciprep.corpus.modality import segments
from sciprep.corpus.recipe import load_recipe
from sciprep.corpus.shards import iter_documents
from sciprep.corpus.stats import CHARS_PER_TOKEN, corpus_stats, format_stats


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    (tmp_path / "p.fasta").write_text(">a\nMKVLAAGIVGLLA\n>b\nACGTACGTACGTAAAT\n", encoding="utf-8")
    (tmp_path / "m.csv").write_text(
        "name,smiles\nethanol,CCO\nalanine,C[C@H](N)C(=O)O\nbad,C1C(\n", encoding="utf-8"
    )
    (tmp_path / "r.yaml").write_text(
        "sources:\n  - {name: bio, path: p.fasta, weight: 3}\n  - {name: chem, path: m.csv}\n",
        encoding="utf-8",
    )
    out = tmp_path / "corpus"
    build_corpus(load_recipe(tmp_path / "r.yaml"), out, progress=False)
    return out


def test_stats_agree_with_the_manifest(corpus: Path) -> None:
    manifest = json.loads((corpus / "manifest.json").read_text())
    stats = corpus_stats(corpus)
    assert (
        stats.documents == manifest["totals"]["documents"]
        and stats.rejected == manifest["totals"]["rejected"] == 1
    )
    assert stats.characters == manifest["totals"]["characters"]
    assert stats.kinds == {"protein": 1, "dna": 1, "compound": 2}


def test_token_estimate_uses_per_modality_rates(corpus: Path) -> None:
    stats = corpus_stats(corpus)
    for modality, chars in stats.characters.items():
        assert stats.tokens[modality] == pytest.approx(chars / CHARS_PER_TOKEN[modality])
    assert stats.tokens["amino"] == len("MKVLAAGIVGLLA") and stats.tokens["dna"] == len("ACGTACGTACGTAAAT")


def test_source_mix_shares_and_weights(corpus: Path) -> None:
    sources = corpus_stats(corpus).sources
    assert sources["bio"]["weight"] == 3 and sources["chem"]["weight"] == 1
    assert sum(s["token_share"] for s in sources.values()) == pytest.approx(1, abs=1e-3)
    assert sum(s["weighted_share"] for s in sources.values()) == pytest.approx(1, abs=1e-3)
    assert sources["bio"]["weighted_share"] > sources["bio"]["token_share"]


def test_exact_counts_with_a_tokenizer_file(corpus: Path, tmp_path: Path) -> None:
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    texts = [d.text for d in iter_documents(corpus)]
    tokenizer.train_from_iterator(
        texts, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>"], show_progress=False)
    )
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    stats = corpus_stats(corpus, tokenizer=path)
    expected = sum(
        len(tokenizer.encode(c, add_special_tokens=False).ids) for t in texts for _, c in segments(t)
    )
    assert stats.exact_tokens and sum(stats.tokens.values()) == expected


def test_cli_prints_report_and_json(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "stats", str(corpus)]) == 0
    report = capsys.readouterr().out
    assert "documents: 4" in report and "bio" in report and "amino" in report
    assert main(["corpus", "stats", str(corpus), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sources"]["chem"]["documents"] == 2
    assert format_stats(corpus_stats(corpus)).splitlines()[0].startswith("documents: 4")


def test_stats_on_a_non_corpus_directory_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["corpus", "stats", str(tmp_path)]) == 2
    assert "not a sciprep corpus directory" in capsys.readouterr().err
