"""A LaTeX document body to Markdown-flavoured training text.

What survives, and how:

* sections as Markdown headings, numbered as LaTeX numbers them (``## 2 Method``,
  ``### 2.1 Data``); after ``\\appendix`` as ``## Appendix A: Title`` (appendices are kept);
* the abstract as ``## Abstract`` (environment or ``\\abstract{..}`` macro);
* figure/table/algorithm captions as ``Figure 3: ...`` paragraphs (the graphics and table
  cells are dropped); theorem-like environments as ``Theorem. ...``; lists as ``- `` lines;
  code listings as fenced blocks; footnotes inline in parentheses;
* math exactly as written (``$..$``, ``\\[..\\]``, ``equation``/``align``...), display math
  on its own line; ``\\label`` is removed from it and its number is recorded;
* ``\\ref``/``\\eqref``/``\\cref`` become the numbers they print; citations stay as
  ``\\cite{..}``/``\\citet{..}``/``\\citep{..}`` for the tokenizer's resolver;
* a literal dollar is written ``\\$`` so it is never mistaken for math.

Paragraph lines are joined (source line breaks are not paragraph breaks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pylatexenc import latexwalker

from sciprep.corpus.latex.text import LOGOS, TolerantText, parse_nodes

MATH_ENVIRONMENTS = frozenset(
    f"{name}{star}"
    for name in (
        "equation",
        "align",
        "gather",
        "multline",
        "eqnarray",
        "displaymath",
        "math",
        "flalign",
        "alignat",
        "dmath",
    )
    for star in ("", "*")
)
FLOAT_KINDS = {
    "figure": "Figure",
    "figure*": "Figure",
    "wrapfigure": "Figure",
    "sidewaysfigure": "Figure",
    "SCfigure": "Figure",
    "table": "Table",
    "table*": "Table",
    "wraptable": "Table",
    "sidewaystable": "Table",
    "algorithm": "Algorithm",
    "algorithm*": "Algorithm",
    "listing": "Listing",
}
THEOREMS = {
    name: name.capitalize()
    for name in (
        "theorem lemma corollary proposition definition remark example conjecture claim assumption "
        "observation fact hypothesis problem question note exercise notation property"
    ).split()
}
_DROPPED_ENVS = frozenset(
    "thebibliography tabular tabular* tabularx tabulary longtable tikzpicture pgfpicture picture "
    "algorithmic algorithmic* comment filecontents filecontents*".split()
)
_CODE_ENVS = frozenset("verbatim verbatim* lstlisting minted Verbatim alltt".split())
_SECTION_LEVELS = {
    "part": 1,
    "chapter": 1,
    "section": 1,
    "subsection": 2,
    "subsubsection": 3,
    "paragraph": 4,
    "subparagraph": 5,
}
_DROPPED_MACROS = frozenset(
    "label title author date maketitle affiliation affil institute email thanks Thanks footnotemark "
    "keywords bibliography bibliographystyle printbibliography includegraphics nocite vspace hspace "
    "centering noindent newpage clearpage pagebreak linebreak tableofcontents listoffigures "
    "addbibresource pagestyle thispagestyle setlength addtolength hypersetup bibpunct "
    "setcounter addtocounter newtheorem theoremstyle graphicspath captionsetup color".split()
)
_CITE_AS_IS = frozenset({"cite", "citet", "citep"})
_CITE_OTHER = frozenset(
    "citealp citealt citeauthor citeyear citeyearpar citenum parencite textcite autocite "
    "Cite Citet Citep footcite supercite".split()
)
_REF_MACROS = {
    "ref": "{}",
    "eqref": "({})",
    "autoref": "{kind}{}",
    "cref": "{kind}{}",
    "Cref": "{kind}{}",
    "pageref": "{}",
}
_LABEL_IN_MATH = re.compile(r"\\label\s*\{([^{}]*)\}")
_NO_NUMBER = re.compile(r"\\(?:nonumber|notag)\b")
_PROTECTED = re.compile("\ue000(\\d+)\ue001")
_REF_MARK = re.compile("\ue002([^\ue003]*)\ue003")
_ITEM = "\ue004"
_DISPLAY = "\ue005"
_DISPLAY_SPLIT = re.compile(f"({_DISPLAY}\ue000\\d+\ue001)")


@dataclass
class Converted:
    """The Markdown text and what the conversion found along the way."""

    text: str
    cite_keys: list[str] = field(default_factory=list)
    has_abstract: bool = False
    sections: int = 0
    appendix_sections: int = 0
    captions: int = 0
    equations: int = 0


@dataclass
class _State:
    counters: list[int] = field(default_factory=lambda: [0] * 6)
    appendix: bool = False
    floats: dict[str, int] = field(default_factory=dict)
    equation: int = 0
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    current: tuple[str, str] = ("", "")
    protected: list[str] = field(default_factory=list)
    result: Converted = field(default_factory=lambda: Converted(text=""))


class _Writer(TolerantText):
    """pylatexenc's text converter with the document structure handled explicitly."""

    def __init__(self, theorems: dict[str, str]) -> None:
        super().__init__()
        self.theorems = {**THEOREMS, **theorems}
        self.state = _State()

    def protect(self, text: str) -> str:
        self.state.protected.append(text)
        return f"\ue000{len(self.state.protected) - 1}\ue001"

    def math_node_to_text(self, node: latexwalker.LatexNode) -> str:
        latex = node.latex_verbatim()
        if node.isNodeType(latexwalker.LatexEnvironmentNode) or node.displaytype == "display":
            return self._display_math(latex, numbered=False)
        return self.protect(latex)

    def _display_math(self, latex: str, *, numbered: bool) -> str:
        labels = _LABEL_IN_MATH.findall(latex)
        if numbered:
            rows = re.split(r"\\\\", latex) if "\\\\" in latex else [latex]
            for row in rows:
                if _NO_NUMBER.search(row):
                    continue
                self.state.equation += 1
                for label in _LABEL_IN_MATH.findall(row):
                    self.state.labels[label] = ("Equation ", str(self.state.equation))
        for label in labels:
            self.state.labels.setdefault(label, ("Equation ", str(self.state.equation)))
        self.state.result.equations += 1
        clean = _LABEL_IN_MATH.sub("", latex)
        return _DISPLAY + self.protect(clean)

    def specials_node_to_text(self, node: latexwalker.LatexNode) -> str:
        if node.specials_chars == "~":
            return " "
        return super().specials_node_to_text(node)

    def macro_node_to_text(self, node: latexwalker.LatexNode) -> str:
        name = node.macroname
        if name in _SECTION_LEVELS:
            return self._heading(node, _SECTION_LEVELS[name])
        if name in _CITE_AS_IS or name in _CITE_OTHER:
            return self._cite(node, name)
        if name in _REF_MACROS:
            label = self.node_arg_to_text(node, len(node.nodeargd.argnlist) - 1) if _has_args(node) else ""
            return self.protect(f"\ue002{name}:{label.strip()}\ue003")
        if name == "label":
            if _has_args(node):
                self.state.labels[self.node_arg_to_text(node, 0).strip()] = self.state.current
            return ""
        if name == "appendix":
            self.state.appendix = True
            self.state.counters = [0] * 6
            return ""
        if name == "abstract" and _has_args(node):
            return self._abstract(self.node_arg_to_text(node, len(node.nodeargd.argnlist) - 1))
        if name == "footnote":
            text = self.node_arg_to_text(node, len(node.nodeargd.argnlist) - 1) if _has_args(node) else ""
            return f" ({text.strip()})" if text.strip() else ""
        if name == "caption":
            return self._caption_text(node, "Caption")
        if name == "item":
            label = self.node_arg_to_text(node, 0).strip() if _has_args(node) else ""
            return f"{_ITEM}{label + ' ' if label else ''}"
        if name == "$":
            return "\\$"
        if name == "\\":
            return "\n"
        if name == "xspace":
            return node.macro_post_space  # xspace's rule: a space unless punctuation follows
        if name in _DROPPED_MACROS:
            return ""
        if name in LOGOS and not _has_args(node):
            return LOGOS[name]
        if self.latex_context.get_macro_spec(name) is None:
            # Formatting wrappers (\textcolor{c}{text}, \makecell{..}, \uline{..}) print their
            # last argument; pylatexenc would drop the text with the macro.
            args = [a for a in node.nodeargd.argnlist if a is not None] if _has_args(node) else []
            return self._groupnodecontents_to_text(args[-1]) if args else ""
        return super().macro_node_to_text(node)

    def environment_node_to_text(self, node: latexwalker.LatexNode) -> str:
        name = node.environmentname
        if name in MATH_ENVIRONMENTS:
            return self._display_math(node.latex_verbatim(), numbered=not name.endswith("*") and name != "displaymath")
        if name in FLOAT_KINDS:
            return self._float(node, FLOAT_KINDS[name])
        if name == "abstract":
            return self._abstract(self.nodelist_to_text(node.nodelist))
        if name in _DROPPED_ENVS:
            return ""
        if name in _CODE_ENVS:
            return self._code(node)
        base = name.rstrip("*")
        if base in self.theorems or base == "proof":
            title = self.theorems.get(base, "Proof")
            return f"\n\n{title}. {self.nodelist_to_text(node.nodelist).strip()}\n\n"
        if name == "subequations":
            return self.nodelist_to_text(node.nodelist)
        return super().environment_node_to_text(node)

    def _heading(self, node: latexwalker.LatexNode, level: int) -> str:
        args = node.nodeargd.argnlist if _has_args(node) else []
        title = " ".join(self._groupnodecontents_to_text(args[-1]).split()) if args else ""
        starred = bool(args) and args[0] is not None
        number = ""
        if not starred and level <= 3:
            self.state.counters[level - 1] += 1
            for deeper in range(level, len(self.state.counters)):
                self.state.counters[deeper] = 0
            parts = [str(c) for c in self.state.counters[:level]]
            if self.state.appendix:
                parts[0] = _letter(self.state.counters[0])
            number = ".".join(parts)
            self.state.current = ("Appendix " if self.state.appendix and level == 1 else "Section ", number)
        self.state.result.sections += 1
        if self.state.appendix and level == 1:
            self.state.result.appendix_sections += 1
            heading = f"Appendix {number}: {title}" if number else f"Appendix: {title}"
        else:
            heading = f"{number} {title}".strip()
        return "\n\n" + self.protect("#" * (level + 1) + " " + heading) + "\n\n"

    def _cite(self, node: latexwalker.LatexNode, name: str) -> str:
        if not _has_args(node):
            return ""
        keys_text = node.nodeargd.argnlist[-1].latex_verbatim().strip("{} ") if node.nodeargd.argnlist[-1] else ""
        keys = [k.strip() for k in keys_text.split(",") if k.strip()]
        self.state.result.cite_keys.extend(keys)
        command = name if name in _CITE_AS_IS else ("citet" if name in {"textcite", "Citet"} else "cite")
        # natbib/biblatex notes ([see][p.~3]) stay, so the resolver can keep them as text.
        notes = "".join(
            arg.latex_verbatim().replace("~", " ")
            for arg in node.nodeargd.argnlist[:-1]
            if arg is not None and arg.latex_verbatim().startswith("[")
        )
        return self.protect(f"\\{command}{notes}{{{','.join(keys)}}}") if keys else ""

    def _abstract(self, text: str) -> str:
        self.state.result.has_abstract = True
        return "\n\n" + self.protect("## Abstract") + "\n\n" + text.strip() + "\n\n"

    def _float(self, node: latexwalker.LatexNode, kind: str) -> str:
        self.state.floats[kind] = self.state.floats.get(kind, 0) + 1
        number = str(self.state.floats[kind])
        previous = self.state.current
        self.state.current = (f"{kind} ", number)
        captions = [c for c in _find_macros(node.nodelist, {"caption", "label"}) if c.macroname == "caption"]
        for label_node in _find_macros(node.nodelist, {"label"}):
            if _has_args(label_node):
                self.state.labels[self.node_arg_to_text(label_node, 0).strip()] = (f"{kind} ", number)
        self.state.current = previous
        texts = [self._caption_text(c, "") for c in captions]
        texts = [t for t in texts if t]
        if not texts:
            return ""
        self.state.result.captions += 1
        return f"\n\n{kind} {number}: " + " ".join(texts) + "\n\n"

    def _caption_text(self, node: latexwalker.LatexNode, prefix: str) -> str:
        if not _has_args(node):
            return ""
        text = " ".join(self.node_arg_to_text(node, len(node.nodeargd.argnlist) - 1).split())
        return f"\n\n{prefix}: {text}\n\n" if prefix and text else text

    def _code(self, node: latexwalker.LatexNode) -> str:
        latex = node.latex_verbatim()
        body = re.sub(r"^\\begin\{[^}]*\}(?:\[[^\]]*\])?(?:\{[^}]*\})?\n?", "", latex)
        body = re.sub(r"\\end\{[^}]*\}$", "", body)
        return "\n\n" + self.protect("```\n" + body.rstrip("\n") + "\n```") + "\n\n"


