"""Markup validity: data spans must hold what their tags claim.

Every ``[START_SMILES]``/``[START_I_SMILES]`` span must parse in RDKit, every
``[START_AMINO]`` span must be over the IUPAC protein alphabet and every
``[START_DNA]`` span over the IUPAC nucleotide alphabet (whitespace inside a
sequence is ignored). An ``[START_AMINO]`` span must also look like a protein by the
tokenizer's own composition test (:func:`sciprep.tokenize.sequences.is_protein`: at
least ``min_amino_length`` residues, enough distinct residues, residue frequencies
closer to UniProt's than to English), so ``HELLO WORLD`` is not a protein. A start
tag with no end tag is invalid too. An invalid span teaches the model a wrong
molecule or sequence, so by default it is *unwrapped* (tags removed, content kept as
plain text); ``mode: reject`` rejects the whole document instead.

An ``[START_I_SMILES]`` span (isomeric SMILES) that carries neither a stereo mark (``@``,
``/``, ``\\``) nor an isotope label (``[13C]``) claims isomeric information it does not
have: its tags are rewritten to ``[START_SMILES]`` (in both modes; it is a mislabel, not
bad data). This is the corpus readers' rule for choosing the tag.

The RDKit parse is the expensive part, so it happens in ``tag``
and its findings (which spans, why) are stored; switching the mode re-decides
without parsing again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
from rdkit import Chem
from rdkit.rdBase import BlockLogs

from sciprep.cleaning.steps.base import (
    KEEP,
    Decision,
    Modify,
    Reject,
    Step,
    StepParams,
    register_step,
    threshold,
)
from sciprep.corpus.document import Document
from sciprep.tokenize.sequences import MIN_AMINO, is_protein
from sciprep.tokenize.specials import MARKUP

#: IUPAC amino-acid codes incl. ambiguity codes, selenocysteine, pyrrolysine, stop.
PROTEIN_LETTERS = frozenset("ACDEFGHIKLMNPQRSTVWYBZJXUO*")
#: IUPAC nucleotide codes (DNA/RNA with ambiguity codes), either case (soft-masking).
DNA_LETTERS = frozenset("ACGTURYKMSWBDHVN" + "acgturykmswbdhvn")
CHECKED_KINDS = ("smiles", "i_smiles", "amino", "dna")
#: The residues :func:`~sciprep.tokenize.sequences.is_protein` weighs; other IUPAC codes
#: (ambiguity, selenocysteine, pyrrolysine, stop) are valid but left out of its test.
_STANDARD_RESIDUES = frozenset("ACDEFGHIKLMNPQRSTVWYX")
_STEREO_MARKS = re.compile(r"[@/\\]|\[\d")
#: Reason recorded for an ``i_smiles`` span without stereo marks; such a span is retagged.
NO_STEREO = "isomeric SMILES without stereo marks (@, /, \\) or isotope labels"

_WS = re.compile(r"\s+")
_START = re.compile("|".join(re.escape(MARKUP[k][0]) for k in CHECKED_KINDS))
_START_KIND = {MARKUP[k][0]: k for k in CHECKED_KINDS}

_ISSUE = pa.struct([("kind", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("reason", pa.string())])


def smiles_problem(smiles: str, max_length: int) -> str:
    """Why ``smiles`` is not a valid molecule ('' when RDKit parses and sanitises it)."""
    if not smiles or _WS.search(smiles):
        return "empty SMILES" if not smiles else "whitespace inside SMILES"
    if len(smiles) > max_length:
        return f"SMILES longer than {max_length} characters"
    with BlockLogs():  # RDKit logs every parse failure to stderr; the reason is recorded instead
        mol = Chem.MolFromSmiles(smiles)
    return "" if mol is not None else "RDKit cannot parse/sanitise it"


def alphabet_problem(sequence: str, letters: frozenset[str], what: str) -> str:
    """Why ``sequence`` is not over ``letters`` ('' when it is)."""
    residues = _WS.sub("", sequence)
    if not residues:
        return f"empty {what} sequence"
    bad = sorted(set(residues) - letters)
    return f"letters {''.join(bad)!r} are not {what} codes" if bad else ""


def protein_problem(sequence: str, min_length: int = MIN_AMINO) -> str:
    """Why ``sequence`` is not a protein ('' when it is): alphabet, length, then composition."""
    problem = alphabet_problem(sequence, PROTEIN_LETTERS, "protein")
    if problem:
        return problem
    residues = _WS.sub("", sequence)
    if len(residues) < min_length:
        return f"protein sequence of {len(residues)} residues, fewer than {min_length}"
    standard = "".join(c for c in residues if c in _STANDARD_RESIDUES)
    if len(standard) < min_length or not is_protein(standard):
        return "residue composition is not protein-like (too few distinct residues or English-like letters)"
    return ""


def find_issues(text: str, max_smiles_length: int, min_amino_length: int = MIN_AMINO) -> Iterator[dict[str, Any]]:
    """Invalid data spans of ``text``: kind, ``start``/``end`` offsets of the whole span, reason."""
    pos = 0
    while (match := _START.search(text, pos)) is not None:
        kind = _START_KIND[match.group(0)]
        end_tag = MARKUP[kind][1]
        close = text.find(end_tag, match.end())
        if close < 0:
            reason = f"{match.group(0)} without {end_tag}"
            yield {"kind": kind, "start": match.start(), "end": match.end(), "reason": reason}
            pos = match.end()
            continue
        content = text[match.end() : close]
        if kind in ("smiles", "i_smiles"):
            problem = smiles_problem(content.strip(), max_smiles_length)
            if not problem and kind == "i_smiles" and not _STEREO_MARKS.search(content):
                problem = NO_STEREO
        elif kind == "amino":
            problem = protein_problem(content, min_amino_length)
        else:
            problem = alphabet_problem(content, DNA_LETTERS, "nucleotide")
        stop = close + len(end_tag)
        if problem:
            yield {"kind": kind, "start": match.start(), "end": stop, "reason": problem}
        pos = stop


def unwrap(text: str, issues: Sequence[Mapping[str, Any]]) -> str:
    """``text`` with the tags of each invalid span removed (its content kept).

    A :data:`NO_STEREO` span is retagged as plain SMILES instead.
    """
    out = []
    pos = 0
    for issue in sorted(issues, key=lambda i: i["start"]):
        start_tag, end_tag = MARKUP[issue["kind"]]
        span = text[issue["start"] : issue["end"]]
        inner = span[len(start_tag) :]
        if inner.endswith(end_tag):
            inner = inner[: -len(end_tag)]
        out.append(text[pos : issue["start"]])
        if issue["reason"] == NO_STEREO:
            inner = MARKUP["smiles"][0] + inner + MARKUP["smiles"][1]
        out.append(inner)
        pos = issue["end"]
    out.append(text[pos:])
    return "".join(out)


@dataclass
class MarkupParams(StepParams):
    max_smiles_length: int = 5000
    min_amino_length: int = MIN_AMINO
    mode: Literal["unwrap", "reject"] = threshold("unwrap")


@register_step("markup")
class MarkupValidity(Step):
    """Unwrap (or reject documents with) SMILES/sequence spans that are not what they claim."""

    Params = MarkupParams
    params: MarkupParams
    version = 3  # amino composition test, i_smiles stereo marks and isotope labels
    attributes = pa.schema([("n_checked", pa.int32()), ("issues", pa.list_(_ISSUE))])

    def tag(self, doc: Document) -> dict[str, Any]:
        issues = list(find_issues(doc.text, self.params.max_smiles_length, self.params.min_amino_length))
        return {"n_checked": len(_START.findall(doc.text)), "issues": issues}

    def decide(self, doc: Document, attrs: Mapping[str, Any]) -> Decision:
        issues = attrs["issues"]
        if not issues:
            return KEEP
        first = issues[0]
        summary = f"{len(issues)} invalid markup span(s); first: {first['kind']} at {first['start']}: {first['reason']}"
        if self.params.mode == "reject" and any(i["reason"] != NO_STEREO for i in issues):
            return Reject(summary)
        if doc.prompt is None or doc.answer is None or doc.text != doc.prompt + doc.answer:
            return Modify(unwrap(doc.text, issues), summary)
        cut = len(doc.prompt)
        in_prompt = [i for i in issues if i["end"] <= cut]
        in_answer = [{**i, "start": i["start"] - cut, "end": i["end"] - cut} for i in issues if i["start"] >= cut]
        if len(in_prompt) + len(in_answer) != len(issues):
            return Reject(f"{summary} (a span crosses the prompt/answer boundary)")
        prompt, answer = unwrap(doc.prompt, in_prompt), unwrap(doc.answer, in_answer)
        return Modify(prompt + answer, summary, prompt=prompt, answer=answer)
