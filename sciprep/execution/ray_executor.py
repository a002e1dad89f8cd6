"""Run tasks on a Ray cluster (or a local Ray started on demand).

Ray is an optional extra: it is imported only when a :class:`RayExecutor` is made, and
a missing install (or one older than :data:`MIN_RAY_VERSION`) raises
:class:`RayNotInstalled` saying ``pip install 'sciprep[ray]'``.

Every node must see the same paths (inputs and the output directory on a shared
filesystem, as on any multi-node data pipeline) and have sciprep installed: tasks run
sciprep's functions and write their outputs and completion markers themselves.
"""

from __future__ import annotations

import logging
import os
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
#: The oldest Ray sciprep is tested with (the ``ray`` extra's floor): the decisions use
#: Ray Data's ``ShuffleStrategy`` and the ``DataContext.current`` context manager.
MIN_RAY_VERSION = "2.60"


class RayNotInstalled(ImportError, ValueError):
    """``--executor ray`` without a usable Ray (a ValueError too: the CLI prints one line)."""


def _import_ray() -> Any:
    try:
        import ray
        import ray.data.context as data_context
    except ImportError:
        raise RayNotInstalled(
            f"--executor ray needs Ray >= {MIN_RAY_VERSION} with Ray Data, which is not installed: {RAY_EXTRA_HINT}"
        ) from None
    if not (hasattr(data_context, "ShuffleStrategy") and hasattr(data_context.DataContext, "current")):
        raise RayNotInstalled(
            f"--executor ray needs Ray >= {MIN_RAY_VERSION}, found {ray.__version__}: {RAY_EXTRA_HINT} --upgrade"
        )
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


def _same_endpoint(a: str, b: str) -> bool:
    """Whether two ``HOST:PORT`` addresses name the same endpoint (host names resolved)."""
    def norm(address: str) -> tuple[str, str]:
        host, _, port = address.rpartition(":")
        try:
            return socket.gethostbyname(host.strip("[]")), port
        except OSError:
            return host, port

    return norm(a) == norm(b)


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    """The body of every Ray task: one work item through the map's function."""
    return fn(item)


class RayExecutor:
    """Tasks as ``ray.remote`` functions, one CPU each.

    Which Ray: when this process is already connected to one, that one (an ``address``
    naming another cluster is an error, not silently ignored). Otherwise ``address``
    (``"HOST:PORT"`` of a cluster ``ray start --head`` started, or ``"auto"``: the
    cluster started last on this machine); without one, the cluster in the
    ``RAY_ADDRESS`` environment variable (Ray's convention) if set, else a new local Ray
    on this machine's CPUs, started without its dashboard and quiet (errors only; the
    tasks' own log lines stay in Ray's session logs) and stopped by :meth:`close`. A
    ``ray start`` cluster that merely runs on this machine is joined only when asked
    for (``address="auto"``). After :meth:`close`, a new :meth:`map` connects again the
    same way.

    Ray retries a task whose worker died up to ``max_retries`` times (Ray's default, 3;
    tasks are idempotent: their writes are atomic and a finished task's rerun changes
    nothing); an exception the task itself raises is not retried. On the first failure
    no further task is submitted, tasks already submitted run to their end (their
    markers are written), and the error is raised: the task's own exception with a note
    naming the task, or :class:`~sciprep.execution.TaskFailed` when Ray lost the task.
    """

    inline = False

    def __init__(self, address: str | None = None, *, max_retries: int = 3) -> None:
        ray = _import_ray()
        self.address = address
        self._ray = ray
        self._started = False
        self._remote = ray.remote(max_retries=max_retries)(_call)
        self._connect()

    def _connect(self) -> None:
        """Join or start the Ray the class docstring describes."""
        ray, address = self._ray, self.address
        if ray.is_initialized():
            current = ray.get_runtime_context().gcs_address
            if address not in (None, "auto") and not _same_endpoint(address, current):
                raise ValueError(
                    f"--address {address}: this process is already connected to the Ray cluster at "
                    f"{current}; call ray.shutdown() first, or pass that address"
                )
            return
        target = address or os.environ.get("RAY_ADDRESS") or None
        try:
            if target is None:
                ray.init(address="local", include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
            else:
                _check_reachable(target)
                ray.init(address=target, logging_level=logging.ERROR, log_to_driver=False)
        except ConnectionError as err:
            raise ValueError(
                f"could not connect to the Ray cluster at {target}: {err} "
                "(start one with `ray start --head`, then pass its address)"
            ) from None
        self._started = True

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r})"

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect from Ray if this executor connected (a Ray it found running stays);
        a local Ray this executor started is stopped with it."""
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
        if not ray.is_initialized():
            self._connect()  # after close(): connect as at creation, never Ray's own auto-init
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


def unwrap_task_error(err: BaseException) -> BaseException:
    """The exception a Ray task itself raised, out of Ray's ``RayTaskError`` wrapper (the
    worker's traceback kept as ``__cause__``); anything else is returned as it is.

    Ray Data wraps a failing ``map_batches`` function's exception the same way, so input
    errors raised inside Ray tasks reach the user as the one-line errors they are locally.
    """
    import ray

    while isinstance(err, ray.exceptions.RayTaskError) and isinstance(err.cause, BaseException):
        cause: BaseException = err.cause
        if cause.__cause__ is None and getattr(err, "traceback_str", ""):
            cause.__cause__ = _WorkerTraceback(err.traceback_str)
        err = cause
    return err


class _WorkerTraceback(Exception):
    """Carries the traceback a Ray worker printed, as the ``__cause__`` of its exception."""


def _task_error(ray: Any, err: Exception, desc: str, name: str) -> BaseException:
    """The exception to raise for a failed task: the task's own, or :class:`TaskFailed`."""
    cause = unwrap_task_error(err)
    if cause is not err:
        cause.add_note(task_note(desc, name))
        return cause
    if isinstance(err, ray.exceptions.RayError):
        failed = TaskFailed(
            f"{desc}: Ray lost task {name} ({type(err).__name__}: {err}); finished tasks are kept: rerun to resume"
        )
        failed.__cause__ = err
        return failed
    return err
