"""FASTA / GenBank / Swiss-Prot readers: real NCBI and UniProt files, alphabet rules, damage."""

from __future__ import annotations

import re
from pathlib import Path

from Bio import SeqIO
from hypothesis import given, settings
from hypothesis import strategies as st

from sciprep.corpus.document import Document
from sciprep.corpus.readers.sequence_text import chunk_bounds, classify, parse_genbank_authors
from sciprep.corpus.readers.sequences import read_fasta, read_genbank, read_swissprot
from sciprep.corpus.shards import Reject
from sciprep.tokenize.specials import END_AMINO, END_DNA, START_AMINO, START_DNA

_AMINO = re.compile(re.escape(START_AMINO) + "(.*?)" + re.escape(END_AMINO), re.S)
_DNA = re.compile(re.escape(START_DNA) + "(.*?)" + re.escape(END_DNA), re.S)

SWISS_ENTRY = """ID   CEF_BPT4                Reviewed;          72 AA.
AC   Q01436;
DT   01-JUL-1993, integrated into UniProtKB/Swiss-Prot.
DT   01-JUL-1993, sequence version 1.
DT   22-FEB-2023, entry version 50.
DE   RecName: Full=Protein cef;
GN   Name=cef;
OS   Enterobacteria phage T4 (Bacteriophage T4).
OC   Viruses; Duplodnaviria; Heunggongvirae; Uroviricota; Caudoviricetes.
OX   NCBI_TaxID=10665;
RN   [1]
RP   NUCLEOTIDE SEQUENCE [GENOMIC DNA].
RX   PubMed=1577697;
RA   Mosig G., Colowick N.E.;
RT   "A new gene of bacteriophage T4 that controls tRNA processing.";
RL   J. Bacteriol. 174:4057-4064(1992).
CC   -!- FUNCTION: Controls the processing of tRNA precursors.
KW   Reference proteome; tRNA processing.
SQ   SEQUENCE   72 AA;  8521 MW;  1C1B7E2A1E8F16B3 CRC64;
     MKRKIVQNCT NDEFEDVLFD PNLVVVQKEH TSKFTHLTSV YVYEKVGDKQ PIYGVFREIT
     EDGTTYWKEI Y
//
"""


def _docs(out: list[object]) -> list[Document]:
    return [d for d in out if isinstance(d, Document)]


def test_real_uniprot_fasta_gives_proteins_with_accession_organism_gene(shared_data: Path) -> None:
    path = shared_data / "bio" / "multi_ex.fasta"
    records = list(SeqIO.parse(path, "fasta"))
    docs = _docs(list(read_fasta(path, "uniprot")))
    assert len(docs) == len(records)
    for doc, record in zip(docs, records):
        assert doc.kind == "protein"
        assert _AMINO.search(doc.text).group(1) == str(record.seq)
        accession = record.id.split("|")[1]
        assert doc.metadata.uniprot == accession and f"Accession: {accession}" in doc.text
    first = docs[0].text
    assert first.startswith("# Tissue-type plasminogen activator")
    assert "Organism: Homo sapiens" in first and "Gene: PLAT" in first


