"""MEDLINE/PubMed text format (``PMID- ...`` tagged records) via Biopython's ``Bio.Medline``.

One ``kind="abstract"`` document per citation with an abstract. A record without a PMID
(not a citation) or without abstract text becomes a reject; a file that breaks mid-way
(truncated gzip, bad UTF-8) keeps the records before the break and rejects the rest.
"""

from __future__ import annotations

from pathlib import Path

from Bio import Medline

from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.abstract_doc import AbstractRecord, problem, to_document
from sciprep.corpus.readers.sourcefile import READ_ERRORS, describe_error, open_text, reject


def _doi(record: dict[str, object]) -> str | None:
    for key in ("LID", "AID"):
        values = record.get(key) or []
        for value in [values] if isinstance(values, str) else values:
            if str(value).endswith("[doi]"):
                return str(value)[: -len("[doi]")].strip()
    return None


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _record(raw: dict[str, object]) -> AbstractRecord:
    return AbstractRecord(
        pmid=str(raw.get("PMID", "")).strip(),
        title=str(raw.get("TI", "")),
        abstract=str(raw.get("AB", "")),
        authors=_as_list(raw.get("FAU")) or _as_list(raw.get("AU")),
        date=str(raw.get("DP", "")),
        doi=_doi(raw),
        journal=str(raw.get("JT", "") or raw.get("TA", "")),
        mesh=_as_list(raw.get("MH")),
        language=" ".join(_as_list(raw.get("LA"))),
    )


@register_reader("medline", (".medline", ".nbib", ".medline.gz"))
def read(path: Path, source: str) -> ReaderOutput:
    """Yield one abstract document (or reject) per MEDLINE record of ``path``."""
    index = 0
    try:
        with open_text(path) as handle:
            for index, raw in enumerate(Medline.parse(handle), start=1):
                record = _record(raw)
                reason = problem(record)
                position = f"record {index}" + (f" (PMID {record.pmid})" if record.pmid else "")
                if reason:
                    yield reject(source, path, position, reason)
                else:
                    yield to_document(record, source)
    except READ_ERRORS as err:
        yield reject(source, path, f"after record {index}", f"unreadable from here on: {describe_error(err)}")