def convert_body(body: str, theorems: dict[str, str] | None = None) -> Converted:
    """Convert a document body (between ``\\begin{document}`` and ``\\end{document}``)."""
    writer = _Writer(theorems or {})
    raw = writer.nodelist_to_text(parse_nodes(body))
    state = writer.state
    text = _reflow(raw.replace("\xa0", " "))

    def restore(match: re.Match[str]) -> str:
        return state.protected[int(match.group(1))]

    for _ in range(3):  # protected pieces can nest (a cite inside a caption inside a float)
        text = _PROTECTED.sub(restore, text)
    text = _REF_MARK.sub(lambda m: _resolve_ref(m.group(1), state.labels), text)
    state.result.text = text.strip() + "\n"
    return state.result


def _reflow(raw: str) -> str:
    """Join paragraph lines; keep display math and list items on their own lines.

    Blank lines in the source are the only paragraph breaks; a display formula or an
    ``\\item`` starts a new line inside its paragraph.
    """
    paragraphs = [_reflow_block(block) for block in re.split(r"\n[ \t]*\n", raw)]
    return "\n\n".join(p for p in paragraphs if p)


def _reflow_block(block: str) -> str:
    lines: list[str] = []
    current: list[str] = []
    for piece in _DISPLAY_SPLIT.split(block):
        if piece.startswith(_DISPLAY):
            lines.append(" ".join(current))
            current = []
            lines.append(piece[len(_DISPLAY) :])
            continue
        for index, part in enumerate(piece.replace("\n", " ").split(_ITEM)):
            if index > 0:
                lines.append(" ".join(current))
                current = ["-"]
            current.extend(part.split())
    lines.append(" ".join(current))
    return "\n".join(line for line in lines if line)


