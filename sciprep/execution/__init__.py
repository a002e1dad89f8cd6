"""Where tasks run: processes on this machine, or a Ray cluster.

Corpus build and cleaning hand their independent tasks (input files or sources, shards)
to an :class:`Executor`; :class:`LocalExecutor` (the default, ``workers=1`` runs in this
process) and :class:`RayExecutor` give byte-identical output. Ray is imported only when a
:class:`RayExecutor` is made.
"""

from sciprep.execution.executor import (
    RAY_EXTRA_HINT,
    Executor,
    TaskFailed,
    add_executor_arguments,
    executor_from_args,
)
from sciprep.execution.local import LocalExecutor
from sciprep.execution.ray_executor import RayExecutor, RayNotInstalled

__all__ = [
    "RAY_EXTRA_HINT",
    "Executor",
    "LocalExecutor",
    "RayExecutor",
    "RayNotInstalled",
    "TaskFailed",
    "add_executor_arguments",
    "executor_from_args",
]
