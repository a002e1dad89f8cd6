"""Identity keys that decide when two citations name the same work.

Two references are the same work when they share a DOI, an arXiv id (version
dropped), a PubMed id, or a normalised title *and* first-author surname (recurring
titles such as "Message from the President" belong to different people). A title
without a surname identifies a work only when it is long enough to be specific.
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
