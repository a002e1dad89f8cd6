"""RayExecutor on a local Ray (2 CPUs): same results and error contract as local processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sciprep.execution import Executor, RayExecutor, TaskFailed
from tests.execution.tasks import MarkDone, die_on, parse_int, square_after_work


def test_results_come_back_in_input_order(ray_local: Any) -> None:
    items = list(range(30))
    executor = RayExecutor()
    assert isinstance(executor, Executor) and not executor.inline
    assert executor.map(square_after_work, items, desc="squares", progress=False) == [n * n for n in items]


def test_a_task_error_keeps_its_type_and_names_the_task(ray_local: Any) -> None:
    with pytest.raises(ValueError, match="invalid literal") as info:
        RayExecutor().map(parse_int, ["1", "oops", "3"], desc="parse", progress=False)
    assert "while running parse task oops" in info.value.__notes__
    assert not isinstance(info.value, ray_local.exceptions.RayError), "the task's own exception, not Ray's wrapper"


def test_tasks_submitted_before_a_failure_run_to_their_end(ray_local: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="item b is bad"):
        RayExecutor().map(MarkDone(tmp_path, fail="b"), ["a", "b", "c"], desc="mark", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "c"]


def test_a_worker_that_dies_is_a_task_failure_naming_the_task(ray_local: Any) -> None:
    with pytest.raises(TaskFailed, match="Ray lost task b"):
        RayExecutor(max_retries=0).map(die_on("b"), ["a", "b"], desc="die", label=lambda s: s, progress=False)


def test_an_address_other_than_the_connected_cluster_is_refused(ray_local: Any) -> None:
    with pytest.raises(ValueError, match="already connected to the Ray cluster at"):
        RayExecutor(address="127.0.0.1:1")


def test_closing_an_executor_leaves_a_ray_it_found_running(ray_local: Any) -> None:
    current = ray_local.get_runtime_context().gcs_address
    with RayExecutor(address=current) as executor:
        assert executor.map(parse_int, ["7"], desc="parse", progress=False) == [7]
    assert ray_local.is_initialized(), "a Ray the executor did not start is not its to stop"
