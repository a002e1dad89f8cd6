"""Raw reference strings -> :class:`~sciprep.corpus.document.Reference` fields.

Bibliographies reach us as formatted strings (unarXive ``bib_entry_raw``, ``.bbl`` items,
JATS ``mixed-citation``) in dozens of house styles: physics (``A. B. Name, Phys. Rev. 1,
2 (2001)``, no title at all), maths (``A. Name, Title, J. 8 (1999)``), ACL/APA (``Name.
2018. Title. Venue``), LNCS (``Name, A.: Title. In: ...``), IEEE (``A. Name, "Title," ...``).
:func:`parse_reference` recovers the title, authors (as ``"Surname, Given"``), year,
DOI and arXiv id with a fixed sequence of rules; a field it cannot find stays empty rather
than being guessed from the venue, so a title-less physics reference has ``title == ""``.

:func:`ref_markup` writes Galactica's citation form ``[START_REF] Title, Surname[END_REF]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sciprep.corpus.document import Reference
from sciprep.tokenize.specials import END_REF, START_REF

_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)", re.IGNORECASE)
_ARXIV_NEW = re.compile(r"(?:arxiv[:./\s]*(?:abs/)?|\[)(\d{4}\.\d{4,5})(?:v\d+)?", re.IGNORECASE)
_ARXIV_OLD = re.compile(
    r"\b((?:hep-(?:th|ph|ex|lat)|gr-qc|astro-ph|cond-mat|quant-ph|nucl-(?:th|ex)|math-ph|"
    r"math(?:\.[A-Z]{2})?|physics|cs(?:\.[A-Z]{2})?|nlin|q-bio|stat)/\d{7})(?:v\d+)?",
    re.IGNORECASE,
)
_BARE_ARXIV = re.compile(r"(?<![\d./])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d/])")
_YEAR_PAREN = re.compile(r"\((?:[A-Za-z.]+\s+)?((?:1[89]|20)\d\d)[a-z]?\)")
_YEAR = re.compile(r"(?<![\d\-–/.])((?:1[89]|20)\d\d)[a-z]?(?![\d\-–/])")
_NUMBERING = re.compile(r"^\s*(?:\[\s*\d+\s*\]|\(\s*\d+\s*\)|\d{1,3}\.\s)\s*")

_PARTICLES = {"da", "de", "del", "della", "der", "di", "dos", "du", "la", "le", "van", "von", "den", "ten", "ter", "y"}
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}
_VENUE_WORDS = (
    "Phys|Rev|Lett|Chem|Math|Nucl|Appl|Proc|Soc|Sci|Acad|Natl|Mater|Opt|Commun|Comput|Mech|Anal|"
    "Geom|Astron|Astrophys|Biol|Journal|Trans|Ann|Nature|Science|Proceedings|Conference|Press|"
    "University|Institute|Letters|Review|Reports|Advances|The|In|Vol|Eds|Springer|IEEE|ACM"
)
_WORD = rf"(?!(?:{_VENUE_WORDS})\b)[A-ZÀ-ÖØ-ÞŁŚŻŹĆŃŠČŘŽ][\w'’\-]*"
_INITIALS = r"(?:[A-ZÀ-ÞŁŚŻŹĆŃŠČŘŽ][a-z]?\.(?:\s?-?[A-Za-zÀ-ÞŁŚŻŹĆŃŠČŘŽ][a-z]?\.)*)"
_PARTICLE = r"(?:" + "|".join(sorted(_PARTICLES)) + r")"
_SUFFIX = r"(?:,?\s+(?:Jr\.|Sr\.|III|II|IV))"
# "A. B. Name", "Ashish Vaswani", "D. A. da Silva Filho", "W. A. Goddard III", "Peter J Liu"
_NAME_NATURAL = rf"(?:(?:{_INITIALS}\s*|(?:{_WORD}|[A-Z])\s+))+(?:{_PARTICLE}\s+)*{_WORD}(?:\s+{_WORD})?{_SUFFIX}?"
# "Ramirez, R. M." / "Hackl, K." / "Çetin-Atalay, R."
_NAME_INVERTED = rf"(?:{_PARTICLE}\s+)*{_WORD}(?:\s+{_WORD})?,\s*{_INITIALS}"
# "Yakovlev D. G." (astronomy)
_NAME_ASTRO = rf"(?:{_PARTICLE}\s+)*{_WORD}\s+{_INITIALS}"
_ETAL = r"(?:,?\s*et\.?\s*al\.?)"

_LIST_INVERTED = re.compile(
    rf"^(?P<names>{_NAME_INVERTED}(?:\s*,\s*(?:&\s*|and\s+)?{_NAME_INVERTED}|\s*(?:&|and)\s+{_NAME_INVERTED})*{_ETAL}?)"
)
_LIST_ASTRO = re.compile(
    rf"^(?P<names>{_NAME_ASTRO}(?:\s*,\s*(?:&\s*|and\s+)?{_NAME_ASTRO}|\s+(?:&|and)\s+{_NAME_ASTRO})*{_ETAL}?)(?=\s*,)"
)
_NATURAL_SEP = re.compile(r"\s*,\s*(?:(?P<and1>and|&)\s+)?|,?\s+(?P<and2>and|&)\s+")
_NATURAL_NAME = re.compile(rf"(?P<name>{_NAME_NATURAL})(?=\s*(?:[,.:;(]|\s(?:and|&)\s|{_ETAL}|$))")
_MAX_AUTHORS = 200

_VENUE_START = re.compile(
    r"^(?:in[:\s]|In[:\s]|J\.|Journal\b|Proc\b|Proceedings\b|Phys\.|Rev\.|Lett\.|Trans\.|Ann\.|Ann\b|"
    r"Nature\b|Science\b|arXiv|ArXiv|Preprint|preprint|Springer|Elsevier|Wiley|Cambridge|Oxford|"
    r"vol\.|Vol\.|pp\.|pages\b|Comm\.|Commun\.|Math\.|IEEE\b|ACM\b|Adv\.|Graduate Texts|Lecture Notes|"
    r"Ph\.?D\.?|PhD|Master|Technical Report|Tech\.|Available|URL|http|doi|Astrophys|MNRAS|ApJ|A&A|JHEP|"
    r"Nucl\.|Eur\.|Int\.|Z\.|Acta|Amer\.|Bull\.|Invent\.|Duke|Sov\.|Soviet|Monthly|The Journal|"
    r"Chem\.|Chemistry of|Journal of|Physical Review|Nano|ed\.|eds\.|editor)",
)
_SENTENCE_END = re.compile(r"(?<!\b[A-Z])(?<!\bvs)(?<!\bet al)[.?!](?=\s+|$)")
_QUOTED = re.compile(r"[“\"]\s*(?P<t>[^”\"]{4,}?)\s*[,.]?\s*[”\"]|``(?P<t2>.{4,}?)''")


@dataclass(frozen=True)
class _Split:
    authors: list[str]
    rest: str


def clean_text(text: str) -> str:
    """Collapse whitespace runs and trim; the normal form of every parsed field."""
    return " ".join(text.split())


def parse_reference(raw: str, key: str = "") -> Reference:
    """Best-effort fields of one formatted reference string (never raises on odd input)."""
    text = clean_text(_NUMBERING.sub("", raw or "", count=1))
    doi = _find_doi(text)
    arxiv_id = _find_arxiv(text)
    scrubbed = _DOI.sub(" ", text)
    year = _find_year(scrubbed)
    split = _split_authors(scrubbed)
    quoted = _QUOTED.search(scrubbed)
    quoted_title = _tidy_title(quoted.group("t") or quoted.group("t2") or "") if quoted else ""
    if len(quoted_title.split()) >= 3:
        title = quoted_title  # IEEE/APS style: the quoted span is the title wherever it sits
    elif split.authors:
        title = _find_title(split.rest)
    else:
        title = quoted_title
    return Reference(
        key=key,
        title=title,
        authors=split.authors,
        year=year,
        doi=doi,
        arxiv_id=arxiv_id,
        raw=clean_text(raw or ""),
    )


def ref_markup(title: str, surname: str) -> str:
    """Galactica's citation text: ``[START_REF] Title, Surname[END_REF]``."""
    title = clean_text(title)
    surname = clean_text(surname)
    body = f"{title}, {surname}" if surname else title
    return f"{START_REF} {body}{END_REF}"


