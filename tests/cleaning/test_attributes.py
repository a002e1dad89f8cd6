from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from sciprep.cleaning.attributes import (
    load_cached,
    read_attribute_table,
    text_hash,
    write_attributes,
)
from sciprep.cleaning.steps import build_step


def _rows(step_name: str, **params: object) -> tuple[object, list[dict]]:
    step = build_step(step_name, params)
    rows = [{"id": "a", "position": 0, "text_hash": text_hash("x"), "chars": 1}]
    return step, rows


def test_stored_attributes_are_reused_only_with_the_same_tag_fingerprint(tmp_path: Path) -> None:
    step, rows = _rows("length")
    write_attributes(tmp_path, step, "s0", rows)
    assert load_cached(tmp_path, step, "s0") == {"a": (text_hash("x"), {"chars": 1})}
    assert load_cached(tmp_path, build_step("length", {"min_chars": 99}), "s0")  # threshold only
    quality = build_step("quality")
    assert load_cached(tmp_path, quality, "s0") == {}  # nothing stored for it


def test_changed_tag_parameters_invalidate_the_store(tmp_path: Path) -> None:
    step = build_step("markup")
    write_attributes(tmp_path, step, "s0", [{"id": "a", "position": 0, "text_hash": "h", "n_checked": 0, "issues": []}])
    assert load_cached(tmp_path, step, "s0")
    assert load_cached(tmp_path, build_step("markup", {"max_smiles_length": 10}), "s0") == {}


def test_wrong_attribute_values_name_the_step(tmp_path: Path) -> None:
    step = build_step("length")
    with pytest.raises(TypeError, match="'length': tag\\(\\) returned values"):
        write_attributes(tmp_path, step, "s0", [{"id": "a", "position": 0, "text_hash": "h", "chars": "many"}])


def test_attribute_table_spans_shards_in_order_with_shard_column(tmp_path: Path) -> None:
    step = build_step("length")
    write_attributes(tmp_path, step, "s1", [{"id": "b", "position": 0, "text_hash": "h", "chars": 2}])
    write_attributes(tmp_path, step, "s0", [{"id": "a", "position": 3, "text_hash": "h", "chars": 1}])
    table = read_attribute_table(tmp_path, step, ["s0", "s1", "s2"])
    assert table.select(["id", "shard", "position"]).to_pylist() == [
        {"id": "a", "shard": "s0", "position": 3},
        {"id": "b", "shard": "s1", "position": 0},
    ]
    assert table.schema.field("chars").type == pa.int64()
