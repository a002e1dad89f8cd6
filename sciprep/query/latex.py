"""LaTeX formulas: delimiters, validity checks and a normal form for matching.

A generated formula is only returned as valid when its braces, ``\\left``/``\\right``
pairs and environments balance *and* pylatexenc's ``LatexWalker`` parses it without
tolerance; :func:`normalize_latex` defines the "normalised-LaTeX match" the formula
evaluation reports next to exact match (spacing, delimiters, ``\\left``/``\\right``,
``\\dfrac``/``\\tfrac`` and single-token brace groups do not change the formula).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pylatexenc.latexwalker import LatexWalker, LatexWalkerError, get_default_latex_context_db

_ENV_NAMES = r"(?:equation|align|gather|multline|eqnarray|displaymath|math|flalign|alignat)\*?"
_ENV_RE = re.compile(
    r"^\\begin\{(" + _ENV_NAMES + r")\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.DOTALL
)
_DELIMS: tuple[tuple[str, str, bool], ...] = (
    ("$$", "$$", True),
    ("\\[", "\\]", True),
    ("\\(", "\\)", False),
    ("$", "$", False),
)


@dataclass(frozen=True)
class Formula:
    """A formula's body without its delimiters, and whether it was display math."""

    body: str
    display: bool


def split_delimiters(latex: str) -> Formula:
    """Remove the outer math delimiters (``$``, ``$$``, ``\\(``, ``\\[``, equation-like envs).

    A body with no recognised delimiter is returned as is, as inline math.
    """
    text = latex.strip()
    env = _ENV_RE.match(text)
    if env:
        return Formula(env.group(2).strip(), True)
    for open_d, close_d, display in _DELIMS:
        if text.startswith(open_d) and text.endswith(close_d) and len(text) >= len(open_d) + len(close_d):
            body = text[len(open_d) : len(text) - len(close_d)]
            if open_d == "$" and ("$" in body.replace("\\$", "")):
                continue
            return Formula(body.strip(), display)
    return Formula(text, False)


def _brace_problem(body: str) -> str | None:
    depth = 0
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i += 2  # an escaped char (\{, \}, \\) never opens or closes a group
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return f"unmatched '}}' at offset {i}"
        i += 1
    return f"{depth} unclosed '{{'" if depth else None


_LATEX_CONTEXT = get_default_latex_context_db()
_LEFT_RE = re.compile(r"\\left(?![a-zA-Z])")
_RIGHT_RE = re.compile(r"\\right(?![a-zA-Z])")
_BEGIN_RE = re.compile(r"\\(begin|end)\{([^{}]*)\}")


def latex_problems(latex: str) -> list[str]:
    """Why ``latex`` (with or without delimiters) is not a well-formed formula; [] when it is."""
    return list(_problems(latex))


@lru_cache(maxsize=65_536)
def _problems(latex: str) -> tuple[str, ...]:
    # Cached: corpora repeat the same short formulas ($x$, $n$) thousands of times.
    formula = split_delimiters(latex)
    body = formula.body
    problems: list[str] = []
    if not body.strip():
        return ("empty formula",)
    if (brace := _brace_problem(body)) is not None:
        problems.append(brace)
    lefts, rights = len(_LEFT_RE.findall(body)), len(_RIGHT_RE.findall(body))
    if lefts != rights:
        problems.append(f"{lefts} \\left but {rights} \\right")
    stack: list[str] = []
    for match in _BEGIN_RE.finditer(body):
        kind, name = match.groups()
        if kind == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            problems.append(f"\\end{{{name}}} does not close the open environment")
            break
    if stack:
        problems.append(f"unclosed environment {stack[-1]!r}")
    if "$" in body.replace("\\$", ""):
        problems.append("stray '$' inside the formula")
    if not problems:
        try:
            LatexWalker(body, latex_context=_LATEX_CONTEXT, tolerant_parsing=False).get_latex_nodes()
        except LatexWalkerError as err:
            problems.append(f"LaTeX parse error: {str(err).splitlines()[0]}")
    return tuple(problems)


def is_valid_latex(latex: str) -> bool:
    """True when :func:`latex_problems` finds nothing."""
    return not latex_problems(latex)


_SPACING_RE = re.compile(r"\\(?:[,;:! ]|quad\b|qquad\b|displaystyle\b|textstyle\b|left\b|right\b|nonumber\b)")
_LABEL_RE = re.compile(r"\\(?:label|tag)\{[^{}]*\}")
_FRAC_RE = re.compile(r"\\[dt]frac\b")
_SINGLE_GROUP_RE = re.compile(r"([\^_])\{(\\?[A-Za-z0-9]|\\[A-Za-z]+)\}")
_MACRO_SPACE_RE = re.compile(r"(\\[A-Za-z]+)\s+(?=[A-Za-z])")


def normalize_latex(latex: str) -> str:
    """A canonical string for "the same formula" comparisons.

    Drops delimiters, labels, spacing commands, ``\\left``/``\\right``, trailing
    punctuation and all whitespace that does not separate a macro from a letter;
    maps ``\\dfrac``/``\\tfrac`` to ``\\frac`` and ``x^{2}`` to ``x^2``. Idempotent: one
    pass can expose more to drop (``$$.`` loses its ``.``, then its delimiters), so passes
    repeat until nothing changes (bounded by the length: a pass never lengthens the text).
    """
    out = _normalize_once(latex)
    for _ in range(len(out)):
        again = _normalize_once(out)
        if again == out:
            break
        out = again
    return out


def _normalize_once(latex: str) -> str:
    body = split_delimiters(latex).body
    body = _LABEL_RE.sub("", body)
    body = _SPACING_RE.sub(" ", body)
    body = _FRAC_RE.sub(r"\\frac", body)
    body = _MACRO_SPACE_RE.sub(lambda m: m.group(1) + "\x00", body)
    body = re.sub(r"\s+", "", body).replace("\x00", " ")
    body = _SINGLE_GROUP_RE.sub(r"\1\2", body)
    return body.rstrip(".,;")
