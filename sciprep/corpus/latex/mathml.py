"""Presentation MathML to LaTeX, for JATS formulas that carry no ``tex-math``.

Galactica keeps math as LaTeX, so a formula from PubMed Central should read the same as
one from arXiv. The converter covers the presentation elements journals emit (``mi``,
``mn``, ``mo``, ``mtext``, ``mrow``, ``msup``/``msub``/``msubsup``, ``mfrac``, ``msqrt``,
``mroot``, ``mover``/``munder``/``munderover``, ``mfenced``, ``mtable``, ``menclose``,
``mmultiscripts``, ``semantics``) and maps Unicode symbols to LaTeX commands
(``α`` -> ``\\alpha``, ``≤`` -> ``\\leq``). A TeX annotation inside ``semantics`` wins
over conversion. Unknown elements contribute their converted children, so no symbol is lost.
:func:`formula_latex` picks a JATS formula's ``tex-math`` (unwrapping the LaTeX document
PMC often puts around it) and falls back to converting its MathML.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from sciprep.corpus.references import clean_text

MAX_DEPTH = 200

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ϑ": "vartheta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "varsigma", "τ": "tau",
    "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma",
    "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Υ": "Upsilon",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}  # fmt: skip
_SYMBOLS = {
    "−": "-", "×": "\\times", "·": "\\cdot", "⋅": "\\cdot", "±": "\\pm", "∓": "\\mp", "÷": "\\div",
    "≤": "\\leq", "≥": "\\geq", "≠": "\\neq", "≈": "\\approx", "≅": "\\cong", "≡": "\\equiv",
    "∼": "\\sim", "~": "\\sim", "∝": "\\propto", "→": "\\rightarrow", "←": "\\leftarrow",
    "↔": "\\leftrightarrow", "⇒": "\\Rightarrow", "⇐": "\\Leftarrow", "⇔": "\\Leftrightarrow",
    "↦": "\\mapsto", "∑": "\\sum", "∏": "\\prod", "∫": "\\int", "∮": "\\oint", "∞": "\\infty",
    "∂": "\\partial", "∇": "\\nabla", "∈": "\\in", "∉": "\\notin", "∋": "\\ni", "⊂": "\\subset",
    "⊆": "\\subseteq", "⊃": "\\supset", "⊇": "\\supseteq", "∪": "\\cup", "∩": "\\cap",
    "∅": "\\emptyset", "∀": "\\forall", "∃": "\\exists", "¬": "\\neg", "∧": "\\wedge", "∨": "\\vee",
    "⊗": "\\otimes", "⊕": "\\oplus", "∘": "\\circ", "°": "^\\circ", "′": "'", "″": "''",
    "…": "\\ldots", "⋯": "\\cdots", "⋮": "\\vdots", "⟨": "\\langle", "⟩": "\\rangle", "‖": "\\|",
    "∣": "\\mid", "√": "\\surd", "ℏ": "\\hbar", "ℓ": "\\ell", "ℝ": "\\mathbb{R}", "ℕ": "\\mathbb{N}",
    "ℤ": "\\mathbb{Z}", "ℂ": "\\mathbb{C}", "⊥": "\\perp", "∥": "\\parallel", "≪": "\\ll", "≫": "\\gg",
    "⌊": "\\lfloor", "⌋": "\\rfloor", "⌈": "\\lceil", "⌉": "\\rceil", "{": "\\{", "}": "\\}",
    "%": "\\%", "#": "\\#", "&": "\\&", "∗": "*", "\u2061": "", "\u2062": "", "\u2063": ",", "\u2064": "+",
}  # fmt: skip
_ACCENTS = {
    "¯": "bar",
    "‾": "bar",
    "^": "hat",
    "ˆ": "hat",
    "~": "tilde",
    "˜": "tilde",
    "→": "vec",
    "⃗": "vec",
    "˙": "dot",
    "¨": "ddot",
}
_FUNCTIONS = frozenset(
    "sin cos tan cot sec csc sinh cosh tanh log ln exp lim max min sup inf det arg deg dim gcd ker Pr".split()
)
_BIG_OPERATORS = frozenset({"\\sum", "\\prod", "\\int", "\\oint", "\\lim", "\\max", "\\min", "\\sup", "\\inf"})


def mathml_to_latex(math: Element) -> str:
    """LaTeX for a ``<math>`` element (namespaced or ``mml:``-prefixed tags both work)."""
    return clean_text(_convert(math, 0))


def formula_latex(node: Element) -> str:
    """LaTeX of a JATS formula element: its ``tex-math``, else its MathML converted."""
    tex = next((e for e in node.iter() if _local(e.tag) == "tex-math"), None)
    if tex is not None and (tex.text or "").strip():
        return _tex_math(tex.text or "")
    math = next((e for e in node.iter() if _local(e.tag) == "math"), None)
    if math is not None:
        return mathml_to_latex(math)
    return ""


def _tex_math(text: str) -> str:
    """``tex-math`` often wraps the formula in a whole LaTeX document; keep the formula."""
    body = text
    begin = re.search(r"\\begin\{document\}", text)
    if begin:
        end = text.find("\\end{document}", begin.end())
        body = text[begin.end() : end if end >= 0 else len(text)]
    body = body.strip()
    for opening, closing in (("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)")):
        if body.startswith(opening) and body.endswith(closing) and len(body) > len(opening) + len(closing):
            return body[len(opening) : -len(closing)].strip()
    return body


def _local(tag: object) -> str:
    name = tag if isinstance(tag, str) else ""
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _children(node: Element, depth: int) -> list[str]:
    return [_convert(child, depth + 1) for child in node]


def _group(text: str) -> str:
    return text if len(text) == 1 or re.fullmatch(r"\\[A-Za-z]+", text) else "{" + text + "}"


def _join(parts: list[str]) -> str:
    """Concatenate, spacing a control word from a following letter (``\\alpha x``)."""
    out = ""
    for part in parts:
        if not part:
            continue
        if out and out[-1].isalpha() and part[0].isalpha() and "\\" in out.rsplit(" ", 1)[-1]:
            out += " "
        out += part
    return out


def _token(text: str) -> str:
    text = text.strip()
    pieces = []
    for ch in text:
        if ch in _GREEK:
            pieces.append("\\" + _GREEK[ch])
        elif ch in _SYMBOLS:
            pieces.append(_SYMBOLS[ch])
        else:
            pieces.append(ch)
    return _join(pieces)


def _convert(node: Element, depth: int) -> str:
    if depth > MAX_DEPTH:
        return ""
    tag = _local(node.tag)
    handler = _HANDLERS.get(tag)
    if handler is not None:
        return handler(node, depth)
    return _join(_children(node, depth))


def _mi(node: Element, depth: int) -> str:
    text = (node.text or "").strip()
    variant = node.get("mathvariant", "")
    if len(text) > 1 and text in _FUNCTIONS:
        return "\\" + text
    converted = _token(text)
    if len(text) > 1 and text.isalpha() and text.isascii():
        converted = f"\\mathrm{{{text}}}"
    if variant in {"bold", "bold-italic"}:
        return f"\\mathbf{{{converted}}}"
    if variant in {"double-struck"}:
        return f"\\mathbb{{{converted}}}"
    if variant in {"script"}:
        return f"\\mathcal{{{converted}}}"
    return converted


def _mtext(node: Element, depth: int) -> str:
    text = "".join(node.itertext()).strip()
    return f"\\text{{{text}}}" if text else "\\ "


def _msup(node: Element, depth: int) -> str:
    base, sup = (_children(node, depth) + ["", ""])[:2]
    return f"{_group(base)}^{_group(sup)}"


def _msub(node: Element, depth: int) -> str:
    base, sub = (_children(node, depth) + ["", ""])[:2]
    return f"{_group(base)}_{_group(sub)}"


def _msubsup(node: Element, depth: int) -> str:
    base, sub, sup = (_children(node, depth) + ["", "", ""])[:3]
    return f"{_group(base)}_{_group(sub)}^{_group(sup)}"


def _mfrac(node: Element, depth: int) -> str:
    num, den = (_children(node, depth) + ["", ""])[:2]
    command = "\\binom" if node.get("linethickness") in {"0", "0pt", "0em"} else "\\frac"
    return f"{command}{{{num}}}{{{den}}}"


def _msqrt(node: Element, depth: int) -> str:
    return f"\\sqrt{{{_join(_children(node, depth))}}}"


def _mroot(node: Element, depth: int) -> str:
    base, index = (_children(node, depth) + ["", ""])[:2]
    return f"\\sqrt[{index}]{{{base}}}"


def _mover(node: Element, depth: int) -> str:
    children = list(node)
    base, over = (_children(node, depth) + ["", ""])[:2]
    over_text = "".join(children[1].itertext()).strip() if len(children) > 1 else ""
    if over_text in _ACCENTS:
        return f"\\{_ACCENTS[over_text]}{{{base}}}"
    if base in _BIG_OPERATORS:
        return f"{base}^{_group(over)}"
    return f"\\overset{{{over}}}{{{base}}}"


def _munder(node: Element, depth: int) -> str:
    base, under = (_children(node, depth) + ["", ""])[:2]
    if base in _BIG_OPERATORS:
        return f"{base}_{_group(under)}"
    return f"\\underset{{{under}}}{{{base}}}"


def _munderover(node: Element, depth: int) -> str:
    base, under, over = (_children(node, depth) + ["", "", ""])[:3]
    return f"{_group(base)}_{_group(under)}^{_group(over)}"


def _mfenced(node: Element, depth: int) -> str:
    opening, closing = node.get("open", "("), node.get("close", ")")
    separator = (node.get("separators", ",") or ",")[0]
    inner = separator.join(_children(node, depth))
    return f"\\left{_fence(opening)}{inner}\\right{_fence(closing)}"


def _fence(ch: str) -> str:
    return {"{": "\\{", "}": "\\}", "": ".", "⟨": "\\langle", "⟩": "\\rangle", "|": "|", "‖": "\\|"}.get(ch, ch)


def _mtable(node: Element, depth: int) -> str:
    rows = []
    for row in node:
        if _local(row.tag) not in {"mtr", "mlabeledtr"}:
            continue
        cells = [_join(_children(cell, depth + 1)) for cell in row if _local(cell.tag) == "mtd"]
        rows.append(" & ".join(cells))
    return "\\begin{matrix}" + " \\\\ ".join(rows) + "\\end{matrix}"


def _semantics(node: Element, depth: int) -> str:
    for child in node:
        if _local(child.tag) == "annotation" and "tex" in (child.get("encoding") or "").lower():
            return (child.text or "").strip()
    first = next(iter(node), None)
    return _convert(first, depth + 1) if first is not None else ""


def _mmultiscripts(node: Element, depth: int) -> str:
    parts = _children(node, depth)
    if not parts:
        return ""
    base, rest = parts[0], parts[1:]
    if "" in rest:
        rest = rest[: rest.index("")]
    out = _group(base)
    for i in range(0, len(rest) - 1, 2):
        sub, sup = rest[i], rest[i + 1]
        out += (f"_{_group(sub)}" if sub and sub != "none" else "") + (
            f"^{_group(sup)}" if sup and sup != "none" else ""
        )
    return out


_HANDLERS = {
    "mi": _mi,
    "mn": lambda node, depth: _token(node.text or ""),
    "mo": lambda node, depth: _token(node.text or ""),
    "ms": _mtext,
    "mtext": _mtext,
    "mspace": lambda node, depth: "\\,",
    "msup": _msup,
    "msub": _msub,
    "msubsup": _msubsup,
    "mfrac": _mfrac,
    "msqrt": _msqrt,
    "mroot": _mroot,
    "mover": _mover,
    "munder": _munder,
    "munderover": _munderover,
    "mfenced": _mfenced,
    "mtable": _mtable,
    "semantics": _semantics,
    "annotation": lambda node, depth: "",
    "annotation-xml": lambda node, depth: "",
    "mphantom": lambda node, depth: "",
    "none": lambda node, depth: "",
    "mprescripts": lambda node, depth: "",
    "mmultiscripts": _mmultiscripts,
}
