"""Prompt datasets for Galactica-style prompt pre-training: tables -> prompt/answer records.

Each record is a :class:`~sciprep.corpus.document.Document` with ``kind="prompt"``,
``prompt`` and ``answer`` kept apart (the trainer masks the loss on the prompt),
``text = prompt + answer`` and a ``split`` (``train``/``test``) decided by
:func:`sciprep.corpus.splits.is_validation` on a *group key*, so all questions about one
molecule (or one ``group_field`` value) land in the same split and nothing leaks. For
prompt records this ``split`` column is the held-out rule.

Templates (the ``template`` option of the ``prompts`` reader):

- ``freesolv``: a SMILES table with IUPAC names and measured hydration free energies
  (FreeSolv: columns ``iupac``, ``smiles``, ``expt``). Two records per molecule: "What is
  the IUPAC name of [START_I_SMILES]...[END_I_SMILES]?" and "Predict the hydration free
  energy ...". The SMILES is RDKit's canonical isomeric form, tagged as compound
  documents tag it: ``[START_I_SMILES]`` only when it carries stereo or isotope marks,
  ``[START_SMILES]`` otherwise (the cleaning stage's markup step expects this).
- ``qa``: any CSV/TSV/JSONL table; ``question`` and ``answer`` are ``str.format``
  templates over the row's columns (default ``Question: {question}\\n\\nAnswer:`` and
  `` {answer}``).

A row missing a field, an unparsable SMILES or a non-numeric measurement is a reject with
its line number.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sciprep.corpus.document import Document, Metadata, stable_id
from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.compound_text import describe, parse_smiles, smiles_markup
from sciprep.corpus.readers.sourcefile import READ_ERRORS, describe_error, reject
from sciprep.corpus.readers.tables import csv_rows, find_column, json_lines
from sciprep.corpus.shards import Reject
from sciprep.corpus.splits import DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION, is_validation

DEFAULT_QUESTION = "Question: {question}\n\nAnswer:"
DEFAULT_ANSWER = " {answer}"
TEMPLATES = ("freesolv", "qa")

#: ``(position, task, prompt, answer, group)`` for a usable record, or a reason string.
_Item = tuple[str, str, str, str, str]


def template_fields(template: str) -> list[str]:
    """The column names a ``str.format`` template uses; only plain names are allowed.

    Raises ValueError for attribute/index access (``{a.b}``, ``{a[0]}``) or positional
    fields, which could reach into objects instead of reading a column.
    """
    names = []
    for _, name, _, _ in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier():
            raise ValueError(f"template {template!r}: field {{{name}}} must be a plain column name")
        names.append(name)
    return names


def _rows(path: Path, delimiter: str) -> Iterator[tuple[int, Any, str]]:
    if path.name.lower().removesuffix(".gz").endswith((".jsonl", ".ndjson")):
        yield from json_lines(path)
        return
    _, rows = csv_rows(path, delimiter)
    for line, row in rows:
        broken = None in row or any(v is None for v in row.values())
        yield line, row, "row does not have the header's number of columns" if broken else ""


def _freesolv(
    rows: Iterator[tuple[int, Any, str]], header_lookup: dict[str, str]
) -> Iterator[_Item | tuple[str, str]]:
    for line, row, error in rows:
        position = f"line {line}"
        if error or not isinstance(row, dict):
            yield position, error or "expected a JSON object"
            continue
        smiles = str(row.get(header_lookup["smiles"], "") or "")
        mol, reason = parse_smiles(smiles)
        if mol is None:
            yield position, reason
            continue
        facts = describe(mol)
        group = stable_id("molecule", facts.smiles)
        markup = smiles_markup(facts)
        iupac = str(row.get(header_lookup.get("iupac", ""), "") or "").strip()
        if iupac:
            yield (
                position,
                "iupac",
                f"Question: What is the IUPAC name of {markup}?\n\nAnswer:",
                f" {iupac}",
                group,
            )
        else:
            yield f"{position} (iupac)", "no IUPAC name in this row"
        value = str(row.get(header_lookup.get("expt", ""), "") or "").strip()
        try:
            energy = float(value)
        except ValueError:
            yield f"{position} (hydration)", f"hydration free energy {value!r} is not a number"
            continue
        yield (
            position,
            "hydration",
            f"Question: Predict the hydration free energy of {markup} in water, in kcal/mol.\n\nAnswer:",
            f" {energy:.2f} kcal/mol",
            group,
        )


def _qa(
    rows: Iterator[tuple[int, Any, str]], question: str, answer: str, group_field: str
) -> Iterator[_Item | tuple[str, str]]:
    needed = sorted({*template_fields(question), *template_fields(answer)})
    for line, row, error in rows:
        position = f"line {line}"
        if error or not isinstance(row, dict):
            yield position, error or "expected a JSON object"
            continue
        missing = [name for name in needed if row.get(name) in (None, "")]
        if missing:
            yield position, f"missing or empty field(s) {missing} used by the templates"
            continue
        group = str(row.get(group_field, "")) if group_field else ""
        yield position, "qa", question.format(**row), answer.format(**row), group


def _document(item: _Item, source: str, path: Path, fraction: float, seed: int, markup: bool) -> Document:
    position, task, prompt, answer, group = item
    doc_id = stable_id(source, path.name, position, task)
    if markup:
        from sciprep.tokenize import wrap  # the tokenizer owns the markup rules

        prompt, answer = wrap(prompt), wrap(answer)
    return Document(
        id=doc_id,
        text=prompt + answer,
        source=source,
        kind="prompt",
        metadata=Metadata(extra={"task": task, "group": group or doc_id}),
        prompt=prompt,
        answer=answer,
        split="test" if is_validation(group or doc_id, fraction, seed) else "train",
    )


@register_reader("prompts")
def read_prompts(
    path: Path,
    source: str,
    *,
    template: str = "qa",
    question: str = DEFAULT_QUESTION,
    answer: str = DEFAULT_ANSWER,
    group_field: str = "",
    test_fraction: float = DEFAULT_VALIDATION_FRACTION,
    seed: int = DEFAULT_SPLIT_SEED,
    markup: bool = False,
    delimiter: str = "",
) -> ReaderOutput:
    """Prompt/answer documents from a table, by ``template`` (``freesolv`` or ``qa``).

    Raises ValueError for a bad configuration (unknown template, bad template fields,
    fraction outside [0, 1)); bad rows become rejects.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown prompt template {template!r}; known: {', '.join(TEMPLATES)}")
    is_validation("", test_fraction, seed)  # validates the fraction before any work
    for text in (question, answer):
        template_fields(text)
    yield from _convert(
        path, source, template, question, answer, group_field, test_fraction, seed, markup, delimiter
    )


