from __future__ import annotations

from pathlib import Path

import pytest

from sciprep.cleaning import (
    DEFAULT_STEPS,
    default_pipeline,
    load_pipeline,
    pipeline_from_config,
)
from sciprep.cleaning.config import NEAR_DEDUP_EXCLUDED_KINDS


def test_default_pipeline_runs_every_step_with_dedup_last() -> None:
    pipe = default_pipeline()
    assert [s.name for s in pipe.steps] == list(DEFAULT_STEPS)
    assert {"normalise", "markup", "length", "quality", "pii", "decontaminate", "exact_dedup", "near_dedup"} == set(
        DEFAULT_STEPS
    )
    assert [s.scope for s in pipe.steps][-2:] == ["corpus", "corpus"]
    near = pipe.steps[-1]
    assert (
        near.exclude_kinds == NEAR_DEDUP_EXCLUDED_KINDS and near.applies_to("paper") and not near.applies_to("protein")
    )


def test_yaml_builds_labelled_steps_with_typed_params(tmp_path: Path) -> None:
    config = tmp_path / "clean.yaml"
    config.write_text(
        "seed: 3\n"
        "steps:\n"
        "  - normalise\n"
        "  - step: quality\n"
        "    label: quality_strict\n"
        "    kinds: [paper]\n"
        "    params: {min_words: 100, max_top_ngram_char_fraction: {2: 0.1}}\n"
        "  - step: near_dedup\n"
        "    exclude_kinds: [compound]\n"
        "    params: {bands: 32, rows: 4}\n"
    )
    pipe = load_pipeline(config)
    assert pipe.seed == 3
    assert [s.label for s in pipe.steps] == ["normalise", "quality_strict", "near_dedup"]
    quality = pipe.steps[1]
    assert quality.params.min_words == 100 and quality.params.max_top_ngram_char_fraction == {2: 0.1}
    assert quality.kinds == ("paper",) and pipe.describe()[1]["kinds"] == ["paper"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"steps": []}, "non-empty list"),
        ({"steps": ["normalise"], "stages": 1}, "unknown key.*stages"),
        ({"steps": [{"step": "quality", "min_words": 3}]}, r"steps\[1\]: unknown key.*min_words.*params:"),
        ({"steps": [{"step": "quality", "params": {"min_word": 3}}]}, r"steps\[1\].*unknown parameter.*min_word"),
        ({"steps": [{"step": "length", "params": {"min_chars": "ten"}}]}, "min_chars.*expected int"),
        ({"steps": ["nope"]}, r"steps\[1\].*unknown cleaning step 'nope'"),
        ({"steps": ["length", "length"]}, "labels must be unique.*length"),
        ({"steps": [{"step": "length", "kinds": "paper"}]}, "`kinds` must be a list"),
        ({"steps": ["length"], "seed": "x"}, "`seed` must be an integer"),
    ],
)
def test_config_mistakes_are_reported_with_their_place(config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pipeline_from_config(config, "clean.yaml")


def test_missing_or_broken_yaml_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="pipeline config not found"):
        load_pipeline(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [normalise\n")
    with pytest.raises(ValueError, match="bad.yaml: not valid YAML"):
        load_pipeline(bad)
