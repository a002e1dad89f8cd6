"""The cleaning step interface: what a step is, how it is registered, how it decides.

This module is the contract between the pipeline (:mod:`sciprep.cleaning.pipeline`)
and every step in :mod:`sciprep.cleaning.steps`. A new step needs only what is here.

Tag, then decide
----------------
A step works in two phases so that expensive signals are computed once and cheap
thresholds can change:

``tag(doc) -> dict``
    Computes per-document *attributes* (scores, hashes, MinHash signatures ...) from
    the document as it reaches this step. The pipeline stores them in
    ``OUT/attributes/<step label>/<input shard stem>.parquet``: one row per document
    with ``id``, ``position`` (row in the input shard), ``text_hash`` (hash of the text
    the step saw) and one column per
    field of :attr:`Step.attributes` (a ``pyarrow`` schema the step declares; return
    exactly those keys). A later run reuses a stored row when the document id, its
    ``text_hash`` and the step's :meth:`Step.tag_fingerprint` all match, so a tag must
    depend only on the text/document and on the step's *tag* parameters.

``decide``
    Applies thresholds to the attributes and returns a :data:`Decision`:
    :class:`Keep`, :class:`Remove` (reason + the score that decided it),
    :class:`Modify` (new text) or :class:`Reject` (the record is unusable, e.g.
    invalid markup in ``reject`` mode). Deciding must be cheap and must not recompute
    what ``tag`` stored.

Parameters
----------
Each step class has a ``Params`` dataclass (subclass of :class:`StepParams`) whose
fields are the step's typed parameters with their defaults: the one place defaults
live. YAML ``params:`` mappings are validated against it (unknown names and wrong
types are errors naming the step). Mark a parameter that only affects ``decide`` with
:func:`threshold` instead of a plain default: changing it then leaves the tag
fingerprint, and so the stored attributes, valid. Every other parameter is a *tag*
parameter. Bump :attr:`Step.version` when the tagging code changes meaning.

Scopes
------
``scope = "document"`` (default)
    ``decide(doc, attrs)`` sees one document. Used for transforms (normalisation,
    PII redaction) and filters (quality, markup, length, decontamination against a
    fixed evaluation set loaded in :meth:`Step.setup`).

``scope = "corpus"``
    The decision needs every document's attributes (exact and near dedup). The
    pipeline first runs all shards through all steps (the *tag pass*: document steps
    tag and decide, corpus steps only tag, and documents keep flowing), then calls
    ``decide_corpus(table)`` once per corpus step, in pipeline order, with a
    ``pyarrow.Table`` of the stored attributes of the documents *still alive at that
    step* (not removed by any earlier step), in deterministic corpus order (input
    shard order, then position in shard). Columns: ``id``, ``shard`` (input shard
    stem), ``position`` (int64), ``text_hash`` and the step's attribute columns. It
    returns ``{doc_id: Remove(reason, score)}`` for the documents to drop; everything
    else is kept. Corpus steps may only keep or remove (never modify text), which is
    why decisions made after the tag pass stay consistent with the text later steps
    saw. A corpus step must break ties deterministically (e.g. keep-priority, then
    id), never by hash-set order.

Applicability: ``step.restrict(kinds=..., exclude_kinds=...)`` (YAML ``kinds:`` /
``exclude_kinds:``) limits a step to some document kinds; other documents pass it
untouched, are never given to ``tag``/``decide`` and are absent from
``decide_corpus``'s table. A step need not filter kinds itself.

Semantics of order: a document is removed by the *first* step, in pipeline order,
whose decision removes it; the reports count it there only.

Writing a step
--------------
::

    @dataclass
    class MyParams(StepParams):
        shingle: int = 5                   # tag parameter
        threshold_: float = threshold(0.8) # decide-only parameter

    @register_step("my_step")
    class MyStep(Step):
        Params = MyParams
        scope = "corpus"
        attributes = pa.schema([("signature", pa.list_(pa.uint32()))])

        def tag(self, doc): return {"signature": [...]}
        def decide_corpus(self, table): return {"doc-id": Remove("near duplicate of x", 0.93)}

``setup(context)`` receives a :class:`StepContext` (input/output dirs, seed) before
any document, e.g. to load an evaluation set or an earlier corpus's signature store
(write such files only under ``context.out_dir``). It runs before the run's
fingerprint is taken, so a step whose tags depend on loaded data (decontamination's
evaluation set) overrides :meth:`Step.tag_fingerprint` to include that data's digest.
:meth:`Step.describe` goes into ``report.json`` and the run fingerprint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, Union

import pyarrow as pa

from sciprep.corpus.document import Document

Scope = Literal["document", "corpus"]

_PHASE_KEY = "sciprep.phase"
#: Labels name directories under ``OUT/attributes/``: no separators, no leading dot.
_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Keep:
    """Leave the document as it is."""


@dataclass(frozen=True)
class Remove:
    """Drop the document; it goes to ``OUT/excluded/`` with this step, reason and score."""

    reason: str
    score: float | None = None


@dataclass(frozen=True)
class Modify:
    """Replace the document's text (later steps see ``text``); ``note`` says what changed.

    For prompt records (``text == prompt + answer``) also give the new ``prompt`` and
    ``answer`` so the trainer's loss mask stays right; :func:`transform_text` does this.
    """

    text: str
    note: str = ""
    prompt: str | None = None
    answer: str | None = None


@dataclass(frozen=True)
class Reject:
    """The record is unusable; it goes to ``OUT/rejects.parquet`` with this reason."""

    reason: str


Decision = Keep | Remove | Modify | Reject

KEEP = Keep()


def transform_text(doc: Document, fn: Callable[[str], str], note: str) -> Decision:
    """:class:`Modify` with ``fn`` applied to the text (to prompt and answer separately
    for a prompt record whose text is their concatenation), or :data:`KEEP` if unchanged.
    """
    if doc.prompt is not None and doc.answer is not None and doc.text == doc.prompt + doc.answer:
        prompt, answer = fn(doc.prompt), fn(doc.answer)
        if prompt + answer == doc.text:
            return KEEP
        return Modify(prompt + answer, note, prompt=prompt, answer=answer)
    text = fn(doc.text)
    return KEEP if text == doc.text else Modify(text, note)


def threshold(default: Any) -> Any:
    """A dataclass field for a decide-only parameter (changing it keeps stored attributes)."""
    if isinstance(default, dict):
        frozen = dict(default)
        return field(default_factory=lambda: dict(frozen), metadata={_PHASE_KEY: "decide"})
    if isinstance(default, (list, set)):
        raise TypeError("threshold defaults must be immutable (use a tuple)")
    return field(default=default, metadata={_PHASE_KEY: "decide"})


@dataclass
class StepParams:
    """Base of every step's parameter dataclass (no fields of its own)."""

    @classmethod
    def from_mapping(cls: type[_P], values: Mapping[str, Any] | None, where: str) -> _P:
        """Build params from a YAML mapping, checking names and types; ``where`` names the step."""
        values = dict(values or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            known = ", ".join(sorted(fields)) or "(none)"
            raise ValueError(f"{where}: unknown parameter(s) {', '.join(unknown)}; known: {known}")
        hints = typing.get_type_hints(cls)
        checked = {name: _coerce(value, hints[name], f"{where}: parameter {name!r}") for name, value in values.items()}
        return cls(**checked)

    def to_mapping(self) -> dict[str, Any]:
        """Plain YAML/JSON-able values, tuples as lists (for reports, fingerprints, configs)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def tag_mapping(self) -> dict[str, Any]:
        """Only the parameters that affect ``tag`` (everything not declared with :func:`threshold`)."""
        decide_only = {f.name for f in dataclasses.fields(self) if f.metadata.get(_PHASE_KEY) == "decide"}
        return {k: v for k, v in self.to_mapping().items() if k not in decide_only}


_P = TypeVar("_P", bound=StepParams)


def _plain(value: Any) -> Any:
    """``value`` as plain lists/dicts/scalars (dict keys keep their type, e.g. n-gram sizes)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"parameter value {value!r} is not a plain value")


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against a parameter annotation; ints widen to floats, lists to tuples."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        errors = []
        for option in args:
            try:
                return _coerce(value, option, where)
            except ValueError as err:
                errors.append(str(err))
        raise ValueError(f"{where}: {value!r} matches none of {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise ValueError(f"{where}: expected null, got {value!r}")
    if origin is Literal:
        if value in args:
            return value
        raise ValueError(f"{where}: expected one of {', '.join(map(repr, args))}, got {value!r}")
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected a mapping, got {value!r}")
        key_hint, value_hint = args if args else (Any, Any)
        return {_coerce(k, key_hint, where): _coerce(v, value_hint, where) for k, v in value.items()}
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        item = args[0] if args else Any
        coerced = [_coerce(v, item, where) for v in value]
        return tuple(coerced) if origin is tuple else coerced
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    if hint is Path and isinstance(value, str):
        return Path(value)
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ValueError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


@dataclass(frozen=True)
class StepContext:
    """What a step may know about the run: where input is, where output goes, the seed."""

    in_dir: Path
    out_dir: Path
    seed: int = 0


class Step:
    """Base class of a cleaning step; see the module docstring for the full contract."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[StepParams]] = StepParams
    scope: ClassVar[Scope] = "document"
    version: ClassVar[int] = 1
    attributes: ClassVar[pa.Schema] = pa.schema([])

    def __init__(self, params: StepParams | None = None, label: str | None = None) -> None:
        self.params = params if params is not None else self.Params()
        if not isinstance(self.params, self.Params):
            raise TypeError(f"step {self.name!r} takes {self.Params.__name__}, got {type(self.params).__name__}")
        #: Name of this step instance in reports and ``OUT/attributes/`` (defaults to the registry name).
        self.label = label or self.name
        if not _LABEL.fullmatch(self.label):
            raise ValueError(f"step label {self.label!r}: use letters, digits, '_', '-' or '.' (not leading)")
        #: Document kinds this step applies to (None = all) and kinds it skips; see :meth:`restrict`.
        self.kinds: tuple[str, ...] | None = None
        self.exclude_kinds: tuple[str, ...] = ()

    def restrict(self, kinds: Sequence[str] | None = None, exclude_kinds: Sequence[str] = ()) -> Step:
        """Apply this step only to documents of ``kinds`` (None = every kind) not in ``exclude_kinds``.

        Other documents pass the step untouched: not tagged, not decided on, and for a
        corpus step not part of ``decide_corpus``'s table. Returns ``self``.
        """
        self.kinds = tuple(kinds) if kinds is not None else None
        self.exclude_kinds = tuple(exclude_kinds)
        return self

    def applies_to(self, kind: str) -> bool:
        """Whether documents of ``kind`` go through this step."""
        return (self.kinds is None or kind in self.kinds) and kind not in self.exclude_kinds

    def setup(self, context: StepContext) -> None:
        """Prepare before the first document (load evaluation sets, stores ...)."""

    def tag(self, doc: Document) -> dict[str, Any]:
        """Attributes of ``doc`` (keys = :attr:`attributes` field names); none by default."""
        return {}

    def decide(self, doc: Document, attrs: Mapping[str, Any]) -> Decision:
        """Document scope: the decision for ``doc`` given its attributes."""
        return KEEP

    def decide_corpus(self, table: pa.Table) -> dict[str, Remove]:
        """Corpus scope: documents to remove, given the alive documents' attributes."""
        return {}

    def tag_fingerprint(self) -> str:
        """Identifies what ``tag`` computes: step name, version and tag parameters."""
        payload = json.dumps(
            {"step": self.name, "version": self.version, "params": self.params.tag_mapping()},
            sort_keys=True,
        )
        return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Step name, label, applicable kinds and every parameter, as recorded in ``report.json``."""
        info: dict[str, Any] = {"step": self.name, "label": self.label, "params": self.params.to_mapping()}
        if self.kinds is not None:
            info["kinds"] = list(self.kinds)
        if self.exclude_kinds:
            info["exclude_kinds"] = list(self.exclude_kinds)
        return info


STEPS: dict[str, type[Step]] = {}

_S = TypeVar("_S", bound=type[Step])


def register_step(name: str) -> typing.Callable[[_S], _S]:
    """Class decorator: make a step available to YAML pipelines as ``step: name``."""

    def decorate(cls: _S) -> _S:
        if name in STEPS and STEPS[name] is not cls:
            raise ValueError(f"cleaning step {name!r} is registered twice")
        if not (dataclasses.is_dataclass(cls.Params) and issubclass(cls.Params, StepParams)):
            raise TypeError(f"step {name!r}: Params must be a dataclass subclassing StepParams")
        cls.name = name
        STEPS[name] = cls
        return cls

    return decorate
