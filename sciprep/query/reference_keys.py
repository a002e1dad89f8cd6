"""Identity keys that decide when two citations name the same work.

Two references are the same work when they share a DOI, an arXiv id (version
dropped), a PubMed id, or a normalised title *and* first-author surname (recurring
titles such as "Message from the President" belong to different people). A title
without a surname identifies a work only when it is long enough to be specific.

Bibliography parsers often mistake other parts of a reference for its title or first
author: ``(STAR), Phys`` from ``M. Abdallah et al. (STAR), Phys. Rev. D 104 ...``, an
author list, an initial. :func:`title_problem` and :func:`surname_problem` recognise
these, so they never become identity keys or citation targets.
"""

from __future__ import annotations

import re
import unicodedata

#: Titles shorter than this (normalised) do not identify a work without a surname.
MIN_TITLE_KEY_CHARS = 24

_LATEX_CMD_RE = re.compile(r"\\[A-Za-z]+\*?")
_NON_WORD_RE = re.compile(r"[^0-9a-z]+")
_DOI_RE = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)
_ARXIV_NEW_RE = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?")
_ARXIV_OLD_RE = re.compile(r"([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)

#: Journal-name abbreviations that parsers take for titles or surnames (ISO 4 forms).
JOURNAL_ABBREVIATIONS = frozenset(
    "acad acta adv am ann appl astron astrophys biol biophys chem class commun comput conf cond "
    "curr eur exp gen geophys grav int j jhep lett mag mat mater math mech med mod mol mon nat natl "
    "not nucl opt part phil phys proc progr prog quant rep res rev sci ser soc stat struct "
    "theor trans univ z".split()
)
#: Words parsers take for a first author's surname that are not names.
_NOT_SURNAMES = frozenset("al and collaboration consortium ed eds group overview ref refs team".split())
_NAME_PARTICLES = frozenset("da de del der di du la le van von".split())
#: ``(STAR), Phys`` / ``ATLAS Collaboration, ...``: what precedes the venue in a collaboration reference.
_COLLABORATION_RE = re.compile(r"^\(\s*[A-Z][A-Za-z0-9+\-]{1,15}\s*\)\s*[,.]|^[A-Z][\w\-]*\s+Collaboration\b")
_LETTER_WORD_RE = re.compile(r"[^\W\d_]{2,}")
#: A year or volume followed by punctuation (``2019, , 482``), not a version (``3.0 and ...``).
_LEADING_NUMBER_RE = re.compile(r"^\(?(?:1[5-9]|20)\d\d[a-z]?\)?\s*[,;:)]|^\d+\s*,\s*,")
_OPENING_QUOTE_RE = re.compile(r",\s*(?:“|``|\")")


def fold(text: str) -> str:
    """Lowercase ASCII words of ``text``: accents, LaTeX commands, braces and punctuation gone."""
    text = _LATEX_CMD_RE.sub(" ", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_WORD_RE.sub(" ", text.lower()).split())


def normalize_title(title: str) -> str:
    """The title's comparison form (see :func:`fold`)."""
    return fold(title)


def normalize_doi(doi: str | None) -> str | None:
    """``10.xxxx/...`` in lower case, from a bare DOI, ``doi:`` form or doi.org URL."""
    if not doi:
        return None
    match = _DOI_RE.search(doi.strip())
    return match.group(0).rstrip(".,;").lower() if match else None


def normalize_arxiv(arxiv_id: str | None) -> str | None:
    """An arXiv id without version or URL (``2101.00001``, ``hep-th/9901001``)."""
    if not arxiv_id:
        return None
    text = arxiv_id.strip()
    match = _ARXIV_NEW_RE.search(text) or _ARXIV_OLD_RE.search(text)
    return match.group(1).lower() if match else None


def normalize_pmid(pmid: str | None) -> str | None:
    """The digits of a PubMed id, also from a pubmed URL."""
    if not pmid:
        return None
    match = re.search(r"(\d{1,9})/?$", pmid.strip())
    return match.group(1) if match else None


def _is_name_word(word: str) -> bool:
    """``Sho``, ``McClean``, ``Quintana-Ort``, ``O'Neil``, an initial ``P``/``P.``, a particle ``van``."""
    if word.lower() in _NAME_PARTICLES:
        return True
    for part in re.split(r"['\-]", word.removesuffix(".")):
        if not (part.isalpha() and part[0].isupper()):
            return False
        capitals_together = any(a.isupper() and b.isupper() for a, b in zip(part, part[1:]))
        if len(part) > 1 and (capitals_together or not part[-1].islower()):
            return False
    return True


def _names(pieces: list[str]) -> bool:
    return bool(pieces) and all(0 < len(p.split()) <= 4 and all(_is_name_word(w) for w in p.split()) for p in pieces)


def _is_author_list(title: str) -> bool:
    """``Roberts, Sho Yaida, and Boris Hanin`` / ``Smith, Michael P`` / ``and Quintana-Ort, E`` /
    ``Ecke, “Two-dimensional turbulence``: names where the title should start."""
    quote = _OPENING_QUOTE_RE.search(title)
    if quote:
        title = title[: quote.start()]
    leading_and = re.match(r"(?:and|&)\s+", title)
    rest = title[leading_and.end() if leading_and else 0 :]
    pieces = [p.strip() for p in re.split(r",\s*(?:and\s+|&\s*)?|\s+(?:and|&)\s+", rest) if p.strip()]
    if not _names(pieces):
        return False
    if quote or leading_and:
        return True
    full_name = any(len(p.split()) >= 2 for p in pieces)
    initial = any(len(w.removesuffix(".")) == 1 for p in pieces for w in p.split())
    return "," in title and (full_name or initial) and (", and " in title or len(pieces) >= 3 or initial)


def title_problem(title: str) -> str:
    """Why ``title`` is not a usable title ("" when it is).

    Rejected: what precedes the venue in a collaboration reference (``(STAR), Phys``),
    journal abbreviations (``Comput. Phys``), author lists (also before a quoted title),
    text starting with a year or volume (``2019, , 482``), unresolved ``{{...}}``
    markers, and text without a word. Short titles are real (BibTeX holds ``Calendar``,
    ``Deep learning``) and are kept.
    """
    text = " ".join(title.split())
    if not text:
        return ""
    if "{{" in text:
        return "holds an unresolved {{...}} marker"
    if _COLLABORATION_RE.search(text):
        return "looks like a collaboration name, not a title"
    if _LEADING_NUMBER_RE.match(text):
        return "starts with a year or volume number, not a title"
    words = _LETTER_WORD_RE.findall(text)
    if not words:
        return "has no word"
    if all(w.lower() in JOURNAL_ABBREVIATIONS for w in words):
        return "looks like a journal abbreviation, not a title"
    if _is_author_list(text):
        return "looks like an author list, not a title"
    return ""


def surname_problem(surname: str) -> str:
    """Why ``surname`` is not a usable first-author surname ("" when it is).

    Rejected: fewer than two letters or ending in ``.`` (initials such as ``B.``),
    all-capital initials (``JP`` in ``Hansen JP``), a last word in lower case
    (``procedure``; particles such as ``de la Peña`` are fine), journal abbreviations
    (``Phil``) and words such as ``Group`` or ``Overview``.
    """
    text = " ".join(surname.split())
    if not text:
        return ""
    letters = sum(ch.isalpha() for ch in text)
    last = text.split()[-1]
    if letters < 2 or text.endswith("."):
        return "is an initial, not a surname"
    if text.isupper() and letters <= 3:
        return "looks like initials, not a surname"
    if not last[0].isupper():
        return "does not start with a capital letter"
    if last.lower() in JOURNAL_ABBREVIATIONS or last.lower() in _NOT_SURNAMES:
        return "is a journal abbreviation or common word, not a surname"
    return ""


def identity_keys(
    title: str, surname: str, doi: str | None, arxiv_id: str | None, pmid: str | None
) -> list[str]:
    """Every key under which this reference can be found, strongest first."""
    keys: list[str] = []
    if (d := normalize_doi(doi)) is not None:
        keys.append(f"doi:{d}")
    if (a := normalize_arxiv(arxiv_id)) is not None:
        keys.append(f"arxiv:{a}")
    if (p := normalize_pmid(pmid)) is not None:
        keys.append(f"pmid:{p}")
    norm, who = normalize_title(title), fold(surname)
    if norm and who:
        keys.append(f"title:{norm}|{who}")
    elif len(norm) >= MIN_TITLE_KEY_CHARS:
        keys.append(f"title:{norm}")
    return keys
