"""The demo's held-out split puts every modality on both sides when some seed can."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.corpus.document import Document
from sciprep.corpus.shards import write_documents
from sciprep.corpus.splits import is_validation
from sciprep.demo.holdout import covering_split_seed, document_groups

_TEXTS = {
    "protein": "# Melittin\n[START_AMINO]GIGAVLKVLTTGLPALISWIKRKRQQ[END_AMINO]",
    "dna": "# lacO\n[START_DNA]AATTGTGAGCGGATAACAATT[END_DNA]",
    "compound": "# ethanol\n[START_SMILES]CCO[END_SMILES]",
    "paper": "# A paper\nThe radius is [START_MATH]$r = 2GM/c^2$[END_MATH].",
}


def _corpus(path: Path, counts: dict[str, int]) -> Path:
    docs = [Document(id=f"{kind}-{i}", text=_TEXTS[kind], source="s", kind=kind)
            for kind, n in counts.items() for i in range(n)]  # fmt: skip
    docs.append(Document(id="q", text="Q? A", source="s", kind="prompt", prompt="Q?", answer=" A", split="test"))
    (path / "shards").mkdir(parents=True, exist_ok=True)
    write_documents(path / "shards" / "s-00000.parquet", docs)
    return path


def test_groups_follow_the_markup_and_leave_prompts_to_their_split(tmp_path: Path) -> None:
    groups = document_groups(_corpus(tmp_path, {"protein": 2, "dna": 1, "compound": 1, "paper": 1}))
    assert groups["protein"] == ["protein-0", "protein-1"]
    assert groups["paper"] == groups["math"] == ["paper-0"]
    assert groups["smiles"] == ["compound-0"] and groups["dna"] == ["dna-0"]
    assert "q" not in {i for ids in groups.values() for i in ids}


@settings(max_examples=25, deadline=None)
@given(counts=st.fixed_dictionaries({kind: st.integers(1, 6) for kind in _TEXTS}),
       fraction=st.sampled_from([0.2, 0.3]))
def test_chosen_seed_splits_every_group_it_does_not_report(
    tmp_path_factory: pytest.TempPathFactory, counts: dict[str, int], fraction: float
) -> None:
    corpus = _corpus(tmp_path_factory.mktemp("c"), counts)
    seed, one_sided = covering_split_seed(corpus, fraction)
    for name, ids in document_groups(corpus).items():
        sides = {is_validation(i, fraction, seed) for i in ids}
        assert len(sides) == 2 or len(ids) == 1 or name in one_sided
