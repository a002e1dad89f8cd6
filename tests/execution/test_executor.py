"""Choosing an executor from the command line, and keeping Ray out of the default path."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from sciprep.cli import main
from sciprep.corpus import build
from sciprep.execution import LocalExecutor, RayNotInstalled, add_executor_arguments, executor_from_args


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_executor_arguments(parser)
    return parser.parse_args(argv)


def test_the_default_is_one_local_worker_in_this_process() -> None:
    executor = executor_from_args(_args())
    assert isinstance(executor, LocalExecutor) and executor.workers == 1 and executor.inline


def test_workers_choose_the_local_pool_size() -> None:
    executor = executor_from_args(_args("--workers", "3"))
    assert isinstance(executor, LocalExecutor) and executor.workers == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--address", "10.0.0.1:6379"], "--address names a Ray cluster; add --executor ray"),
        (["--executor", "ray", "--workers", "2"], "--workers applies to --executor local"),
        (["--workers", "0"], "--workers must be a positive integer"),
    ],
)
def test_flags_that_do_not_fit_together_are_input_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        executor_from_args(_args(*argv))


def test_ray_executor_without_ray_installed_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(RayNotInstalled, match=r"pip install 'sciprep\[ray\]'"):
        executor_from_args(_args("--executor", "ray"))
    (tmp_path / "in" / "shards").mkdir(parents=True)
    code = main(["clean", "--in", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--executor", "ray"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "pip install 'sciprep[ray]'" in err


def test_a_ray_without_the_ray_data_features_used_is_refused_naming_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("ray.data", reason="the optional `ray` extra is not installed (pip install 'sciprep[ray]')")
    import ray.data.context

    monkeypatch.delattr(ray.data.context, "ShuffleStrategy")  # as in Ray 2.40
    with pytest.raises(RayNotInstalled, match=r"needs Ray >= 2\.60, found .*pip install 'sciprep\[ray\]' --upgrade"):
        executor_from_args(_args("--executor", "ray"))


def test_building_and_cleaning_locally_never_imports_ray(tmp_path: Path) -> None:
    (tmp_path / "a.fasta").write_text(">sp|P1|A_HUMAN Alpha\nMKVLAAGIVGLLLAAGCSSA\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from sciprep.cli import main\n"
        f"assert main(['corpus', 'build', '--out', {str(tmp_path / 'c')!r}, '--no-progress', '--workers', '2',"
        f" {str(tmp_path / 'a.fasta')!r}]) == 0\n"
        f"assert main(['clean', '--in', {str(tmp_path / 'c')!r}, '--out', {str(tmp_path / 'k')!r},"
        " '--no-progress']) == 0\n"
        "assert 'ray' not in sys.modules, 'the local path imported ray'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_an_unreachable_cluster_address_fails_at_once_naming_it(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the optional `ray` extra is not installed (pip install 'sciprep[ray]')")
    (tmp_path / "in" / "shards").mkdir(parents=True)
    argv = ["clean", "--in", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--executor", "ray"]
    script = f"import sys\nfrom sciprep.cli import main\nsys.exit(main({argv + ['--address', '127.0.0.1:1']!r}))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "cannot reach a Ray cluster at --address 127.0.0.1:1" in done.stderr and "ray start --head" in done.stderr


def test_the_command_line_error_names_the_task_it_arose_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.fasta").write_text(">sp|P1|A_HUMAN Alpha\nMKVLAAGIVGLLLAAGCSSA\n", encoding="utf-8")

    def unreadable(*_: object) -> None:
        raise ValueError("a.fasta: unreadable record 1")

    monkeypatch.setattr(build, "_run_source", unreadable)
    argv = ["corpus", "build", "--out", str(tmp_path / "c"), "--no-progress", str(tmp_path / "a.fasta")]
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["sciprep: error: a.fasta: unreadable record 1 (while running corpus: read task source a)"]
