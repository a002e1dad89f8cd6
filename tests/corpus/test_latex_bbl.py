"""``.bbl`` items to references, for the three bibliography shapes."""

from __future__ import annotations

import tarfile
from pathlib import Path

from sciprep.corpus.latex.bbl import parse_bbl

NATBIB = r"""\begin{thebibliography}{2}
\expandafter\ifx\csname natexlab\endcsname\relax\def\natexlab#1{#1}\fi

\bibitem[{Beltagy et~al.(2019)Beltagy, Lo, and Cohan}]{Beltagy2019SciBERTPC}
Iz~Beltagy, Kyle Lo, and Arman Cohan. 2019.
\newblock \href {https://doi.org/10.18653/v1/D19-1371} {{S}ci{BERT}: A
  pretrained language model for scientific text}.
\newblock In \emph{Proceedings of EMNLP}, pages 3615--3620.

\bibitem[{M{\"u}ller(2001{\natexlab{a}})}]{mueller}
Hans M{\"u}ller. 2001{\natexlab{a}}.
\newblock {Ein Titel mit Umlauten: {\"o}}.
\end{thebibliography}
"""

REVTEX = r"""\begin{thebibliography}{1}
\bibitem [{\citenamefont {Kwon}\ \emph {et~al.}(2004)}]{kwon04}
  \BibitemOpen
  \bibfield  {author} {\bibinfo {author} {\bibfnamefont {O.}~\bibnamefont {Kwon}}, \bibinfo {author}
  {\bibfnamefont {V.}~\bibnamefont {Coropceanu}}} ,\ \bibfield  {title} {\bibinfo {title} {Charge-transfer
  in organic crystals},\ }\bibfield  {journal} {\bibinfo  {journal} {J. Chem. Phys.}\ }\textbf
  {\bibinfo {volume} {120}},\ \bibinfo {pages} {8186} (\bibinfo {year} {2004})
\end{thebibliography}
"""

PLAIN = r"""\begin{thebibliography}{9}
\bibitem{lamport94}
Leslie Lamport, \emph{\LaTeX: a document preparation system}, Addison Wesley, Massachusetts, 2nd edition, 1994.
\bibitem{einstein}
A. Einstein, Ann. Phys. 17, 891 (1905).
\end{thebibliography}
"""


def test_natbib_newblock_items_give_title_authors_year_and_doi() -> None:
    refs = parse_bbl(NATBIB)
    scibert = refs["Beltagy2019SciBERTPC"]
    assert scibert.title == "SciBERT: A pretrained language model for scientific text"
    assert scibert.authors == ["Beltagy, Iz", "Lo, Kyle", "Cohan, Arman"]
    assert scibert.year == 2019
    assert scibert.doi == "10.18653/v1/D19-1371"
    assert refs["mueller"].first_author_surname == "Müller"
    assert refs["mueller"].title == "Ein Titel mit Umlauten: ö"


def test_revtex_bibinfo_fields_are_read() -> None:
    kwon = parse_bbl(REVTEX)["kwon04"]
    assert kwon.title == "Charge-transfer in organic crystals"
    assert kwon.authors == ["Kwon, O.", "Coropceanu, V."]
    assert kwon.year == 2004


def test_unstructured_items_fall_back_to_the_reference_parser() -> None:
    refs = parse_bbl(PLAIN)
    assert list(refs) == ["lamport94", "einstein"]
    assert refs["lamport94"].title.startswith("LaTeX: a document preparation system")
    assert refs["einstein"].title == ""
    assert refs["einstein"].first_author_surname == "Einstein"
    assert refs["einstein"].year == 1905


def test_truncated_bbl_keeps_the_complete_items() -> None:
    refs = parse_bbl(NATBIB[: NATBIB.index("\\bibitem[{M")] + "\\bibitem[{broken")
    assert list(refs) == ["Beltagy2019SciBERTPC"]


def test_real_bbl_every_item_has_a_key_and_nearly_all_a_title(shared_data: Path) -> None:
    with tarfile.open(shared_data / "latex" / "1911.02782.tar.gz") as tar:
        text = tar.extractfile("main.bbl").read().decode("utf-8")  # type: ignore[union-attr]
    refs = parse_bbl(text)
    assert len(refs) == text.count("\\bibitem")
    titled = [r for r in refs.values() if r.title]
    assert len(titled) >= 0.9 * len(refs)
    assert all(r.first_author_surname and r.year for r in refs.values())
    assert all("\\" not in r.title and "{" not in r.title for r in titled)
