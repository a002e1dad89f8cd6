"""The reference index: every work the corpus cites, deduplicated, with its contexts.

Building is two passes so it can run shard by shard and resume: :func:`observe_references`
turns one document into :class:`Observation` rows (a bibliography item, an in-text
``[START_REF]`` mention, or a ``reference``-kind document such as a BibTeX entry), and
:func:`merge_observations` joins all observations sharing any identity key (DOI, arXiv,
PMID, normalised title; see :mod:`sciprep.query.reference_keys`) into one
:class:`ReferenceEntry`.

A title or surname that is really something else (a collaboration name, a journal
abbreviation, an initial; :func:`~sciprep.query.reference_keys.title_problem`) is
dropped from bibliography items, which keep their identifiers, and makes an in-text
citation a reject with the reason, so it never becomes a citation target.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sciprep.corpus.document import Document, Reference, stable_id
from sciprep.corpus.shards import Reject
from sciprep.query.markup import (
    CitationSpan,
    citation_string,
    clean_title,
    find_citations,
    masked_text,
    sentence_bounds,
)
from sciprep.query.reference_keys import (
    fold,
    identity_keys,
    normalize_arxiv,
    normalize_doi,
    normalize_pmid,
    surname_problem,
    title_problem,
)

#: Observation origins.
BIBLIOGRAPHY, MENTION, ENTRY = "bibliography", "mention", "entry"
_KEY_RANK = {"doi": 0, "arxiv": 1, "pmid": 2, "title": 3, "raw": 4}


@dataclass
class Observation:
    """One sighting of a reference in one document (a row of an index part file)."""

    keys: list[str]
    title: str
    surname: str
    authors: list[str]
    year: int | None
    doi: str | None
    arxiv_id: str | None
    pmid: str | None
    raw: str
    doc_id: str
    origin: str
    position: int = -1
    sentence: str = ""


@dataclass
class ReferenceEntry:
    """A deduplicated work; ``citation`` is its ``Title, Surname`` form (the trie string)."""

    id: str
    title: str
    surname: str
    citation: str
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    pmid: str | None = None
    cite_count: int = 0
    mention_count: int = 0
    keys: list[str] = field(default_factory=list)
    raw: str = ""

    def ids(self) -> dict[str, str]:
        """The external identifiers this entry has (doi / arxiv_id / pmid)."""
        found = {"doi": self.doi, "arxiv_id": self.arxiv_id, "pmid": self.pmid}
        return {k: v for k, v in found.items() if v}


@dataclass
class CitationContext:
    """A sentence in which a document cites an entry."""

    entry_id: str
    doc_id: str
    position: int
    sentence: str


def _usable(title: str, surname: str) -> tuple[str, str]:
    """``title`` and ``surname`` with either blanked when it is not what it claims to be."""
    return ("" if title_problem(title) else title), ("" if surname_problem(surname) else surname)


def _reference_observation(ref: Reference, doc_id: str, origin: str) -> Observation:
    title, surname = _usable(ref.title, ref.first_author_surname)
    keys = identity_keys(title, surname, ref.doi, ref.arxiv_id, ref.pmid)
    if not keys and ref.raw.strip():
        keys = [f"raw:{fold(ref.raw)}"]
    return Observation(
        keys=keys,
        title=" ".join(title.split()),
        surname=surname,
        authors=list(ref.authors),
        year=ref.year,
        doi=normalize_doi(ref.doi),
        arxiv_id=normalize_arxiv(ref.arxiv_id),
        pmid=normalize_pmid(ref.pmid),
        raw=ref.raw,
        doc_id=doc_id,
        origin=origin,
    )


def _entry_observation(doc: Document, spans: list[CitationSpan]) -> Observation:
    """A ``reference``-kind document (a BibTeX entry ...) is itself an index entry.

    Its own ``[START_REF]`` markup, when present, gives the title and surname in the
    form the model saw; the metadata gives the rest.
    """
    meta = doc.metadata
    ref = Reference(key=doc.id, title=meta.title, authors=list(meta.authors), year=meta.year,
                    doi=meta.doi, arxiv_id=meta.arxiv_id, pmid=meta.pmid, raw=doc.text)
    obs = _reference_observation(ref, doc.id, ENTRY)
    if spans and not title_problem(spans[0].title):
        obs.title = spans[0].title
        obs.surname = _usable(spans[0].title, spans[0].surname)[1] or obs.surname
        obs.keys = _ranked(set(obs.keys) | set(identity_keys(obs.title, obs.surname, None, None, None)))
    return obs


def _ranked(keys: Iterable[str]) -> list[str]:
    return sorted(keys, key=lambda k: (_KEY_RANK[k.split(":", 1)[0]], k))


def observe_references(doc: Document, where: str) -> tuple[list[Observation], list[Reject]]:
    """Observations of every reference ``doc`` lists or cites; malformed ones as rejects.

    ``where`` (the shard file) goes into reject rows. An in-text citation is matched
    to the document's own bibliography by normalised ``title|surname`` then title, and
    inherits its ids; an unmatched one is still indexed from its title and surname.
    """
    observations: list[Observation] = []
    rejects: list[Reject] = []
    by_citation: dict[str, Observation] = {}
    by_title: dict[str, Observation] = {}

    def reject(position: str, reason: str) -> None:
        rejects.append(Reject(doc.source, where, f"doc {doc.id}{position}", reason, "query-index"))

    for n, ref in enumerate(doc.references):
        obs = _reference_observation(ref, doc.id, BIBLIOGRAPHY)
        if not obs.keys:
            reject(f" reference {n} ({ref.key!r})", "reference has no title, identifier or raw text")
            continue
        observations.append(obs)
        by_citation.setdefault(f"{fold(obs.title)}|{fold(obs.surname)}", obs)
        if obs.title:
            by_title.setdefault(fold(obs.title), obs)
    spans, problems = find_citations(doc.text)
    for problem in problems:
        reject(f" char {problem.position}", problem.reason)
    if doc.kind == "reference":
        obs = _entry_observation(doc, spans)
        if obs.keys:
            observations.append(obs)
        else:
            reject("", "reference document has no title, identifier or text")
        return observations, rejects
    masked = masked_text(doc.text) if spans else ""
    for span in spans:
        left, right = sentence_bounds(doc.text, span.start, span.end, masked)
        if problem := title_problem(span.title):
            reject(f" char {span.start}", f"citation title {span.title[:80]!r} {problem}")
            continue
        match = by_citation.get(f"{fold(span.title)}|{fold(span.surname)}") or by_title.get(fold(span.title))
        surname = _usable(span.title, span.surname)[1] or (match.surname if match else "")
        keys = identity_keys(span.title, surname, None, None, None)
        if not keys:
            reject(f" char {span.start}", "citation has no usable title")
            continue
        observations.append(
            Observation(
                keys=_ranked(set(keys) | set(match.keys)) if match else keys,
                title=span.title,
                surname=surname,
                authors=list(match.authors) if match else [],
                year=match.year if match else None,
                doi=match.doi if match else None,
                arxiv_id=match.arxiv_id if match else None,
                pmid=match.pmid if match else None,
                raw=match.raw if match else "",
                doc_id=doc.id,
                origin=MENTION,
                position=span.start,
                sentence=" ".join(doc.text[left:right].split()),
            )
        )
    return observations, rejects


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        root = self.parent.setdefault(key, key)
        while root != self.parent[root]:
            root = self.parent[root]
        while key != root:  # path compression
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _mode(values: Iterable[object]) -> object | None:
    """Most frequent non-empty value; ties go to the longest, then the smallest string."""
    counts = Counter(v for v in values if v not in (None, "", []))
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], -len(str(v)), str(v)))


def _primary_key(keys: Iterable[str]) -> str:
    return min(keys, key=lambda k: (_KEY_RANK[k.split(":", 1)[0]], k))


def merge_observations(observations: Iterable[Observation]) -> tuple[list[ReferenceEntry], list[CitationContext]]:
    """Deduplicate observations into entries (sorted by id) and their citation contexts.

    An entry's fields are the most frequent values among its observations; in-text
    mentions decide the title and surname (that is the form the model saw), the
    bibliography decides the rest. ``cite_count`` counts distinct citing documents.
    """
    obs = list(observations)
    uf = _UnionFind()
    for o in obs:
        for key in o.keys[1:]:
            uf.union(o.keys[0], key)
        uf.find(o.keys[0])
    groups: dict[str, list[Observation]] = {}
    for o in obs:
        groups.setdefault(uf.find(o.keys[0]), []).append(o)
    entries: list[ReferenceEntry] = []
    contexts: list[CitationContext] = []
    for members in groups.values():
        keys = _ranked({k for o in members for k in o.keys})
        entry_id = "ref-" + stable_id(_primary_key(keys))
        mentions = [o for o in members if o.origin == MENTION]
        named = mentions or members
        title = clean_title(str(_mode(o.title for o in named) or _mode(o.title for o in members) or ""))
        surname = str(_mode(o.surname for o in named) or _mode(o.surname for o in members) or "")
        authors = max((o.authors for o in members), key=lambda a: (len(a), a))
        year = _mode(o.year for o in members)
        entries.append(
            ReferenceEntry(
                id=entry_id,
                title=title,
                surname=surname,
                citation=citation_string(title, surname) if title else "",
                authors=list(authors),
                year=int(year) if isinstance(year, int) else None,
                doi=_str_or_none(_mode(o.doi for o in members)),
                arxiv_id=_str_or_none(_mode(o.arxiv_id for o in members)),
                pmid=_str_or_none(_mode(o.pmid for o in members)),
                cite_count=len({o.doc_id for o in members if o.origin != ENTRY}),
                mention_count=len(mentions),
                keys=keys,
                raw=str(_mode(o.raw for o in members) or ""),
            )
        )
        contexts.extend(CitationContext(entry_id, o.doc_id, o.position, o.sentence) for o in mentions)
    entries.sort(key=lambda e: e.id)
    contexts.sort(key=lambda c: (c.entry_id, c.doc_id, c.position))
    return entries, contexts


def _str_or_none(value: object | None) -> str | None:
    return None if value is None else str(value)
