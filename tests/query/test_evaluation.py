"""The held-out rule evaluation uses: the model's recorded split unless overridden."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sciprep.corpus.document import Document
from sciprep.corpus.shards import write_documents
from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION
from sciprep.query import FormulaSearcher, QueryIndex, build_index
from sciprep.query.evaluation import TRAINING_INFO_FILE, Case, held_out_rule, report, retrievable_formulas


def _model(tmp_path: Path, info: object) -> Path:
    (tmp_path / TRAINING_INFO_FILE).write_text(json.dumps(info))
    return tmp_path


def test_recorded_split_is_the_default_and_matching_flags_do_not_warn(tmp_path: Path) -> None:
    model = _model(tmp_path, {"val_fraction": 0.2, "split_seed": 7, "corpus_dir": "c"})
    assert held_out_rule(model) == (0.2, 7, [])
    assert held_out_rule(model, 0.2, 7) == (0.2, 7, [])


def test_a_flag_differing_from_the_recorded_split_wins_with_a_warning(tmp_path: Path) -> None:
    fraction, seed, warnings = held_out_rule(_model(tmp_path, {"val_fraction": 0.2, "split_seed": 7}), 0.5)
    assert (fraction, seed) == (0.5, 7)
    assert len(warnings) == 1 and "--fraction 0.5" in warnings[0] and "0.2" in warnings[0]


def test_a_model_without_a_record_uses_the_defaults_and_says_so(tmp_path: Path) -> None:
    fraction, seed, warnings = held_out_rule(tmp_path)
    assert (fraction, seed) == (DEFAULT_VALIDATION_FRACTION, DEFAULT_SPLIT_SEED)
    assert len(warnings) == 1 and TRAINING_INFO_FILE in warnings[0]
    assert held_out_rule(tmp_path, 0.1, 2) == (0.1, 2, [])


def test_a_broken_record_names_its_file(tmp_path: Path) -> None:
    (tmp_path / TRAINING_INFO_FILE).write_text("{not json")
    with pytest.raises(ValueError, match=TRAINING_INFO_FILE):
        held_out_rule(tmp_path)


def test_the_retrieval_ceiling_counts_held_out_formulas_that_recur_in_visible_documents(tmp_path: Path) -> None:
    energy, force = "$E = m c^2$", "$F = m a$"
    texts = {
        "seen": f"Mass and energy relate by [START_MATH]{energy}[END_MATH] in relativity.",
        "held": f"Again [START_MATH]$E = mc^{{2}}$[END_MATH] holds, and Newton wrote [START_MATH]{force}[END_MATH].",
    }
    docs = [Document(id=k, text=t, source="test", kind="paper") for k, t in texts.items()]
    write_documents(tmp_path / "corpus" / "shards" / "docs-00000.parquet", docs)
    build_index(tmp_path / "corpus", tmp_path / "index", progress=False)
    index = QueryIndex.load(tmp_path / "index")
    cases = [Case("held", 6, "Again", "$E = mc^{2}$"), Case("held", 60, "Newton wrote", force)]
    assert retrievable_formulas(FormulaSearcher(index, hide_doc=lambda d: d == "held"), cases) == 1
    assert retrievable_formulas(FormulaSearcher(index), cases) == 2
    row = report([], len(cases), 5, 0.05, 0, formulas=True, retrievable=1)
    assert (row["retrievable_cases"], row["retrieval_ceiling"]) == (1, 0.5)
