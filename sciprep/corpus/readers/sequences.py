"""FASTA, GenBank and Swiss-Prot readers (Biopython ``SeqIO``).

- ``fasta``: one document per record; protein or DNA decided by the alphabet
  (:func:`~sciprep.corpus.readers.sequence_text.classify`, or forced with the
  ``alphabet`` option); a record with letters outside the IUPAC codes is rejected with
  its id and the bad letters.
- ``genbank``: the nucleotide sequence as ``kind="dna"`` documents and, with
  ``proteins=True``, every CDS translation as a ``kind="protein"`` document; the record's
  reference titles become ``Document.references``.
- ``swissprot``: UniProtKB flat files with name, organism, keywords and function.

Long DNA is cut into near-equal chunks of at most ``dna_chunk`` bases (default 4,000),
each its own document repeating the header with its base range, so every training window
sees the sequence with its context. A file that breaks mid-way keeps the records before
the break and rejects the rest.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from Bio import BiopythonParserWarning, SeqIO
from Bio.Seq import UndefinedSequenceError
from Bio.SeqRecord import SeqRecord

from sciprep.corpus.document import Document, Metadata, Reference, stable_id
from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.readers.abstract_doc import parse_year
from sciprep.corpus.readers.sequence_text import (
    DEFAULT_DNA_CHUNK,
    SequenceFacts,
    chunk_bounds,
    classify,
    facts_from_fasta_header,
    guess_alphabet,
    parse_genbank_authors,
    parse_uniprot_authors,
    render,
)
from sciprep.corpus.readers.sourcefile import READ_ERRORS, describe_error, open_text, reject

_PARSE_ERRORS = (ValueError, *READ_ERRORS)


def _records(handle: Any, fmt: str) -> Iterator[SeqRecord]:
    """SeqIO records with Biopython's parser warnings silenced (they are not our errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BiopythonParserWarning)
        iterator = SeqIO.parse(handle, fmt)
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BiopythonParserWarning)
            record = next(iterator, None)
        if record is None:
            return
        yield record


def _sequence(record: SeqRecord) -> str:
    return str(record.seq).upper().rstrip("*")


def _documents(
    facts: SequenceFacts,
    sequence: str,
    kind: str,
    source: str,
    key: str,
    metadata: Metadata,
    references: list[Reference],
    dna_chunk: int,
) -> Iterator[Document]:
    bounds = chunk_bounds(len(sequence), dna_chunk if kind == "dna" else 0)
    for part, (start, end) in enumerate(bounds, start=1):
        chunk_facts = facts
        meta = metadata
        if len(bounds) > 1:
            span = f"{start + 1}-{end} of {len(sequence)} (part {part} of {len(bounds)})"
            chunk_facts = SequenceFacts(**{**facts.__dict__, "lines": [*facts.lines, ("Bases", span)]})
            meta = Metadata(**{**metadata.__dict__, "extra": {**metadata.extra, "bases": span}})
        yield Document(
            id=stable_id(source, key, part) if len(bounds) > 1 else stable_id(source, key),
            text=render(chunk_facts, sequence[start:end], kind, references),
            source=source,
            kind=kind,
            metadata=meta,
            references=references,
        )


_FASTA_SUFFIXES = (".fasta", ".fa", ".faa", ".fna", ".ffn", ".fas")


@register_reader("fasta", _FASTA_SUFFIXES + tuple(f"{s}.gz" for s in _FASTA_SUFFIXES))
def read_fasta(
    path: Path, source: str, *, alphabet: str = "auto", dna_chunk: int = DEFAULT_DNA_CHUNK
) -> ReaderOutput:
    """One protein or DNA document per FASTA record of ``path``."""
    classify("", alphabet)  # validates the option before any work
    index = 0
    try:
        with open_text(path) as handle:
            for index, record in enumerate(_records(handle, "fasta"), start=1):
                sequence = _sequence(record)
                position = f"record {index} ({record.id})"
                kind, bad = classify(sequence, alphabet)
                if not sequence:
                    yield reject(source, path, position, f"record {record.id!r} has an empty sequence")
                    continue
                if bad:
                    expected = {"dna": "DNA", "protein": "protein"}[
                        guess_alphabet(sequence) if alphabet == "auto" else alphabet
                    ]
                    reason = f"record {record.id!r}: illegal letters {bad!r} for a {expected} sequence"
                    yield reject(source, path, position, reason)
                    continue
                facts = facts_from_fasta_header(record.id, record.description)
                meta = Metadata(
                    title=facts.title,
                    uniprot=facts.accession if facts.entry_name or record.id.startswith("UniRef") else None,
                    extra={
                        k: v for k, v in (("organism", facts.organism), ("accession", facts.accession)) if v
                    },
                )
                yield from _documents(facts, sequence, kind, source, record.id, meta, [], dna_chunk)
    except _PARSE_ERRORS as err:
        yield reject(
            source, path, f"after record {index}", f"unreadable FASTA from here on: {describe_error(err)}"
        )


