"""Find a source's main file and inline its ``\\input``/``\\include`` tree.

The main file is the ``.tex`` with ``\\documentclass`` (outside comments); among several,
the one with ``\\begin{document}`` that no other file inputs, then the conventional names,
then the largest. ``\\input``/``\\include``/``\\subfile`` are resolved like TeX does
(relative to the source root, then to the including file, ``.tex`` added when missing),
only ever against the files already read from the source, to a depth of
:data:`MAX_INPUT_DEPTH`; a missing file is recorded, not fatal.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from sciprep.corpus.latex.comments import strip_comments
from sciprep.corpus.latex.text import decode_bytes

MAX_INPUT_DEPTH = 12
MAX_INLINED_CHARS = 32 * 1024 * 1024

_DOCUMENTCLASS = re.compile(r"\\documentclass\s*(?:\[[^\]]*\])?\s*\{")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_INPUT = re.compile(r"\\(input|include|subfile)(?![A-Za-z@])\s*(?:\{([^{}\n]+)\}|([^\s{}\\%]+))")
_CONVENTIONAL = ("main.tex", "ms.tex", "paper.tex", "article.tex", "manuscript.tex")


class NoMainFileError(ValueError):
    """No ``.tex`` file of the source has a ``\\documentclass``."""


@dataclass
class Assembled:
    """The main file's text with its inputs inlined (comments already stripped)."""

    main: str
    text: str
    inlined: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def tex_texts(files: dict[str, bytes]) -> dict[str, str]:
    """Decoded, comment-stripped text of every ``.tex``/``.ltx`` file."""
    return {
        name: strip_comments(decode_bytes(data))
        for name, data in sorted(files.items())
        if name.lower().endswith((".tex", ".ltx"))
    }


def find_main(texts: dict[str, str]) -> str:
    """Name of the main file; :class:`NoMainFileError` says why there is none."""
    candidates = [name for name, text in texts.items() if _DOCUMENTCLASS.search(text)]
    if not candidates:
        raise NoMainFileError(
            f"no main file: none of the {len(texts)} .tex file(s) has a \\documentclass"
            + (f" ({', '.join(sorted(texts)[:5])})" if texts else "")
        )
    included = {_resolve(target, name, texts) for name, text in texts.items() for target in _targets(text)}

    def rank(name: str) -> tuple[int, int, int, int, str]:
        text = texts[name]
        return (
            0 if _BEGIN_DOCUMENT.search(text) else 1,
            1 if name in included else 0,
            0 if posixpath.basename(name).lower() in _CONVENTIONAL else 1,
            -len(text),
            name,
        )

    return min(candidates, key=rank)


def independent_mains(texts: dict[str, str]) -> list[str]:
    """Every file that is a paper of its own: a ``\\documentclass`` (other than a
    ``standalone`` figure) with ``\\begin{document}`` that no other file inputs. A folder
    with several of them holds several papers, not one."""
    included = {_resolve(target, name, texts) for name, text in texts.items() for target in _targets(text)}
    return [
        name
        for name, text in sorted(texts.items())
        if (match := _DOCUMENTCLASS.search(text))
        and not text[match.end() :].lstrip().startswith("standalone")
        and _BEGIN_DOCUMENT.search(text)
        and name not in included
    ]


def assemble(texts: dict[str, str], main: str) -> Assembled:
    """Inline the input tree under ``main``; cycles and depth beyond the bound stop."""
    result = Assembled(main=main, text="")
    result.text = _inline(texts, main, texts[main], 0, [main], result)
    return result


def _targets(text: str) -> list[str]:
    return [(m.group(2) or m.group(3) or "").strip() for m in _INPUT.finditer(text)]


def _resolve(target: str, including: str, texts: dict[str, str]) -> str | None:
    target = target.strip().strip('"')
    bases = ["", posixpath.dirname(including)]
    for base in bases:
        for candidate in (target, target + ".tex"):
            norm = posixpath.normpath(posixpath.join(base, candidate))
            if norm.startswith("../") or norm == ".." or norm.startswith("/"):
                continue
            if norm in texts:
                return norm
    return None


def _inline(texts: dict[str, str], name: str, text: str, depth: int, stack: list[str], result: Assembled) -> str:
    out: list[str] = []
    pos = 0
    for match in _INPUT.finditer(text):
        out.append(text[pos : match.start()])
        pos = match.end()
        target = (match.group(2) or match.group(3) or "").strip()
        resolved = _resolve(target, name, texts)
        if resolved is None:
            if not target.lower().endswith((".pdf_tex", ".pgf", ".tikz", ".table")):
                result.missing.append(target)
            continue
        if resolved in stack or depth + 1 > MAX_INPUT_DEPTH:
            result.missing.append(f"{target} (cyclic or nested deeper than {MAX_INPUT_DEPTH})")
            continue
        result.inlined.append(resolved)
        body = _inline(texts, resolved, _strip_preamble(texts[resolved]), depth + 1, [*stack, resolved], result)
        if sum(len(x) for x in out) + len(body) > MAX_INLINED_CHARS:
            result.missing.append(f"{target} (inlined text over {MAX_INLINED_CHARS} characters)")
            continue
        sep = "\n" if match.group(1) == "include" else ""
        out.append(sep + body + sep)
    out.append(text[pos:])
    return "".join(out)


def _strip_preamble(text: str) -> str:
    """A ``\\subfile`` is a full document: keep only its body."""
    if not _DOCUMENTCLASS.search(text):
        return text
    begin = _BEGIN_DOCUMENT.search(text)
    end = text.find("\\end{document}")
    if begin is None:
        return text
    return text[begin.end() : end if end >= 0 else len(text)]