def surname_of(name: str) -> str:
    """The surname of ``"Surname, Given"`` or ``"Given Particle Surname Jr."``."""
    name = clean_text(name)
    if "," in name:
        head, tail = name.split(",", 1)
        if tail.strip().lower() not in _SUFFIXES:
            return head.strip()
        name = head
    words = [w for w in name.split() if w.lower().strip(",") not in _SUFFIXES]
    return words[-1] if words else ""


def normalize_name(name: str) -> str:
    """``"Given Surname"`` -> ``"Surname, Given"``; inverted names are kept as they are."""
    name = re.sub(r"\.(?=[A-Z][a-z])", ". ", clean_text(name).strip(" ,;"))
    if "," in name:
        return name
    words = name.split()
    suffix = [w for w in words if w.lower() in _SUFFIXES]
    words = [w for w in words if w.lower() not in _SUFFIXES]
    if len(words) < 2:
        return name
    if re.fullmatch(r"[A-Z]{1,3}", words[-1]):  # Vancouver: "Hansen JP"
        return f"{' '.join(words[:-1] + suffix)}, {words[-1]}"
    # the surname starts at the first particle after a given name ("D. A. da Silva Filho")
    cut = next((i for i in range(1, len(words) - 1) if words[i].lower() in _PARTICLES), len(words) - 1)
    surname = " ".join(words[cut:] + suffix)
    return f"{surname}, {' '.join(words[:cut])}"


