"""TeX comment removal that follows TeX's own rules.

* ``%`` starts a comment unless escaped: ``\\%`` is a percent sign, ``\\\\%`` is a line
  break followed by a comment (an even run of backslashes does not escape).
* The comment runs to the end of the line and takes the newline and the next line's
  leading blanks with it, exactly as TeX does, so ``long%\\nword`` joins to ``longword``.
* Nothing before the ``%`` is touched (the common arXiv cleaner's inline regex ate the
  character before it).
* ``%`` inside ``\\verb|..|``, ``\\url{..}``/``\\href{..}`` and verbatim-like environments
  is text, not a comment.
* ``\\begin{comment}..\\end{comment}`` and ``\\iffalse..\\fi`` blocks are removed.
"""

from __future__ import annotations

import re

_VERBATIM_ENVS = ("verbatim", "verbatim*", "lstlisting", "minted", "Verbatim", "alltt")
_VERBATIM_BEGIN = re.compile(r"\\begin\{(" + "|".join(re.escape(e) for e in _VERBATIM_ENVS) + r")\}")
_URL_MACRO = re.compile(r"\\(?:url|href)\s*\{")
_VERB = re.compile(r"\\verb\*?([^A-Za-z\s*])")
_COMMENT_ENV = re.compile(r"\\begin\{comment\}.*?(?:\\end\{comment\}|\Z)", re.DOTALL)
_IF_TOKEN = re.compile(r"\\(iffalse|if[A-Za-z@]*|fi)(?![A-Za-z@])")


def strip_comments(text: str) -> str:
    """``text`` with every TeX comment removed (see the module docstring for the rules)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            verbatim = _VERBATIM_BEGIN.match(text, i)
            if verbatim:
                end = text.find(f"\\end{{{verbatim.group(1)}}}", verbatim.end())
                stop = n if end < 0 else end
                out.append(text[i:stop])
                i = stop
                if end >= 0:
                    out.append(text[end : end + len(verbatim.group(1)) + 6])
                    i = end + len(verbatim.group(1)) + 6
                continue
            url = _URL_MACRO.match(text, i)
            if url:
                close = _matching_brace(text, url.end() - 1)
                out.append(text[i:close])
                i = close
                continue
            verb = _VERB.match(text, i)
            if verb:
                close = text.find(verb.group(1), verb.end())
                line_end = text.find("\n", verb.end())
                if close >= 0 and (line_end < 0 or close < line_end):
                    out.append(text[i : close + 1])
                    i = close + 1
                    continue
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch == "%":
            newline = text.find("\n", i)
            if newline < 0:
                break
            i = newline + 1
            while i < n and text[i] in " \t":
                i += 1
            continue
        out.append(ch)
        i += 1
    return _drop_iffalse(_COMMENT_ENV.sub("", "".join(out)))


def _matching_brace(text: str, open_index: int) -> int:
    """Index just past the brace group opening at ``open_index`` (end of line if unclosed)."""
    depth = 0
    i = open_index
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif ch == "\n" and text[i + 1 : i + 2] == "\n":
            return i  # a paragraph break ends any argument
        i += 1
    return len(text)


def _drop_iffalse(text: str) -> str:
    """Remove ``\\iffalse ... \\fi`` blocks, counting nested ``\\if..`` / ``\\fi`` pairs."""
    if "\\iffalse" not in text:
        return text
    out: list[str] = []
    pos = 0
    depth = 0
    start = 0
    for match in _IF_TOKEN.finditer(text):
        name = match.group(1)
        if depth == 0:
            if name == "iffalse":
                out.append(text[pos : match.start()])
                start = match.start()
                depth = 1
            continue
        if name == "fi":
            depth -= 1
            if depth == 0:
                pos = match.end()
        else:
            depth += 1
    if depth > 0:  # unclosed \iffalse: keep the text rather than lose the rest of the file
        out.append(text[start:])
        return "".join(out)
    out.append(text[pos:])
    return "".join(out)
