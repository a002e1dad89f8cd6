from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
import pytest

from sciprep.cleaning.steps import build_step, get_step
from sciprep.cleaning.steps.base import (
    KEEP,
    Modify,
    Step,
    StepParams,
    register_step,
    threshold,
    transform_text,
)
from sciprep.corpus.document import Document


@dataclass
class _Params(StepParams):
    shingle: int = 5
    cutoff: float = threshold(0.8)
    kinds: tuple[str, ...] = ("paper",)
    mode: Literal["drop", "cut"] = threshold("drop")
    limits: dict[int, float] = threshold({5: 0.1})


class _Probe(Step):
    name = "probe"
    Params = _Params
    attributes = pa.schema([("x", pa.int32())])


def test_params_from_mapping_checks_names_and_types() -> None:
    params = _Params.from_mapping({"shingle": 3, "cutoff": 1, "kinds": ["a", "b"], "limits": {6: 0.2}}, "probe")
    assert params == _Params(shingle=3, cutoff=1.0, kinds=("a", "b"), limits={6: 0.2})
    with pytest.raises(ValueError, match="probe: unknown parameter.*shingles.*known: cutoff, kinds"):
        _Params.from_mapping({"shingles": 3}, "probe")
    with pytest.raises(ValueError, match="'shingle'.*expected int"):
        _Params.from_mapping({"shingle": "five"}, "probe")
    with pytest.raises(ValueError, match="'shingle'"):
        _Params.from_mapping({"shingle": True}, "probe")
    with pytest.raises(ValueError, match="one of 'drop', 'cut'"):
        _Params.from_mapping({"mode": "trim"}, "probe")


def test_threshold_parameters_leave_tag_fingerprint_unchanged() -> None:
    base = _Probe(_Params())
    assert _Probe(_Params(cutoff=0.1, mode="cut", limits={5: 0.9})).tag_fingerprint() == base.tag_fingerprint()
    assert _Probe(_Params(shingle=7)).tag_fingerprint() != base.tag_fingerprint()
    assert _Probe(_Params(kinds=("dna",))).tag_fingerprint() != base.tag_fingerprint()


def test_threshold_dict_defaults_are_not_shared_between_instances() -> None:
    a, b = _Params(), _Params()
    a.limits[7] = 0.5
    assert b.limits == {5: 0.1}


def test_registering_a_second_step_under_a_taken_name_fails() -> None:
    get_step("normalise")

    class Other(Step):
        Params = _Params

    with pytest.raises(ValueError, match="registered twice"):
        register_step("normalise")(Other)


def test_step_label_cannot_name_a_path_outside_attributes_dir() -> None:
    for label in ("../escape", "a/b", ".hidden", ""):
        if label:
            with pytest.raises(ValueError, match="step label"):
                build_step("length", label=label)
    assert build_step("length", label="length_strict").label == "length_strict"


def test_unknown_step_error_lists_known_steps() -> None:
    with pytest.raises(ValueError, match="unknown cleaning step 'dedupe'.*exact_dedup.*normalise"):
        get_step("dedupe")


def test_transform_text_changes_prompt_and_answer_separately() -> None:
    doc = Document(id="p", text="Q:  a?A:  b", source="s", kind="prompt", prompt="Q:  a?", answer="A:  b")
    decision = transform_text(doc, lambda t: t.replace("  ", " "), "squeezed")
    assert decision == Modify("Q: a?A: b", "squeezed", prompt="Q: a?", answer="A: b")
    plain = Document(id="d", text="x", source="s", kind="paper")
    assert transform_text(plain, lambda t: t, "noop") is KEEP