def _is_submission_note(title: str, journal: str) -> bool:
    """GenBank's "Direct Submission" / "Submitted (date) ..." / "Unpublished" entries record
    who deposited the sequence, not a citable work, so they are not references."""
    journal = journal.strip()
    return (
        title.lower() == "direct submission"
        or journal.startswith("Submitted (")
        or journal.lower().startswith("unpublished")
    )


def _genbank_references(record: SeqRecord) -> list[Reference]:
    """The record's citable references (deposit notes skipped; keys keep GenBank's numbering)."""
    refs = []
    for i, ref in enumerate(record.annotations.get("references", []), start=1):
        if _is_submission_note(" ".join(ref.title.split()), ref.journal):
            continue
        authors = parse_genbank_authors(ref.authors) or ([ref.consrtm] if ref.consrtm else [])
        refs.append(
            Reference(
                key=f"{record.id}:ref{i}",
                title=" ".join(ref.title.split()),
                authors=authors,
                year=parse_year(ref.journal),
                pmid=ref.pubmed_id or None,
                raw=ref.journal,
            )
        )
    return refs


def _cds_proteins(
    path: Path, source: str, record: SeqRecord, organism: str, refs: list[Reference]
) -> ReaderOutput:
    """One protein document per CDS translation (pseudogenes without one are not records)."""
    for n, feature in enumerate(f for f in record.features if f.type == "CDS"):
        quals = feature.qualifiers
        translation = "".join(quals.get("translation", [""])[0].split()).upper().rstrip("*")
        if not translation:
            continue
        ident = quals.get("protein_id", quals.get("locus_tag", [f"CDS{n + 1}"]))[0]
        _, bad = classify(translation, "protein")
        if bad:
            yield reject(
                source,
                path,
                f"record {record.id}, CDS {ident}",
                f"CDS {ident}: illegal letters {bad!r} in translation",
            )
            continue
        facts = SequenceFacts(
            title=quals.get("product", [ident])[0],
            accession=ident,
            organism=organism,
            gene=quals.get("gene", quals.get("locus_tag", [""]))[0],
            lines=[("Source", _location(record.id, feature.location))],
        )
        meta = Metadata(
            title=facts.title, extra={"organism": organism, "accession": ident, "record": record.id}
        )
        yield from _documents(facts, translation, "protein", source, f"{record.id}:{ident}", meta, refs, 0)


def _location(record_id: str, location: Any) -> str:
    """``NC_005816.1 bases 87-1109 (forward strand)``: 1-based, inclusive, like GenBank."""
    strand = {1: "forward strand", -1: "reverse strand"}.get(location.strand, "strand unknown")
    return f"{record_id} bases {int(location.start) + 1}-{int(location.end)} ({strand})"


@register_reader("genbank", (".gb", ".gbk", ".genbank", ".gbff", ".gb.gz", ".gbff.gz"))
def read_genbank(
    path: Path, source: str, *, dna_chunk: int = DEFAULT_DNA_CHUNK, proteins: bool = True
) -> ReaderOutput:
    """DNA (chunked) and CDS protein documents for each GenBank record of ``path``."""
    index = 0
    try:
        with open_text(path) as handle:
            for index, record in enumerate(_records(handle, "genbank"), start=1):
                yield from _genbank_record(path, source, record, index, dna_chunk, proteins)
    except _PARSE_ERRORS as err:
        yield reject(
            source, path, f"after record {index}", f"unreadable GenBank from here on: {describe_error(err)}"
        )


