"""Expansion of the author's own macros (``\\newcommand``, ``\\renewcommand``, ``\\def``...).

Papers hide their vocabulary behind macros (``\\newcommand{\\gorc}{\\textsc{S2ORC}\\xspace}``,
``\\newcommand{\\R}{\\mathbb{R}}``), so a corpus that keeps ``\\gorc`` loses the word.
:func:`collect_macros` removes the definitions from the source and returns them;
:func:`expand_macros` replaces each use by the body with its arguments substituted
(``#1``..``#9``, an optional first argument with its default), re-expanding the result.

Bounds keep hostile or recursive definitions harmless: at most :data:`MAX_PASSES` rounds of
re-expansion and an output at most :data:`MAX_GROWTH` times the input (plus 1 MB); past
that the remaining uses stay unexpanded and :attr:`Expansion.truncated` says so.
Redefinitions of structural commands (``\\section``, ``\\cite``, ``\\caption``...) are
ignored: the converter needs those names intact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_PASSES = 12
MAX_GROWTH = 4
MAX_BODY_CHARS = 20_000
MAX_DEFINITIONS = 5_000

#: Commands whose meaning the converter relies on; user redefinitions are dropped.
PROTECTED = frozenset(
    "section subsection subsubsection paragraph subparagraph chapter part caption label ref eqref "
    "cite citep citet citealp citealt citeauthor citeyear nocite parencite textcite autocite "
    "begin end title author date maketitle appendix bibliography bibliographystyle input include "
    "item footnote documentclass usepackage newcommand renewcommand def let abstract".split()
)

_DEF_START = re.compile(
    r"\\(?:newcommand|renewcommand|providecommand|DeclareRobustCommand|DeclareMathOperator|long|global|protected|[gex]?def)(?![A-Za-z@])"
)
_DEF_HEAD = re.compile(r"\\(newcommand|renewcommand|providecommand|DeclareRobustCommand)\*?\s*")
_TEX_DEF = re.compile(r"\\(?:long\\|global\\|protected\\)*[gex]?def\s*\\([A-Za-z@]+|.)")
_MATH_OP = re.compile(r"\\DeclareMathOperator(\*?)\s*")
_CONTROL_WORD = re.compile(r"\\([A-Za-z@]+|[^A-Za-z@\s])")
_PARAM = re.compile(r"##|#([1-9])")
_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)


@dataclass(frozen=True)
class Macro:
    """One user macro: argument count, optional-argument default, body."""

    name: str
    nargs: int
    body: str
    default: str | None = None


@dataclass
class Expansion:
    """Expanded text plus bookkeeping for the document's metadata."""

    text: str
    expanded: int = 0
    truncated: bool = False
    skipped: list[str] = field(default_factory=list)


def collect_macros(text: str) -> tuple[str, dict[str, Macro]]:
    """Remove macro definitions from ``text``; return the rest and ``name -> Macro``."""
    src = _Source(text)
    macros: dict[str, Macro] = {}
    out: list[str] = []
    pos = 0
    found = 0
    for start in _DEF_START.finditer(text):
        i = start.start()
        if i < pos or found >= MAX_DEFINITIONS:
            continue
        parsed = _parse_definition(src, i)
        if parsed is None:
            continue
        found += 1
        macro, end = parsed
        if (i == 0 or text[i - 1] == "\n") and text.startswith("\n", end):
            end += 1  # a definition on its own line leaves no blank line behind
        out.append(text[pos:i])
        pos = end
        if macro is not None and macro.name not in PROTECTED and len(macro.body) <= MAX_BODY_CHARS:
            macros[macro.name] = macro
    out.append(text[pos:])
    return "".join(out), macros


def expand_macros(text: str, macros: dict[str, Macro]) -> Expansion:
    """Expand every use of ``macros`` in ``text`` (bounded; see the module docstring)."""
    result = Expansion(text=text)
    if not macros:
        return result
    limit = MAX_GROWTH * len(text) + 1_000_000
    for _ in range(MAX_PASSES):
        new_text, count = _expand_once(_Source(result.text), macros, limit)
        result.expanded += count
        if new_text is None:
            result.truncated = True
            return result
        if count == 0:
            return result
        result.text = new_text
    result.truncated = bool(_uses(result.text, macros))
    return result


def read_group(text: str, pos: int) -> tuple[str, int] | None:
    """The content of the ``{...}`` group starting at ``pos`` (after blanks) and its end."""
    return _Source(text).group(pos)


