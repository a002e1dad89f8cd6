"""When two references are the same work."""

from __future__ import annotations

from sciprep.query.reference_keys import (
    MIN_TITLE_KEY_CHARS,
    identity_keys,
    normalize_arxiv,
    normalize_doi,
    normalize_pmid,
    normalize_title,
    surname_problem,
    title_problem,
)


def test_identifier_forms_normalise_to_one_key() -> None:
    assert normalize_doi("https://doi.org/10.1103/PhysRevLett.116.061102.") == "10.1103/physrevlett.116.061102"
    assert normalize_doi("doi:10.1038/nature14539") == "10.1038/nature14539"
    assert normalize_doi("not a doi") is None
    assert normalize_arxiv("arXiv:1706.03762v5") == "1706.03762"
    assert normalize_arxiv("https://arxiv.org/abs/hep-th/9711200v3") == "hep-th/9711200"
    assert normalize_pmid("https://pubmed.ncbi.nlm.nih.gov/33976136") == "33976136"


def test_titles_compare_without_case_accents_latex_or_punctuation() -> None:
    assert normalize_title("Schrödinger's {\\em Cat}: A Study.") == normalize_title("schrodinger s cat a study")


def test_a_title_names_a_work_together_with_its_first_author() -> None:
    title = "Message from the President of the Group"
    assert identity_keys(title, "Palais", None, None, None) != identity_keys(title, "Beeton", None, None, None)
    assert identity_keys(title, "Palais", None, None, None) == identity_keys(title.upper(), "PALAIS", None, None, None)
    assert identity_keys(title, "", None, None, None) == [f"title:{normalize_title(title)}"]
    short = "Introduction"
    assert len(normalize_title(short)) < MIN_TITLE_KEY_CHARS
    assert identity_keys(short, "", None, None, None) == []


def test_keys_are_listed_strongest_first() -> None:
    keys = identity_keys("A long enough title for a key", "Doe", "10.1000/x", "2101.00001", "123")
    assert [k.split(":")[0] for k in keys] == ["doi", "arxiv", "pmid", "title"]


def test_parser_debris_is_not_a_title() -> None:
    for debris in ("(STAR), Phys", "(ALICE), JHEP 05, 061 (2022), arXiv:2107.11303 [nucl-ex]", "Comput. Phys",
                   "Phys. Rev. D", "ATLAS Collaboration, Phys", "Roberts, Sho Yaida, and Boris Hanin",
                   "Smith, Michael P", "and Quintana-Ort, E", "Higham, Craig Lucas, Françoise Tisseur",
                   "2019, , 482, 2893, doi:", "Ecke, “Two-dimensional turbulence", " ), ."):  # fmt: skip
        assert title_problem(debris), debris
    for title in ("Deep learning", "Calendar", "Attention is all you need", "Fields, Strings, and Duality",
                  "TeX, TUG, and Eastern Europe", "Meet the Board, Part I", "3.0 and PSPRINT 3.0",
                  "My collaboration with Don Knuth", "(Version 2.00) as implementation of the markup language",
                  "3D Semantic Parsing of Large-Scale Indoor Spaces", "Sample mean based index policies"):
        assert title_problem(title) == "", title


def test_initials_and_abbreviations_are_not_surnames() -> None:
    for debris in ("B.", "F", "JP", "Phil", "Group", "Overview", "procedure", "Ref"):
        assert surname_problem(debris), debris
    for surname in ("He", "Li", "Ng", "de la Peña", "van der Waals", "O'Neil", "Ozsváth", "Vaswani"):
        assert surname_problem(surname) == "", surname
