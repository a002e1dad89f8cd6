"""The LaTeX reader end to end: synthetic sources for each rule, and a real arXiv paper."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest

from sciprep.corpus.document import Document
from sciprep.corpus.readers import detect_reader
from sciprep.corpus.readers.latex import read
from sciprep.corpus.shards import Reject

MAIN = r"""\documentclass{article}
\usepackage{amsmath}
\newcommand{\method}{\textsc{Foo}\xspace}
\newcommand{\norm}[1]{\lVert #1 \rVert}
\newtheorem{thm}{Theorem}
\title{A Study of \method}
\author{Ada Lovelace \and Alan M. Turing\thanks{Equal contribution.} \\ University of Nowhere}
\begin{document}
\maketitle
\begin{abstract}
We present \method, costing \$5. % secret reviewer note
\end{abstract}
\section{Introduction}\label{sec:intro}
Prior work~\cite{smith20,jones19} and \citet{smith20} and \cite{nokey} shaped \method{} deeply.
Half-%
word joins. As shown in Section~\ref{sec:method} and Eq.~\eqref{eq:main}.
\input{sections/method}
\begin{figure}[t]
  \centering\includegraphics{fig.png}
  \caption{The \method pipeline.}\label{fig:pipe}
\end{figure}
\begin{thm}Every $x$ is fine.\end{thm}
\appendix
\section{Proofs}
See Figure~\ref{fig:pipe}.
\bibliography{refs}
\end{document}
"""

METHOD = r"""\section{Method}\label{sec:method}
We minimise
\begin{equation}\label{eq:main}
  \norm{x - y}^2
\end{equation}
\begin{itemize}
\item first point
\item second point
\end{itemize}
"""

BIB = r"""@article{smith20, title={Deep {T}hings}, author={Smith, John and Doe, Jane}, year={2020}}
@article{jones19, title={Shallow Things}, author={Mary Jones}, year={2019}}
"""

BBL = r"""\begin{thebibliography}{2}
\bibitem[{Smith and Doe(2020)}]{smith20}
John Smith and Jane Doe. 2020.
\newblock Deep things from the bbl.
\newblock \emph{Journal}.
\bibitem{other}
A. Author, Another paper title, J. Phys. 1 (2001).
\end{thebibliography}
"""


def _archive(path: Path, members: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _paper(tmp_path: Path, members: dict[str, str], name: str = "2101.00001.tar.gz") -> Document:
    out = list(read(_archive(tmp_path / name, members), "arxiv"))
    assert len(out) == 1 and isinstance(out[0], Document), out
    return out[0]


@pytest.fixture
def paper(tmp_path: Path) -> Document:
    return _paper(tmp_path, {"main.tex": MAIN, "sections/method.tex": METHOD, "refs.bib": BIB, "fig.png": ""})


def test_structure_survives_as_markdown(paper: Document) -> None:
    text = paper.text
    assert text.startswith("# A Study of Foo\n\n## Abstract\n\nWe present Foo, costing \\$5.")
    assert "## 1 Introduction" in text
    assert "## 2 Method" in text
    assert "## Appendix A: Proofs" in text
    assert "Figure 1: The Foo pipeline." in text
    assert "Theorem. Every [START_MATH]$x$[END_MATH] is fine." in text
    assert "- first point\n- second point" in text


def test_comments_are_stripped_and_split_words_joined(paper: Document) -> None:
    assert "secret reviewer note" not in paper.text
    assert "Half-word joins." in paper.text


def test_inputs_macros_and_math_are_kept_as_latex(paper: Document) -> None:
    assert "[START_MATH]\\begin{equation}\n  \\lVert x - y \\rVert^2\n\\end{equation}[END_MATH]" in paper.text
    assert "shaped Foo deeply" in paper.text


def test_references_to_labels_print_their_numbers(paper: Document) -> None:
    assert "As shown in Section 2 and Eq. (1)." in paper.text
    assert "See Figure 1." in paper.text


def test_citations_resolve_through_the_bib_and_unknown_keys_are_counted(paper: Document) -> None:
    assert "Prior work [START_REF] Deep Things, Smith[END_REF][START_REF] Shallow Things, Jones[END_REF]" in paper.text
    assert "\\cite{nokey}" in paper.text
    extra = paper.metadata.extra
    assert (extra["cites_total"], extra["cites_resolved"]) == ("4", "3")
    assert extra["unresolved_cite_keys"] == "nokey"
    assert [r.key for r in paper.references] == ["smith20", "jones19"]


def test_metadata_title_authors_and_arxiv_id(paper: Document) -> None:
    assert paper.metadata.title == "A Study of Foo"
    assert paper.metadata.authors == ["Lovelace, Ada", "Turing, Alan M."]
    assert paper.metadata.arxiv_id == "2101.00001"
    assert paper.metadata.year == 2021
    assert paper.kind == "paper"


def test_bbl_resolves_citations_when_no_bib_is_shipped(tmp_path: Path) -> None:
    main = MAIN.replace("\\input{sections/method}", "").replace("\\bibliography{refs}", "")
    doc = _paper(tmp_path, {"main.tex": main, "main.bbl": BBL})
    assert "[START_REF] Deep things from the bbl, Smith[END_REF]" in doc.text
    assert doc.metadata.extra["bibliography_source"] == "bbl"
    assert [r.key for r in doc.references] == ["smith20", "other"]


def test_main_file_is_the_one_with_documentclass(tmp_path: Path) -> None:
    doc = _paper(tmp_path, {"aaa_notes.tex": "stray text", "zmain.tex": MAIN, "sections/method.tex": METHOD})
    assert doc.metadata.extra["main_file"] == "zmain.tex"


def test_missing_input_is_recorded_not_fatal(tmp_path: Path) -> None:
    doc = _paper(tmp_path, {"main.tex": MAIN})
    assert doc.metadata.extra["missing_inputs"] == "sections/method"


def test_input_cannot_escape_the_source(tmp_path: Path) -> None:
    main = MAIN.replace("\\input{sections/method}", "\\input{../../etc/passwd}")
    doc = _paper(tmp_path, {"main.tex": main})
    assert "../../etc/passwd" in doc.metadata.extra["missing_inputs"]


def test_source_without_documentclass_is_rejected_with_reason(tmp_path: Path) -> None:
    out = list(read(_archive(tmp_path / "x.tar.gz", {"a.tex": "just text", "b.tex": "more"}), "arxiv"))
    assert len(out) == 1 and isinstance(out[0], Reject)
    assert "no main file" in out[0].reason and "a.tex" in out[0].reason


def test_main_file_without_document_body_is_rejected(tmp_path: Path) -> None:
    out = list(read(_archive(tmp_path / "x.tar.gz", {"main.tex": "\\documentclass{article}\nno body"}), "arxiv"))
    assert isinstance(out[0], Reject) and "\\begin{document}" in out[0].reason


def test_corrupt_archive_is_rejected_with_reason(tmp_path: Path) -> None:
    path = tmp_path / "broken.tar.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 40)
    out = list(read(path, "arxiv"))
    assert isinstance(out[0], Reject) and out[0].position == "archive"
    assert "corrupt or truncated" in out[0].reason


def test_plain_tex_file_and_suffix_detection(tmp_path: Path) -> None:
    path = tmp_path / "paper.tex"
    path.write_text(MAIN.replace("\\input{sections/method}", ""), encoding="utf-8")
    out = list(read(path, "arxiv"))
    assert isinstance(out[0], Document)
    assert detect_reader(path) == "latex"
    assert detect_reader(Path("x.tgz")) == "latex"


def test_same_source_gives_identical_document(tmp_path: Path) -> None:
    members = {"main.tex": MAIN, "sections/method.tex": METHOD, "refs.bib": BIB}
    first = _paper(tmp_path, members)
    second = _paper(tmp_path, members)
    assert first == second


@pytest.fixture(scope="module")
def real_paper(shared_data: Path) -> Document:
    out = list(read(shared_data / "latex" / "1911.02782.tar.gz", "arxiv"))
    assert len(out) == 1 and isinstance(out[0], Document), out
    return out[0]


def test_real_paper_resolves_at_least_90_percent_of_cite_keys(real_paper: Document) -> None:
    extra = real_paper.metadata.extra
    keys, resolved = int(extra["cite_keys"]), int(extra["cite_keys_resolved"])
    assert keys > 30
    assert resolved / keys >= 0.9
    assert int(extra["cites_resolved"]) / int(extra["cites_total"]) >= 0.9
    assert real_paper.text.count("[START_REF]") == int(extra["cites_resolved"])
    assert len(real_paper.references) >= keys


def test_real_paper_keeps_abstract_and_appendices(real_paper: Document, shared_data: Path) -> None:
    with tarfile.open(shared_data / "latex" / "1911.02782.tar.gz") as tar:
        source = tar.extractfile("main.tex").read().decode("utf-8")  # type: ignore[union-attr]
    text = real_paper.text
    assert "## Abstract\n\nWe introduce S2ORC" in text
    appendix_titles = re.findall(r"\\section\{([^{}]+)\}", source[source.index("\\appendix") :])
    assert len(appendix_titles) >= 3
    headings = [line for line in text.splitlines() if line.startswith("## Appendix ")]
    assert len(headings) == len(appendix_titles)
    assert real_paper.metadata.title == "S2ORC: The Semantic Scholar Open Research Corpus"


def test_real_paper_leaks_no_comment(real_paper: Document, shared_data: Path) -> None:
    with tarfile.open(shared_data / "latex" / "1911.02782.tar.gz") as tar:
        source = tar.extractfile("main.tex").read().decode("utf-8")  # type: ignore[union-attr]
    comments = [m.group(1).strip() for m in re.finditer(r"(?<!\\)%(.*)$", source, flags=re.MULTILINE)]
    distinctive = [c for c in comments if len(c) >= 15]
    assert len(distinctive) > 5
    for comment in distinctive:
        assert comment not in real_paper.text, comment
    outside_math = re.sub(r"\[START_MATH\].*?\[END_MATH\]", "", real_paper.text, flags=re.DOTALL)
    assert not re.search(r"\\[A-Za-z]+", outside_math)


@pytest.mark.parametrize("depth", [300, 1000])
def test_pathologically_nested_braces_are_rejected_not_crashed(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.tex"
    body = "{" * depth + "deep" + "}" * depth
    path.write_text(f"\\documentclass{{article}}\\begin{{document}}{body}\\end{{document}}", encoding="utf-8")
    out = list(read(path, "arxiv"))
    assert len(out) == 1 and isinstance(out[0], Reject)
    assert "deep" in out[0].reason


def test_lone_tex_resolves_citations_from_the_bib_beside_it(tmp_path: Path) -> None:
    (tmp_path / "note.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\nAs shown by \\cite{lamport94}.\n"
        "\\bibliography{refs}\n\\end{document}\n",
        encoding="utf-8",
    )
    (tmp_path / "refs.bib").write_text(
        "@book{lamport94, author={Lamport, Leslie}, title={LaTeX: A Document Preparation System},"
        " year={1994}}\n",
        encoding="utf-8",
    )
    (doc,) = list(read(tmp_path / "note.tex", "papers"))
    assert isinstance(doc, Document)
    assert "[START_REF] LaTeX: A Document Preparation System, Lamport[END_REF]" in doc.text
    assert doc.metadata.extra["cites_resolved"] == "1"


def test_citation_notes_survive_into_the_reference_markup(tmp_path: Path) -> None:
    (tmp_path / "note.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\nSee \\citep[ch.~2]{lamport94}.\n"
        "\\bibliography{refs}\n\\end{document}\n",
        encoding="utf-8",
    )
    (tmp_path / "refs.bib").write_text(
        "@book{lamport94, author={Lamport, Leslie}, title={LaTeX: A Document Preparation System}}\n",
        encoding="utf-8",
    )
    (doc,) = list(read(tmp_path / "note.tex", "papers"))
    assert isinstance(doc, Document)
    assert "[START_REF] LaTeX: A Document Preparation System, Lamport[END_REF] (ch. 2)" in doc.text