def test_long_dna_is_chunked_and_chunks_rebuild_the_sequence(shared_data: Path) -> None:
    path = shared_data / "bio" / "NC_005816.fna"
    (record,) = SeqIO.parse(path, "fasta")
    docs = _docs(list(read_fasta(path, "dna", dna_chunk=4000)))
    assert all(d.kind == "dna" for d in docs)
    pieces = [_DNA.search(d.text).group(1) for d in docs]
    assert "".join(pieces) == str(record.seq).upper()
    assert len(docs) == -(-len(record.seq) // 4000) and max(map(len, pieces)) <= 4000
    assert len({d.id for d in docs}) == len(docs)
    assert all(f"of {len(record.seq)} (part" in d.text for d in docs)


def test_genbank_cds_translations_match_the_published_proteins(shared_data: Path) -> None:
    proteins = {
        r.id.split("|")[3]: str(r.seq) for r in SeqIO.parse(shared_data / "bio" / "NC_005816.faa", "fasta")
    }
    out = list(read_genbank(shared_data / "bio" / "NC_005816.gb", "genbank"))
    assert not [r for r in out if isinstance(r, Reject)]
    cds = [d for d in _docs(out) if d.kind == "protein"]
    assert {d.metadata.extra["accession"]: _AMINO.search(d.text).group(1) for d in cds} == proteins


def test_genbank_reference_titles_become_document_references_without_deposit_notes(
    shared_data: Path,
) -> None:
    path = shared_data / "bio" / "NC_005816.gb"
    (record,) = SeqIO.parse(path, "genbank")
    dna = [d for d in _docs(list(read_genbank(path, "genbank"))) if d.kind == "dna"]
    published = [r for r in record.annotations["references"] if not r.journal.startswith("Submitted (")]
    assert 0 < len(published) < len(record.annotations["references"])
    titles = [" ".join(r.title.split()) for r in published]
    assert dna and all([r.title for r in d.references] == titles for d in dna)
    cited = [r for d in dna for r in d.references]
    assert not any(r.title == "Direct Submission" or r.raw.startswith("Submitted (") for r in cited)
    first = dna[0].references[0]
    assert first.authors[0] == "Zhou, D." and first.pmid == record.annotations["references"][0].pubmed_id
    assert first.year == 2004
    assert (
        "[START_REF] Genetics of metabolic variations" in dna[0].text
        and "Direct Submission" not in dna[0].text
    )
    assert "".join(_DNA.search(d.text).group(1) for d in dna) == str(record.seq)


def test_fasta_with_illegal_letters_is_rejected_naming_record_and_letters(tmp_path: Path) -> None:
    path = tmp_path / "x.fasta"
    path.write_text(">good desc\nMKVLAAGIVG\n>bad1 broken\nMKV1LA@Q\n>empty\n\n", encoding="utf-8")
    out = list(read_fasta(path, "s"))
    assert isinstance(out[0], Document)
    assert isinstance(out[1], Reject) and "bad1" in out[1].reason and "'1@'" in out[1].reason
    assert isinstance(out[2], Reject) and "empty" in out[2].reason


def test_forced_dna_alphabet_rejects_protein_letters(tmp_path: Path) -> None:
    path = tmp_path / "x.fa"
    path.write_text(">p\nMKVLEQ\n>d\nacgtacgtnn\n", encoding="utf-8")
    out = list(read_fasta(path, "s", alphabet="dna"))
    assert isinstance(out[0], Reject) and "'ELQ'" in out[0].reason
    assert isinstance(out[1], Document) and "[START_DNA]ACGTACGTNN[END_DNA]" in out[1].text


def test_text_before_first_record_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "x.fasta"
    path.write_text("this is not fasta\n>a\nMKV\n", encoding="utf-8")
    out = list(read_fasta(path, "s"))
    assert len(out) == 1 and isinstance(out[0], Reject) and "unreadable FASTA" in out[0].reason


def test_truncated_genbank_is_rejected(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.gb"
    path.write_text(
        (shared_data / "bio" / "NC_005816.gb").read_text(encoding="utf-8")[:5000], encoding="utf-8"
    )
    out = list(read_genbank(path, "s"))
    assert out and isinstance(out[-1], Reject) and "unreadable GenBank" in out[-1].reason


def test_swissprot_entry_has_name_organism_keywords_function(tmp_path: Path) -> None:
    path = tmp_path / "entry.dat"
    path.write_text(SWISS_ENTRY + SWISS_ENTRY.replace("MKRKIVQNCT", "MKRKIV1NCT"), encoding="utf-8")
    out = list(read_swissprot(path, "s"))
    doc = out[0]
    assert isinstance(doc, Document) and doc.metadata.uniprot == "Q01436"
    for fact in (
        "# Protein cef",
        "Gene: cef",
        "Organism: Enterobacteria phage T4",
        "tRNA processing",
        "Function: Controls the processing of tRNA precursors.",
    ):
        assert fact in doc.text
    assert (
        doc.references[0].authors == ["Mosig, G.", "Colowick, N.E."] and doc.references[0].pmid == "1577697"
    )
    assert "tRNA processing, Mosig[END_REF]" in doc.text
    assert isinstance(out[1], Reject)


def test_genbank_author_lists_are_split_into_names() -> None:
    assert parse_genbank_authors("Zhou,D., Tong,Z. and Yang,R.") == ["Zhou, D.", "Tong, Z.", "Yang, R."]
    assert parse_genbank_authors("") == []


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=50_000), st.integers(min_value=1, max_value=9_000))
def test_chunks_partition_the_sequence_without_oversized_or_tiny_chunks(length: int, chunk: int) -> None:
    bounds = chunk_bounds(length, chunk)
    assert [b for pair in bounds for b in pair][:1] == ([0] if length else [])
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert (bounds[-1][1] if bounds else 0) == length
    sizes = [end - start for start, end in bounds]
    assert all(size <= chunk for size in sizes)
    assert not sizes or max(sizes) - min(sizes) <= 1 or len(sizes) == 1


@given(st.text(alphabet="ACGT", min_size=1, max_size=200))
def test_plain_nucleotides_are_dna(sequence: str) -> None:
    assert classify(sequence) == ("dna", "")


@given(st.text(alphabet="ACDEFGHIKLMNPQRSTVWY", min_size=1, max_size=200), st.sampled_from("0123456789@#$%&"))
def test_any_non_iupac_character_makes_a_sequence_invalid(sequence: str, bad: str) -> None:
    kind, letters = classify(sequence + bad)
    assert kind == "" and bad in letters


def test_swissprot_submission_reference_is_not_a_reference(tmp_path: Path) -> None:
    submitted = (
        "RN   [2]\nRP   NUCLEOTIDE SEQUENCE.\nRA   Smith J.;\n"
        "RL   Submitted (MAR-2004) to the EMBL/GenBank/DDBJ databases.\nCC   -!- FUNCTION:"
    )
    path = tmp_path / "entry.dat"
    path.write_text(SWISS_ENTRY.replace("CC   -!- FUNCTION:", submitted, 1), encoding="utf-8")
    (doc,) = _docs(list(read_swissprot(path, "s")))
    assert [r.pmid for r in doc.references] == ["1577697"]


def test_dna_with_a_stray_letter_is_rejected_naming_it_not_read_as_protein(tmp_path: Path) -> None:
    assert classify("ACGTACGTACGTACGTACGTE") == ("", "E")
    path = tmp_path / "x.fasta"
    path.write_text(">stray\n" + "ACGT" * 8 + "JJ\n>protein\nMKVLAAGIVGACGT\n", encoding="utf-8")
    stray, protein = list(read_fasta(path, "s"))
    assert isinstance(stray, Reject) and "'J'" in stray.reason and "DNA" in stray.reason
    assert isinstance(protein, Document) and protein.kind == "protein"


@given(st.text(alphabet="ACGT", min_size=18, max_size=200), st.sampled_from("EFIJLOPQXZ*"))
def test_mostly_plain_nucleotides_with_one_foreign_letter_are_invalid_dna(sequence: str, bad: str) -> None:
    assert classify(sequence + bad) == ("", bad)
