"""How a biological sequence record becomes Galactica-style text.

Shared by the FASTA, GenBank and Swiss-Prot readers: the alphabet rule that decides
protein vs DNA (and names the illegal letters), the parsing of the common FASTA header
conventions (UniProt ``sp|ACC|NAME ... OS= GN=``, UniRef ``Tax=``, NCBI ``[Organism]``),
DNA chunking, and the document layout: a Markdown heading, ``Key: value`` facts, then the
sequence inside ``[START_AMINO]``/``[START_DNA]`` markup.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from sciprep.corpus.document import Reference
from sciprep.tokenize.specials import END_AMINO, END_DNA, END_REF, START_AMINO, START_DNA, START_REF

#: IUPAC nucleotide codes (DNA and RNA, with ambiguity codes).
NUCLEOTIDES = frozenset("ACGTURYKMSWBDHVN")
#: IUPAC amino-acid codes incl. B/Z/J/X ambiguity, U (Sec), O (Pyl) and ``*`` (stop).
AMINO_ACIDS = frozenset("ACDEFGHIKLMNPQRSTVWYBZJXUO*")
#: A sequence over nucleotide codes is DNA only if this share is plain A/C/G/T/U/N.
DNA_MIN_PLAIN_SHARE = 0.9
_PLAIN_NUCLEOTIDES = frozenset("ACGTUN")

#: Default DNA chunk length (bases); see :func:`chunk_bounds`.
DEFAULT_DNA_CHUNK = 4000


def classify(sequence: str, alphabet: str = "auto") -> tuple[str, str]:
    """``("dna" | "protein", "")`` for a valid sequence, ``("", bad_letters)`` otherwise.

    ``alphabet`` is ``auto`` (decide with :func:`guess_alphabet`), ``dna`` or ``protein``.
    In ``auto`` mode a sequence that is at least :data:`DNA_MIN_PLAIN_SHARE` A/C/G/T/U/N
    is DNA, so a stray letter in it (``ACGT...E``) is reported as an illegal DNA letter
    rather than turning the record into a protein.
    """
    if alphabet not in ("auto", "dna", "protein"):
        raise ValueError(f"alphabet must be auto, dna or protein, got {alphabet!r}")
    kind = guess_alphabet(sequence) if alphabet == "auto" else alphabet
    bad = set(sequence) - (NUCLEOTIDES if kind == "dna" else AMINO_ACIDS)
    return (kind, "") if not bad else ("", "".join(sorted(bad)))


def guess_alphabet(sequence: str) -> str:
    """``"dna"`` when at least :data:`DNA_MIN_PLAIN_SHARE` of the letters are A/C/G/T/U/N,
    else ``"protein"`` (real proteins are far below that share)."""
    plain = sum(sequence.count(c) for c in _PLAIN_NUCLEOTIDES)
    return "dna" if sequence and plain / len(sequence) >= DNA_MIN_PLAIN_SHARE else "protein"


def chunk_bounds(length: int, chunk: int) -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` ranges cutting ``length`` bases into near-equal chunks.

    The number of chunks is ``ceil(length / chunk)`` and the bases are spread evenly (sizes
    differ by at most one), so no chunk is longer than ``chunk`` and there is no tiny tail. ``chunk <= 0``
    means one chunk.
    """
    if length == 0:
        return []
    if chunk <= 0 or length <= chunk:
        return [(0, length)]
    count = math.ceil(length / chunk)
    base, extra = divmod(length, count)
    bounds, start = [], 0
    for index in range(count):
        end = start + base + (1 if index < extra else 0)
        bounds.append((start, end))
        start = end
    return bounds


@dataclass
class SequenceFacts:
    """The human-readable facts printed above a sequence."""

    title: str
    accession: str = ""
    entry_name: str = ""
    organism: str = ""
    gene: str = ""
    keywords: list[str] = field(default_factory=list)
    function: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)


