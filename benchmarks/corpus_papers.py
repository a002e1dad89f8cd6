"""Paper readers: quality and speed against the common arXiv cleaner, in one run.

The baseline is a faithful re-implementation of the widely copied arXiv cleaning recipe
(RedPajama's ``arxiv_cleaner``): drop everything before the first ``\\section``, drop
comment lines, remove inline comments with ``[^\\\\]%.+$`` (which also removes the
character before the ``%``), cut everything from ``\\appendix``/``\\bibliography`` on,
and inline argument-free ``\\newcommand``/``\\def`` macros. Both run on the same real
archive (``../shared/data/latex/1911.02782.tar.gz``), read from the ``.tar.gz`` each time.

Printed per system: seconds per paper, whether the abstract survives, appendix sections
kept, characters lost to the comment regex, citation keys resolved to
``[START_REF] Title, Surname[END_REF]``. Then the unarXive and JATS readers' throughput
and citation resolution on the shared samples.

    python benchmarks/corpus_papers.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

from sciprep.corpus.document import Document
from sciprep.corpus.readers.jats import read as read_jats
from sciprep.corpus.readers.latex import read as read_latex
from sciprep.corpus.readers.unarxive import read as read_unarxive

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ARCHIVE = DATA / "latex" / "1911.02782.tar.gz"

_FIRST_SECTION = re.compile(
    r"^(.*?)(\\\bchapter\b\*?(?:\[(.*?)\])?\{(.*?)\}|\\\bpart\b\*?(?:\[(.*?)\])?\{(.*?)\}|"
    r"\\\bsection\b\*?(?:\[(.*?)\])?\{(.*?)\}|\\\bsubsection\b\*?(?:\[(.*?)\])?\{(.*?)\})",
    re.DOTALL,
)
_TAIL = re.compile(
    r"(\\appendix|\\begin\{references\}|\\begin\{REFERENCES\}|\\begin\{thebibliography\}|\\bibliography\{.*\}).*$",
    re.DOTALL,
)
_SIMPLE_NEWCOMMAND = re.compile(r"\\\bnewcommand\b\*?\{(\\[a-zA-Z0-9]+?)\}\{(.*?)\}$", re.MULTILINE)
_SIMPLE_DEF = re.compile(r"\\def\s*(\\[a-zA-Z0-9]+?)\s*\{(.*?)\}$", re.MULTILINE)


def baseline_clean(path: Path) -> str:
    """The common cleaner on the archive's main .tex (see the module docstring)."""
    with tarfile.open(path) as tar:
        texts = {
            m.name: tar.extractfile(m).read().decode("utf-8", "replace")  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile() and m.name.endswith(".tex")
        }
    main = next(t for t in texts.values() if "\\documentclass" in t)
    macros = dict(_SIMPLE_NEWCOMMAND.findall(main)) | dict(_SIMPLE_DEF.findall(main))
    text = _FIRST_SECTION.sub(r"\2", main, count=1)
    text = re.sub(r"(?m)^%.*\n?", "", text)
    text = re.sub(r"[^\\]%.+$", "", text, flags=re.MULTILINE)
    text = _TAIL.sub("", text)
    for name, value in macros.items():
        text = re.sub(re.escape(name) + r"(?![a-zA-Z])", lambda _m, v=value: v, text)
    return text


def _main_tex(path: Path) -> str:
    with tarfile.open(path) as tar:
        return tar.extractfile("main.tex").read().decode("utf-8")  # type: ignore[union-attr]


def eaten_characters(main: str) -> int:
    """Characters the inline-comment regex removes that are not part of a comment."""
    return sum(1 for m in re.finditer(r"[^\\]%.+$", main, flags=re.MULTILINE) if not m.group(0)[0].isspace())


def leaked_comments(main: str, text: str) -> int:
    """Comments of the source (15+ characters) that appear in a cleaned text."""
    comments = {m.group(1).strip() for m in re.finditer(r"(?<!\\)%(.*)$", main, flags=re.MULTILINE)}
    return sum(1 for c in comments if len(c) >= 15 and c in text)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def latex_report(repeat: int) -> None:
    base_s, base_text = timed(lambda: baseline_clean(ARCHIVE), repeat)
    ours_s, out = timed(lambda: list(read_latex(ARCHIVE, "arxiv")), repeat)
    doc = out[0]  # type: ignore[index]
    assert isinstance(doc, Document)
    extra = doc.metadata.extra
    base_appendix = str(base_text).count("\\appendix")  # the cleaner cuts at \appendix
    print(f"LaTeX paper {ARCHIVE.name}  (median of {repeat})")
    print(f"  {'':22}{'sciprep':>14}{'common cleaner':>16}")
    print(f"  {'seconds per paper':22}{ours_s:>14.3f}{base_s:>16.3f}   ratio {ours_s / base_s:.1f}x")
    main = _main_tex(ARCHIVE)
    abstract = "The corpus consists of rich metadata, paper abstracts"
    print(f"  {'abstract kept':22}{str(abstract in doc.text):>14}{str(abstract in str(base_text)):>16}")
    print(f"  {'appendix sections':22}{extra['appendix_sections']:>14}{base_appendix:>16}")
    print(f"  {'chars eaten by %-regex':22}{0:>14}{eaten_characters(main):>16}")
    leaks = f"{leaked_comments(main, doc.text)}"
    print(f"  {'comments leaked':22}{leaks:>14}{leaked_comments(main, str(base_text)):>16}")
    resolved = f"{extra['cite_keys_resolved']}/{extra['cite_keys']}"
    raw_cites = "0 (raw \\cite)"
    print(f"  {'cite keys resolved':22}{resolved:>14}{raw_cites:>16}")
    print(f"  {'cite occurrences':22}{extra['cites_resolved'] + '/' + extra['cites_total']:>14}")


def reader_report(name: str, paths: list[Path], reader: Callable[[Path, str], object], repeat: int) -> None:
    def run() -> list[Document]:
        return [d for p in paths for d in reader(p, name) if isinstance(d, Document)]  # type: ignore[attr-defined]

    seconds, docs = timed(run, repeat)
    docs = list(docs)  # type: ignore[arg-type]
    size = sum(p.stat().st_size for p in paths)
    total = sum(int(d.metadata.extra["cites_total"]) for d in docs)
    resolved = sum(int(d.metadata.extra["cites_resolved"]) for d in docs)
    print(
        f"{name}: {len(docs)} papers, {len(docs) / seconds:.1f} papers/s, {size / seconds / 1e6:.2f} MB/s input, "
        f"citations resolved {resolved}/{total} ({resolved / max(total, 1):.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"sample data not found at {DATA}")
    latex_report(args.repeat)
    reader_report("unarxive", [DATA / "arxiv" / "unarxive_sample.jsonl"], read_unarxive, max(1, args.repeat // 2))
    reader_report("jats", sorted((DATA / "jats").glob("*.nxml")), read_jats, args.repeat)


if __name__ == "__main__":
    main()
