"""The executor contract: run one function over many work items, results in input order.

Corpus build and cleaning cut their work into independent tasks (an input file or source,
a shard) whose outputs are written atomically with a completion marker, and hand them to
an :class:`Executor`. The result list is in the order of the items whatever order the
tasks finish in, so every executor gives byte-identical output.

Errors: an exception raised by the task function reaches the caller with its own type
(a ``ValueError`` stays an input error) and a note naming the task; a worker that dies
(killed, out of memory, lost node) raises :class:`TaskFailed` naming the task (a local
pool, which cannot tell which worker died, names the tasks then running). Tasks that
finished before a failure keep their markers, so a rerun resumes after them. Tasks must
be idempotent (Ray reruns a task whose worker died even after it finished) and receive
absolute paths (their working directory is not the caller's).

Executors are context managers (``with LocalExecutor(workers=4) as executor:``);
:meth:`Executor.close` releases what they started. The command line (``sciprep corpus
build``, ``sciprep clean``) chooses one with
``--executor {local,ray}``, ``--address ADDR`` and ``--workers N``; see
:func:`add_executor_arguments` and :func:`executor_from_args`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from sciprep.execution.local import LocalExecutor
    from sciprep.execution.ray_executor import RayExecutor

T = TypeVar("T")
R = TypeVar("R")

#: What ``pip install`` line brings Ray in; named in every "Ray is missing" message.
RAY_EXTRA_HINT = "pip install 'sciprep[ray]'"


class TaskFailed(RuntimeError):
    """A task could not run to its end because its worker died or was lost (not a task error)."""


@runtime_checkable
class Executor(Protocol):
    """Runs ``fn`` over ``items``; see the module docstring for order and error guarantees."""

    #: True when tasks run in the calling process (nested progress bars are then fine).
    inline: bool

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        desc: str,
        label: Callable[[T], str] = str,
        progress: bool = True,
    ) -> list[R]:
        """``[fn(item) for item in items]``, computed by this executor's workers.

        ``desc`` names the pass on the progress bar and in errors; ``label(item)`` names
        one task in errors (a shard or file name). ``fn`` and the items must pickle
        unless the executor is inline.
        """
        ...

    def close(self) -> None:
        """Release the workers this executor started (it may be used again after)."""
        ...


def task_note(desc: str, name: str) -> str:
    """The note added to an exception a task raised: which pass and which task."""
    return f"while running {desc} task {name}"


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--executor``, ``--address`` and ``--workers`` to a sub-command's parser."""
    group = parser.add_argument_group("execution")
    group.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: processes on this machine (default); ray: tasks on a Ray cluster "
        f"(needs {RAY_EXTRA_HINT})",
    )
    group.add_argument(
        "--address",
        metavar="ADDR",
        help="Ray cluster to join (e.g. 10.0.0.1:6379, or 'auto': the one `ray start` started on this "
        "machine); default: $RAY_ADDRESS if set, else start a local Ray for this command",
    )
    group.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes for --executor local (default 1: run in this process)",
    )


def executor_from_args(args: argparse.Namespace) -> LocalExecutor | RayExecutor:
    """The executor the flags of :func:`add_executor_arguments` ask for.

    Raises ValueError (a one-line CLI error) for flags that do not fit together, for a
    missing Ray install, or for a Ray cluster that cannot be reached.
    """
    if args.executor == "ray":
        if args.workers is not None:
            raise ValueError("--workers applies to --executor local; Ray runs one task per CPU of the cluster")
        from sciprep.execution.ray_executor import RayExecutor

        return RayExecutor(address=args.address)
    if args.address is not None:
        raise ValueError("--address names a Ray cluster; add --executor ray")
    from sciprep.execution.local import LocalExecutor

    return LocalExecutor(workers=1 if args.workers is None else args.workers)