_UNIPROT = re.compile(r"^(?:sp|tr)\|(?P<acc>[^|]+)\|(?P<entry>\S+)$")
_NCBI_ORGANISM = re.compile(r"^(?P<desc>.*?)\s*\[(?P<org>[^\[\]]+)\]\s*$")
_FIELD = re.compile(r"\s([A-Z][A-Za-z]{1,5})=")


def _key_values(text: str) -> tuple[str, dict[str, str]]:
    """Split ``desc OS=Homo sapiens GN=PLAT`` into ``desc`` and ``{"OS": ..., "GN": ...}``."""
    parts = _FIELD.split(" " + text)
    head, values = parts[0].strip(), {}
    for key, value in zip(parts[1::2], parts[2::2]):
        values[key] = value.strip()
    return head, values


def facts_from_fasta_header(record_id: str, description: str) -> SequenceFacts:
    """Facts from a FASTA header in the UniProt, UniRef or NCBI convention (else generic)."""
    rest = description[len(record_id) :].strip() if description.startswith(record_id) else description
    head, values = _key_values(rest)
    facts = SequenceFacts(title=head or record_id)
    uniprot = _UNIPROT.match(record_id)
    if uniprot:
        facts.accession, facts.entry_name = uniprot.group("acc"), uniprot.group("entry")
    elif record_id.startswith("UniRef"):
        facts.accession = record_id
    else:
        ncbi = _NCBI_ORGANISM.match(head)
        if ncbi:
            facts.title, facts.organism = ncbi.group("desc") or record_id, ncbi.group("org")
        facts.accession = _ncbi_accession(record_id)
    facts.organism = facts.organism or values.get("OS", "") or values.get("Tax", "")
    facts.gene = values.get("GN", "")
    return facts


def _ncbi_accession(record_id: str) -> str:
    """``gi|45478712|ref|NP_995567.1|`` -> ``NP_995567.1``; other ids unchanged."""
    fields = [f for f in record_id.split("|") if f]
    if len(fields) >= 4 and fields[0] == "gi":
        return fields[3]
    return record_id


def parse_genbank_authors(authors: str) -> list[str]:
    """``"Zhou,D., Tong,Z. and Yang,R."`` -> ``["Zhou, D.", "Tong, Z.", "Yang, R."]``."""
    if not authors.strip():
        return []
    names = re.split(r"(?<=\.),\s*|\s+and\s+", authors.strip())
    return [re.sub(r",\s*", ", ", name.strip(" ,"), count=1) for name in names if name.strip(" ,")]


def parse_uniprot_authors(authors: str) -> list[str]:
    """``"Mosig G., Colowick N.E.;"`` -> ``["Mosig, G.", "Colowick, N.E."]``."""
    names = []
    for name in authors.rstrip(";").split(","):
        name = name.strip()
        match = re.match(r"^(.*\S)\s+((?:[A-Z][a-z]?\.-?)+)$", name)
        if match:
            names.append(f"{match.group(1)}, {match.group(2)}")
        elif name:
            names.append(name)
    return names


def render(facts: SequenceFacts, sequence: str, kind: str, references: list[Reference]) -> str:
    """The document text: heading, facts, sequence markup, then cited references."""
    start, end = (START_AMINO, END_AMINO) if kind == "protein" else (START_DNA, END_DNA)
    lines = [f"# {facts.title}", ""]
    rows = [
        ("Organism", facts.organism),
        ("Gene", facts.gene),
        ("Accession", facts.accession + (f" ({facts.entry_name})" if facts.entry_name else "")),
        *facts.lines,
        ("Keywords", ", ".join(facts.keywords)),
        ("Function", facts.function),
    ]
    lines += [f"{key}: {value}" for key, value in rows if value]
    lines += ["", f"{start}{sequence}{end}"]
    cited = [r for r in references if r.title]
    if cited:
        lines += ["", "References:"]
        lines += [f"- {START_REF} {citation_label(r)}{END_REF}" for r in cited]
    return "\n".join(lines)


def citation_label(reference: Reference) -> str:
    """Galactica's ``Title, Surname`` citation label (just the title without an author)."""
    surname = reference.first_author_surname
    return f"{reference.title}, {surname}" if surname else reference.title
