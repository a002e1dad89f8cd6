"""LaTeX sources are read in memory, bounded, without links or path escapes."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
from pathlib import Path

import pytest

from sciprep.corpus.latex import archive
from sciprep.corpus.latex.archive import SourceError, load_source


def _tar_gz(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return path


def test_tar_gz_keeps_text_files_and_skips_binaries(tmp_path: Path) -> None:
    path = _tar_gz(
        tmp_path / "p.tar.gz", {"main.tex": b"\\documentclass{article}", "sec/a.tex": b"A", "fig.png": b"\x89PNG"}
    )
    files = load_source(path).files
    assert files == {"main.tex": b"\\documentclass{article}", "sec/a.tex": b"A"}


def test_members_escaping_the_archive_and_links_are_skipped(tmp_path: Path) -> None:
    path = _tar_gz(
        tmp_path / "evil.tar.gz",
        {"../evil.tex": b"x", "/etc/abs.tex": b"y", "./ok.tex": b"z"},
        links={"link.tex": "/etc/passwd"},
    )
    source = load_source(path)
    assert source.files == {"ok.tex": b"z"}
    assert any("outside the archive" in s for s in source.skipped)
    assert any("link" in s for s in source.skipped)


def test_truncated_archive_is_a_source_error(tmp_path: Path) -> None:
    noise = random.Random(0).randbytes(50_000)  # incompressible, so the cut lands mid-member
    whole = _tar_gz(tmp_path / "w.tar.gz", {"main.tex": b"\\documentclass{article}" + noise})
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    with pytest.raises(SourceError, match="corrupt or truncated"):
        load_source(cut)


def test_garbage_with_gzip_magic_is_a_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"\x1f\x8b" + b"not really gzip" * 10)
    with pytest.raises(SourceError):
        load_source(bad)


def test_single_gzipped_tex_is_a_source(tmp_path: Path) -> None:
    path = tmp_path / "1234.5678.gz"
    path.write_bytes(gzip.compress(b"\\documentclass{article}\\begin{document}hi\\end{document}"))
    assert list(load_source(path).files) == ["1234.5678.tex"]


def test_gzip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_FILE_BYTES", 10_000)
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b"a" * 100_000))
    with pytest.raises(SourceError, match="more than 10000 bytes"):
        load_source(path)


def test_member_count_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 3)
    path = _tar_gz(tmp_path / "many.tar.gz", {f"f{i}.tex": b"x" for i in range(5)})
    with pytest.raises(SourceError, match="more than 3 members"):
        load_source(path)


def test_directory_source_skips_symlinks(tmp_path: Path) -> None:
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "main.tex").write_bytes(b"M")
    (tmp_path / "secret.tex").write_bytes(b"S")
    (tmp_path / "paper" / "leak.tex").symlink_to(tmp_path / "secret.tex")
    source = load_source(tmp_path / "paper")
    assert source.files == {"main.tex": b"M"}
    assert source.skipped == ["leak.tex (symbolic link)"]


def test_unknown_file_type_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("plain")
    with pytest.raises(SourceError, match="not a LaTeX source"):
        load_source(path)
