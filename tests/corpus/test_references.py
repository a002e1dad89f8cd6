"""Raw reference strings -> title, authors, year, ids; Galactica's citation markup."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sciprep.corpus.references import clean_text, normalize_name, parse_authors, parse_reference, ref_markup, surname_of


@pytest.mark.parametrize(
    ("raw", "title", "first_surname", "year"),
    [
        (
            "R. Bartnik, The existence of maximal hypersurfaces in asymptotically flat spacetimes, "
            "Commun. Math. Phys. 94 (1984), 155–175.",
            "The existence of maximal hypersurfaces in asymptotically flat spacetimes",
            "Bartnik",
            1984,
        ),
        (
            "Ashish Vaswani, Noam Shazeer, and Illia Polosukhin. Attention is all you need. "
            "Advances in neural information processing systems, 30, 2017.",
            "Attention is all you need",
            "Vaswani",
            2017,
        ),
        (
            "Tan, M., Le, Q.V.: Efficientnet: Rethinking model scaling for convolutional neural networks. "
            "arXiv preprint arXiv:1905.11946 (2019)",
            "Efficientnet: Rethinking model scaling for convolutional neural networks",
            "Tan",
            2019,
        ),
        (
            "S. K. Min, F. Agostini, and E. K. U. Gross, “Coupled-trajectory quantum-classical approach to "
            "electronic decoherence in nonadiabatic processes,” Phys. Rev. Lett. 115, 073001 (2015).",
            "Coupled-trajectory quantum-classical approach to electronic decoherence in nonadiabatic processes",
            "Min",
            2015,
        ),
        (
            "Colin Raffel and Peter J Liu. 2020. Exploring the limits of transfer learning with a unified "
            "text-to-text transformer. JMLR.",
            "Exploring the limits of transfer learning with a unified text-to-text transformer",
            "Raffel",
            2020,
        ),
        (
            "Kelly, J.L. (1956). A new interpretation of information rate. Bell System Technical Journal 35, 917-926.",
            "A new interpretation of information rate",
            "Kelly",
            1956,
        ),
        (
            "Hansen JP, McDonald IR. Theory of Simple Liquids With Applications to Soft Matter. Elsevier; 2013.",
            "Theory of Simple Liquids With Applications to Soft Matter",
            "Hansen",
            2013,
        ),
    ],
)
def test_title_author_and_year_found_across_house_styles(raw: str, title: str, first_surname: str, year: int) -> None:
    ref = parse_reference(raw, key="k")
    assert ref.title == title
    assert ref.first_author_surname == first_surname
    assert ref.year == year
    assert ref.key == "k"


def test_physics_reference_without_title_keeps_title_empty_rather_than_the_venue() -> None:
    ref = parse_reference("O. Kwon, V. Coropceanu, and J. L. Brédas, The Journal of Chemical Physics 120, 8186 (2004).")
    assert ref.title == ""
    assert ref.authors[0] == "Kwon, O."
    assert ref.authors[-1] == "Brédas, J. L."
    assert ref.year == 2004


def test_capitalised_book_title_is_not_taken_for_a_second_author() -> None:
    ref = parse_reference("D. Bohm, Quantum Theory (Prentice Hall, New York, 1966) section 12.6")
    assert ref.authors == ["Bohm, D."]
    assert ref.title == "Quantum Theory"
    assert ref.year == 1966


def test_doi_and_arxiv_ids_are_extracted() -> None:
    ref = parse_reference(
        "M. Diehl, J. R. Gaunt and K. Schönwald, Double hard scattering without double counting, "
        "JHEP 06 (2017) 083 [1702.06486]. doi:10.1007/JHEP06(2017)083."
    )
    assert ref.arxiv_id == "1702.06486"
    assert ref.doi == "10.1007/JHEP06(2017)083"
    old_style = parse_reference("A. Author, Some title here, arXiv:hep-th/9901001.")
    assert old_style.arxiv_id == "hep-th/9901001"


def test_ref_markup_is_galacticas_title_comma_surname_form() -> None:
    assert (
        ref_markup("Attention is  all you need", "Vaswani") == "[START_REF] Attention is all you need, Vaswani[END_REF]"
    )
    assert ref_markup("Anonymous work", "") == "[START_REF] Anonymous work[END_REF]"


def test_names_normalize_to_surname_comma_given() -> None:
    assert normalize_name("D. A. da Silva Filho") == "da Silva Filho, D. A."
    assert normalize_name("W. A. Goddard III") == "Goddard III, W. A."
    assert surname_of("Goddard III, W. A.") == "Goddard III"
    assert surname_of("Peter J Liu") == "Liu"
    assert parse_authors("Riaz Ahmad and Muhammad Tanvir Afzal") == ["Ahmad, Riaz", "Afzal, Muhammad Tanvir"]


@given(st.text(max_size=300))
def test_parse_reference_never_raises_and_title_comes_from_the_input(raw: str) -> None:
    ref = parse_reference(raw)
    assert ref.raw == clean_text(raw)
    if ref.title:
        assert ref.title in clean_text(raw).replace("“", "").replace("”", "") or ref.title in clean_text(raw)


def test_quoted_titles_in_real_unarxive_references_are_recovered_exactly(shared_data) -> None:
    checked = 0
    with (shared_data / "arxiv" / "unarxive_sample.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            for entry in json.loads(line)["bib_entries"].values():
                raw = entry["bib_entry_raw"]
                quoted = re.search(r"“([^”]{20,}?),?”", raw)
                if quoted is None or "{{" in raw or len(quoted.group(1).split()) < 3:
                    continue
                assert parse_reference(raw).title == clean_text(quoted.group(1)).rstrip(",. "), raw
                checked += 1
    assert checked > 20


def test_every_real_unarxive_title_is_a_span_of_its_reference(shared_data) -> None:
    titled = 0
    with (shared_data / "arxiv" / "unarxive_sample.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            for entry in json.loads(line)["bib_entries"].values():
                raw = clean_text(entry["bib_entry_raw"])
                ref = parse_reference(raw)
                if ref.title:
                    titled += 1
                    assert ref.title in raw, raw
                    assert not re.search(r"\b(?:Phys\. Rev|J\. Chem|Nature \d)", ref.title), raw
    assert titled > 0