def _genbank_record(
    path: Path, source: str, record: SeqRecord, index: int, dna_chunk: int, proteins: bool
) -> ReaderOutput:
    annotations = record.annotations
    organism = annotations.get("organism", "")
    refs = _genbank_references(record)
    molecule = annotations.get("molecule_type", "DNA")
    kind = "protein" if molecule.lower() == "protein" else "dna"
    try:
        sequence = _sequence(record)
    except UndefinedSequenceError:  # a record without ORIGIN data (e.g. a CONTIG record)
        sequence = ""
    position = f"record {index} ({record.id})"
    _, bad = classify(sequence, kind)
    if not sequence:
        yield reject(source, path, position, f"record {record.id!r} has no sequence (no ORIGIN data)")
    elif bad:
        yield reject(source, path, position, f"record {record.id!r}: illegal letters {bad!r} for {kind}")
    else:
        facts = SequenceFacts(
            title=record.description.rstrip("."),
            accession=record.id,
            organism=organism,
            keywords=[k for k in annotations.get("keywords", []) if k],
            lines=[
                ("Taxonomy", "; ".join(annotations.get("taxonomy", []))),
                ("Topology", annotations.get("topology", "")),
            ],
        )
        meta = Metadata(title=facts.title, extra={"organism": organism, "accession": record.id})
        yield from _documents(facts, sequence, kind, source, record.id, meta, refs, dna_chunk)
    if proteins and kind == "dna":
        yield from _cds_proteins(path, source, record, organism, refs)


def _recname(description: str) -> str:
    """``RecName: Full=Tissue-type plasminogen activator; Short=t-PA;`` -> the full name."""
    for part in description.split(";"):
        part = part.strip()
        if "Full=" in part:
            return part.split("Full=", 1)[1].split("{", 1)[0].strip()
    return description.strip()


def _function(comment: str) -> str:
    for block in comment.split("-!-"):
        block = " ".join(block.split())
        if block.startswith("FUNCTION:"):
            return block[len("FUNCTION:") :].split("{ECO", 1)[0].strip()
    return ""


@register_reader("swissprot", (".dat", ".swiss", ".sprot", ".dat.gz", ".swiss.gz"))
def read_swissprot(path: Path, source: str) -> ReaderOutput:
    """One protein document per UniProtKB/Swiss-Prot flat-file entry of ``path``."""
    index = 0
    try:
        with open_text(path) as handle:
            for index, record in enumerate(_records(handle, "swiss"), start=1):
                sequence = _sequence(record)
                position = f"record {index} ({record.id})"
                _, bad = classify(sequence, "protein")
                if not sequence or bad:
                    why = "an empty sequence" if not sequence else f"illegal letters {bad!r}"
                    yield reject(source, path, position, f"entry {record.id!r} has {why}")
                    continue
                annotations = record.annotations
                gene = annotations.get("gene_name", "")
                facts = SequenceFacts(
                    title=_recname(record.description),
                    accession=record.id,
                    entry_name=record.name,
                    organism=annotations.get("organism", "").rstrip("."),
                    gene=_gene_name(gene),
                    keywords=list(annotations.get("keywords", [])),
                    function=_function(annotations.get("comment", "")),
                )
                refs = [
                    Reference(
                        key=f"{record.id}:ref{i}",
                        title=" ".join((r.title or "").split()).rstrip(";").rstrip("."),
                        authors=parse_uniprot_authors(r.authors),
                        year=parse_year(r.journal),
                        pmid=r.pubmed_id or None,
                        raw=r.journal,
                    )
                    for i, r in enumerate(annotations.get("references", []), start=1)
                    if not _is_submission_note(" ".join((r.title or "").split()), r.journal)
                ]
                meta = Metadata(
                    title=facts.title,
                    uniprot=record.id,
                    extra={"organism": facts.organism, "entry": record.name},
                )
                yield from _documents(facts, sequence, "protein", source, record.id, meta, refs, 0)
    except _PARSE_ERRORS as err:
        yield reject(
            source,
            path,
            f"after record {index}",
            f"unreadable Swiss-Prot from here on: {describe_error(err)}",
        )


def _gene_name(gene: object) -> str:
    """Biopython gives ``gene_name`` as ``"Name=PLAT;"`` text or a list of dicts by version."""
    if isinstance(gene, list):
        names = [g.get("Name", "") for g in gene if isinstance(g, dict)]
        return ", ".join(n for n in names if n)
    text = str(gene)
    return (
        text.split("Name=", 1)[1].split(";", 1)[0].split("{", 1)[0].strip()
        if "Name=" in text
        else text.strip()
    )