def _find_doi(text: str) -> str | None:
    match = _DOI.search(text)
    return match.group(1).rstrip(".,;)]") if match else None


def _find_arxiv(text: str) -> str | None:
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        match = pattern.search(text)
        if match:
            return match.group(1)
    doi_arxiv = re.search(r"10\.48550/arxiv\.(\d{4}\.\d{4,5})", text, re.IGNORECASE)
    if doi_arxiv:
        return doi_arxiv.group(1)
    bare = _BARE_ARXIV.search(text)
    if bare and int(bare.group(1)[:2]) >= 7 and 1 <= int(bare.group(1)[2:4]) <= 12:
        return bare.group(1)
    return None


def _find_year(text: str) -> int | None:
    paren = _YEAR_PAREN.findall(text)
    if paren:
        return int(paren[-1])
    plain = _YEAR.findall(_ARXIV_NEW.sub(" ", text))
    return int(plain[-1]) if plain else None


def _split_authors(text: str) -> _Split:
    for pattern in (_LIST_INVERTED, _LIST_ASTRO):
        match = pattern.match(text)
        if match:
            names = _split_name_list(match.group("names"))
            if names:
                return _Split(names, text[match.end() :])
    return _split_natural(text)


def _split_natural(text: str) -> _Split:
    """Consume ``Given Surname`` names one at a time; ``and`` marks the last one.

    A list that starts with initials (``A. B. Name``) only continues with initials, so a
    capitalised title (``D. Bohm, Quantum Theory``) is not taken for a second author.
    """
    names: list[str] = []
    pos = 0
    initials_style: bool | None = None
    while len(names) < _MAX_AUTHORS:
        is_last = False
        start = pos
        if names:
            sep = _NATURAL_SEP.match(text, pos)
            if not sep:
                break
            is_last = bool(sep.group("and1") or sep.group("and2"))
            start = sep.end()
        match = _NATURAL_NAME.match(text, start)
        if not match:
            break
        has_initials = bool(re.match(_INITIALS + r"|[A-Z]\s", match.group("name")))
        if initials_style is None:
            initials_style = has_initials
        elif initials_style and not has_initials:
            break
        names.append(normalize_name(match.group("name")))
        pos = match.end()
        etal = re.match(_ETAL, text[pos:])
        if etal:
            pos += etal.end()
            break
        if is_last:
            break
    if not names:
        return _Split([], text)
    return _Split(names, text[pos:])


