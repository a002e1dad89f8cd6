"""LocalExecutor: results in input order, task errors keep their type and name the task."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.execution import Executor, LocalExecutor, TaskFailed
from tests.execution.tasks import (
    DieWhilePartnerRuns,
    MarkDone,
    wait_for,
    parse_int,
    square_after_work,
    worker_pid,
)


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_input_order(workers: int) -> None:
    items = list(range(40))
    with LocalExecutor(workers=workers) as executor:
        results = executor.map(square_after_work, items, desc="squares", progress=False)
    assert results == [n * n for n in items]


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(0, 200), max_size=12))
def test_a_pool_map_equals_the_plain_comprehension(items: list[int]) -> None:
    with LocalExecutor(workers=2) as executor:
        results = executor.map(square_after_work, items, desc="squares", progress=False)
    assert results == [square_after_work(n) for n in items]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_task_error_keeps_its_type_and_names_the_task(workers: int) -> None:
    with LocalExecutor(workers=workers) as executor, pytest.raises(ValueError, match="invalid literal") as info:
        executor.map(parse_int, ["1", "oops", "3"], desc="parse", progress=False)
    assert "while running parse task oops" in info.value.__notes__


def test_a_worker_that_dies_is_a_task_failure_naming_the_tasks_then_running(tmp_path: Path) -> None:
    task = DieWhilePartnerRuns(tmp_path, bad="d", partner="a")
    with LocalExecutor(workers=2) as executor:
        with pytest.raises(TaskFailed, match="worker process died") as info:
            executor.map(task, ["a", "d", "b", "c"], desc="die", label=lambda s: s, progress=False)
        assert "one of tasks a, d;" in str(info.value), "the healthy task a is not blamed alone"
        assert not (tmp_path / "b.started").exists(), "a broken pool starts nothing more"
        assert executor.map(str.upper, ["a", "b"], desc="again", progress=False) == ["A", "B"], "a new pool"


def test_workers_exit_when_the_process_that_started_them_is_killed(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from sciprep.execution import LocalExecutor; "
        "from tests.execution.tasks import RecordPidAndWait\n"
        "if __name__ == '__main__':\n"
        "    LocalExecutor(workers=2).map(RecordPidAndWait(Path(sys.argv[1])), ['a', 'b'], desc='t', progress=False)\n"
    )
    driver = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], cwd=Path(__file__).parents[2], stderr=subprocess.DEVNULL
    )
    try:
        pid_files = [tmp_path / "a.pid", tmp_path / "b.pid"]
        assert all(wait_for(p) for p in pid_files), "the workers started their tasks"
        workers = [int(p.read_text(encoding="utf-8")) for p in pid_files]
    finally:
        driver.kill()
        driver.wait()
    assert _wait_until_gone(workers), f"workers {workers} outlived their killed driver"


def _wait_until_gone(pids: list[int], seconds: float = 20.0) -> bool:
    for _ in range(int(seconds * 20)):
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_in_process_tasks_before_a_failure_keep_their_output(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="item b is bad"):
        LocalExecutor().map(MarkDone(tmp_path, fail="b"), ["a", "b", "c"], desc="mark", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


@pytest.mark.parametrize("workers", [0, -1, True, 1.5])
def test_workers_must_be_a_positive_integer(workers: object) -> None:
    with pytest.raises(ValueError, match="--workers must be a positive integer"):
        LocalExecutor(workers=workers)  # type: ignore[arg-type]


def test_local_executors_satisfy_the_protocol() -> None:
    assert isinstance(LocalExecutor(), Executor) and LocalExecutor().inline
    assert not LocalExecutor(workers=2).inline


def test_a_pool_is_reused_across_maps_and_restarted_after_close() -> None:
    with LocalExecutor(workers=2) as executor:
        first = executor.map(worker_pid, list(range(6)), desc="pids", progress=False)
        second = executor.map(worker_pid, list(range(6)), desc="pids", progress=False)
        assert len(set(first) | set(second)) <= 2 and os.getpid() not in first, "the same two workers"
        executor.close()
        third = executor.map(worker_pid, list(range(6)), desc="pids", progress=False)
    assert not set(third) & set(first), "close() stopped the old workers"