class _Source:
    """A text with its brace pairs matched once, so reading a group is a lookup.

    Matching per read would rescan to the end of the text for every unclosed ``{``, which
    hostile input can make quadratic.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pairs: dict[int, int] = {}
        stack: list[int] = []
        for token in _BRACE_TOKEN.finditer(text):
            char = token.group(0)
            if char == "{":
                stack.append(token.start())
            elif char == "}" and stack:
                self.pairs[stack.pop()] = token.start()

    def group(self, pos: int) -> tuple[str, int] | None:
        pos = _skip_blanks(self.text, pos)
        close = self.pairs.get(pos)
        if close is None:
            return None
        return self.text[pos + 1 : close], close + 1

    def argument(self, pos: int) -> tuple[str, int] | None:
        """One undelimited TeX argument: a brace group, a control sequence or one character."""
        group = self.group(pos)
        if group is not None:
            return group
        text = self.text
        pos = _skip_blanks(text, pos)
        if pos >= len(text) or text[pos] in "{}":
            return None
        word = _CONTROL_WORD.match(text, pos)
        if word:
            return word.group(0), word.end()
        return text[pos], pos + 1

    def bracket(self, pos: int) -> tuple[str, int] | None:
        """An optional ``[...]`` argument (braces inside it may hold ``]``)."""
        text = self.text
        pos = _skip_blanks(text, pos)
        if pos >= len(text) or text[pos] != "[":
            return None
        i = pos + 1
        stop = min(len(text), pos + MAX_BODY_CHARS)
        while i < stop:
            if text[i] == "{" and i in self.pairs:
                i = self.pairs[i] + 1
                continue
            if text[i] == "]":
                return text[pos + 1 : i], i + 1
            i += 1
        return None


def _skip_blanks(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n":
        pos += 1
    return pos


def _parse_definition(src: _Source, i: int) -> tuple[Macro | None, int] | None:
    """A definition at ``i``: (macro or None when unsupported, end index); None if none."""
    text = src.text
    head = _DEF_HEAD.match(text, i)
    if head:
        return _parse_newcommand(src, head.end())
    tex_def = _TEX_DEF.match(text, i)
    if tex_def:
        return _parse_def(src, tex_def.group(1), tex_def.end())
    op = _MATH_OP.match(text, i)
    if op:
        name = src.group(op.end())
        body = src.group(name[1]) if name else None
        if name and body:
            macro = Macro(name[0].strip().lstrip("\\"), 0, f"\\operatorname{op.group(1)}{{{body[0]}}}")
            return macro, body[1]
    return None


def _parse_newcommand(src: _Source, pos: int) -> tuple[Macro | None, int] | None:
    name_group = src.group(pos)
    if name_group is not None:
        name, pos = name_group[0].strip(), name_group[1]
    else:
        word = _CONTROL_WORD.match(src.text, _skip_blanks(src.text, pos))
        if not word:
            return None
        name, pos = word.group(0), word.end()
    if not name.startswith("\\"):
        return None
    nargs = 0
    count = src.bracket(pos)
    if count is not None:
        if not count[0].strip().isdigit():
            return None
        nargs, pos = min(int(count[0].strip()), 9), count[1]
    default = None
    opt = src.bracket(pos) if nargs else None
    if opt is not None:
        default, pos = opt
    body = src.group(pos)
    if body is None:
        return None
    return Macro(name[1:], nargs, body[0], default), body[1]


def _parse_def(src: _Source, name: str, pos: int) -> tuple[Macro | None, int] | None:
    """``\\def\\name#1#2{body}``; delimited parameter texts are removed but not expanded."""
    brace = src.text.find("{", pos, pos + 201)
    if brace < 0:
        return None
    params = src.text[pos:brace]
    body = src.group(brace)
    if body is None:
        return None
    if re.fullmatch(r"(?:#[1-9])*", params.strip().replace(" ", "")):
        return Macro(name, params.count("#"), body[0]), body[1]
    return None, body[1]


def _uses(text: str, macros: dict[str, Macro]) -> bool:
    return any(m.group(1) in macros for m in _CONTROL_WORD.finditer(text))


def _expand_once(src: _Source, macros: dict[str, Macro], limit: int) -> tuple[str | None, int]:
    text = src.text
    out: list[str] = []
    size = 0
    pos = 0
    count = 0
    for match in _CONTROL_WORD.finditer(text):
        if match.start() < pos:
            continue
        macro = macros.get(match.group(1))
        if macro is None:
            continue
        replacement, end = _apply(src, match.end(), macro)
        if replacement is None:
            continue
        out.append(text[pos : match.start()])
        out.append(replacement)
        size += match.start() - pos + len(replacement)
        if size > limit:
            return None, count
        pos = end
        count += 1
    out.append(text[pos:])
    return "".join(out), count


def _apply(src: _Source, pos: int, macro: Macro) -> tuple[str | None, int]:
    text = src.text
    args: list[str] = []
    if macro.default is not None:
        opt = src.bracket(pos)
        if opt is not None:
            args.append(opt[0])
            pos = opt[1]
        else:
            args.append(macro.default)
    while len(args) < macro.nargs:
        arg = src.argument(pos)
        if arg is None:
            return None, pos
        args.append(arg[0])
        pos = arg[1]
    body = _PARAM.sub(lambda m: "#" if m.group(0) == "##" else _arg(args, m.group(1)), macro.body)
    if body and re.search(r"\\[A-Za-z@]+$", body) and pos < len(text) and text[pos].isalpha():
        body += " "  # keep "\foo" + "bar" from fusing into one control word
    if macro.nargs == 0 and text.startswith("{}", pos):
        pos += 2  # "\gorc{}" is the author's way of ending the name
    return body, pos


def _arg(args: list[str], index: str) -> str:
    k = int(index) - 1
    return args[k] if k < len(args) else ""
