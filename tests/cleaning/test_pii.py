from __future__ import annotations

import pytest

from sciprep.cleaning.steps import build_step
from sciprep.cleaning.steps.base import KEEP, Modify
from sciprep.cleaning.steps.pii import PiiRedaction
from sciprep.corpus.document import Document, Reference

_PII = PiiRedaction()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to jane.doe+lab@phys.uni-example.ac.uk today", "Write to <EMAIL> today"),
        ("%%e.agirre@ehu.es or", "%%<EMAIL> or"),
        ("Call +44 20 7946 0958 now", "Call <PHONE> now"),
        ("Phone: (555) 123-4567.", "Phone: <PHONE>."),
        ("tel. 020 7946 0958", "tel. <PHONE>"),
        ("office 555-123-4567", "office <PHONE>"),
        ("host 192.168.1.10 down", "host <IP_ADDRESS> down"),
        ("Server 10.0.0.1.", "Server <IP_ADDRESS>."),
        ("addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 x", "addr <IP_ADDRESS> x"),
        ("addr fe80::1ff:fe23:4567:890a", "addr <IP_ADDRESS>"),
    ],
)
def test_contact_details_become_tags(text: str, expected: str) -> None:
    assert _PII.redact(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "doi:10.1103/PhysRevB.12.3456 and https://doi.org/10.1000/182-555-1234",
        "arXiv:2101.00001v2 and arXiv:1911.02782",
        "version 1.2.3.4, Section 3.1.2.4, Eq. 2.1.0.3 and v2.10.1.7",
        "in 1990-2000 and 2019-2023, n = 123 456 7890 samples, 3.14159, 1.0.0.1.5",
        "at 12:30:45 and std::vector and a::b",
        "ISBN 978-3-16-148410-0 and page 123-456",
        "C[C@H](N)C(=O)O is alanine",
    ],
)
def test_science_numbers_and_identifiers_are_left_alone(text: str) -> None:
    assert _PII.redact(text)[0] == text


def test_math_spans_and_citations_are_never_touched() -> None:
    text = "[START_MATH]192.168.1.1 + a@b.com[END_MATH] as in [START_REF] Deep nets, Smith <smith@x.org>[END_REF]"
    assert _PII.redact(text)[0] == text


def test_references_metadata_and_author_names_are_kept() -> None:
    refs = [Reference(key="k", title="A paper", authors=["Jane Doe", "Smith, John"], raw="J. Doe, jd@x.org")]
    doc = Document(id="d", text="Contact jd@x.org. See Doe et al.", source="s", kind="paper", references=refs)
    decision = PiiRedaction().decide(doc, {})
    assert isinstance(decision, Modify)
    assert decision.text == "Contact <EMAIL>. See Doe et al." and decision.note == "redacted 1 email"
    assert doc.references == refs


def test_kinds_of_pii_can_be_switched_off_and_tags_changed() -> None:
    step = build_step("pii", {"emails": False, "ip_replacement": "[IP]"})
    doc = Document(id="d", text="a@b.org at 192.0.2.44", source="s", kind="paper")
    decision = step.decide(doc, {})
    assert isinstance(decision, Modify) and decision.text == "a@b.org at [IP]"
    assert step.decide(Document(id="c", text="clean", source="s", kind="paper"), {}) is KEEP


def test_section_numbers_in_headings_are_not_ip_addresses() -> None:
    text = "intro\n\n##### 3.1.2.4 Contrasting views\n\n#### 10.2.1.3 Operators\n\nsee 2.1.1.1 above"
    assert _PII.redact(text)[0] == text


def test_dotted_quads_cued_as_coordinates_or_values_are_not_ip_addresses() -> None:
    for text in ("coordinates 12.34.56.78", "at position: 12.34.56.78 in the cell", "lattice 10.20.30.40"):
        assert _PII.redact(text)[0] == text, text
    assert _PII.redact("server address 12.34.56.78")[0] == "server address <IP_ADDRESS>"
