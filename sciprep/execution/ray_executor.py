"""Run tasks on a Ray cluster (or a local Ray started on demand).

Ray is an optional extra: it is imported only when a :class:`RayExecutor` is made, and
a missing install raises :class:`RayNotInstalled` saying ``pip install 'sciprep[ray]'``.

Every node must see the same paths (inputs and the output directory on a shared
filesystem, as on any multi-node data pipeline) and have sciprep installed: tasks run
sciprep's functions and write their outputs and completion markers themselves.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tqdm import tqdm

from sciprep.execution.executor import RAY_EXTRA_HINT, TaskFailed, task_note

T = TypeVar("T")
R = TypeVar("R")

#: Tasks kept submitted per cluster CPU: enough to keep workers busy while the driver
#: collects results, few enough that a failure drains quickly.
_IN_FLIGHT_PER_CPU = 2


class RayNotInstalled(ImportError, ValueError):
    """``--executor ray`` without Ray installed (a ValueError too: the CLI prints one line)."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayNotInstalled(f"--executor ray needs Ray, which is not installed: {RAY_EXTRA_HINT}") from None
    return ray


def _check_reachable(address: str) -> None:
    """Fail at once, naming the address, when nothing listens at ``HOST:PORT`` (Ray itself
    would retry for minutes). Other address forms (``auto``, ``ray://...``) go to Ray as given."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except OSError as err:
        raise ValueError(
            f"cannot reach a Ray cluster at --address {address}: {err} "
            "(start one with `ray start --head` and pass the address it prints)"
        ) from None


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    """The body of every Ray task: one work item through the map's function."""
    return fn(item)


class RayExecutor:
    """Tasks as ``ray.remote`` functions, one CPU each.

    ``address=None``: use the Ray this process is already connected to, else start a
    local one with ``ray.init()`` (all CPUs of this machine). ``address="HOST:PORT"`` or
    ``"auto"``: join that cluster (``ray start --head`` on the head node starts one).
    Ray retries a task whose worker died up to ``max_retries`` times (Ray's default, 3;
    tasks are idempotent: their writes are atomic); an exception the task itself raises
    is not retried. On the first failure no further task is
    submitted, tasks already submitted run to their end (their markers are written), and
    the error is raised: the task's own exception with a note naming the task, or
    :class:`~sciprep.execution.TaskFailed` when Ray lost the task.
    """

    inline = False

    def __init__(self, address: str | None = None, *, max_retries: int = 3) -> None:
        ray = _import_ray()
        self._started = not ray.is_initialized()
        if self._started:
            if address:
                _check_reachable(address)
            try:
                ray.init(address=address) if address else ray.init()
            except ConnectionError as err:
                raise ValueError(
                    f"could not connect to the Ray cluster at {address}: {err} "
                    "(start one with `ray start --head`, then pass its address)"
                ) from None
        self.address = address
        self._ray = ray
        self._remote = ray.remote(max_retries=max_retries)(_call)

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r})"

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect from Ray if this executor connected (a Ray it found running stays)."""
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        desc: str,
        label: Callable[[T], str] = str,
        progress: bool = True,
    ) -> list[R]:
        """``[fn(item) for item in items]`` in input order; see :class:`~sciprep.execution.Executor`."""
        ray = self._ray
        items = list(items)
        if not items:
            return []
        fn_ref = ray.put(fn)  # shipped once, shared by every task of this map
        window = max(1, int(ray.cluster_resources().get("CPU", 1))) * _IN_FLIGHT_PER_CPU
        results: dict[int, R] = {}
        in_flight: dict[Any, int] = {}
        submitted = 0
        failure: BaseException | None = None
        with tqdm(total=len(items), desc=desc, unit="task", disable=not progress) as bar:
            while in_flight or (failure is None and submitted < len(items)):
                while failure is None and submitted < len(items) and len(in_flight) < window:
                    name = label(items[submitted])
                    task = self._remote.options(name=f"{desc} {name}"[:200])
                    in_flight[task.remote(fn_ref, items[submitted])] = submitted
                    submitted += 1
                done, _ = ray.wait(list(in_flight), num_returns=1)
                index = in_flight.pop(done[0])
                try:
                    results[index] = ray.get(done[0])
                    bar.update()
                except Exception as err:
                    if failure is None:
                        failure = _task_error(ray, err, desc, label(items[index]))
        if failure is not None:
            raise failure
        return [results[n] for n in range(len(items))]


def _task_error(ray: Any, err: Exception, desc: str, name: str) -> BaseException:
    """The exception to raise for a failed task: the task's own, or :class:`TaskFailed`."""
    if isinstance(err, ray.exceptions.RayTaskError) and isinstance(err.cause, BaseException):
        cause: BaseException = err.cause
        cause.add_note(task_note(desc, name))
        if getattr(err, "traceback_str", ""):
            cause.add_note(f"worker traceback:\n{err.traceback_str}")
        return cause
    if isinstance(err, ray.exceptions.RayError):
        failed = TaskFailed(
            f"{desc}: Ray lost task {name} ({type(err).__name__}: {err}); finished tasks are kept: rerun to resume"
        )
        failed.__cause__ = err
        return failed
    return err