def _resolve_ref(mark: str, labels: dict[str, tuple[str, str]]) -> str:
    command, _, label = mark.partition(":")
    kind, number = labels.get(label, ("", "?"))
    number = number or "?"
    template = _REF_MACROS.get(command, "{}")
    return template.replace("{kind}", kind).replace("{}", number, 1)


def _has_args(node: latexwalker.LatexNode) -> bool:
    return bool(node.nodeargd and node.nodeargd.argnlist and any(a is not None for a in node.nodeargd.argnlist))


def _find_macros(nodes: list[latexwalker.LatexNode] | None, names: set[str]) -> list[latexwalker.LatexNode]:
    """Macro nodes named in ``names`` anywhere below ``nodes`` (document order)."""
    found: list[latexwalker.LatexNode] = []
    for node in nodes or []:
        if node is None:
            continue
        if node.isNodeType(latexwalker.LatexMacroNode) and node.macroname in names:
            found.append(node)
        children = list(getattr(node, "nodelist", None) or [])
        if node.isNodeType(latexwalker.LatexMacroNode) and node.nodeargd and node.macroname not in names:
            children += [a for a in node.nodeargd.argnlist or [] if a is not None]
        found.extend(_find_macros(children, names))
    return found


def _letter(index: int) -> str:
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters or "A"
