"""Building blocks of the LaTeX paper reader (:mod:`sciprep.corpus.readers.latex`).

Each step is usable alone: read a source safely (:func:`load_source`), strip comments
(:func:`strip_comments`), find and inline the main file (:func:`find_main`,
:func:`assemble`; :func:`independent_mains` tells a folder of several papers from one
paper's tree), expand the author's macros (:func:`collect_macros`,
:func:`expand_macros`), read ``.bbl`` bibliographies (:func:`parse_bbl`), convert a body to
Markdown (:func:`convert_body`), and convert short LaTeX or MathML to text/LaTeX
(:func:`latex_to_text`, :func:`mathml_to_latex`). The whole pipeline for one source is
:func:`sciprep.corpus.latex.paper.latex_document`.
"""

from sciprep.corpus.latex.archive import SourceError, SourceFiles, load_source
from sciprep.corpus.latex.bbl import parse_bbl, parse_bibitem
from sciprep.corpus.latex.comments import strip_comments
from sciprep.corpus.latex.inputs import (
    Assembled,
    NoMainFileError,
    assemble,
    find_main,
    independent_mains,
    tex_texts,
)
from sciprep.corpus.latex.macros import Expansion, Macro, collect_macros, expand_macros
from sciprep.corpus.latex.markdown import Converted, convert_body
from sciprep.corpus.latex.mathml import formula_latex, mathml_to_latex
from sciprep.corpus.latex.text import decode_bytes, latex_to_text

__all__ = [
    "Assembled",
    "Converted",
    "Expansion",
    "Macro",
    "NoMainFileError",
    "SourceError",
    "SourceFiles",
    "assemble",
    "collect_macros",
    "convert_body",
    "decode_bytes",
    "expand_macros",
    "find_main",
    "formula_latex",
    "independent_mains",
    "latex_to_text",
    "load_source",
    "mathml_to_latex",
    "parse_bbl",
    "parse_bibitem",
    "strip_comments",
    "tex_texts",
]
