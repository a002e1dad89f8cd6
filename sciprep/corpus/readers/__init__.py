"""Source readers: one small module per format, registered by name.

A reader is a function ``read(path, source) -> Iterator[Document | Reject]``: it yields a
:class:`~sciprep.corpus.document.Document` per usable record and a
:class:`~sciprep.corpus.shards.Reject` (file, position, reason) per unusable one, and
never raises for bad *data* (a programming error still raises). Readers register
themselves with :func:`register_reader` under the name a recipe's ``reader:`` key uses,
plus the file suffixes that :func:`detect_reader` maps to them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Union

from sciprep.corpus.document import Document
from sciprep.corpus.shards import Reject

ReaderOutput = Iterator[Union[Document, Reject]]
ReaderFn = Callable[[Path, str], ReaderOutput]

READERS: dict[str, ReaderFn] = {}
_SUFFIXES: dict[str, str] = {}

#: Modules that hold readers; importing one registers its readers.
_READER_MODULES = (
    "latex",
    "unarxive",
    "jats",
    "medline",
    "pubmed_xml",
    "sequences",
    "compounds",
    "bibtex",
    "generic",
)


def register_reader(name: str, suffixes: tuple[str, ...] = ()) -> Callable[[ReaderFn], ReaderFn]:
    """Decorator: make ``fn`` available as reader ``name`` and for the given suffixes."""

    def decorate(fn: ReaderFn) -> ReaderFn:
        READERS[name] = fn
        for suffix in suffixes:
            _SUFFIXES[suffix.lower()] = name
        return fn

    return decorate


def _load_all() -> None:
    for module in _READER_MODULES:
        importlib.import_module(f"{__name__}.{module}")


def get_reader(name: str) -> ReaderFn:
    """The reader registered as ``name``; a clear error lists the known names."""
    _load_all()
    try:
        return READERS[name]
    except KeyError:
        raise ValueError(f"unknown reader {name!r}; known readers: {', '.join(sorted(READERS))}") from None


def detect_reader(path: Path) -> str | None:
    """Reader name for ``path`` from its suffixes (``.tar.gz`` before ``.gz``), or None."""
    _load_all()
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    return None
