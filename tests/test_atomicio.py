from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from sciprep.atomicio import atomic_dir, atomic_path, current_umask, write_json_atomic


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_written_file_has_the_mode_an_ordinary_open_gives(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "a.json", {"x": 1})
        assert current_umask() == 0o022
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644


def test_json_is_sorted_so_reruns_are_byte_identical(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "a.json", {"b": 1, "a": [2, 3]})
    write_json_atomic(tmp_path / "b.json", {"a": [2, 3], "b": 1})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert json.loads((tmp_path / "a.json").read_text()) == {"a": [2, 3], "b": 1}


def test_atomic_dir_replaces_the_old_directory_whole_and_is_readable(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale.bin").write_text("old")
    old = os.umask(0o022)
    try:
        with atomic_dir(target) as tmp:
            (tmp / "config.json").write_text("{}")
    finally:
        os.umask(old)
    assert sorted(p.name for p in target.iterdir()) == ["config.json"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_failed_atomic_dir_keeps_the_old_directory(tmp_path: Path) -> None:
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "state.json").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "state.json").write_text("new")
            raise RuntimeError("killed")
    assert (target / "state.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
