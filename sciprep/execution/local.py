"""Run tasks on this machine: in the calling process, or in a pool of worker processes."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any, TypeVar

from tqdm import tqdm

from sciprep.execution.executor import TaskFailed, task_note

T = TypeVar("T")
R = TypeVar("R")

#: How often a worker checks that the process that started the pool is still there.
_PARENT_POLL_S = 0.5
_IDLE = -1
#: In a worker process: the pool's table of running tasks, and this worker's slot in it.
_running: SynchronizedArray[Any] | None = None
_slot = 0


def _start_worker(driver: int, running: SynchronizedArray[Any], slots: Any) -> None:
    """Pool initializer: take a slot in ``running`` and exit when ``driver`` is gone.

    A worker whose driver was killed (``kill -9``, out of memory) would otherwise wait on
    its task queue forever, its siblings holding the queue open.
    """
    global _running, _slot
    _running = running
    with slots.get_lock():
        _slot = slots.value % len(running)
        slots.value += 1
    parent = os.getppid()

    def watch() -> None:
        while True:
            threading.Event().wait(_PARENT_POLL_S)
            try:
                os.kill(driver, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # the pid now belongs to another user's process
                os._exit(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="sciprep-parent-watch", daemon=True).start()


def _run_task(fn: Callable[[T], R], token: int, item: T) -> R:
    """Run one task, recording ``token`` in this worker's slot while it runs, so a pool
    that breaks can name the tasks it was running."""
    if _running is None:
        raise RuntimeError("_run_task runs in a LocalExecutor worker, whose initializer sets up the task table")
    _running[_slot] = token
    try:
        return fn(item)
    finally:
        _running[_slot] = _IDLE


class LocalExecutor:
    """Processes on one machine; ``workers=1`` (the default) runs every task in this process.

    With more workers the first :meth:`map` starts a pool of ``workers`` processes
    (``forkserver`` start: safe beside threads that libraries such as Ray or Arrow
    started in this process) that later maps reuse, so modules are imported once per
    worker, not once per pass; :meth:`close` (or leaving a ``with`` block, or dropping
    the executor) stops it. ``fn`` and each item are pickled per task. On the first
    task that raises, tasks not yet started are cancelled and running ones finish (their
    markers are written), then the error is raised. A worker that dies (killed, out of
    memory) breaks the pool: every task running in it is stopped unfinished (its marker
    is not written, a rerun redoes it) and :class:`~sciprep.execution.TaskFailed` names
    the tasks that were running. Workers exit by themselves when the process that
    started them dies.
    """

    def __init__(self, workers: int = 1) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"--workers must be a positive integer, got {workers!r}")
        self.workers = workers
        self.inline = workers == 1
        self._pool: ProcessPoolExecutor | None = None
        self._running: SynchronizedArray[Any] | None = None
        self._tokens = 0

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes (a later :meth:`map` starts new ones)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._running = None

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers})"

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
        items = list(items)
        with tqdm(total=len(items), desc=desc, unit="task", disable=not progress) as bar:
            if self.inline or len(items) <= 1:
                return self._map_inline(fn, items, desc, label, bar)
            return self._map_pool(fn, items, desc, label, bar)

    @staticmethod
    def _map_inline(
        fn: Callable[[T], R], items: list[T], desc: str, label: Callable[[T], str], bar: tqdm
    ) -> list[R]:
        results: list[R] = []
        for item in items:
            try:
                results.append(fn(item))
            except Exception as err:
                err.add_note(task_note(desc, label(item)))
                raise
            bar.update()
        return results

    def _map_pool(
        self, fn: Callable[[T], R], items: list[T], desc: str, label: Callable[[T], str], bar: tqdm
    ) -> list[R]:
        if self._pool is None or self._running is None:
            context = multiprocessing.get_context("forkserver")
            self._running = context.Array("q", [_IDLE] * self.workers)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_start_worker,
                initargs=(os.getpid(), self._running, context.Value("q", 0)),
            )
        running = self._running
        first = self._tokens
        self._tokens += len(items)
        futures: dict[Future[R], int] = {
            self._pool.submit(_run_task, fn, first + n, item): n for n, item in enumerate(items)
        }
        results: dict[int, R] = {}
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in sorted(done, key=futures.__getitem__):
                    index = futures[future]
                    try:
                        results[index] = future.result()
                    except BrokenProcessPool as err:
                        raise TaskFailed(
                            f"{desc}: a worker process died (killed, or out of memory) while running "
                            f"{_running_tasks(running, first, items, label)}; the tasks then running were "
                            "stopped unfinished, finished tasks are kept: rerun to resume"
                        ) from err
                    except Exception as err:
                        err.add_note(task_note(desc, label(items[index])))
                        raise
                    bar.update()
        except BaseException:
            for future in futures:
                future.cancel()
            wait(futures)  # running tasks finish (unless the pool broke): their outputs and markers are complete
            if any(isinstance(f.exception(), BrokenProcessPool) for f in futures if not f.cancelled()):
                self.close()  # a broken pool takes no more work; the next map starts a new one
            raise
        return [results[n] for n in range(len(items))]


def _running_tasks(running: SynchronizedArray[Any], first: int, items: list[Any], label: Callable[[Any], str]) -> str:
    """``task a`` or ``one of tasks a, d``: the tasks of this map the workers were running."""
    names = [label(items[t - first]) for t in sorted(set(running[:])) if first <= t < first + len(items)]
    if not names:
        return "a task"
    return f"task {names[0]}" if len(names) == 1 else f"one of tasks {', '.join(names)}"
