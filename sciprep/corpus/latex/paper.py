"""One LaTeX source (its text files in memory) to one ``paper`` :class:`Document`.

The steps, each in its own module: comments stripped and main file found
(:mod:`~sciprep.corpus.latex.inputs`), ``\\input`` tree inlined, the author's macros
expanded (:mod:`~sciprep.corpus.latex.macros`), the body converted to Markdown
(:mod:`~sciprep.corpus.latex.markdown`), the bibliography read from the ``.bib`` files
named by ``\\bibliography`` and from the ``.bbl``/``thebibliography`` items
(:mod:`~sciprep.corpus.latex.bbl`), and finally math and citations marked up by the
tokenizer's :func:`~sciprep.tokenize.wrap_report`.

``metadata.extra`` records what happened: ``cites_total``/``cites_resolved`` (citation
occurrences), ``cite_keys``/``cite_keys_resolved`` (distinct keys), the main file, missing
inputs, skipped archive members and counts of sections, appendices, captions, equations.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from sciprep.corpus.document import Document, Metadata, Reference, stable_id
from sciprep.corpus.latex.archive import SourceFiles
from sciprep.corpus.latex.bbl import parse_bbl
from sciprep.corpus.latex.inputs import assemble, find_main, tex_texts
from sciprep.corpus.latex.macros import collect_macros, expand_macros, read_group
from sciprep.corpus.latex.markdown import Converted, convert_body
from sciprep.corpus.latex.text import decode_bytes, latex_to_text
from sciprep.corpus.readers.bibtex import parse_bibliography
from sciprep.corpus.references import clean_text, normalize_name
from sciprep.tokenize import BibEntry, wrap_report

MAX_BRACE_DEPTH = 400

_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
_BIBLIOGRAPHY = re.compile(r"\\(?:bibliography|addbibresource)\s*(?:\[[^\]]*\])?\s*\{([^{}]+)\}")
_THEBIBLIOGRAPHY = re.compile(r"\\begin\{thebibliography\}.*?(?:\\end\{thebibliography\}|\Z)", re.DOTALL)
_NEWTHEOREM = re.compile(r"\\newtheorem\*?\s*\{(\w+)\}\s*(?:\[[^\]]*\])?\s*\{([^{}]*)\}")
_ARXIV_NAME = re.compile(r"^(\d{4}\.\d{4,5})(?:v\d+)?|^([a-z\-]+(?:\.[A-Z]{2})?)[_/]?(\d{7})(?:v\d+)?")
_NOTE_MACROS = re.compile(r"\\(?:thanks|Thanks|footnote|footnotetext|affiliation|affil|email|inst)\b")
_AUTHOR_SPLIT = re.compile(r"\\(?:and|AND|And)\b|\\\\|\\quad\b|\\qquad\b|,|\band\b|\n\s*\n")
_NOT_A_NAME = re.compile(
    r"\d|@|Universit|Institut|Department|Dept|School|College|Laborator|Lab\b|Center|Centre|"
    r"Academy|Inc\b|Corp\b|Research|Foundation|Hospital|Faculty|Ltd\b|GmbH|National|Street|Road\b|"
    r"USA|China|Germany|France|Japan|UK\b|Canada",
)


class PaperError(ValueError):
    """The source has a main file but no usable document body."""


def latex_document(files: SourceFiles, path: Path, source: str) -> Document:
    """The paper document of ``files`` (read from ``path``); raises on unusable sources."""
    texts = tex_texts(files.files)
    main = find_main(texts)
    assembled = assemble(texts, main)
    source_text, macros = collect_macros(assembled.text)
    expansion = expand_macros(source_text, macros)
    full = expansion.text
    begin = _BEGIN_DOCUMENT.search(full)
    if begin is None:
        raise PaperError(f"main file {main} has \\documentclass but no \\begin{{document}}")
    end = _END_DOCUMENT.search(full, begin.end())
    preamble, body = full[: begin.start()], full[begin.end() : end.start() if end else len(full)]
    depth = _max_brace_depth(body)
    if depth > MAX_BRACE_DEPTH:
        raise PaperError(f"braces nest {depth} deep (limit {MAX_BRACE_DEPTH}); refusing to parse")
    theorems = {env: latex_to_text(title) for env, title in _NEWTHEOREM.findall(preamble)}
    converted = convert_body(body, theorems)
    title = _title(full)
    refs, printed, bib_source = _bibliography(files, main, full)
    text = f"# {title}\n\n{converted.text}" if title else converted.text
    known = {key: BibEntry(ref.title, ref.first_author_surname) for key, ref in refs.items() if ref.title}
    wrapped = wrap_report(text, known)
    arxiv_id, year = _arxiv_id(path.name)
    extra = _extra(converted, known, main, assembled.missing, files.skipped, bib_source)
    extra["macros_expanded"] = str(expansion.expanded)
    if expansion.truncated:
        extra["macro_expansion_truncated"] = "true"
    return Document(
        id=stable_id("latex", arxiv_id or path.name),
        text=wrapped.text,
        source=source,
        kind="paper",
        metadata=Metadata(title=title, authors=_authors(full), year=year, arxiv_id=arxiv_id, extra=extra),
        references=_reference_list(refs, printed, converted.cite_keys),
    )


def _extra(
    converted: Converted,
    known: dict[str, BibEntry],
    main: str,
    missing: list[str],
    skipped: list[str],
    bib_source: str,
) -> dict[str, str]:
    keys = converted.cite_keys
    distinct = list(dict.fromkeys(keys))
    extra = {
        "main_file": main,
        "bibliography_source": bib_source,
        "cites_total": str(len(keys)),
        "cites_resolved": str(sum(1 for k in keys if k in known)),
        "cite_keys": str(len(distinct)),
        "cite_keys_resolved": str(sum(1 for k in distinct if k in known)),
        "sections": str(converted.sections),
        "appendix_sections": str(converted.appendix_sections),
        "captions": str(converted.captions),
        "equations": str(converted.equations),
        "has_abstract": "true" if converted.has_abstract else "false",
    }
    unresolved = [k for k in distinct if k not in known]
    if unresolved:
        extra["unresolved_cite_keys"] = ",".join(unresolved[:50])
    if missing:
        extra["missing_inputs"] = ",".join(missing[:50])
    if skipped:
        extra["skipped_members"] = "; ".join(skipped[:50])
    return extra


def _bibliography(files: SourceFiles, main: str, full: str) -> tuple[dict[str, Reference], list[str], str]:
    """Merged ``key -> Reference`` from .bbl items and .bib entries, the printed (.bbl)
    keys in order, and which sources were used (``bbl``, ``bib``, ``bbl+bib``, ``none``)."""
    refs: dict[str, Reference] = {}
    used: list[str] = []
    bbl_name = posixpath.splitext(main)[0] + ".bbl"
    bbl_names = [bbl_name] if bbl_name in files.files else sorted(n for n in files.files if n.endswith(".bbl"))
    for name in bbl_names:
        refs.update(parse_bbl(decode_bytes(files.files[name])))
    for block in _THEBIBLIOGRAPHY.findall(full):
        refs.update(parse_bbl(block))
    printed = list(refs)
    if refs:
        used.append("bbl")
    bib_refs: dict[str, Reference] = {}
    for names in _BIBLIOGRAPHY.findall(full):
        for name in (n.strip() for n in names.split(",")):
            found = _find_file(files, name, main, ".bib")
            if found:
                bib_refs.update(parse_bibliography(decode_bytes(files.files[found])).references)
    if bib_refs:
        used.append("bib")
    for key, ref in bib_refs.items():
        if ref.title or key not in refs:
            refs[key] = ref
    return refs, printed, "+".join(used) or "none"


def _find_file(files: SourceFiles, name: str, main: str, suffix: str) -> str | None:
    for base in ("", posixpath.dirname(main)):
        for candidate in (name, name + suffix):
            norm = posixpath.normpath(posixpath.join(base, candidate))
            if norm in files.files:
                return norm
    return None


def _reference_list(refs: dict[str, Reference], printed: list[str], cite_keys: list[str]) -> list[Reference]:
    """The bibliography as printed (.bbl order), then cited .bib-only entries in citation order."""
    shown = set(printed)
    cited = [k for k in dict.fromkeys(cite_keys) if k in refs and k not in shown]
    return [refs[k] for k in [*printed, *cited]]


def _title(full: str) -> str:
    match = re.search(r"\\title\s*(?:\[[^\]]*\])?\s*(?=\{)", full)
    if not match:
        return ""
    group = read_group(full, match.end())
    return latex_to_text(_drop_notes(group[0])) if group else ""


def _authors(full: str) -> list[str]:
    """Person names (``Surname, Given``) from ``\\author{..}``; affiliations and notes dropped."""
    names: list[str] = []
    for match in re.finditer(r"\\author\s*(?:\[[^\]]*\])?\s*(?=\{)", full):
        group = read_group(full, match.end())
        if group is None:
            continue
        content = re.sub(
            r"\$[^$]*\$|\\footnotemark(?:\[[^\]]*\])?|\\(?:textsuperscript|inst)\s*\{[^{}]*\}", "", group[0]
        )
        for piece in _AUTHOR_SPLIT.split(_drop_notes(content)):
            name = clean_text(latex_to_text(piece)).strip(" ,;*†‡")
            if name and not _NOT_A_NAME.search(name) and 2 <= len(name.split()) <= 5 and name[0].isupper():
                names.append(normalize_name(name))
    return list(dict.fromkeys(names))


def _drop_notes(text: str) -> str:
    """``text`` without ``\\thanks{..}``/``\\footnote{..}``/affiliation arguments."""
    out: list[str] = []
    pos = 0
    for match in _NOTE_MACROS.finditer(text):
        if match.start() < pos:
            continue
        group = read_group(text, match.end())
        out.append(text[pos : match.start()])
        pos = group[1] if group else match.end()
    out.append(text[pos:])
    return "".join(out)


def _arxiv_id(filename: str) -> tuple[str | None, int | None]:
    match = _ARXIV_NAME.match(filename)
    if not match:
        return None, None
    if match.group(1):
        new_id = match.group(1)
        return new_id, 2000 + int(new_id[:2])
    number = match.group(3)
    yy = int(number[:2])
    return f"{match.group(2)}/{number}", (1900 + yy if yy >= 91 else 2000 + yy)


def _max_brace_depth(text: str) -> int:
    depth = deepest = 0
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "}":
            depth = max(0, depth - 1)
    return deepest
