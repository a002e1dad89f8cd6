"""BibTeX as a reference index and as ``reference`` documents."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from sciprep.corpus.document import Document
from sciprep.corpus.readers import detect_reader, get_reader
from sciprep.corpus.readers.bibtex import load_bibliography, parse_bibliography, read
from sciprep.corpus.shards import Reject

SMALL_BIB = r"""@string{jtug = "TUGboat"}

@article{knuth84,
  author = {Donald E. Knuth and van der Berg, Jan},
  title = {The {\TeX}book: M{\"u}ller's $\alpha$-guide},
  journal = jtug,
  year = 1984,
  doi = {https://doi.org/10.1000/xyz123},
  abstract = {A book about typesetting.},
}

@article{knuth84,
  title = {A duplicate key},
}

@misc{notitle, author = {Nobody}, year = 2001}

@inproceedings{broken,
  title = {Unclosed brace,
  year = 1999

@misc{eprint, title = {Attention is all you need}, author = {Vaswani, Ashish and others},
  eprint = {1706.03762v5}, archivePrefix = {arXiv}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "refs.bib"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_bibliography_decodes_latex_and_keeps_ids(tmp_path: Path) -> None:
    refs = load_bibliography(_write(tmp_path, SMALL_BIB))
    knuth = refs["knuth84"]
    assert knuth.title == r"The TeXbook: Müller's $\alpha$-guide"
    assert knuth.authors == ["Knuth, Donald E.", "van der Berg, Jan"]
    assert knuth.first_author_surname == "Knuth"
    assert knuth.year == 1984
    assert knuth.doi == "10.1000/xyz123"
    assert refs["eprint"].arxiv_id == "1706.03762"


def test_reader_yields_one_reference_document_per_entry_in_galactica_style(tmp_path: Path) -> None:
    out = list(read(_write(tmp_path, SMALL_BIB), "bib"))
    docs = [o for o in out if isinstance(o, Document)]
    assert [d.metadata.extra["bibtex_key"] for d in docs] == ["knuth84", "eprint"]
    first = docs[0]
    assert first.kind == "reference"
    assert first.text.splitlines()[0] == r"[START_REF] The TeXbook: Müller's $\alpha$-guide, Knuth[END_REF]"
    assert "Published: TUGboat, 1984" in first.text
    assert first.text.endswith("A book about typesetting.")
    assert first.metadata.doi == "10.1000/xyz123"
    assert docs[1].metadata.arxiv_id == "1706.03762"


def test_duplicate_unparsable_and_untitled_entries_are_rejected_with_their_line(tmp_path: Path) -> None:
    path = _write(tmp_path, SMALL_BIB)
    rejects = [o for o in read(path, "bib") if isinstance(o, Reject)]
    reasons = {r.position: r.reason for r in rejects}
    starts = [i for i, line in enumerate(SMALL_BIB.splitlines(), start=1) if line.startswith("@article{knuth84")]
    dup_line = starts[1]
    assert any("duplicate entry key 'knuth84'" in reason for reason in reasons.values())
    assert reasons[f"line {dup_line}"].startswith("duplicate")
    assert any("has no title" in reason and "notitle" in reason for reason in reasons.values())
    assert any("unparsable BibTeX block" in reason for reason in reasons.values())
    assert all(r.file == str(path) and r.source == "bib" for r in rejects)


def test_ids_are_stable_across_reads(tmp_path: Path) -> None:
    path = _write(tmp_path, SMALL_BIB)
    first = [o.id for o in read(path, "bib") if isinstance(o, Document)]
    second = [o.id for o in read(path, "bib") if isinstance(o, Document)]
    assert first == second and len(set(first)) == len(first)


def test_bib_suffix_maps_to_the_bibtex_reader() -> None:
    assert detect_reader(Path("x.bib")) == "bibtex"
    assert get_reader("bibtex") is read


def test_parse_bibliography_of_garbage_reports_failures_instead_of_raising() -> None:
    parsed = parse_bibliography("@article{x, title = {never closed\n\x00\x01 @@@ {{{")
    assert parsed.entries == [] or all(e.reference.key for e in parsed.entries)


def test_real_tugboat_bib_every_entry_is_a_document_or_a_reject(shared_data: Path) -> None:
    path = shared_data / "bib" / "tugboat.bib"
    text = path.read_text(encoding="utf-8", errors="replace")
    entries = len(re.findall(r"^@(?!string|preamble|comment)\w+\s*\{", text, flags=re.IGNORECASE | re.MULTILINE))
    out = list(read(path, "tugboat"))
    docs = [o for o in out if isinstance(o, Document)]
    rejects = [o for o in out if isinstance(o, Reject)]
    assert len(docs) + len(rejects) == entries
    assert all(d.text.startswith("[START_REF] ") and "[END_REF]" in d.text.splitlines()[0] for d in docs)
    assert all(r.reason for r in rejects)
    # LaTeX in titles is decoded: no control sequences outside math survive
    leaked = [d.metadata.title for d in docs if re.search(r"\\[A-Za-z]+", re.sub(r"\$[^$]*\$", "", d.metadata.title))]
    assert leaked == []


def test_gzipped_bib_gives_the_same_documents_and_rejects_as_the_plain_file(tmp_path: Path) -> None:
    plain = _write(tmp_path, SMALL_BIB)
    packed = tmp_path / "refs.bib.gz"
    packed.write_bytes(gzip.compress(SMALL_BIB.encode("utf-8")))
    assert detect_reader(packed) == "bibtex"
    from_plain = [(type(o).__name__, getattr(o, "text", getattr(o, "reason", ""))) for o in read(plain, "bib")]
    from_packed = [(type(o).__name__, getattr(o, "text", getattr(o, "reason", ""))) for o in read(packed, "bib")]
    assert from_packed == from_plain
    assert load_bibliography(packed).keys() == load_bibliography(plain).keys()