def _convert(
    path: Path,
    source: str,
    template: str,
    question: str,
    answer: str,
    group_field: str,
    fraction: float,
    seed: int,
    markup: bool,
    delimiter: str,
) -> Iterator[Document | Reject]:
    last = "start of file"
    try:
        rows = _rows(path, delimiter)
        if template == "freesolv":
            rows, lookup = _freesolv_columns(rows)
            if lookup is None:
                yield reject(
                    source,
                    path,
                    "header",
                    "no SMILES column: a FreeSolv table needs iupac, smiles and expt columns",
                )
                return
            items = _freesolv(rows, lookup)
        else:
            items = _qa(rows, question, answer, group_field)
        for item in items:
            last = item[0]
            if len(item) == 2:
                yield reject(source, path, item[0], item[1])
            else:
                yield _document(item, source, path, fraction, seed, markup)  # type: ignore[arg-type]
    except READ_ERRORS as err:
        yield reject(source, path, f"after {last}", f"unreadable from here on: {describe_error(err)}")


def _freesolv_columns(
    rows: Iterator[tuple[int, Any, str]],
) -> tuple[Iterator[tuple[int, Any, str]], dict[str, str] | None]:
    """Find the smiles/iupac/expt keys (case-insensitive) from the first row's keys."""
    first = next(rows, None)
    if first is None:
        return iter(()), {"smiles": "smiles"}
    keys = list(first[1]) if isinstance(first[1], dict) else []
    smiles = find_column(keys, "", ("smiles", "canonical_smiles", "isomeric_smiles"))
    lookup = None
    if smiles is not None:
        lookup = {"smiles": smiles}
        for key, candidates in (
            ("iupac", ("iupac", "iupac_name")),
            ("expt", ("expt", "dg_expt", "experimental")),
        ):
            found = find_column(keys, "", candidates)
            if found:
                lookup[key] = found

    def chained() -> Iterator[tuple[int, Any, str]]:
        yield first
        yield from rows

    return chained(), lookup
