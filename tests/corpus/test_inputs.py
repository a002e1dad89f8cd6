"""Expanding a source's paths: folders of papers, links inside input folders."""

from __future__ import annotations

import os
from pathlib import Path

from sciprep.corpus.inputs import display_path, expand_paths, input_problem


def _paper(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n", encoding="utf-8")


def test_folder_of_independent_papers_gives_one_input_per_main_file(tmp_path: Path) -> None:
    _paper(tmp_path / "papers" / "a.tex", "First.")
    _paper(tmp_path / "papers" / "b.tex", "Second \\input{figure}.")
    (tmp_path / "papers" / "figure.tex").write_text("\\documentclass{standalone}\\begin{document}x\\end{document}")
    (tmp_path / "papers" / "refs.bib").write_text("@misc{k, title={T}}\n", encoding="utf-8")
    found = expand_paths(("papers",), tmp_path, None, "s")
    assert [p.name for p in found] == ["a.tex", "b.tex"]


def test_one_paper_with_its_input_tree_stays_one_source(tmp_path: Path) -> None:
    _paper(tmp_path / "paper" / "main.tex", "\\input{sections/intro}\\subfile{appendix}")
    _paper(tmp_path / "paper" / "appendix.tex", "A subfile is a full document but part of main.")
    (tmp_path / "paper" / "sections").mkdir()
    (tmp_path / "paper" / "sections" / "intro.tex").write_text("Intro.", encoding="utf-8")
    assert expand_paths(("paper",), tmp_path, None, "s") == [Path(os.path.realpath(tmp_path / "paper"))]


def test_links_inside_a_folder_are_listed_not_followed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "loop").mkdir(parents=True)
    (data / "a.fasta").write_text(">a\nMKV\n", encoding="utf-8")
    (data / "loop" / "up").symlink_to("..")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.fasta").write_text(">s\nMKV\n", encoding="utf-8")
    (data / "outlink").symlink_to(outside)
    (data / "broken.fasta").symlink_to(data / "gone.fasta")
    found = expand_paths(("data",), tmp_path, None, "s")
    assert sorted(display_path(p, tmp_path) for p in found) == [
        "data/a.fasta",
        "data/broken.fasta",
        "data/loop/up",
        "data/outlink",
    ]
    problems = {p.name: input_problem(p) for p in found}
    assert problems["a.fasta"] is None
    assert all("symbolic link" in (problems[n] or "") for n in ("broken.fasta", "up", "outlink"))


def test_a_link_the_recipe_names_itself_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real.fasta").write_text(">a\nMKV\n", encoding="utf-8")
    (tmp_path / "named.fasta").symlink_to(tmp_path / "real.fasta")
    (found,) = expand_paths(("named.fasta",), tmp_path, None, "s")
    assert input_problem(found) is None and found.read_text(encoding="utf-8") == ">a\nMKV\n"


def test_display_path_of_a_looping_link_does_not_raise(tmp_path: Path) -> None:
    (tmp_path / "x").symlink_to(tmp_path / "y")
    (tmp_path / "y").symlink_to(tmp_path / "x")
    assert display_path(tmp_path / "x", tmp_path) == "x"
