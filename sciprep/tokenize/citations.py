"""LaTeX citation commands and their Galactica form ``[START_REF] Title, Surname[END_REF]``.

``\\cite``, ``\\citep``, ``\\citet``, ``\\citealp``, ``\\citeauthor``, biblatex's
``\\parencite``/``\\textcite``/``\\autocite`` and friends, starred or with ``[..]``
options, are recognised. Each key the bibliography knows becomes one reference; keys it
does not know stay as a citation command of the same name with only those keys, and are
reported, so no citation is silently dropped. Notes in the ``[..]`` options (a page, a
"see") stay as text beside the references.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from sciprep.tokenize.specials import END_REF, START_REF


class BibEntry(NamedTuple):
    """What a reference renders as: the work's title and its first author's surname."""

    title: str
    surname: str


CITE = re.compile(
    r"\\((?:[Cc]ite(?:p|t|alp|alt|author|year|yearpar|num)?|[Pp]arencite|[Tt]extcite"
    r"|[Aa]utocite|[Ff]ootcite|[Ss]upercite|nocite)\*?)"
    r"((?:\s*\[[^\[\]\n]{0,200}\]){0,2})\s*\{([^{}\n]{1,2000})\}"
)


def render_ref(entry: BibEntry | tuple[str, str]) -> str:
    """Galactica's reference markup for one entry (a space after ``[START_REF]``).

    A plain ``(title, surname)`` tuple is accepted as well as a :class:`BibEntry`.
    """
    entry = BibEntry(*entry)
    title = " ".join(entry.title.split())
    surname = " ".join(entry.surname.split())
    body = f"{title}, {surname}" if surname else title
    return f"{START_REF} {body}{END_REF}"


_NOTE = re.compile(r"\[([^\[\]\n]{0,200})\]")


def _cite_notes(options: str) -> tuple[str, str]:
    """The ``(prenote, postnote)`` of a citation command's ``[..]`` options.

    natbib and biblatex read one option as the postnote (``\\citep[p.~5]{a}``) and two
    as prenote then postnote (``\\citep[see][ch.~2]{a}``); a missing note is ``""``.
    """
    notes = [n.strip() for n in _NOTE.findall(options)]
    if len(notes) == 2:
        return notes[0], notes[1]
    return "", notes[0] if notes else ""


def resolve_cite(match: re.Match[str], bibliography: Mapping[str, BibEntry], unresolved: list[str]) -> str:
    """The replacement text for one citation command; unknown keys go to ``unresolved``.

    The notes are kept as text around the group (``see [START_REF] ..[END_REF] (p.~5)``),
    once, so a page or chapter pointer is never dropped; unknown keys that share the
    command with known ones stay as the same command without the notes.
    """
    command, options = match.group(1), match.group(2)
    keys = [k.strip() for k in match.group(3).split(",") if k.strip()]
    if not any(k in bibliography for k in keys):
        unresolved.extend(keys)
        return match.group()
    pieces: list[str] = []
    pending: list[str] = []
    for key in keys:
        entry = bibliography.get(key)
        if entry is None:
            pending.append(key)
            unresolved.append(key)
            continue
        if pending:
            pieces.append(f"\\{command}{{{','.join(pending)}}}")
            pending = []
        pieces.append(render_ref(entry))
    if pending:
        pieces.append(f"\\{command}{{{','.join(pending)}}}")
    prenote, postnote = _cite_notes(options)
    if prenote:
        pieces.insert(0, f"{prenote} ")
    if postnote:
        pieces.append(f" ({postnote})")
    return "".join(pieces)
