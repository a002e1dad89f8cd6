"""Reading one input of a recipe source: its reader, its documents, rejects and counts.

The corpus build reads a source's inputs either in one task (a source with one input)
or one task per input (see :mod:`sciprep.corpus.parts`); both go through
:func:`read_input`, so a document or reject is the same whichever way it was read, and
:class:`SourceTally` counts add up to the same manifest entry.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sciprep.corpus import prompts as _prompts  # noqa: F401  registers the ``prompts`` reader
from sciprep.corpus.document import Document
from sciprep.corpus.inputs import detect_input_reader, display_path, input_problem
from sciprep.corpus.modality import MODALITIES, modality_chars
from sciprep.corpus.readers import ReaderOutput, get_reader
from sciprep.corpus.recipe import SourceSpec
from sciprep.corpus.shards import SHARDS_DIR, Reject

BoundReader = Callable[[Path, str], ReaderOutput]


def bind_reader(name: str, options: dict[str, Any], source: str) -> BoundReader:
    """The reader ``name`` with the recipe's ``options`` applied, validated up front.

    Raises ValueError naming the source when an option is unknown to the reader or has
    the wrong type (compared with the option's default).
    """
    fn = get_reader(name)
    params = {
        p.name: p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is not p.empty
    }
    for key, value in options.items():
        if key not in params:
            known = ", ".join(sorted(params)) or "none"
            raise ValueError(
                f"source {source!r}: reader {name!r} has no option {key!r} (its options: {known})"
            )
        default = params[key].default
        expected: tuple[type, ...] = (int, float) if isinstance(default, float) else (type(default),)
        if default is not None and (
            not isinstance(value, expected) or isinstance(value, bool) != isinstance(default, bool)
        ):
            raise ValueError(
                f"source {source!r}: option {key!r} of reader {name!r} must be "
                f"{type(default).__name__}, got {value!r}"
            )
    return partial(fn, **options) if options else fn


@dataclass
class SourceTally:
    """Counts of one source (or one of its inputs) as they accumulate; becomes its manifest entry."""

    documents: int = 0
    rejected: int = 0
    bytes: int = 0
    characters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODALITIES, 0))
    kinds: Counter[str] = field(default_factory=Counter)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, doc: Document, file: str) -> None:
        self.documents += 1
        self.bytes += len(doc.text.encode("utf-8"))
        for modality, count in modality_chars(doc.text).items():
            self.characters[modality] += count
        self.kinds[doc.kind] += 1
        self.files[file]["documents"] += 1

    def add_reject(self, file: str) -> None:
        self.rejected += 1
        self.files[file]["rejected"] += 1

    def absorb(self, other: SourceTally) -> None:
        """Add the counts of ``other`` (the next inputs of the same source, in input order)."""
        self.documents += other.documents
        self.rejected += other.rejected
        self.bytes += other.bytes
        for modality, count in other.characters.items():
            self.characters[modality] += count
        self.kinds.update(other.kinds)
        self.files.update(other.files)

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "rejected": self.rejected, "bytes": self.bytes,
                "characters": self.characters, "kinds": dict(self.kinds), "files": self.files}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceTally:
        return cls(data["documents"], data["rejected"], data["bytes"], dict(data["characters"]),
                   Counter(data["kinds"]), dict(data["files"]))  # fmt: skip

    def entry(self, spec: SourceSpec, shards: list[Path]) -> dict[str, Any]:
        """The source's manifest entry, given the shards its documents went to."""
        return {
            "documents": self.documents,
            "rejected": self.rejected,
            "bytes": self.bytes,
            "characters": self.characters,
            "kinds": dict(sorted(self.kinds.items())),
            "files": self.files,
            "reader": spec.reader,
            "weight": spec.weight,
            "licence": spec.licence,
            "shards": [f"{SHARDS_DIR}/{p.name}" for p in shards],
        }


def _prepare(doc: Document, spec: SourceSpec) -> Document:
    doc.source = spec.name
    if spec.kind:
        doc.kind = spec.kind
    if spec.licence and not doc.metadata.licence:
        doc.metadata.licence = spec.licence
    return doc


def _guarded(items: ReaderOutput, source: str, path: Path) -> Iterator[Document | Reject]:
    """A reader's output, ending in a reject when reading the file fails part-way (the file
    vanished, became unreadable, or a link in its path broke); output errors still raise."""
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except OSError as err:
            yield Reject(source, str(path), "file", f"reading stopped: {err}")
            return
        yield item


def read_input(
    spec: SourceSpec,
    path: Path,
    base_dir: Path,
    bound: dict[str, BoundReader],
    tally: SourceTally,
    rejects: list[Reject],
    emit: Callable[[Document], None],
    bar: tqdm | None = None,
) -> None:
    """Read one input of ``spec``: each document to ``emit``, each unusable record or file
    to ``rejects``, both counted in ``tally``. ``bound`` caches the source's bound readers.

    Raises ValueError for a recipe problem (a reader option it does not have).
    """
    file = display_path(path, base_dir)
    tally.files[file] = {"documents": 0, "rejected": 0, "reader": None}
    problem = input_problem(path)
    if problem is not None:
        rejects.append(Reject(spec.name, file, "file", problem))
        tally.add_reject(file)
        return
    reader_name = spec.reader or detect_input_reader(path)
    if reader_name is None:
        rejects.append(Reject(spec.name, file, "file", "no reader for this file type; set reader: in the recipe"))
        tally.add_reject(file)
        return
    tally.files[file]["reader"] = reader_name
    if reader_name not in bound:
        bound[reader_name] = bind_reader(reader_name, spec.options, spec.name)
    if bar is not None:
        bar.set_postfix_str(file[-40:])
    for item in _guarded(bound[reader_name](path, spec.name), spec.name, path):
        if isinstance(item, Reject):
            rejects.append(replace(item, source=spec.name, file=item.file.replace(str(path), file, 1)))
            tally.add_reject(file)
        else:
            emit(_prepare(item, spec))
            tally.add(item, file)
            if bar is not None:
                bar.update()
