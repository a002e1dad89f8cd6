"""Short LaTeX strings (bibliography fields, titles, ``\\bibitem`` bodies) to plain text.

pylatexenc's converter handles accents, ligatures and braces; this module adds the TeX
logos it drops (``\\TeX``, ``\\LaTeX``, ``\\BibTeX``) and keeps math verbatim, so a title
like ``{S}ci{BERT} for $\\alpha$-helices`` becomes ``SciBERT for $\\alpha$-helices``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.macrospec import LatexContextDb, MacroSpec

from sciprep.corpus.references import clean_text

#: TeX logos and name macros pylatexenc would drop, as their printed text.
LOGOS = {
    "TeX": "TeX",
    "LaTeX": "LaTeX",
    "LaTeXe": "LaTeX2e",
    "BibTeX": "BibTeX",
    "AmS": "AMS",
    "AmSTeX": "AMS-TeX",
    "XeTeX": "XeTeX",
    "LuaTeX": "LuaTeX",
    "ConTeXt": "ConTeXt",
    "METAFONT": "METAFONT",
    "MF": "METAFONT",
    "MP": "MetaPost",
    "slash": "/",
    "textasciitilde": "~",
    "textbackslash": "\\",
    "nobreakdash": "",
    "xspace": "",
    "ldots": "...",
    "S": "§",
    "P": "¶",
    "dots": "...",
}

#: Argument shapes for common macros pylatexenc's walker does not know.
EXTRA_MACRO_ARGS = (
    ("href", "{{"),
    ("textcolor", "[{{"),
    ("colorbox", "[{{"),
    ("fcolorbox", "[{{{"),
    ("color", "[{"),
    ("scalebox", "{{"),
    ("resizebox", "*{{{"),
    ("rotatebox", "[{{"),
    ("makecell", "[{"),
    ("multicolumn", "{{{"),
    ("multirow", "[{[{"),
    ("newblock", ""),
    ("bibinfo", "{{"),
    ("bibfield", "{{"),
    ("bibnamefont", "{"),
    ("bibfnamefont", "{"),
    ("citenamefont", "{"),
    ("urlprefix", ""),
    ("doibase", ""),
    ("natexlab", "{"),
    ("uline", "{"),
    ("dashuline", "{"),
    ("sout", "{"),
    ("vspace", "*{"),
    ("hspace", "*{"),
    ("thanks", "{"),
    ("Thanks", "{"),
    ("affiliation", "[{"),
    ("affil", "[{"),
    ("email", "{"),
    ("institute", "{"),
    ("keywords", "{"),
    ("subfigure", "[{"),
    ("subfloat", "[[{"),
    ("lstinline", "{"),
    ("doi", "{"),
    ("eprint", "[{"),
    ("abstract", "{"),
    ("nocite", "{"),
    ("\\", "*["),
    ("caption", "*[{"),
    ("autoref", "*{"),
    ("cref", "*{"),
    ("Cref", "*{"),
    ("subcaption", "[{"),
    ("captionof", "*{[{"),
    ("paragraph", "*[{"),
    ("subparagraph", "*[{"),
)


_NEEDS_LATEX = re.compile(r"[\\{}~$%&]|--|``|''")


class _IndexedContextDb(LatexContextDb):
    """pylatexenc's context with the specials lookup indexed by first character.

    ``LatexContextDb.test_for_specials`` compares every known special at every text
    position, which dominated parsing time; this index gives the same answer (longest
    match, earliest category on ties) after one dictionary lookup.
    """

    def __init__(self, base: LatexContextDb) -> None:
        super().__init__()
        self.category_list = list(base.category_list)
        self.d = dict(base.d)
        self.unknown_macro_spec = base.unknown_macro_spec
        self.unknown_environment_spec = base.unknown_environment_spec
        self.unknown_specials_spec = base.unknown_specials_spec
        self._by_first: dict[str, list[tuple[str, object]]] | None = None

    def add_context_category(self, *args: Any, **kwargs: Any) -> None:
        super().add_context_category(*args, **kwargs)
        self._by_first = None

    def test_for_specials(self, s: str, pos: int, parsing_state: object = None) -> object:
        if self._by_first is None:
            index: dict[str, list[tuple[str, object]]] = {}
            for category in self.category_list:
                for chars, spec in self.d[category]["specials"].items():
                    index.setdefault(chars[:1], []).append((chars, spec))
            self._by_first = index
        best, best_len = None, 0
        for chars, spec in self._by_first.get(s[pos : pos + 1], ()):
            if len(chars) > best_len and s.startswith(chars, pos):
                best, best_len = spec, len(chars)
        return best


@lru_cache(maxsize=1)
def walker_context() -> LatexContextDb:
    """pylatexenc's parsing context with :data:`EXTRA_MACRO_ARGS` added."""
    db = _IndexedContextDb(latexwalker.get_default_latex_context_db())
    db.add_context_category(
        "sciprep-extra",
        prepend=True,
        macros=[MacroSpec(name, args) for name, args in EXTRA_MACRO_ARGS],
    )
    return db


@lru_cache(maxsize=1)
def text_context() -> object:
    """pylatexenc's text-replacement context with the logos of :data:`LOGOS`."""
    db = get_default_latex_context_db()
    db.add_context_category(
        "sciprep-logos",
        prepend=True,
        macros=[MacroTextSpec(name, simplify_repl=text) for name, text in LOGOS.items()]
        + [
            MacroTextSpec("href", simplify_repl="%(2)s"),
            MacroTextSpec("url", simplify_repl="%(1)s"),
            MacroTextSpec("doi", simplify_repl="%(1)s"),
            MacroTextSpec("newblock", simplify_repl=" "),
            MacroTextSpec("natexlab", simplify_repl="%(1)s"),
            MacroTextSpec("bibinfo", simplify_repl="%(2)s"),
            MacroTextSpec("bibfield", simplify_repl="%(2)s"),
            MacroTextSpec("urlprefix", simplify_repl=""),
            MacroTextSpec("doibase", simplify_repl=""),
        ],
    )
    return db


def decode_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM), falling back to Latin-1 as old .bib/.tex files use."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_nodes(latex: str) -> list[object]:
    """pylatexenc node list for ``latex`` (tolerant: malformed input never raises)."""
    walker = latexwalker.LatexWalker(latex, latex_context=walker_context(), tolerant_parsing=True)
    nodes, _, _ = walker.get_latex_nodes()
    return list(nodes)


class TolerantText(LatexNodes2Text):
    """pylatexenc's converter that survives macros parsed with missing arguments.

    Tolerant parsing of broken input can leave ``\\href`` with one argument; the stock
    ``%(2)s`` substitution then raises. Such a macro prints the text of the arguments it has.
    """

    def __init__(self) -> None:
        super().__init__(latex_context=text_context(), math_mode="verbatim", strict_latex_spaces=True)

    def apply_simplify_repl(self, node: Any, simplify_repl: Any, what: str) -> str:
        try:
            return str(super().apply_simplify_repl(node, simplify_repl, what))
        except (KeyError, IndexError, TypeError, ValueError):
            args = node.nodeargd.argnlist if node.nodeargd and node.nodeargd.argnlist else []
            return "".join(self._groupnodecontents_to_text(a) for a in args if a is not None)


def latex_to_text(latex: str) -> str:
    """Plain text of a short LaTeX string, whitespace collapsed, math kept verbatim."""
    if not latex:
        return ""
    if not _NEEDS_LATEX.search(latex):
        return clean_text(latex)
    return clean_text(TolerantText().nodelist_to_text(parse_nodes(latex)))
