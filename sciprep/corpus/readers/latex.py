"""arXiv LaTeX sources (``.tar.gz``/``.tgz``, gzip'd ``.tex``, a directory, a ``.tex``).

One source is one ``paper`` document (see :mod:`sciprep.corpus.latex.paper` for what is
kept and how citations are resolved). A source that cannot be used (corrupt or truncated
archive, no ``\\documentclass``, no ``\\begin{document}``, pathological nesting) is one
reject naming the file and the reason. ``.gz`` is not claimed as a suffix (other formats
are gzip'd too); a recipe that says ``reader: latex`` gets gzip'd ``.tex`` handled.
"""

from __future__ import annotations

from pathlib import Path

from sciprep.corpus.latex.archive import SourceError, load_source
from sciprep.corpus.latex.inputs import NoMainFileError
from sciprep.corpus.latex.paper import PaperError, latex_document
from sciprep.corpus.readers import ReaderOutput, register_reader
from sciprep.corpus.shards import Reject


@register_reader("latex", (".tex", ".tar.gz", ".tgz"))
def read(path: Path, source: str) -> ReaderOutput:
    """Yield the paper of the LaTeX source at ``path``, or one reject saying why not."""
    try:
        files = load_source(path)
    except SourceError as err:
        yield Reject(source, str(path), "archive", str(err))
        return
    except OSError as err:
        yield Reject(source, str(path), "file", f"cannot read LaTeX source: {err}")
        return
    try:
        yield latex_document(files, path, source)
    except (NoMainFileError, PaperError) as err:
        yield Reject(source, str(path), "document", str(err))
    except RecursionError:
        yield Reject(source, str(path), "document", "LaTeX structure nested too deeply to parse")
