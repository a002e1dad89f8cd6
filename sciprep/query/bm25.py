"""Okapi BM25 (Robertson & Zaragoza, 2009) over a fixed list of texts, in numpy.

Written here rather than taken from a package because the query stage needs three
things small libraries rarely give together: deterministic tie-breaking, scores for an
arbitrary candidate subset (re-ranking), and no stemming surprises on LaTeX and
chemical names. The index is an inverted list per term (document indices + term
frequencies), so a query touches only the postings of its own terms.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from sciprep.query.markup import strip_markup
from sciprep.query.reference_keys import fold

_WORD_RE = re.compile(r"[0-9a-z]+")
#: Frequent English function words that carry no topic.
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were "
    "which with we our can not these those such than then there their into also".split()
)


def analyze(text: str) -> list[str]:
    """Lowercase ASCII words of ``text`` (markup tags removed), stopwords and 1-letter words dropped."""
    return [w for w in _WORD_RE.findall(fold(strip_markup(text))) if len(w) > 1 and w not in STOPWORDS]


class BM25:
    """BM25 scores of queries against ``texts``; document i is ``texts[i]``."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.size = len(texts)
        lengths = np.zeros(self.size, dtype=np.float64)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, text in enumerate(texts):
            counts = Counter(analyze(text))
            lengths[i] = sum(counts.values())
            for term, tf in counts.items():
                docs, tfs = postings.setdefault(term, ([], []))
                docs.append(i)
                tfs.append(tf)
        avg = float(lengths.mean()) if self.size and lengths.mean() > 0 else 1.0
        self._norm = k1 * (1.0 - b + b * lengths / avg)
        self._postings = {
            t: (np.array(d, dtype=np.int64), np.array(f, dtype=np.float64)) for t, (d, f) in postings.items()
        }
        self._idf = {
            t: float(np.log1p((self.size - len(d) + 0.5) / (len(d) + 0.5))) for t, (d, _) in postings.items()
        }

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (zeros where no term matches)."""
        out = np.zeros(self.size, dtype=np.float64)
        for term, qtf in Counter(analyze(query)).items():
            posting = self._postings.get(term)
            if posting is None:
                continue
            docs, tfs = posting
            out[docs] += qtf * self._idf[term] * tfs * (self.k1 + 1.0) / (tfs + self._norm[docs])
        return out

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top ``k`` ``(document index, score)`` with a positive score; ties by lower index."""
        scores = self.scores(query)
        hits = np.flatnonzero(scores > 0)
        order = hits[np.lexsort((hits, -scores[hits]))][:k]
        return [(int(i), float(scores[i])) for i in order]
