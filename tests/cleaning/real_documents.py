"""Documents built straight from ``../shared/data`` files, as the corpus stage would mark them up.

Kept deliberately simple (no dependency on the corpus readers): unarXive papers with
their formulas as ``[START_MATH]`` spans and citations as ``[START_REF]`` spans, the
raw LaTeX of a real arXiv source, proteins and DNA in sequence markup, and ChEMBL /
NCI compounds in SMILES markup.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tarfile
from pathlib import Path

from Bio import SeqIO

from sciprep.corpus.document import Document, Metadata, stable_id

_FORMULA = re.compile(r"\{\{formula:([^}]+)\}\}")
_CITE = re.compile(r"\{\{cite:([^}]+)\}\}")


def unarxive_papers(data: Path, limit: int | None = None) -> list[Document]:
    docs = []
    with open(data / "arxiv" / "unarxive_sample.jsonl", encoding="utf-8") as fh:
        for line in fh:
            paper = json.loads(line)
            refs = paper.get("ref_entries", {})
            bibs = paper.get("bib_entries", {})

            def formula(m: re.Match[str], refs: dict = refs) -> str:
                latex = refs.get(m.group(1), {}).get("latex", "")
                return f"[START_MATH]${latex}$[END_MATH]"

            def cite(m: re.Match[str], bibs: dict = bibs) -> str:
                raw = bibs.get(m.group(1), {}).get("bib_entry_raw", "")
                return f"[START_REF] {raw[:80]}[END_REF]"

            meta = paper["metadata"]
            parts = [f"# {meta['title']}", meta.get("abstract", "").strip()]
            section = None
            for para in paper["body_text"]:
                if para.get("section") and para["section"] != section:
                    section = para["section"]
                    parts.append(f"## {section}")
                parts.append(_CITE.sub(cite, _FORMULA.sub(formula, para["text"])))
            docs.append(
                Document(
                    id=stable_id("unarxive", paper["paper_id"]),
                    text="\n\n".join(p for p in parts if p),
                    source="arxiv",
                    kind="paper",
                    metadata=Metadata(title=meta["title"], arxiv_id=paper["paper_id"], doi=meta.get("doi")),
                )
            )
            if limit is not None and len(docs) >= limit:
                break
    return docs


def latex_source(data: Path) -> Document:
    with tarfile.open(data / "latex" / "1911.02782.tar.gz") as tar:
        member = tar.getmember("main.tex")
        fh = tar.extractfile(member)
        assert fh is not None
        text = fh.read(4_000_000).decode("utf-8", errors="replace")
    return Document(id=stable_id("latex", "1911.02782"), text=text, source="latex", kind="paper",
                    metadata=Metadata(arxiv_id="1911.02782"))  # fmt: skip


def proteins(data: Path) -> list[Document]:
    docs = []
    for name in ("uniref50_sample.fasta", "multi_ex.fasta", "NC_005816.faa"):
        for rec in SeqIO.parse(data / "bio" / name, "fasta"):
            text = f"# {rec.description}\n\n[START_AMINO]{rec.seq}[END_AMINO]"
            docs.append(Document(id=stable_id(name, rec.id), text=text, source="uniprot", kind="protein"))
    return docs


def dna(data: Path, chunk: int = 4000) -> list[Document]:
    rec = SeqIO.read(data / "bio" / "NC_005816.gb", "genbank")
    seq = str(rec.seq)
    docs = []
    for start in range(0, len(seq), chunk):
        end = min(start + chunk, len(seq))
        text = f"# {rec.description} ({start + 1}-{end})\n\n[START_DNA]{seq[start:end]}[END_DNA]"
        docs.append(Document(id=stable_id("genbank", rec.id, start), text=text, source="genbank", kind="dna"))
    return docs


def compounds(data: Path, limit: int = 300) -> list[Document]:
    from rdkit import RDConfig

    smiles = []
    with open(data / "chem" / "chembl_samples.csv", encoding="utf-8") as fh:
        smiles += [row["smiles"] for row in csv.DictReader(fh)][: limit // 2]
    nci = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    with open(nci, encoding="utf-8") as fh:
        smiles += [line.split()[0] for line in fh if line.strip()][: limit - len(smiles)]
    docs = []
    for i, smi in enumerate(smiles):
        tag = "I_SMILES" if any(c in smi for c in "@/\\") else "SMILES"
        text = f"# Compound {i}\n\n[START_{tag}]{smi}[END_{tag}]\n\nSource: ChEMBL / NCI sample."
        docs.append(Document(id=stable_id("chem", i), text=text, source="chem", kind="compound"))
    return docs
