"""Run tasks on this machine: in the calling process, or in a pool of worker processes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from tqdm import tqdm

from sciprep.execution.executor import TaskFailed, task_note

T = TypeVar("T")
R = TypeVar("R")


class LocalExecutor:
    """Processes on one machine; ``workers=1`` (the default) runs every task in this process.

    With more workers the first :meth:`map` starts a pool of ``workers`` processes
    (``forkserver`` start: safe beside threads that libraries such as Ray or Arrow
    started in this process) that later maps reuse, so modules are imported once per
    worker, not once per pass; :meth:`close` (or leaving a ``with`` block, or dropping
    the executor) stops it. ``fn`` and each item are pickled per task. On the first
    failing task, tasks not yet started are cancelled and running ones finish (their
    markers are written), then the error is raised.
    """

    def __init__(self, workers: int = 1) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"--workers must be a positive integer, got {workers!r}")
        self.workers = workers
        self.inline = workers == 1
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes (a later :meth:`map` starts new ones)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

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
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        futures: dict[Future[R], int] = {self._pool.submit(fn, item): n for n, item in enumerate(items)}
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
                            f"{desc}: a worker process died while running task {label(items[index])} "
                            "(killed, or out of memory); finished tasks are kept: rerun to resume"
                        ) from err
                    except Exception as err:
                        err.add_note(task_note(desc, label(items[index])))
                        raise
                    bar.update()
        except BaseException:
            for future in futures:
                future.cancel()
            wait(futures)  # running tasks finish: their outputs and markers are complete
            if any(isinstance(f.exception(), BrokenProcessPool) for f in futures if not f.cancelled()):
                self.close()  # a broken pool takes no more work; the next map starts a new one
            raise
        return [results[n] for n in range(len(items))]