def _split_name_list(names_text: str) -> list[str]:
    names_text = re.sub(_ETAL + "$", "", names_text).strip()
    if re.search(_NAME_ASTRO, names_text) and not re.search(r",\s*" + _INITIALS, names_text):
        parts = re.split(r"\s*,\s*(?:&\s*|and\s+)?|\s+(?:&|and)\s+", names_text)
        return [_astro_to_inverted(p) for p in parts if p.strip()]
    return [clean_text(n) for n in re.findall(_NAME_INVERTED, names_text)]


def _astro_to_inverted(name: str) -> str:
    match = re.match(rf"^(?P<s>(?:{_PARTICLE}\s+)*{_WORD})\s+(?P<g>{_INITIALS})$", name.strip())
    return f"{match.group('s')}, {match.group('g')}" if match else clean_text(name)


def _find_title(rest: str) -> str:
    rest = rest.strip()
    quoted = _QUOTED.match(rest.lstrip(".,:; "))
    if quoted:
        return _tidy_title(quoted.group("t") or quoted.group("t2") or "")
    rest = re.sub(r"^\s*[.,:;]?\s*\(?(?:1[89]|20)\d\d[a-z]?\)?\s*[.,:]?\s*", " ", rest, count=1)
    separator = re.match(r"\s*([.,:;])", rest)
    body = rest.lstrip(".,:; ")
    if not body or _VENUE_START.match(body):
        return ""
    if separator is None or separator.group(1) in ".:":
        return _first_sentence(body)
    return _comma_title(body)


def _first_sentence(body: str) -> str:
    body = re.sub(r"\s*\((?:1[89]|20)\d\d[a-z]?\)\s*$", "", body)
    end = _SENTENCE_END.search(body)
    title = body[: end.start() + (1 if body[end.start()] in "?!" else 0)] if end else body
    if not end and re.search(r"\d", title):
        return ""
    return _tidy_title(title)


def _comma_title(body: str) -> str:
    segments = _top_level_commas(body)
    kept: list[str] = []
    for segment in segments:
        seg = segment.strip()
        if not seg or _VENUE_START.match(seg) or re.search(r"\d", seg):
            head = seg.split("(", 1)[0].strip()
            if not kept and "(" in seg and head and not re.search(r"\d", head) and not _VENUE_START.match(head):
                kept.append(head)
            break
        kept.append(seg)
    return _tidy_title(", ".join(kept))


def _top_level_commas(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _tidy_title(title: str) -> str:
    title = clean_text(title).strip(" ,;:.“”\"'")
    title = re.sub(r",\s*(?:1[89]|20)\d\d[a-z]?$", "", title)
    title = re.sub(r",\s*(?:vol|no|pp|ed|eds|chap|ch|part)\.?$", "", title, flags=re.IGNORECASE)
    words = title.split()
    if len(words) < 2 or len(title) < 8:
        return ""
    return title


def parse_authors(text: str) -> list[str]:
    """An author list on its own (``"A. Name, B. Name and C. Name"``) as ``Surname, Given``."""
    text = clean_text(text).rstrip(" .")
    split = _split_authors(text + ".")
    if split.authors:
        return split.authors
    parts = re.split(r"\s*,\s*(?:and\s+|&\s*)?|\s+(?:and|&)\s+", text)
    return [normalize_name(p) for p in parts if p.strip()]
