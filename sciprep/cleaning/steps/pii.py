"""PII redaction: e-mail addresses, phone numbers and IP addresses become tags like ``<EMAIL>``.

Science text is full of things that look like phone numbers and IP addresses to a
naive regex: DOIs (``10.1103/PhysRevB.12.3456``), arXiv ids (``2101.00001v2``),
version and section numbers (``1.2.3.4``), years and ranges (``1990-2000``), numeric
tables and formulas. So the detectors demand the shapes real contact details have
(phone numbers need a ``+`` country code, a parenthesised area code, a 3-3-4
grouping, or a "tel"/"phone"/"fax" cue; IPv4 needs four in-range octets that are not
part of a longer dotted number, not all single digits, not a heading's section number
and not cued as a version/section/coordinate/value list), tokens that belong
to a DOI/URL path are skipped, and math/SMILES/sequence spans and ``[START_REF]``
citations (author names) are never touched. The document's structured references
(``Document.references``) are metadata and stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sciprep.cleaning.spans import PROTECTED_KINDS, map_free
from sciprep.cleaning.steps.base import (
    Decision,
    Modify,
    Step,
    StepParams,
    register_step,
    threshold,
    transform_text,
)
from sciprep.corpus.document import Document

_NEVER_TOUCH = (*PROTECTED_KINDS, "ref")

EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b"
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = re.compile(rf"(?<![\w.\-/]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w\-/]|\.\d)")
_H = r"[0-9A-Fa-f]{1,4}"
IPV6 = re.compile(
    rf"(?<![\w:.])(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,6}}:(?:{_H}(?::{_H}){{0,5}})?|::(?:{_H}(?::{_H}){{1,6}}))(?![\w:])"
)
#: Words that make a dotted quad a version/section/equation number or a list of
#: coordinates/values, not an address.
_NOT_IP_CUE = re.compile(
    r"(?<![A-Za-z])(?:version|release|v|ver|rev|section|sec|§|chapter|eq|equation|fig|figure|table|lemma|theorem|"
    r"proposition|corollary|definition|step|isbn|doi|"
    r"coordinates?|coords?|positions?|pos|points?|vectors?|vertices|vertex|indices|index|lattice|"
    r"located at|location|lat|lon|long|latitude|longitude|values?|sequence|series)\.?\s*[:=(]?\s*$",
    re.IGNORECASE,
)

#: Only heading markers/indentation before a dotted quad on its line: a section number.
_HEADING_PREFIX = re.compile(r"[ \t#*>]*")

_SEP = r"[ .\-\u2011\u2013]"
PHONE_SHAPED = re.compile(
    r"(?<![\w+/.\-])(?:"
    rf"\+\d{{1,3}}{_SEP}?(?:\(\d{{1,4}}\){_SEP}?)?\d{{1,4}}(?:{_SEP}\d{{2,4}}){{1,4}}"  # +44 20 7946 0958
    rf"|\(\d{{2,4}}\){_SEP}?\d{{3,4}}[\-.\s]\d{{3,4}}"  # (555) 123-4567
    r"|\d{3}([\-.])\d{3}\1\d{4}"  # 555-123-4567 / 555.123.4567
    r")(?![\w/]|[.\-]\d)"
)
_PHONE_CUE = re.compile(r"(?:tel|phone|telephone|fax|mobile|cell|ph)\.?\s*(?:no\.?|number)?\s*[:.]?\s*$", re.IGNORECASE)
PHONE_CUED = re.compile(r"\+?\(?\d[\d ()\-.\u2011]{5,}\d")


def _in_path_token(text: str, start: int, end: int) -> bool:
    """True when the match sits inside a DOI/URL/path-like token (``.../x``, ``doi:...``)."""
    left = text.rfind(" ", 0, start) + 1
    right = text.find(" ", end)
    token = text[left : right if right >= 0 else len(text)]
    return "/" in token or "doi" in token.lower() or "arxiv" in token.lower()


def _redact_ipv4(text: str, replacement: str) -> tuple[str, int]:
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        line_start = text.rfind("\n", 0, m.start()) + 1
        if (
            _HEADING_PREFIX.fullmatch(text[line_start : m.start()])  # "#### 3.1.2.4 Results"
            or all(len(octet) == 1 for octet in m.group(0).split("."))  # 1.2.3.4: a section/version
            or _NOT_IP_CUE.search(text[max(0, m.start() - 20) : m.start()])
            or _in_path_token(text, m.start(), m.end())
        ):
            return m.group(0)
        count += 1
        return replacement

    return IPV4.sub(repl, text), count


def _redact_phones(text: str, replacement: str) -> tuple[str, int]:
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        if _in_path_token(text, m.start(), m.end()):
            return m.group(0)
        count += 1
        return replacement

    text = PHONE_SHAPED.sub(repl, text)

    def cued(m: re.Match[str]) -> str:
        nonlocal count
        digits = sum(c.isdigit() for c in m.group(0))
        if not 7 <= digits <= 15 or not _PHONE_CUE.search(text_before[max(0, m.start() - 25) : m.start()]):
            return m.group(0)
        count += 1
        return replacement

    text_before = text
    return PHONE_CUED.sub(cued, text), count


@dataclass
class PiiParams(StepParams):
    emails: bool = threshold(True)
    phones: bool = threshold(True)
    ip_addresses: bool = threshold(True)
    email_replacement: str = threshold("<EMAIL>")
    phone_replacement: str = threshold("<PHONE>")
    ip_replacement: str = threshold("<IP_ADDRESS>")


@register_step("pii")
class PiiRedaction(Step):
    """Replace contact details with tags; everything else is left exactly as it was."""

    Params = PiiParams
    params: PiiParams

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """``text`` with PII replaced, and how many of each kind were replaced."""
        counts = {"email": 0, "phone": 0, "ip": 0}

        def free(part: str) -> str:
            p = self.params
            if p.emails:
                part, n = EMAIL.subn(p.email_replacement, part)
                counts["email"] += n
            if p.ip_addresses:
                current = part
                part = IPV6.sub(lambda m: _keep_if(m, current, p.ip_replacement, counts), part)
                part, n = _redact_ipv4(part, p.ip_replacement)
                counts["ip"] += n
            if p.phones:
                part, n = _redact_phones(part, p.phone_replacement)
                counts["phone"] += n
            return part

        return map_free(text, free, _NEVER_TOUCH), counts

    def decide(self, doc: Document, attrs: Mapping[str, Any]) -> Decision:
        summary: dict[str, int] = {}

        def fn(text: str) -> str:
            out, counts = self.redact(text)
            for key, value in counts.items():
                summary[key] = summary.get(key, 0) + value
            return out

        decision = transform_text(doc, fn, "")
        if isinstance(decision, Modify):
            note = ", ".join(f"{v} {k}" for k, v in sorted(summary.items()) if v)
            decision = replace(decision, note=f"redacted {note}")
        return decision


def _keep_if(m: re.Match[str], text: str, replacement: str, counts: dict[str, int]) -> str:
    """IPv6 replacement unless the match is too short to be an address (``a::b`` in code)
    or inside a path token."""
    value = m.group(0)
    groups = [g for g in value.split(":") if g]
    if len(groups) < 3 or not any(c.isdigit() for c in value) or _in_path_token(text, m.start(), m.end()):
        return value
    counts["ip"] += 1
    return replacement
